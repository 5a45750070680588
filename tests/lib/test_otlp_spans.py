"""The library's OTLP span encoder against the SDK's own (the oracle): the same request, parsed, for every kind
of span the export thread sees; and its gRPC and HTTP exporters delivering that request to a real gRPC server and
a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from concurrent import futures
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from obsstack_fastapi.batching import QueuedSpanProcessor
from obsstack_fastapi.otlp_spans import SpanEncoder, grpc_span_exporter, http_span_exporter
from obsstack_fastapi.spans import ServerSpans, readable_server_span
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

RESOURCE = Resource.create({"service.name": "svc", "service.version": "1.2.3"})
REMOTE = SpanContext(0xABC, 0xDEF, True, TraceFlags(TraceFlags.SAMPLED), TraceState([("vendor", "x")]))
PLAIN_REMOTE = SpanContext(0xABC, 0xDEF, True, TraceFlags(TraceFlags.SAMPLED))


def server_items(provider: TracerProvider) -> list[tuple[Any, int, int]]:
    """The middleware's server spans as it queues them (span, status, end time): a root, one under a remote parent,
    a 4xx, a 5xx with an exception event, a 5xx without."""
    factory = ServerSpans(provider, [], 1.0)
    parent = set_span_in_context(NonRecordingSpan(PLAIN_REMOTE), Context())
    attrs = {"http.request.method": "GET", "http.route": "/items/{item_id}"}
    root = factory.start("GET /items/{item_id}", None, dict(attrs))
    child = factory.start("GET /items/{item_id}", parent, dict(attrs))
    failed = factory.start("POST /orders", None, {"http.request.method": "POST", "http.route": "/orders"})
    failed.record_exception(ValueError("boom for frank@example.com"))
    plain_5xx = factory.start("POST /orders", None, {"http.request.method": "POST", "http.route": "/orders"})
    return [(span, status, time.time_ns()) for span, status in ((root, 200), (child, 404), (failed, 500),
                                                                 (plain_5xx, 503))]  # fmt: skip


def server_spans(provider: TracerProvider) -> list[ReadableSpan]:
    """The same server spans as the SDK's exporters get them."""
    return [readable_server_span(RESOURCE, item) for item in server_items(provider)]


def sdk_spans(provider: TracerProvider, finished: InMemorySpanExporter) -> list[ReadableSpan]:
    """SDK spans of two scopes: every attribute type, a described error, links, events, a trace state."""
    tracer, other = provider.get_tracer("sqlalchemy", "0.1"), provider.get_tracer("httpx", schema_url="https://s/1")
    values: dict[str, Any] = {"s": "é", "t": True, "n": -7, "big": 2**62, "f": 0.25, "list": ["a", "b"]}
    with tracer.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT, attributes=values) as span:
        span.set_status(Status(StatusCode.ERROR, "db down"))
    with tracer.start_as_current_span("plain", attributes={"db.system": "sqlite"}):
        pass
    with other.start_as_current_span("GET inventory", kind=SpanKind.CLIENT, links=[Link(REMOTE, {"why": "x"})]):
        pass
    with other.start_as_current_span("evented", context=set_span_in_context(NonRecordingSpan(REMOTE))) as span:
        span.add_event("retry", {"attempt": 2})
    return list(finished.get_finished_spans())


def every_kind() -> list[ReadableSpan]:
    finished = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(finished))
    return [*server_spans(provider), *sdk_spans(provider, finished), *server_spans(provider)]


def export_both_ways(exporter: SpanExporter) -> list[ExportTraceServiceRequest]:
    """Has `exporter` export every kind of span, then the middleware's queued server spans through the export
    thread (what ServerSpans.end queues); the two requests the SDK's encoder builds for them, in that order."""
    processor = QueuedSpanProcessor(exporter, partial(readable_server_span, RESOURCE), RESOURCE)
    try:
        spans = every_kind()
        assert exporter.export(spans).name == "SUCCESS"
        items = server_items(TracerProvider(resource=RESOURCE))
        for item in items:
            processor.put_raw(item)
        processor.force_flush()
    finally:
        processor.shutdown()
    return [encode_spans(spans), encode_spans([readable_server_span(RESOURCE, i) for i in items])]


def test_the_encoding_is_the_sdks_request() -> None:
    """Every kind of span (server spans, SDK spans of two scopes, odd attribute types, events, links, trace
    states) encodes to the request the SDK's encoder builds, twice in a row (the attribute cache warm)."""
    spans, encoder = every_kind(), SpanEncoder()
    expected = encode_spans(spans)
    for _ in range(2):
        assert ExportTraceServiceRequest.FromString(encoder.encode(spans)) == expected
    assert encoder.encode([]) == encode_spans([]).SerializeToString()


def test_queued_server_spans_encode_as_their_readable_spans() -> None:
    """The middleware's queued server spans, encoded as they are (mixed with SDK spans, as the export thread gets
    them), give the request the SDK builds from their ReadableSpans."""
    finished = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(finished))
    items, encoder = server_items(provider), SpanEncoder()
    assert encoder.server_spans(RESOURCE)
    mixed = [*items, *sdk_spans(provider, finished), *items]
    encoded = encoder.encode(mixed)
    readable = [readable_server_span(RESOURCE, s) if isinstance(s, tuple) else s for s in mixed]
    assert ExportTraceServiceRequest.FromString(encoded) == encode_spans(readable)


def test_the_grpc_exporter_delivers_that_request() -> None:
    """The library's gRPC span exporter sends exactly the SDK's request to a real gRPC trace service."""
    received: list[ExportTraceServiceRequest] = []

    class Service(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: ExportTraceServiceRequest, context: Any) -> ExportTraceServiceResponse:
            received.append(request)
            return ExportTraceServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Service(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        expected = export_both_ways(grpc_span_exporter(endpoint=f"http://127.0.0.1:{port}", insecure=True, timeout=5))
    finally:
        server.stop(grace=None)
    assert received == expected


class _Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP trace receiver: keeps each POSTed body with its path and content type, answers 200."""

    received: list[tuple[str, str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _http_collector() -> tuple[ThreadingHTTPServer, list[tuple[str, str, bytes]]]:
    received: list[tuple[str, str, bytes]] = []
    handler = type("Handler", (_Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received


def test_the_http_exporter_posts_that_request() -> None:
    """The library's OTLP/HTTP span exporter, with the installed SDK, encodes with SpanEncoder (`posts_bytes`) and
    posts exactly the SDK's request to `/v1/traces` of a real HTTP server: SDK spans, and the middleware's queued
    server spans as they are."""
    server, received = _http_collector()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    exporter = http_span_exporter(endpoint=endpoint, timeout=5)
    try:
        assert getattr(exporter, "posts_bytes", False) is True  # an SDK of another shape: this says so first
        expected = export_both_ways(exporter)
    finally:
        server.shutdown()
    assert [(path, kind) for path, kind, _ in received] == [("/v1/traces", "application/x-protobuf")] * 2
    assert [ExportTraceServiceRequest.FromString(body) for _, _, body in received] == expected


def test_the_http_exporter_without_its_fast_path_is_the_sdks() -> None:
    """Where the SDK's exporter has another shape (`posts_bytes` false), the SDK's own export runs: ReadableSpans
    only (server spans are converted first) and the SDK's request."""
    server, received = _http_collector()
    exporter = http_span_exporter(endpoint=f"http://127.0.0.1:{server.server_address[1]}/v1/traces", timeout=5)
    exporter.posts_bytes = False  # type: ignore[attr-defined]
    try:
        assert exporter.server_spans(RESOURCE) is False  # type: ignore[attr-defined]
        spans = every_kind()
        assert exporter.export(spans).name == "SUCCESS"
    finally:
        server.shutdown()
    assert [ExportTraceServiceRequest.FromString(body) for _, _, body in received] == [encode_spans(spans)]


def test_the_http_exporter_fails_a_batch_a_refusing_collector_never_takes() -> None:
    """Nothing listens on the port: the batch fails (no exception) within the exporter's timeout."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: connections to it are refused
    exporter = http_span_exporter(endpoint=f"http://127.0.0.1:{port}/v1/traces", timeout=1)
    began = time.monotonic()
    assert exporter.export(every_kind()).name == "FAILURE"
    assert time.monotonic() - began < 10


def test_one_off_values_keep_the_attribute_cache_bounded() -> None:
    """Thousands of distinct values (SQL statements, URLs) never grow the cache past its limit, and the request
    stays the SDK's."""
    from obsstack_fastapi.otlp_spans import _CACHE_LIMIT

    finished = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(finished))
    tracer = provider.get_tracer("sqlalchemy")
    for i in range(_CACHE_LIMIT + 500):
        with tracer.start_as_current_span("SELECT", attributes={"db.statement": f"SELECT {i}", "db.system": "x"}):
            pass
    spans, encoder = list(finished.get_finished_spans()), SpanEncoder()
    assert ExportTraceServiceRequest.FromString(encoder.encode(spans)) == encode_spans(spans)
    assert len(encoder._attributes) <= _CACHE_LIMIT
