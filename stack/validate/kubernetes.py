"""`obsstack validate` checks of the Kubernetes target (when stack.yaml enables it).

The Kustomize base is built with `kubectl kustomize` (the pinned kubectl, `kubernetes.kubectl_version`); every
object it outputs is checked against the pinned schemas (custom resources against the CRDs of the pinned
prometheus-operator and OpenTelemetry Operator releases, core kinds against Kubernetes' OpenAPI spec at
`kubernetes.kubectl_version`, all three fetched as Go modules) and the API server's own rules; the
PrometheusRules' groups go through promtool with the generated promtool tests (stack/validate/k8s_rules.py).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import stack.validate.k8s_modules as m
from stack.settings import StackSettings
from stack.target_settings import Kubernetes
from stack.tools import TOOL_TIMEOUT, CheckResult, Pin, ToolError, find_tool, locate, missing, unavailable
from stack.validate.k8s_api_rules import api_rule_errors
from stack.validate.k8s_rules import check_rules
from stack.validate.k8s_schemas import Schemas, load_documents

KUSTOMIZE = "kubectl kustomize"
BASE = "base"
Objects = list[dict[str, Any]]


def kustomize(base: Path, pin: Pin) -> tuple[CheckResult, Objects | None]:
    """`kubectl kustomize` of the base with the pinned kubectl, and the objects it outputs (None when it did not
    run or failed)."""
    try:
        tool = locate(pin)
    except ToolError as error:
        return unavailable(KUSTOMIZE, error), None
    try:
        done = subprocess.run(
            [tool, "kustomize", str(base)], capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return CheckResult(KUSTOMIZE, "failed", f"timed out after {TOOL_TIMEOUT}s"), None
    if done.returncode != 0:
        return CheckResult(KUSTOMIZE, "failed", (done.stderr or done.stdout).strip()[-4000:]), None
    objects = load_documents(done.stdout)
    return CheckResult(KUSTOMIZE, "ok", f"{len(objects)} objects"), objects


def base_objects(base: Path) -> Objects:
    """The objects in the base's own files (what is checked when kubectl could not build it)."""
    files = sorted(p for p in base.rglob("*.yaml") if p.name != "kustomization.yaml")
    return [doc for p in files for doc in load_documents(p.read_text(encoding="utf-8"))]


def load_schemas(settings: Kubernetes) -> Schemas:
    """The pinned schemas (raises ModuleError with one line naming the module that could not be had)."""
    api = m.Module(m.KUBERNETES, settings.kubectl_version)
    schemas = Schemas(m.module_dir(api) / m.KUBERNETES_OPENAPI)
    if not (schemas.openapi_dir / "api__v1_openapi.json").is_file():
        raise m.ModuleError(f"{api}: no OpenAPI v3 spec under {m.KUBERNETES_OPENAPI}")
    for module, crds in (
        (m.Module(m.PROMETHEUS_OPERATOR, settings.prometheus_operator_version), m.PROMETHEUS_OPERATOR_CRDS),
        (m.Module(m.OTEL_OPERATOR, settings.otel_operator_version), m.OTEL_OPERATOR_CRDS),
    ):
        directory = m.module_dir(module) / crds
        if not any(directory.glob("*.yaml")):
            raise m.ModuleError(f"{module}: no CRDs under {crds}")
        schemas.add_crds(directory)
    return schemas


def _label(document: Mapping[str, Any]) -> str:
    meta = document.get("metadata") or {}
    where = f"{meta.get('namespace')}/{meta.get('name')}" if meta.get("namespace") else str(meta.get("name"))
    return f"{document.get('kind')} {where}"


def schema_checks(objects: Objects, schemas: Schemas, settings: Kubernetes) -> list[CheckResult]:
    """One result for the custom resources (against their CRDs), one for the core kinds."""
    custom: Objects = []
    core: Objects = []
    for document in objects:
        is_custom = (str(document.get("apiVersion")), str(document.get("kind"))) in schemas.crds
        (custom if is_custom else core).append(document)
    names = (
        f"custom resources against the CRDs of prometheus-operator v{settings.prometheus_operator_version} "
        f"and opentelemetry-operator v{settings.otel_operator_version}",
        f"core objects against the Kubernetes v{settings.kubectl_version} OpenAPI spec",
    )
    results = []
    for name, group in zip(names, (custom, core), strict=True):
        errors = [f"{_label(d)}: {e}" for d in group for e in [*schemas.errors(d), *api_rule_errors(d)]]
        if errors:
            results.append(CheckResult(name, "failed", "\n".join(errors)))
        else:
            results.append(CheckResult(name, "ok" if group else "skipped", f"{len(group)} objects"))
    return results


def check_kubernetes(stage: Path, settings: StackSettings) -> Iterator[CheckResult]:
    k8s = settings.kubernetes
    if not k8s.enabled:
        return
    base = stage / settings.output.kubernetes_dir / BASE
    if not (base / "kustomization.yaml").is_file():
        where = base.relative_to(stage) / "kustomization.yaml"
        yield CheckResult(KUSTOMIZE, "failed", f"no {where}; run obsstack generate --target kubernetes")
        return
    built, objects = kustomize(base, settings.tool_pin("kubectl"))
    yield built
    objects = base_objects(base) if objects is None else objects
    tests = sorted((stage / settings.output.alerts_dir / "tests").glob("*.yml"))
    yield from check_rules(stage, settings, objects, tests)
    if find_tool("go") is None:
        yield missing("Kubernetes schemas (pinned Go modules)", "go")
        return
    try:
        schemas = load_schemas(k8s)
    except m.ModuleError as exc:
        yield CheckResult("Kubernetes schemas (pinned Go modules)", "failed", str(exc))
        return
    yield from schema_checks(objects, schemas, k8s)
