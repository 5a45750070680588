"""Prometheus metrics: contract names and labels, bounded series, buckets, exemplars, token."""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sample_app.settings import AppSettings


async def test_requests_are_counted_by_template_method_and_status_class(running: Callable) -> None:
    """http_requests_total uses the route template, the method and 2xx/4xx classes."""
    harness, client = await running()
    created = (await client.post("/orders", json={"sku": "A-1", "quantity": 1})).json()
    assert (await client.get(f"/orders/{created['id']}")).status_code == 200
    assert (await client.get("/orders/999999")).status_code == 404
    labels = {"handler": "/orders/{order_id}", "method": "GET"}
    assert harness.sample("http_requests_total", {**labels, "status": "2xx"}) == 1
    assert harness.sample("http_requests_total", {**labels, "status": "4xx"}) == 1
    assert harness.sample("http_requests_total", {"handler": "/orders", "method": "POST", "status": "2xx"}) == 1
    assert harness.sample("http_request_duration_seconds_count", labels) == 2
    assert harness.sample("http_requests_inprogress", labels) == 0


async def test_random_unknown_paths_do_not_grow_series(
    asgi: Callable[..., Any], make_harness: Callable[..., Any]
) -> None:
    """10 000 random unknown paths are all counted under handler="none": the series count stays put."""
    harness = make_harness()
    rng = random.Random(7)

    def path() -> str:
        return "/" + "/".join("".join(rng.choices(string.ascii_letters, k=8)) for _ in range(2))

    assert (await asgi(harness.app, path()))[0] == 404
    before = harness.series_count()
    for _ in range(10_000):
        await asgi(harness.app, path())
    assert harness.series_count() == before
    assert harness.sample("http_requests_total", {"handler": "none", "method": "GET", "status": "4xx"}) == 10_001


async def test_unknown_methods_are_one_label(asgi: Callable[..., Any], make_harness: Callable[..., Any]) -> None:
    """Non-standard HTTP methods are labelled "other", so they cannot grow the series either."""
    harness = make_harness()
    for method in ("FOO", "BAR", "BAZ"):
        await asgi(harness.app, "/healthz", method=method)
    assert harness.sample("http_requests_total", {"handler": "/healthz", "method": "other", "status": "4xx"}) == 3


async def test_latency_buckets_come_from_settings(asgi: Callable[..., Any], make_harness: Callable[..., Any]) -> None:
    """The default buckets include 0.2 s as an edge; custom buckets replace them."""
    harness = make_harness()
    await asgi(harness.app, "/healthz")
    labels = {"handler": "/healthz", "method": "GET"}
    assert harness.sample("http_request_duration_seconds_bucket", {**labels, "le": "0.2"}) == 1
    custom = make_harness(latency_buckets=(0.3, 0.7))
    await asgi(custom.app, "/healthz")
    assert custom.sample("http_request_duration_seconds_bucket", {**labels, "le": "0.7"}) == 1
    assert custom.sample("http_request_duration_seconds_bucket", {**labels, "le": "0.2"}) is None


def test_latency_buckets_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """OBS_LATENCY_BUCKETS is comma-separated seconds and must be strictly increasing."""
    monkeypatch.setenv("OBS_LATENCY_BUCKETS", "0.05, 0.2,1")
    assert AppSettings().obs.latency_buckets == (0.05, 0.2, 1.0)
    monkeypatch.setenv("OBS_LATENCY_BUCKETS", "0.5,0.2")
    with pytest.raises(ValueError, match="strictly increasing"):
        AppSettings()


async def test_exemplars_in_openmetrics(asgi: Callable[..., Any], make_harness: Callable[..., Any]) -> None:
    """Asked for OpenMetrics, /metrics serves it with trace_id exemplars on the latency histogram."""
    harness = make_harness()
    await asgi(harness.app, "/healthz")
    trace_id = format(harness.finished_spans()[-1].context.trace_id, "032x")
    accept = [(b"accept", b"application/openmetrics-text; version=1.0.0")]
    status, headers, body = await asgi(harness.app, "/metrics", accept)
    assert status == 200
    assert headers[b"content-type"].startswith(b"application/openmetrics-text")
    assert f'# {{trace_id="{trace_id}"}}'.encode() in body
    _, plain_headers, plain = await asgi(harness.app, "/metrics")
    assert plain_headers[b"content-type"].startswith(b"text/plain")
    assert b"trace_id" not in plain


async def test_metrics_token(asgi: Callable[..., Any], make_harness: Callable[..., Any], tmp_path: Path) -> None:
    """With OBS_METRICS_TOKEN (or its file) /metrics needs the bearer token; otherwise 401."""
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-token\n")
    for harness in (make_harness(metrics_token="s3cret-token"), make_harness(metrics_token_file=token_file)):
        assert (await asgi(harness.app, "/metrics"))[0] == 401
        assert (await asgi(harness.app, "/metrics", [(b"authorization", b"Bearer nope")]))[0] == 401
        good = [(b"authorization", b"Bearer s3cret-token")]
        assert (await asgi(harness.app, "/metrics", good))[0] == 200


async def test_metrics_and_admin_are_not_business_traffic(running: Callable) -> None:
    """Scrapes and fault-admin calls are not counted in http_requests_total."""
    _, client = await running(faults_enabled=True, faults_token="t0ken")
    await client.get("/metrics")
    await client.get("/admin/faults", headers={"Authorization": "Bearer t0ken"})
    text = (await client.get("/metrics")).text
    assert 'handler="/metrics"' not in text
    assert 'handler="/admin/faults"' not in text


async def test_pool_metrics(running: Callable) -> None:
    """Pool gauges report capacity and idle connections; acquisitions are observed in the wait histogram."""
    harness, client = await running(db_pool_size=3, db_max_overflow=2)
    await client.get("/orders")
    pool = {"pool": "default"}
    assert harness.sample("db_pool_connections_max", pool) == 5
    assert harness.sample("db_pool_connections_in_use", pool) == 0
    assert harness.sample("db_pool_connections_idle", pool) >= 1
    assert harness.sample("db_pool_waiting", pool) == 0
    assert harness.sample("db_pool_wait_seconds_count", pool) >= 1


async def test_process_metrics_present(asgi: Callable[..., Any], make_harness: Callable[..., Any]) -> None:
    """The standard process metrics are exposed on /metrics."""
    harness = make_harness()
    body = (await asgi(harness.app, "/metrics"))[2]
    assert b"process_cpu_seconds_total" in body
    assert b"process_resident_memory_bytes" in body
