"""Settings of the outputs beyond the local stack: the Kubernetes target and the Grafana Mimir target.

Each is off unless stack.yaml enables it (or `obsstack generate --target NAME` does for one run).
"""

import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field, field_validator

from stack.errors import shown
from stack.service_settings import Frozen
from stack.value_checks import check_version

# Kubernetes' own rules (k8s.io/apimachinery/pkg/util/validation)
DNS1123_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
DNS1123_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
K8S_LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")
K8S_LABEL_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")
IANA_SVC_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?\Z")  # a named port: <= 15 chars, a letter, no '--'
CHART_VERSION_RE = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+\Z")


def check_dns1123_label(value: str) -> str:
    if len(value) > 63 or not DNS1123_LABEL_RE.match(value):
        raise ValueError(
            f"Kubernetes rejects {shown(value)}: expected at most 63 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit (RFC 1123 label)"
        )
    return value


def check_dns1123_subdomain(value: str) -> str:
    if len(value) > 253 or not DNS1123_SUBDOMAIN_RE.match(value):
        raise ValueError(
            f"Kubernetes rejects {shown(value)} as an object name: expected at most 253 lowercase letters, digits, "
            "'-' or '.', starting and ending with a letter or digit (RFC 1123 subdomain)"
        )
    return value


def check_label_value(value: str) -> str:
    if len(value) > 63 or not K8S_LABEL_VALUE_RE.match(value):
        raise ValueError(
            f"Kubernetes rejects label value {shown(value)}: expected at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    return value


def check_label_name(value: str) -> str:
    """A label key: an optional DNS subdomain prefix and '/', then a name of at most 63 characters."""
    prefix, _, name = value.rpartition("/")
    if (prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN_RE.match(prefix))) or (
        len(name) > 63 or not K8S_LABEL_NAME_RE.match(name)
    ):
        raise ValueError(
            f"Kubernetes rejects label key {shown(value)}: expected [prefix/]name, the name at most 63 letters, "
            "digits, '-', '_' or '.', starting and ending with a letter or digit, the prefix a DNS subdomain"
        )
    return value


class Charts(Frozen):
    """Pinned Helm chart versions (kubernetes/helmfile.yaml). kube-prometheus-stack's version bundles the
    prometheus-operator of kubernetes.prometheus_operator_version: bump both together."""

    kube_prometheus_stack: str = "88.5.3"  # prometheus-community; prometheus-operator v0.93.1
    k8s_monitoring: str = "4.4.0"  # grafana
    mimir_distributed: str = "6.2.0"  # grafana; Mimir 3.2.0
    loki: str = "18.11.0"  # grafana-community; Loki 3.7.6
    tempo_distributed: str = "3.3.0"  # grafana-community; Tempo 3.0.3
    # the licence-clean stores (backends), their image tags set to components.jaeger / components.victorialogs
    jaeger: str = "4.11.1"  # jaegertracing/helm-charts `jaeger`, the Jaeger v2 chart (appVersion 2.19.0)
    victoria_logs_single: str = "0.13.9"  # VictoriaMetrics/helm-charts (appVersion v1.52.0)

    @field_validator("*")
    @classmethod
    def _version(cls, value: str) -> str:
        if not CHART_VERSION_RE.match(value):
            raise ValueError(f"must be a released chart version X.Y.Z, got {shown(value)}")
        return value


class Kubernetes(Frozen):
    """The Kubernetes target: a Kustomize base and Helm values overlays (written under output.kubernetes_dir)."""

    enabled: bool = False
    namespace: str = "monitoring"  # where the stack's charts and the generated objects go
    services_namespace: str = "default"  # where the services run (their Service or Pods are scraped there)
    # labels on every PrometheusRule, ServiceMonitor/PodMonitor and AlertmanagerConfig: kube-prometheus-stack
    # selects these objects by its release label
    selector_labels: dict[str, str] = Field(default_factory=lambda: {"release": "kube-prometheus-stack"})
    monitor_kind: Literal["ServiceMonitor", "PodMonitor"] = "ServiceMonitor"
    app_label: str = "app.kubernetes.io/name"  # the label whose value is the service name on its Service/Pods
    metrics_port: str = "http"  # the named port of the Service (ServiceMonitor) or container (PodMonitor)
    # the name of the Secret (in `namespace`, one key per service name) holding the services' metrics tokens
    metrics_token_secret: str = "obsstack-metrics-tokens"  # noqa: S105 (an object name, not a secret)
    charts: Charts = Charts()
    kubectl_version: str = "1.37.2"  # kubectl built from k8s.io/kubectl v0.37.2 for `kubectl kustomize` checks
    # the operators whose CRDs the custom resources are checked against (their Go modules ship the CRDs);
    # prometheus-operator: the one kube-prometheus-stack (charts.kube_prometheus_stack) bundles
    prometheus_operator_version: str = "0.93.1"
    otel_operator_version: str = "0.144.0"

    @field_validator("kubectl_version", "prometheus_operator_version", "otel_operator_version")
    @classmethod
    def _version(cls, value: str) -> str:
        return check_version(value)

    @field_validator("namespace", "services_namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return check_dns1123_label(value)

    @field_validator("metrics_token_secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        return check_dns1123_subdomain(value)

    @field_validator("app_label")
    @classmethod
    def _app_label(cls, value: str) -> str:
        return check_label_name(value)

    @field_validator("metrics_port")
    @classmethod
    def _port(cls, value: str) -> str:
        if len(value) > 15 or not IANA_SVC_NAME_RE.match(value) or "--" in value or value.isdigit():
            raise ValueError(
                f"Kubernetes rejects port name {shown(value)}: expected at most 15 lowercase letters, digits or '-' "
                "with at least one letter (IANA service name)"
            )
        return value

    @field_validator("selector_labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for key, label in value.items():
            check_label_name(key)
            check_label_value(label)
        return value


def check_kubernetes_names(services: Iterable[Any]) -> None:
    """With the Kubernetes target on, what becomes a Kubernetes name or label must be one: a service's name
    (object names, the app label's value, a Secret key) and its labels (set on the scraped series and objects)."""
    for index, service in enumerate(services):
        where = f"services[{index}]"
        try:
            check_dns1123_label(service.name)
        except ValueError as error:
            raise ValueError(f"{where}.name (kubernetes.enabled): {error}") from None
        for key, label in service.labels.items():
            try:
                check_label_value(label)
            except ValueError as error:
                raise ValueError(f"{where}.labels.{key} (kubernetes.enabled): {error}") from None


class Mimir(Frozen):
    """The Grafana Mimir target: the ruler's rule namespaces and the tenant's Alertmanager config (written under
    output.mimir_dir), for a Mimir the user runs."""

    @field_validator("cortextool_version", "cortex_version", check_fields=False)
    @classmethod
    def _version(cls, value: str) -> str:
        return check_version(value)

    enabled: bool = False
    # cortextool (github.com/cortexproject/cortex-tools, Apache-2.0) checks the rule namespaces: same format
    cortextool_version: str = "0.21.1"
    # Cortex (github.com/cortexproject/cortex, Apache-2.0): the ring `up --local --ring` loads the target into
    cortex_version: str = "1.21.1"
