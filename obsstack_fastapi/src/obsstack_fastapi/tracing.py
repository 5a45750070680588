"""OpenTelemetry: the tracer provider, OTLP exporters in background batches, SQL and httpx spans."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, TraceIdRatioBased

from .batching import QueuedSpanProcessor
from .otlp_logs import OtelLogBridge
from .settings import ObsSettings
from .spans import ServerSpans, readable_server_span


@dataclass(frozen=True)
class Telemetry:
    """The providers the app uses; `shutdown` flushes with the short export timeout."""

    tracer_provider: TracerProvider
    log_exporter: LogRecordExporter | None
    span_processors: list[SpanProcessor] = field(default_factory=list)
    bridges: list[OtelLogBridge] = field(default_factory=list)
    sample_ratio: float | None = None  # the ratio of our ParentBased(TraceIdRatioBased) sampler

    def server_spans(self) -> ServerSpans:
        """The middleware's span factory over this provider and its processors."""
        return ServerSpans(self.tracer_provider, self.span_processors, self.sample_ratio)

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        for bridge in self.bridges:
            bridge.close()


def build_resource(settings: ObsSettings) -> Resource:
    """service.name / service.version / deployment.environment."""
    return Resource.create(
        {
            "service.name": settings.service,
            "service.version": settings.service_version,
            "deployment.environment": settings.environment,
            "deployment.environment.name": settings.environment,
        }
    )


def _otlp_span_exporter(settings: ObsSettings) -> SpanExporter:
    endpoint, timeout = (settings.otlp_endpoint or "").rstrip("/"), settings.otlp_timeout_seconds
    if settings.resolved_otlp_protocol == "grpc":
        from .otlp_spans import grpc_span_exporter  # the SDK's exporter, with the cheaper encoder

        return grpc_span_exporter(endpoint=endpoint, insecure=endpoint.startswith("http://"), timeout=timeout)
    from .otlp_spans import http_span_exporter  # the SDK's exporter, with the cheaper encoder

    return http_span_exporter(endpoint=f"{endpoint}/v1/traces", timeout=timeout)


def _otlp_log_exporter(settings: ObsSettings) -> LogRecordExporter:
    endpoint, timeout = (settings.otlp_endpoint or "").rstrip("/"), settings.otlp_timeout_seconds
    if settings.resolved_otlp_protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogs

        return GrpcLogs(endpoint=endpoint, insecure=endpoint.startswith("http://"), timeout=timeout)
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogs

    return HttpLogs(endpoint=f"{endpoint}/v1/logs", timeout=timeout)


def setup_telemetry(  # the two pillars this covers, and their injectable exporters
    settings: ObsSettings,
    span_exporter: SpanExporter | None = None,
    log_exporter: LogRecordExporter | None = None,
    *,
    traces: bool = True,
    logs: bool = True,
) -> Telemetry:
    """Providers with a parent-based ratio sampler (never sampling with ``traces=False``); exporters only
    when an endpoint (or one) is given: spans, and log records with ``otlp_logs`` (an injected log exporter
    is used as given). Exports run in background batches, never on the request path."""
    resource = build_resource(settings)
    sampler = ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)) if traces else ALWAYS_OFF
    tracer_provider = TracerProvider(resource=resource, sampler=sampler)
    injected = span_exporter is not None or log_exporter is not None
    if settings.otlp_endpoint and not injected:
        span_exporter = _otlp_span_exporter(settings) if traces else None
        log_exporter = _otlp_log_exporter(settings) if logs and settings.otlp_logs else None
    if not traces:
        span_exporter = None
    if not logs:
        log_exporter = None
    processors: list[SpanProcessor] = []
    if span_exporter is not None:
        processors.append(QueuedSpanProcessor(span_exporter, partial(readable_server_span, resource), resource))
        tracer_provider.add_span_processor(processors[0])
    ratio = settings.trace_sample_ratio if traces else None
    return Telemetry(tracer_provider, log_exporter, processors, sample_ratio=ratio)


def instrument_engine(engine: Any, tracer_provider: TracerProvider) -> None:
    """Trace every SQL statement of a (sync or async) SQLAlchemy engine.

    Uses the instrumentation's per-engine tracer directly: the instrumentor itself is a process-wide
    singleton that patches ``create_engine`` and refuses SQLAlchemy 2.1 in its version check.
    """
    from opentelemetry.instrumentation.sqlalchemy import __version__  # type: ignore[attr-defined]
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import NoOpMeter

    tracer = tracer_provider.get_tracer("opentelemetry.instrumentation.sqlalchemy", __version__)
    usage = NoOpMeter("sqlalchemy").create_up_down_counter("db.client.connections.usage")
    EngineTracer(tracer, getattr(engine, "sync_engine", engine), usage)  # type: ignore[no-untyped-call]


def instrument_client(client: Any, tracer_provider: TracerProvider) -> None:
    """Trace (and propagate context on) every request of an httpx client."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=tracer_provider)
