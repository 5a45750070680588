"""I/O: `obsstack up --local --ring`: the local stack with a Cortex ring as its rule engine and Alertmanager.

The usual local stack starts first (Prometheus, the stores, the collector, the services); then three Cortex
processes (obsstack's build at the pinned `mimir.cortex_version`) form one memberlist ring on 127.0.0.1;
Prometheus is switched to the ring run's config (the same scrapes, no rules, no Alertmanager, remote write to
every member with the tenant header) and reloaded; the local Alertmanager is stopped (the ring's replaces it);
the Mimir target's files, as the target generates them for this run's profile, are loaded unchanged through
the ruler and Alertmanager APIs (stack.runtime.ring_load). The members are recorded in state.json like every
process `up` starts, so `down` and `status` handle them; `kill_member` and `restart_member` are what the ring
e2e uses to take one down without leaving the ring politely (SIGKILL) and to bring it back.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
from rich.console import Console

from stack.errors import StackError
from stack.models.cortex import TENANT_HEADER, Member, ring_members
from stack.render import render_ring
from stack.runtime import procs
from stack.runtime.binaries import locate
from stack.runtime.lifecycle import up
from stack.runtime.local import down_local, local_placement, stop_component
from stack.runtime.programs import Layout, base_env
from stack.runtime.promapi import PromClient
from stack.runtime.ring_load import CORTEX_RULES_PREFIX, RulerApi, load_target, served_groups, wait_groups
from stack.runtime.state import Running, State, read_state, state_dir, write_state
from stack.settings import StackSettings
from stack.write import write_files

Echo = Callable[[str], None]
RING_KIND = "ring"  # the `kind` of a ring member in state.json
READY_TIMEOUT = 90.0
LOAD_TIMEOUT = 90.0


def _echo(console: Console) -> Echo:
    return lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True)


def members(settings: StackSettings) -> tuple[Member, ...]:
    return ring_members(settings.components.mimir.port)


def headers(settings: StackSettings) -> dict[str, str]:
    """The tenant header: the ring serves one tenant, the project."""
    return {TENANT_HEADER: settings.project}


def api(settings: StackSettings, member: Member | None = None) -> RulerApi:
    return RulerApi((member or members(settings)[0]).url, CORTEX_RULES_PREFIX, headers(settings))


def running_ring(root: Path) -> tuple[Running, ...]:
    """The ring members the running stack recorded (none: no ring)."""
    state = read_state(root)
    return tuple(r for r in state.components if r.kind == RING_KIND) if state else ()


def up_ring(root: Path, settings: StackSettings, ephemeral: bool = False, console: Console | None = None) -> State:
    """The local stack (as `up --local`), then the ring, Prometheus switched to it, the Mimir target loaded."""
    echo = _echo(console or Console())
    binary = locate("cortex", ("cortex",), settings)
    if binary is None:
        raise StackError(f"cortex {settings.mimir.cortex_version} not found; run `obsstack components build cortex`")
    if not settings.mimir.enabled:
        raise StackError("--ring loads the mimir target's files; enable it (`mimir: {enabled: true}`)")
    state = up(root, settings, "local", ephemeral, console)
    if any(r.kind == RING_KIND for r in state.components):
        return state
    layout = Layout(root.resolve(), state_dir(root.resolve()))
    try:
        # Prometheus scrapes what runs, less the local Alertmanager (the ring's replaces it: stopped below)
        placement = local_placement(layout, tuple(r.name for r in state.components if r.name != "alertmanager"))
        write_files(layout.local, {a.path: a.text for a in render_ring(settings, placement)})
        started = start_members(layout, settings, binary)
        state = replace(state, components=(*state.components, *started))
        write_state(root, state)
        wait_formed(settings, started, echo)
        _switch_prometheus(settings, root, echo)
        state = replace(state, components=tuple(r for r in state.components if r.name != "alertmanager"))
        write_state(root, state)
        _load(layout, settings, echo)
    except BaseException:
        down_local(root, read_state(root) or state, echo)
        raise
    return state


def _argv(binary: str, layout: Layout, member: Member) -> list[str]:
    return [binary, f"-config.file={layout.local / 'cortex' / f'{member.name}.yaml'}"]


def start_members(layout: Layout, settings: StackSettings, binary: str) -> tuple[Running, ...]:
    """Start every member with its config under <layout.local>/cortex/ (render_ring's files)."""
    return tuple(_start(layout, settings, binary, member) for member in members(settings))


def _start(layout: Layout, settings: StackSettings, binary: str, member: Member) -> Running:
    layout.data(member.name).mkdir(parents=True, exist_ok=True)
    log = layout.log(member.name)
    pid = procs.spawn(_argv(binary, layout, member), base_env(), layout.data(member.name), log)  # cwd: its own
    return Running(member.name, member.url, f"{member.url}/ready", pid.pid, pid.start_time, str(log), RING_KIND)


def ring_states(member_url: str) -> dict[str, str]:
    """The ingester ring as one member sees it: member id -> state (ACTIVE, JOINING, ..., or Unhealthy: silent)."""
    try:
        response = httpx.get(f"{member_url}/ingester/ring", headers={"Accept": "application/json"}, timeout=3)
        return {s["id"]: s["state"] for s in response.json().get("shards", [])}
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return {}


def wait_formed(settings: StackSettings, started: tuple[Running, ...], echo: Echo) -> None:
    """Until every member answers /ready and sees all members ACTIVE in the ingester ring (bounded)."""
    names = sorted(m.name for m in members(settings))
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        dead = [r for r in started if not procs.alive(r.started)]
        if dead:
            raise StackError(f"{dead[0].name} exited; log {dead[0].log}:\n{procs.tail(Path(dead[0].log))}")
        views = {r.name: ring_states(r.url) for r in started if procs.http_ok(r.health_url, 1.0)}
        if len(views) == len(started) and all(
            sorted(v) == names and set(v.values()) == {"ACTIVE"} for v in views.values()
        ):
            echo(f"ring: {len(started)} Cortex processes, every one sees {', '.join(names)} ACTIVE")
            return
        if time.monotonic() > deadline:
            raise StackError(f"the Cortex ring did not form in {READY_TIMEOUT:.0f}s: {views}; logs in "
                             f"{Path(started[0].log).parent}")  # fmt: skip
        time.sleep(0.5)


def _switch_prometheus(settings: StackSettings, root: Path, echo: Echo) -> None:
    """Prometheus reloads the ring run's config; the local Alertmanager, which now gets nothing, stops."""
    url = f"http://127.0.0.1:{settings.components.prometheus.port}/-/reload"
    try:
        response = httpx.post(url, timeout=30)
    except httpx.HTTPError as exc:
        raise StackError(f"Prometheus did not reload the ring run's config: {exc}") from None
    if response.status_code != 200:
        raise StackError(f"Prometheus refused the ring run's config: HTTP {response.status_code}: {response.text}")
    stop_component(root, "alertmanager")
    echo("prometheus: no rules, no Alertmanager; remote write to every ring member (tenant "
         f"{settings.project}); the local Alertmanager stopped (the ring's replaces it)")  # fmt: skip


def _load(layout: Layout, settings: StackSettings, echo: Echo) -> None:
    target = api(settings)
    count = load_target(layout.local / settings.output.mimir_dir, target, echo)
    seconds = wait_groups(target.base_url, target.headers, count, LOAD_TIMEOUT)
    echo(f"ring: the ruler serves all {count} rule groups ({seconds:.1f}s after loading)")


def _member(root: Path, name: str) -> Running:
    ring = running_ring(root)
    found = next((r for r in ring if r.name == name), None)
    if found is None:
        names = ", ".join(r.name for r in ring) or "(none: run `obsstack up --local --ring`)"
        raise StackError(f"{name}: not a member of the running ring; expected one of {names}")
    return found


def kill_member(root: Path, name: str) -> None:
    """SIGKILL one member's process group: it leaves nothing behind, not even its ring entry."""
    item = _member(root, name)
    if not procs.alive(item.started):
        raise StackError(f"{name}: not running (pid {item.pid}); expected a live member to kill")
    sigkill(item)


def sigkill(item: Running) -> None:
    """SIGKILL the process group of a started process (no TERM first: nothing runs its shutdown)."""
    os.killpg(item.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while procs.alive(item.started) and time.monotonic() < deadline:
        time.sleep(0.1)


def restart_member(root: Path, settings: StackSettings, name: str) -> Running:
    """Start a killed member again with its config and data; recorded in place of the old process."""
    item = _member(root, name)
    if procs.alive(item.started):
        raise StackError(f"{name}: still running (pid {item.pid}); expected a stopped member")
    binary = locate("cortex", ("cortex",), settings)
    if binary is None:
        raise StackError(f"cortex {settings.mimir.cortex_version} not found; run `obsstack components build cortex`")
    layout = Layout(root.resolve(), state_dir(root.resolve()))
    member = next(m for m in members(settings) if m.name == name)
    started = _start(layout, settings, binary, member)
    state = read_state(root)
    assert state is not None  # _member found it there
    write_state(root, replace(state, components=tuple(started if r.name == name else r for r in state.components)))
    return started


def groups_served(settings: StackSettings, member: Member) -> int:
    return served_groups(member.url, headers(settings))[0]


@dataclass(frozen=True)
class RingClients:
    """What verify asks on a ring run: the ring's query, rules and alerts API, its Alertmanager (both with the
    tenant header), and the local Prometheus for its scrape targets (the ring has none)."""

    query: PromClient
    alertmanager: PromClient
    scraper: PromClient
    member: str


def verify_clients(root: Path, settings: StackSettings) -> RingClients | None:
    """The clients of the first live member of the running ring; None when the stack runs no ring."""
    ring = running_ring(root)
    if not ring:
        return None
    live = next((r for r in ring if procs.alive(r.started)), None)
    if live is None:
        raise StackError(f"no member of the Cortex ring runs ({', '.join(r.name for r in ring)}); expected "
                         "`obsstack up --local --ring`")  # fmt: skip
    tenant = headers(settings)
    query = PromClient(f"{live.url}/prometheus", headers=tenant, ready_url=f"{live.url}/ready")
    am = f"{live.url}/alertmanager"
    alertmanager = PromClient(am, headers=tenant, ready_url=f"{am}/api/v2/status")
    scraper = PromClient(f"http://127.0.0.1:{settings.components.prometheus.port}")
    return RingClients(query, alertmanager, scraper, live.name)
