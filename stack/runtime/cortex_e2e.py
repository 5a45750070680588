"""`make cortex-e2e`: the Mimir target proven on a distributed engine, a ring of three Cortex processes.

Steps, on this project with the licence-clean stores and the fast profile: `obsstack up --local --ring
--ephemeral` (the local stack, the ring, the target's files loaded unchanged), `obsstack verify --strict` (the
alert contract through the ring's ruler and Alertmanager); then the member that evaluates the most rule groups
is killed with SIGKILL (it does not leave the ring politely), the seconds until the others evaluate and serve
every rule group again are measured, and `obsstack verify --strict` proves the contract again on what is left;
then the member is started again and the seconds until every member sees it ACTIVE are measured. The closing
lines are the detection / delivery / resolution table of both runs and the ring's figures. `obsstack down`
stops everything in any case.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from stack.config import load_settings
from stack.errors import StackError
from stack.models.cortex import Member
from stack.runtime.ring import (
    groups_served,
    kill_member,
    members,
    restart_member,
    ring_states,
    running_ring,
)
from stack.runtime.ring_load import served_groups
from stack.settings import StackSettings

Echo = Callable[[str], None]
REPO = Path(__file__).resolve().parents[2]
STORES = {"OBSSTACK_BACKENDS__TRACES": "jaeger", "OBSSTACK_BACKENDS__LOGS": "victorialogs"}
PROFILE = "fast"
TAKEOVER_TIMEOUT = 120.0
REJOIN_TIMEOUT = 90.0
GROUP_SERIES = re.compile(r'^cortex_prometheus_rule_group_last_evaluation_timestamp_seconds\{[^}]*rule_group="([^"]+)"'
                          r'[^}]*\}\s+(\S+)', re.M)  # fmt: skip


def obsstack(*args: str, echo: Echo) -> int:
    """Run the CLI of this virtualenv, its output echoed; its exit code."""
    argv = [str(Path(sys.executable).with_name("obsstack")), *args]
    echo(f"$ obsstack {' '.join(args)}")
    done = subprocess.run(argv, cwd=REPO, env=os.environ | STORES, check=False)
    return done.returncode


def evaluated_groups(member: Member, since: float) -> set[str]:
    """The rule groups `member` evaluated after `since` (epoch seconds), from its own metrics."""
    try:
        text = httpx.get(f"{member.url}/metrics", timeout=5).text
    except httpx.HTTPError:
        return set()
    return {group.rsplit(";", 1)[-1] for group, value in GROUP_SERIES.findall(text) if float(value) > since}


def busiest(settings: StackSettings) -> Member:
    """The member evaluating the most rule groups now: killing it forces the largest takeover."""
    now = time.time() - 5
    return max(members(settings), key=lambda m: (len(evaluated_groups(m, now)), -m.index))


def takeover(settings: StackSettings, victim: Member, expected: int, killed_at: float) -> float:
    """Seconds from the kill until the surviving members evaluate every group afresh and serve all of them."""
    survivors = [m for m in members(settings) if m != victim]
    deadline = time.monotonic() + TAKEOVER_TIMEOUT
    while time.monotonic() < deadline:
        evaluated = set().union(*(evaluated_groups(m, killed_at) for m in survivors))
        served = min(groups_served(settings, m) for m in survivors)
        if len(evaluated) >= expected and served >= expected:
            return time.time() - killed_at
        time.sleep(0.5)
    raise StackError(f"after {victim.name} was killed, the ring did not evaluate and serve all {expected} rule "
                     f"groups within {TAKEOVER_TIMEOUT:.0f}s")  # fmt: skip


def rejoin(settings: StackSettings, member: Member, started: float, expected: int) -> float:
    """Seconds until every member sees the restarted one ACTIVE in the ingester ring, and it serves every group."""
    deadline = time.monotonic() + REJOIN_TIMEOUT
    while time.monotonic() < deadline:
        views = [ring_states(m.url).get(member.name) for m in members(settings)]
        if all(state == "ACTIVE" for state in views) and groups_served(settings, member) >= expected:
            return time.time() - started
        time.sleep(0.5)
    raise StackError(f"{member.name} did not rejoin the ring within {REJOIN_TIMEOUT:.0f}s")


def fault_rows(report_dir: Path) -> list[tuple[str, str, str, str, str]]:
    """(fault, detected, delivered, resolved, result) of the verify report in `report_dir`."""
    report = json.loads((report_dir / "verify-report.json").read_text(encoding="utf-8"))

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}s"

    return [(f["name"], cell(f["detected_s"]), cell(f["notified_s"]), cell(f["resolved_s"]),
             "ok" if f["ok"] else "FAILED") for f in report["faults"]]  # fmt: skip


def cortex_e2e(echo: Echo) -> tuple[list[str], list[str]]:
    """The whole run: the closing table's lines and the failures (each step runs even after a failed verify, so
    both tables and the ring's figures are there). Raises StackError when the ring cannot be started or measured."""
    settings = load_settings(REPO / "stack.yaml", {"profile": PROFILE, "mimir": {"enabled": True}})
    reports = REPO / ".obsstack" / "reports" / "cortex"
    verify = ("verify", "--profile", PROFILE, "--strict", "--report-dir")
    figures, failures = [], []
    shutil.rmtree(reports, ignore_errors=True)  # no table from an earlier run
    try:
        if obsstack("up", "--local", "--ring", "--ephemeral", "--profile", PROFILE, echo=echo):
            raise StackError("`obsstack up --local --ring` failed")
        expected = served_groups(members(settings)[0].url, {"X-Scope-OrgID": settings.project})[0]
        if obsstack(*verify, str(reports / "three"), echo=echo):
            failures.append("verify failed on the ring of three")
        victim = busiest(settings)
        echo(f"...  SIGKILL {victim.name} ({len(evaluated_groups(victim, time.time() - 5))} of {expected} groups)")
        killed_at = time.time()
        kill_member(REPO, victim.name)
        figures.append(f"{victim.name} killed (SIGKILL): every rule group evaluated and served again by the two "
                       f"others after {takeover(settings, victim, expected, killed_at):.1f}s")  # fmt: skip
        echo(f"ok   {figures[-1]}")
        if obsstack(*verify, str(reports / "two"), echo=echo):
            failures.append(f"verify failed with {victim.name} killed")
        started = time.time()
        restart_member(REPO, settings, victim.name)
        figures.append(f"{victim.name} restarted: ACTIVE in every member's ring and serving every group after "
                       f"{rejoin(settings, victim, started, expected):.1f}s")  # fmt: skip
        echo(f"ok   {figures[-1]}")
    finally:
        obsstack("down", echo=echo)
    return table(reports) + figures, failures


def table(reports: Path) -> list[str]:
    rows = [("ring", "fault", "detected", "delivered", "resolved", "result")]
    for run, label in (("three", "3 of 3"), ("two", "2 of 3")):
        missing = [(label, "(no report)", "", "", "", "")]
        found = (reports / run / "verify-report.json").is_file()
        rows += [(label, *row) for row in fault_rows(reports / run)] if found else missing
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def main() -> int:
    started = time.monotonic()
    try:
        lines, failures = cortex_e2e(lambda line: print(line, flush=True))
    except StackError as error:
        print(f"cortex-e2e failed: {error}", file=sys.stderr)
        return 1
    print("cortex-e2e: the alert contract through the Cortex ring, with three members and with one killed")
    for line in lines:
        print(line)
    for failure in failures:
        print(f"cortex-e2e failed: {failure}", file=sys.stderr)
    print(f"cortex-e2e {'failed' if failures else 'passed'} in {time.monotonic() - started:.0f}s; ring members "
          f"left running: {len(running_ring(REPO))}")  # fmt: skip
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
