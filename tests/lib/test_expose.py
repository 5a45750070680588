"""`expose` alone: any registry on any path, optionally behind a bearer token."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter

from obsstack_fastapi import expose


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def registry_with_counter() -> CollectorRegistry:
    registry = CollectorRegistry()
    Counter("jobs_done_total", "Jobs done.", registry=registry).inc(3)
    return registry


async def test_expose_without_token() -> None:
    """`expose(app, path, registry=)` serves the registry's samples in the Prometheus text format."""
    app = FastAPI()
    expose(app, "/internal/metrics", registry=registry_with_counter())
    async with client(app) as c:
        response = await c.get("/internal/metrics")
        assert response.status_code == 200
        assert "jobs_done_total 3.0" in response.text
        assert (await c.get("/metrics")).status_code == 404


async def test_expose_with_token() -> None:
    """With a token, a scrape without it or with a wrong one is 401; with it, 200."""
    app = FastAPI()
    expose(app, token="scrape-secret", registry=registry_with_counter())
    async with client(app) as c:
        assert (await c.get("/metrics")).status_code == 401
        assert (await c.get("/metrics", headers={"Authorization": "Bearer nope"})).status_code == 401
        assert (await c.get("/metrics", headers={"Authorization": "scrape-secret"})).status_code == 401
        good = await c.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        assert good.status_code == 200
        assert "jobs_done_total 3.0" in good.text


async def test_expose_openmetrics_on_request() -> None:
    """A scraper asking for OpenMetrics gets it (the format that carries exemplars)."""
    app = FastAPI()
    expose(app, registry=registry_with_counter())
    async with client(app) as c:
        response = await c.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
        assert response.headers["content-type"].startswith("application/openmetrics-text")
        assert response.text.rstrip().endswith("# EOF")
