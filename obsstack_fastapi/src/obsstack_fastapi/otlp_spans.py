"""OTLP span encoding for the export thread: the same ``ExportTraceServiceRequest`` the SDK's ``encode_spans``
builds, written as protobuf wire bytes directly.

The SDK's encoder builds a protobuf object per span, per attribute and per value and hashes each span's resource
(a JSON dump of its attributes) to group the spans: about 40 µs of the export thread's CPU per span here, time the
request path waits for the GIL. Here the resource and scope are encoded once per batch (grouped by identity),
an attribute's key-value bytes are cached (a server span's attributes come from bounded sets: method, route
template, status code), and a span is a handful of byte strings joined. A span this path does not cover (events,
links, a trace state, dropped counts, a value that is not a str, bool, int or float) is encoded by the SDK's own
span encoder and embedded as it is; a test compares the parsed result with the SDK's for every such case.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.common._internal import _encode_instrumentation_scope, _encode_resource
from opentelemetry.exporter.otlp.proto.common._internal.trace_encoder import _encode_span
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PB2Span
from opentelemetry.proto.trace.v1.trace_pb2 import SpanFlags
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, StatusCode

from .spans import SCOPE, STATUS_CODE, ServerSpan, readable_server_span

_KIND = {
    SpanKind.INTERNAL: PB2Span.SpanKind.SPAN_KIND_INTERNAL, SpanKind.SERVER: PB2Span.SpanKind.SPAN_KIND_SERVER,
    SpanKind.CLIENT: PB2Span.SpanKind.SPAN_KIND_CLIENT, SpanKind.PRODUCER: PB2Span.SpanKind.SPAN_KIND_PRODUCER,
    SpanKind.CONSUMER: PB2Span.SpanKind.SPAN_KIND_CONSUMER,
}  # fmt: skip
_HAS_IS_REMOTE = SpanFlags.SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK
_IS_REMOTE = SpanFlags.SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK
_CACHE_LIMIT = 4096  # cached attribute encodings; when full the cache starts again (the bounded ones come back)
_U64 = (1 << 64) - 1
_fixed64 = struct.Struct("<Q").pack
_fixed32 = struct.Struct("<I").pack
_double = struct.Struct("<d").pack


_SMALL = tuple(bytes((n,)) for n in range(0x80))  # the one-byte varints


def _varint(value: int) -> bytes:
    if value < 0x80:
        return _SMALL[value]
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: its tag, the payload's length, the payload."""
    return tag + _varint(len(payload)) + payload


def _status(status: Any) -> bytes:
    """The span's Status field (tag 15): its message, its code (both left out when empty, as protobuf does)."""
    body = _field(b"\x12", status.description.encode()) if status.description else b""
    if status.status_code.value:
        body += b"\x18" + _varint(status.status_code.value)
    return _field(b"\x7a", body)


_UNSET = _field(b"\x7a", b"")  # an empty Status: the SDK always sets one
_ERROR = _field(b"\x7a", b"\x18" + _varint(StatusCode.ERROR.value))
_LOCAL_FLAGS = b"\x85\x01" + _fixed32(_HAS_IS_REMOTE)  # flags (tag 16, fixed32)
_REMOTE_FLAGS = b"\x85\x01" + _fixed32(_HAS_IS_REMOTE | _IS_REMOTE)


def _any_value(value: Any) -> bytes | None:
    """AnyValue's bytes for a str, bool, int or float; None for anything else (the SDK encodes those)."""
    kind = type(value)
    if kind is str:
        return _field(b"\x0a", value.encode())
    if kind is bool:
        return b"\x10" + _varint(int(value))
    if kind is int:
        return b"\x18" + _varint(value & _U64)
    if kind is float:
        return b"\x21" + _double(value)
    return None


class SpanEncoder:
    """Encodes batches of ``ReadableSpan`` into ``ExportTraceServiceRequest`` bytes; one per exporter (its
    attribute cache is not shared between threads)."""

    def __init__(self) -> None:
        self._attributes: dict[tuple[str, type, Any], bytes] = {}
        self._names: dict[tuple[str, SpanKind], bytes] = {}
        self.resource: Resource | None = None  # the resource of the middleware's server spans (`server_spans`)

    def server_spans(self, resource: Resource) -> bool:
        """Take the middleware's finished server spans as they are queued, (span, status code, end time in ns),
        all of `resource`: they are encoded without becoming a ``ReadableSpan`` first."""
        self.resource = resource
        return True

    def encode(self, spans: Sequence[Any]) -> bytes:
        """The request's wire bytes: spans (``ReadableSpan``, or queued server spans) grouped by resource, then
        by instrumentation scope, in order."""
        groups: dict[int, tuple[Any, dict[int, tuple[Any, list[bytes]]]]] = {}
        for span in spans:
            resource: Any
            scope: Any
            if type(span) is tuple:  # a queued server span: its resource and scope are the encoder's and SCOPE
                resource, scope, body = self.resource, SCOPE, self._server(span)
            else:
                resource, scope, body = span.resource, span.instrumentation_scope or None, self._span(span)
            group = groups.get(id(resource))
            if group is None:
                group = groups[id(resource)] = (resource, {})
            encoded = group[1].get(id(scope))
            if encoded is None:
                encoded = group[1][id(scope)] = (scope, [])
            encoded[1].append(body)
        return b"".join(_field(b"\x0a", self._resource_spans(r, scopes)) for r, scopes in groups.values())

    def request(self, spans: Sequence[ReadableSpan]) -> ExportTraceServiceRequest:
        """The request as the message the gRPC exporter sends (parsed from the bytes, in C)."""
        request: ExportTraceServiceRequest = ExportTraceServiceRequest.FromString(self.encode(spans))
        return request

    @staticmethod
    def _resource_spans(resource: Any, scopes: dict[int, tuple[Any, list[bytes]]]) -> bytes:
        parts = [_field(b"\x0a", _encode_resource(resource).SerializeToString())]
        for scope, spans in scopes.values():
            encoded = _encode_instrumentation_scope(scope)
            head = _field(b"\x0a", encoded.SerializeToString()) if encoded is not None else b""
            url = _field(b"\x1a", scope.schema_url.encode()) if scope is not None and scope.schema_url else b""
            parts.append(_field(b"\x12", head + b"".join(spans) + url))
        if resource.schema_url:
            parts.append(_field(b"\x1a", resource.schema_url.encode()))
        return b"".join(parts)

    def _server(self, item: tuple[ServerSpan, int, int]) -> bytes:
        """A queued server span, encoded from its own fields (what `readable_server_span` would make of it); one
        with events (an exception) goes through the ``ReadableSpan``."""
        span, status_code, end_ns = item
        context, parent = span.context, span.parent
        attributes = self._encoded_attributes(span.attributes) if not span.events and not context.trace_state \
            else None  # fmt: skip
        if attributes is None:
            assert self.resource is not None  # set by server_spans before any queued span arrives
            return self._span(readable_server_span(self.resource, item))
        status = self._encoded_attributes({STATUS_CODE: status_code})
        name = self._names.get((span.name, SpanKind.SERVER)) or self._name(span.name, SpanKind.SERVER)
        return _field(b"\x12", b"".join((
            b"\x0a\x10", context.trace_id.to_bytes(16, "big"), b"\x12\x08", context.span_id.to_bytes(8, "big"),
            b"\x22\x08" + parent.span_id.to_bytes(8, "big") if parent is not None else b"", name,
            b"\x39", _fixed64(span.start_ns), b"\x41", _fixed64(end_ns), attributes, status or b"",
            _ERROR if status_code >= 500 else _UNSET,
            _REMOTE_FLAGS if parent is not None and parent.is_remote else _LOCAL_FLAGS,
        )))  # fmt: skip

    def _name(self, name: str, kind: SpanKind) -> bytes:
        """The span's name and kind fields, cached per (name, kind): route templates are few."""
        encoded = _field(b"\x2a", name.encode()) + b"\x30" + _varint(_KIND[kind])
        if len(self._names) >= _CACHE_LIMIT:
            self._names = {}
        self._names[(name, kind)] = encoded
        return encoded

    def _span(self, span: ReadableSpan) -> bytes:
        """One span's field of ScopeSpans (tag 2): the fast path, else the SDK's encoder."""
        body = self._simple(span)
        if body is None:
            body = _encode_span(span).SerializeToString()
        return _field(b"\x12", body)

    def _simple(self, span: ReadableSpan) -> bytes | None:
        context, parent, status = span.context, span.parent, span.status
        if span.events or span.links or context.trace_state or span.dropped_attributes or span.dropped_events \
                or span.dropped_links:  # fmt: skip
            return None
        attributes = self._encoded_attributes(span.attributes)
        if attributes is None:
            return None
        name = self._names.get((span.name, span.kind)) or self._name(span.name, span.kind)
        return b"".join((
            b"\x0a\x10", context.trace_id.to_bytes(16, "big"), b"\x12\x08", context.span_id.to_bytes(8, "big"),
            b"\x22\x08" + parent.span_id.to_bytes(8, "big") if parent is not None else b"", name,
            b"\x39", _fixed64(span.start_time or 0), b"\x41", _fixed64(span.end_time or 0), attributes,
            _UNSET if status.status_code.value == 0 and not status.description else _status(status),
            _REMOTE_FLAGS if parent is not None and parent.is_remote else _LOCAL_FLAGS,
        ))  # fmt: skip

    def _encoded_attributes(self, attributes: Any) -> bytes | None:
        """The KeyValue fields (tag 9) of the attributes, each cached; None when a value needs the SDK."""
        if not attributes:
            return b""
        parts = []
        cache = self._attributes
        for key, value in attributes.items():
            cached = cache.get((key, type(value), value)) if type(value) in (str, bool, int, float) else None
            if cached is None:
                any_value = _any_value(value)
                if any_value is None:
                    return None
                cached = _field(b"\x4a", _field(b"\x0a", key.encode()) + _field(b"\x12", any_value))
                if len(cache) >= _CACHE_LIMIT:  # one-off values (SQL, URLs) filled it: start again
                    cache.clear()
                cache[(key, type(value), value)] = cached
            parts.append(cached)
        return b"".join(parts)


def grpc_span_exporter(endpoint: str, insecure: bool, timeout: float) -> SpanExporter:
    """The SDK's OTLP/gRPC span exporter (channel, retries, timeouts as they are) with `SpanEncoder` building its
    requests. gRPC is imported only when asked for."""
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    class Exporter(OTLPSpanExporter):
        _encoder = SpanEncoder()

        def server_spans(self, resource: Resource) -> bool:
            """See `SpanEncoder.server_spans`: the middleware's spans reach it unconverted."""
            return self._encoder.server_spans(resource)

        def _translate_data(self, data: Sequence[Any]) -> ExportTraceServiceRequest:
            return self._encoder.request(data)

    return Exporter(endpoint=endpoint, insecure=insecure, timeout=timeout)


def http_span_exporter(endpoint: str, timeout: float) -> SpanExporter:
    """The SDK's OTLP/HTTP span exporter (`<endpoint>/v1/traces`; its transport, retries, compression, headers and
    request size limit as they are) with `SpanEncoder` writing the request bytes it posts.

    The SDK's HTTP exporter has no encoding hook: its `export` encodes, checks the size, then hands the bytes to
    its HTTP client (`_client.export(bytes)`, inside `_metrics.export_operation`, since SDK 1.4x). Where the
    installed SDK has that shape, `export` here does the same with these bytes; with any other SDK, the SDK's own
    `export` runs as it is (its encoder, every span a ``ReadableSpan``)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    class Exporter(OTLPSpanExporter):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._encoder = SpanEncoder()
            client, size = getattr(self, "_client", None), getattr(self, "_max_request_size", None)
            operation = getattr(getattr(self, "_metrics", None), "export_operation", None)
            self.posts_bytes = callable(getattr(client, "export", None)) and callable(operation) and type(size) is int

        def server_spans(self, resource: Resource) -> bool:
            """See `SpanEncoder.server_spans`; only where this exporter encodes (`posts_bytes`)."""
            return self.posts_bytes and self._encoder.server_spans(resource)

        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            if not self.posts_bytes:
                return super().export(spans)
            if self._shutdown:
                return SpanExportResult.FAILURE
            with self._metrics.export_operation(len(spans)) as result:
                data = self._encoder.encode(spans)
                if 0 < self._max_request_size < len(data):  # as the SDK: dropped, never split
                    result.error = ValueError(f"OTLP span request of {len(data)} bytes over {self._max_request_size}")
                    return SpanExportResult.FAILURE
                sent = self._client.export(data)
                if not sent.success:
                    result.error = sent.error
                    return SpanExportResult.FAILURE
            return SpanExportResult.SUCCESS

    return Exporter(endpoint=endpoint, timeout=timeout)
