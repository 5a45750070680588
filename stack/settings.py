"""The one settings root: stack.yaml, OBSSTACK_* environment and CLI flags, validated once.

Precedence (declared here and nowhere else): flags > OBSSTACK_* environment > stack.yaml > defaults.
Every nested model is frozen and rejects unknown keys.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from stack.conventions import BUILT_IN_ALERTS
from stack.durations import Duration

NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,63}$")
LABEL_VALUE_RE = re.compile(r"^[A-Za-z0-9 ._:/@+-]{0,128}$")
URL_RE = re.compile(r"^https?://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+$")
COMPONENT_NAMES = frozenset({"prometheus", "alertmanager", "grafana", "loki", "tempo", "otelcol", "postgres"})
RESERVED_LABELS = frozenset({"service", "job", "instance", "severity", "alertname", "le", "burnrate_tier"})

Ratio = Annotated[float, Field(gt=0, lt=1)]
Seconds = Annotated[float, Field(gt=0)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LatencyAlert(Frozen):
    """p95 latency thresholds in seconds; each must be a histogram bucket edge."""

    enabled: bool = True
    warning: Seconds = 0.2
    critical: Seconds = 0.5

    @model_validator(mode="after")
    def _ordered(self) -> LatencyAlert:
        if self.critical <= self.warning:
            raise ValueError(f"critical ({self.critical}) must be greater than warning ({self.warning})")
        return self


class ErrorRateAlert(Frozen):
    """5xx ratio thresholds, with a traffic guard in requests per second."""

    enabled: bool = True
    warning: Ratio = 0.01
    critical: Ratio = 0.05
    min_request_rate: Seconds = 0.1

    @model_validator(mode="after")
    def _ordered(self) -> ErrorRateAlert:
        if self.critical <= self.warning:
            raise ValueError(f"critical ({self.critical}) must be greater than warning ({self.warning})")
        return self


class DBPoolAlert(Frozen):
    """Connections in use / capacity thresholds, plus requests waiting for a connection."""

    enabled: bool = True
    warning: Ratio = 0.8
    critical: Ratio = 0.95
    waiting_threshold: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _ordered(self) -> DBPoolAlert:
        if self.critical <= self.warning:
            raise ValueError(f"critical ({self.critical}) must be greater than warning ({self.warning})")
        return self


class SLO(Frozen):
    """Availability objective (ratio of non-5xx requests) over the profile's SLO window."""

    objective: float = 0.999

    @field_validator("objective")
    @classmethod
    def _objective(cls, value: float) -> float:
        if not 0 < value < 1:
            raise ValueError(f"must be between 0 and 1 exclusive (0.999 = 99.9 %), got {value}")
        return value


METRIC_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,99}$")
ALERT_NAME_RE = re.compile(r"^[A-Z][A-Za-z0-9]{0,63}$")
TITLE_RE = re.compile(r"^[A-Za-z0-9 ._:/()%+-]{1,80}$")
UNIT_RE = re.compile(r"^[a-z][a-z0-9_:/.-]{0,31}$")


class BusinessMetric(Frozen):
    """A metric the app exposes beyond HTTP, with its bounded label values (others become `other`)."""

    name: str
    type: Literal["counter", "gauge", "histogram"]
    title: str
    unit: str = "short"
    labels: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _valid(self) -> BusinessMetric:
        if not METRIC_NAME_RE.match(self.name) or (self.type == "counter") != self.name.endswith("_total"):
            raise ValueError(
                f"name must be a Prometheus metric name, ending in _total exactly for counters, got {self.name!r}"
            )
        if not TITLE_RE.match(self.title) or not UNIT_RE.match(self.unit):
            raise ValueError(f"title and unit must be plain text, got {self.title!r} and {self.unit!r}")
        for key, values in self.labels.items():
            if not LABEL_NAME_RE.match(key) or key in RESERVED_LABELS or not values:
                raise ValueError(f"label {key!r} must be a non-reserved label name with at least one value")
            bad = [v for v in values if not LABEL_VALUE_RE.match(v)]
            if bad:
                raise ValueError(f"label {key} values must be plain text, got {bad}")
        return self


class BusinessAlert(Frozen):
    """Alert when the share of `metric` events matching `failure` exceeds `above` (for example payment failures)."""

    name: str
    metric: str
    failure: dict[str, str]
    matchers: dict[str, str] = Field(default_factory=dict)
    above: Ratio
    for_: Duration = Field(default=Duration.parse("10m"), alias="for")
    severity: Literal["warning", "critical"] = "warning"
    min_rate: Annotated[float, Field(ge=0)] = 0.0

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not ALERT_NAME_RE.match(value):
            raise ValueError(f"must be an alert name in CamelCase such as PaymentFailuresHigh, got {value!r}")
        return value


class Business(Frozen):
    metrics: tuple[BusinessMetric, ...] = ()
    alerts: tuple[BusinessAlert, ...] = ()

    @model_validator(mode="after")
    def _alerts_use_declared_metrics(self) -> Business:
        declared = {m.name: m for m in self.metrics}
        names = [a.name for a in self.alerts]
        for index, alert in enumerate(self.alerts):
            if alert.name in BUILT_IN_ALERTS or names.count(alert.name) > 1:
                raise ValueError(f"alerts[{index}].name: {alert.name!r} is already an alert name")
            metric = declared.get(alert.metric)
            if metric is None or metric.type == "gauge":
                raise ValueError(
                    f"alerts[{index}].metric: must name a declared counter or histogram, got {alert.metric!r}"
                )
            for key, value in {**alert.matchers, **alert.failure}.items():
                if value not in metric.labels.get(key, ()):
                    raise ValueError(
                        f"alerts[{index}]: {key}={value!r} is not a declared value of {metric.name} label {key}"
                    )
            if not alert.failure or not any(len(metric.labels[k]) > 1 for k in alert.failure):
                raise ValueError(f"alerts[{index}].failure: needs a label with another (non-failure) value")
        return self


class Service(Frozen):
    """One instrumented web service that Prometheus scrapes."""

    name: str
    host: str | None = None
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    metrics_path: str = "/metrics"
    metrics_token_file: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    latency: LatencyAlert = LatencyAlert()
    error_rate: ErrorRateAlert = ErrorRateAlert()
    db_pool: DBPoolAlert = DBPoolAlert()
    slo: SLO = SLO()
    absent_alert: bool = True
    business: Business = Business()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(
                f"must be lowercase letters, digits, '-' or '_', starting with a letter, "
                f"at most 40 characters, got {value!r}"
            )
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[A-Za-z0-9.-]{1,253}$", value):
            raise ValueError(f"must be a host name, got {value!r}")
        return value

    @field_validator("metrics_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not re.match(r"^/[A-Za-z0-9._~/-]*$", value):
            raise ValueError(f"must be an absolute URL path such as /metrics, got {value!r}")
        return value

    @field_validator("metrics_token_file")
    @classmethod
    def _token_file(cls, value: str | None) -> str | None:
        if value is not None:
            check_relative_path(value)
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for key, val in value.items():
            if not LABEL_NAME_RE.match(key) or key in RESERVED_LABELS or key.startswith("__"):
                raise ValueError(f"label name must match [a-zA-Z_][a-zA-Z0-9_]* and not be reserved, got {key!r}")
            if not isinstance(val, str) or not LABEL_VALUE_RE.match(val):
                raise ValueError(f"label {key} must be at most 128 of A-Z a-z 0-9 space . _ : / @ + -, got {val!r}")
        return value

    @property
    def target_host(self) -> str:
        return self.host or self.name


class Profile(Frozen):
    """Timings: a profile changes windows, never code."""

    scrape_interval: Duration = Duration.parse("15s")
    evaluation_interval: Duration = Duration.parse("15s")
    rate_window: Duration = Duration.parse("5m")
    slo_window: Duration = Duration.parse("30d")
    latency_for: Duration = Duration.parse("5m")
    error_rate_for: Duration = Duration.parse("5m")
    db_pool_for: Duration = Duration.parse("5m")
    target_down_for: Duration = Duration.parse("2m")
    absent_for: Duration = Duration.parse("10m")
    group_wait: Duration = Duration.parse("30s")
    group_interval: Duration = Duration.parse("5m")
    repeat_interval: Duration = Duration.parse("4h")

    @model_validator(mode="after")
    def _windows(self) -> Profile:
        if self.scrape_interval.ms <= 0 or self.evaluation_interval.ms <= 0:
            raise ValueError("scrape_interval and evaluation_interval must be greater than 0s")
        if self.rate_window.ms < 4 * self.scrape_interval.ms:
            raise ValueError(
                f"rate_window ({self.rate_window}) must be at least 4x scrape_interval "
                f"({self.scrape_interval}), or rates have too few samples"
            )
        shortest_burn = self.slo_window * (5 / (30 * 24 * 60))
        if shortest_burn.ms < 4 * self.scrape_interval.ms:
            raise ValueError(
                f"slo_window ({self.slo_window}) gives a shortest burn-rate window of {shortest_burn}, "
                f"expected at least 4x scrape_interval ({self.scrape_interval})"
            )
        return self


class FastProfile(Profile):
    """For `obsstack verify`: the same rules with seconds instead of minutes."""

    scrape_interval: Duration = Duration.parse("1s")
    evaluation_interval: Duration = Duration.parse("1s")
    rate_window: Duration = Duration.parse("30s")
    slo_window: Duration = Duration.parse("12h")
    latency_for: Duration = Duration.parse("10s")
    error_rate_for: Duration = Duration.parse("10s")
    db_pool_for: Duration = Duration.parse("10s")
    target_down_for: Duration = Duration.parse("10s")
    absent_for: Duration = Duration.parse("30s")
    group_wait: Duration = Duration.parse("1s")
    group_interval: Duration = Duration.parse("5s")
    repeat_interval: Duration = Duration.parse("1h")


class Profiles(Frozen):
    production: Profile = Profile()
    fast: FastProfile = FastProfile()


class BurnTier(Frozen):
    enabled: bool = True


class BurnTiers(Frozen):
    """Multi-window multi-burn-rate tiers; windows scale with the profile's SLO window."""

    page_fast: BurnTier = BurnTier()
    page_slow: BurnTier = BurnTier()
    ticket_fast: BurnTier = BurnTier()
    ticket_slow: BurnTier = BurnTier()


class Alerting(Frozen):
    runbook_base_url: str = "https://github.com/your-org/your-service/blob/main/alerts/runbooks"
    grafana_url: str = "http://127.0.0.1:3000"
    webhook_url: str = "http://127.0.0.1:9095/alerts"
    critical_webhook_url: str | None = None
    watchdog_webhook_url: str | None = None

    @field_validator("runbook_base_url", "grafana_url", "webhook_url", "critical_webhook_url", "watchdog_webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not URL_RE.match(value):
            raise ValueError(f"must be an http(s) URL without spaces or quotes, got {value!r}")
        return value.rstrip("/") if value else value


class Metrics(Frozen):
    """What the app exposes; the app's APP_LATENCY_BUCKETS must match these buckets."""

    latency_buckets: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0)

    @field_validator("latency_buckets")
    @classmethod
    def _buckets(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(b <= 0 for b in value) or list(value) != sorted(set(value)):
            raise ValueError(f"must be strictly increasing positive seconds, got {list(value)}")
        return value


class Component(Frozen):
    image: str
    port: Annotated[int, Field(ge=1, le=65535)]

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        if not re.match(r"^[a-z0-9./_-]+:[A-Za-z0-9._-]+$", value) or value.endswith(":latest"):
            raise ValueError(f"must be an image with a pinned tag (not latest), got {value!r}")
        return value


class Components(Frozen):
    """Pinned images (a version bot may update the tags) and their ports."""

    prometheus: Component = Component(image="prom/prometheus:v3.5.0", port=9090)
    alertmanager: Component = Component(image="prom/alertmanager:v0.28.1", port=9093)
    grafana: Component = Component(image="grafana/grafana:12.1.1", port=3000)
    loki: Component = Component(image="grafana/loki:3.5.3", port=3100)
    tempo: Component = Component(image="grafana/tempo:2.8.2", port=3200)
    otelcol: Component = Component(image="otel/opentelemetry-collector-contrib:0.132.0", port=8888)
    postgres: Component = Component(image="postgres:16.10-alpine", port=5432)


class Output(Frozen):
    """Where generated files go, relative to the directory holding stack.yaml."""

    alerts_dir: str = "alerts"
    dashboards_dir: str = "dashboards"
    compose_dir: str = "compose"

    @field_validator("alerts_dir", "dashboards_dir", "compose_dir")
    @classmethod
    def _inside(cls, value: str) -> str:
        return check_relative_path(value)


def check_relative_path(value: str) -> str:
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or "\\" in value or not value.strip():
        raise ValueError(f"must be a relative path inside the project (no '..', not absolute), got {value!r}")
    return str(path)


class StackSettings(BaseSettings):
    """The root of stack.yaml."""

    model_config = SettingsConfigDict(env_prefix="OBSSTACK_", env_nested_delimiter="__", extra="forbid", frozen=True)

    project: str = "obsstack"
    profile: Literal["production", "fast"] = "production"
    profiles: Profiles = Profiles()
    services: Annotated[tuple[Service, ...], Field(min_length=1)]
    burn_rate_tiers: BurnTiers = BurnTiers()
    alerting: Alerting = Alerting()
    metrics: Metrics = Metrics()
    components: Components = Components()
    output: Output = Output()

    @field_validator("project")
    @classmethod
    def _project(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(f"must be lowercase letters, digits, '-' or '_', got {value!r}")
        return value

    @model_validator(mode="after")
    def _cross_field(self) -> StackSettings:
        seen: set[str] = set()
        for index, service in enumerate(self.services):
            if service.name in COMPONENT_NAMES:
                raise ValueError(
                    f"services[{index}].name: {service.name!r} is the name of a stack component, "
                    f"expected another name than {sorted(COMPONENT_NAMES)}"
                )
            if service.name in seen:
                raise ValueError(f"services[{index}].name: duplicate service name {service.name!r}")
            seen.add(service.name)
            for level in ("warning", "critical"):
                edge = getattr(service.latency, level)
                if edge not in self.metrics.latency_buckets:
                    raise ValueError(
                        f"services[{index}].latency.{level}: {edge} must be one of metrics.latency_buckets "
                        f"{list(self.metrics.latency_buckets)} so the alert threshold is exact"
                    )
        return self

    @property
    def timing(self) -> Profile:
        profile: Profile = getattr(self.profiles, self.profile)
        return profile
