"""Fixtures for the library alone: a bare FastAPI app, instrumented with injected sinks.

Nothing here imports `sample_app` or `stack`: these tests are what a user of `obsstack_fastapi` sees.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import sentry_sdk
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from obsstack_fastapi import Observability, ObsSettings, instrument

from .capture import CapturingTransport

_STANDARD_ENV = ("SENTRY_DSN", "PROMETHEUS_MULTIPROC_DIR")
TOKEN = "t0ken-for-tests"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OBS_*, OTEL_*, APP_* or standard variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("OBS_", "OTEL_", "APP_")) or name in _STANDARD_ENV:
            monkeypatch.delenv(name)


@pytest.fixture
def sentry_transport() -> Iterator[CapturingTransport]:
    """A capturing transport; Sentry is switched off again after the test."""
    capturing = CapturingTransport()
    yield capturing
    sentry_sdk.init(dsn=None)


class Service:
    """A bare FastAPI app with two routes, instrumented, and everything it records."""

    def __init__(self, app: FastAPI, obs: Observability, registry: CollectorRegistry,
                 spans: InMemorySpanExporter, logs: io.StringIO) -> None:  # fmt: skip
        self.app = app
        self.obs = obs
        self.registry = registry
        self.spans = spans
        self.logs = logs

    def client(self, **headers: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app)
        return httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.logs.getvalue().splitlines() if line.strip()]

    def finished_spans(self) -> list[Any]:
        self.obs.telemetry.tracer_provider.force_flush()
        return list(self.spans.get_finished_spans())

    def sample(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        return self.registry.get_sample_value(name, labels or {})


def bare_app() -> FastAPI:
    """What a user starts from: ``FastAPI()`` and a templated route."""
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def get_item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    return app


@pytest.fixture
def make_service() -> Callable[..., Service]:
    """``make_service(settings_overrides..., instrument keywords via ``options``)``."""

    def build(options: dict[str, Any] | None = None, app: FastAPI | None = None, **overrides: Any) -> Service:
        app = app if app is not None else bare_app()
        registry, spans, logs = CollectorRegistry(), InMemorySpanExporter(), io.StringIO()
        settings = ObsSettings(**{"service_name": "svc", **overrides})
        seams = {"registry": registry, "span_exporter": spans, "log_stream": logs}
        obs = instrument(app, settings, **{**seams, **(options or {})})
        return Service(app, obs, registry, spans, logs)

    return build
