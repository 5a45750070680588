"""The Kubernetes target: the same rules, dashboards, datasources and routing as the local stack, in the
objects and charts the prometheus-operator / LGTM ecosystem reads."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

import pytest
import yaml

from stack.config import load_settings
from stack.render import render_all
from stack.settings import StackSettings

REPO = Path(__file__).resolve().parents[2]
K8S, BASE = "kubernetes", "kubernetes/base"


def settings_with(tmp_path: Path, kubernetes: str = "{enabled: true}", token: bool = True) -> StackSettings:
    """The project's stack.yaml with the Kubernetes target on (and the given kubernetes block)."""
    data = yaml.safe_load((REPO / "stack.yaml").read_text(encoding="utf-8"))
    if not token:
        for service in data["services"]:
            service.pop("metrics_token_file", None)
    data["kubernetes"] = yaml.safe_load(kubernetes)
    config = tmp_path / "stack.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_settings(config)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every generated file of the project (Kubernetes target on): path -> text."""
    settings = settings_with(tmp_path_factory.mktemp("k8s"))
    return {a.path: a.text for a in render_all(settings)}


def load(files: dict[str, str], path: str) -> Any:
    return yaml.safe_load(files[path])


def objects(files: dict[str, str], kind: str) -> list[dict[str, Any]]:
    found = (load(files, p) for p in files if p.startswith(BASE + "/") and not p.endswith("kustomization.yaml"))
    return [o for o in found if o["kind"] == kind]


def test_kustomization_lists_every_object_file_once(files: dict[str, str]) -> None:
    """base/kustomization.yaml lists each file of base/ once, each file holds one object in its namespace."""
    kustomization = load(files, f"{BASE}/kustomization.yaml")
    listed = kustomization["resources"]
    on_disk = sorted(posixpath.relpath(p, BASE) for p in files if p.startswith(BASE + "/"))
    assert sorted([*listed, "kustomization.yaml"]) == on_disk
    assert len(set(listed)) == len(listed)
    for name in listed:
        documents = list(yaml.safe_load_all(files[f"{BASE}/{name}"]))
        assert len(documents) == 1, name
        assert documents[0]["metadata"]["namespace"] == kustomization["namespace"] == "monitoring"


def test_prometheus_rules_hold_exactly_the_rule_files_groups(files: dict[str, str]) -> None:
    """Each rule file's groups (which promtool tests) are one PrometheusRule's groups, byte for byte equal data."""
    rule_files = {p: load(files, p) for p in files if p.startswith("alerts/") and p.endswith(".rules.yml")}
    rules = objects(files, "PrometheusRule")
    assert sorted(tuple(g["name"] for g in r["spec"]["groups"]) for r in rules) == sorted(
        tuple(g["name"] for g in f["groups"]) for f in rule_files.values()
    )
    by_first_group = {r["spec"]["groups"][0]["name"]: r for r in rules}
    for rule_file in rule_files.values():
        assert by_first_group[rule_file["groups"][0]["name"]]["spec"]["groups"] == rule_file["groups"]
    (platform,) = [r for r in rules if r["metadata"]["name"] == "obsstack-platform-rules"]
    assert platform["spec"]["groups"] == load(files, "alerts/platform.rules.yml")["groups"]


def test_dashboards_configmaps_hold_the_dashboard_json_bytes(files: dict[str, str]) -> None:
    """Each dashboards/*.json is the data of one sidecar-labelled ConfigMap in the project's folder, same bytes."""
    boards = {posixpath.basename(p): text for p, text in files.items() if p.startswith("dashboards/")}
    maps = [m for m in objects(files, "ConfigMap") if "grafana_dashboard" in m["metadata"]["labels"]]
    held = {key: text for m in maps for key, text in m["data"].items()}
    assert held == boards
    for config_map in maps:
        assert config_map["metadata"]["labels"] == {"grafana_dashboard": "1"}
        assert config_map["metadata"]["annotations"] == {"grafana_folder": "obsstack-demo"}


def test_datasources_keep_uids_and_correlations_with_in_cluster_urls(files: dict[str, str]) -> None:
    """The datasource ConfigMap has the compose datasources' UIDs and jsonData; only the URLs are the cluster's."""
    compose = load(files, "compose/grafana/provisioning/datasources/datasources.yml")["datasources"]
    (config_map,) = [m for m in objects(files, "ConfigMap") if "grafana_datasource" in m["metadata"]["labels"]]
    assert config_map["metadata"]["labels"] == {"grafana_datasource": "1"}
    (text,) = config_map["data"].values()
    cluster = yaml.safe_load(text)["datasources"]
    assert [d["uid"] for d in cluster] == [d["uid"] for d in compose]
    assert [d["jsonData"] for d in cluster] == [d["jsonData"] for d in compose]
    urls = {d["type"]: d["url"] for d in cluster}
    assert urls == {
        "prometheus": "http://mimir-gateway.monitoring.svc/prometheus",
        "loki": "http://loki-gateway.monitoring.svc",
        "tempo": "http://tempo-query-frontend.monitoring.svc:3200",
        "alertmanager": "http://kube-prometheus-stack-alertmanager.monitoring.svc:9093",
    }


def test_selector_labels_on_the_objects_the_charts_select(files: dict[str, str]) -> None:
    """PrometheusRules, monitors and the AlertmanagerConfig carry `release: kube-prometheus-stack`, the label
    kube-prometheus-stack's Alertmanager and k8s-monitoring's rule sync and scrape select on."""
    for kind in ("PrometheusRule", "ServiceMonitor", "AlertmanagerConfig"):
        for obj in objects(files, kind):
            assert obj["metadata"]["labels"]["release"] == "kube-prometheus-stack", (kind, obj["metadata"])
    kps = load(files, f"{K8S}/helm/kube-prometheus-stack.values.yaml")
    spec = kps["alertmanager"]["alertmanagerSpec"]
    assert spec["alertmanagerConfigSelector"] == {"matchLabels": {"release": "kube-prometheus-stack"}}
    monitoring = load(files, f"{K8S}/helm/k8s-monitoring.values.yaml")
    assert monitoring["destinations"]["mimir"]["rules"]["enabled"] is True
    assert monitoring["destinations"]["mimir"]["rules"]["labelSelectors"] == {"release": "kube-prometheus-stack"}
    assert monitoring["prometheusOperatorObjects"]["serviceMonitors"]["labelSelectors"] == {
        "release": "kube-prometheus-stack"
    }


def test_service_monitor_scrapes_like_compose(files: dict[str, str]) -> None:
    """The ServiceMonitor scrapes the metrics path at the profile's interval with the token from the Secret,
    OpenMetrics first (exemplars), and sets the labels compose's static config gives the series."""
    (monitor,) = objects(files, "ServiceMonitor")
    (endpoint,) = monitor["spec"]["endpoints"]
    assert monitor["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": "orders"}}
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["default"]}
    assert monitor["spec"]["scrapeProtocols"][0] == "OpenMetricsText1.0.0"
    assert (endpoint["port"], endpoint["path"], endpoint["interval"]) == ("http", "/metrics", "15s")
    assert endpoint["authorization"] == {
        "type": "Bearer",
        "credentials": {"name": "obsstack-metrics-tokens", "key": "orders"},
    }
    labels = {r["targetLabel"]: r["replacement"] for r in endpoint["relabelings"]}
    assert labels == {"service": "orders", "job": "orders", "team": "checkout"}


def test_pod_monitor_and_no_token(tmp_path: Path) -> None:
    """monitor_kind PodMonitor gives a PodMonitor; a service without metrics_token_file gets no authorization."""
    settings = settings_with(tmp_path, "{enabled: true, monitor_kind: PodMonitor, metrics_port: metrics}", token=False)
    files = {a.path: a.text for a in render_all(settings)}
    assert not objects(files, "ServiceMonitor")
    (monitor,) = objects(files, "PodMonitor")
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] == "metrics"
    assert "authorization" not in endpoint
    assert "podmonitor-orders.yaml" in load(files, f"{BASE}/kustomization.yaml")["resources"]


def _matchers(matchers: list[dict[str, str]] | None) -> list[str] | None:
    return None if matchers is None else [f'{m["name"]}{m["matchType"]}"{m["value"]}"' for m in matchers]


def _route(route: dict[str, Any]) -> dict[str, Any]:
    """An AlertmanagerConfig route in alertmanager.yml's words."""
    names = {"groupBy": "group_by", "groupWait": "group_wait", "groupInterval": "group_interval",
             "repeatInterval": "repeat_interval", "receiver": "receiver"}  # fmt: skip
    plain = {names[key]: value for key, value in route.items() if key in names}
    if "matchers" in route:
        plain["matchers"] = _matchers(route["matchers"])
    if "routes" in route:
        plain["routes"] = [_route(child) for child in route["routes"]]
    return plain


def test_alertmanager_config_has_the_routing_of_alertmanager_yml(files: dict[str, str]) -> None:
    """Routes, receivers and inhibitions of the AlertmanagerConfig are those of alertmanager.yml."""
    expected = load(files, "compose/alertmanager/alertmanager.yml")
    (config,) = objects(files, "AlertmanagerConfig")
    spec = config["spec"]
    assert config["apiVersion"] == "monitoring.coreos.com/v1alpha1"
    assert _route(spec["route"]) == expected["route"]
    assert [(r["name"], [w["url"] for w in r["webhookConfigs"]]) for r in spec["receivers"]] == [
        (r["name"], [w["url"] for w in r["webhook_configs"]]) for r in expected["receivers"]
    ]
    assert [(_matchers(r["sourceMatch"]), _matchers(r["targetMatch"]), r["equal"]) for r in spec["inhibitRules"]] == [
        (r["source_matchers"], r["target_matchers"], r["equal"]) for r in expected["inhibit_rules"]
    ]


def test_instrumentation_exports_http_protobuf_to_port_4318(files: dict[str, str]) -> None:
    """The Python Instrumentation points its agent (http/protobuf) at port 4318 of k8s-monitoring's receiver."""
    (instrumentation,) = objects(files, "Instrumentation")
    assert instrumentation["apiVersion"] == "opentelemetry.io/v1alpha1"
    assert instrumentation["spec"]["exporter"]["endpoint"] == "http://k8s-monitoring-alloy-receiver.monitoring.svc:4318"
    monitoring = load(files, f"{K8S}/helm/k8s-monitoring.values.yaml")
    receiver = monitoring["applicationObservability"]
    assert receiver["receivers"]["otlp"]["http"]["enabled"] is True
    assert receiver["collector"] in monitoring["collectors"]


def test_helmfile_pins_every_chart_and_its_values_file(files: dict[str, str]) -> None:
    """helmfile.yaml pins each chart to the configured version from a declared repository and names a values
    file that is generated; kube-prometheus-stack is the one whose operator the CRDs are checked against."""
    helmfile = load(files, f"{K8S}/helmfile.yaml")
    repositories = {r["name"] for r in helmfile["repositories"]}
    versions = {r["chart"].split("/")[1]: r["version"] for r in helmfile["releases"]}
    assert versions == {
        "kube-prometheus-stack": "88.5.3",
        "k8s-monitoring": "4.4.0",
        "mimir-distributed": "6.2.0",
        "loki": "18.11.0",
        "tempo-distributed": "3.3.0",
    }
    for release in helmfile["releases"]:
        assert release["chart"].split("/")[0] in repositories
        assert release["namespace"] == "monitoring"
        for values in release["values"]:
            assert posixpath.join(K8S, values) in files
    mimir = load(files, f"{K8S}/helm/mimir.values.yaml")
    assert mimir["kafka"] == {"enabled": True}  # ingest storage, the chart's default architecture
    assert mimir["mimir"]["structuredConfig"]["ruler"]["alertmanager_url"].startswith(
        "http://kube-prometheus-stack-alertmanager.monitoring.svc"
    )


def test_generated_output_is_reproducible(tmp_path: Path, files: dict[str, str]) -> None:
    """Rendering the same settings twice gives the same bytes for every Kubernetes file."""
    again = {a.path: a.text for a in render_all(settings_with(tmp_path))}
    assert {p: t for p, t in again.items() if p.startswith(K8S)} == {
        p: t for p, t in files.items() if p.startswith(K8S)
    }
