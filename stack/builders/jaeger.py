"""settings -> Jaeger v2's config.yaml model: OTLP in (the collector sends traces over gRPC), batch, the
memory store, the query extension serving the UI and APIs on components.jaeger.port, health at /status and
its own metrics. In a container (compose, the Helm chart's userconfig) it keeps the image's ports; locally its
OTLP, health and metrics ports move off the collector's (Placement)."""

from __future__ import annotations

from stack import conventions as c
from stack.models.jaeger import (
    HealthCheckV2,
    JaegerConfig,
    JaegerExporters,
    JaegerExtensions,
    JaegerPipelines,
    JaegerProcessors,
    JaegerQuery,
    JaegerService,
    JaegerStorage,
    MemoryStore,
    QueryStorage,
    StorageExporter,
    TraceBackend,
)
from stack.models.otelcol import (
    Batch,
    MetricReader,
    Pipeline,
    PrometheusPullExporter,
    PullExporter,
    PullReader,
    Telemetry,
    TelemetryMetrics,
)
from stack.models.otlp import Endpoint, OTLPProtocols, OTLPReceiver, Receivers
from stack.settings import StackSettings

STORE = "memstore"
MAX_TRACES = 100_000
EXTENSIONS = ("jaeger_storage", "jaeger_query", "healthcheckv2")


def build_jaeger(settings: StackSettings, placement: c.Placement = c.IN_CONTAINERS) -> JaegerConfig:
    listen = placement.listen
    grpc, http = placement.jaeger_otlp_ports
    own_metrics = MetricReader(pull=PullReader(exporter=PullExporter(
        prometheus=PrometheusPullExporter(host=listen, port=placement.jaeger_metrics_port))))  # fmt: skip
    return JaegerConfig(
        service=JaegerService(
            extensions=EXTENSIONS,
            telemetry=Telemetry(metrics=TelemetryMetrics(readers=(own_metrics,))),
            pipelines=JaegerPipelines(
                traces=Pipeline(receivers=("otlp",), processors=("batch",), exporters=("jaeger_storage_exporter",))
            ),
        ),
        extensions=JaegerExtensions(
            jaeger_storage=JaegerStorage(backends={STORE: TraceBackend(memory=MemoryStore(max_traces=MAX_TRACES))}),
            jaeger_query=JaegerQuery(
                storage=QueryStorage(traces=STORE),
                http=Endpoint(endpoint=f"{listen}:{settings.components.jaeger.port}"),
                grpc=Endpoint(endpoint=f"{listen}:{c.JAEGER_GRPC_PORT}"),
            ),
            healthcheckv2=HealthCheckV2(http=Endpoint(endpoint=f"{listen}:{placement.jaeger_health_port}")),
        ),
        receivers=Receivers(
            otlp=OTLPReceiver(
                protocols=OTLPProtocols(
                    grpc=Endpoint(endpoint=f"{listen}:{grpc}"), http=Endpoint(endpoint=f"{listen}:{http}")
                )
            )
        ),
        processors=JaegerProcessors(batch=Batch()),
        exporters=JaegerExporters(jaeger_storage_exporter=StorageExporter(trace_storage=STORE)),
    )
