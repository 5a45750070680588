"""What the containers' users can reach: the ephemeral tmpfs data directories and the secrets.

The oracles are the pinned images' Dockerfiles (their USER and the mode of the data directory) and how
runc, the engine and docker compose 2.40 set up mounts, each with its upstream source.
"""

from __future__ import annotations

import json
import posixpath
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_compose_config_tool import compose_tool, write_project

from stack import conventions as c
from stack.builders.compose import DATA, build_compose, build_ephemeral
from stack.builders.prometheus import build_prometheus
from stack.models.compose import ComposeFile, Service, ServiceSecret
from stack.secrets import ensure_secrets, read_env
from stack.settings import StackSettings


def compose_config(compose_dir: Path, *args: str) -> dict[str, Any]:
    """The project as the real `docker compose config` reads it (compose.yaml plus `args`), as JSON."""
    proc = subprocess.run([compose_tool(), "-f", c.COMPOSE_FILE, *args, "config", "--format", "json"],
                          cwd=compose_dir, capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result

ROOT = 0
# The user each pinned image runs as, and the mode its Dockerfile leaves on the data directory:
# prom/prometheus v3.5.0 (USER nobody; chown nobody /prometheus && chmod g+w), prom/alertmanager v0.28.1
# (USER nobody), grafana/grafana 12.1.1 (USER 472; chmod -R 777 the data path), grafana/loki 3.5.3
# (USER 10001), grafana/tempo 2.9.0 (USER 10001:10001; mkdir -m 0700 /var/tempo), postgres (entrypoint
# runs as root and hands PGDATA to postgres itself).
IMAGE_USER = {"prometheus": 65534, "alertmanager": 65534, "grafana": 472, "loki": 10001, "tempo": 10001,
              "postgres": ROOT}  # fmt: skip
IMAGE_DIR_MODE = {"prometheus": 0o775, "alertmanager": 0o755, "grafana": 0o777, "loki": 0o755, "tempo": 0o700,
                  "postgres": 0o1777}  # fmt: skip


def can_create_files(uid: int, owner: int, mode: int) -> bool:
    """Write and search permission on a directory for `uid` (no group of the image user owns a tmpfs)."""
    if uid == ROOT:
        return True
    bits = (mode >> 6) & 0o7 if uid == owner else mode & 0o7
    return bits & 0o3 == 0o3


@pytest.fixture
def with_postgres(settings: StackSettings) -> StackSettings:
    service = settings.services[0].model_copy(update={"requires": ("postgres",)})
    return settings.model_copy(update={"services": (service,)})


def test_ephemeral_tmpfs_is_writable_by_the_image_user(with_postgres: StackSettings) -> None:
    """Every data volume of the ephemeral override is a tmpfs of the engine's local driver, which has the
    kernel's default mode 1777 and is bind-mounted (no runc chmod), so every image user can create files in it.
    A tmpfs mount (`type: tmpfs`) is not: runc 1.1 chmods it to the covered image directory's mode whatever
    mode compose passes, and it belongs to root, so nobody could not write 0775 /prometheus (real engine)."""
    override = build_ephemeral(with_postgres)
    for key, volume in override.volumes.items():
        name = key.removesuffix("-data")
        assert volume.driver_opts == {"type": "tmpfs", "device": "tmpfs"}, key
        assert can_create_files(IMAGE_USER[name], ROOT, 0o1777), name


def test_ephemeral_tmpfs_covers_every_data_directory(with_postgres: StackSettings) -> None:
    """The override backs each component's named data volume, under a name of its own (a persistent volume
    of the same key keeps its data)."""
    override = build_ephemeral(with_postgres)
    compose = build_compose(with_postgres)
    assert set(override.volumes) == {f"{name}-data" for name in DATA if name in compose.services}
    assert set(override.volumes) == set(compose.volumes)
    for key, volume in override.volumes.items():
        assert volume.name == f"{with_postgres.project}_{key.removesuffix('-data')}-ephemeral"


@pytest.mark.tools
def test_compose_keeps_the_tmpfs_volumes(tmp_path: Path, settings: StackSettings) -> None:
    """The real `docker compose config` reads each data volume of the ephemeral variant as a tmpfs volume with
    its own name, still mounted at the component's data directory."""
    project = compose_config(write_project(tmp_path, settings), "-f", c.COMPOSE_EPHEMERAL_FILE)
    for key, volume in build_ephemeral(settings).volumes.items():
        assert project["volumes"][key]["name"] == volume.name
        assert project["volumes"][key]["driver_opts"] == volume.driver_opts
        name = key.removesuffix("-data")
        mounts = {v["target"]: v["source"] for v in project["services"][name]["volumes"] if v["type"] == "volume"}
        assert mounts[DATA[name]] == key


# --- secrets -------------------------------------------------------------------------------------
# On the host, secrets/ is 0700 and its files 0600, owned by the user who ran `obsstack up`. A bind mount
# keeps that owner and mode, so on a Linux engine a container user (nobody, 10001) cannot read them; and
# compose bind-mounts a `file:` secret ignoring its uid/gid/mode outside swarm (docker/compose v2.40.3
# pkg/compose/create.go, buildContainerSecretMounts). An `environment:` secret is copied into the container
# (pkg/compose/secrets.go) with the mode given, owned by the container's USER when a uid/gid is given (moby
# v28 daemon/archive_tarcopyoptions_unix.go), else by the tar header's owner, root.
DEMO_APP_USER = 10001  # sample_app/Dockerfile: useradd --uid 10001 app; USER app


def owner_in_container(secret: ServiceSecret, image_user: int) -> int:
    return image_user if (secret.uid or secret.gid) else ROOT


def can_read(uid: int, owner: int, mode: int) -> bool:
    return uid == ROOT or bool(mode & (0o400 if uid == owner else 0o004))


def delivered(compose: ComposeFile, service: Service, image_user: int) -> dict[str, bool]:
    """Target -> whether the image's user can read the secret compose writes there."""
    found = {}
    for secret in service.secrets or ():
        source = (compose.secrets or {})[secret.source]
        assert source.environment, secret.source  # copied in, not a bind mount of the host's file
        found[secret.target] = can_read(image_user, owner_in_container(secret, image_user), secret.mode)
    return found


@pytest.fixture
def built_app(settings: StackSettings) -> StackSettings:
    """The demo as a compose build service (stack.yaml's own suggestion), with faults and a metrics token."""
    service = settings.services[0]
    data = service.model_dump(exclude_unset=True, exclude={"command"})
    data["build"] = {"context": ".", "dockerfile": "sample_app/Dockerfile"}
    return settings.model_copy(update={"services": (type(service).model_validate(data),)})


def test_no_container_bind_mounts_the_host_secrets(built_app: StackSettings) -> None:
    """No service mounts secrets/ or a file in it: the host's 0600 files stay the host user's."""
    compose = build_compose(built_app)
    for name, service in compose.services.items():
        for volume in service.volumes or ():
            source = posixpath.normpath(posixpath.join(built_app.output.compose_dir, volume.split(":")[0]))
            assert not (source + "/").startswith(c.SECRETS_DIR + "/"), (name, volume)


def test_prometheus_reads_every_token_file_it_scrapes_with(settings: StackSettings) -> None:
    """Each credentials_file of prometheus.yml, resolved in the container, is a secret nobody can read."""
    compose = build_compose(settings)
    config_dir = posixpath.dirname(posixpath.join(c.CONTAINER_ROOT, settings.output.compose_dir, c.PROMETHEUS_CONFIG))
    wanted = {
        posixpath.normpath(posixpath.join(config_dir, job.authorization.credentials_file))
        for job in build_prometheus(settings).scrape_configs
        if job.authorization is not None
    }
    assert wanted
    readable = delivered(compose, compose.services["prometheus"], IMAGE_USER["prometheus"])
    assert {target: readable.get(target) for target in wanted} == dict.fromkeys(wanted, True)


def test_app_container_reads_its_token_files(built_app: StackSettings) -> None:
    """Every *_FILE variable of a compose service, and each of its secret_files, names a secret it can read."""
    compose = build_compose(built_app)
    app = compose.services["orders"]
    in_container = posixpath.join(c.CONTAINER_ROOT, c.SECRETS_DIR) + "/"
    wanted = {v for k, v in (app.environment or {}).items() if k.endswith("_FILE") and v.startswith(in_container)}
    wanted |= {posixpath.join(c.CONTAINER_ROOT, p) for p in built_app.services[0].secret_files}
    assert len(wanted) >= 3  # faults token, metrics token, admin token
    readable = delivered(compose, app, DEMO_APP_USER)
    assert {target: readable.get(target) for target in wanted} == dict.fromkeys(wanted, True)


def test_compose_env_carries_the_secrets_and_follows_the_files(tmp_path: Path, built_app: StackSettings) -> None:
    """`obsstack up` puts each compose secret's value in compose/.env (0600), from its file in secrets/ (0600,
    in a 0700 directory), and a changed file changes the value."""
    ensure_secrets(tmp_path, built_app)
    compose = build_compose(built_app)
    env_file = tmp_path / built_app.output.compose_dir / c.COMPOSE_ENV_FILE
    by_target = {s.target: s.source for svc in compose.services.values() for s in svc.secrets or ()}

    def check() -> None:
        env = read_env(env_file)
        for target, source in by_target.items():
            path = tmp_path / posixpath.relpath(target, c.CONTAINER_ROOT)
            variable = (compose.secrets or {})[source].environment
            assert env[variable] == path.read_text(encoding="utf-8").strip(), target
            assert stat.S_IMODE(path.stat().st_mode) == 0o600

    assert by_target
    check()
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / c.SECRETS_DIR).stat().st_mode) == 0o700
    token = tmp_path / built_app.services[0].metrics_token_file  # type: ignore[operator]
    token.write_text("rotated-by-hand\n", encoding="utf-8")
    ensure_secrets(tmp_path, built_app)
    check()


@pytest.mark.tools
def test_compose_reads_the_secret_values_from_its_env_file(tmp_path: Path, built_app: StackSettings) -> None:
    """The real compose takes each secret's variable from compose/.env and keeps the secrets' modes."""
    compose_dir = write_project(tmp_path, built_app)
    ensure_secrets(tmp_path, built_app)
    base = [compose_tool(), "-f", c.COMPOSE_FILE]
    run = {"cwd": compose_dir, "capture_output": True, "text": True, "timeout": 60, "check": False}
    proc = subprocess.run([*base, "config", "--environment"], **run)  # type: ignore[call-overload]
    assert proc.returncode == 0, proc.stderr
    known = {line.partition("=")[0] for line in proc.stdout.splitlines()}
    compose = build_compose(built_app)
    assert {s.environment for s in (compose.secrets or {}).values()} <= known
    services = compose_config(compose_dir, "--profile", c.LOAD_PROFILE)["services"]
    for name, service in compose.services.items():
        modes = {s["target"]: int(s["mode"], 8) for s in services[name].get("secrets", ())}
        assert modes == {s.target: s.mode for s in service.secrets or ()}, name


# --- loadgen ---------------------------------------------------------------------------------------
def test_loadgen_never_inherits_an_image_healthcheck(built_app: StackSettings) -> None:
    """The load loop serves nothing, so it disables any HEALTHCHECK its image may have (the app image has
    one, which would mark the loop unhealthy and fail the next `up`); it runs from a pinned component
    image, not from a service's own image or build."""
    compose = build_compose(built_app)
    loadgen = compose.services["loadgen"]
    assert loadgen.healthcheck is not None
    assert loadgen.healthcheck.disable is True
    assert loadgen.build is None
    apps = {s.name for s in built_app.services}
    assert loadgen.image not in {compose.services[name].image for name in apps if compose.services[name].image}


@pytest.mark.tools
def test_compose_keeps_loadgen_healthcheck_disabled(tmp_path: Path, built_app: StackSettings) -> None:
    """The real compose keeps `disable: true` for loadgen, so the engine runs no inherited check."""
    services = compose_config(write_project(tmp_path, built_app), "--profile", c.LOAD_PROFILE)["services"]
    assert services["loadgen"]["healthcheck"] == {"disable": True}
