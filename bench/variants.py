"""The four apps the overhead benchmark compares; each is built in its own process.

Sentry and OpenTelemetry install process-wide state (Sentry's default integrations patch Starlette
for every app in the process), so every variant lives in a separate child process.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from fastapi import FastAPI
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from prometheus_client import CollectorRegistry

CLOSED_DSN = "http://public@127.0.0.1:9/1"  # port 9 (discard) is closed here: events fail fast


class EncodingNullSpanExporter(SpanExporter):
    """Pays the OTLP protobuf encoding a real export costs, then drops the bytes (no network)."""

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        encode_spans(spans).SerializeToString()
        return SpanExportResult.SUCCESS


class OursEncodingNullSpanExporter(SpanExporter):
    """What obsstack_fastapi's OTLP/gRPC span exporter pays per batch: its encoder builds the request, gRPC
    serializes it; then the bytes are dropped (no network)."""

    def __init__(self) -> None:
        from obsstack_fastapi.otlp_spans import SpanEncoder

        self._encoder = SpanEncoder()

    def server_spans(self, resource: Any) -> bool:
        """As the library's exporter: the middleware's server spans arrive as queued, encoded directly."""
        return self._encoder.server_spans(resource)

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        self._encoder.request(spans).SerializeToString()
        return SpanExportResult.SUCCESS


class EncodingNullLogExporter(LogRecordExporter):
    """Same for log records."""

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        encode_logs(batch).SerializeToString()
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class DropSpanExporter(SpanExporter):
    """Discards spans without encoding them (like Sentry's null transport): the in-request cost only."""

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class DropLogExporter(EncodingNullLogExporter):
    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        return LogRecordExportResult.SUCCESS


EXPORT_MODES = ("drop", "encode")


def exporters(mode: str) -> tuple[SpanExporter, LogRecordExporter]:
    """``encode``: pay OTLP protobuf encoding in the background thread, as a real export does."""
    if mode == "encode":
        return EncodingNullSpanExporter(), EncodingNullLogExporter()
    return DropSpanExporter(), DropLogExporter()


def _routes(app: FastAPI) -> FastAPI:
    @app.get("/orders/{order_id}")
    async def get_order(order_id: int) -> dict[str, Any]:
        return {"id": order_id, "sku": "A-1", "quantity": 2}

    return app


def bare(_: TextIO, __: str) -> FastAPI:
    return _routes(FastAPI())


def instrumentator(_: TextIO, __: str) -> FastAPI:
    from prometheus_fastapi_instrumentator import Instrumentator

    app = _routes(FastAPI())
    Instrumentator(registry=CollectorRegistry()).instrument(app).expose(app)
    return app


def textbook(sink: TextIO, export: str) -> FastAPI:
    """The usual blog recipe, faithfully: each tool with its documented defaults."""
    import sentry_sdk
    import structlog
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from prometheus_fastapi_instrumentator import Instrumentator
    from starlette.middleware.base import BaseHTTPMiddleware

    sentry_sdk.init(dsn=CLOSED_DSN, traces_sample_rate=1.0)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"), structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info, structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(sink),
    )
    log = structlog.get_logger()

    async def request_id(request: Any, call_next: Callable[[Any], Any]) -> Any:
        rid = request.headers.get("x-request-id") or str(uuid.uuid4())
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=rid, method=request.method, path=request.url.path)
        start = time.perf_counter()
        response = await call_next(request)
        response.headers["x-request-id"] = rid
        log.info("request", status=response.status_code, duration_ms=(time.perf_counter() - start) * 1000)
        return response

    app = _routes(FastAPI())
    app.add_middleware(BaseHTTPMiddleware, dispatch=request_id)
    Instrumentator(registry=CollectorRegistry()).instrument(app).expose(app)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporters(export)[0]))
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
    return app


DEAD_COLLECTOR_ENV = "BENCH_DEAD_COLLECTOR"  # a loopback port that accepts and never answers (set by the parent)
REFUSED_COLLECTOR_ENV = "BENCH_REFUSED_COLLECTOR"  # a loopback port nothing listens on


def _ours(sink: TextIO, export: str, otlp_logs: bool = False, endpoint: str | None = None,
          protocol: str | None = None) -> FastAPI:  # fmt: skip
    """Every pillar on: metrics, JSON access log (for a collector to read), traces at 100 %, Sentry armed; with
    ``otlp_logs`` the log lines are also exported as OTLP records (the library's option, off by default).

    With ``endpoint`` the real OTLP exporters send to it; otherwise the benchmark's exporters (``export``).
    """
    from obsstack_fastapi import ObsSettings, instrument

    settings = ObsSettings(
        service_name="bench", environment="production", trace_sample_ratio=1.0,
        sentry_dsn=CLOSED_DSN, otlp_logs=otlp_logs, otlp_endpoint=endpoint, otlp_protocol=protocol,  # type: ignore[arg-type]
    )  # fmt: skip
    span_exporter, log_exporter = exporters(export) if endpoint is None else (None, None)
    if endpoint is None and export == "encode":
        span_exporter = OursEncodingNullSpanExporter()  # the library's own encoder, as its gRPC exporter runs it
    log_exporter = log_exporter if otlp_logs else None
    app = _routes(FastAPI())
    instrument(
        app, settings, registry=CollectorRegistry(), span_exporter=span_exporter,
        log_exporter=log_exporter, log_stream=sink,
    )  # fmt: skip
    return app


def ours(sink: TextIO, export: str) -> FastAPI:
    """As the stack runs it, the library's defaults: every pillar, log lines on stdout (the collector reads them)."""
    return _ours(sink, export)


def ours_with_otlp_logs(sink: TextIO, export: str) -> FastAPI:
    """For reference: the same with the OTLP log export option (OBS_OTLP_LOGS=true)."""
    return _ours(sink, export, otlp_logs=True)


def ours_dead_collector(sink: TextIO, _: str) -> FastAPI:
    """Real gRPC OTLP exporters to a collector that accepts connections and never answers."""
    return _ours(sink, "drop", endpoint=os.environ[DEAD_COLLECTOR_ENV], protocol="grpc")


def ours_refused_collector(sink: TextIO, _: str) -> FastAPI:
    """Real HTTP OTLP exporters to a loopback port that refuses connections."""
    return _ours(sink, "drop", endpoint=os.environ[REFUSED_COLLECTOR_ENV], protocol="http/protobuf")


VARIANTS: dict[str, Callable[[TextIO, str], FastAPI]] = {
    "bare": bare,
    "instrumentator": instrumentator,
    "textbook": textbook,
    "ours": ours,
    "ours+otlp-logs": ours_with_otlp_logs,
    "ours+dead-collector": ours_dead_collector,
    "ours+refused": ours_refused_collector,
}
