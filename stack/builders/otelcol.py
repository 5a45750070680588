"""settings -> the collector's config.yaml model.

OTLP in (gRPC and HTTP); memory limiter first, then resource attributes, then batch; traces and logs to
the stores `backends` chooses (each store's exporter is its entry of stack.builders.backends: Tempo or
Jaeger over OTLP gRPC, Loki's OTLP endpoint or VictoriaLogs' OTLP/protobuf one), metrics to Prometheus by
remote write 1.0 (Prometheus' --web.enable-remote-write-receiver). A trace store without
Tempo's metrics generator gets span metrics and the service graph from the collector's connectors, from
the traces pipeline into the metrics pipeline. The collector's own metrics are served on the otelcol port.

Services with `metrics_source: otlp` push their metrics here instead of being scraped. They reach Prometheus
by the same remote write (resource attributes become labels), and the transform processor gives them, in the
metrics pipeline only, what a scrape job's static labels give a scraped service: `service` (their
service.name) and their stack.yaml `labels`, matched by service.name, so the same rules and dashboards read
them. Why remote write from the collector rather than Prometheus' own OTLP receiver: it is the one path
already used for span metrics and works unchanged for every Prometheus-compatible store (Mimir's push API
included), and the labelling happens in one place we generate and validate (`otelcol validate`), instead of
in Prometheus' `otlp:` settings (promote_resource_attributes cannot set `service` from service.name nor add
per-service labels). Only the declared otlp services are labelled: a scraped service that also pushes would
otherwise be counted twice.
"""

from __future__ import annotations

import posixpath

from stack import conventions as c
from stack.builders.backends import EXPORT_TIMEOUT, QUEUE, RETRY, log_store, trace_store
from stack.builders.promql import quote
from stack.builders.tempo import remote_write_url
from stack.models.otelcol import (
    Batch,
    Connectors,
    Exemplars,
    ExplicitBuckets,
    Exporters,
    Extensions,
    FileLogReceiver,
    FileStorage,
    HealthCheck,
    JsonParser,
    MemoryLimiter,
    MetricReader,
    MoveOperator,
    Operator,
    OtelcolConfig,
    ParseFrom,
    Pipeline,
    Pipelines,
    Processors,
    PrometheusPullExporter,
    PullExporter,
    PullReader,
    Receivers,
    RemoteWriteExporter,
    RemoteWriteQueue,
    RemoveOperator,
    ResourceAction,
    ResourceProcessor,
    ResourceToTelemetry,
    ServiceConfig,
    ServiceGraphConnector,
    ServiceGraphStore,
    SeverityParser,
    SpanMetricsConnector,
    SpanMetricsHistogram,
    Telemetry,
    TelemetryMetrics,
    TimeParser,
    TraceParser,
    TransformGroup,
    TransformProcessor,
)
from stack.models.otlp import Endpoint, OTLPProtocols, OTLPReceiver
from stack.settings import Service, StackSettings

PROCESSORS = ("memory_limiter", "resource", "batch")
PUSHED = "transform/pushed"  # the processor that labels the pushed metrics of metrics_source otlp services
# RETRY and QUEUE (stack.builders.backends) hold data while a store is down; the app never waits on any of it:
# its exports are asynchronous too.
CONNECTORS = ("span_metrics", "service_graph")
# span_metrics' namespace gives the metric names Tempo's metrics generator writes (traces_spanmetrics_*), so
# the same queries read either; its latency buckets are the app's (seconds), its exemplars carry trace_id
SPAN_METRICS_NAMESPACE = "traces.spanmetrics"


def build_otelcol(settings: StackSettings, placement: c.Placement = c.IN_CONTAINERS) -> OtelcolConfig:
    listen, files = placement.listen, log_files(settings, placement)
    storage = FileStorage(directory=placement.data("otelcol", "")) if files else None
    return OtelcolConfig(
        extensions=Extensions(health_check=HealthCheck(endpoint=f"{listen}:{c.OTELCOL_HEALTH_PORT}"),
                              file_storage=storage),
        receivers=Receivers(
            otlp=OTLPReceiver(
                protocols=OTLPProtocols(
                    grpc=Endpoint(endpoint=f"{listen}:{c.OTLP_GRPC_PORT}"),
                    http=Endpoint(endpoint=f"{listen}:{c.OTLP_HTTP_PORT}"),
                )
            ),
            filelog={name: filelog(name, path) for name, path in files.items()},
        ),
        processors=Processors(
            memory_limiter=MemoryLimiter(check_interval="1s", limit_percentage=80, spike_limit_percentage=25),
            resource=ResourceProcessor(
                attributes=(ResourceAction(key="service.namespace", value=settings.project, action="insert"),)
            ),
            batch=Batch(send_batch_size=8192, timeout="1s"),
            transform_pushed=pushed_labels(settings),
        ),
        exporters=_exporters(settings, placement),
        connectors=connectors(settings),
        service=ServiceConfig(
            extensions=("health_check", *(("file_storage",) if storage else ())),
            telemetry=Telemetry(metrics=TelemetryMetrics(readers=(_own_metrics(settings, listen),))),
            pipelines=_pipelines(settings, tuple(files)),
        ),
    )


def _pipelines(settings: StackSettings, by_file: tuple[str, ...]) -> Pipelines:
    traces, logs = trace_store(settings), log_store(settings)
    log_receivers = ("otlp", *(f"filelog/{name}" for name in by_file))
    connected = CONNECTORS if traces.connectors else ()
    metrics = (*PROCESSORS[:-1], PUSHED, PROCESSORS[-1]) if pushing(settings) else PROCESSORS
    return Pipelines(
        traces=Pipeline(receivers=("otlp",), processors=PROCESSORS, exporters=(traces.exporter_key, *connected)),
        metrics=Pipeline(receivers=("otlp", *connected), processors=metrics, exporters=("prometheusremotewrite",)),
        logs=Pipeline(receivers=log_receivers, processors=PROCESSORS, exporters=(logs.exporter_key,)),
    )


def log_files(settings: StackSettings, placement: c.Placement) -> dict[str, str]:
    """service -> the log file the collector reads (Service.logs_by_file), an absolute path."""
    return {
        s.name: posixpath.join(placement.project_root, s.log_file) if s.log_file else placement.log_file(s.name)
        for s in settings.services
        if s.logs_by_file(placement.local)
    }


# the JSON line obsstack_fastapi writes: `event` is the message, `level` the severity, `timestamp` ISO-8601 UTC with
# milliseconds; `trace_id`/`span_id` (hex) become the record's trace context. What remains are its attributes, as
# the library's OTLP bridge sends them. A line that is not JSON (a traceback on stderr) is sent as it is.
LOG_TIME_LAYOUT = "2006-01-02T15:04:05.000Z07:00"  # Go's layout; Z07:00 reads the trailing Z as UTC
LOG_LEVELS = {"warn": ("warning",), "error": ("exception",), "fatal": ("critical",)}  # beyond stanza's defaults
MOVED_FIELDS = ("level", "timestamp", "trace_id", "span_id")


def filelog(service: str, path: str) -> FileLogReceiver:
    """The receiver of one service's log file: read from its end when first seen (earlier runs' lines are not
    sent again), then from the offsets the file_storage extension keeps across collector restarts."""
    parse: list[Operator] = [
        JsonParser(
            on_error="send_quiet",
            timestamp=TimeParser(parse_from="attributes.timestamp", layout_type="gotime", layout=LOG_TIME_LAYOUT),
            severity=SeverityParser(parse_from="attributes.level", mapping=LOG_LEVELS),
            trace=TraceParser(trace_id=ParseFrom(parse_from="attributes.trace_id"),
                              span_id=ParseFrom(parse_from="attributes.span_id")),
        ),
        MoveOperator.model_validate({"from": "attributes.event", "to": "body", "if": "attributes.event != nil"}),
    ]
    parse += [RemoveOperator.model_validate({"field": f"attributes.{key}", "if": f"attributes.{key} != nil"})
              for key in MOVED_FIELDS]  # fmt: skip
    return FileLogReceiver(include=(path,), start_at="end", storage="file_storage",
                           resource={"service.name": service}, operators=tuple(parse))  # fmt: skip


def pushing(settings: StackSettings) -> tuple[Service, ...]:
    """The services that push their metrics by OTLP (metrics_source otlp)."""
    return tuple(s for s in settings.services if not s.scraped)


def pushed_labels(settings: StackSettings) -> TransformProcessor | None:
    """Per otlp service, on the resource whose service.name is its name: `service` and its stack.yaml labels (the
    remote write exporter turns resource attributes into labels); None when no service pushes."""
    groups = tuple(
        TransformGroup(
            context="resource",
            conditions=(f'attributes["service.name"] == {quote(service.name)}',),
            statements=tuple(
                f"set(attributes[{quote(key)}], {quote(value)})"
                for key, value in {c.SERVICE_LABEL: service.name, **dict(sorted(service.labels.items()))}.items()
            ),
        )
        for service in pushing(settings)
    )
    return TransformProcessor(error_mode="ignore", metric_statements=groups) if groups else None


def connectors(settings: StackSettings) -> Connectors | None:
    """Span metrics (calls, latency histogram with exemplars) and the service graph, for a trace store
    without Tempo's metrics generator."""
    if not trace_store(settings).connectors:
        return None
    flush = str(settings.timing.scrape_interval)
    buckets = tuple(f"{round(edge * 1000)}ms" for edge in settings.metrics.latency_buckets)
    return Connectors(
        span_metrics=SpanMetricsConnector(
            namespace=SPAN_METRICS_NAMESPACE,
            histogram=SpanMetricsHistogram(unit="s", explicit=ExplicitBuckets(buckets=buckets)),
            exemplars=Exemplars(enabled=True),
            metrics_flush_interval=flush,
        ),
        service_graph=ServiceGraphConnector(
            latency_histogram_buckets=buckets,
            store=ServiceGraphStore(ttl="10s", max_items=1000),
            metrics_flush_interval=flush,
        ),
    )


def _exporters(settings: StackSettings, placement: c.Placement) -> Exporters:
    traces, logs = trace_store(settings), log_store(settings)
    stores = {
        traces.exporter_field: traces.exporter(settings, placement),
        logs.exporter_field: logs.exporter(settings, placement),
    }
    return Exporters(
        **stores,
        prometheusremotewrite=RemoteWriteExporter(
            endpoint=remote_write_url(settings, placement),
            timeout=EXPORT_TIMEOUT,
            resource_to_telemetry_conversion=ResourceToTelemetry(enabled=True),
            remote_write_queue=RemoteWriteQueue(enabled=True, queue_size=QUEUE.queue_size, num_consumers=5),
            retry_on_failure=RETRY,
        ),
    )


def _own_metrics(settings: StackSettings, listen: str) -> MetricReader:
    exporter = PrometheusPullExporter(host=listen, port=settings.components.otelcol.port)
    return MetricReader(pull=PullReader(exporter=PullExporter(prometheus=exporter)))
