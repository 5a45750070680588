"""The catalogue of log and trace stores: one entry per backend `backends` in stack.yaml may choose.

Each entry holds what every builder needs of its store: the collector's exporter, the Grafana datasource
(with its links into the other stores), the dashboards' log or trace query in the store's own language, the
compose service, the config file it reads (if any), and whether the collector must derive span metrics and
the service graph itself (the `spanmetrics` and `servicegraph` connectors; Tempo's metrics generator does it
for Tempo). Builders look an entry up by name and never branch on a backend.

Correlations: Prometheus exemplars -> the trace store; the log store's `trace_id` field -> the trace store;
the trace store -> the log store (traces to logs) and -> Prometheus (traces to metrics, Tempo's service map).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stack import conventions as c
from stack.builders.jaeger import build_jaeger
from stack.builders.loki import build_loki
from stack.builders.tempo import build_tempo
from stack.models import ConfigModel
from stack.models.grafana import (
    VICTORIALOGS_PLUGIN,
    Datasource,
    DatasourceLink,
    DerivedField,
    JaegerJsonData,
    JaegerTarget,
    LinkedQuery,
    LokiJsonData,
    LokiTarget,
    TagMapping,
    TempoJsonData,
    TempoTarget,
    TracesToLogs,
    TracesToMetrics,
    VictoriaLogsJsonData,
    VictoriaLogsTarget,
)
from stack.models.otelcol import OTLPExporter, OTLPHTTPExporter, RetryOnFailure, SendingQueue, TLSClient
from stack.settings import Service, StackSettings

UIDS = c.STORE_DATASOURCE_UIDS
PROMETHEUS_UID = c.DATASOURCE_UIDS["prometheus"]
TRACE_ID = "trace_id"  # exemplar label (sample app, spanmetrics connector) and the log records' trace id field
# Tempo's metrics-generator labels its span-metrics exemplars `traceID` unless trace_id_label_name is set
# (Tempo 2.9.0, modules/generator/registry/histogram.go); Grafana links each exemplar label listed in
# exemplarTraceIdDestinations by name, so both labels are listed for Tempo.
TEMPO_EXEMPLAR_LABEL = "traceID"
LOKI_SERVICE_LABEL = "service_name"  # Loki's index label for the OTLP resource attribute service.name
SPAN_SHIFT = ("-5m", "5m")
# While a store is down the collector keeps data in a bounded in-memory queue and retries with backoff;
# data still undelivered after RETRY.max_elapsed_time, or refused by a full queue, is dropped and counted
# in the collector's own metrics (otelcol_exporter_send_failed_*, otelcol_exporter_enqueue_failed_*).
RETRY = RetryOnFailure(enabled=True, initial_interval="1s", max_interval="15s", max_elapsed_time="5m")
QUEUE = SendingQueue(enabled=True, num_consumers=4, queue_size=1000)
EXPORT_TIMEOUT = "10s"
# Loki 3.5.3 keeps an OTLP record's severity_text and severity_number as structured metadata and derives
# detected_level from them (distributor/field_detection.go); VictoriaLogs stores the record's severity as
# the `severity` field (severity_text when set, else the number's name: app/vlinsert/opentelemetry).
ERROR_LEVELS = ("error", "err", "critical", "crit", "fatal", "panic")
# the Grafana plugin that reads VictoriaLogs, installed by compose's Grafana at this version (grafana.com
# catalogue id victoriametrics-logs-datasource; v0.30.1 requires Grafana >= 10.4.0, its plugin.json)
VICTORIALOGS_PLUGIN_VERSION = "0.30.1"
Placement = c.Placement
ConfigBuilder = Callable[[StackSettings, Placement], ConfigModel]


def url(settings: StackSettings, component: str, placement: Placement = c.IN_CONTAINERS) -> str:
    """The component's address as Grafana reaches it: compose service name (or 127.0.0.1) and port."""
    return f"http://{placement.host(component)}:{getattr(settings.components, component).port}"


@dataclass(frozen=True)
class StoreService:
    """How compose runs a store: its command (given the config path in the container), health check, data
    directory (a named volume; a tmpfs in the ephemeral variant), user and dependencies."""

    command: Callable[[StackSettings, str], tuple[str, ...]]
    health_path: str
    health_port: Callable[[StackSettings], int]
    start_period: str
    data: str | None
    user: str | None = None
    depends: tuple[str, ...] = ()


@dataclass(frozen=True)
class LogStore:
    name: str  # backends.logs value and component name
    exporter_field: str  # the Exporters field (alias `exporter_key`) the logs pipeline ends in
    exporter_key: str
    exporter: Callable[[StackSettings, Placement], OTLPHTTPExporter]
    datasource: Callable[[StackSettings, Placement, str], Datasource]  # given the trace store's UID
    logs_target: Callable[[], Any]  # the dashboards' error-logs query, in the store's language
    language: str  # of logs_target and the trace-to-logs query: logql | logsql
    to_logs: Callable[[], TracesToLogs]  # a trace store's link into this store
    service: StoreService
    config: tuple[str, ConfigBuilder] | None = None  # the file it reads (under output.compose_dir), its builder


@dataclass(frozen=True)
class TraceStore:
    name: str
    exporter_field: str
    exporter_key: str
    exporter: Callable[[StackSettings, Placement], OTLPExporter]
    datasource: Callable[[StackSettings, Placement, TracesToLogs], Datasource]
    slow_traces_target: Callable[[Service, str], Any]  # (service, minimum duration) -> a search of slow traces
    language: str  # traceql | jaeger-search (a form, not a language)
    exemplar_labels: tuple[str, ...]
    connectors: bool  # the collector derives span metrics and the service graph (no metrics generator)
    service: StoreService
    config: tuple[str, ConfigBuilder] | None = None


# --- Loki -------------------------------------------------------------------------------------------------
def loki_exporter(settings: StackSettings, placement: Placement) -> OTLPHTTPExporter:
    endpoint = f"http://{placement.host('loki')}:{settings.components.loki.port}/otlp"
    return OTLPHTTPExporter(endpoint=endpoint, timeout=EXPORT_TIMEOUT, sending_queue=QUEUE, retry_on_failure=RETRY)


def loki_datasource(settings: StackSettings, placement: Placement, trace_uid: str) -> Datasource:
    trace_field = DerivedField(name="TraceID", matcherType="label", matcherRegex=TRACE_ID, datasourceUid=trace_uid,
                               url="$${__value.raw}", urlDisplayLabel="View trace")  # fmt: skip
    return Datasource(name="Loki", type="loki", uid=UIDS["loki"], url=url(settings, "loki", placement),
                      jsonData=LokiJsonData(derivedFields=(trace_field,)))  # fmt: skip


def loki_errors() -> LokiTarget:
    """The error records of the dashboard's service, whatever case the SDK wrote the severity text in."""
    return LokiTarget(f'{{service_name="$service"}} | detected_level=~"(?i){"|".join(ERROR_LEVELS)}"')


def loki_to_logs() -> TracesToLogs:
    start, end = SPAN_SHIFT
    return TracesToLogs(datasourceUid=UIDS["loki"], spanStartTimeShift=start, spanEndTimeShift=end,
                        tags=(TagMapping(key="service.name", value=LOKI_SERVICE_LABEL),),
                        query=f'{{$${{__tags}}}} | {TRACE_ID}="$${{__trace.traceId}}"')  # fmt: skip


# --- VictoriaLogs -----------------------------------------------------------------------------------------
def victorialogs_exporter(settings: StackSettings, placement: Placement) -> OTLPHTTPExporter:
    """OTLP logs over HTTP, protobuf only, at VictoriaLogs' own path (its docs: data-ingestion/opentelemetry)."""
    base = f"http://{placement.host('victorialogs')}:{settings.components.victorialogs.port}"
    return OTLPHTTPExporter(logs_endpoint=base + c.VICTORIALOGS_OTLP_PATH, encoding="proto", timeout=EXPORT_TIMEOUT,
                            sending_queue=QUEUE, retry_on_failure=RETRY)  # fmt: skip


def victorialogs_datasource(settings: StackSettings, placement: Placement, trace_uid: str) -> Datasource:
    trace_field = DerivedField(name="TraceID", matcherType="label", matcherRegex=TRACE_ID,
                                           datasourceUid=trace_uid, url="$${__value.raw}",
                                           urlDisplayLabel="View trace")  # fmt: skip
    return Datasource(name="VictoriaLogs", type=VICTORIALOGS_PLUGIN, uid=UIDS["victorialogs"],
                      url=url(settings, "victorialogs", placement),
                      jsonData=VictoriaLogsJsonData(derivedFields=(trace_field,)))  # fmt: skip


def logsql_errors() -> VictoriaLogsTarget:
    """The same records in LogsQL: an exact match on the service.name field and a regexp on severity_text (where
    VictoriaLogs 1.52 stores an OTLP record's severity: app/vlinsert/opentelemetry/pb.go)."""
    levels = "|".join(ERROR_LEVELS)
    return VictoriaLogsTarget(f'service.name:="$service" severity_text:~"(?i)^({levels})$"')


def victorialogs_to_logs() -> TracesToLogs:
    start, end = SPAN_SHIFT
    return TracesToLogs(datasourceUid=UIDS["victorialogs"], spanStartTimeShift=start, spanEndTimeShift=end,
                        tags=(), query=f'{TRACE_ID}:="$${{__trace.traceId}}"')  # fmt: skip


# --- Tempo ------------------------------------------------------------------------------------------------
def tempo_exporter(settings: StackSettings, placement: Placement) -> OTLPExporter:
    grpc, _ = placement.tempo_otlp_ports
    return OTLPExporter(endpoint=f"{placement.host('tempo')}:{grpc}", tls=TLSClient(insecure=True),
                        timeout=EXPORT_TIMEOUT, sending_queue=QUEUE, retry_on_failure=RETRY)  # fmt: skip


def trace_metric_queries(settings: StackSettings) -> tuple[LinkedQuery, ...]:
    """Queries opened from a span; `$$__tags` becomes `service="<service.name>"`. The metric names are those
    of the stack's services (their conventions', or their own for custom), any of which the span's service has."""
    window = "[$$__rate_interval]"
    names = [s.http_names for s in settings.services]
    requests = "|".join(sorted({n.requests for n in names}))
    buckets = "|".join(sorted({f"{n.duration}_bucket" for n in names}))
    return (
        LinkedQuery(name="Request rate", query=f'sum(rate({{__name__=~"{requests}",$$__tags}}{window}))'),
        LinkedQuery(
            name="p95 latency",
            query=f'histogram_quantile(0.95, sum by (le) (rate({{__name__=~"{buckets}",$$__tags}}{window})))',
        ),
    )


def to_metrics(settings: StackSettings) -> TracesToMetrics:
    start, end = SPAN_SHIFT
    return TracesToMetrics(datasourceUid=PROMETHEUS_UID, spanStartTimeShift=start, spanEndTimeShift=end,
                           tags=(TagMapping(key="service.name", value=c.SERVICE_LABEL),),
                           queries=trace_metric_queries(settings))  # fmt: skip


def tempo_datasource(settings: StackSettings, placement: Placement, to_logs: TracesToLogs) -> Datasource:
    data = TempoJsonData(tracesToLogsV2=to_logs, tracesToMetrics=to_metrics(settings),
                         serviceMap=DatasourceLink(datasourceUid=PROMETHEUS_UID))  # fmt: skip
    return Datasource(name="Tempo", type="tempo", uid=UIDS["tempo"], url=url(settings, "tempo", placement),
                      jsonData=data)  # fmt: skip


def traceql_slow(service: Service, slow: str) -> TempoTarget:
    return TempoTarget(f'{{ resource.service.name = "$service" && duration > {slow} }}')


# --- Jaeger -----------------------------------------------------------------------------------------------
def jaeger_exporter(settings: StackSettings, placement: Placement) -> OTLPExporter:
    """OTLP gRPC into Jaeger's own otlp receiver."""
    grpc, _ = placement.jaeger_otlp_ports
    return OTLPExporter(endpoint=f"{placement.host('jaeger')}:{grpc}", tls=TLSClient(insecure=True),
                        timeout=EXPORT_TIMEOUT, sending_queue=QUEUE, retry_on_failure=RETRY)  # fmt: skip


def jaeger_datasource(settings: StackSettings, placement: Placement, to_logs: TracesToLogs) -> Datasource:
    data = JaegerJsonData(tracesToLogsV2=to_logs, tracesToMetrics=to_metrics(settings))
    return Datasource(name="Jaeger", type="jaeger", uid=UIDS["jaeger"], url=url(settings, "jaeger", placement),
                      jsonData=data)  # fmt: skip


def jaeger_slow(service: Service, slow: str) -> JaegerTarget:
    return JaegerTarget(service="$service", min_duration=slow)


# --- the catalogue ----------------------------------------------------------------------------------------
def _config_flag(flag: str) -> Callable[[StackSettings, str], tuple[str, ...]]:
    return lambda settings, config: (f"{flag}={config}",)


def _victorialogs_command(settings: StackSettings, config: str) -> tuple[str, ...]:
    return c.victorialogs_flags(VICTORIALOGS_DATA, "", settings.components.victorialogs.port)


# The image (alpine, no USER) runs as root and has no directory another user owns; a new named volume takes
# the owner and mode of the image directory it covers, so the volume covers /tmp (root, 1777) and the store
# runs as nobody, keeping its data in a directory of its own there.
VICTORIALOGS_VOLUME = "/tmp"  # noqa: S108 - a container path, the volume's mount point
VICTORIALOGS_DATA = f"{VICTORIALOGS_VOLUME}/victoria-logs-data"
NOBODY = "65534:65534"

LOG_STORES: dict[str, LogStore] = {
    "loki": LogStore(
        name="loki", exporter_field="otlphttp_loki", exporter_key="otlphttp/loki", exporter=loki_exporter,
        datasource=loki_datasource, logs_target=loki_errors, language="logql", to_logs=loki_to_logs,
        service=StoreService(_config_flag("-config.file"), "/ready", lambda s: s.components.loki.port, "40s", "/loki"),
        config=(c.LOKI_CONFIG, build_loki),
    ),
    "victorialogs": LogStore(
        name="victorialogs", exporter_field="otlphttp_victorialogs", exporter_key="otlphttp/victorialogs",
        exporter=victorialogs_exporter, datasource=victorialogs_datasource, logs_target=logsql_errors,
        language="logsql", to_logs=victorialogs_to_logs,
        service=StoreService(_victorialogs_command, c.VICTORIALOGS_HEALTH_PATH,
                             lambda s: s.components.victorialogs.port, "10s", VICTORIALOGS_VOLUME, NOBODY),
    ),
}  # fmt: skip

TRACE_STORES: dict[str, TraceStore] = {
    "tempo": TraceStore(
        name="tempo", exporter_field="otlp_tempo", exporter_key="otlp/tempo", exporter=tempo_exporter,
        datasource=tempo_datasource, slow_traces_target=traceql_slow, language="traceql",
        exemplar_labels=(TRACE_ID, TEMPO_EXEMPLAR_LABEL), connectors=False,
        service=StoreService(_config_flag("-config.file"), "/ready", lambda s: s.components.tempo.port, "30s",
                             "/var/tempo", depends=("prometheus",)),
        config=(c.TEMPO_CONFIG, build_tempo),
    ),
    # Jaeger v2's image runs as 10001 (cmd/jaeger/Dockerfile) and keeps traces in memory: no data volume
    "jaeger": TraceStore(
        name="jaeger", exporter_field="otlp_jaeger", exporter_key="otlp/jaeger", exporter=jaeger_exporter,
        datasource=jaeger_datasource, slow_traces_target=jaeger_slow, language="jaeger-search",
        exemplar_labels=(TRACE_ID,), connectors=True,
        service=StoreService(_config_flag("--config"), c.JAEGER_HEALTH_PATH, lambda s: c.JAEGER_HEALTH_PORT, "10s",
                             None),
        config=(c.JAEGER_CONFIG, build_jaeger),
    ),
}  # fmt: skip


def log_store(settings: StackSettings) -> LogStore:
    return LOG_STORES[settings.backends.logs]


def trace_store(settings: StackSettings) -> TraceStore:
    return TRACE_STORES[settings.backends.traces]


def stores(settings: StackSettings) -> tuple[str, str]:
    """The components of the chosen stores, log store first."""
    return log_store(settings).name, trace_store(settings).name


def store_configs(settings: StackSettings) -> dict[str, ConfigBuilder]:
    """Config file (under output.compose_dir) -> its builder, for the chosen stores only (loki.yaml and
    tempo.yaml only when Loki and Tempo are chosen; VictoriaLogs has flags, no file)."""
    chosen = (log_store(settings), trace_store(settings))
    return dict(entry.config for entry in chosen if entry.config)
