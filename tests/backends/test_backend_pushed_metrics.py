"""Metrics pushed by OTLP reach Prometheus labelled as a scraped service's are, on the pinned collector and
Prometheus builds: the collector's generated metrics pipeline (tests/golden/stack.yaml, local placement) takes
an OpenTelemetry SDK's histogram and remote-writes it, with `service` and the service's stack.yaml labels set
for a metrics_source otlp service only."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from stack import conventions as c
from stack.builders.otelcol import build_otelcol
from stack.config import load_settings
from stack.settings import StackSettings
from stack.tools import cached_binary
from tests.support import absent, free_port, pinned_tool

pytestmark = pytest.mark.tools
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "stack.yaml"
LOCAL = c.Placement(local=True, data_root="/d", project_root="/p", config_root="/cfg")
HISTOGRAM = "http_server_request_duration_seconds_count"


def metrics_only(settings: StackSettings, otlp: int, prometheus: int) -> dict[str, Any]:
    """The generated local collector config, its metrics pipeline alone, on free ports."""
    data = build_otelcol(settings, LOCAL).to_data()
    data["receivers"]["otlp"]["protocols"] = {"grpc": {"endpoint": f"127.0.0.1:{otlp}"}}
    data["extensions"]["health_check"]["endpoint"] = f"127.0.0.1:{free_port()}"
    data["exporters"] = {"prometheusremotewrite": data["exporters"]["prometheusremotewrite"]}
    data["exporters"]["prometheusremotewrite"]["endpoint"] = f"http://127.0.0.1:{prometheus}/api/v1/write"
    data.pop("connectors", None)
    data["service"]["pipelines"] = {"metrics": {**data["service"]["pipelines"]["metrics"], "receivers": ["otlp"]}}
    reader = data["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"]
    reader["port"] = free_port()
    return data


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """Prometheus (remote write receiver on) and the collector, on free ports: (OTLP gRPC port, Prometheus
    port); both stopped at the end."""
    settings = load_settings(GOLDEN)
    otlp, port = free_port(), free_port()
    (tmp_path / "prometheus.yml").write_text("global: {scrape_interval: 15s}\n", encoding="utf-8")
    (tmp_path / "otelcol.yaml").write_text(yaml.safe_dump(metrics_only(settings, otlp, port)), encoding="utf-8")
    prometheus = [pinned_tool(settings, "prometheus"), f"--config.file={tmp_path / 'prometheus.yml'}",
                  f"--web.listen-address=127.0.0.1:{port}", f"--storage.tsdb.path={tmp_path / 'data'}",
                  "--web.enable-remote-write-receiver"]  # fmt: skip
    version = settings.components.pinned("otelcol")
    binary = cached_binary("otelcol", version, "otelcol-obsstack")
    if binary is None:
        absent(f"otelcol {version} is not built (obsstack components build otelcol)")
    collector = [str(binary), f"--config={tmp_path / 'otelcol.yaml'}"]
    log = (tmp_path / "log.txt").open("w")
    started = [subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT) for cmd in (prometheus, collector)]
    try:
        yield otlp, port
    finally:
        for process in started:
            process.terminate()
            process.wait(timeout=30)
        log.close()


def push(otlp: int, service: str) -> bool:
    """One OpenTelemetry SDK's http.server.request.duration histogram (seconds), as a stable-semconv FastAPI
    instrumentation records it, exported once over OTLP gRPC: whether the export succeeded."""
    exporter = OTLPMetricExporter(endpoint=f"127.0.0.1:{otlp}", insecure=True)
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=60_000)
    resource = Resource.create({"service.name": service, "service.instance.id": f"{service}-1"})
    provider = MeterProvider(resource=resource, metric_readers=[reader])
    histogram = provider.get_meter("probe").create_histogram("http.server.request.duration", unit="s")
    histogram.record(0.12, {"http.route": "/items", "http.request.method": "GET", "http.response.status_code": 200})
    done = provider.force_flush(timeout_millis=5_000)
    provider.shutdown()
    return done


def series(port: int, deadline: float) -> list[dict[str, str]]:
    """The histogram's count series in Prometheus, once both services' have arrived (bounded wait)."""
    found: list[dict[str, str]] = []
    while time.monotonic() < deadline and len(found) < 2:
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/series", params={"match[]": HISTOGRAM}, timeout=5)
            found = answer.json()["data"] if answer.status_code == 200 else []
        except httpx.TransportError:
            found = []
        time.sleep(0.5)
    return found


def test_pushed_metrics_get_the_service_label_and_its_labels(stack: tuple[int, int]) -> None:
    """inventory (metrics_source otlp) arrives with service="inventory" and team="stock" beside the route
    label the rules read; a service not declared as pushing (orders) gets no `service`, so a scraped service
    that also pushes is never counted twice."""
    otlp, port = stack
    deadline = time.monotonic() + 60
    pending = ["inventory", "orders"]
    while pending and time.monotonic() < deadline:  # the collector's receiver may not listen yet
        if push(otlp, pending[0]):
            pending.pop(0)
        else:
            time.sleep(0.5)
    by_name = {s["service_name"]: s for s in series(port, deadline)}
    assert set(by_name) == {"inventory", "orders"}, by_name
    inventory = by_name["inventory"]
    assert (inventory.get(c.SERVICE_LABEL), inventory.get("team"), inventory.get("http_route")) == (
        "inventory", "stock", "/items")  # fmt: skip
    assert inventory.get("instance") == "inventory-1"
    assert c.SERVICE_LABEL not in by_name["orders"]
