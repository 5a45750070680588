"""Cheap server spans: the SDK's sampler, ids, resource and processors, without a live SDK ``Span``.

A recording SDK span costs about 30 µs of CPU (locks, attribute cleaning, a copy at ``end``). The
server span here is a `NonRecordingSpan` carrying a real, sampled `SpanContext` while the request
runs – so logs, exemplars, SQL and httpx child spans all see it as their parent – and becomes one
`ReadableSpan`, built in the export thread (the request pays one queue append). The trade-off: code inside a
handler cannot add attributes to the server span through ``trace.get_current_span()``; it can
start child spans as usual.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags, TraceState

from .batching import QueuedSpanProcessor
from .redact import redact_text

_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)
_TRACE_ID_LIMIT = TraceIdRatioBased.TRACE_ID_LIMIT
SCOPE = InstrumentationScope("obsstack_fastapi")
STATUS_CODE = "http.response.status_code"


class ServerSpan:
    """One request's span: its context is live at once, its data is exported at `end`."""

    __slots__ = ("attributes", "context", "events", "name", "parent", "sampled", "span", "start_ns")

    def __init__(self, name: str, context: SpanContext, parent: SpanContext | None, attributes: dict[str, Any]):
        self.name = name
        self.context = context
        self.parent = parent
        self.attributes = attributes
        self.sampled = context.trace_flags.sampled
        self.span = NonRecordingSpan(context)
        self.events: list[Event] = []
        self.start_ns = time.time_ns()

    def record_exception(self, exc: BaseException) -> None:
        """An ``exception`` event, message and stack trace redacted like the logs."""
        stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.events.append(Event("exception", {
            "exception.type": type(exc).__qualname__,
            "exception.message": redact_text(str(exc)),
            "exception.stacktrace": redact_text(stack),
        }))  # fmt: skip


class ServerSpans:
    """Starts and ends `ServerSpan`s for one tracer provider and the processors that export them."""

    def __init__(
        self, provider: TracerProvider, processors: Sequence[SpanProcessor], ratio: float | None = None
    ) -> None:
        self._sampler = provider.sampler
        self._ids = provider.id_generator
        self._resource = provider.resource
        self._processors = tuple(processors)
        # ``ratio`` says the sampler is ParentBased(TraceIdRatioBased(ratio)): decided inline, same result
        self._bound = None if ratio is None else TraceIdRatioBased.get_bound_for_rate(ratio)

    def start(self, name: str, parent: Context | None, attributes: dict[str, Any]) -> ServerSpan:
        """Sample (parent-based per the provider's sampler) and make the span's context."""
        parent_context = trace.get_current_span(parent).get_span_context() if parent is not None else None
        if parent_context is not None and parent_context.is_valid:
            trace_id = parent_context.trace_id
        else:
            parent_context = None
            trace_id = self._ids.generate_trace_id()
        if self._bound is not None:
            flags, state = self._decide(trace_id, parent_context)
        else:
            result = self._sampler.should_sample(parent, trace_id, name, SpanKind.SERVER, attributes)
            sampled = result.decision.is_sampled()  # type: ignore[no-untyped-call]
            flags, state = (_SAMPLED if sampled else _NOT_SAMPLED), result.trace_state
        context = SpanContext(trace_id, self._ids.generate_span_id(), False, flags, state)
        return ServerSpan(name, context, parent_context, attributes)

    def _decide(self, trace_id: int, parent: SpanContext | None) -> tuple[TraceFlags, TraceState | None]:
        """ParentBased: follow a parent's flag (and keep its state); a root samples by trace-id ratio."""
        if parent is not None:
            return (_SAMPLED if parent.trace_flags.sampled else _NOT_SAMPLED), parent.trace_state
        assert self._bound is not None
        return (_SAMPLED if trace_id & _TRACE_ID_LIMIT < self._bound else _NOT_SAMPLED), None

    def end(self, span: ServerSpan, status_code: int) -> None:
        """Hand the finished span to export (only if sampled and there is somewhere to export it)."""
        if not span.sampled or not self._processors:
            return
        item = (span, status_code, time.time_ns())
        for processor in self._processors:
            if isinstance(processor, QueuedSpanProcessor):
                processor.put_raw(item)  # becomes a ReadableSpan in the export thread
            else:
                processor.on_end(readable_server_span(self._resource, item))


def readable_server_span(resource: Resource, item: tuple[ServerSpan, int, int]) -> ReadableSpan:
    """The exported form of a finished server span: (span, status code, end time in ns)."""
    span, status_code, end_ns = item
    span.attributes[STATUS_CODE] = status_code
    status = Status(StatusCode.ERROR) if status_code >= 500 else Status(StatusCode.UNSET)
    return ReadableSpan(
        name=span.name, context=span.context, parent=span.parent, resource=resource,
        attributes=span.attributes, events=span.events, kind=SpanKind.SERVER, status=status,
        start_time=span.start_ns, end_time=end_ns, instrumentation_scope=SCOPE,
    )  # fmt: skip
