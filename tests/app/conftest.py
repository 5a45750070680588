"""Fixtures for the sample app: isolated settings, injected registry, in-memory spans, captured logs."""

from __future__ import annotations

import io
import json
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from obsstack_fastapi import ObsSettings
from sample_app.app import create_app
from sample_app.settings import AppSettings

_STANDARD_ENV = ("DATABASE_URL", "SENTRY_DSN", "PROMETHEUS_MULTIPROC_DIR")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No APP_*, OBS_*, OTEL_* or standard variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("APP_", "OBS_", "OTEL_")) or name in _STANDARD_ENV:
            monkeypatch.delenv(name)


class Harness:
    """One app under test with everything it records."""

    def __init__(self, app: FastAPI, registry: CollectorRegistry, spans: InMemorySpanExporter,
                 logs: io.StringIO) -> None:  # fmt: skip
        self.app = app
        self.registry = registry
        self.spans = spans
        self.logs = logs

    def log_lines(self) -> list[dict[str, Any]]:
        """Every JSON log line written so far."""
        return [json.loads(line) for line in self.logs.getvalue().splitlines() if line.strip()]

    def access_lines(self) -> list[dict[str, Any]]:
        return [line for line in self.log_lines() if line.get("event") == "request"]

    def finished_spans(self) -> list[Any]:
        """Spans exported so far (the batch processor is flushed first)."""
        self.app.state.observability.telemetry.tracer_provider.force_flush()
        return list(self.spans.get_finished_spans())

    def sample(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        return self.registry.get_sample_value(name, labels or {})

    def series_count(self) -> int:
        return sum(len(metric.samples) for metric in self.registry.collect())

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://test")


def settings_for(tmp_path: Path, **overrides: Any) -> AppSettings:
    """Settings with a private SQLite file and no exporters unless asked; instrumentation fields
    (``faults_enabled``, ``trace_sample_ratio``...) go to the composed `ObsSettings`."""
    obs = {k: overrides.pop(k) for k in list(overrides) if k in ObsSettings.model_fields}
    values: dict[str, Any] = {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}"}
    values.update(overrides)
    return AppSettings(obs=ObsSettings(**obs), **values)


@pytest.fixture
def make_harness(tmp_path: Path) -> Callable[..., Harness]:
    """Build an app from settings overrides (and `instrument` seams) with injected registry and sinks."""

    def build(seams: dict[str, Any] | None = None, **overrides: Any) -> Harness:
        registry = CollectorRegistry()
        spans = InMemorySpanExporter()
        logs = io.StringIO()
        seams = {"registry": registry, "span_exporter": spans, "log_stream": logs, **(seams or {})}
        app = create_app(settings_for(tmp_path, **overrides), **seams)
        return Harness(app, registry, spans, logs)

    return build


@pytest.fixture
async def running(make_harness: Callable[..., Harness]) -> AsyncIterator[Callable[..., Any]]:
    """Async context factory: an app with its lifespan started (schema created) and a client."""
    stack: list[Any] = []

    async def start(seams: dict[str, Any] | None = None, **overrides: Any) -> tuple[Harness, httpx.AsyncClient]:
        harness = make_harness(seams, **overrides)
        lifespan = harness.app.router.lifespan_context(harness.app)
        await lifespan.__aenter__()
        client = harness.client()
        stack.append((lifespan, client))
        return harness, client

    yield start
    for lifespan, client in reversed(stack):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


@pytest.fixture
def asgi() -> Callable[..., Any]:
    """The raw ASGI request helper, as a fixture (test modules import nothing from here)."""
    return asgi_get


async def asgi_get(app: Any, path: str, headers: list[tuple[bytes, bytes]] | None = None,
                   method: str = "GET") -> tuple[int, dict[bytes, bytes], bytes]:  # fmt: skip
    """One raw ASGI request (headers exactly as given, which httpx would refuse for CR/LF)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"test"), *(headers or [])], "client": ("127.0.0.1", 1), "server": ("test", 80),
    }  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body
