"""I/O: listen briefly on 127.0.0.1 for OTLP metric exports (gRPC, and HTTP with protobuf or JSON), answer
each exporter as a collector does (an empty ExportMetricsServiceResponse), stop at the first export that
carries an HTTP server duration, then decode what arrived (`otlp`, pure).

Traces and logs sent to the same ports are accepted and dropped, so the service logs no export errors.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc  # type: ignore[import-untyped]  # grpcio ships no type information
from google.protobuf import json_format  # type: ignore[import-untyped]  # no types-protobuf in the venv
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from stack.probe.observed import Observed, ProbeError
from stack.probe.otlp import HTTP_DURATIONS, decode_exports

HOST = "127.0.0.1"
MAX_BODY = 16_000_000  # bytes of one export request
METRICS_RPC = "opentelemetry.proto.collector.metrics.v1.MetricsService"
OTHER_RPCS = ("opentelemetry.proto.collector.trace.v1.TraceService",
              "opentelemetry.proto.collector.logs.v1.LogsService")  # fmt: skip
JSON = "application/json"


@dataclass(frozen=True)
class Listen:
    grpc_port: int = 4317
    http_port: int = 4318
    seconds: float = 70.0  # the SDK pushes every 60 s by default

    @property
    def where(self) -> str:
        return f"OTLP on {HOST}:{self.grpc_port} (gRPC) and {HOST}:{self.http_port} (HTTP)"


class _Exports:
    """The export requests received so far; `done` is set by the first with an HTTP server duration."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[ExportMetricsServiceRequest] = []
        self.done = threading.Event()

    def add(self, request: ExportMetricsServiceRequest) -> None:
        with self._lock:
            self._requests.append(request)
        names = {m.name for rm in request.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
        if names & set(HTTP_DURATIONS):
            self.done.set()

    def received(self) -> list[ExportMetricsServiceRequest]:
        with self._lock:
            return list(self._requests)


def receive(listen: Listen, service: str | None) -> Observed:
    """Listen for up to `listen.seconds`; the families of the service that pushed (see `decode_exports`)."""
    exports = _Exports()
    with _http_server(listen.http_port, exports), _grpc_server(listen.grpc_port, exports):
        exports.done.wait(listen.seconds)
    received = exports.received()
    if not received:
        raise ProbeError(
            f"{listen.where}: no metrics arrived in {listen.seconds:g} s, expected the service to push them "
            "(OTEL_EXPORTER_OTLP_ENDPOINT pointing at these ports; OTEL_METRIC_EXPORT_INTERVAL below --seconds)"
        )
    return decode_exports(received, listen.where, service)


def _busy(port: int, protocol: str, reason: object) -> ProbeError:
    return ProbeError(
        f"{HOST}:{port} (OTLP {protocol}) is in use ({reason}), expected a free port: stop what listens there "
        f"(the stack's collector? `obsstack down`) or pass --{protocol.lower()}-port"
    )


@contextlib.contextmanager
def _http_server(port: int, exports: _Exports) -> Iterator[None]:
    try:
        server = ThreadingHTTPServer((HOST, port), _handler(exports))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise _busy(port, "HTTP", exc.strerror) from None
        raise ProbeError(f"{HOST}:{port}: cannot listen for OTLP HTTP ({exc})") from None
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def _grpc_server(port: int, exports: _Exports) -> Iterator[None]:
    workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="otlp-probe")
    server = grpc.server(workers, options=[("grpc.so_reuseport", 0)])  # a port in use is refused, not shared
    server.add_generic_rpc_handlers((_metrics_handler(exports), *(_drop_handler(n) for n in OTHER_RPCS)))
    try:
        _bind(server, port)
        server.start()
        yield
    finally:
        server.stop(grace=2).wait(5)
        workers.shutdown(wait=False)


def _bind(server: Any, port: int) -> None:
    try:
        bound = server.add_insecure_port(f"{HOST}:{port}")
    except RuntimeError as exc:  # recent grpcio releases raise; older ones return 0
        raise _busy(port, "gRPC", str(exc).splitlines()[0]) from None
    if bound != port:
        raise _busy(port, "gRPC", "bind failed")


def _metrics_handler(exports: _Exports) -> Any:
    def export(request: ExportMetricsServiceRequest, context: Any) -> ExportMetricsServiceResponse:
        exports.add(request)
        return ExportMetricsServiceResponse()

    handler = grpc.unary_unary_rpc_method_handler(
        export, request_deserializer=ExportMetricsServiceRequest.FromString,
        response_serializer=ExportMetricsServiceResponse.SerializeToString,
    )  # fmt: skip
    return grpc.method_handlers_generic_handler(METRICS_RPC, {"Export": handler})


def _drop_handler(service: str) -> Any:
    """Accept a trace or log export and answer with the empty response (its protobuf encoding is empty)."""
    handler = grpc.unary_unary_rpc_method_handler(
        lambda request, context: b"", request_deserializer=None, response_serializer=None
    )
    return grpc.method_handlers_generic_handler(service, {"Export": handler})


def _handler(exports: _Exports) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_OtlpHttpHandler,), {"exports": exports})


class _OtlpHttpHandler(BaseHTTPRequestHandler):
    """OTLP/HTTP: POST /v1/metrics (protobuf or JSON); /v1/traces and /v1/logs accepted and dropped."""

    exports: _Exports

    def do_POST(self) -> None:
        json = self.headers.get("Content-Type", "").startswith(JSON)
        if self.path not in {"/v1/metrics", "/v1/traces", "/v1/logs"}:
            self._answer(404, b"", "text/plain")
            return
        try:
            request = self._request(json)
        except (DecodeError, json_format.ParseError, OSError, ValueError) as exc:
            self._answer(400, str(exc).encode()[:200], "text/plain")
            return
        response = ExportMetricsServiceResponse()  # the same empty answer for traces and logs
        body = json_format.MessageToJson(response).encode() if json else response.SerializeToString()
        self._answer(200, body, JSON if json else "application/x-protobuf")
        if request is not None:
            self.exports.add(request)

    def _request(self, json: bool) -> ExportMetricsServiceRequest | None:
        """The metrics export request (None for traces and logs, which are read and dropped)."""
        length = int(self.headers.get("Content-Length", "0"))
        if not 0 <= length <= MAX_BODY:
            raise ValueError(f"Content-Length {length}, expected at most {MAX_BODY}")
        body = self.rfile.read(length)
        if self.path != "/v1/metrics":
            return None
        body = gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body
        request = ExportMetricsServiceRequest()
        if json:
            json_format.Parse(body, request, ignore_unknown_fields=True)
        else:
            request.ParseFromString(body)
        return request

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None
