"""Fault injection: off by default, token-protected, and each fault has its observable effect."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from obsstack_fastapi import ObsSettings

REPO = Path(__file__).resolve().parents[2]  # sample_app runs from the repository root

AUTH = {"Authorization": "Bearer t0ken"}
FAULTS = {"faults_enabled": True, "faults_token": "t0ken", "faults_seed": 1}


async def test_disabled_faults_are_404(running: Callable) -> None:
    """Without OBS_FAULTS_ENABLED the fault endpoints do not exist."""
    _, client = await running()
    for method in ("GET", "PUT", "DELETE"):
        assert (await client.request(method, "/admin/faults", headers=AUTH)).status_code == 404


async def test_faults_need_the_token(running: Callable) -> None:
    """Missing or wrong bearer token is 401 on every admin method."""
    _, client = await running(**FAULTS)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "t0ken"}):
        for method in ("GET", "PUT", "DELETE"):
            response = await client.request(method, "/admin/faults", headers=headers, json={})
            assert response.status_code == 401


async def test_get_put_delete_state(running: Callable) -> None:
    """PUT changes only the given fields, GET shows them, DELETE resets everything."""
    _, client = await running(**FAULTS)
    zero = {
        "latency_seconds": 0.0, "error_rate": 0.0, "hold_connections": 0, "held_connections": 0,
        "payment_failure_rate": 0.0,
    }  # fmt: skip
    assert (await client.get("/admin/faults", headers=AUTH)).json() == zero
    put = await client.put("/admin/faults", headers=AUTH, json={"error_rate": 0.25})
    assert put.json()["error_rate"] == 0.25
    put = await client.put("/admin/faults", headers=AUTH, json={"latency_seconds": 0.01})
    assert put.json()["error_rate"] == 0.25
    assert (await client.put("/admin/faults", headers=AUTH, json={"error_rate": 2})).status_code == 422
    assert (await client.delete("/admin/faults", headers=AUTH)).json() == zero


async def test_latency_applies_to_business_routes_only(running: Callable) -> None:
    """Injected latency slows /orders (into the 0.25 s bucket) but not /healthz."""
    harness, client = await running(**FAULTS)
    await client.put("/admin/faults", headers=AUTH, json={"latency_seconds": 0.21})
    start = time.perf_counter()
    assert (await client.get("/orders")).status_code == 200
    assert time.perf_counter() - start >= 0.21
    start = time.perf_counter()
    assert (await client.get("/healthz")).status_code == 200
    assert time.perf_counter() - start < 0.2
    labels = {"handler": "/orders", "method": "GET"}
    assert harness.sample("http_request_duration_seconds_bucket", {**labels, "le": "0.2"}) == 0
    assert harness.sample("http_request_duration_seconds_bucket", {**labels, "le": "0.25"}) == 1


async def test_error_rate(running: Callable) -> None:
    """error_rate 1 makes every business request 500 (health stays 200); 0.5 fails about half, seeded."""
    harness, client = await running(**FAULTS)
    await client.put("/admin/faults", headers=AUTH, json={"error_rate": 1.0})
    assert (await client.get("/orders")).status_code == 500
    assert (await client.get("/healthz")).status_code == 200
    await client.put("/admin/faults", headers=AUTH, json={"error_rate": 0.5})
    codes = [(await client.get("/orders")).status_code for _ in range(100)]
    assert 30 <= codes.count(500) <= 70
    assert set(codes) == {200, 500}
    five = harness.sample("http_requests_total", {"handler": "/orders", "method": "GET", "status": "5xx"})
    assert five == 1 + codes.count(500)


async def test_hold_connections_exhausts_the_pool(running: Callable) -> None:
    """Holding connections raises in-use, capped at capacity; then requests wait, time out (503), DELETE frees."""
    harness, client = await running(**FAULTS, db_pool_size=2, db_max_overflow=1, db_pool_timeout=0.3)
    pool = {"pool": "default"}
    held = await client.put("/admin/faults", headers=AUTH, json={"hold_connections": 10})
    assert held.json()["held_connections"] == 3
    assert harness.sample("db_pool_connections_in_use", pool) == 3
    waits_before = harness.sample("db_pool_wait_seconds_count", pool)
    waiting = asyncio.gather(*(client.get("/orders") for _ in range(3)))
    await asyncio.sleep(0.1)
    assert harness.sample("db_pool_waiting", pool) == 3
    assert [r.status_code for r in await waiting] == [503, 503, 503]
    assert harness.sample("db_pool_waiting", pool) == 0
    assert harness.sample("db_pool_wait_seconds_bucket", {**pool, "le": "0.25"}) < harness.sample(
        "db_pool_wait_seconds_count", pool
    )
    assert harness.sample("db_pool_wait_seconds_count", pool) == waits_before + 3
    await client.delete("/admin/faults", headers=AUTH)
    assert harness.sample("db_pool_connections_in_use", pool) == 0
    assert (await client.get("/orders")).status_code == 200


def test_enabled_faults_need_a_token() -> None:
    """OBS_FAULTS_ENABLED without a token is a settings error (the demo reads the library's variables)."""
    with pytest.raises(ValidationError, match="OBS_FAULTS_TOKEN"):
        ObsSettings(faults_enabled=True)


def test_main_refuses_to_start_without_fault_token(tmp_path: Any) -> None:
    """`python -m sample_app` exits 2 with one clear line when faults are enabled without a token."""
    env = {"OBS_FAULTS_ENABLED": "true", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "sample_app"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "OBS_FAULTS_TOKEN" in lines[0]
