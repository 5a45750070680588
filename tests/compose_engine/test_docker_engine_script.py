"""scripts/docker-engine.sh on a real dockerd: it starts an engine only when none answers and stops only the
one it started. A second, separate engine (its own socket, data and exec roots and bridge) is started here,
so the machine's engine is never touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.compose_engine.engine import REPO
from tests.support import absent

pytestmark = pytest.mark.e2e
SCRIPT = REPO / "scripts" / "docker-engine.sh"


def link_exists(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", name], capture_output=True, timeout=10, check=False).returncode == 0


@pytest.fixture
def separate() -> Iterator[dict[str, str]]:
    """The environment of a second engine under a short /tmp directory (a unix socket path is limited to 108
    bytes) on a bridge of its own (192.0.2.0/24, a documentation range): `--bridge none` would make dockerd
    delete docker0, the machine engine's bridge. Whatever the test leaves running is stopped through the
    script, then the bridge and the directory are removed; docker0, if there was one, is still there."""
    if os.geteuid() != 0 or not all(shutil.which(tool) for tool in ("dockerd", "docker", "ip")):
        absent("scripts/docker-engine.sh test: needs root, dockerd, docker and ip (scripts/install-system-deps.sh)")
    root = Path(tempfile.mkdtemp(prefix="obsdk-", dir="/tmp"))
    bridge = f"obsdk{uuid.uuid4().hex[:8]}"
    had_docker0 = link_exists("docker0")
    for step in (["add", "name", bridge, "type", "bridge"], ["set", bridge, "up"]):
        subprocess.run(["ip", "link", *step], check=True, timeout=10)
    subprocess.run(["ip", "addr", "add", "192.0.2.1/24", "dev", bridge], check=True, timeout=10)
    args = f"--host unix://{root}/d.sock --data-root {root}/data --exec-root {root}/exec --pidfile {root}/d.pid"
    env = os.environ | {
        "DOCKER_HOST": f"unix://{root}/d.sock",
        "DOCKERD_ARGS": f"{args} --bridge {bridge} --iptables=false --ip-masq=false",
        "OBSSTACK_STATE_DIR": str(root / "state"),
    }
    try:
        yield env
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, timeout=60, check=False)
        subprocess.run(["ip", "link", "del", bridge], capture_output=True, timeout=10, check=False)
        shutil.rmtree(root, ignore_errors=True)
    assert link_exists("docker0") == had_docker0, "the second engine must leave the machine's docker0 alone"


def script(env: dict[str, str], command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), command], env=env, capture_output=True, text=True, timeout=90, check=False)


def answers(env: dict[str, str]) -> bool:
    return subprocess.run(["docker", "info"], env=env, capture_output=True, timeout=30, check=False).returncode == 0


def test_starts_only_when_none_answers_and_stops_only_its_own(separate: dict[str, str]) -> None:
    """`start` starts dockerd when none answers and waits until it does; a second `start` leaves it be;
    `stop` ends it (and says so), and a second `stop` has nothing to stop."""
    assert not answers(separate)
    started = script(separate, "start")
    assert "dockerd started" in started.stdout, started.stdout + started.stderr
    assert answers(separate)
    again = script(separate, "start")
    assert again.returncode == 0
    assert "answers already" in again.stdout
    stopped = script(separate, "stop")
    assert "stopped" in stopped.stdout, stopped.stdout + stopped.stderr
    assert not answers(separate)
    assert "nothing to stop" in script(separate, "stop").stdout


def test_leaves_an_engine_it_did_not_start(separate: dict[str, str]) -> None:
    """With an engine already answering (one the script did not start), `start` starts none and `stop` stops
    none: that engine still answers."""
    own = {**separate, "OBSSTACK_STATE_DIR": separate["OBSSTACK_STATE_DIR"] + "-first"}
    assert script(own, "start").returncode == 0  # the engine "already running", from another state directory
    try:
        assert "answers already" in script(separate, "start").stdout
        assert "nothing to stop" in script(separate, "stop").stdout
        assert answers(separate)
    finally:
        script(own, "stop")
