"""HTTP metrics with bounded labels in two conventions, and the metrics endpoint (`expose`).

``instrumentator`` (default) follows prometheus-fastapi-instrumentator (``should_group_status_codes``,
``should_group_untemplated``): ``http_requests_total{handler,method,status}`` with ``status`` the class
(``2xx``), ``http_request_duration_seconds{handler,method}``, ``http_requests_inprogress{handler,method}``.

``otel`` follows the OpenTelemetry HTTP server semantic conventions as Prometheus exposes them:
``http_server_request_duration_seconds{http_route,http_request_method,http_response_status_code}``
(the numeric code, e.g. ``503``) and ``http_server_active_requests{http_request_method}``; the
histogram's ``_count`` is the request count, so there is no separate counter.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import prometheus_client
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response

from .auth import bearer_ok
from .processes import LiveWorkersProcessCollector
from .settings import METRICS_PATH

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
_STATUS_CLASS = {n: f"{n}xx" for n in range(1, 6)}


class RequestMetrics(Protocol):
    """What the middleware records into: `started` returns what `finished`'s caller decrements."""

    def started(self, handler: str, method: str) -> Any: ...

    def finished(self, handler: str, method: str, status: int, seconds: float, trace_id: str | None) -> None: ...


class _Children:
    """Label children cached per label tuple (``labels()`` costs a lock and a dict lookup each time)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Any, ...], Any] = {}

    def get(self, metric: Any, *values: str) -> Any:
        key = (id(metric), *values)
        child = self._cache.get(key)
        if child is None:
            child = self._cache[key] = metric.labels(*values)
        return child


class HttpMetrics(_Children):
    """prometheus-fastapi-instrumentator's names and labels."""

    def __init__(self, registry: CollectorRegistry, buckets: tuple[float, ...]) -> None:
        super().__init__()
        self.requests = Counter(
            "http_requests_total", "Total number of requests by method, status and handler.",
            ("handler", "method", "status"), registry=registry,
        )  # fmt: skip
        self.duration = Histogram(
            "http_request_duration_seconds", "Latency with only few buckets by handler.",
            ("handler", "method"), buckets=buckets, registry=registry,
        )  # fmt: skip
        self.inprogress = Gauge(
            "http_requests_inprogress", "Number of HTTP requests in progress.",
            ("handler", "method"), registry=registry, multiprocess_mode="livesum",
        )  # fmt: skip

    def started(self, handler: str, method: str) -> Gauge:
        """Increment and return the in-progress child for (handler, method)."""
        gauge: Gauge = self.get(self.inprogress, handler, method)
        gauge.inc()
        return gauge

    def finished(self, handler: str, method: str, status: int, seconds: float, trace_id: str | None) -> None:
        """Count the request and observe its duration (with a trace_id exemplar when sampled)."""
        self.get(self.requests, handler, method, _STATUS_CLASS.get(status // 100, "5xx")).inc()
        self.get(self.duration, handler, method).observe(seconds, {"trace_id": trace_id} if trace_id else None)


class OtelHttpMetrics(_Children):
    """OpenTelemetry HTTP semantic conventions (``http.server.*``) with Prometheus names."""

    def __init__(self, registry: CollectorRegistry, buckets: tuple[float, ...]) -> None:
        super().__init__()
        self.duration = Histogram(
            "http_server_request_duration_seconds", "Duration of HTTP server requests.",
            ("http_route", "http_request_method", "http_response_status_code"), buckets=buckets,
            registry=registry,
        )  # fmt: skip
        self.active = Gauge(
            "http_server_active_requests", "Number of active HTTP server requests.",
            ("http_request_method",), registry=registry, multiprocess_mode="livesum",
        )  # fmt: skip

    def started(self, handler: str, method: str) -> Gauge:
        gauge: Gauge = self.get(self.active, method)
        gauge.inc()
        return gauge

    def finished(self, handler: str, method: str, status: int, seconds: float, trace_id: str | None) -> None:
        child = self.get(self.duration, handler, method, str(status))
        child.observe(seconds, {"trace_id": trace_id} if trace_id else None)


class _NoGauge:
    def dec(self) -> None:
        return None


class NoMetrics:
    """The metrics pillar switched off: nothing recorded."""

    _gauge = _NoGauge()

    def started(self, handler: str, method: str) -> _NoGauge:
        return self._gauge

    def finished(self, handler: str, method: str, status: int, seconds: float, trace_id: str | None) -> None:
        return None


def http_metrics(convention: str, registry: CollectorRegistry, buckets: tuple[float, ...]) -> RequestMetrics:
    """The metrics of the chosen convention (``instrumentator`` or ``otel``)."""
    if convention == "otel":
        return OtelHttpMetrics(registry, buckets)
    return HttpMetrics(registry, buckets)


def normalize_method(method: str) -> str:
    """Standard methods as they are; anything else is ``other`` so labels stay bounded."""
    return method if method in METHODS else "other"


def scrape_registry(registry: CollectorRegistry, multiprocess_dir: Path | None) -> CollectorRegistry:
    """The registry to expose: the app's own, or in multiprocess mode one merged over all workers."""
    if multiprocess_dir is None:
        return registry
    merged = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(merged, path=str(multiprocess_dir))  # type: ignore[no-untyped-call]
    merged.register(LiveWorkersProcessCollector(multiprocess_dir))
    return merged


def metrics_endpoint(
    registry: CollectorRegistry, multiprocess_dir: Path | None, token: str | None
) -> Callable[[Request], Response]:
    """The metrics handler: 401 without the token; OpenMetrics (with exemplars) when asked for."""

    def metrics(request: Request) -> Response:
        if not bearer_ok(request.headers.get("authorization"), token):
            return Response("unauthorized\n", status_code=401, headers={"WWW-Authenticate": "Bearer"})
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        body = encoder(scrape_registry(registry, multiprocess_dir))
        return Response(body, headers={"Content-Type": content_type})

    return metrics


def expose(
    app: FastAPI, path: str = METRICS_PATH, token: str | None = None, *,
    registry: CollectorRegistry | None = None, multiprocess_dir: Path | None = None,
) -> None:  # fmt: skip
    """Serve ``registry`` (default: prometheus_client's global one) on ``GET path``.

    With ``token``, a scrape needs ``Authorization: Bearer <token>`` (401 otherwise, constant-time compare).
    """
    chosen = registry if registry is not None else prometheus_client.REGISTRY
    endpoint = metrics_endpoint(chosen, multiprocess_dir, token)
    app.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False)
