"""verify's checks on metrics pushed by OTLP, through the pinned collector's remote write into the pinned Prometheus:
the requests metric arrives with its `service` label, and the histogram's `le` values (remote write keeps the
SDK's "1", "10") are compared with the declared buckets as numbers."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from support import collector_binary, free_port

from stack import conventions as c
from stack.config import load_settings
from stack.durations import Duration
from stack.runtime import telemetry
from stack.runtime.promapi import PromClient, wait_until

pytestmark = pytest.mark.e2e

STACK = """\
project: shop
services:
  - name: inventory
    port: 18101
    metrics_source: otlp
    metrics_convention: otel
"""
# the collector as obsstack's: OTLP in, `service` from service.name, remote write with resource attributes as labels
COLLECTOR = """\
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{otlp}"}}
processors:
  resource:
    attributes:
      - {{key: service, from_attribute: service.name, action: insert}}
exporters:
  prometheusremotewrite:
    endpoint: "http://127.0.0.1:{prometheus}/api/v1/write"
    resource_to_telemetry_conversion: {{enabled: true}}
service:
  telemetry:
    metrics:
      readers:
        - pull: {{exporter: {{prometheus: {{host: 127.0.0.1, port: {metrics}}}}}}}
  pipelines:
    metrics: {{receivers: [otlp], processors: [resource], exporters: [prometheusremotewrite]}}
"""


@contextmanager
def process(argv: list[str], log: Path) -> Iterator[None]:
    with log.open("w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def push(otlp: int, buckets: tuple[float, ...]) -> None:
    """What an OpenTelemetry SDK under `opentelemetry-instrument` pushes: http.server.request.duration in seconds,
    with the semantic conventions' buckets, for service.name inventory."""
    reader = PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"http://127.0.0.1:{otlp}", insecure=True),
                                           export_interval_millis=60_000)  # fmt: skip
    view = View(instrument_name="http.server.request.duration",
                aggregation=ExplicitBucketHistogramAggregation(boundaries=buckets))  # fmt: skip
    provider = MeterProvider(resource=Resource.create({"service.name": "inventory"}), metric_readers=[reader],
                             views=[view])  # fmt: skip
    histogram = provider.get_meter("test").create_histogram("http.server.request.duration", unit="s")
    for seconds in (0.003, 0.04, 0.3, 1.0):
        histogram.record(seconds, {"http.route": "/stock", "http.request.method": "GET"})
    assert provider.force_flush(10_000)
    provider.shutdown()


def test_pushed_histogram_arrives_and_its_edges_are_checked(tmp_path: Path, make_project, prometheus_binary) -> None:
    """The pushed requests metric is found by `service`; the semantic conventions' edges match the otel
    convention's declared buckets, and a declared list with other edges fails naming both."""
    settings = load_settings(make_project(STACK))
    inventory = settings.services[0]
    prometheus, otlp, metrics = free_port(), free_port(), free_port()
    config = tmp_path / "collector.yaml"
    config.write_text(COLLECTOR.format(otlp=otlp, prometheus=prometheus, metrics=metrics), encoding="utf-8")
    (tmp_path / "prometheus.yml").write_text("global: {scrape_interval: 5s}\n", encoding="utf-8")
    flags = c.prometheus_flags(str(tmp_path / "prometheus.yml"), str(tmp_path / "data"), f"127.0.0.1:{prometheus}",
                               Duration.parse("1h"))  # fmt: skip
    prom = PromClient(f"http://127.0.0.1:{prometheus}")
    with process([prometheus_binary, *flags], tmp_path / "prometheus.log"), \
            process([collector_binary(settings), f"--config={config}"], tmp_path / "collector.log"):  # fmt: skip
        assert wait_until(lambda: (prom.ready(), "not ready"), 30, 0.2).ok, (tmp_path / "prometheus.log").read_text()
        started = wait_until(lambda: (_listening(otlp), "collector not listening"), 30, 0.2)
        assert started.ok, (tmp_path / "collector.log").read_text()
        push(otlp, c.OTEL_SEMCONV_BUCKETS)
        arrived = wait_until(telemetry.pushed_arrives(prom, inventory), 30)
        assert arrived.ok, arrived.last + (tmp_path / "collector.log").read_text()
        same = telemetry.check_buckets(prom, inventory, settings.buckets(inventory), 30)
        assert same.ok, same.last
        other = telemetry.check_buckets(prom, inventory, settings.metrics.latency_buckets, 30)
    assert not other.ok
    assert "has le [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]" in other.last
    assert "only in Prometheus: [0.075, 0.75, 2.5, 7.5, 10]" in other.last


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
