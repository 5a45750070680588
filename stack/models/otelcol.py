"""The OpenTelemetry collector-contrib (0.159) configuration, restricted to the components we use.

Pipelines name components by id; a validator checks that every id they name is configured.
"""

from typing import Annotated, Any, Literal, Self

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from stack.models import ConfigModel
from stack.models.otlp import OTLPReceiver


class MemoryLimiter(ConfigModel):
    check_interval: str
    limit_percentage: int = Field(gt=0, le=100)
    spike_limit_percentage: int = Field(gt=0, le=100)


class Batch(ConfigModel):
    send_batch_size: int | None = None
    timeout: str | None = None


class ResourceAction(ConfigModel):
    key: str
    value: str | None = None
    action: Literal["insert", "update", "upsert", "delete"]


class ResourceProcessor(ConfigModel):
    attributes: tuple[ResourceAction, ...]


class TransformGroup(ConfigModel):
    """One group of OTTL statements (transformprocessor's advanced form, v0.120+): run in `context` on the
    data for which every one of `conditions` holds."""

    context: Literal["resource", "scope", "metric", "datapoint"]
    conditions: tuple[str, ...] | None = None
    statements: tuple[str, ...] = Field(min_length=1)


class TransformProcessor(ConfigModel):
    """transformprocessor (contrib v0.159.0, config.go), the keys we set: metric statements only."""

    error_mode: Literal["ignore", "silent", "propagate"]
    metric_statements: tuple[TransformGroup, ...] = Field(min_length=1)


class Processors(ConfigModel):
    memory_limiter: MemoryLimiter
    resource: ResourceProcessor
    batch: Batch
    # the labels of metrics_source otlp services' pushed metrics (builders/otelcol.py): only when there are some
    transform_pushed: TransformProcessor | None = Field(None, alias="transform/pushed")


class TLSClient(ConfigModel):
    insecure: bool


class RetryOnFailure(ConfigModel):
    """configretry.BackOffConfig (config/configretry v1.38.0): a failed export is retried with backoff until
    max_elapsed_time, then dropped (counted in otelcol_exporter_send_failed_*)."""

    enabled: bool
    initial_interval: str
    max_interval: str
    max_elapsed_time: str


class SendingQueue(ConfigModel):
    """exporterhelper's in-memory queue (exporter v0.132.0 queuebatch.Config), sized in requests (batches).
    A full queue refuses new data (otelcol_exporter_enqueue_failed_*) rather than block the pipeline."""

    enabled: bool
    num_consumers: int = Field(gt=0)
    queue_size: int = Field(gt=0)
    sizer: Literal["requests", "items", "bytes"] = "requests"
    block_on_overflow: bool = False


class RemoteWriteQueue(ConfigModel):
    """prometheusremotewriteexporter's own queue (its config.go at v0.132.0)."""

    enabled: bool
    queue_size: int = Field(gt=0)
    num_consumers: int = Field(gt=0)


class OTLPExporter(ConfigModel):
    endpoint: str
    tls: TLSClient
    timeout: str
    sending_queue: SendingQueue
    retry_on_failure: RetryOnFailure


class OTLPHTTPExporter(ConfigModel):
    """otlphttpexporter: `endpoint` (the signal paths appended), or a signal's own URL (VictoriaLogs takes
    logs at /insert/opentelemetry/v1/logs, protobuf only, so `logs_endpoint` and `encoding: proto`)."""

    endpoint: str | None = None
    logs_endpoint: str | None = None
    encoding: Literal["proto", "json"] | None = None
    timeout: str
    sending_queue: SendingQueue
    retry_on_failure: RetryOnFailure


class ResourceToTelemetry(ConfigModel):
    enabled: bool


class RemoteWriteExporter(ConfigModel):
    endpoint: str
    timeout: str
    resource_to_telemetry_conversion: ResourceToTelemetry
    remote_write_queue: RemoteWriteQueue
    retry_on_failure: RetryOnFailure


class Exporters(ConfigModel):
    """One trace store's and one log store's exporter (backends), and remote write to Prometheus."""

    otlp_tempo: OTLPExporter | None = Field(None, alias="otlp/tempo")
    otlp_jaeger: OTLPExporter | None = Field(None, alias="otlp/jaeger")
    otlphttp_loki: OTLPHTTPExporter | None = Field(None, alias="otlphttp/loki")
    otlphttp_victorialogs: OTLPHTTPExporter | None = Field(None, alias="otlphttp/victorialogs")
    prometheusremotewrite: RemoteWriteExporter


class Exemplars(ConfigModel):
    enabled: bool
    max_per_data_point: int | None = Field(None, gt=0)


class ExplicitBuckets(ConfigModel):
    buckets: tuple[str, ...]


class SpanMetricsHistogram(ConfigModel):
    unit: Literal["ms", "s"]
    explicit: ExplicitBuckets


class SpanMetricsConnector(ConfigModel):
    """spanmetricsconnector (contrib v0.159.0..v0.165.0, config.go), the keys we set: calls and a latency histogram per
    service, span name, kind and status, exemplars carrying the trace id. `namespace` prefixes the metric
    names (traces.spanmetrics -> traces_spanmetrics_calls_total, the name Tempo's metrics generator uses)."""

    namespace: str
    histogram: SpanMetricsHistogram
    exemplars: Exemplars
    metrics_flush_interval: str
    metrics_expiration: str | None = None
    aggregation_temporality: Literal["AGGREGATION_TEMPORALITY_CUMULATIVE", "AGGREGATION_TEMPORALITY_DELTA"] = (
        "AGGREGATION_TEMPORALITY_CUMULATIVE"
    )


class ServiceGraphStore(ConfigModel):
    ttl: str
    max_items: int = Field(gt=0)


class ServiceGraphConnector(ConfigModel):
    """servicegraphconnector (contrib, config.go): pairs client and server spans into
    traces_service_graph_request_total{client, server} and its latency histograms."""

    latency_histogram_buckets: tuple[str, ...]
    store: ServiceGraphStore
    metrics_flush_interval: str


class Connectors(ConfigModel):
    """Span metrics and the service graph from the traces pipeline into the metrics pipeline: what Tempo's
    metrics generator does, for a trace store without one (Jaeger). The connectors' current type names
    (`spanmetrics` and `servicegraph` are their deprecated aliases, internal/metadata/generated_status.go)."""

    span_metrics: SpanMetricsConnector
    service_graph: ServiceGraphConnector


class HealthCheck(ConfigModel):
    endpoint: str


class FileStorage(ConfigModel):
    """filestorage extension (contrib v0.159.0 extension/storage/filestorage/config.go), the keys we set: where
    components keep their state (the filelog receivers' read offsets), created when missing."""

    directory: str
    create_directory: bool = True


class Extensions(ConfigModel):
    health_check: HealthCheck
    file_storage: FileStorage | None = None


class ParseFrom(ConfigModel):
    parse_from: str


class TimeParser(ConfigModel):
    """stanza's helper.TimeParser: the record's timestamp from a field."""

    parse_from: str
    layout_type: Literal["strptime", "gotime", "epoch"]
    layout: str


class SeverityParser(ConfigModel):
    """stanza's helper.SeverityConfig: severity number and text from a field; `mapping` adds level names the
    default mapping lacks (severity -> the value or values that mean it)."""

    parse_from: str
    mapping: dict[str, str | tuple[str, ...]] | None = None


class TraceParser(ConfigModel):
    """stanza's helper.TraceParser: the record's trace context from hex fields."""

    trace_id: ParseFrom
    span_id: ParseFrom


class JsonParser(ConfigModel):
    """stanza's json_parser operator (helper.ParserConfig): the line parsed into attributes, then its timestamp,
    severity and trace context taken from fields; a line that is not JSON is sent as it is (`send_quiet`)."""

    type: Literal["json_parser"] = "json_parser"
    on_error: Literal["send", "send_quiet", "drop", "drop_quiet"]
    timestamp: TimeParser
    severity: SeverityParser
    trace: TraceParser


class MoveOperator(ConfigModel):
    """stanza's move operator: a field to another (an attribute to the body), when `if` holds."""

    type: Literal["move"] = "move"
    from_: str = Field(alias="from")
    to: str
    if_: str | None = Field(None, alias="if")


class RemoveOperator(ConfigModel):
    """stanza's remove operator: a field dropped, when `if` holds (a missing field would be an error)."""

    type: Literal["remove"] = "remove"
    field: str
    if_: str | None = Field(None, alias="if")


Operator = Annotated[JsonParser | MoveOperator | RemoveOperator, Field(discriminator="type")]


class FileLogReceiver(ConfigModel):
    """filelogreceiver (contrib v0.159.0: fileconsumer.Config squashed with adapter.BaseConfig), the keys we set:
    the files, where a new file is read from, the storage extension keeping the read offsets (a restart neither
    loses nor repeats a line), the resource of its records and the operators that parse each line."""

    include: tuple[str, ...] = Field(min_length=1)
    start_at: Literal["beginning", "end"]
    include_file_name: bool = False
    storage: str
    resource: dict[str, str]
    operators: tuple[Operator, ...]


class Receivers(ConfigModel):
    """OTLP, and a filelog receiver per service whose log file the collector reads, written `filelog/<service>`."""

    otlp: OTLPReceiver
    filelog: dict[str, FileLogReceiver] = Field(default_factory=dict)  # service -> its receiver

    @model_validator(mode="before")
    @classmethod
    def _fold(cls, data: Any) -> Any:
        """`filelog/<service>` keys (a config read back) into `filelog`."""
        if not isinstance(data, dict):
            return data
        files = {k.removeprefix("filelog/"): v for k, v in data.items() if k.startswith("filelog/")}
        rest = {k: v for k, v in data.items() if not k.startswith("filelog/")}
        return rest | ({"filelog": files} if files else {})

    @model_serializer(mode="wrap")
    def _flat(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        files = data.pop("filelog", None) or {}
        return data | {f"filelog/{name}": receiver for name, receiver in files.items()}


class Pipeline(ConfigModel):
    receivers: tuple[str, ...]
    processors: tuple[str, ...]
    exporters: tuple[str, ...]


class Pipelines(ConfigModel):
    traces: Pipeline
    metrics: Pipeline
    logs: Pipeline


class PrometheusPullExporter(ConfigModel):
    host: str
    port: int


class PullExporter(ConfigModel):
    prometheus: PrometheusPullExporter


class PullReader(ConfigModel):
    exporter: PullExporter


class MetricReader(ConfigModel):
    pull: PullReader


class TelemetryMetrics(ConfigModel):
    level: Literal["none", "basic", "normal", "detailed"] = "normal"
    readers: tuple[MetricReader, ...]


class Telemetry(ConfigModel):
    metrics: TelemetryMetrics


class ServiceConfig(ConfigModel):
    extensions: tuple[str, ...]
    telemetry: Telemetry
    pipelines: Pipelines


class OtelcolConfig(ConfigModel):
    extensions: Extensions
    receivers: Receivers
    processors: Processors
    exporters: Exporters
    connectors: Connectors | None = None
    service: ServiceConfig

    @model_validator(mode="after")
    def _known_ids(self) -> Self:
        connectors = set(self.connectors.to_data()) if self.connectors else set()  # both ends of a pipeline
        known = {
            "receivers": set(self.receivers.to_data()) | connectors,
            "processors": set(self.processors.to_data()),
            "exporters": set(self.exporters.to_data()) | connectors,
        }
        unknown = [f"service.extensions: {e}" for e in self.service.extensions if e not in self.extensions.to_data()]
        for name, pipeline in self.service.pipelines:
            for kind, ids in known.items():
                unknown += [f"pipelines.{name}.{kind}: {i}" for i in getattr(pipeline, kind) if i not in ids]
        if unknown:
            raise ValueError(f"components used but not configured: {', '.join(unknown)}")
        return self
