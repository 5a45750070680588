"""Access-log sampling: health and metrics quiet by default, errors and slow requests always logged, counted."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from obsstack_fastapi.sampling import LogSampler
from prometheus_client import CollectorRegistry

from sample_app.settings import AppSettings

AUTH = {"Authorization": "Bearer t0ken"}


async def test_one_percent_keeps_every_failure_and_counts_the_rest(running: Callable) -> None:
    """At 1 %, 2,000 successes and 20 failures log all 20 failures; logged + sampled out = 2,020."""
    harness, client = await running({"log_random": random.Random(7).random}, log_sample_routes="/orders=0.01")
    for index in range(2020):
        limit = 0 if index % 101 == 100 else 1  # limit=0 is a 422 on the same route
        await client.get("/orders", params={"limit": limit})
    lines = [line for line in harness.access_lines() if line["route"] == "/orders"]
    failures = [line for line in lines if line["status"] == 422]
    sampled_out = harness.sample("log_lines_sampled_out_total")
    assert len(failures) == 20
    assert 5 <= len(lines) - len(failures) <= 50
    assert len(lines) + sampled_out == 2020


async def test_health_and_metrics_are_not_access_logged(running: Callable) -> None:
    """By default /healthz, /ready and /metrics write no access line (counted as sampled out when observed)."""
    harness, client = await running()
    for path in ("/healthz", "/ready", "/metrics"):
        assert (await client.get(path)).status_code == 200
    await client.get("/orders")
    assert [line["route"] for line in harness.access_lines()] == ["/orders"]
    assert harness.sample("log_lines_sampled_out_total") == 2  # /metrics is not observed at all


async def test_errors_and_slow_requests_are_always_logged(running: Callable) -> None:
    """With a rate of 0, every 5xx and every request slower than the threshold is still logged."""
    faults = {"faults_enabled": True, "faults_token": "t0ken", "faults_seed": 1}
    harness, client = await running(log_sample_routes={"/orders": 0.0}, slow_request_seconds=0.05, **faults)
    await client.get("/orders")
    await client.put("/admin/faults", headers=AUTH, json={"error_rate": 1.0})
    await client.get("/orders")
    await client.put("/admin/faults", headers=AUTH, json={"error_rate": 0.0, "latency_seconds": 0.06})
    await client.get("/orders")
    statuses = [line["status"] for line in harness.access_lines() if line["route"] == "/orders"]
    assert statuses == [500, 200]
    assert harness.access_lines()[-1]["duration_ms"] >= 50
    assert harness.sample("log_lines_sampled_out_total") == 1


async def test_failing_health_check_is_logged(running: Callable[..., Any]) -> None:
    """An excluded route is still logged when it fails (here /ready with the database unreachable). The app runs
    with its lifespan, whose end disposes the database before the test's event loop closes (a failed aiosqlite
    connection left behind posted to the closed loop from its thread during a later test)."""
    harness, client = await running(database_url="sqlite+aiosqlite:////nonexistent-dir/x.db", db_pool_timeout=1.0)
    assert (await client.get("/ready")).status_code == 503
    assert [line["status"] for line in harness.access_lines()] == [503]


def test_sampler_decision() -> None:
    """keep(): failures and slow always; excluded never when fine; a rate uses the injected random source."""
    values = iter([0.3, 0.7])
    sampler = LogSampler(CollectorRegistry(), ["/healthz"], {"/orders": 0.5, "/healthz": 1.0}, 0.2,
                         lambda: next(values))  # fmt: skip
    assert not sampler.keep("/healthz", 200, 0.01)
    assert sampler.keep("/healthz", 503, 0.01)
    assert sampler.keep("/healthz", 200, 0.2)
    assert sampler.keep("/orders", 404, 0.01)
    assert sampler.keep("/orders", 200, 0.01)  # 0.3 < 0.5
    assert not sampler.keep("/orders", 200, 0.01)  # 0.7
    assert sampler.keep("/other", 200, 0.01)
    assert sampler.sampled_out._value.get() == 2


def test_sampling_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """OBS_LOG_SAMPLE_ROUTES is route=rate pairs (templates allowed), rates in 0..1; defaults are documented."""
    settings = AppSettings().obs
    assert settings.log_excluded_routes == ("/healthz", "/ready", "/metrics")
    assert settings.log_sample_routes == {}
    assert settings.slow_request_seconds == 0.2
    monkeypatch.setenv("OBS_LOG_SAMPLE_ROUTES", "/orders=0.1, /orders/{order_id}=0.05")
    monkeypatch.setenv("OBS_LOG_EXCLUDED_ROUTES", "/healthz")
    monkeypatch.setenv("OBS_SLOW_REQUEST_SECONDS", "0.5")
    settings = AppSettings().obs
    assert settings.log_sample_routes == {"/orders": 0.1, "/orders/{order_id}": 0.05}
    assert settings.log_excluded_routes == ("/healthz",)
    assert settings.slow_request_seconds == 0.5
    for bad in ("/orders=2", "orders=0.5", "/orders"):
        monkeypatch.setenv("OBS_LOG_SAMPLE_ROUTES", bad)
        with pytest.raises(ValueError, match="route=rate"):
            AppSettings()
