"""`obsstack validate` checks of the Grafana provisioning on disk, against Grafana's documented format
(stack.validate.grafana_format): keys, types and required fields of every data source (jsonData by type)
and dashboard provider; every data source UID a link names is provisioned next to it, with a fitting type;
no value expands an environment variable by accident; the compose Grafana mounts the provisioning files
and the dashboards where the provider reads them; kube-prometheus-stack's Grafana sidecars select the
data source and dashboard ConfigMaps. The compose files and the Kubernetes ConfigMaps
(label grafana_datasource) are each checked on their own: names resolve only within one target.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from stack import conventions as c
from stack.builders.charts import KPS, values_file
from stack.builders.kubernetes import BASE_DIR
from stack.settings import StackSettings
from stack.tools import CheckResult
from stack.validate.grafana_format import (
    JSON_DATA,
    VICTORIALOGS,
    DashboardProvidersFile,
    Datasource,
    DatasourcesFile,
)

# Grafana splits a value on `$$` and runs Go's os.ExpandEnv on each part: ${anything}, $NAME, $1, $@...
ENV_REFERENCE = re.compile(r"\$(\{[^}]*\}|[A-Za-z_]\w*|[*#@!?0-9-])")
CONTAINER_PROVISIONING = "/etc/grafana/provisioning"  # GF_PATHS_PROVISIONING of the official image
DATASOURCE_LABEL = "grafana_datasource"
DASHBOARD_LABEL = "grafana_dashboard"
# jsonData links: (attribute path, data source types it may name)
LINK_TYPES = {"trace": ("tempo", "jaeger"), "logs": ("loki", VICTORIALOGS), "metrics": ("prometheus",),
              "any": tuple(JSON_DATA)}  # fmt: skip


@dataclass(frozen=True)
class Document:
    """One provisioning file (or ConfigMap entry) as loaded: where it is, for messages, and its data."""

    where: str
    data: Any


@dataclass(frozen=True)
class Provisioned:
    """A data source that passed the documented format, with its typed jsonData."""

    where: str
    source: Datasource
    json_data: BaseModel


# --- loading ---------------------------------------------------------------------------------------------
def load_yaml(path: Path, root: Path) -> Document:
    return Document(str(path.relative_to(root)), yaml.safe_load(path.read_text(encoding="utf-8")))


def compose_documents(stage: Path, settings: StackSettings, kind: str) -> list[Document]:
    """The compose target's provisioning files of `kind` (datasources, dashboards)."""
    folder = stage / settings.output.compose_dir / c.GRAFANA_PROVISIONING / kind
    return [load_yaml(p, stage) for p in sorted(folder.glob("*.y*ml"))]


def labelled(stage: Path, settings: StackSettings, label: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(file, object) of every ConfigMap of the Kubernetes base carrying `label`."""
    base = stage / settings.output.kubernetes_dir / BASE_DIR
    for path in sorted(base.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            labels = (doc or {}).get("metadata", {}).get("labels") or {}
            if doc.get("kind") == "ConfigMap" and label in labels:
                yield str(path.relative_to(stage)), doc


def configmaps(stage: Path, settings: StackSettings, label: str) -> Iterator[tuple[str, str, str]]:
    """(file, data key, text) of every ConfigMap entry of the Kubernetes base carrying `label`."""
    for file, doc in labelled(stage, settings, label):
        for key, text in (doc.get("data") or {}).items():
            yield file, key, text


def datasource_sets(stage: Path, settings: StackSettings) -> dict[str, list[Document]]:
    """target name -> its data source files; a target without any is left out."""
    kubernetes = [
        Document(f"{file} data.{key}", yaml.safe_load(text))
        for file, key, text in configmaps(stage, settings, DATASOURCE_LABEL)
    ]
    sets = {"compose": compose_documents(stage, settings, "datasources"), "kubernetes": kubernetes}
    return {name: docs for name, docs in sets.items() if docs}


# --- the documented format ---------------------------------------------------------------------------
def format_errors(error: ValidationError, where: str, prefix: str = "") -> list[str]:
    """One line per pydantic error: where, the key path, what is wrong, the value."""
    lines = []
    for item in error.errors():
        path = prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in item["loc"])
        shown = "" if item["type"] == "missing" else f", got {item['input']!r}"[:160]
        lines.append(f"{where}: {path.lstrip('.') or '(file)'}: {item['msg']}{shown}")
    return lines


def parse_datasources(doc: Document) -> tuple[list[Provisioned], list[str]]:
    """The data sources of one file that match the documented format, and one line per mismatch."""
    try:
        parsed = DatasourcesFile.model_validate(doc.data)
    except ValidationError as error:
        return [], format_errors(error, doc.where)
    found, errors = [], []
    for i, source in enumerate(parsed.datasources):
        prefix = f"datasources[{i}] ({source.name}).jsonData"
        try:
            json_data = JSON_DATA[source.type].model_validate(source.jsonData)
        except ValidationError as error:
            errors += format_errors(error, doc.where, prefix)
            continue
        found.append(Provisioned(doc.where, source, json_data))
    return found, errors


def env_references(data: Any, where: str, path: str = "") -> Iterator[str]:
    """Values Grafana would expand as environment variables ($NAME, ${NAME}); a literal `$` is `$$`."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield from env_references(value, where, f"{path}.{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from env_references(value, where, f"{path}[{i}]")
    elif isinstance(data, str) and (found := ENV_REFERENCE.search(data.replace("$$", ""))):
        yield (
            f"{where}: {path.lstrip('.')}: {data!r} expands the environment variable {found.group(0)} when "
            "Grafana starts, expected $$ for a literal $"
        )


# --- cross-references ----------------------------------------------------------------------------------
def links(item: Provisioned) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """(key path, datasource UID, types it may have) of every link of one data source."""
    data = item.json_data
    for i, dest in enumerate(getattr(data, "exemplarTraceIdDestinations", ())):
        if dest.datasourceUid:
            yield f"exemplarTraceIdDestinations[{i}].datasourceUid", dest.datasourceUid, LINK_TYPES["trace"]
    for i, field in enumerate(getattr(data, "derivedFields", ())):
        if field.datasourceUid:
            yield f"derivedFields[{i}].datasourceUid", field.datasourceUid, LINK_TYPES["any"]
    if uid := getattr(data, "alertmanagerUid", None):
        yield "alertmanagerUid", uid, ("alertmanager",)
    for key, kind in (("tracesToLogsV2", "logs"), ("lokiSearch", "logs"), ("tracesToMetrics", "metrics"),
                      ("serviceMap", "metrics"), ("tracesToProfiles", "any")):  # fmt: skip
        if (link := getattr(data, key, None)) is not None:
            yield f"{key}.datasourceUid", link.datasourceUid, LINK_TYPES[kind]
    for i, correlation in enumerate(item.source.correlations):
        yield f"correlations[{i}].targetUID", correlation.targetUID, LINK_TYPES["any"]


def reference_errors(sources: list[Provisioned]) -> Iterator[str]:
    """Every link names a data source provisioned in the same target, of a type that fits."""
    by_uid = {item.source.uid: item.source for item in sources if item.source.uid}
    for item in sources:
        for path, uid, types in links(item):
            where = f"{item.where}: {item.source.name}.jsonData.{path}"
            target = by_uid.get(uid)
            if target is None:
                yield f"{where}: datasource uid {uid!r} is not provisioned, expected one of {sorted(by_uid)}"
            elif target.type not in types:
                yield f"{where}: {uid!r} is a {target.type} data source, expected type {' or '.join(types)}"


def uniqueness_errors(sources: list[Provisioned]) -> Iterator[str]:
    """UIDs and names unique per organisation, at most one default data source per organisation."""
    for key in ("uid", "name"):
        seen: dict[tuple[int, Any], str] = {}
        for item in sources:
            value = getattr(item.source, key)
            if value is not None and (item.source.orgId, value) in seen:
                yield f"{item.where}: datasource {key} {value!r} is provisioned twice, expected unique {key}s"
            seen[(item.source.orgId, value)] = item.where
    for org in {item.source.orgId for item in sources}:
        defaults = [item.source.name for item in sources if item.source.orgId == org and item.source.isDefault]
        if len(defaults) > 1:
            yield f"orgId {org}: {len(defaults)} default data sources {defaults}, expected at most one"


def datasource_errors(docs: list[Document]) -> list[str]:
    """Format, environment and cross-reference errors of one target's data source files."""
    sources: list[Provisioned] = []
    errors: list[str] = []
    for doc in docs:
        found, mismatches = parse_datasources(doc)
        sources += found
        errors += mismatches + list(env_references(doc.data, doc.where))
    return errors + list(reference_errors(sources)) + list(uniqueness_errors(sources))


def provisioned(docs: list[Document]) -> list[Provisioned]:
    """The data sources of a target that match the documented format (those that do not are errors)."""
    return [item for doc in docs for item in parse_datasources(doc)[0]]


def source_types(sources: list[Provisioned]) -> dict[str, str]:
    """Data source type by UID and by name (a legacy reference names the data source)."""
    by_name: dict[str, str] = {item.source.name: item.source.type for item in sources}
    return by_name | {item.source.uid: item.source.type for item in sources if item.source.uid}


# --- dashboard providers and the compose mounts ---------------------------------------------------------
def grafana_mounts(stage: Path, settings: StackSettings) -> list[tuple[Path, str]]:
    """(host directory, container path) of each bind mount of the compose `grafana` service."""
    compose_dir = stage / settings.output.compose_dir
    compose = yaml.safe_load((compose_dir / c.COMPOSE_FILE).read_text(encoding="utf-8"))
    volumes = compose.get("services", {}).get("grafana", {}).get("volumes", [])
    mounts = []
    for volume in volumes:
        source, target = (volume["source"], volume["target"]) if isinstance(volume, dict) else volume.split(":")[:2]
        if source.startswith((".", "/")):
            mounts.append(((compose_dir / source).resolve(), target))
    return mounts


def container_path(host: Path, mounts: list[tuple[Path, str]]) -> str | None:
    """Where the compose Grafana sees a host file or directory, if a mount covers it."""
    for source, target in mounts:
        if host.resolve() == source or source in host.resolve().parents:
            return posixpath.join(target, str(host.resolve().relative_to(source))).rstrip("/.") or target
    return None


def mount_errors(stage: Path, settings: StackSettings, providers: list[tuple[str, str]]) -> Iterator[str]:
    """The provisioning files sit under Grafana's provisioning path, each provider path is the mounted
    dashboards directory."""
    mounts = grafana_mounts(stage, settings)
    folder = stage / settings.output.compose_dir / c.GRAFANA_PROVISIONING
    for kind in ("datasources", "dashboards"):
        for path in sorted((folder / kind).glob("*.y*ml")):
            seen, expected = container_path(path, mounts), f"{CONTAINER_PROVISIONING}/{kind}/{path.name}"
            if seen != expected:
                yield f"{path.relative_to(stage)}: the grafana service sees it at {seen}, expected {expected}"
    dashboards = stage / settings.output.dashboards_dir
    mounted = container_path(dashboards, mounts)
    for where, read in providers:
        if read != mounted:
            yield (
                f"{where}: options.path is {read!r}, but the grafana service mounts "
                f"{settings.output.dashboards_dir}/ at {mounted}"
            )


def provider_errors(stage: Path, settings: StackSettings) -> list[str]:
    errors: list[str] = []
    paths: list[tuple[str, str]] = []
    for doc in compose_documents(stage, settings, "dashboards"):
        try:
            parsed = DashboardProvidersFile.model_validate(doc.data)
        except ValidationError as error:
            errors += format_errors(error, doc.where)
            continue
        errors += env_references(doc.data, doc.where)
        paths += [(f"{doc.where}: providers[{i}]", p.options.path) for i, p in enumerate(parsed.providers)]
    return errors + list(mount_errors(stage, settings, paths))


def sidecar_errors(stage: Path, settings: StackSettings) -> Iterator[str]:
    """kube-prometheus-stack's Grafana sidecars select the data source and dashboard ConfigMaps: each sidecar
    is enabled, selects the label and value they carry, and searches their namespace."""
    path = stage / settings.output.kubernetes_dir / values_file(KPS)
    if not path.is_file():
        return
    values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    sidecars = values.get("grafana", {}).get("sidecar", {})
    for kind, label in (("datasources", DATASOURCE_LABEL), ("dashboards", DASHBOARD_LABEL)):
        sidecar, where = sidecars.get(kind, {}), f"{path.relative_to(stage)}: grafana.sidecar.{kind}"
        if sidecar.get("enabled") is not True or sidecar.get("label") != label:
            found = f"enabled {sidecar.get('enabled')!r}, label {sidecar.get('label')!r}"
            yield f"{where}: {found}, expected enabled true, label {label!r}"
            continue
        for file, doc in labelled(stage, settings, label):
            value, namespace = doc["metadata"]["labels"][label], doc["metadata"].get("namespace")
            if str(value) != str(sidecar.get("labelValue", "1")):
                yield f"{file}: label {label}={value!r}, but {where}.labelValue is {sidecar.get('labelValue')!r}"
            searched = sidecar.get("searchNamespace")
            if searched not in (None, "ALL") and namespace not in str(searched).split(","):
                yield f"{file}: namespace {namespace!r}, but {where}.searchNamespace is {searched!r}"


def result(name: str, errors: list[str]) -> CheckResult:
    shown = "; ".join(errors[:20]) + (f"; ... {len(errors) - 20} more" if len(errors) > 20 else "")
    return CheckResult(name, "failed" if errors else "ok", shown)


def check_provisioning(stage: Path, settings: StackSettings) -> list[CheckResult]:
    sets = datasource_sets(stage, settings)
    results = [result(f"grafana provisioning ({name})", datasource_errors(docs)) for name, docs in sets.items()]
    if "kubernetes" in sets or any(labelled(stage, settings, DASHBOARD_LABEL)):
        results.append(result("grafana sidecars (kubernetes)", list(sidecar_errors(stage, settings))))
    if (stage / settings.output.compose_dir / c.COMPOSE_FILE).is_file():
        results.append(result("grafana dashboard providers (compose)", provider_errors(stage, settings)))
    if not sets:
        results.append(CheckResult("grafana provisioning", "failed", "no data source files; run obsstack generate"))
    return results
