"""OpenTelemetry: tracer and logger providers, OTLP exporters in background batches, the log bridge."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, SpanContext
from structlog.typing import EventDict, WrappedLogger

from .settings import ObsSettings
from .spans import ServerSpans

_SEVERITY = {
    "debug": SeverityNumber.DEBUG,
    "info": SeverityNumber.INFO,
    "warning": SeverityNumber.WARN,
    "error": SeverityNumber.ERROR,
    "critical": SeverityNumber.FATAL,
    "exception": SeverityNumber.ERROR,
}
# trace_id/span_id travel as the record's own trace context, not as attributes
_SKIP_ATTRS = frozenset({"event", "level", "timestamp", "trace_id", "span_id", "_record", "_from_structlog"})


@dataclass(frozen=True)
class Telemetry:
    """The providers the app uses; `shutdown` flushes with the short export timeout."""

    tracer_provider: TracerProvider
    logger_provider: LoggerProvider | None
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
        if self.logger_provider is not None:
            self.logger_provider.shutdown()


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


def _otlp_exporters(settings: ObsSettings) -> tuple[SpanExporter, LogRecordExporter]:
    endpoint = (settings.otlp_endpoint or "").rstrip("/")
    timeout = settings.otlp_timeout_seconds
    if settings.resolved_otlp_protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogs
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans

        insecure = endpoint.startswith("http://")
        return (
            GrpcSpans(endpoint=endpoint, insecure=insecure, timeout=timeout),
            GrpcLogs(endpoint=endpoint, insecure=insecure, timeout=timeout),
        )
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogs
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans

    return (
        HttpSpans(endpoint=f"{endpoint}/v1/traces", timeout=timeout),
        HttpLogs(endpoint=f"{endpoint}/v1/logs", timeout=timeout),
    )


def setup_telemetry(  # the two pillars this covers, and their injectable exporters
    settings: ObsSettings,
    span_exporter: SpanExporter | None = None,
    log_exporter: LogRecordExporter | None = None,
    *,
    traces: bool = True,
    logs: bool = True,
) -> Telemetry:
    """Providers with a parent-based ratio sampler (never sampling with ``traces=False``); exporters only
    when an endpoint (or one) is given. Exports run in background batches, never on the request path."""
    resource = build_resource(settings)
    sampler = ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)) if traces else ALWAYS_OFF
    tracer_provider = TracerProvider(resource=resource, sampler=sampler)
    if settings.otlp_endpoint and span_exporter is None and log_exporter is None:
        span_exporter, log_exporter = _otlp_exporters(settings)
    if not traces:
        span_exporter = None
    if not (logs and settings.otlp_logs):
        log_exporter = None
    timeout_ms = int(settings.otlp_timeout_seconds * 1000)
    processors: list[SpanProcessor] = []
    if span_exporter is not None:
        processors.append(BatchSpanProcessor(span_exporter, max_queue_size=4096, export_timeout_millis=timeout_ms))
        tracer_provider.add_span_processor(processors[0])
    logger_provider = None
    if log_exporter is not None:
        logger_provider = LoggerProvider(resource=resource)
        logger_provider.add_log_record_processor(
            BatchLogRecordProcessor(log_exporter, max_queue_size=4096, export_timeout_millis=timeout_ms)
        )
    ratio = settings.trace_sample_ratio if traces else None
    return Telemetry(tracer_provider, logger_provider, processors, sample_ratio=ratio)


def _attr(value: Any) -> Any:
    if isinstance(value, str | bool | int | float):
        return value
    return str(value)


class OtelLogBridge:
    """structlog processor: hand the (already redacted) event to OpenTelemetry logs, pass it on.

    The request path only appends a tuple to a bounded deque; a daemon thread turns the tuples into
    OTLP log records every ``interval`` seconds (and at `flush`). When the deque is full the oldest
    records are dropped, so a stuck collector can never grow memory or slow a request.
    """

    def __init__(self, provider: LoggerProvider, name: str, interval: float = 0.2, limit: int = 8192) -> None:
        self._logger = provider.get_logger(name)
        self._pending: deque[tuple[int, str, EventDict, SpanContext]] = deque(maxlen=limit)
        self._wake = threading.Event()
        self._closed = False
        self._interval = interval
        self._thread = threading.Thread(target=self._run, name="obs-log-bridge", daemon=True)
        self._thread.start()

    def __call__(self, _: WrappedLogger, method: str, event: EventDict) -> EventDict:
        if str(event.get("logger", "")).startswith("opentelemetry"):
            return event  # the exporters' own complaints would feed back into the exporters
        span_context = trace.get_current_span().get_span_context()
        # a copy, since renderers may pop keys; it becomes an OTLP record off the request path
        self._pending.append((time.time_ns(), method, dict(event), span_context))
        return event

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self._interval)
            self._wake.clear()
            self.drain()

    def close(self) -> None:
        """Emit what is pending and stop the thread."""
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=2)
        self.drain()

    def drain(self) -> None:
        """Emit everything pending (called by the thread, and by `flush` before shutdown)."""
        while self._pending:
            stamp, method, event, span_context = self._pending.popleft()
            level = str(event.get("level", method))
            body = event.get("event", "")
            attributes = {k: v for k, v in event.items() if k not in _SKIP_ATTRS and v is not None}
            ctx = None
            if span_context is not None and span_context.is_valid:
                ctx = trace.set_span_in_context(NonRecordingSpan(span_context))
            self._logger.emit(
                timestamp=stamp, context=ctx, body=str(body), severity_text=level.upper(),
                severity_number=_SEVERITY.get(level, SeverityNumber.INFO),
                attributes={k: _attr(v) for k, v in attributes.items()},
            )  # fmt: skip


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
