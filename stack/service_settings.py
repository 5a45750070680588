"""The settings of one service of stack.yaml: how it runs, what it exposes, and its alert thresholds.

A service is one of four kinds, given by exactly one key:
- `external: true` (the default): already running; obsstack only scrapes it and never starts it;
- `command: [argv...]`: obsstack starts it as a process on this machine (with `cwd` and `env`);
- `image: name:tag`: obsstack runs it in compose, one compose service named after the service;
- `build: {context, dockerfile}`: likewise, built from the user's Dockerfile.
"""

import re
from typing import Annotated, Any, Literal, Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from stack import conventions as c
from stack.business_settings import Business, BusinessAlert, BusinessMetric
from stack.conventions import HOST_GATEWAY
from stack.errors import shown
from stack.metric_settings import MetricLabels, MetricNames
from stack.setting_base import (
    ALERT_NAME_RE,
    ENV_NAME_RE,
    IMAGE_RE,
    KINDS,
    LABEL_NAME_RE,
    LABEL_VALUE_RE,
    LOOPBACK,
    METRIC_LABEL_RE,
    METRIC_NAME_RE,
    NAME_RE,
    PATH_RE,
    RESERVED_LABELS,
    TITLE_RE,
    UNIT_RE,
    Frozen,
    Port,
    Ratio,
    Seconds,
)
from stack.value_checks import (
    check_buckets,
    check_env_value,
    check_own_labels,
    check_relative_path,
    check_service_name,
    check_url_parts,
)

__all__ = [  # re-exported: the settings root and the builders import them from here
    "ALERT_NAME_RE", "ENV_NAME_RE", "IMAGE_RE", "KINDS", "LABEL_NAME_RE", "LABEL_VALUE_RE", "LOOPBACK",
    "METRIC_LABEL_RE", "METRIC_NAME_RE", "NAME_RE", "PATH_RE", "RESERVED_LABELS", "TITLE_RE", "UNIT_RE",
    "Business", "BusinessAlert", "BusinessMetric", "Frozen", "MetricLabels", "MetricNames", "Port", "Ratio",
    "Seconds", "check_buckets", "check_relative_path", "check_url_parts",
]  # fmt: skip


class Levels(Frozen):
    """A warning and a critical threshold; critical must be the greater."""

    enabled: bool = True
    warning: float
    critical: float

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.critical <= self.warning:
            raise ValueError(f"critical ({self.critical}) must be greater than warning ({self.warning})")
        return self


class LatencyAlert(Levels):
    """p95 latency thresholds in seconds; each must be an edge of the service's histogram buckets."""

    warning: Seconds = 0.2
    critical: Seconds = 0.5


class ErrorRateAlert(Levels):
    """5xx ratio thresholds, with a traffic guard in requests per second."""

    warning: Ratio = 0.01
    critical: Ratio = 0.05
    min_request_rate: Seconds = 0.1


class DBPoolAlert(Levels):
    """Connections in use / capacity thresholds, plus requests waiting for a connection."""

    warning: Ratio = 0.8
    critical: Ratio = 0.95
    waiting_threshold: Annotated[int, Field(ge=0)] = 0


class TrafficDropAlert(Frozen):
    """Requests fell below `below` x their own rate over the profile's baseline window (service still up)."""

    enabled: bool = True
    below: Ratio = 0.2
    min_baseline_rate: Seconds = 0.5


class RestartAlert(Frozen):
    """The process restarted more than `max_restarts` times within the profile's restart window."""

    enabled: bool = True
    max_restarts: Annotated[int, Field(ge=0)] = 2


class SLO(Frozen):
    """Availability objective (ratio of non-5xx requests) over the profile's SLO window."""

    objective: float = 0.999

    @field_validator("objective")
    @classmethod
    def _objective(cls, value: float) -> float:
        if not 0 < value < 1:
            raise ValueError(f"must be between 0 and 1 exclusive (0.999 = 99.9 %), got {value}")
        return value


class Build(Frozen):
    """A compose build of the user's service: context relative to stack.yaml, Dockerfile inside it."""

    context: str = "."
    dockerfile: str = "Dockerfile"

    @field_validator("context", "dockerfile")
    @classmethod
    def _inside(cls, value: str) -> str:
        return check_relative_path(value)


class Request(Frozen):
    """One request verify's traffic (and compose's load generator) sends: `GET /path` or with a JSON body."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    path: str
    json_body: dict[str, Any] | None = Field(default=None, alias="json")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            method, _, path = value.strip().rpartition(" ")
            return {"method": method.upper() or "GET", "path": path}
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not re.match(r"^/[A-Za-z0-9._~/?&=%+-]*\Z", value):
            raise ValueError(f"must be a URL path such as /orders?limit=5, got {shown(value)}")
        return value


class Service(Frozen):
    """One instrumented web service that Prometheus scrapes (see the module docstring for the kinds)."""

    name: str
    external: bool = False
    command: tuple[str, ...] | None = None
    cwd: str | None = None
    image: str | None = None
    build: Build | None = None
    env: dict[str, str] = Field(default_factory=dict)
    requires: tuple[Literal["postgres"], ...] = ()
    secret_files: tuple[str, ...] = ()
    host: str | None = None
    port: Port = 8000
    metrics_path: str = "/metrics"
    metrics_port: Port | None = None  # the scrape port, when it differs from the traffic port
    metrics_token_file: str | None = None
    metrics_source: Literal["scrape", "otlp"] = "scrape"  # otlp: pushed through the collector, not scraped
    metrics_convention: Literal["instrumentator", "otel", "custom"] = "instrumentator"
    metric_names: MetricNames | None = None  # custom convention only
    metric_labels: MetricLabels | None = None  # custom convention only
    process_metrics: bool | None = None  # exposes process_*; default: the convention's (otel: no)
    health_path: str | None = None
    faults: bool = False
    otlp: bool = True  # sends its logs and traces to the collector by OTLP (verify follows a request through)
    log_file: str | None = None  # its JSON log lines, read by the collector in local mode (relative to stack.yaml)
    traffic: tuple[Request, ...] = (Request(path="/"),)
    labels: dict[str, str] = Field(default_factory=dict)
    latency_buckets: tuple[float, ...] | None = None
    latency: LatencyAlert = LatencyAlert()
    error_rate: ErrorRateAlert = ErrorRateAlert()
    db_pool: DBPoolAlert | None = None
    traffic_drop: TrafficDropAlert = TrafficDropAlert()
    restarts: RestartAlert = RestartAlert()
    slo: SLO = SLO()
    absent_alert: bool = True
    business: Business = Business()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(
                f"must be lowercase letters, digits, '-' or '_', starting with a letter, "
                f"at most 40 characters, got {shown(value)}"
            )
        return check_service_name(value)

    @field_validator("command", mode="before")
    @classmethod
    def _command(cls, value: Any) -> Any:
        if value is not None and (not isinstance(value, list | tuple) or not value):
            raise ValueError(
                f"must be a list of arguments such as [uvicorn, app:app, --port, '8001'], got {shown(value)}"
            )
        if value is not None and not all(isinstance(arg, str | int | float) for arg in value):
            raise ValueError(f"every argument must be a string, got {shown(value)}")
        return tuple(str(arg) for arg in value) if value is not None else None

    @field_validator("image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is not None and (not IMAGE_RE.match(value) or value.lower().endswith(":latest")):
            raise ValueError(f"must be an image with a pinned tag or digest (not latest), got {shown(value)}")
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, value: dict[str, str]) -> dict[str, str]:
        for key, val in value.items():
            if not ENV_NAME_RE.match(key) or not isinstance(val, str) or "\n" in val or "\r" in val:
                raise ValueError(f"must map variable names to one-line strings, got {shown(key)}={shown(val)}")
            check_env_value(key, val)
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[A-Za-z0-9.-]{1,253}\Z", value):
            raise ValueError(f"must be a host name, got {shown(value)}")
        return value

    @field_validator("metrics_path", "health_path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not PATH_RE.match(value):
            raise ValueError(f"must be an absolute URL path such as /metrics, got {shown(value)}")
        return value

    @field_validator("metrics_token_file")
    @classmethod
    def _token_file(cls, value: str | None) -> str | None:
        if value is not None:
            check_relative_path(value)
        return value

    @field_validator("secret_files")
    @classmethod
    def _secret_files(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for path in value:
            if not check_relative_path(path).startswith("secrets/"):
                raise ValueError(f"secret files live in secrets/ (gitignored), got {shown(path)}")
        return value

    @field_validator("latency_buckets")
    @classmethod
    def _buckets(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        return check_buckets(value) if value is not None else None

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for key, val in value.items():
            if not LABEL_NAME_RE.match(key) or key in RESERVED_LABELS or key.startswith("__"):
                raise ValueError(f"label name must match [a-zA-Z_][a-zA-Z0-9_]* and not be reserved, got {shown(key)}")
            if not isinstance(val, str) or not LABEL_VALUE_RE.match(val):
                raise ValueError(
                    f"label {key} must be at most 128 of A-Z a-z 0-9 space . _ : / @ + -, got {shown(val)}"
                )
        return value

    @model_validator(mode="before")
    @classmethod
    def _default_latency(cls, data: Any) -> Any:
        """Without `latency`, the thresholds are the edges of the service's own buckets nearest above 0.2 s and
        0.5 s (a convention's default buckets need not have 0.2); with the global buckets, 0.2 and 0.5."""
        if not isinstance(data, dict) or "latency" in data:
            return data
        buckets = data.get("latency_buckets") or c.CONVENTION_BUCKETS.get(str(data.get("metrics_convention")))
        try:
            edges = sorted({float(b) for b in buckets})[:-1] if buckets else []
        except (TypeError, ValueError):
            return data  # the field's own validation says what is wrong
        warning = next((e for e in edges if e >= 0.2), None)
        critical = next((e for e in edges if e >= 0.5 and warning is not None and e > warning), None)
        if warning is not None and critical is not None:
            return {**data, "latency": {"warning": warning, "critical": critical}}
        return data

    @model_validator(mode="after")
    def _metrics(self) -> Self:
        custom = self.metrics_convention == "custom"
        for key in ("metric_names", "metric_labels"):
            if custom and getattr(self, key) is None:
                raise ValueError(f"{key}: metrics_convention custom needs {key}, got none")
            if not custom and getattr(self, key) is not None:
                raise ValueError(
                    f"{key}: is for metrics_convention custom, got metrics_convention {self.metrics_convention}"
                )
        names = self.http_names
        check_own_labels(self.labels, {names.route, names.method, names.status})
        if self.metrics_source == "otlp":
            scraping = sorted({"metrics_port", "metrics_path", "metrics_token_file"} & self.model_fields_set)
            if scraping:
                raise ValueError(
                    f"{scraping[0]}: a metrics_source otlp service pushes its metrics and is not scraped, "
                    f"expected no {', '.join(scraping)}"
                )
            if not self.otlp:
                raise ValueError("metrics_source: otlp pushes metrics to the collector, which needs otlp: true")
        return self

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        given = [kind for kind in KINDS if getattr(self, kind) not in (None, False)]
        if len(given) > 1:
            raise ValueError(
                f"a service runs one way: set exactly one of {', '.join(KINDS)} (external: already running; "
                f"command: started here; image/build: run in compose), got {' and '.join(given)}"
            )
        if self.cwd is not None and self.command is None:
            raise ValueError(f"cwd is for command services only, got cwd {self.cwd!r} for a {self.kind} service")
        if self.env and self.kind == "external":
            raise ValueError("env is for services obsstack starts (command, image, build), not external ones")
        if self.host is not None and self.kind in {"image", "build"}:
            raise ValueError(
                f"host: a {self.kind} service is reached by its compose name {self.name!r}; "
                f"remove host, got {self.host!r}"
            )
        return self

    @property
    def kind(self) -> Literal["external", "command", "image", "build"]:
        if self.command is not None:
            return "command"
        if self.image is not None:
            return "image"
        if self.build is not None:
            return "build"
        return "external"

    @property
    def in_compose(self) -> bool:
        """Runs as a container of the generated compose file."""
        return self.kind in {"image", "build"}

    def logs_by_file(self, local: bool) -> bool:
        """Whether the collector reads the service's log lines from a file rather than receiving them by OTLP: in
        local mode only (a container's log file is root's and the collector runs as a non-root user), when it
        declares its `log_file`, or for a `command` service obsstack starts (its output goes to a file) whose lines
        are obsstack_fastapi's JSON (not an otel-convention one: OpenTelemetry's agent exports its logs itself)."""
        return local and (self.log_file is not None or (self.kind == "command" and self.metrics_convention != "otel"))

    @property
    def address(self) -> str:
        """Where it listens, seen from this machine (compose publishes containers on 127.0.0.1)."""
        return "127.0.0.1" if self.in_compose else (self.host or "127.0.0.1")

    @property
    def local_address(self) -> str:
        return "127.0.0.1" if self.address in LOOPBACK else self.address

    @property
    def compose_address(self) -> str:
        """host:port as Prometheus in compose reaches the service (the host's loopback via the gateway)."""
        if self.in_compose:
            return f"{self.name}:{self.port}"
        return f"{HOST_GATEWAY if self.address in LOOPBACK else self.address}:{self.port}"

    @property
    def http_names(self) -> c.HttpNames:
        """The HTTP metric and label names of the service's convention (its own, for custom)."""
        if self.metric_names is None or self.metric_labels is None:
            return c.CONVENTIONS[self.metrics_convention]
        names, labels = self.metric_names, self.metric_labels
        return c.HttpNames(
            requests=names.requests, duration=names.duration, inprogress=names.inprogress,
            route=labels.route, method=labels.method, status=labels.status,
        )  # fmt: skip

    @property
    def scraped(self) -> bool:
        """Prometheus scrapes it (metrics_source scrape); an otlp service pushes through the collector."""
        return self.metrics_source == "scrape"

    @property
    def scrape_port(self) -> int:
        return self.metrics_port or self.port

    @property
    def has_process_metrics(self) -> bool:
        """Exposes process_* (CPU, memory, start time): said in stack.yaml, else the convention's default."""
        if self.process_metrics is not None:
            return self.process_metrics
        return c.CONVENTION_PROCESS_METRICS[self.metrics_convention]

    @property
    def has_db_pool(self) -> bool:
        return self.db_pool is not None and self.db_pool.enabled
