"""compose.yaml: loopback-only ports, healthchecks, dependencies, secrets, retention, pinned images."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from stack import conventions as c
from stack.builders.compose import build_alertmanager_compose, build_compose, build_ephemeral
from stack.conventions import retention
from stack.durations import Duration
from stack.models.compose import ComposeFile, Service
from stack.render import render_all
from stack.settings import StackSettings

NO_HEALTHCHECK = {"otelcol", "loadgen"}  # FROM scratch image; a one-shot-like load loop


def test_unknown_key_rejected(settings: StackSettings) -> None:
    """A key the model does not know fails validation, at the top and inside a service."""
    data = build_compose(settings).to_data()
    with pytest.raises(ValidationError, match="Extra inputs"):
        ComposeFile.model_validate({**data, "networkz": {}})
    data["services"]["prometheus"]["imagee"] = "x"
    with pytest.raises(ValidationError, match="Extra inputs"):
        ComposeFile.model_validate(data)


def test_published_ports_are_loopback_only(settings: StackSettings) -> None:
    """Every published port is bound to 127.0.0.1, and the model refuses any other binding."""
    for name, service in build_compose(settings).services.items():
        for port in service.ports or ():
            assert port.startswith("127.0.0.1:"), (name, port)
    with pytest.raises(ValidationError, match=r"127\.0\.0\.1"):
        Service(image="x:1", ports=("9090:9090",))


def test_healthchecks_and_healthy_dependencies(settings: StackSettings) -> None:
    """Every long-running service has a healthcheck with a start period; dependencies wait for healthy."""
    compose = build_compose(settings)
    for name, service in compose.services.items():
        if name not in NO_HEALTHCHECK:
            assert service.healthcheck is not None, name
            assert Duration.parse(service.healthcheck.start_period).ms > 0
        for dependency, condition in (service.depends_on or {}).items():
            expected = "service_started" if dependency in NO_HEALTHCHECK else "service_healthy"
            assert condition.condition == expected, (name, dependency)


def test_no_default_passwords(settings: StackSettings) -> None:
    """Passwords come from compose/.env via ${VAR:?...}; admin/admin never appears."""
    compose = build_compose(settings)
    grafana = compose.services["grafana"].environment or {}
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"].startswith(f"${{{c.ENV_GRAFANA_PASSWORD}:?")
    with_db = settings.model_copy(
        update={"services": (settings.services[0].model_copy(update={"requires": ("postgres",)}),)}
    )
    postgres = build_compose(with_db).services["postgres"].environment or {}
    assert postgres["POSTGRES_PASSWORD"].startswith(f"${{{c.ENV_POSTGRES_PASSWORD}:?")
    text = str(compose.to_data()).lower()
    assert "admin:admin" not in text
    assert "'password': 'admin'" not in text


@pytest.mark.parametrize("profile", ["production", "fast"])
def test_retention_longer_than_slo_window(settings: StackSettings, profile: str) -> None:
    """Prometheus keeps more than the SLO window of the profile."""
    chosen = settings.model_copy(update={"profile": profile})
    command = build_compose(chosen).services["prometheus"].command or ()
    assert f"--storage.tsdb.retention.time={retention(chosen.timing.slo_window)}" in command
    assert Duration.parse(retention(chosen.timing.slo_window)).ms > chosen.timing.slo_window.ms


def test_images_pinned_from_settings(settings: StackSettings) -> None:
    """Each component's image is the one pinned in settings; PostgreSQL only runs when a service requires it."""
    compose = build_compose(settings)
    for name in ("prometheus", "alertmanager", "grafana", "loki", "tempo", "otelcol"):
        assert compose.services[name].image == getattr(settings.components, name).image
    assert "postgres" not in compose.services
    assert "postgres-data" not in compose.volumes


def test_prometheus_mirrors_the_project_layout(settings: StackSettings) -> None:
    """prometheus.yml's ../../alerts and ../../secrets resolve under /etc/obsstack in the container."""
    prometheus = build_compose(settings).services["prometheus"]
    assert "../alerts:/etc/obsstack/alerts:ro" in (prometheus.volumes or ())
    assert "/etc/obsstack/secrets/metrics-token" in {s.target for s in prometheus.secrets or ()}
    assert "--web.enable-remote-write-receiver" in (prometheus.command or ())
    assert "--enable-feature=exemplar-storage" in (prometheus.command or ())


def test_ephemeral_override_covers_every_data_volume(settings: StackSettings) -> None:
    """The ephemeral override backs every named data volume with a tmpfs."""
    compose, override = build_compose(settings), build_ephemeral(settings)
    assert set(override.volumes) == set(compose.volumes)
    assert all(v.driver_opts["type"] == "tmpfs" for v in override.volumes.values())


def test_loopback_webhooks_reach_the_host_gateway(settings: StackSettings) -> None:
    """In containers, loopback webhook URLs point at host.docker.internal, which resolves to the host."""
    config = build_alertmanager_compose(settings)
    urls = [hook.url for r in config.receivers for hook in r.webhook_configs or ()]
    assert urls
    assert all(url.startswith(f"http://{c.HOST_GATEWAY}:") for url in urls)
    assert f"{c.HOST_GATEWAY}:host-gateway" in (build_compose(settings).services["alertmanager"].extra_hosts or ())


def test_rendered_files(settings: StackSettings) -> None:
    """generate writes the compose file, its override and the three component configs."""
    paths = {a.path for a in render_all(settings)}
    compose_dir = settings.output.compose_dir
    for name in (c.COMPOSE_FILE, c.COMPOSE_EPHEMERAL_FILE, c.LOKI_CONFIG, c.TEMPO_CONFIG, c.OTELCOL_CONFIG):
        assert f"{compose_dir}/{name}" in paths
