"""What local mode can start: each component's binaries, command line, health URL and install hint."""

from __future__ import annotations

import os
import posixpath
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from stack import conventions as c
from stack.errors import StackError
from stack.runtime.binaries import bring, locate
from stack.secrets import read_env
from stack.settings import Service, StackSettings


@dataclass(frozen=True)
class Layout:
    """Paths of one local run: the project root and its state directory."""

    root: Path
    state: Path

    @property
    def local(self) -> Path:
        return self.state / "local"

    @property
    def data_root(self) -> str:
        """Where the components' data lives (the placement's data_root)."""
        return str((self.state / "data").resolve())

    def data(self, name: str) -> Path:
        return self.state / "data" / name

    def log(self, name: str) -> Path:
        return self.state / "logs" / f"{name}.log"

    def config(self, settings: StackSettings, name: str) -> str:
        return str(self.local / posixpath.join(settings.output.compose_dir, name))


Argv = Callable[[str, Layout, StackSettings], list[str]]
Env = Callable[[Layout, StackSettings], dict[str, str]]


def _no_env(layout: Layout, settings: StackSettings) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Program:
    name: str
    binaries: tuple[str, ...]
    port: int
    health_path: str
    argv: Argv
    required: bool = False
    hint: str = ""
    env: Env = field(default=_no_env)
    address: str = "127.0.0.1"
    cwd: str | None = None
    service: bool = False  # a service of stack.yaml rather than a stack component
    token_file: str | None = None  # bearer token the readiness URL needs (a protected /metrics)
    health_port: int | None = None  # the readiness URL's port, when not `port` (metrics on their own port)
    any_status: bool = False  # ready when the readiness URL answers HTTP at all (see readiness())
    metrics: str = ""  # a service: how its metrics reach Prometheus (metrics_route())

    def find(self, settings: StackSettings) -> str | None:
        """The cached build at the pinned version, else PATH's binary (refused if its version differs)."""
        return locate(self.name, self.binaries, settings)


def _prometheus(binary: str, layout: Layout, settings: StackSettings) -> list[str]:
    config, listen = layout.config(settings, c.PROMETHEUS_CONFIG), f"127.0.0.1:{settings.components.prometheus.port}"
    return [binary, *c.prometheus_flags(config, str(layout.data("prometheus")), listen, settings.timing.slo_window)]


def _alertmanager(binary: str, layout: Layout, settings: StackSettings) -> list[str]:
    config = layout.config(settings, c.ALERTMANAGER_CONFIG)
    listen = f"127.0.0.1:{settings.components.alertmanager.port}"
    return [binary, *c.alertmanager_flags(config, str(layout.data("alertmanager")), listen)]


def _loki(binary: str, layout: Layout, settings: StackSettings) -> list[str]:
    return [binary, f"-config.file={layout.config(settings, c.LOKI_CONFIG)}"]


def _tempo(binary: str, layout: Layout, settings: StackSettings) -> list[str]:
    return [binary, f"-config.file={layout.config(settings, c.TEMPO_CONFIG)}"]


def _jaeger(binary: str, layout: Layout, settings: StackSettings) -> list[str]:
    return [binary, f"--config={layout.config(settings, c.JAEGER_CONFIG)}"]


def _victorialogs(binary: str, layout: Layout, settings: StackSettings) -> list[str]:
    data, port = str(layout.data("victorialogs")), settings.components.victorialogs.port
    return [binary, *c.victorialogs_flags(data, "127.0.0.1", port)]


def _otelcol(binary: str, layout: Layout, settings: StackSettings) -> list[str]:
    return [binary, f"--config={layout.config(settings, c.OTELCOL_CONFIG)}"]


def _grafana(binary: str, layout: Layout, settings: StackSettings) -> list[str]:
    real = Path(binary).resolve()
    home = Path("/usr/share/grafana") if real.parent.name == "sbin" else real.parent.parent
    server = ["server"] if real.name == "grafana" else []
    return [binary, *server, "--homepath", str(home)]


def _grafana_env(layout: Layout, settings: StackSettings) -> dict[str, str]:
    env_file = layout.root / settings.output.compose_dir / c.COMPOSE_ENV_FILE
    return {
        "GF_SERVER_HTTP_ADDR": "127.0.0.1",
        "GF_SERVER_HTTP_PORT": str(settings.components.grafana.port),
        "GF_PATHS_DATA": str(layout.data("grafana")),
        "GF_PATHS_LOGS": str(layout.data("grafana") / "log"),
        "GF_SECURITY_ADMIN_PASSWORD": read_env(env_file).get(c.ENV_GRAFANA_PASSWORD, ""),
        "GF_ANALYTICS_REPORTING_ENABLED": "false",
    }


def _build_hint(name: str, binary: str, version: str) -> str:
    return f"`obsstack components build {name}` (needs Go), or put the release binary `{binary}` {version} on PATH"


def pushing(settings: StackSettings) -> list[str]:
    """The services whose metrics reach Prometheus only through the collector (metrics_source otlp)."""
    return [s.name for s in settings.services if not s.scraped]


def programs(settings: StackSettings) -> tuple[Program, ...]:
    """The components in start order; Prometheus and Alertmanager are required, and the collector when a service
    pushes its metrics by OTLP. Of the stores, those `backends` chooses: Loki, Tempo (and Grafana) start when
    their release binary is on PATH (obsstack never builds them), Jaeger and VictoriaLogs when built."""
    comp = settings.components

    def v(name: str) -> str:
        return settings.components.pinned(name)

    stores = (
        Program("loki", ("loki",), comp.loki.port, "/ready", _loki, hint=bring("loki", v("loki"))),
        Program("tempo", ("tempo",), comp.tempo.port, "/ready", _tempo, hint=bring("tempo", v("tempo"))),
        Program("jaeger", ("jaeger",), comp.jaeger.port, "/api/services", _jaeger,
                hint=_build_hint("jaeger", "jaeger", v("jaeger"))),
        Program("victorialogs", ("victoria-logs",), comp.victorialogs.port, c.VICTORIALOGS_HEALTH_PATH, _victorialogs,
                hint=_build_hint("victorialogs", "victoria-logs", v("victorialogs"))),
    )
    chosen = tuple(p for p in stores if p.name in (settings.backends.logs, settings.backends.traces))
    return (
        Program("prometheus", ("prometheus",), comp.prometheus.port, "/-/ready", _prometheus, True,
                _build_hint("prometheus", "prometheus", v("prometheus"))),
        Program("alertmanager", ("alertmanager",), comp.alertmanager.port, "/-/ready", _alertmanager, True,
                _build_hint("alertmanager", "alertmanager", v("alertmanager"))),
        *chosen,
        Program("otelcol", ("otelcol-contrib", "otelcol"), c.OTELCOL_HEALTH_PORT, "/", _otelcol,
                required=bool(pushing(settings)), hint=_build_hint("otelcol", "otelcol-contrib", v("otelcol"))),
        Program("grafana", ("grafana", "grafana-server"), comp.grafana.port, "/api/health", _grafana,
                hint=bring("grafana", v("grafana")), env=_grafana_env),
    )  # fmt: skip


def tool_path() -> str:
    """PATH with the directory of the Python running obsstack first, as an activated virtualenv has it."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)])


@dataclass(frozen=True)
class Readiness:
    """Where a service says it is up: a port and path, the bearer token file that URL needs, and whether any
    HTTP answer counts (rather than a 2xx)."""

    port: int
    path: str
    token_file: str | None = None
    any_status: bool = False


def readiness(service: Service) -> Readiness:
    """Its health path; else the metrics path on its scrape port, as Prometheus scrapes it (which may need the
    metrics bearer token); else (a service that pushes its metrics by OTLP has no /metrics) its first traffic
    route answering HTTP at all, whatever the status (it may be a POST route)."""
    if service.health_path:
        return Readiness(service.port, service.health_path)
    if service.scraped:
        return Readiness(service.scrape_port, service.metrics_path, service.metrics_token_file)
    return Readiness(service.port, service.traffic[0].path, any_status=True)


def metrics_route(service: Service) -> str:
    """How a service's metrics reach Prometheus, as `obsstack status` shows it."""
    if service.scraped:
        return f"scraped at http://{service.local_address}:{service.scrape_port}{service.metrics_path}"
    return f"pushed by OTLP to the collector (port {c.OTLP_GRPC_PORT}), remote-written to Prometheus"


def service_program(service: Service, otlp: bool, local: bool = True) -> tuple[Program, str]:
    """A `command` service of stack.yaml and its executable (found on PATH with this virtualenv first),
    started with its argv, working directory and environment."""
    assert service.command is not None  # only command services are started as processes
    binary = shutil.which(service.command[0], path=tool_path())
    if binary is None:
        raise StackError(
            f"service {service.name}: command {service.command[0]!r} not found (searched PATH and "
            f"{sys.executable}'s directory); expected an executable, e.g. install it in this virtualenv"
        )

    def argv(binary: str, layout: Layout, settings: StackSettings) -> list[str]:
        return [binary, *service.command[1:]]  # type: ignore[index]

    def env(layout: Layout, settings: StackSettings) -> dict[str, str]:
        interval_ms = round(settings.timing.scrape_interval.seconds * 1000)
        return service_env(service, layout, otlp, settings.buckets(service), interval_ms, local)

    ready = readiness(service)
    program = Program(
        service.name, (binary,), service.port, ready.path, argv, True, env=env,
        address=service.local_address, cwd=service.cwd, service=True, token_file=ready.token_file,
        health_port=ready.port, any_status=ready.any_status, metrics=metrics_route(service),
    )  # fmt: skip
    return program, binary


def command_services(settings: StackSettings, otlp: bool, local: bool = True) -> list[tuple[Program, str]]:
    """Every `command` service with its executable, in stack.yaml's order (`local`: the stack runs as local
    processes, whose collector reads the services' log files)."""
    return [service_program(s, otlp, local) for s in settings.services if s.kind == "command"]


INHERITED_PREFIXES = ("APP_", "OBS_", "OTEL_", "SENTRY_", "DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")


OTLP_PROTOCOL_ENV = "OTEL_EXPORTER_OTLP_PROTOCOL"
OTLP_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"


def service_env(service: Service, layout: Layout, otlp: bool, buckets: tuple[float, ...],
                export_interval_ms: int | None = None, local: bool = True) -> dict[str, str]:  # fmt: skip
    """What obsstack passes (OTel and obsstack_fastapi variables), then the service's own `env` over it. The
    OTLP endpoint is the collector's gRPC port, and the protocol is said (`grpc`) unless stack.yaml sets the
    endpoint: an SDK left on http/protobuf would send to a gRPC port. `export_interval_ms`: how often an
    OpenTelemetry SDK pushes its metrics (the profile's scrape interval); an otel-convention service gets the
    stable HTTP semantic conventions, whose names its rules and dashboards use."""
    root = layout.root
    env = c.service_env(
        service.name, buckets,
        str(root / c.FAULTS_TOKEN_FILE) if service.faults else None,
        str(root / service.metrics_token_file) if service.metrics_token_file else None,
        f"http://127.0.0.1:{c.OTLP_GRPC_PORT}" if otlp else None,
        "local",
        export_interval_ms=export_interval_ms, stable_semconv=service.metrics_convention == "otel",
        otlp_logs=not service.logs_by_file(local),
    )  # fmt: skip
    if otlp and OTLP_ENDPOINT_ENV not in service.env:
        env[OTLP_PROTOCOL_ENV] = "grpc"
    return {**env, "PATH": tool_path(), **service.env}


def base_env() -> dict[str, str]:
    """This process' environment without the services' own settings (they are set explicitly)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(INHERITED_PREFIXES)}
