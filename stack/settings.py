"""The one settings root: stack.yaml, OBSSTACK_* environment and CLI flags, validated once.

Precedence (declared here and nowhere else): flags > OBSSTACK_* environment > stack.yaml > defaults.
Every nested model is frozen and rejects unknown keys.
"""

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self
from urllib.parse import urlparse

from pydantic import BeforeValidator, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from stack import conventions as c
from stack.errors import shown
from stack.profile_settings import FastProfile, Profile, Profiles
from stack.service_settings import (
    IMAGE_RE,
    LOOPBACK,
    NAME_RE,
    SLO,
    Business,
    BusinessAlert,
    BusinessMetric,
    DBPoolAlert,
    ErrorRateAlert,
    Frozen,
    LatencyAlert,
    Port,
    Service,
    check_buckets,
    check_relative_path,
    check_url_parts,
)
from stack.target_settings import Kubernetes, Mimir, check_kubernetes_names

if TYPE_CHECKING:
    from stack.tools import Pin

__all__ = [
    "SLO", "Business", "BusinessAlert", "BusinessMetric", "DBPoolAlert", "ErrorRateAlert", "FastProfile",
    "LatencyAlert", "Profile", "Profiles", "Service", "StackSettings",
]  # fmt: skip

URL_RE = re.compile(r"^https?://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+\Z")
MAX_PORT = 65535
COMPONENT_NAMES = frozenset({
    "prometheus", "alertmanager", "grafana", "loki", "tempo", "otelcol", "postgres", "mimir", "jaeger", "victorialogs",
})  # fmt: skip


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
        if value is not None and not URL_RE.fullmatch(value):
            raise ValueError(f"must be an http(s) URL without spaces or quotes, got {shown(value)}")
        if value is not None:
            check_url_parts(value)
        return value.rstrip("/") if value else value


class Metrics(Frozen):
    """What the app exposes; obsstack passes them to the services it starts as OBS_LATENCY_BUCKETS."""

    latency_buckets: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0)

    @field_validator("latency_buckets")
    @classmethod
    def _buckets(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        return check_buckets(value)


def _port_text(value: Any) -> Any:
    """Digits as text (how OBSSTACK_COMPONENTS__<NAME>__PORT arrives) are the number; the rest meets the strict int."""
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else value


class Component(Frozen):
    image: str
    port: Annotated[Port, BeforeValidator(_port_text)]

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        if not IMAGE_RE.fullmatch(value) or value.lower().endswith(":latest"):
            raise ValueError(f"must be an image with a pinned tag (not latest), got {shown(value)}")
        return value

    @property
    def version(self) -> str:
        """The version the image tag pins: `grafana/loki:3.5.3` -> 3.5.3, `prom/prometheus:v3.16.0` -> 3.5.0."""
        return self.image.rsplit(":", 1)[1].removeprefix("v")


class Backends(Frozen):
    """Where the collector stores traces and logs: LGTM's Tempo and Loki (the default), or the licence-clean
    (Apache-2.0) Jaeger and VictoriaLogs. Each name is one entry of the backend catalogue."""

    traces: Literal["tempo", "jaeger"] = "tempo"
    logs: Literal["loki", "victorialogs"] = "loki"


class Components(Frozen):
    """Pinned images (a version bot may update the tags) and their ports."""

    prometheus: Component = Component(image="prom/prometheus:v3.16.0", port=9090)
    alertmanager: Component = Component(image="prom/alertmanager:v0.35.0", port=9093)
    grafana: Component = Component(image="grafana/grafana:12.1.1", port=3000)
    loki: Component = Component(image="grafana/loki:3.5.3", port=3100)
    tempo: Component = Component(image="grafana/tempo:2.9.0", port=3200)
    otelcol: Component = Component(image="otel/opentelemetry-collector-contrib:0.159.0", port=8888)
    # the licence-clean stores (Apache-2.0), run when `backends` chooses them
    jaeger: Component = Component(image="jaegertracing/jaeger:2.12.0", port=16686)  # query UI and API
    victorialogs: Component = Component(image="victoriametrics/victoria-logs:v1.52.2", port=9428)
    postgres: Component = Component(image="postgres:16.10-alpine", port=5432)
    mimir: Component = Component(image="grafana/mimir:3.0.5", port=9009)  # the mimir target; first of its ring

    @model_validator(mode="after")
    def _derived_ports(self) -> Self:
        """Ports obsstack derives from a component's port stay ports: the local ring's members listen on
        components.mimir.port + i (HTTP), + 100 + i (gRPC) and + 200 + i (memberlist), i < 3 (conventions.RING_*)."""
        highest = self.mimir.port + c.RING_SPAN
        if highest > MAX_PORT:
            raise ValueError(
                f"mimir.port: the local ring's ports run up to port + {c.RING_SPAN} = {highest}, past {MAX_PORT}; "
                f"expected at most {MAX_PORT - c.RING_SPAN}, got {self.mimir.port}"
            )
        return self

    def pinned(self, name: str) -> str:
        """The version the image of component `name` pins (what the Go builds build and check)."""
        component: Component = getattr(self, name)
        return component.version


class Output(Frozen):
    """Where generated files go, relative to the directory holding stack.yaml."""

    alerts_dir: str = "alerts"
    dashboards_dir: str = "dashboards"
    compose_dir: str = "compose"
    kubernetes_dir: str = "kubernetes"
    mimir_dir: str = "mimir"

    @field_validator("alerts_dir", "dashboards_dir", "compose_dir", "kubernetes_dir", "mimir_dir")
    @classmethod
    def _inside(cls, value: str) -> str:
        return check_relative_path(value)


_FILE_VALUES: ContextVar[Mapping[str, Any]] = ContextVar("stack_yaml_values", default=MappingProxyType({}))


@contextmanager
def file_values(values: Mapping[str, Any]) -> Iterator[None]:
    """Within the block, StackSettings(...) reads `values` (the parsed stack.yaml) as its file source."""
    token = _FILE_VALUES.set(values)
    try:
        yield
    finally:
        _FILE_VALUES.reset(token)


class _FileSource(PydanticBaseSettingsSource):
    """The values of stack.yaml, as given to `file_values` (read and parsed by stack.config)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return _FILE_VALUES.get().get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_FILE_VALUES.get())


# tool obsstack runs -> (the component whose build provides it, its version flag split on spaces)
TOOL_COMPONENTS: dict[str, tuple[str, str]] = {
    "prometheus": ("prometheus", "--version"),
    "promtool": ("prometheus", "--version"),
    "alertmanager": ("alertmanager", "--version"),
    "amtool": ("alertmanager", "--version"),
    "kubectl": ("kubectl", "version --client"),
    "cortextool": ("cortextool", "version"),
    "cortex": ("cortex", "-version"),
}


class StackSettings(BaseSettings):
    """The root of stack.yaml. A nested setting given in part keeps the defaults of the rest."""

    model_config = SettingsConfigDict(
        env_prefix="OBSSTACK_", env_nested_delimiter="__", extra="forbid", frozen=True,
        nested_model_default_partial_update=True,
    )  # fmt: skip

    project: str = "obsstack"
    profile: Literal["production", "fast"] = "production"
    profiles: Profiles = Profiles()
    services: Annotated[tuple[Service, ...], Field(min_length=1)]
    burn_rate_tiers: BurnTiers = BurnTiers()
    alerting: Alerting = Alerting()
    metrics: Metrics = Metrics()
    components: Components = Components()
    backends: Backends = Backends()
    output: Output = Output()
    kubernetes: Kubernetes = Kubernetes()
    mimir: Mimir = Mimir()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The precedence, declared once: flags (init kwargs) > OBSSTACK_* environment > stack.yaml > defaults."""
        return (init_settings, env_settings, _FileSource(settings_cls))

    @field_validator("project")
    @classmethod
    def _project(cls, value: str) -> str:
        if not NAME_RE.fullmatch(value):
            raise ValueError(f"must be lowercase letters, digits, '-' or '_', got {shown(value)}")
        return value

    @model_validator(mode="after")
    def _cross_field(self) -> Self:
        seen: set[str] = set()
        for index, service in enumerate(self.services):
            where = f"services[{index}]"
            if service.name in COMPONENT_NAMES:
                raise ValueError(
                    f"{where}.name: {service.name!r} is the name of a stack component, "
                    f"expected another name than {sorted(COMPONENT_NAMES)}"
                )
            if service.name in seen:
                raise ValueError(f"{where}.name: duplicate service name {service.name!r}")
            seen.add(service.name)
            self._check_thresholds(where, service)
            self._check_restarts(where, service)
        self._check_ports()
        if self.kubernetes.enabled:
            check_kubernetes_names(self.services)
        return self

    def _check_restarts(self, where: str, service: Service) -> None:
        timing = self.timing
        step = max(timing.scrape_interval.ms, timing.evaluation_interval.ms)
        if service.restarts.enabled and timing.restart_window.ms < 2 * (service.restarts.max_restarts + 2) * step:
            raise ValueError(
                f"{where}.restarts.max_restarts: {service.restarts.max_restarts} restarts cannot be seen within "
                f"the profile's restart_window ({timing.restart_window}); expected a smaller number"
            )

    def _check_thresholds(self, where: str, service: Service) -> None:
        buckets = self.buckets(service)
        for level in ("warning", "critical"):
            edge = getattr(service.latency, level)
            if edge not in buckets[:-1]:
                below = [b for b in buckets[:-1] if b < edge]
                above = [b for b in buckets[:-1] if b > edge]
                near = [f"{b:g}" for b in below[-1:] + above[:1]]
                nearest = (
                    f"the nearest are {near[0]} and {near[1]}" if len(near) == 2
                    else f"the nearest is {near[0]}" if near else "there is none: declare more latency_buckets"
                )  # fmt: skip
                raise ValueError(
                    f"{where}.latency.{level}: {edge:g} is not an edge of the service's buckets "
                    f"({self.buckets_source(service)}: {', '.join(f'{b:g}' for b in buckets)}); "
                    f"expected an edge other than the last; {nearest}"
                )

    def _check_ports(self) -> None:
        """Everything that listens on this machine needs its own port: components (with the stores `backends`
        chooses), verify's alert receiver (alerting.webhook_url, when on loopback) and services."""
        used: dict[tuple[str, int], str] = {}
        ports = c.component_ports(self.components, self.needs_postgres, self.backends)
        for name, port in sorted(ports.items(), key=lambda item: item[0] in COMPONENT_NAMES):  # fixed ones first
            _claim(used, ("127.0.0.1", port), f"components.{name}", f"components.{name}.port")
        receiver = urlparse(self.alerting.webhook_url)
        if (receiver.hostname or "") in LOOPBACK:
            port = receiver.port or (443 if receiver.scheme == "https" else 80)
            _claim(used, ("127.0.0.1", port), "alerting.webhook_url (verify's alert receiver)", "alerting.webhook_url")
        for index, service in enumerate(self.services):
            owner = f"services[{index}] ({service.name})"
            _claim(used, (service.local_address, service.port), owner, f"{owner}.port")
            if service.metrics_port is not None and service.metrics_port != service.port:
                _claim(used, (service.local_address, service.metrics_port), owner, f"{owner}.metrics_port")

    @property
    def needs_postgres(self) -> bool:
        return any("postgres" in s.requires for s in self.services)

    def buckets(self, service: Service) -> tuple[float, ...]:
        """The service's latency histogram buckets: its own, else its convention's default, else the global list
        (which obsstack passes to the instrumentator-shaped services it starts)."""
        own = service.latency_buckets or c.CONVENTION_BUCKETS[service.metrics_convention]
        return own or self.metrics.latency_buckets

    def buckets_source(self, service: Service) -> str:
        """Where the service's buckets come from, as an error names it."""
        if service.latency_buckets:
            return "its latency_buckets"
        if c.CONVENTION_BUCKETS[service.metrics_convention]:
            return f"the {service.metrics_convention} convention's default"
        return "metrics.latency_buckets"

    def tool_pin(self, tool: str) -> "Pin":
        """The version a tool obsstack runs must report, and the component whose build provides it."""
        from stack.tools import Pin  # validate's and the runtime's: generate does not load the tools module

        component, flag = TOOL_COMPONENTS[tool]
        versions = {"kubectl": self.kubernetes.kubectl_version, "cortextool": self.mimir.cortextool_version,
                    "cortex": self.mimir.cortex_version}  # fmt: skip
        version = versions.get(component) or self.components.pinned(component)
        return Pin(tool=tool, component=component, version=version, version_flag=flag)

    @property
    def timing(self) -> Profile:
        profile: Profile = getattr(self.profiles, self.profile)
        return profile


def _claim(used: dict[tuple[str, int], str], key: tuple[str, int], owner: str, where: str) -> None:
    """Record that `owner` listens on `key` (host, port); a second owner is an error naming both."""
    if key in used:
        raise ValueError(f"{where}: {key[0]}:{key[1]} is already the port of {used[key]}, expected a free port")
    used[key] = owner
