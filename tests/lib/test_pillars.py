"""Each pillar can be switched off on its own; the service name comes from the environment or fails clearly."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import sentry_sdk
import structlog
from fastapi import FastAPI

from obsstack_fastapi import ConfigError, ObsSettings, instrument

from .conftest import CapturingTransport, bare_app

DSN = "http://public@127.0.0.1:9/1"


async def test_everything_on_by_default(make_service: Callable[..., Any]) -> None:
    """Defaults: metrics, JSON access log, a span, /healthz and /ready."""
    service = make_service()
    async with service.client() as client:
        assert (await client.get("/items/1")).status_code == 200
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/ready")).json() == {"status": "ready"}
        assert "http_requests_total" in (await client.get("/metrics")).text
    assert next(line["route"] for line in service.log_lines() if line["event"] == "request") == "/items/{item_id}"
    assert next(span.name for span in service.finished_spans()) == "GET /items/{item_id}"


async def test_metrics_off(make_service: Callable[..., Any]) -> None:
    """metrics=False: no /metrics route and no HTTP series; logs and traces still work."""
    service = make_service({"metrics": False})
    async with service.client() as client:
        assert (await client.get("/items/1")).status_code == 200
        assert (await client.get("/metrics")).status_code == 404
    assert service.sample("http_requests_total", {"handler": "/items/{item_id}", "method": "GET",
                                                  "status": "2xx"}) is None  # fmt: skip
    assert service.finished_spans()
    assert service.log_lines()


async def test_logs_off_leaves_logging_alone(make_service: Callable[..., Any]) -> None:
    """logs=False: structlog's configuration and the root logger's handlers and level are untouched."""
    structlog.reset_defaults()
    before = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    service = make_service({"logs": False, "access_log": False})
    async with service.client() as client:
        assert (await client.get("/items/1")).status_code == 200
    assert structlog.get_config() == before
    assert (root.handlers, root.level) == (handlers, level)
    assert service.logs.getvalue() == ""


async def test_traces_off(make_service: Callable[..., Any]) -> None:
    """traces=False: no span exported, no trace_id in logs or exemplars; metrics still counted."""
    service = make_service({"traces": False})
    async with service.client() as client:
        assert (await client.get("/items/1")).status_code == 200
    assert service.finished_spans() == []
    assert all("trace_id" not in line for line in service.log_lines())
    assert service.sample("http_requests_total", {"handler": "/items/{item_id}", "method": "GET",
                                                  "status": "2xx"}) == 1  # fmt: skip


async def test_sentry_off_even_with_a_dsn(
    make_service: Callable[..., Any], sentry_transport: CapturingTransport
) -> None:
    """sentry=False with SENTRY_DSN set: Sentry is not initialised and an error sends nothing."""
    sentry_sdk.init(dsn=None)
    service = make_service({"sentry": False, "sentry_transport": sentry_transport}, sentry_dsn=DSN)

    @service.app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    async with service.client() as client:
        assert (await client.get("/boom")).status_code == 500
    sentry_sdk.flush(timeout=1)
    assert sentry_transport.events == []
    assert sentry_sdk.get_client().transport is None


async def test_sentry_on_with_a_dsn(make_service: Callable[..., Any], sentry_transport: CapturingTransport) -> None:
    """With a DSN an unhandled error is one Sentry event tagged with request_id and trace_id."""
    service = make_service({"sentry_transport": sentry_transport}, sentry_dsn=DSN)

    @service.app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    async with service.client() as client:
        assert (await client.get("/boom", headers={"x-request-id": "e-1"})).status_code == 500
    sentry_sdk.flush(timeout=2)
    assert [event["tags"]["request_id"] for event in sentry_transport.events] == ["e-1"]
    assert sentry_transport.events[0]["tags"]["trace_id"] == format(
        service.finished_spans()[-1].context.trace_id, "032x"
    )


async def test_health_off(make_service: Callable[..., Any]) -> None:
    """health=False: neither /healthz nor /ready is mounted."""
    service = make_service({"health": False})
    async with service.client() as client:
        assert (await client.get("/healthz")).status_code == 404
        assert (await client.get("/ready")).status_code == 404


def test_missing_service_name_is_a_clear_error() -> None:
    """Without OTEL_SERVICE_NAME, OBS_SERVICE_NAME or an argument, instrument() names what to set."""
    with pytest.raises(ConfigError, match="OTEL_SERVICE_NAME"):
        instrument(FastAPI())


def test_service_name_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_SERVICE_NAME names the service; OBS_SERVICE_NAME wins over it; an argument wins over both."""
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-otel")
    assert ObsSettings().service == "from-otel"
    monkeypatch.setenv("OBS_SERVICE_NAME", "from-obs")
    assert ObsSettings().service == "from-obs"
    obs = instrument(bare_app(), service_name="explicit", logs=False, access_log=False)
    assert obs.settings.service == "explicit"
    assert obs.telemetry.tracer_provider.resource.attributes["service.name"] == "explicit"


def test_neutral_defaults() -> None:
    """No demo values: excluded handlers are the metrics and fault paths only; nothing named orders."""
    settings = ObsSettings(service_name="svc")
    assert settings.excluded_handlers == frozenset({"/metrics", "/admin/faults"})
    assert not settings.faults_enabled
    assert "orders" not in settings.model_dump_json()


def test_environment_contract(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """The variables the generator injects are the ones the settings read."""
    token_file = tmp_path / "token"
    token_file.write_text("file-token\n")
    env = {
        "OTEL_SERVICE_NAME": "billing", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317",
        "OBS_LATENCY_BUCKETS": "0.1,0.5,2", "OBS_METRICS_TOKEN_FILE": str(token_file),
        "OBS_FAULTS_ENABLED": "true", "OBS_FAULTS_TOKEN_FILE": str(token_file), "OBS_ENVIRONMENT": "compose",
    }  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = ObsSettings()
    assert (settings.service, settings.otlp_endpoint, settings.environment) == (
        "billing", "http://127.0.0.1:4317", "compose")  # fmt: skip
    assert settings.latency_buckets == (0.1, 0.5, 2.0)
    assert settings.resolved_metrics_token() == settings.resolved_faults_token() == "file-token"
    assert settings.faults_enabled


async def test_log_lines_also_go_out_as_otlp_records(make_service: Callable[..., Any]) -> None:
    """With a log exporter each line also becomes an OTLP record carrying the request's trace context."""
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter

    exporter = InMemoryLogRecordExporter()
    service = make_service({"log_exporter": exporter})
    async with service.client() as client:
        assert (await client.get("/items/3", headers={"x-request-id": "otlp-3"})).status_code == 200
    for bridge in service.obs.telemetry.bridges:
        bridge.drain()
    record = next(r.log_record for r in exporter.get_finished_logs() if r.log_record.body == "request")
    assert (record.attributes["request_id"], record.attributes["status"]) == ("otlp-3", 200)
    assert record.severity_text == "INFO"
    assert record.trace_id == service.finished_spans()[-1].context.trace_id


async def test_a_5xx_answer_is_logged_at_error_level(make_service: Callable[..., Any]) -> None:
    """The access line of a 5xx answer has level error (the Error logs panel selects it); a 2xx stays info."""
    service = make_service()

    @service.app.get("/broken")
    async def broken() -> None:
        from fastapi import HTTPException

        raise HTTPException(status_code=503, detail="down")

    async with service.client() as client:
        assert (await client.get("/broken")).status_code == 503
        assert (await client.get("/items/1")).status_code == 200
    levels = {line["status"]: line["level"] for line in service.log_lines() if line["event"] == "request"}
    assert levels == {503: "error", 200: "info"}


def test_log_lines_go_out_by_otlp_only_when_asked() -> None:
    """With an OTLP endpoint, spans are exported and log lines stay on stdout for a collector to read; only
    OBS_OTLP_LOGS=true also exports them as OTLP records."""
    from obsstack_fastapi.tracing import setup_telemetry

    endpoint = "http://127.0.0.1:4317"
    default = setup_telemetry(ObsSettings(service_name="svc", otlp_endpoint=endpoint))
    asked = setup_telemetry(ObsSettings(service_name="svc", otlp_endpoint=endpoint, otlp_logs=True))
    try:
        assert (bool(default.span_processors), default.log_exporter is None) == (True, True)
        assert (bool(asked.span_processors), asked.log_exporter is not None) == (True, True)
    finally:
        default.shutdown()
        asked.shutdown()
