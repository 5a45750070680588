"""`obsstack status`: what runs, where, and whether its health endpoint answers."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from stack.runtime import procs
from stack.runtime.state import State, read_state


def rows(state: State) -> list[tuple[str, str, str, str, str, str]]:
    """(name, kind, pid, url, health, metrics) per component and service. health: its health URL answers 2xx
    (a service without a health path: its metrics path on its scrape port, as Prometheus scrapes it; one that
    pushes its metrics by OTLP and has no health path: its first traffic route answers at all); metrics: how
    a service's metrics reach Prometheus (scraped at a URL, or pushed by OTLP)."""
    found = []
    for item in state.components:
        running = state.mode == "compose" or not item.pid or procs.alive(item.started)
        healthy = running and procs.http_ok(item.health_url, timeout=1.0, token_file=item.token_file,
                                            any_status=item.any_status)  # fmt: skip
        pid = str(item.pid) if item.pid else "-"
        found.append((item.name, item.kind, pid if running else f"{pid} (gone)", item.url,
                      "healthy" if healthy else "DOWN", item.metrics))  # fmt: skip
    return found


def show_status(root: Path, console: Console) -> State | None:
    state = read_state(root)
    if state is None:
        console.print("not running (no state in .obsstack/); start it with `obsstack up`")
        return None
    table = Table(title=f"obsstack ({state.mode} mode, profile {state.profile})")
    for column in ("name", "kind", "pid", "url", "health", "metrics"):
        table.add_column(column)
    for row in rows(state):
        table.add_row(*row)
    console.print(table)
    if state.missing:
        console.print(f"not part of this stack (no binary found when it started): {', '.join(state.missing)}")
    return state
