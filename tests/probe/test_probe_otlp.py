"""The OTLP receiver of `obsstack init --probe-otlp`, fed by the real OpenTelemetry SDK over gRPC, HTTP
protobuf and HTTP JSON, and what the inference makes of it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from stack import conventions as c
from stack.probe.infer import infer
from stack.probe.observed import Observed, ProbeError
from stack.probe.otlp import prometheus_name
from stack.probe.receiver import Listen, receive
from tests.support import free_port

ADVICE = list(c.OTEL_SEMCONV_BUCKETS)


def listen_ports(seconds: float = 20) -> Listen:
    return Listen(grpc_port=free_port(), http_port=free_port(), seconds=seconds)


def accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@contextmanager
def receiving(listen: Listen, service: str | None = None) -> Iterator[Future[Observed]]:
    """`receive` in a thread, once both its ports accept connections."""
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(receive, listen, service)
        deadline = time.monotonic() + 10
        while not (accepting(listen.grpc_port) and accepting(listen.http_port)) and time.monotonic() < deadline:
            time.sleep(0.05)
        yield future


def record_http(reader: MetricReader, service: str, *, old: bool = False) -> MeterProvider:
    """A MeterProvider recording what Python's HTTP server instrumentation records for one 200 and one 503
    (stable conventions, or the old ones with `old`)."""
    provider = MeterProvider(resource=Resource.create({"service.name": service}), metric_readers=[reader])
    meter = provider.get_meter("probe-test")
    if old:
        duration = meter.create_histogram("http.server.duration", unit="ms")
        duration.record(12, {"http.method": "GET", "http.status_code": 200, "http.target": "/items"})
        return provider
    duration = meter.create_histogram(
        "http.server.request.duration", unit="s", explicit_bucket_boundaries_advisory=ADVICE
    )
    active = meter.create_up_down_counter("http.server.active_requests", unit="{request}")
    active.add(0, {"http.request.method": "GET", "url.scheme": "http"})
    for code in (200, 503):
        attributes = {"http.route": "/items/{id}", "http.request.method": "GET", "http.response.status_code": code}
        duration.record(0.04, attributes)
    return provider


def exporter(protocol: str, listen: Listen) -> PeriodicExportingMetricReader:
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as Grpc

        return PeriodicExportingMetricReader(
            Grpc(endpoint=f"127.0.0.1:{listen.grpc_port}", insecure=True, timeout=1), 300
        )
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as Http

    return PeriodicExportingMetricReader(
        Http(endpoint=f"http://127.0.0.1:{listen.http_port}/v1/metrics", timeout=1), 300
    )


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_sdk_export_is_received_and_read_as_the_otel_convention(protocol: str) -> None:
    """The SDK's OTLP exporter (gRPC, HTTP protobuf) reaches the receiver, which stops at the first export
    with http.server.request.duration; the inference is the otel convention with its default buckets."""
    listen = listen_ports()
    with receiving(listen) as future:
        provider = record_http(exporter(protocol, listen), "inventory")
        observed = future.result(timeout=30)
    provider.shutdown()
    assert observed.source == "otlp"
    assert observed.service_names[0] == "inventory"
    found = infer(observed)
    assert found.convention == "otel"
    assert found.names == c.CONVENTIONS["otel"]
    assert found.default_buckets
    assert (found.status_style, found.statuses) == ("raw", ("200", "503"))
    assert found.latency == (0.25, 0.5)


def test_json_export_is_answered_with_an_empty_json_response() -> None:
    """OTLP/HTTP JSON (what the SDK encodes, as JSON): 200 with the empty ExportMetricsServiceResponse `{}`."""
    listen = listen_ports()
    reader = InMemoryMetricReader()
    provider = record_http(reader, "inventory")
    data = reader.get_metrics_data()
    assert data is not None
    request = encode_metrics(data)
    with receiving(listen) as future:
        response = httpx.post(
            f"http://127.0.0.1:{listen.http_port}/v1/metrics", content=json_format.MessageToJson(request),
            headers={"Content-Type": "application/json"}, timeout=5,
        )  # fmt: skip
        observed = future.result(timeout=30)
    provider.shutdown()
    assert (response.status_code, response.json()) == (200, {})
    assert infer(observed).convention == "otel"


def test_old_semantic_conventions_pushed_are_refused_with_the_opt_in() -> None:
    """http.server.duration in ms (what opentelemetry-instrument emits by default): one line with the opt-in."""
    listen = listen_ports()
    with receiving(listen) as future:
        provider = record_http(exporter("http", listen), "inventory", old=True)
        observed = future.result(timeout=30)
    provider.shutdown()
    with pytest.raises(ProbeError, match="OTEL_SEMCONV_STABILITY_OPT_IN=http") as caught:
        infer(observed)
    assert "http_server_duration_milliseconds{http_method,http_status_code,http_target}" in str(caught.value)


@pytest.mark.parametrize("protocol", ["gRPC", "HTTP"])
def test_a_port_in_use_is_one_line(protocol: str) -> None:
    """Another listener on the OTLP port (the stack's collector, say): one line naming the port and the flag."""
    listen = listen_ports(seconds=1)
    port = listen.grpc_port if protocol == "gRPC" else listen.http_port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with pytest.raises(ProbeError) as caught:
            receive(listen, None)
    message = str(caught.value)
    assert f"127.0.0.1:{port} (OTLP {protocol}) is in use" in message
    assert f"--{protocol.lower()}-port" in message


def test_nothing_received_is_one_line() -> None:
    """No export within --seconds: one line saying what was expected."""
    listen = listen_ports(seconds=1)
    started = time.monotonic()
    with pytest.raises(ProbeError, match="no metrics arrived in 1 s"):
        receive(listen, None)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("name", "unit", "kind", "expected"),
    [
        ("http.server.request.duration", "s", "histogram", "http_server_request_duration_seconds"),
        ("http.server.active_requests", "{request}", "gauge", "http_server_active_requests"),
        ("http.server.duration", "ms", "histogram", "http_server_duration_milliseconds"),
        ("orders.placed", "{order}", "counter", "orders_placed_total"),
        ("process.memory.usage", "By", "gauge", "process_memory_usage_bytes"),
        ("db.pool.utilization", "1", "gauge", "db_pool_utilization_ratio"),
    ],
)
def test_otlp_names_as_prometheus_has_them(name: str, unit: str, kind: str, expected: str) -> None:
    """OTLP names are translated as the collector's remote write names them (unit and type suffixes)."""
    assert prometheus_name(name, unit, kind) == expected  # type: ignore[arg-type]
