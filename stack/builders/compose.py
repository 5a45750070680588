"""settings -> compose.yaml model (and its ephemeral override and the containers' Alertmanager config).

The project layout is mirrored under /etc/obsstack in the containers, so prometheus.yml's relative
paths (../../alerts, ../../secrets) resolve there as on the host. Passwords come from compose/.env
(created by `obsstack up`, never committed) with `${VAR:?...}`, so a missing .env fails loudly.
Secret files are never bind-mounted: each is a compose secret whose value `obsstack up` copies from
secrets/ into compose/.env, and which compose writes into the container for the container's user.
Alertmanager reaches the webhook receiver on the host as host.docker.internal (extra_hosts:
host-gateway); loopback webhook URLs are rewritten to it in alertmanager.compose.yml, and verify's
receiver listens on that address too (stack.runtime.receiver).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from stack import conventions as c
from stack.builders.alertmanager import build_alertmanager
from stack.builders.backends import (
    LOG_STORES,
    TRACE_STORES,
    VICTORIALOGS_PLUGIN_VERSION,
    LogStore,
    StoreService,
    TraceStore,
    stores,
)
from stack.errors import StackError
from stack.models.alertmanager import AlertmanagerConfig
from stack.models.compose import (
    Build,
    ComposeFile,
    ComposeOverride,
    DependsOn,
    Healthcheck,
    SecretSource,
    Service,
    ServiceSecret,
    TmpfsVolume,
    Volume,
)
from stack.models.grafana import VICTORIALOGS_PLUGIN
from stack.secret_names import app_secret_files, compose_secret_files, scrape_token_files, secret_name, secret_variable
from stack.service_settings import LOOPBACK
from stack.service_settings import Build as ServiceBuild
from stack.settings import Service as AppService
from stack.settings import StackSettings

# the log and trace stores' catalogue entries, by component
STORES: dict[str, LogStore | TraceStore] = {**LOG_STORES, **TRACE_STORES}
DATA = {
    "prometheus": "/prometheus",
    "alertmanager": "/alertmanager",
    "grafana": "/var/lib/grafana",
    **{name: entry.service.data for name, entry in STORES.items() if entry.service.data},
    "postgres": "/var/lib/postgresql/data",
}
HEALTHY = DependsOn(condition="service_healthy")
# The ephemeral variant: each data volume backed by a tmpfs of the engine's local driver (see TmpfsVolume)
TMPFS_DRIVER_OPTS = {"type": "tmpfs", "device": "tmpfs"}
# Secrets reach containers as compose secrets of `environment:` source, which compose copies into the
# container before it starts (docker/compose pkg/compose/secrets.go). Not bind mounts, nor `file:` secrets
# (bind mounts too, whose uid/gid/mode compose ignores outside swarm): on a Linux engine a bind mount keeps
# the host's 0600 and owner, so the containers' users (nobody, 10001) could not read the tokens, and making
# the host files readable to them would make them readable to every local user.
PROMETHEUS_USER = "65534"  # prom/prometheus: USER nobody; the scrape tokens are its own, mode 0400
OWNER_ONLY, ANY_USER = 0o400, 0o444
# A service's own image runs as a user obsstack does not know: its secrets are root's, readable by the
# container's processes (as Docker's own secrets are, 0444); the container is the boundary.


def root(settings: StackSettings) -> str:
    """The project root as seen from the compose file's directory."""
    return posixpath.relpath(".", settings.output.compose_dir)


def mirror(settings: StackSettings, path: str) -> str:
    """A read-only bind mount of a project path at the same place under /etc/obsstack."""
    return f"{posixpath.join(root(settings), path)}:{posixpath.join(c.CONTAINER_ROOT, path)}:ro"


def in_container(path: str) -> str:
    return posixpath.join(c.CONTAINER_ROOT, path)


def config_path(settings: StackSettings, name: str) -> str:
    return in_container(posixpath.join(settings.output.compose_dir, name))


def config_dir(settings: StackSettings, name: str) -> str:
    return posixpath.join(settings.output.compose_dir, posixpath.dirname(name))


def http_check(port: int, path: str, start_period: str = "20s") -> Healthcheck:
    return Healthcheck(
        test=("CMD", "wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{port}{path}"),
        interval="5s",
        timeout="3s",
        retries=12,
        start_period=start_period,
    )


def loopback(port: int, container_port: int | None = None) -> str:
    return f"127.0.0.1:{port}:{container_port or port}"


def literal(value: str) -> str:
    """A value compose passes as written: compose interpolates `$` (`${HOME}`, `$(...)` stays text), `$$` is `$`."""
    return value.replace("$", "$$")


def required_env(name: str) -> str:
    return f"${{{name}:?missing in compose/.env - run obsstack up to create it}}"


def data_volumes(settings: StackSettings) -> dict[str, str]:
    """Component -> data path of the components that run (PostgreSQL only when a service requires it, the
    chosen stores only)."""
    skipped = {name for name in STORES if name not in stores(settings)}
    skipped |= set() if settings.needs_postgres else {"postgres"}
    return {name: path for name, path in DATA.items() if name not in skipped}


def secret_sources(settings: StackSettings) -> dict[str, SecretSource]:
    sources: dict[str, SecretSource] = {}
    owners: dict[str, str] = {}
    for path in compose_secret_files(settings):
        name = secret_name(path)
        if owners.setdefault(name, path) != path:
            raise StackError(f"secret files {owners[name]!r} and {path!r}: both become {secret_variable(path)}")
        sources[name] = SecretSource(environment=secret_variable(path))
    return sources


def secret_mounts(paths: Iterable[str], mode: int, user: str | None = None) -> tuple[ServiceSecret, ...] | None:
    """Each file at its mirrored path in the container (where prometheus.yml and OBS_*_FILE point)."""
    mounts = tuple(
        ServiceSecret(source=secret_name(p), target=in_container(p), uid=user, gid=user, mode=mode) for p in paths
    )
    return mounts or None


def build_compose(settings: StackSettings) -> ComposeFile:
    """The components, plus one compose service per image/build service of stack.yaml, named after it.

    Command and external services run outside compose; Prometheus reaches them on the host."""
    services = {
        "prometheus": _prometheus(settings),
        "alertmanager": _alertmanager(settings),
        "grafana": _grafana(settings),
        **{name: _store(settings, name, STORES[name].service) for name in stores(settings)},
        "otelcol": _otelcol(settings),
        **({"postgres": _postgres(settings)} if settings.needs_postgres else {}),
        **{s.name: _app(settings, s) for s in settings.services if s.in_compose},
    }
    if any(r.method == "GET" for s in settings.services for r in s.traffic):
        services["loadgen"] = _loadgen(settings)
    volumes = {f"{name}-data": Volume() for name in data_volumes(settings)}
    secrets = secret_sources(settings) or None
    return ComposeFile(name=settings.project, services=services, volumes=volumes, secrets=secrets)


def build_ephemeral(settings: StackSettings) -> ComposeOverride:
    """Backs every data volume with a tmpfs (1777: the image's user can write it): nothing survives `down`."""
    return ComposeOverride(
        volumes={
            f"{name}-data": TmpfsVolume(name=f"{settings.project}_{name}-ephemeral", driver_opts=TMPFS_DRIVER_OPTS)
            for name in data_volumes(settings)
        }
    )


def _prometheus(settings: StackSettings) -> Service:
    port = settings.components.prometheus.port
    return Service(
        image=settings.components.prometheus.image,
        command=c.prometheus_flags(
            config_path(settings, c.PROMETHEUS_CONFIG), DATA["prometheus"], f":{port}", settings.timing.slo_window
        ),
        ports=(loopback(port),),
        volumes=(
            mirror(settings, config_dir(settings, c.PROMETHEUS_CONFIG)),
            mirror(settings, settings.output.alerts_dir),
            f"prometheus-data:{DATA['prometheus']}",
        ),
        secrets=secret_mounts(scrape_token_files(settings), OWNER_ONLY, PROMETHEUS_USER),
        extra_hosts=(f"{c.HOST_GATEWAY}:host-gateway",),
        healthcheck=http_check(port, "/-/ready"),
    )


def _alertmanager(settings: StackSettings) -> Service:
    port = settings.components.alertmanager.port
    return Service(
        image=settings.components.alertmanager.image,
        command=c.alertmanager_flags(
            config_path(settings, c.ALERTMANAGER_COMPOSE_CONFIG), DATA["alertmanager"], f":{port}"
        ),
        ports=(loopback(port),),
        volumes=(
            mirror(settings, config_dir(settings, c.ALERTMANAGER_COMPOSE_CONFIG)),
            f"alertmanager-data:{DATA['alertmanager']}",
        ),
        extra_hosts=(f"{c.HOST_GATEWAY}:host-gateway",),
        healthcheck=http_check(port, "/-/ready"),
    )


def _grafana(settings: StackSettings) -> Service:
    port = settings.components.grafana.port
    return Service(
        image=settings.components.grafana.image,
        environment={
            "GF_SERVER_HTTP_PORT": str(port),
            "GF_SECURITY_ADMIN_USER": "admin",
            "GF_SECURITY_ADMIN_PASSWORD": required_env(c.ENV_GRAFANA_PASSWORD),
            "GF_USERS_ALLOW_SIGN_UP": "false",
            "GF_ANALYTICS_REPORTING_ENABLED": "false",
            "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
            **grafana_plugins(settings),
        },
        ports=(loopback(port),),
        volumes=(
            f"{posixpath.join('.', c.GRAFANA_PROVISIONING)}:/etc/grafana/provisioning:ro",
            f"{posixpath.join(root(settings), settings.output.dashboards_dir)}:{c.CONTAINER_DASHBOARDS}:ro",
            f"grafana-data:{DATA['grafana']}",
        ),
        depends_on={"prometheus": HEALTHY, **{name: HEALTHY for name in stores(settings)}, "alertmanager": HEALTHY},
        healthcheck=http_check(port, "/api/health", start_period="30s"),
    )


def grafana_plugins(settings: StackSettings) -> dict[str, str]:
    """The datasource plugins the chosen stores need, installed (pinned) before Grafana provisions them:
    Grafana 12's [plugins] preinstall_sync (GF_INSTALL_PLUGINS is deprecated)."""
    if "victorialogs" not in stores(settings):
        return {}
    return {"GF_PLUGINS_PREINSTALL_SYNC": f"{VICTORIALOGS_PLUGIN}@{VICTORIALOGS_PLUGIN_VERSION}"}


def _store(settings: StackSettings, name: str, spec: StoreService) -> Service:
    """A log or trace store as its catalogue entry describes it: config (if any) mounted, port on 127.0.0.1."""
    config = STORES[name].config
    volumes: tuple[str, ...] = (mirror(settings, config_dir(settings, config[0])),) if config else ()
    volumes += (f"{name}-data:{spec.data}",) if spec.data else ()
    return Service(
        image=getattr(settings.components, name).image,
        user=spec.user,
        command=spec.command(settings, config_path(settings, config[0]) if config else ""),
        ports=(loopback(getattr(settings.components, name).port),),
        volumes=volumes,
        depends_on={dependency: HEALTHY for dependency in spec.depends} or None,
        healthcheck=http_check(spec.health_port(settings), spec.health_path, start_period=spec.start_period),
    )


def _otelcol(settings: StackSettings) -> Service:
    """The collector image is FROM scratch (no shell, no wget): no healthcheck inside the container;
    `obsstack up` polls its health_check extension from the host on the published port instead."""
    return Service(
        image=settings.components.otelcol.image,
        command=(f"--config={config_path(settings, c.OTELCOL_CONFIG)}",),
        ports=(
            loopback(c.OTLP_GRPC_PORT),
            loopback(c.OTLP_HTTP_PORT),
            loopback(c.OTELCOL_HEALTH_PORT),
        ),
        volumes=(mirror(settings, config_dir(settings, c.OTELCOL_CONFIG)),),
        depends_on={"prometheus": HEALTHY, **{name: HEALTHY for name in stores(settings)}},
    )


def _postgres(settings: StackSettings) -> Service:
    return Service(
        image=settings.components.postgres.image,
        environment={
            "POSTGRES_USER": c.POSTGRES_USER,
            "POSTGRES_DB": c.POSTGRES_DB,
            "POSTGRES_PASSWORD": required_env(c.ENV_POSTGRES_PASSWORD),
        },
        volumes=(f"postgres-data:{DATA['postgres']}",),
        healthcheck=Healthcheck(
            test=("CMD", "pg_isready", "-U", c.POSTGRES_USER, "-d", c.POSTGRES_DB),
            interval="5s",
            timeout="3s",
            retries=12,
            start_period="20s",
        ),
    )


def app_build(settings: StackSettings, build: ServiceBuild) -> Build:
    """The user's build context (relative to stack.yaml) as seen from the compose file's directory."""
    return Build(context=posixpath.normpath(posixpath.join(root(settings), build.context)), dockerfile=build.dockerfile)


def _app(settings: StackSettings, service: AppService) -> Service:
    """An image/build service: the user's environment over obsstack's (OTel and obsstack_fastapi variables: an
    OpenTelemetry SDK pushes metrics at the scrape interval, in the stable HTTP conventions for otel). Its
    metrics port, when another, is published beside its port."""
    environment = {
        **c.service_env(
            service.name,
            settings.buckets(service),
            in_container(c.FAULTS_TOKEN_FILE) if service.faults else None,
            in_container(service.metrics_token_file) if service.metrics_token_file else None,
            f"http://otelcol:{c.OTLP_GRPC_PORT}",
            "compose",
            export_interval_ms=settings.timing.scrape_interval.ms,
            stable_semconv=service.metrics_convention == "otel",
        ),
        **{key: literal(value) for key, value in service.env.items()},
    }
    ports = sorted({service.port, service.scrape_port})
    depends = {"otelcol": DependsOn(condition="service_started")}
    if "postgres" in service.requires:
        depends["postgres"] = HEALTHY
    return Service(
        image=service.image,
        build=app_build(settings, service.build) if service.build else None,
        environment=environment,
        ports=tuple(loopback(port) for port in ports),
        secrets=secret_mounts(app_secret_files(service), ANY_USER),
        depends_on=depends,
    )


def _loadgen(settings: StackSettings) -> Service:
    """Optional (`--profile load`): a steady trickle of GET requests to every service's traffic paths.

    Runs busybox wget from the pinned Prometheus image (no image of the user's is assumed)."""
    urls = [f"http://{s.compose_address}{r.path}" for s in settings.services for r in s.traffic if r.method == "GET"]
    loop = "while true; do for u in " + " ".join(f"'{u}'" for u in urls)
    loop += '; do wget -q -O /dev/null "$$u" || echo "failed: $$u"; done; sleep 0.2; done'
    return Service(
        image=settings.components.prometheus.image,
        profiles=(c.LOAD_PROFILE,),
        entrypoint=("/bin/sh", "-c"),
        command=(loop,),
        extra_hosts=(f"{c.HOST_GATEWAY}:host-gateway",),
        depends_on={s.name: DependsOn(condition="service_started") for s in settings.services if s.in_compose} or None,
        healthcheck=Healthcheck(disable=True),
    )


def for_containers(config: AlertmanagerConfig) -> AlertmanagerConfig:
    """The same Alertmanager config with loopback webhook URLs pointing at the host gateway."""
    receivers = tuple(
        receiver.model_copy(
            update={
                "webhook_configs": tuple(
                    hook.model_copy(update={"url": _to_gateway(hook.url)}) for hook in receiver.webhook_configs or ()
                )
                or None
            }
        )
        for receiver in config.receivers
    )
    return config.model_copy(update={"receivers": receivers})


def _to_gateway(url: str) -> str:
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK:
        return url
    netloc = c.HOST_GATEWAY + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def build_alertmanager_compose(settings: StackSettings) -> AlertmanagerConfig:
    return for_containers(build_alertmanager(settings))
