"""OTLP logs off the request path: a structlog processor queues events, a `Batcher` thread exports them.

With the SDK's ``ReadableLogRecord`` (opentelemetry-sdk >= 1.39) records are built directly, about five
times cheaper than a round trip through ``Logger.emit`` and a second batch processor; older SDKs go
through their ``LoggerProvider``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.context import Context
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import NonRecordingSpan, SpanContext, get_current_span, set_span_in_context
from structlog.typing import EventDict, WrappedLogger

from .batching import Batcher

try:
    from opentelemetry.sdk._logs import ReadableLogRecord as _Readable

    ReadableLogRecord: Any = _Readable
except ImportError:  # pragma: no cover - SDK < 1.39
    ReadableLogRecord = None

_SEVERITY = {
    "debug": SeverityNumber.DEBUG, "info": SeverityNumber.INFO, "warning": SeverityNumber.WARN,
    "error": SeverityNumber.ERROR, "critical": SeverityNumber.FATAL, "exception": SeverityNumber.ERROR,
}  # fmt: skip
# trace_id/span_id travel as the record's own trace context, not as attributes
_SKIP_ATTRS = frozenset({"event", "level", "timestamp", "trace_id", "span_id", "_record", "_from_structlog"})
_EMPTY = Context()
Pending = tuple[int, str, dict[str, Any], SpanContext]


def _attr(value: Any) -> Any:
    return value if isinstance(value, str | bool | int | float) else str(value)


class OtelLogBridge:
    """structlog processor: queue the (already redacted) event for OTLP export, pass it on unchanged."""

    def __init__(self, exporter: LogRecordExporter, resource: Resource, *, timeout_ms: int = 2000) -> None:
        self._exporter = exporter
        self._resource = resource
        self._scope = InstrumentationScope("obsstack_fastapi")
        self._sdk = None if ReadableLogRecord is not None else _sdk_logger(exporter, resource, timeout_ms)
        self.batcher: Batcher[Pending] = Batcher("obs-export-logs", self._convert, self._export)

    def __call__(self, _: WrappedLogger, method: str, event: EventDict) -> EventDict:
        if str(event.get("logger", "")).startswith("opentelemetry"):
            return event  # the exporters' own complaints would feed back into the exporters
        span_context = get_current_span().get_span_context()
        # a copy, since renderers may pop keys; it becomes an OTLP record off the request path
        self.batcher.put((time.time_ns(), method, dict(event), span_context))
        return event

    def drain(self) -> None:
        """Export what is queued now (tests, shutdown)."""
        self.batcher.drain()

    def close(self) -> None:
        """Export what is pending, stop the thread, shut the exporter down."""
        self.batcher.close()
        if self._sdk is not None:
            self._sdk[0].shutdown()
        else:
            self._exporter.shutdown()  # type: ignore[no-untyped-call]

    def _convert(self, item: Pending) -> Any:
        record = _record(*item)
        if self._sdk is not None:
            return record
        return ReadableLogRecord(log_record=record, resource=self._resource, instrumentation_scope=self._scope)

    def _export(self, records: Sequence[Any]) -> None:
        if self._sdk is None:
            self._exporter.export(records)
            return
        for record in records:
            self._sdk[1].emit(record)


def _record(stamp: int, method: str, event: dict[str, Any], span_context: SpanContext) -> LogRecord:
    level = str(event.get("level", method))
    context = set_span_in_context(NonRecordingSpan(span_context), _EMPTY) if span_context.is_valid else _EMPTY
    return LogRecord(
        timestamp=stamp, observed_timestamp=stamp, context=context, severity_text=level.upper(),
        severity_number=_SEVERITY.get(level, SeverityNumber.INFO), body=str(event.get("event", "")),
        attributes={k: _attr(v) for k, v in event.items() if k not in _SKIP_ATTRS and v is not None},
    )  # fmt: skip


def _sdk_logger(exporter: LogRecordExporter, resource: Resource, timeout_ms: int) -> tuple[LoggerProvider, Any]:
    provider = LoggerProvider(resource=resource)
    processor = BatchLogRecordProcessor(exporter, max_queue_size=4096, export_timeout_millis=timeout_ms)
    provider.add_log_record_processor(processor)
    return provider, provider.get_logger("obsstack_fastapi")
