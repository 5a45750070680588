"""Settings of the outputs beyond the local stack: the Kubernetes target and the Grafana Mimir target.

Each is off unless stack.yaml enables it (or `obsstack generate --target NAME` does for one run).
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from stack.service_settings import Frozen

# Kubernetes' own rules (k8s.io/apimachinery/pkg/util/validation)
DNS1123_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
K8S_LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def check_dns1123_label(value: str) -> str:
    if len(value) > 63 or not DNS1123_LABEL_RE.match(value):
        raise ValueError(
            f"Kubernetes rejects {value!r}: expected at most 63 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit (RFC 1123 label)"
        )
    return value


class Kubernetes(Frozen):
    """The Kubernetes target: a Kustomize base and Helm values overlays (written under output.kubernetes_dir)."""

    enabled: bool = False
    namespace: str = "monitoring"
    kubectl_version: str = "1.37.2"  # kubectl built from k8s.io/kubectl v0.37.2 for `kubectl kustomize` checks
    # the operators whose CRDs the custom resources are checked against (their Go modules ship the CRDs)
    prometheus_operator_version: str = "0.94.1"
    otel_operator_version: str = "0.144.0"

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return check_dns1123_label(value)


class Mimir(Frozen):
    """The Grafana Mimir target: mimirtool rule files, the tenant's Alertmanager config, and the config of a
    local ring of Mimir processes (written under output.mimir_dir)."""

    enabled: bool = False
    replicas: int = Field(3, ge=1, le=9)
