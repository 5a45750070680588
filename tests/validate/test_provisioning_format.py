"""Grafana provisioning checked against Grafana's documented format, and its cross-references."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from stack.settings import StackSettings
from stack.validate.provisioning import check_provisioning
from tests.conftest import REPO
from tests.validate.conftest import edit_yaml

DATASOURCES = Path("compose/grafana/provisioning/datasources/datasources.yml")
PROVIDERS = Path("compose/grafana/provisioning/dashboards/dashboards.yml")
CONFIGMAP = Path("kubernetes/base/datasources.yaml")


def source(data: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(d for d in data["datasources"] if d["name"] == name)
    return found


def failures(root: Path, settings: StackSettings) -> dict[str, str]:
    return {r.name: r.detail for r in check_provisioning(root, settings) if r.status != "ok"}


def test_generated_provisioning_matches_the_documented_format(repo_settings: StackSettings) -> None:
    """This repository's datasources (compose and the Kubernetes ConfigMap) and dashboard provider pass."""
    results = check_provisioning(REPO, repo_settings)
    assert [r.line() for r in results if r.status != "ok"] == []
    assert {r.name for r in results} == {
        "grafana provisioning (compose)",
        "grafana provisioning (kubernetes)",
        "grafana dashboard providers (compose)",
        "grafana sidecars (kubernetes)",
    }


def test_a_key_grafana_does_not_know_fails(generated: Path, repo_settings: StackSettings) -> None:
    """An unknown jsonData key of a derived field is named with its path and value."""
    edit_yaml(generated / DATASOURCES, lambda d: source(d, "Loki")["jsonData"]["derivedFields"][0].update(
        matcher="trace_id"))  # fmt: skip
    detail = failures(generated, repo_settings)["grafana provisioning (compose)"]
    assert "datasources[1] (Loki).jsonData.derivedFields[0].matcher: Extra inputs are not permitted" in detail
    assert "'trace_id'" in detail


def test_a_wrong_type_fails(generated: Path, repo_settings: StackSettings) -> None:
    """A string where Grafana documents a boolean is not coerced."""
    edit_yaml(generated / DATASOURCES, lambda d: source(d, "Prometheus").update(isDefault="true"))
    detail = failures(generated, repo_settings)["grafana provisioning (compose)"]
    assert "datasources[0].isDefault: Input should be a valid boolean, got 'true'" in detail


def test_an_unprovisioned_datasource_uid_fails(generated: Path, repo_settings: StackSettings) -> None:
    """Trace to logs naming a UID nothing provisions fails, naming the key and the UIDs there are."""
    edit_yaml(generated / DATASOURCES, lambda d: source(d, "Tempo")["jsonData"]["tracesToLogsV2"].update(
        datasourceUid="obs-logs"))  # fmt: skip
    detail = failures(generated, repo_settings)["grafana provisioning (compose)"]
    assert "Tempo.jsonData.tracesToLogsV2.datasourceUid: datasource uid 'obs-logs' is not provisioned" in detail


def test_a_link_to_the_wrong_kind_of_datasource_fails(generated: Path, repo_settings: StackSettings) -> None:
    """An exemplar destination must be a tracing data source."""
    edit_yaml(generated / DATASOURCES, lambda d: source(d, "Prometheus")["jsonData"][
        "exemplarTraceIdDestinations"][0].update(datasourceUid="obs-loki"))  # fmt: skip
    detail = failures(generated, repo_settings)["grafana provisioning (compose)"]
    expected = "exemplarTraceIdDestinations[0].datasourceUid: 'obs-loki' is a loki data source, expected type tempo"
    assert expected in detail


def test_an_unescaped_dollar_fails(generated: Path, repo_settings: StackSettings) -> None:
    """Grafana expands `${__value.raw}` as an environment variable in provisioning; `$$` is the literal."""
    edit_yaml(generated / DATASOURCES, lambda d: source(d, "Loki")["jsonData"]["derivedFields"][0].update(
        url="${__value.raw}"))  # fmt: skip
    detail = failures(generated, repo_settings)["grafana provisioning (compose)"]
    assert "expands the environment variable ${__value.raw}" in detail


def test_the_kubernetes_configmap_is_checked(generated: Path, repo_settings: StackSettings) -> None:
    """The provisioning file embedded in the datasources ConfigMap is held to the same format."""
    path = generated / CONFIGMAP
    configmap = yaml.safe_load(path.read_text(encoding="utf-8"))
    key = next(iter(configmap["data"]))
    embedded = yaml.safe_load(configmap["data"][key])
    embedded["datasources"][0]["jsonData"]["exemplarTraceIdDestination"] = []
    configmap["data"][key] = yaml.safe_dump(embedded)
    path.write_text(yaml.safe_dump(configmap), encoding="utf-8")
    detail = failures(generated, repo_settings)["grafana provisioning (kubernetes)"]
    assert f"{CONFIGMAP} data.{key}: datasources[0] (Prometheus).jsonData.exemplarTraceIdDestination" in detail


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["providers"][0]["options"].update(paths="/x"), "providers[0].options.paths: Extra inputs"),
        (lambda d: d["providers"][0]["options"].update(path="/var/lib/dashboards"),
         "options.path is '/var/lib/dashboards', but the grafana service mounts dashboards/ at "
         "/etc/obsstack/dashboards"),
        (lambda d: d.pop("apiVersion"), "apiVersion: Field required"),
    ],
)  # fmt: skip
def test_a_broken_dashboard_provider_fails(
    generated: Path, repo_settings: StackSettings, change: Any, expected: str
) -> None:
    """An unknown provider key, a path where compose mounts no dashboards, a missing apiVersion."""
    edit_yaml(generated / PROVIDERS, change)
    assert expected in failures(generated, repo_settings)["grafana dashboard providers (compose)"]


@pytest.mark.parametrize(
    ("path", "change", "expected"),
    [
        (Path("kubernetes/helm/kube-prometheus-stack.values.yaml"),
         lambda d: d["grafana"]["sidecar"]["datasources"].update(label="grafana_datasources"),
         "grafana.sidecar.datasources: enabled True, label 'grafana_datasources', expected enabled true, label "
         "'grafana_datasource'"),
        (CONFIGMAP, lambda d: d["metadata"]["labels"].update(grafana_datasource="true"),
         f"{CONFIGMAP}: label grafana_datasource='true', but "),
        (Path("kubernetes/base/dashboard-overview.yaml"), lambda d: d["metadata"].update(namespace="grafana"),
         "dashboard-overview.yaml: namespace 'grafana', but "),
    ],
)  # fmt: skip
def test_the_sidecars_select_the_configmaps(
    generated: Path, repo_settings: StackSettings, path: Path, change: Any, expected: str
) -> None:
    """kube-prometheus-stack's Grafana sidecars find the ConfigMaps only by label, value and namespace."""
    edit_yaml(generated / path, change)
    assert expected in failures(generated, repo_settings)["grafana sidecars (kubernetes)"]
