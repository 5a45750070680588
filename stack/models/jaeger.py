"""Jaeger v2's configuration file (jaegertracing/jaeger v1.75.0 = Jaeger 2.12.0, cmd/jaeger/config.yaml):
Jaeger v2 is an OpenTelemetry collector distribution, so the layout is the collector's, with Jaeger's own
extensions: jaeger_storage (the trace stores), jaeger_query (UI and query APIs) and the
jaeger_storage_exporter that writes the traces pipeline into a store. Restricted to the keys we set.
"""

from pydantic import Field

from stack.models import ConfigModel
from stack.models.otelcol import Batch, Pipeline, Telemetry
from stack.models.otlp import Endpoint, Receivers


class MemoryStore(ConfigModel):
    """internal/storage/v1/memory Configuration: traces kept in memory, the oldest dropped past max_traces."""

    max_traces: int = Field(gt=0)


class TraceBackend(ConfigModel):
    memory: MemoryStore


class JaegerStorage(ConfigModel):
    backends: dict[str, TraceBackend]


class QueryStorage(ConfigModel):
    traces: str


class JaegerQuery(ConfigModel):
    """extension/jaegerquery Config: the store it reads and its HTTP (UI, /api) and gRPC servers."""

    storage: QueryStorage
    http: Endpoint
    grpc: Endpoint


class HealthCheckV2(ConfigModel):
    """healthcheckv2extension with its v2 HTTP server (status at /status)."""

    use_v2: bool = True
    http: Endpoint


class JaegerExtensions(ConfigModel):
    jaeger_storage: JaegerStorage
    jaeger_query: JaegerQuery
    healthcheckv2: HealthCheckV2


class JaegerProcessors(ConfigModel):
    batch: Batch


class StorageExporter(ConfigModel):
    trace_storage: str


class JaegerExporters(ConfigModel):
    jaeger_storage_exporter: StorageExporter


class JaegerPipelines(ConfigModel):
    traces: Pipeline


class JaegerService(ConfigModel):
    extensions: tuple[str, ...]
    telemetry: Telemetry
    pipelines: JaegerPipelines


class JaegerConfig(ConfigModel):
    service: JaegerService
    extensions: JaegerExtensions
    receivers: Receivers
    processors: JaegerProcessors
    exporters: JaegerExporters
