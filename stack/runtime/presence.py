"""Which components a verify run may expect to answer, and what a check needing one that does not answer is.

obsstack never builds or downloads Loki, Tempo or Grafana (AGPL); `obsstack up --local` starts them only when
a user put the official binary on PATH, and records the ones it did not start (state.json's `missing`), as it
does for Jaeger and VictoriaLogs when they are chosen but not built. Such a component is not part of the running
stack: a check that needs it is "n/a" (never "ok", never a failure, even under --strict). A component that is
part of the stack (started by `up`, run by compose, or simply answering) and does not answer makes the check
"skipped", or "failed" under --strict, as any component that should run. The stores' readiness URLs are their
entries of stores.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from stack import conventions as c
from stack.runtime.procs import http_ok
from stack.runtime.stores import health_urls
from stack.settings import StackSettings

Status = Literal["ok", "failed", "skipped", "n/a"]  # a check's result; "n/a": needs what is not in this stack
STATUSES: tuple[Status, ...] = ("ok", "failed", "skipped", "n/a")

NOT_PART = "{name} not running: not part of this stack; run the official binary or Docker to include it"
PROBE_TIMEOUT = 3.0


@dataclass(frozen=True)
class Presence:
    """The readiness URL of each optional component, those not part of this stack, and --strict."""

    health: Mapping[str, str] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()
    strict: bool = False

    @classmethod
    def from_settings(cls, settings: StackSettings, absent: Iterable[str] = (), strict: bool = False) -> Presence:
        health = {"otelcol": f"http://127.0.0.1:{c.OTELCOL_HEALTH_PORT}/", **health_urls(settings)}
        return cls(health, frozenset(absent), strict)

    def answers(self, name: str) -> bool:
        return http_ok(self.health[name], timeout=PROBE_TIMEOUT)

    def gate(self, needs: Iterable[str]) -> tuple[Status, str] | None:
        """None when every component in `needs` answers; else the status of a check that needs them and why.
        A component of the stack that is down outweighs one that is not part of it."""
        silent = [name for name in needs if not self.answers(name)]
        down = [name for name in silent if name not in self.absent]
        if down:
            where = ", ".join(f"{name} not running at {self.health[name]}" for name in down)
            if self.strict:
                return "failed", f"{where} (--strict: every component of the stack must run)"
            return "skipped", where
        if silent:
            return "n/a", "; ".join(NOT_PART.format(name=name) for name in silent)
        return None

    def expected(self, name: str) -> bool:
        """The component is part of the stack (it may be down right now), or answers though `up` did not start it."""
        return name not in self.absent or self.answers(name)
