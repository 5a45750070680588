"""verify, --pipeline-faults, the doctor and local mode choose their checks and programs by the stores `backends`
names (one catalogue: stack.runtime.stores), never by a branch on a backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stack.builders.distributions import recipe
from stack.config import load_settings
from stack.render import render_all
from stack.runtime import doctor
from stack.runtime.outages import Outage, outage_table
from stack.runtime.outcome import Endpoints, VerifyReport
from stack.runtime.pipeline import Backends, _lookups
from stack.runtime.presence import Presence
from stack.runtime.programs import programs
from stack.runtime.stores import LOG_APIS, TRACE_APIS, health_urls, pipeline, span_metric_series
from stack.runtime.traffic import Window
from stack.settings import StackSettings
from stack.tools import VERSION_RE
from stack.write import write_plan

CLEAN = {"backends": {"traces": "jaeger", "logs": "victorialogs"}}


def settings_of(make_project: Any, overrides: dict[str, Any] | None = None) -> StackSettings:
    return load_settings(make_project(), overrides or {})


def test_every_backend_name_has_an_entry(make_project: Any) -> None:
    """Each value `backends.logs` / `backends.traces` accepts has exactly one runtime entry, with its own
    readiness URL."""
    fields = StackSettings.model_fields["backends"].annotation.model_fields  # type: ignore[union-attr]
    assert set(LOG_APIS) == set(fields["logs"].annotation.__args__)  # type: ignore[union-attr]
    assert set(TRACE_APIS) == set(fields["traces"].annotation.__args__)  # type: ignore[union-attr]
    urls = health_urls(settings_of(make_project))
    assert urls["victorialogs"] == "http://127.0.0.1:9428/health"
    assert urls["jaeger"] == "http://127.0.0.1:16686/api/services"
    assert urls["loki"] == "http://127.0.0.1:3100/ready"


def test_the_pipeline_faults_stop_the_collector_then_the_chosen_stores(make_project: Any) -> None:
    """LGTM: collector, Loki, Tempo; the licence-clean choice: collector, VictoriaLogs, Jaeger."""
    assert pipeline(settings_of(make_project)) == ("otelcol", "loki", "tempo")
    assert pipeline(settings_of(make_project, CLEAN)) == ("otelcol", "victorialogs", "jaeger")


def test_the_traced_request_is_followed_into_the_chosen_stores(make_project: Any) -> None:
    """With Jaeger and VictoriaLogs chosen, the lookups name them and their languages, need them (and the
    collector), and the span metrics need only the collector (its connectors), with the connector's label."""
    settings = settings_of(make_project, CLEAN)
    ends = Backends.of(settings, ("http://127.0.0.1:9", "http://vl", "http://jaeger"), Presence(), "")
    lookups = {name: needs for name, needs, _ in _lookups("orders", "0" * 32, 0.0, ends, "h_bucket", {})}
    assert lookups["log line by trace_id in VictoriaLogs (LogsQL)"] == ("otelcol", "victorialogs")
    assert lookups["trace by id in Jaeger"] == ("otelcol", "jaeger")
    assert lookups["trace by search by service and time in Jaeger"] == ("otelcol", "jaeger")
    assert lookups["exemplar's trace found in Jaeger"] == ("otelcol", "jaeger")
    derived = [needs for name, needs in lookups.items() if name.startswith(("span metrics", "service graph"))]
    assert derived == [("otelcol",), ("otelcol",)]
    assert not [name for name in lookups if "Loki" in name or "Tempo" in name]
    calls, graph = span_metric_series(settings, "orders")
    assert calls == 'traces_spanmetrics_calls_total{service_name="orders"}'
    assert graph == 'traces_service_graph_request_total{server="orders"}'
    assert ends.exporters() == ("prometheusremotewrite", "otlphttp/victorialogs", "otlp/jaeger")


def test_local_mode_starts_only_the_chosen_stores(make_project: Any) -> None:
    """programs() lists Loki and Tempo by default, VictoriaLogs and Jaeger (with their own command lines) when
    chosen, never both pairs."""
    names = [p.name for p in programs(settings_of(make_project))]
    assert {"loki", "tempo"} <= set(names)
    assert not {"jaeger", "victorialogs"} & set(names)
    settings = settings_of(make_project, CLEAN)
    chosen = {p.name: p for p in programs(settings)}
    assert not {"loki", "tempo"} & set(chosen)
    layout = _layout(Path("/p"))
    assert chosen["jaeger"].argv("jaeger", layout, settings) == ["jaeger", "--config=/p/.obsstack/local/compose/"
                                                                "jaeger/config.yaml"]  # fmt: skip
    assert chosen["victorialogs"].argv("vl", layout, settings) == [
        "vl", "-storageDataPath=/p/.obsstack/data/victorialogs", "-httpListenAddr=127.0.0.1:9428",
        "-retentionPeriod=7d"]  # fmt: skip


def _layout(root: Path) -> Any:
    from stack.runtime.programs import Layout

    return Layout(root, root / ".obsstack")


def test_the_doctor_executes_the_logsql_and_jaeger_panels(make_project: Any) -> None:
    """With the licence-clean stores chosen, the doctor's log and trace checks are the dashboards' LogsQL and
    Jaeger search panels (their variables filled), each n/a naming its store when that store is not part of
    the stack; no LogQL or TraceQL panel is looked for."""
    config = make_project()
    settings = load_settings(config, {"profile": "fast", **CLEAN})
    write_plan(config.parent, render_all(settings))
    service = settings.services[0]
    logsql = doctor.store_targets(config.parent, settings, service, 60, LOG_APIS["victorialogs"].panel_type)
    jaeger = doctor.store_targets(config.parent, settings, service, 60, TRACE_APIS["jaeger"].panel_type)
    assert logsql
    assert all('"orders"' in target["expr"] for _, target in logsql)
    assert jaeger
    assert all(target["service"] == "orders" and target["minDuration"] for _, target in jaeger)
    report = VerifyReport("fast", "orders", 0.0)
    absent = Presence({"victorialogs": "http://127.0.0.1:9/", "jaeger": "http://127.0.0.1:9/"},
                      frozenset({"victorialogs", "jaeger"}))  # fmt: skip
    ends = Endpoints.from_settings(settings, settings.services)
    doctor._logs_and_traces(config.parent, settings, settings.services, ends, report, absent, 60)
    assert len(report.checks) == len(logsql) + len(jaeger)
    assert {line.status for line in report.checks} == {"n/a"}
    assert {line.detail.split(" ")[0] for line in report.checks} == {"victorialogs", "jaeger"}


def test_the_store_components_are_built_at_their_image_tags(make_project: Any) -> None:
    """Jaeger 2.12.0 is module v1.75.0's cmd/jaeger stamped v2.12.0; VictoriaLogs 1.52.2 is its module's
    app/victoria-logs stamped as VictoriaMetrics stamps releases, which the version check reads."""
    settings = settings_of(make_project)
    jaeger, logs = recipe(settings, "jaeger"), recipe(settings, "victorialogs")
    assert (jaeger.version, jaeger.module_version, jaeger.target) == (  # type: ignore[union-attr]
        "2.12.0", "v1.75.0", "github.com/jaegertracing/jaeger/cmd/jaeger")
    assert any(flag.endswith("internal/version.latestVersion=v2.12.0") for flag in jaeger.ldflags)  # type: ignore[union-attr]
    assert (logs.version, logs.module_version) == ("1.52.2", "v1.52.2")  # type: ignore[union-attr]
    assert VERSION_RE.search("victoria-logs-20260101-000000-tags-v1.52.2-0-g1234567").group(1) == "1.52.2"  # type: ignore[union-attr]
    assert VERSION_RE.search("jaeger version v2.12.0").group(1) == "2.12.0"  # type: ignore[union-attr]


def test_the_outage_table_says_what_each_store_lost() -> None:
    """Per stopped component: requests, errors, p95 against the baseline, what each store holds for the window,
    and the requests without a record there plus the collector's drops as the loss."""
    outage = Outage("jaeger", Window(300, 0, 0.02, 0.1), Window(450, 0, 0.021, 0.1), 3.0,
                    {"access log lines in VictoriaLogs": 450, "traces in Jaeger": 448}, {"send_failed_spans": 0.0},
                    ok=True)  # fmt: skip
    head, row = outage_table([outage])
    assert head.split()[:3] == ["stopped", "requests", "errors"]
    assert row.split()[:5] == ["jaeger", "450", "0", "21", "ms"]
    assert "0 access log lines, 2 traces" in row
    assert row.endswith("ok")
