"""One pure ASGI middleware for every per-request concern, so each request pays for one layer.

Per request: request id (validated or new, echoed in the response), route template, a server span
(parent from ``traceparent``), the log context, in-progress gauge, counter and latency histogram
(exemplar: trace_id), injected faults (when enabled), one access-log line (unless the sampler drops
it), and for an unhandled error a Sentry report and a 500.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import context, request_id
from .errors import ErrorReporter
from .faults import Faults
from .metrics import RequestMetrics, normalize_method
from .routes import RouteResolver
from .sampling import LogSampler
from .spans import ServerSpan, ServerSpans

_PROPAGATION_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})
_ERROR_BODY = b'{"detail":"Internal Server Error"}'
_FAULT_BODY = b'{"detail":"injected fault"}'


@dataclass(frozen=True)
class Pipeline:
    """What the middleware records into; built once by `instrument`."""

    metrics: RequestMetrics
    spans: ServerSpans
    access_log: Any
    report_error: ErrorReporter
    excluded: frozenset[str]
    sampler: LogSampler
    faults: Faults | None = None
    fault_exempt: frozenset[str] = frozenset()


class ObservabilityMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): no task group, no body buffering, streaming untouched."""

    def __init__(self, app: ASGIApp, pipeline: Pipeline, resolver: RouteResolver) -> None:
        self.app = app
        self.p = pipeline
        self.resolver = resolver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid, propagated = _read_headers(scope["headers"])
        handler = self.resolver.resolve(scope)
        if handler in self.p.excluded:
            await self.app(scope, receive, _echo_request_id(send, rid.encode()))
            return
        parent = extract(_carrier(scope["headers"])) if propagated else None
        await self._observe(scope, receive, send, rid, handler, parent)

    async def _observe(
        self, scope: Scope, receive: Receive, send: Send, rid: str, handler: str, parent: Any
    ) -> None:
        start = time.perf_counter()
        method = normalize_method(scope["method"])
        attributes = {"http.request.method": method, "http.route": handler}
        span = self.p.spans.start(f"{method} {handler}", parent, attributes)
        otel_token = otel_context.attach(trace.set_span_in_context(span.span, parent))
        fields = {"request_id": rid, "method": method, "route": handler}
        trace_id = None
        if span.sampled:
            trace_id = fields["trace_id"] = format(span.context.trace_id, "032x")
            fields["span_id"] = format(span.context.span_id, "016x")
        ctx_token = context.start_request(fields)
        inprogress = self.p.metrics.started(handler, method)
        rid_bytes = rid.encode()
        status = 500
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message = _with_header(message, rid_bytes)
            await send(message)

        try:
            if await self._inject(handler):
                await _send_error(send_wrapper, None, _FAULT_BODY)  # the wrapper adds the request id
            else:
                await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            self._failed(span, exc)
            if started:
                raise
            await _send_error(send, rid_bytes)
        finally:
            inprogress.dec()
            self._finish(span, handler, method, status, time.perf_counter() - start, trace_id)
            context.end_request(ctx_token)
            otel_context.detach(otel_token)

    async def _inject(self, handler: str) -> bool:
        """Apply injected latency; True when this request is to fail (never on exempt routes)."""
        faults = self.p.faults
        if faults is None or not faults.active or handler in self.p.fault_exempt:
            return False
        return await faults.inject()

    def _failed(self, span: ServerSpan, exc: Exception) -> None:
        span.record_exception(exc)
        self.p.report_error(exc)
        if self.p.access_log is not None:
            self.p.access_log.error("unhandled error", exc_info=exc)

    def _finish(  # the request's parts, passed once
        self, span: ServerSpan, handler: str, method: str, status: int, seconds: float, trace_id: str | None
    ) -> None:
        self.p.metrics.finished(handler, method, status, seconds, trace_id)
        if self.p.access_log is not None and self.p.sampler.keep(handler, status, seconds):
            # a 5xx answer is an error event: the "Error logs" panel and log alerting select it by level
            write = self.p.access_log.error if status >= 500 else self.p.access_log.info
            write("request", status=status, duration_ms=round(seconds * 1000, 3))
        self.p.spans.end(span, status)


def _read_headers(headers: list[tuple[bytes, bytes]]) -> tuple[str, bool]:
    """(request id to use, whether trace propagation headers are present)."""
    incoming = None
    propagated = False
    for key, value in headers:
        if key == request_id.HEADER:
            incoming = value
        elif key in _PROPAGATION_HEADERS:
            propagated = True
    return request_id.accept(incoming) or request_id.new(), propagated


def _carrier(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in headers if k in _PROPAGATION_HEADERS}


def _with_header(message: Message, rid: bytes) -> Message:
    return {**message, "headers": [*message.get("headers", ()), (b"x-request-id", rid)]}


def _echo_request_id(send: Send, rid: bytes) -> Send:
    async def wrapper(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = _with_header(message, rid)
        await send(message)

    return wrapper


async def _send_error(send: Send, rid: bytes | None, body: bytes = _ERROR_BODY) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if rid is not None:
        headers.append((b"x-request-id", rid))
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})
