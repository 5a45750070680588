"""Fault toggles: opt-in, token-protected, the verify JSON contract, and each fault's observable effect."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from obsstack_fastapi import ObsSettings, Toggle

from .conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
ENABLED = {"faults_enabled": True, "faults_token": TOKEN, "faults_seed": 7}
ZERO = {"latency_seconds": 0.0, "error_rate": 0.0, "hold_connections": 0, "held_connections": 0}
ITEM = {"handler": "/items/{item_id}", "method": "GET"}


async def test_disabled_is_404(make_service: Callable[..., Any]) -> None:
    """Without OBS_FAULTS_ENABLED the fault routes do not exist, token or not."""
    service = make_service()
    async with service.client() as c:
        for method in ("GET", "PUT", "DELETE"):
            assert (await c.request(method, "/admin/faults", headers=AUTH, json={})).status_code == 404


def test_enabled_without_token_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """OBS_FAULTS_ENABLED=true without OBS_FAULTS_TOKEN(_FILE) is refused, naming both variables."""
    monkeypatch.setenv("OBS_FAULTS_ENABLED", "true")
    with pytest.raises(ValidationError, match="OBS_FAULTS_TOKEN or OBS_FAULTS_TOKEN_FILE"):
        ObsSettings(service_name="svc")


async def test_bad_token_is_401(make_service: Callable[..., Any]) -> None:
    """A missing, wrong or non-Bearer token is 401 on every method, and changes nothing."""
    service = make_service(**ENABLED)
    async with service.client() as c:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            for method in ("GET", "PUT", "DELETE"):
                body = {"error_rate": 1.0}
                assert (await c.request(method, "/admin/faults", headers=headers, json=body)).status_code == 401
        assert (await c.get("/admin/faults", headers=AUTH)).json() == ZERO


async def test_json_contract(make_service: Callable[..., Any]) -> None:
    """PUT changes only the named fields, every answer is the state, bounds and unknown fields are 422,
    DELETE resets."""
    service = make_service(**ENABLED)
    async with service.client() as c:
        assert (await c.get("/admin/faults", headers=AUTH)).json() == ZERO
        assert (await c.put("/admin/faults", headers=AUTH, json={"error_rate": 0.25})).json()["error_rate"] == 0.25
        state = (await c.put("/admin/faults", headers=AUTH, json={"latency_seconds": 0.01})).json()
        assert state == {**ZERO, "error_rate": 0.25, "latency_seconds": 0.01}
        for bad in ({"error_rate": 2}, {"latency_seconds": 61}, {"hold_connections": -1}, {"surprise": 1}):
            assert (await c.put("/admin/faults", headers=AUTH, json=bad)).status_code == 422
        assert (await c.delete("/admin/faults", headers=AUTH)).json() == ZERO


async def test_latency_applies_except_to_own_routes(make_service: Callable[..., Any]) -> None:
    """Injected latency slows the user's route (and lands in its histogram bucket), not health or metrics."""
    service = make_service(**ENABLED)
    async with service.client() as c:
        await c.put("/admin/faults", headers=AUTH, json={"latency_seconds": 0.21})
        start = time.perf_counter()
        assert (await c.get("/items/1")).status_code == 200
        assert time.perf_counter() - start >= 0.21
        for path in ("/healthz", "/ready", "/metrics", "/admin/faults"):
            start = time.perf_counter()
            await c.get(path, headers=AUTH)
            assert time.perf_counter() - start < 0.2, path
    assert service.sample("http_request_duration_seconds_bucket", {**ITEM, "le": "0.2"}) == 0
    assert service.sample("http_request_duration_seconds_bucket", {**ITEM, "le": "0.25"}) == 1


async def test_error_share(make_service: Callable[..., Any]) -> None:
    """error_rate 1 fails every user request with 500 (health stays 200); 0.5 fails about half, counted 5xx."""
    service = make_service(**ENABLED)
    async with service.client() as c:
        await c.put("/admin/faults", headers=AUTH, json={"error_rate": 1.0})
        failed = await c.get("/items/1")
        assert (failed.status_code, failed.json()) == (500, {"detail": "injected fault"})
        assert failed.headers["x-request-id"]
        assert (await c.get("/healthz")).status_code == 200
        await c.put("/admin/faults", headers=AUTH, json={"error_rate": 0.5})
        codes = [(await c.get("/items/1")).status_code for _ in range(100)]
    assert 30 <= codes.count(500) <= 70
    assert service.sample("http_requests_total", {**ITEM, "status": "5xx"}) == 1 + codes.count(500)


async def test_extra_toggle(make_service: Callable[..., Any]) -> None:
    """An app's own toggle is served by the same endpoint: in the state, bounded, and reset by DELETE."""
    service = make_service(**ENABLED)
    value = {"rate": 0.0}
    service.obs.add_fault_toggle(Toggle("payment_failure_rate", lambda: value["rate"], lambda r: value.update(rate=r)))
    async with service.client() as c:
        state = (await c.put("/admin/faults", headers=AUTH, json={"payment_failure_rate": 0.3})).json()
        assert state == {**ZERO, "payment_failure_rate": 0.3}
        assert value["rate"] == 0.3
        bad = await c.put("/admin/faults", headers=AUTH, json={"payment_failure_rate": 1.5})
        assert bad.status_code == 422
        assert (await c.delete("/admin/faults", headers=AUTH)).json()["payment_failure_rate"] == 0.0


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A real SQLite pool: 2 connections, waits 0.3 s before timing out."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}"
    created = create_async_engine(url, poolclass=AsyncAdaptedQueuePool, pool_size=2, max_overflow=0, pool_timeout=0.3)
    yield created
    await created.dispose()


async def test_hold_connections(make_service: Callable[..., Any], engine: AsyncEngine) -> None:
    """hold_connections checks connections out of the instrumented pool (capped at capacity): gauges rise,
    the app's own checkout waits and times out; DELETE gives them back."""
    service = make_service(**ENABLED)
    service.obs.instrument_engine(engine, capacity=2)
    pool = {"pool": "default"}
    async with service.client() as c:
        held = (await c.put("/admin/faults", headers=AUTH, json={"hold_connections": 5})).json()
        assert (held["hold_connections"], held["held_connections"]) == (5, 2)
        assert service.sample("db_pool_connections_in_use", pool) == 2
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await engine.connect()
        assert (await c.delete("/admin/faults", headers=AUTH)).json()["held_connections"] == 0
    assert service.sample("db_pool_connections_in_use", pool) == 0
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT 1"))).scalar() == 1
