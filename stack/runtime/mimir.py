"""A local Mimir ring as the rule engine: load the rules and the tenant's Alertmanager config with mimirtool.

`obsstack up --local --mimir` starts the ring (programs.mimir_programs) and calls `load_into_mimir`, which
pushes the generated mimirtool rule files (one namespace per service) through the ruler API and the tenant
Alertmanager config through the Alertmanager API, then waits until the ruler serves every group.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import yaml

from stack import conventions as c
from stack.errors import StackError
from stack.runtime import procs
from stack.runtime.binaries import locate
from stack.runtime.outcome import Endpoints
from stack.runtime.promapi import PromClient
from stack.settings import Service, StackSettings

Echo = Callable[[str], None]
LOAD_TIMEOUT = 90.0
MIMIRTOOL_TIMEOUT = 60.0


def mimir_url(settings: StackSettings, index: int = 0) -> str:
    return f"http://127.0.0.1:{c.mimir_http_ports(settings.components, settings.mimir.replicas)[index]}"


def mimirtool(settings: StackSettings) -> str:
    found = locate("mimirtool", ("mimirtool",), settings)
    if found is None:
        version = settings.components.pinned("mimir")
        raise StackError(f"mimirtool {version} not found; build it with `obsstack components build mimirtool`")
    return found


def _run(argv: list[str], what: str) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=MIMIRTOOL_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise StackError(f"{what}: mimirtool did not finish in {MIMIRTOOL_TIMEOUT:.0f}s") from None
    if done.returncode != 0:
        last = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise StackError(f"{what}: `{' '.join(argv[1:3])}` failed: {last}")
    return done.stdout


def load_into_mimir(config_root: Path, settings: StackSettings, echo: Echo) -> None:
    """Sync the rule files and load the tenant's Alertmanager config; return once the ruler serves them."""
    tool, url, tenant = mimirtool(settings), mimir_url(settings), c.mimir_tenant(settings)
    target = config_root / settings.output.mimir_dir
    rule_files = sorted(str(p) for p in (target / c.MIMIR_RULES_DIR).glob("*.yaml"))
    if not rule_files:
        raise StackError(f"no mimirtool rule files in {target / c.MIMIR_RULES_DIR}; expected the mimir target's")
    address = ["--address", url, "--id", tenant]
    _run([tool, "rules", "sync", *address, *rule_files], "load the rules into Mimir")
    am_config = str(target / c.MIMIR_ALERTMANAGER_CONFIG)
    _run([tool, "alertmanager", "load", am_config, *address], "load the tenant's Alertmanager config into Mimir")
    expected = sum(len((yaml.safe_load(Path(f).read_text(encoding="utf-8")) or {}).get("groups") or ())
                   for f in rule_files)  # fmt: skip
    groups = wait_rule_groups(settings, expected, LOAD_TIMEOUT)
    echo(
        f"mimir: tenant {tenant}: {len(rule_files)} rule namespaces, {groups} groups loaded; Alertmanager config loaded"
    )


def wait_rule_groups(settings: StackSettings, expected: int, timeout: float) -> int:
    """The number of rule groups the ruler serves, once it serves the `expected` number (every group loaded)."""
    deadline, last = time.monotonic() + timeout, "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{mimir_url(settings)}/prometheus/api/v1/rules",
                                 headers=c.mimir_tenant_headers(settings), timeout=5)  # fmt: skip
            if response.status_code == 200:
                groups = response.json()["data"]["groups"]
                if len(groups) >= expected:
                    return len(groups)
                last = f"{len(groups)} of {expected} groups served"
            else:
                last = f"HTTP {response.status_code}: {response.text[:200]}"
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            last = str(exc)
        time.sleep(1.0)
    raise StackError(
        f"Mimir's ruler serves no rule groups after {timeout:.0f}s ({last}); see .obsstack/logs/mimir-*.log"
    )


# --- verify against the ring -------------------------------------------------------------------------


@dataclass(frozen=True)
class Ring:
    """Which processes of the local Mimir ring answer /ready (verify talks to the first of them)."""

    live: tuple[int, ...]
    stopped: tuple[int, ...]

    @classmethod
    def probe(cls, settings: StackSettings) -> Ring:
        ready = [i for i in range(settings.mimir.replicas) if procs.http_ok(f"{mimir_url(settings, i)}/ready", 2.0)]
        ring = cls(tuple(ready), tuple(i for i in range(settings.mimir.replicas) if i not in ready))
        if not ring.live:
            raise StackError("no process of the Mimir ring answers /ready; expected `obsstack up --local --mimir`")
        return ring

    @property
    def first(self) -> int:
        return self.live[0]


def endpoints(settings: StackSettings, services: tuple[Service, ...], index: int) -> Endpoints:
    """The query and Alertmanager APIs of Mimir process `index`; the apps, Loki and Tempo as usual."""
    usual = Endpoints.from_settings(settings, services)
    url = mimir_url(settings, index)
    return replace(usual, prometheus=f"{url}/prometheus", alertmanager=f"{url}/alertmanager")


def query_client(settings: StackSettings, index: int) -> PromClient:
    url = mimir_url(settings, index)
    return PromClient(f"{url}/prometheus", headers=c.mimir_tenant_headers(settings), ready_url=f"{url}/ready")


def alertmanager_client(settings: StackSettings, index: int) -> PromClient:
    """Ready once the tenant's Alertmanager runs in that process' ring (its config loaded and synced)."""
    url = f"{mimir_url(settings, index)}/alertmanager"
    return PromClient(url, headers=c.mimir_tenant_headers(settings), ready_url=f"{url}/api/v2/status")


def ring_summary(settings: StackSettings, index: int) -> str:
    """The ingester ring as process `index` sees it: how many members are ACTIVE and healthy."""
    try:
        response = httpx.get(f"{mimir_url(settings, index)}/ingester/ring",
                             headers={"Accept": "application/json"}, timeout=5)  # fmt: skip
        shards = response.json().get("shards", [])
    except (httpx.HTTPError, ValueError) as exc:
        return f"ingester ring unknown ({exc})"
    states = sorted(f"{s.get('id')}: {s.get('state')}" for s in shards)
    return f"ingester ring: {'; '.join(states) or 'empty'}"
