"""settings -> the collector's config.yaml model.

OTLP in (gRPC and HTTP); memory limiter first, then resource attributes, then batch; traces to Tempo
over OTLP gRPC, logs to Loki's OTLP endpoint, metrics to Prometheus by remote write 1.0 (accepted by
Prometheus 2.42 and 3 alike with --web.enable-remote-write-receiver; the OTLP receiver of Prometheus
would need a version-specific flag). The collector's own metrics are served on the otelcol port.
"""

from __future__ import annotations

from stack import conventions as c
from stack.builders.tempo import remote_write_url
from stack.models.otelcol import (
    Batch,
    Exporters,
    Extensions,
    HealthCheck,
    MemoryLimiter,
    MetricReader,
    OtelcolConfig,
    OTLPExporter,
    OTLPHTTPExporter,
    Pipeline,
    Pipelines,
    Processors,
    PrometheusPullExporter,
    PullExporter,
    PullReader,
    RemoteWriteExporter,
    RemoteWriteQueue,
    ResourceAction,
    ResourceProcessor,
    ResourceToTelemetry,
    RetryOnFailure,
    SendingQueue,
    ServiceConfig,
    Telemetry,
    TelemetryMetrics,
    TLSClient,
)
from stack.models.otlp import Endpoint, OTLPProtocols, OTLPReceiver, Receivers
from stack.settings import StackSettings

PROCESSORS = ("memory_limiter", "resource", "batch")
# While a backend is down the collector keeps data in a bounded in-memory queue and retries with backoff;
# data still undelivered after RETRY.max_elapsed_time, or refused by a full queue, is dropped and counted
# in the collector's own metrics (otelcol_exporter_send_failed_*, otelcol_exporter_enqueue_failed_*).
# The app never waits on any of it: its exports are asynchronous too.
RETRY = RetryOnFailure(enabled=True, initial_interval="1s", max_interval="15s", max_elapsed_time="5m")
QUEUE = SendingQueue(enabled=True, num_consumers=4, queue_size=1000)
EXPORT_TIMEOUT = "10s"


def build_otelcol(settings: StackSettings, placement: c.Placement = c.IN_CONTAINERS) -> OtelcolConfig:
    listen = placement.listen
    return OtelcolConfig(
        extensions=Extensions(health_check=HealthCheck(endpoint=f"{listen}:{c.OTELCOL_HEALTH_PORT}")),
        receivers=Receivers(
            otlp=OTLPReceiver(
                protocols=OTLPProtocols(
                    grpc=Endpoint(endpoint=f"{listen}:{c.OTLP_GRPC_PORT}"),
                    http=Endpoint(endpoint=f"{listen}:{c.OTLP_HTTP_PORT}"),
                )
            )
        ),
        processors=Processors(
            memory_limiter=MemoryLimiter(check_interval="1s", limit_percentage=80, spike_limit_percentage=25),
            resource=ResourceProcessor(
                attributes=(ResourceAction(key="service.namespace", value=settings.project, action="insert"),)
            ),
            batch=Batch(send_batch_size=8192, timeout="1s"),
        ),
        exporters=_exporters(settings, placement),
        service=ServiceConfig(
            extensions=("health_check",),
            telemetry=Telemetry(metrics=TelemetryMetrics(readers=(_own_metrics(settings, listen),))),
            pipelines=Pipelines(
                traces=Pipeline(receivers=("otlp",), processors=PROCESSORS, exporters=("otlp/tempo",)),
                metrics=Pipeline(receivers=("otlp",), processors=PROCESSORS, exporters=("prometheusremotewrite",)),
                logs=Pipeline(receivers=("otlp",), processors=PROCESSORS, exporters=("otlphttp/loki",)),
            ),
        ),
    )


def _exporters(settings: StackSettings, placement: c.Placement) -> Exporters:
    tempo_grpc, _ = placement.tempo_otlp_ports
    loki = f"http://{placement.host('loki')}:{settings.components.loki.port}/otlp"
    return Exporters(
        otlp_tempo=OTLPExporter(
            endpoint=f"{placement.host('tempo')}:{tempo_grpc}", tls=TLSClient(insecure=True),
            timeout=EXPORT_TIMEOUT, sending_queue=QUEUE, retry_on_failure=RETRY,
        ),
        otlphttp_loki=OTLPHTTPExporter(
            endpoint=loki, timeout=EXPORT_TIMEOUT, sending_queue=QUEUE, retry_on_failure=RETRY
        ),
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
