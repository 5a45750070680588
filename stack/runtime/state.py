"""The state directory (.obsstack/ in the project root): what `up` started, for `down` and `status`."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from stack import conventions as c
from stack.runtime.procs import Started
from stack.settings import StackSettings


@dataclass(frozen=True)
class Running:
    """One started component: a local process (pid set) or a compose service."""

    name: str
    url: str
    health_url: str
    pid: int = 0
    start_time: str = ""
    log: str = ""
    kind: str = "component"  # component, or the service kind: command, external, image, build
    token_file: str = ""  # bearer token file the health URL needs (a protected /metrics)
    any_status: bool = False  # healthy when the health URL answers HTTP at all (a route, not a health path)
    metrics: str = ""  # a service: how its metrics reach Prometheus (scraped at a URL, or pushed by OTLP)

    @property
    def started(self) -> Started:
        return Started(self.pid, self.start_time)


@dataclass(frozen=True)
class State:
    mode: Literal["local", "compose"]
    profile: str
    components: tuple[Running, ...] = ()
    compose_files: tuple[str, ...] = field(default=())
    missing: tuple[str, ...] = ()  # local mode: components not started for want of a binary (not in this stack)
    backends: dict[str, str] = field(default_factory=dict)  # the stores it runs: {"traces": ..., "logs": ...}


def stores_of(settings: StackSettings) -> dict[str, str]:
    """The log and trace stores a stack started from `settings` runs (recorded so verify asks the same ones)."""
    return {"traces": settings.backends.traces, "logs": settings.backends.logs}


def state_dir(root: Path) -> Path:
    return root / c.STATE_DIR


def read_state(root: Path) -> State | None:
    path = state_dir(root) / c.STATE_FILE
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    components = tuple(Running(**item) for item in data.pop("components", ()))
    files = tuple(data.pop("compose_files", ()))
    missing = tuple(data.pop("missing", ()))
    data.pop("rules", None)  # written by earlier versions (a local Mimir ring), no longer a choice
    return State(components=components, compose_files=files, missing=missing, **data)


def write_state(root: Path, state: State) -> None:
    path = state_dir(root) / c.STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(asdict(state), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temp, path)


def clear_state(root: Path) -> None:
    (state_dir(root) / c.STATE_FILE).unlink(missing_ok=True)
