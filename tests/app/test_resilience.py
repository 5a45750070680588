"""Dependencies down: a dead collector or Sentry never fails or slows requests; a dead database is 503 on /ready."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from support import free_port


def closed_port() -> int:
    """A 127.0.0.1 port with nothing listening (bound, then released)."""
    return free_port()


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
async def test_dead_collector_and_sentry_do_not_hurt_requests(running: Callable, protocol: str) -> None:
    """With OTLP and Sentry pointing at a closed port, requests succeed fast and shutdown is bounded."""
    port = closed_port()
    harness, client = await running(
        {"span_exporter": None},
        otlp_endpoint=f"http://127.0.0.1:{port}",
        otlp_protocol=protocol,
        otlp_logs=True,
        otlp_timeout_seconds=0.5,
        sentry_dsn=f"http://public@127.0.0.1:{port}/1",
    )
    start = time.perf_counter()
    for i in range(30):
        assert (await client.post("/orders", json={"sku": f"S-{i}", "quantity": 1})).status_code == 201
        assert (await client.get("/orders")).status_code == 200
    assert time.perf_counter() - start < 10
    telemetry = harness.app.state.observability.telemetry
    assert telemetry.log_exporter is not None
    start = time.perf_counter()
    telemetry.tracer_provider.force_flush(timeout_millis=2000)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:////nonexistent-dir/for/sure/orders.db",
        f"postgresql+asyncpg://app:pw@127.0.0.1:{closed_port()}/orders",
    ],
)
async def test_database_down(running: Callable, url: str) -> None:
    """With the database unreachable, /ready is 503 naming it (and access-logged) and /healthz stays 200."""
    harness, client = await running(database_url=url, db_pool_timeout=1.0)
    ready = await client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["database"]
    assert (await client.get("/healthz")).status_code == 200
    assert [(line["route"], line["status"]) for line in harness.access_lines()] == [("/ready", 503)]


async def test_ready_when_database_answers(running: Callable) -> None:
    """/ready is 200 when SELECT 1 succeeds."""
    _, client = await running()
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_dead_collector_setup_is_lazy(make_harness: Callable[..., Any]) -> None:
    """Building the app with an unreachable collector does not block or fail."""
    start = time.perf_counter()
    make_harness({"span_exporter": None}, otlp_endpoint=f"http://127.0.0.1:{closed_port()}")
    assert time.perf_counter() - start < 5
