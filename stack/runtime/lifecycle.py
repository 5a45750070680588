"""up / down / status: compose when a Docker engine answers (or --compose), local processes otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from rich.console import Console

from stack.errors import StackError
from stack.runtime.compose import down_compose, engine, up_compose
from stack.runtime.local import Echo, down_local, start_command_services, up_local
from stack.runtime.state import State, read_state
from stack.runtime.status import show_status
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
    client = None if mode == "local" else engine()
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
