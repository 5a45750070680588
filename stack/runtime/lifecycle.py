"""up / down / status: compose when a Docker engine answers (or --compose), local processes otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from rich.console import Console

from stack.errors import StackError
from stack.runtime.compose import down_compose, engine, up_compose
from stack.runtime.local import Echo, down_local, restart_component, start_command_services, stop_component, up_local
from stack.runtime.outages import Switch
from stack.runtime.state import State, read_state, state_dir
from stack.runtime.status import show_status
from stack.runtime.stores import pipeline
from stack.secrets import ensure_secrets
from stack.settings import StackSettings

Mode = Literal["auto", "local", "compose"]


def _echo(console: Console) -> Echo:
    return lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True)


def up(root: Path, settings: StackSettings, mode: Mode = "auto", ephemeral: bool = False,
       console: Console | None = None) -> State:  # fmt: skip
    """Create missing secrets, then start the stack; returns what runs."""
    echo = _echo(console or Console())
    created = ensure_secrets(root, settings).created
    for name in created:
        echo(f"created secret: {name}")
    if mode == "local":  # asked for: no engine is probed, so none is reported missing
        echo("local processes (--local): starting the stack on 127.0.0.1")
        return up_local(root, settings, echo, ephemeral)
    client = engine()
    if mode == "compose" and client is None:
        raise StackError("--compose: no Docker engine answers (is the daemon running?); try `obsstack up --local`")
    if client is None:
        echo("no Docker engine: starting the stack as local processes on 127.0.0.1")
        return up_local(root, settings, echo, ephemeral)
    return up_compose(root, settings, client, ephemeral, echo, lambda: start_command_services(root, settings, echo))


def down(root: Path, console: Console | None = None) -> None:
    """Stop exactly what `up` started (as recorded in .obsstack/state.json)."""
    echo = _echo(console or Console())
    state = read_state(root)
    if state is None:
        echo("nothing to stop: no state in .obsstack/")
        return
    if state.mode == "compose":
        down_compose(root, state, echo)
    else:
        down_local(root, state, echo)


def status(root: Path, console: Console | None = None) -> State | None:
    return show_status(root, console or Console())


def component_switch(root: Path, settings: StackSettings, console: Console | None = None) -> Switch:
    """Stop and start single components of the running stack, for verify's pipeline faults (local mode): those
    of the collector and the chosen log and trace stores that `up` started (the others are n/a or down: verify
    says which)."""
    echo = _echo(console or Console())
    state = read_state(root)
    if state is None:
        raise StackError("--pipeline-faults: no stack recorded in .obsstack/; run `obsstack up` first")
    if state.mode != "local":
        raise StackError("--pipeline-faults: supported for a local stack (`obsstack up --local`); this one runs in "
                         f"compose, where `docker compose stop/start {' '.join(pipeline(settings))}` does it by "
                         "hand")  # fmt: skip
    started = tuple(n for n in pipeline(settings) if n in {r.name for r in state.components if r.pid})

    def start(name: str) -> None:
        restart_component(root, settings, name, echo)

    return Switch(stop=lambda name: stop_component(root, name), start=start, components=started)


def absent_components(root: Path) -> frozenset[str]:
    """The components the running local stack does not include because `up` found no binary for them (Loki,
    Tempo, Grafana unless a user put one on PATH; Jaeger, VictoriaLogs unless built), or, in compose, that run
    no container (a compose override left them out: the compose e2e's Grafana): verify reports their checks as
    n/a. None with no recorded stack."""
    state = read_state(root)
    return frozenset(state.missing) if state is not None else frozenset()


def verify_profile(root: Path, requested: str | None) -> str | None:
    """The profile verify must use: the running stack's, whose rule windows Prometheus has loaded. A different
    --profile would wait for alerts on the wrong clock and fail minutes later; say so at once instead."""
    state = read_state(root)
    if state is None:
        return requested
    if requested and requested != state.profile:
        raise StackError(
            f"--profile {requested}: the running stack was started with the {state.profile} profile, and its "
            f"alerts follow that profile's windows; run `obsstack verify` (it uses {state.profile}), or restart "
            f"with `obsstack down && obsstack up --profile {requested}`"
        )
    return state.profile


def running_stores(root: Path) -> dict[str, Any]:
    """The log and trace stores the running stack was started with (`up` may have had OBSSTACK_BACKENDS__*
    set): verify asks those, whatever stack.yaml or this shell says now. Empty when nothing runs."""
    state = read_state(root)
    return {"backends": state.backends} if state is not None and state.backends else {}


def deployed_root(root: Path) -> Path:
    """Where the running stack's rule files and dashboards are: the plan local mode rendered for its profile
    under .obsstack/local/, or the project's own generated files (compose mounts them, as does no stack)."""
    state = read_state(root)
    if state is not None and state.mode == "local":
        return state_dir(root.resolve()) / "local"
    return root
