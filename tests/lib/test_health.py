"""Liveness and readiness: /ready runs the user's sync and async checks and names the failing ones."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI

from obsstack_fastapi import add_health


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def database_down() -> None:
    raise ConnectionRefusedError("database down")


def cache_ok() -> bool:
    return True


def queue_full() -> bool:
    return False


async def test_ready_names_failing_checks(make_service: Callable[..., Any]) -> None:
    """A raising async check and a sync check returning False make /ready 503 with both names, in order;
    /healthz stays 200 and the failure is logged with the check's name."""
    checks = {"database": database_down, "cache": cache_ok, "queue": queue_full}
    service = make_service({"checks": checks})
    async with service.client() as c:
        ready = await c.get("/ready")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "failing": ["database", "queue"]}
        assert (await c.get("/healthz")).status_code == 200
    warnings = [line for line in service.log_lines() if line["event"] == "not ready"]
    assert {(line["check"], line["error"]) for line in warnings} == {
        ("database", "ConnectionRefusedError"), ("queue", "returned False")}  # fmt: skip


async def test_checks_added_later_and_passing(make_service: Callable[..., Any]) -> None:
    """Checks added on the handle after instrument() count; all passing is 200 ready."""
    service = make_service()
    service.obs.add_check("cache", cache_ok)
    async with service.client() as c:
        assert (await c.get("/ready")).json() == {"status": "ready"}
        service.obs.add_check("queue", queue_full)
        assert (await c.get("/ready")).json()["failing"] == ["queue"]


async def test_slow_check_times_out() -> None:
    """A check slower than the timeout fails instead of hanging /ready."""

    async def slow() -> None:
        await asyncio.sleep(5)

    app = FastAPI()
    add_health(app, {"slow": slow}, timeout=0.05)
    async with client(app) as c:
        response = await c.get("/ready")
    assert (response.status_code, response.json()["failing"]) == (503, ["slow"])


async def test_existing_routes_are_kept(make_service: Callable[..., Any]) -> None:
    """An app that already serves /healthz keeps its own handler; /ready is still added."""
    app = FastAPI()

    @app.get("/healthz")
    async def mine() -> dict[str, str]:
        return {"mine": "yes"}

    service = make_service(app=app)
    async with service.client() as c:
        assert (await c.get("/healthz")).json() == {"mine": "yes"}
        assert (await c.get("/ready")).status_code == 200
