"""Settings of the instrumentation: one pydantic-settings model, neutral defaults, env ``OBS_*``.

Every field reads ``OBS_<FIELD>`` from the environment, except the standard names
``OTEL_SERVICE_NAME``, ``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_PROTOCOL``, ``SENTRY_DSN``
and ``PROMETHEUS_MULTIPROC_DIR``. The service name has no default: `instrument` fails with
`ConfigError` when neither an argument, ``OBS_SERVICE_NAME`` nor ``OTEL_SERVICE_NAME`` gives one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0)
DEFAULT_POOL_WAIT_BUCKETS: tuple[float, ...] = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METRICS_PATH = "/metrics"
HEALTH_PATH = "/healthz"
READY_PATH = "/ready"
FAULTS_PATH = "/admin/faults"


class ConfigError(ValueError):
    """The instrumentation cannot start with this configuration; the message names the variable."""


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
        raise ConfigError(f"{name}_FILE={file}: cannot read ({exc.strerror})") from exc
    if not text:
        raise ConfigError(f"{name}_FILE={file}: file is empty, expected a token")
    return text


def _env(name: str, *others: str) -> AliasChoices:
    """Read ``name`` (and ``others``) from the environment; the field name works as a keyword."""
    return AliasChoices(name, *others)


class ObsSettings(BaseSettings):
    """What `instrument()` reads. Compose it into your own settings (``obs: ObsSettings``)."""

    model_config = SettingsConfigDict(env_prefix="OBS_", extra="forbid", frozen=True, populate_by_name=True)

    service_name: str | None = Field(None, validation_alias=_env("OBS_SERVICE_NAME", "OTEL_SERVICE_NAME"))
    service_version: str = "unknown"
    environment: str = "production"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    latency_buckets: Annotated[tuple[float, ...], NoDecode] = DEFAULT_LATENCY_BUCKETS
    metrics_convention: Literal["instrumentator", "otel"] = "instrumentator"
    metrics_path: str = Field(METRICS_PATH, pattern=r"^/")
    metrics_token: SecretStr | None = None
    metrics_token_file: Path | None = None
    metrics_excluded_handlers: Annotated[tuple[str, ...], NoDecode] = ()
    log_excluded_routes: Annotated[tuple[str, ...], NoDecode] = (HEALTH_PATH, READY_PATH, METRICS_PATH)
    log_sample_routes: Annotated[dict[str, float], NoDecode] = Field(default_factory=dict)
    slow_request_seconds: float = Field(0.2, gt=0.0)
    db_pool_name: str = "default"
    trace_sample_ratio: float = Field(1.0, ge=0.0, le=1.0)
    otlp_endpoint: str | None = Field(None, validation_alias=_env("OTEL_EXPORTER_OTLP_ENDPOINT"))
    otlp_protocol: Literal["grpc", "http/protobuf"] | None = Field(
        None, validation_alias=_env("OTEL_EXPORTER_OTLP_PROTOCOL")
    )
    # log lines go to stdout as JSON, where a collector reads them (a file, the node's container logs); True also
    # exports each one as an OTLP log record, for a service whose output no collector can read
    otlp_logs: bool = False
    otlp_timeout_seconds: float = Field(2.0, gt=0.0, le=30.0)
    sentry_dsn: SecretStr | None = Field(None, validation_alias=_env("SENTRY_DSN"))
    multiprocess_dir: Path | None = Field(None, validation_alias=_env("PROMETHEUS_MULTIPROC_DIR"))
    faults_enabled: bool = False
    faults_token: SecretStr | None = None
    faults_token_file: Path | None = None
    faults_seed: int | None = None

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

    @model_validator(mode="after")
    def _faults_need_a_token(self) -> ObsSettings:
        if self.faults_enabled and self.faults_token is None and self.faults_token_file is None:
            raise ValueError("OBS_FAULTS_ENABLED=true needs OBS_FAULTS_TOKEN or OBS_FAULTS_TOKEN_FILE")
        return self

    @property
    def service(self) -> str:
        """The service name; `ConfigError` when none is configured."""
        if not self.service_name:
            raise ConfigError(
                "no service name: set OTEL_SERVICE_NAME (or OBS_SERVICE_NAME), "
                "or pass instrument(app, service_name=...)"
            )
        return self.service_name

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

    @property
    def excluded_handlers(self) -> frozenset[str]:
        """Not measured, traced, logged or faulted: the metrics path, the fault path, and any listed."""
        return frozenset({self.metrics_path, FAULTS_PATH, *self.metrics_excluded_handlers})

    def resolved_metrics_token(self) -> str | None:
        """The bearer token protecting the metrics path, if any."""
        return read_secret(self.metrics_token, self.metrics_token_file, "OBS_METRICS_TOKEN")

    def resolved_faults_token(self) -> str | None:
        """The fault toggles' bearer token (from the value or the file)."""
        return read_secret(self.faults_token, self.faults_token_file, "OBS_FAULTS_TOKEN")
