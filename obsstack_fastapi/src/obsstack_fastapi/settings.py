"""Settings of the observability module: one pydantic-settings model, safe defaults.

Every field reads ``APP_<FIELD>`` from the environment, except the standard names
``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_PROTOCOL``, ``SENTRY_DSN`` and
``PROMETHEUS_MULTIPROC_DIR``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0)
DEFAULT_POOL_WAIT_BUCKETS: tuple[float, ...] = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _split_csv(value: object) -> object:
    """Accept ``"a,b,c"`` from the environment as well as a real sequence."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _parse_rates(value: object) -> object:
    """``"/orders=0.1,/orders/{order_id}=0.05"`` -> ``{"/orders": 0.1, ...}``; a mapping passes through."""
    if not isinstance(value, str):
        return value
    rates: dict[str, object] = {}
    for item in (part.strip() for part in value.split(",") if part.strip()):
        route, sep, rate = item.rpartition("=")
        if not sep or not route.strip():
            raise ValueError(f"expected route=rate, got {item!r}")
        rates[route.strip()] = rate.strip()
    return rates


def read_secret(value: SecretStr | None, file: Path | None, name: str) -> str | None:
    """The secret itself, or the stripped content of its ``*_FILE``; a set but empty file is an error."""
    if value is not None and value.get_secret_value():
        return value.get_secret_value()
    if file is None:
        return None
    try:
        text = file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{name}_FILE={file}: cannot read ({exc.strerror})") from exc
    if not text:
        raise ValueError(f"{name}_FILE={file}: file is empty, expected a token")
    return text


class ObservabilitySettings(BaseSettings):
    """What `instrument()` needs. The app's own settings extend this class."""

    model_config = SettingsConfigDict(env_prefix="APP_", extra="forbid", frozen=True, populate_by_name=True)

    service_name: str = "orders"
    service_version: str = "0.1.0"
    environment: str = "production"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    latency_buckets: Annotated[tuple[float, ...], NoDecode] = DEFAULT_LATENCY_BUCKETS
    metrics_token: SecretStr | None = None
    metrics_token_file: Path | None = None
    metrics_excluded_handlers: Annotated[tuple[str, ...], NoDecode] = ("/metrics", "/admin/faults")
    log_excluded_routes: Annotated[tuple[str, ...], NoDecode] = ("/healthz", "/ready", "/metrics")
    log_sample_routes: Annotated[dict[str, float], NoDecode] = Field(default_factory=dict)
    slow_request_seconds: float = Field(0.2, gt=0.0)
    db_pool_name: str = "default"
    trace_sample_ratio: float = Field(1.0, ge=0.0, le=1.0)
    otlp_endpoint: str | None = Field(
        None, validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otlp_endpoint")
    )
    otlp_protocol: Literal["grpc", "http/protobuf"] | None = Field(
        None, validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_PROTOCOL", "otlp_protocol")
    )
    otlp_logs: bool = True
    otlp_timeout_seconds: float = Field(2.0, gt=0.0, le=30.0)
    sentry_dsn: SecretStr | None = Field(None, validation_alias=AliasChoices("SENTRY_DSN", "sentry_dsn"))
    multiprocess_dir: Path | None = Field(
        None, validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR", "multiprocess_dir")
    )

    @field_validator("latency_buckets", "metrics_excluded_handlers", "log_excluded_routes", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("log_sample_routes", mode="before")
    @classmethod
    def _rates(cls, value: object) -> object:
        return _parse_rates(value)

    @field_validator("log_sample_routes")
    @classmethod
    def _rates_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for route, rate in value.items():
            if not route.startswith("/") or not 0.0 <= rate <= 1.0:
                raise ValueError(f"expected /route=rate with a rate in 0..1, got {route}={rate:g}")
        return value

    @field_validator("latency_buckets")
    @classmethod
    def _buckets_ascending(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(b <= 0 for b in value) or list(value) != sorted(set(value)):
            raise ValueError(f"must be strictly increasing positive seconds, got {value}")
        return value

    @property
    def json_logs(self) -> bool:
        """JSON unless asked for console, or in development with the automatic format."""
        if self.log_format != "auto":
            return self.log_format == "json"
        return self.environment != "development"

    @property
    def resolved_otlp_protocol(self) -> str:
        """The explicit protocol, else gRPC for port 4317 and HTTP/protobuf otherwise (the OTel default)."""
        if self.otlp_protocol:
            return self.otlp_protocol
        endpoint = (self.otlp_endpoint or "").rstrip("/")
        return "grpc" if endpoint.endswith(":4317") else "http/protobuf"

    def resolved_metrics_token(self) -> str | None:
        """The bearer token protecting ``/metrics``, if any."""
        return read_secret(self.metrics_token, self.metrics_token_file, "APP_METRICS_TOKEN")
