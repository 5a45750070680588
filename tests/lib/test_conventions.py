"""Metric conventions: prometheus-fastapi-instrumentator's names by default, OpenTelemetry's on request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry


def names(registry: CollectorRegistry) -> set[str]:
    return {metric.name for metric in registry.collect()}


async def test_instrumentator_convention(make_service: Callable[..., Any]) -> None:
    """Default: http_requests_total{handler,method,status=2xx|4xx|5xx}, duration and in-progress by handler."""
    service = make_service()
    async with service.client() as c:
        await c.get("/items/1")
        await c.get("/items/x")
    item = {"handler": "/items/{item_id}", "method": "GET"}
    assert service.sample("http_requests_total", {**item, "status": "2xx"}) == 1
    assert service.sample("http_requests_total", {**item, "status": "4xx"}) == 1
    assert service.sample("http_request_duration_seconds_count", item) == 2
    assert service.sample("http_requests_inprogress", item) == 0
    assert not {"http_server_request_duration_seconds", "http_server_active_requests"} & names(service.registry)


async def test_otel_convention(make_service: Callable[..., Any]) -> None:
    """OBS_METRICS_CONVENTION=otel: http_server_request_duration_seconds{http_route, http_request_method,
    http_response_status_code="422"} (raw code), http_server_active_requests{http_request_method}, no counter."""
    service = make_service(metrics_convention="otel")
    async with service.client() as c:
        await c.get("/items/1")
        await c.get("/items/x")
        metrics = (await c.get("/metrics")).text
    labels = {"http_route": "/items/{item_id}", "http_request_method": "GET"}
    for code in ("200", "422"):
        with_code = {**labels, "http_response_status_code": code}
        assert service.sample("http_server_request_duration_seconds_count", with_code) == 1, code
    assert 'http_server_active_requests{http_request_method="GET"} 0.0' in metrics
    assert "http_requests_total" not in metrics
    assert "http_request_duration_seconds" not in metrics.replace("http_server_request_duration_seconds", "")
