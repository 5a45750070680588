"""Each choice of trace store (tempo | jaeger) and log store (loki | victorialogs) renders a stack wired to
those stores: the collector's exporters, connectors and pipelines, Grafana's datasources and their links,
the dashboards' queries in the store's own language, compose services and the stores' config files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stack import conventions as c
from stack.builders.backends import VICTORIALOGS_PLUGIN_VERSION
from stack.settings import StackSettings
from tests.backends.conftest import read_yaml

EXPORTERS = {"tempo": "otlp/tempo", "jaeger": "otlp/jaeger", "loki": "otlphttp/loki",
             "victorialogs": "otlphttp/victorialogs"}  # fmt: skip
TYPES = {"tempo": "tempo", "jaeger": "jaeger", "loki": "loki", "victorialogs": "victoriametrics-logs-datasource"}


def test_collector_exports_to_the_chosen_stores(project: Path, choice: tuple[str, str]) -> None:
    """Traces and logs end in the chosen stores' exporters, and only those are configured."""
    traces, logs = choice
    config = read_yaml(project / "compose" / c.OTELCOL_CONFIG)
    pipelines = config["service"]["pipelines"]
    assert pipelines["traces"]["exporters"][0] == EXPORTERS[traces]
    assert pipelines["logs"]["exporters"] == [EXPORTERS[logs]]
    assert set(config["exporters"]) == {EXPORTERS[traces], EXPORTERS[logs], "prometheusremotewrite"}


@pytest.mark.parametrize("choice", [("tempo", "victorialogs")], indirect=True)
def test_victorialogs_takes_otlp_protobuf_at_its_own_path(project: Path) -> None:
    """VictoriaLogs' exporter posts protobuf to /insert/opentelemetry/v1/logs, with the same retry and queue
    as every store's exporter."""
    exporters = read_yaml(project / "compose" / c.OTELCOL_CONFIG)["exporters"]
    exporter = exporters["otlphttp/victorialogs"]
    assert exporter["logs_endpoint"] == f"http://victorialogs:9428{c.VICTORIALOGS_OTLP_PATH}"
    assert exporter["encoding"] == "proto"
    assert "endpoint" not in exporter
    trace_exporter = next(v for k, v in exporters.items() if k.startswith("otlp/"))
    assert exporter["retry_on_failure"] == trace_exporter["retry_on_failure"]
    assert exporter["sending_queue"] == trace_exporter["sending_queue"]


def test_span_metrics_come_from_the_collector_without_tempo(project: Path, choice: tuple[str, str]) -> None:
    """Without Tempo's metrics generator the traces pipeline feeds the spanmetrics (with exemplars, named as
    Tempo names them) and servicegraph connectors into the metrics pipeline; with Tempo there are none."""
    config = read_yaml(project / "compose" / c.OTELCOL_CONFIG)
    pipelines = config["service"]["pipelines"]
    if choice[0] == "tempo":
        assert "connectors" not in config
        assert pipelines["metrics"]["receivers"] == ["otlp"]
        return
    assert set(config["connectors"]) == {"span_metrics", "service_graph"}
    assert config["connectors"]["span_metrics"]["exemplars"]["enabled"] is True
    assert config["connectors"]["span_metrics"]["namespace"] == "traces.spanmetrics"
    assert pipelines["traces"]["exporters"][1:] == ["span_metrics", "service_graph"]
    assert pipelines["metrics"]["receivers"] == ["otlp", "span_metrics", "service_graph"]
    assert c.SPAN_METRICS["jaeger"].calls == c.SPAN_METRICS["tempo"].calls


def test_datasources_link_the_chosen_stores(project: Path, choice: tuple[str, str]) -> None:
    """Exemplars and the log store's trace_id field open the trace store; its trace-to-logs opens the log store."""
    traces, logs = choice
    data = read_yaml(project / "compose" / c.GRAFANA_DATASOURCES)
    by_type = {d["type"]: d for d in data["datasources"]}
    assert set(by_type) == {"prometheus", TYPES[traces], TYPES[logs], "alertmanager"}
    trace_uid, log_uid = c.STORE_DATASOURCE_UIDS[traces], c.STORE_DATASOURCE_UIDS[logs]
    exemplars = by_type["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert {e["datasourceUid"] for e in exemplars} == {trace_uid}
    assert "trace_id" in {e["name"] for e in exemplars}
    [field] = by_type[TYPES[logs]]["jsonData"]["derivedFields"]
    assert (field["matcherRegex"], field["datasourceUid"]) == ("trace_id", trace_uid)
    assert by_type[TYPES[traces]]["jsonData"]["tracesToLogsV2"]["datasourceUid"] == log_uid


def test_dashboards_query_each_store_in_its_language(project: Path, choice: tuple[str, str]) -> None:
    """The error-logs panel is LogQL or LogsQL, the slow-traces panel TraceQL or a Jaeger search, on the
    chosen stores' datasources."""
    traces, logs = choice
    board = json.loads((project / "dashboards" / "orders-golden-signals.json").read_text(encoding="utf-8"))
    panels = {p["id"]: p for p in board["panels"]}
    [log_target] = panels[c.PANEL_IDS["logs"]]["targets"]
    [trace_target] = panels[c.PANEL_IDS["slow_traces"]]["targets"]
    assert log_target["datasource"] == {"type": TYPES[logs], "uid": c.STORE_DATASOURCE_UIDS[logs]}
    assert trace_target["datasource"] == {"type": TYPES[traces], "uid": c.STORE_DATASOURCE_UIDS[traces]}
    if logs == "victorialogs":
        assert log_target["expr"].startswith('service.name:="$service" severity_text:~')
    else:
        assert log_target["expr"].startswith('{service_name="$service"} | detected_level=~')
    if traces == "jaeger":
        assert (trace_target["queryType"], trace_target["service"]) == ("search", "$service")
        assert trace_target["minDuration"] == "200ms"
    else:
        assert trace_target["queryType"] == "traceql"


def test_compose_runs_the_chosen_stores(project: Path, choice: tuple[str, str]) -> None:
    """Only the chosen stores run, each with its pinned image, a health check and its port on 127.0.0.1;
    Grafana and the collector wait for them; VictoriaLogs runs as nobody; the plugin is pinned."""
    traces, logs = choice
    compose = read_yaml(project / "compose" / c.COMPOSE_FILE)
    services = compose["services"]
    others = {"tempo", "jaeger", "loki", "victorialogs"} - {traces, logs}
    assert not others & set(services)
    settings_images = {"jaeger": "jaegertracing/jaeger:2.12.0", "victorialogs": "victoriametrics/victoria-logs:v1.52.2"}
    for store in (traces, logs):
        service = services[store]
        assert service["healthcheck"]["test"][0] == "CMD"
        assert all(port.startswith("127.0.0.1:") for port in service["ports"])
        assert service["image"] == settings_images.get(store, service["image"])
        assert services["grafana"]["depends_on"][store] == {"condition": "service_healthy"}
        assert store in services["otelcol"]["depends_on"]
    plugin = services["grafana"]["environment"].get("GF_PLUGINS_PREINSTALL_SYNC")
    if logs == "victorialogs":
        assert services["victorialogs"]["user"] == "65534:65534"
        assert plugin == f"victoriametrics-logs-datasource@{VICTORIALOGS_PLUGIN_VERSION}"
    else:
        assert plugin is None
    ephemeral = read_yaml(project / "compose" / c.COMPOSE_EPHEMERAL_FILE)["volumes"]
    assert not {f"{name}-data" for name in others} & set(ephemeral)


def test_config_files_only_for_the_stores_that_read_one(project: Path, choice: tuple[str, str]) -> None:
    """loki.yaml and tempo.yaml only for Loki and Tempo; Jaeger's own config for Jaeger (memory store, OTLP
    in, the query extension on components.jaeger.port); VictoriaLogs reads flags, no file."""
    traces, logs = choice
    compose = project / "compose"
    assert (compose / c.LOKI_CONFIG).exists() == (logs == "loki")
    assert (compose / c.TEMPO_CONFIG).exists() == (traces == "tempo")
    assert (compose / c.JAEGER_CONFIG).exists() == (traces == "jaeger")
    if traces == "jaeger":
        jaeger = read_yaml(compose / c.JAEGER_CONFIG)
        assert jaeger["extensions"]["jaeger_query"]["http"]["endpoint"] == "0.0.0.0:16686"
        assert jaeger["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "0.0.0.0:4317"
        assert jaeger["service"]["pipelines"]["traces"]["exporters"] == ["jaeger_storage_exporter"]


def test_local_configs_point_at_loopback_ports(settings: StackSettings, choice: tuple[str, str]) -> None:
    """A local run's collector and Grafana reach the stores on 127.0.0.1; Jaeger's OTLP ports move off the
    collector's 4317/4318."""
    from stack.render import render_all

    placement = c.Placement(local=True, data_root="/d", project_root="/p", config_root="/cfg")
    plan = {a.path: a.text for a in render_all(settings, placement)}
    collector = plan[f"compose/{c.OTELCOL_CONFIG}"]
    datasources = plan[f"compose/{c.GRAFANA_DATASOURCES}"]
    traces, logs = choice
    if traces == "jaeger":
        assert f"endpoint: 127.0.0.1:{c.JAEGER_LOCAL_OTLP_PORTS[0]}" in collector
        assert f"url: http://127.0.0.1:{settings.components.jaeger.port}" in datasources
        assert f"endpoint: 127.0.0.1:{c.JAEGER_LOCAL_OTLP_PORTS[0]}" in plan[f"compose/{c.JAEGER_CONFIG}"]
    if logs == "victorialogs":
        assert f"http://127.0.0.1:{settings.components.victorialogs.port}{c.VICTORIALOGS_OTLP_PATH}" in collector


def test_kubernetes_runs_the_chosen_stores_charts(project: Path, choice: tuple[str, str]) -> None:
    """The helmfile installs only the chosen stores' charts (pinned), their values set the stores' image tags,
    and k8s-monitoring sends the services' traces and logs to them."""
    traces, logs = choice
    kubernetes = project / "kubernetes"
    helmfile = read_yaml(kubernetes / "helmfile.yaml")
    releases = {r["name"]: r for r in helmfile["releases"]}
    chart_release = {"tempo": "tempo", "loki": "loki", "jaeger": "jaeger", "victorialogs": "victoria-logs-single"}
    others = {"tempo", "jaeger", "loki", "victorialogs"} - {traces, logs}
    assert {chart_release[s] for s in (traces, logs)} <= set(releases)
    assert not {chart_release[s] for s in others} & set(releases)
    destinations = read_yaml(kubernetes / "helm" / "k8s-monitoring.values.yaml")["destinations"]
    assert set(destinations) == {"mimir", chart_release[traces], chart_release[logs]}
    if traces == "jaeger":
        assert releases["jaeger"]["version"] == "4.11.1"
        values = read_yaml(kubernetes / "helm" / "jaeger.values.yaml")
        assert values["jaeger"]["image"]["tag"] == "2.12.0"
        assert values["userconfig"]["extensions"]["healthcheckv2"]["http"]["endpoint"] == "0.0.0.0:13133"
        assert destinations["jaeger"]["url"] == "http://jaeger.monitoring.svc:4317"
    if logs == "victorialogs":
        assert releases["victoria-logs-single"]["version"] == "0.13.9"
        values = read_yaml(kubernetes / "helm" / "victoria-logs-single.values.yaml")
        assert values["server"]["image"]["tag"] == "v1.52.2"
        assert destinations["victoria-logs-single"]["url"] == "http://victorialogs.monitoring.svc:9428/insert/opentelemetry"
