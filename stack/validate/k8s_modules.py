"""Pinned upstream sources of the Kubernetes checks, fetched as Go modules into the Go module cache.

The operators' CRDs and Kubernetes' OpenAPI spec are files inside released Go modules, so `go mod download`
pins them by version and checks them (go.sum hashes; the module cache keeps them read-only), and a warm
cache makes this a lookup. validate may do this I/O; it never imports the runtime's Go build helpers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

DOWNLOAD_TIMEOUT = 300

PROMETHEUS_OPERATOR = "github.com/prometheus-operator/prometheus-operator"
PROMETHEUS_OPERATOR_CRDS = "example/prometheus-operator-crd"  # the CRDs its bundle.yaml installs
OTEL_OPERATOR = "github.com/open-telemetry/opentelemetry-operator"
OTEL_OPERATOR_CRDS = "config/crd/bases"  # controller-gen's output, what its release manifests install
KUBERNETES = "k8s.io/kubernetes"
KUBERNETES_OPENAPI = "api/openapi-spec/v3"  # the OpenAPI v3 documents the API server serves at /openapi/v3


class ModuleError(Exception):
    """A pinned module could not be fetched; the message is one line naming the module and version."""


@dataclass(frozen=True)
class Module:
    path: str
    version: str  # without the leading "v", as settings pin it

    def __str__(self) -> str:
        return f"{self.path}@v{self.version}"


def _go_env(module: Module, skip_sumdb: bool) -> dict[str, str]:
    env = os.environ | {"GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}
    if skip_sumdb:  # the checksum database has no entry for some versions the proxy serves
        env["GONOSUMDB"] = module.path
    return env


def _download(go: str, module: Module, skip_sumdb: bool) -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="obsstack-gomod-") as outside_any_module:
        try:
            done = subprocess.run(
                [go, "mod", "download", "-json", str(module)],
                cwd=outside_any_module,
                capture_output=True,
                text=True,
                timeout=DOWNLOAD_TIMEOUT,
                env=_go_env(module, skip_sumdb),
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ModuleError(f"go mod download {module}: timed out after {DOWNLOAD_TIMEOUT}s") from exc
    try:
        info: dict[str, str] = json.loads(done.stdout)
    except json.JSONDecodeError:
        info = {"Error": (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"}
    return info


def module_dir(module: Module) -> Path:
    """The module's source directory in the Go module cache (downloaded first if it is not there)."""
    go = shutil.which("go")
    if go is None:
        raise ModuleError(f"go not found on PATH; needed to fetch {module}")
    info = _download(go, module, skip_sumdb=False)
    if "sum.golang.org" in info.get("Error", ""):
        info = _download(go, module, skip_sumdb=True)
    if "Error" in info or "Dir" not in info:
        error = " ".join(info.get("Error", "no Dir in go's answer").split())
        raise ModuleError(f"go mod download {module}: {error}")
    return Path(info["Dir"])
