"""What the containers' users can reach: the ephemeral tmpfs data directories.

The oracles are the pinned images' Dockerfiles (their USER and the mode of the data directory) and how
runc, the engine and docker compose 2.40 set up mounts, each with its upstream source.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from test_compose_config_tool import compose_tool, write_project

from stack import conventions as c
from stack.builders.compose import DATA, build_compose, build_ephemeral
from stack.settings import StackSettings

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
    """Every tmpfs of the ephemeral override lets the image's user create files. A tmpfs belongs to root
    (compose passes only size and mode), and runc copies the covered directory's mode when none is set
    (libcontainer/rootfs_linux.go), so without a mode Prometheus, Loki and Tempo cannot write."""
    override = build_ephemeral(with_postgres)
    for name, service in override.services.items():
        for mount in service.volumes:
            options = getattr(mount, "tmpfs", None)  # no options: the covered directory's mode
            mode = options.mode if options is not None else IMAGE_DIR_MODE[name]
            assert can_create_files(IMAGE_USER[name], ROOT, mode), (name, oct(mode))


def test_ephemeral_tmpfs_covers_every_data_directory(with_postgres: StackSettings) -> None:
    """The override has a tmpfs at each component's data directory, each with an explicit mode."""
    override = build_ephemeral(with_postgres)
    compose = build_compose(with_postgres)
    assert set(override.services) == {name for name in DATA if name in compose.services}
    for name, service in override.services.items():
        assert [(m.target, getattr(m, "tmpfs", None) is not None) for m in service.volumes] == [(DATA[name], True)]


@pytest.mark.tools
def test_compose_keeps_the_tmpfs_modes(tmp_path: Path, settings: StackSettings) -> None:
    """The real `docker compose config` reads each tmpfs mode as the number we wrote (a string is refused)."""
    compose_dir = write_project(tmp_path, settings)
    proc = subprocess.run(
        [compose_tool(), "-f", c.COMPOSE_FILE, "-f", c.COMPOSE_EPHEMERAL_FILE, "config", "--format", "json"],
        cwd=compose_dir, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    services = json.loads(proc.stdout)["services"]
    for name, service in build_ephemeral(settings).services.items():
        modes = {v["target"]: v.get("tmpfs", {}).get("mode") for v in services[name]["volumes"] if v["type"] == "tmpfs"}
        assert modes == {m.target: m.tmpfs.mode for m in service.volumes}, name
