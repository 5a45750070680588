"""Settings of the demo: safe defaults, its own APP_* names, the library's OBS_*/OTEL_* names composed in."""

from __future__ import annotations

import pytest

from obsstack_fastapi import ObsSettings
from sample_app.settings import AppSettings


def test_safe_defaults() -> None:
    """Loopback only, one worker, JSON logs, faults off, no exporter, no Sentry, contract buckets."""
    settings = AppSettings()
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.workers == 1
    assert settings.service_name == "orders"
    assert settings.obs.json_logs
    assert not settings.obs.faults_enabled
    assert settings.obs.otlp_endpoint is None
    assert settings.obs.sentry_dsn is None
    assert settings.db_capacity == 5
    assert settings.obs.latency_buckets == (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0)


def test_standard_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """DATABASE_URL, OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_ENDPOINT and SENTRY_DSN are read without a prefix."""
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u:p@db/orders")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "checkout")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")
    monkeypatch.setenv("SENTRY_DSN", "http://k@sentry/1")
    monkeypatch.setenv("OBS_ENVIRONMENT", "development")
    settings = AppSettings()
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.service_name == "checkout"
    assert settings.obs.resolved_otlp_protocol == "grpc"
    assert settings.obs.sentry_dsn is not None
    assert not settings.obs.json_logs


def test_instrumentation_reads_no_app_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's APP_* variables configure only the demo: APP_ENVIRONMENT does not reach the instrumentation."""
    monkeypatch.setenv("APP_ENVIRONMENT", "development")
    monkeypatch.setenv("APP_PORT", "9000")
    settings = AppSettings.model_validate({})
    assert settings.port == 9000
    assert settings.obs.environment == "production"


@pytest.mark.parametrize(
    ("endpoint", "protocol", "expected"),
    [("http://c:4317", None, "grpc"), ("http://c:4318", None, "http/protobuf"), ("http://c:4317", "http/protobuf",
     "http/protobuf")],
)  # fmt: skip
def test_otlp_protocol(endpoint: str, protocol: str | None, expected: str) -> None:
    """An explicit OTEL_EXPORTER_OTLP_PROTOCOL wins; otherwise port 4317 means gRPC, anything else HTTP."""
    settings = ObsSettings(otlp_endpoint=endpoint, otlp_protocol=protocol)  # type: ignore[arg-type]
    assert settings.resolved_otlp_protocol == expected


def test_unknown_keyword_is_rejected() -> None:
    """A misspelt setting passed in code is an error, not silently ignored."""
    with pytest.raises(ValueError, match="extra"):
        AppSettings(sevice_name="x")  # type: ignore[call-arg]
