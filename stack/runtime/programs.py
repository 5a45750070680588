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
from stack.builders.compose import retention
from stack.settings import Service, StackSettings


@dataclass(frozen=True)
class Layout:
    """Paths of one local run: the project root and its state directory."""

    root: Path
    state: Path

    @property
    def local(self) -> Path:
        return self.state / "local"

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

    def find(self) -> str | None:
        return next((found for b in self.binaries if (found := shutil.which(b))), None)


def _prometheus(binary: str, layout: Layout, settings: StackSettings) -> list[str]:
    return [
        binary,
        f"--config.file={layout.config(settings, c.PROMETHEUS_CONFIG)}",
        f"--storage.tsdb.path={layout.data('prometheus')}",
        f"--storage.tsdb.retention.time={retention(settings)}",
        f"--web.listen-address=127.0.0.1:{settings.components.prometheus.port}",
        "--web.enable-remote-write-receiver",
        "--enable-feature=exemplar-storage",
        "--web.enable-lifecycle",
    ]


def _alertmanager(binary: str, layout: Layout, settings: StackSettings) -> list[str]:
    return [
        binary,
        f"--config.file={layout.config(settings, c.ALERTMANAGER_CONFIG)}",
        f"--storage.path={layout.data('alertmanager')}",
        f"--web.listen-address=127.0.0.1:{settings.components.alertmanager.port}",
        "--cluster.listen-address=",
    ]


def _loki(binary: str, layout: Layout, settings: StackSettings) -> list[str]:
    return [binary, f"-config.file={layout.config(settings, c.LOKI_CONFIG)}"]


def _tempo(binary: str, layout: Layout, settings: StackSettings) -> list[str]:
    return [binary, f"-config.file={layout.config(settings, c.TEMPO_CONFIG)}"]


def _otelcol(binary: str, layout: Layout, settings: StackSettings) -> list[str]:
    return [binary, f"--config={layout.config(settings, c.OTELCOL_CONFIG)}"]


def _grafana(binary: str, layout: Layout, settings: StackSettings) -> list[str]:
    real = Path(binary).resolve()
    home = Path("/usr/share/grafana") if real.parent.name == "sbin" else real.parent.parent
    server = ["server"] if real.name == "grafana" else []
    return [binary, *server, "--homepath", str(home)]


def _grafana_env(layout: Layout, settings: StackSettings) -> dict[str, str]:
    from stack.secrets import read_env

    env_file = layout.root / settings.output.compose_dir / c.COMPOSE_ENV_FILE
    return {
        "GF_SERVER_HTTP_ADDR": "127.0.0.1",
        "GF_SERVER_HTTP_PORT": str(settings.components.grafana.port),
        "GF_PATHS_DATA": str(layout.data("grafana")),
        "GF_PATHS_LOGS": str(layout.data("grafana") / "log"),
        "GF_SECURITY_ADMIN_PASSWORD": read_env(env_file).get(c.ENV_GRAFANA_PASSWORD, ""),
        "GF_ANALYTICS_REPORTING_ENABLED": "false",
    }


def _version(settings: StackSettings, name: str) -> str:
    image: str = getattr(settings.components, name).image
    return image.rsplit(":", 1)[1].lstrip("v")


def programs(settings: StackSettings) -> tuple[Program, ...]:
    """The components in start order; Prometheus and Alertmanager are required."""
    comp = settings.components

    def v(name: str) -> str:
        return _version(settings, name)

    return (
        Program("prometheus", ("prometheus",), comp.prometheus.port, "/-/ready", _prometheus, True,
                "apt-get install prometheus"),
        Program("alertmanager", ("prometheus-alertmanager", "alertmanager"), comp.alertmanager.port,
                "/-/ready", _alertmanager, True, "apt-get install prometheus-alertmanager"),
        Program("loki", ("loki",), comp.loki.port, "/ready", _loki,
                hint=f"put `loki` v{v('loki')} on PATH: https://github.com/grafana/loki/releases"),
        Program("tempo", ("tempo",), comp.tempo.port, "/ready", _tempo,
                hint=f"put `tempo` v{v('tempo')} on PATH: https://github.com/grafana/tempo/releases"),
        Program("otelcol", ("otelcol-contrib", "otelcol"), c.OTELCOL_HEALTH_PORT, "/", _otelcol,
                hint=f"put `otelcol-contrib` v{v('otelcol')} on PATH: "
                "https://github.com/open-telemetry/opentelemetry-collector-releases/releases"),
        Program("grafana", ("grafana", "grafana-server"), comp.grafana.port, "/api/health", _grafana,
                hint="apt-get install grafana (Grafana's APT repository: https://apt.grafana.com)",
                env=_grafana_env),
    )  # fmt: skip


def app_program(service: Service, otlp: bool) -> Program:
    """The sample app, run by this Python, one per service of stack.yaml."""

    def argv(binary: str, layout: Layout, settings: StackSettings) -> list[str]:
        return [binary, "-m", "sample_app"]

    def env(layout: Layout, settings: StackSettings) -> dict[str, str]:
        return app_env(service, layout, otlp, settings.metrics.latency_buckets)

    return Program(service.name, (sys.executable,), service.port, "/healthz", argv, True, env=env)


INHERITED_PREFIXES = ("APP_", "OTEL_", "SENTRY_", "DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")


def app_env(service: Service, layout: Layout, otlp: bool, buckets: tuple[float, ...] = ()) -> dict[str, str]:
    env = {
        "APP_HOST": "127.0.0.1",
        "APP_PORT": str(service.port),
        "APP_SERVICE_NAME": service.name,
        "APP_ENVIRONMENT": "local",
        "APP_FAULTS_ENABLED": "true",
        "APP_FAULTS_TOKEN_FILE": str(layout.root / c.FAULTS_TOKEN_FILE),
        "APP_ADMIN_TOKEN_FILE": str(layout.root / c.ADMIN_TOKEN_FILE),
        "DATABASE_URL": f"sqlite+aiosqlite:///{layout.data('apps') / service.name}.db",
        **c.app_contract_env(buckets),
    }
    if service.metrics_token_file:
        env["APP_METRICS_TOKEN_FILE"] = str(layout.root / service.metrics_token_file)
    if otlp:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{c.OTLP_GRPC_PORT}"
    return env


def base_env() -> dict[str, str]:
    """This process' environment without the app's own settings (they are set explicitly)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(INHERITED_PREFIXES)}
