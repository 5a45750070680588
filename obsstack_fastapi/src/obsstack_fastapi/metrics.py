"""HTTP metrics with bounded labels, and the ``/metrics`` endpoint (bearer token, OpenMetrics).

Label semantics follow prometheus-fastapi-instrumentator (``should_group_status_codes=True``,
``should_group_untemplated=True``): ``handler`` is the route template or ``none``, ``status`` the class.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response

from .processes import LiveWorkersProcessCollector

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
_STATUS_CLASS = {n: f"{n}xx" for n in range(1, 6)}


class HttpMetrics:
    """The three HTTP metrics of the contract; label children are cached per label tuple."""

    def __init__(self, registry: CollectorRegistry, buckets: tuple[float, ...]) -> None:
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
        self._children: dict[tuple[str, ...], object] = {}

    def started(self, handler: str, method: str) -> Gauge:
        """Increment and return the in-progress child for (handler, method)."""
        key = ("g", handler, method)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.inprogress.labels(handler, method)
        gauge: Gauge = child  # type: ignore[assignment]
        gauge.inc()
        return gauge

    def finished(self, handler: str, method: str, status: int, seconds: float, trace_id: str | None) -> None:
        """Count the request and observe its duration (with a trace_id exemplar when sampled)."""
        status_class = _STATUS_CLASS.get(status // 100, "5xx")
        key = (handler, method, status_class)
        counter = self._children.get(key)
        if counter is None:
            counter = self._children[key] = self.requests.labels(handler, method, status_class)
        counter.inc()  # type: ignore[attr-defined]
        hkey = ("h", handler, method)
        histogram = self._children.get(hkey)
        if histogram is None:
            histogram = self._children[hkey] = self.duration.labels(handler, method)
        histogram.observe(seconds, {"trace_id": trace_id} if trace_id else None)  # type: ignore[attr-defined]


def normalize_method(method: str) -> str:
    """Standard methods as they are; anything else is ``other`` so labels stay bounded."""
    return method if method in METHODS else "other"


def scrape_registry(registry: CollectorRegistry, multiprocess_dir: Path | None) -> CollectorRegistry:
    """The registry to expose: the app's own, or in multiprocess mode one merged over all workers."""
    if multiprocess_dir is None:
        return registry
    merged = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(merged, path=str(multiprocess_dir))
    merged.register(LiveWorkersProcessCollector(multiprocess_dir))
    return merged


def bearer_ok(header: str | None, token: str | None) -> bool:
    """True when no token is configured or the header carries exactly it (constant-time compare)."""
    if token is None:
        return True
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[7:].encode(), token.encode())


def metrics_endpoint(
    registry: CollectorRegistry, multiprocess_dir: Path | None, token: str | None
) -> Callable[[Request], Response]:
    """The ``/metrics`` handler: 401 without the token; OpenMetrics (with exemplars) when asked for."""

    def metrics(request: Request) -> Response:
        if not bearer_ok(request.headers.get("authorization"), token):
            return Response("unauthorized\n", status_code=401, headers={"WWW-Authenticate": "Bearer"})
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        body = encoder(scrape_registry(registry, multiprocess_dir))
        return Response(body, headers={"Content-Type": content_type})

    return metrics
