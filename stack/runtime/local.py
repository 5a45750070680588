"""Local mode: the stack as processes on 127.0.0.1 (`--local`, or when there is no Docker engine).

Prometheus, Alertmanager (obsstack's builds at the pinned versions) and the `command` services are required;
the collector is started when built (and required when a service pushes its metrics by OTLP, which reach
Prometheus only through it); of the log and trace stores, those `backends` chooses: Jaeger and
VictoriaLogs when built, Loki and Tempo (like Grafana: AGPL, obsstack never builds or downloads them) only when
a user put their binary on PATH. What is not started is listed with how to get it, and recorded
(state.json's `missing`) so verify reports the checks that need it as not applicable. Configs, data, logs and
the state file live under .obsstack/ in the project root.
"""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from stack import conventions as c
from stack.errors import StackError
from stack.render import render_all
from stack.runtime import procs
from stack.runtime.programs import (
    Layout,
    Program,
    base_env,
    command_services,
    metrics_route,
    programs,
    pushing,
    readiness,
)
from stack.runtime.state import Running, State, clear_state, read_state, state_dir, stores_of, write_state
from stack.settings import StackSettings
from stack.write import write_files

READY_TIMEOUT = 60.0
EXTERNAL_TIMEOUT = 10.0
Echo = Callable[[str], None]


def plan(settings: StackSettings) -> tuple[list[tuple[Program, str]], list[Program]]:
    """(program, binary) pairs to start, in order, and the optional programs that are missing."""
    found, missing = [], []
    for program in programs(settings):
        binary = program.find(settings)
        if binary is None and program.required:
            why = f" (metrics of {', '.join(pushing(settings))} arrive through it)" if program.name == "otelcol" else ""
            raise StackError(f"{program.binaries[0]} not found on PATH{why}; install it with: {program.hint}")
        if binary is None:
            missing.append(program)
        else:
            found.append((program, binary))
    otlp = any(p.name == "otelcol" for p, _ in found)
    return found + command_services(settings, otlp), missing


def up_local(root: Path, settings: StackSettings, echo: Echo, ephemeral: bool = False) -> State:
    current = read_state(root)
    if current is not None and _still_running(root, current, echo):
        return current
    layout = Layout(root.resolve(), state_dir(root.resolve()))
    if ephemeral and (layout.state / "data").is_dir():
        shutil.rmtree(layout.state / "data")
        echo("ephemeral: removed the data of earlier local runs")
    to_start, missing = plan(settings)
    _check_ports(to_start)
    echo(f"stores: logs in {settings.backends.logs}, traces in {settings.backends.traces} (stack.yaml's backends, "
         "or OBSSTACK_BACKENDS__LOGS / OBSSTACK_BACKENDS__TRACES)")  # fmt: skip
    for program in missing:
        echo(f"not started: {program.name} ({program.binaries[0]} not on PATH); to get it: {program.hint}")
    for service in settings.services:
        if service.in_compose:
            where = f"{service.local_address}:{service.port}"
            echo(f"not started: {service.name} runs from {service.kind} in compose, which needs a Docker engine; "
                 f"run it yourself on {where} or use `obsstack up --compose`")  # fmt: skip
    running = {p.name for p, _ in to_start} | {s.name for s in settings.services}
    write_local_plan(settings, layout, running)
    started = _start_all(to_start, layout, settings, echo)
    outside = tuple(services_outside(settings, layout.root, echo))
    state = State("local", settings.profile, tuple(started) + outside, missing=tuple(p.name for p in missing),
                  backends=stores_of(settings))
    write_state(root, state)
    for item in started:
        echo(f"ready: {item.name:<14} {item.url}")
    return state


def local_placement(layout: Layout, running: Iterable[str]) -> c.Placement:
    """The plan's placement for processes on 127.0.0.1, with this run's directories."""
    return c.Placement(
        local=True,
        data_root=layout.data_root,
        logs_root=str(layout.log("_").parent),
        project_root=str(layout.root),
        config_root=str(layout.local),
        running=tuple(sorted(running)),
    )


def write_local_plan(settings: StackSettings, layout: Layout, running: Iterable[str]) -> None:
    """The whole plan rendered for local processes, written atomically under .obsstack/local/ (so
    prometheus.yml's ../../alerts resolves there as in the project)."""
    artifacts = render_all(settings, local_placement(layout, running))
    write_files(layout.local, {artifact.path: artifact.text for artifact in artifacts})


def start_command_services(root: Path, settings: StackSettings, echo: Echo) -> tuple[Running, ...]:
    """Compose mode: the `command` services still run as processes here (Prometheus reaches them on the host)."""
    layout = Layout(root.resolve(), state_dir(root.resolve()))
    to_start = command_services(settings, otlp=True, local=False)  # the collector in a container: logs by OTLP
    if not to_start:
        return ()
    _check_ports(to_start)
    return tuple(_start_all(to_start, layout, settings, echo, record=False))


def services_outside(settings: StackSettings, root: Path, echo: Echo) -> Iterable[Running]:
    """The services obsstack does not start here (external, and image/build without compose), as status sees them."""
    for service in settings.services:
        if service.kind == "command":
            continue
        ready = readiness(service)
        url, health = f"http://{service.local_address}:{service.port}", f"http://{service.local_address}:{ready.port}"
        token = str(root / ready.token_file) if ready.token_file else ""
        item = Running(service.name, url, health + ready.path, kind=service.kind, token_file=token,
                       any_status=ready.any_status, metrics=metrics_route(service))  # fmt: skip
        if service.kind == "external":
            answers = wait_answering(item, EXTERNAL_TIMEOUT)
            how = "Prometheus scrapes it" if service.scraped else "it pushes its metrics to the collector"
            note = "" if answers else f", does not answer at {item.health_url}: start it, {how}"
            echo(f"{'ready' if answers else 'warning'}: {service.name:<14} {url} (external{note})")
        yield item


def wait_answering(item: Running, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if procs.http_ok(item.health_url, timeout=1.0, token_file=item.token_file, any_status=item.any_status):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def _still_running(root: Path, current: State, echo: Echo) -> bool:
    """True (and says so) if the recorded stack is up; clears a stale state file otherwise."""
    ours = [r for r in current.components if r.pid or current.mode == "compose"]
    alive = [r.name for r in ours if current.mode == "compose" or procs.alive(r.started)]
    if current.mode == "compose" or alive:
        dead = [r.name for r in ours if r.name not in alive]
        echo(f"already up ({current.mode} mode, profile {current.profile}): {', '.join(alive)}")
        if dead:
            echo(f"not running any more: {', '.join(dead)}; run `obsstack down` then `obsstack up`")
        return True
    clear_state(root)
    return False


def _check_ports(to_start: Iterable[tuple[Program, str]]) -> None:
    ports = [(p.name, port) for p, _ in to_start for port in dict.fromkeys((p.port, p.health_port or p.port))]
    busy = [f"{name} (127.0.0.1:{port})" for name, port in ports if not _port_free(port)]
    if busy and any(p.service for p, _ in to_start):
        busy.append("(a service that runs by itself is declared `external: true` in stack.yaml)")
    if busy:
        raise StackError(f"ports already in use, expected free: {', '.join(busy)}; stop what uses them")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _start_all(
    to_start: list[tuple[Program, str]], layout: Layout, settings: StackSettings, echo: Echo,
    record: bool = True,
) -> list[Running]:  # fmt: skip
    """Start in order and wait until ready; with `record`, the local state file follows each start."""
    started: list[Running] = []
    try:
        for program, binary in to_start:
            started.append(_start(program, binary, layout, settings))
            echo(f"started: {program.name} (pid {started[-1].pid})")
            if record:
                write_state(layout.root, State("local", settings.profile, tuple(started), backends=stores_of(settings)))
        return _wait_ready(started, to_start, echo)
    except BaseException:
        for item in reversed(started):
            procs.stop(item.started)
        if record:
            clear_state(layout.root)
        raise


def _start(program: Program, binary: str, layout: Layout, settings: StackSettings) -> Running:
    layout.data(program.name).mkdir(parents=True, exist_ok=True)
    log = layout.log(program.name)
    env = base_env() | program.env(layout, settings)
    cwd = (layout.root / program.cwd).resolve() if program.cwd else layout.root
    if not cwd.is_dir():
        raise StackError(f"service {program.name}: cwd {cwd} is not a directory; expected the service's directory")
    pid = procs.spawn(program.argv(binary, layout, settings), env, cwd, log)
    url = f"http://{program.address}:{program.port}"
    health = f"http://{program.address}:{program.health_port or program.port}{program.health_path}"
    token = str(layout.root / program.token_file) if program.token_file else ""
    kind = "command" if program.service else "component"
    return Running(program.name, url, health, pid.pid, pid.start_time, str(log), kind, token, program.any_status,
                   program.metrics)  # fmt: skip


def _wait_ready(started: list[Running], to_start: list[tuple[Program, str]], echo: Echo) -> list[Running]:
    """Poll every health URL (bounded); an optional component that fails is stopped and reported."""
    required = {p.name for p, _ in to_start if p.required}
    pending, deadline = list(started), time.monotonic() + READY_TIMEOUT
    failed: dict[str, str] = {}
    while pending and time.monotonic() < deadline:
        for item in list(pending):
            if procs.http_ok(item.health_url, timeout=1.0, token_file=item.token_file, any_status=item.any_status):
                pending.remove(item)
            elif not procs.alive(item.started):
                pending.remove(item)
                failed[item.name] = "exited"
        time.sleep(0.2 if pending else 0)
    failed |= {item.name: f"not ready after {READY_TIMEOUT:.0f}s" for item in pending}
    return _settle(started, failed, required, echo)


def _settle(started: list[Running], failed: dict[str, str], required: set[str], echo: Echo) -> list[Running]:
    fatal = [
        f"{r.name} {failed[r.name]}; log {r.log}:\n{procs.tail(Path(r.log))}"
        for r in started
        if r.name in failed and r.name in required
    ]
    if fatal:
        raise StackError("\n".join(fatal))
    for item in started:
        if item.name in failed:
            procs.stop(item.started)
            echo(f"not started: {item.name} {failed[item.name]}; log {item.log}:\n{procs.tail(Path(item.log))}")
    return [item for item in started if item.name not in failed]


def down_local(root: Path, state: State, echo: Echo) -> None:
    """Stop exactly the processes of the state file (a stale pid is reported, never signalled)."""
    for item in reversed(state.components):
        if not item.pid:
            continue  # external: never started, never stopped
        if procs.stop(item.started):
            echo(f"stopped: {item.name} (pid {item.pid})")
        else:
            echo(f"already gone: {item.name} (pid {item.pid})")
    clear_state(root)


def stop_component(root: Path, name: str) -> None:
    """Stop one started component of the local stack (for verify's pipeline faults); its state entry stays."""
    state = read_state(root)
    item = next((r for r in state.components if r.name == name and r.pid), None) if state else None
    if item is None:
        raise StackError(f"{name}: not started by `obsstack up --local`; expected a running local stack")
    procs.stop(item.started)


def restart_component(root: Path, settings: StackSettings, name: str, echo: Echo) -> Running:
    """Start a stopped component again with the same binary, configs and data, and wait until it is ready."""
    state = read_state(root)
    if state is None or state.mode != "local":
        raise StackError(f"{name}: no local stack is recorded in .obsstack/; expected `obsstack up --local` first")
    layout = Layout(root.resolve(), state_dir(root.resolve()))
    found = [(p, b) for p, b in plan(settings)[0] if p.name == name]
    if not found:
        raise StackError(f"{name}: not a component local mode starts here")
    started = _start_all(found, layout, settings, echo, record=False)
    if not started:
        raise StackError(f"{name}: did not become ready again after its restart")
    components = tuple(started[0] if r.name == name else r for r in state.components)
    write_state(root, replace(state, components=components))
    return started[0]
