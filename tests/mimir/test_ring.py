"""A real local Mimir ring from the generated config and conventions.mimir_replica_flags: three processes on
loopback become ready, take the tenant's rules and Alertmanager config through mimirtool, serve them back, and
keep serving them when one process stops."""

from __future__ import annotations

import random
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import yaml

from stack import conventions as c
from stack.render import render_all
from stack.settings import StackSettings
from tests.mimir.conftest import require_mimir_binary, settings_with

READY_TIMEOUT = 45.0
SERVED_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base(replicas: int) -> int:
    """An HTTP port whose ring (HTTP, gRPC and memberlist ports of every process) is free on loopback."""
    for _ in range(200):
        base = random.randrange(20000, 40000)
        ports = c.mimir_ports(SimpleNamespace(mimir=SimpleNamespace(port=base)), replicas)
        if all(_free(p) for p in ports.values()):
            return base
    raise RuntimeError("no free port range for a Mimir ring")


@contextmanager
def ring(binary: str, settings: StackSettings, root: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """The ring's processes, started from the files rendered for local processes under root; always stopped."""
    placement = c.Placement(local=True, data_root=str(root / "data"), config_root=str(root))
    for artifact in render_all(settings, placement):
        if artifact.path.startswith(settings.output.mimir_dir + "/"):
            (root / artifact.path).parent.mkdir(parents=True, exist_ok=True)
            (root / artifact.path).write_text(artifact.text, encoding="utf-8")
    config = root / settings.output.mimir_dir / c.MIMIR_CONFIG
    replicas = settings.mimir.replicas
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for index in range(replicas):
            flags = c.mimir_replica_flags(settings.components, replicas, index, str(root / "data"))
            log = (root / f"{c.mimir_instance(index)}.log").open("wb")
            procs.append(subprocess.Popen([binary, f"-config.file={config}", *flags], stdout=log, stderr=log))
        yield procs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for(what: str, probe: Any, timeout: float) -> Any:
    """probe()'s first truthy answer within timeout, else a failure naming what was awaited and the last answer."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            if answer := probe():
                return answer
        except httpx.HTTPError as error:
            last = error
        time.sleep(0.5)
    pytest.fail(f"{what}: not within {timeout:.0f}s (last: {last})")


def mimirtool(tool: str, cwd: Path, *args: str) -> str:
    done = subprocess.run([tool, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"mimirtool {' '.join(args[:2])}: {done.stderr or done.stdout}"
    return done.stdout


@pytest.mark.e2e
def test_three_process_ring_takes_and_serves_the_tenants_rules_and_alertmanager_config(tmp_path) -> None:
    """Every process of the generated ring is ready; `mimirtool rules sync` and `alertmanager load` into one
    process are served back identically by the others, and still after one process is stopped."""
    base = free_base(3)
    settings = settings_with(tmp_path, port=base)
    mimir, tool = require_mimir_binary("mimir", settings), require_mimir_binary("mimirtool", settings)
    urls = [f"http://127.0.0.1:{p}" for p in c.mimir_http_ports(settings.components, 3)]
    tenant = {c.TENANT_HEADER: c.mimir_tenant(settings)}
    target = tmp_path / settings.output.mimir_dir
    with ring(mimir, settings, tmp_path) as procs:
        for url in urls:
            wait_for(f"{url}/ready", lambda url=url: httpx.get(f"{url}/ready", timeout=2).status_code == 200,
                     READY_TIMEOUT)  # fmt: skip
        namespaces = sorted(str(p.relative_to(target)) for p in (target / c.MIMIR_RULES_DIR).glob("*.yaml"))
        first = ["--address", urls[0], "--id", c.mimir_tenant(settings)]
        mimirtool(tool, target, "rules", "sync", *first, *namespaces)
        mimirtool(tool, target, "alertmanager", "load", c.MIMIR_ALERTMANAGER_CONFIG, *first)

        stored = yaml.safe_load(httpx.get(f"{urls[1]}/prometheus/config/v1/rules", headers=tenant).text)
        for path in namespaces:
            mine = yaml.safe_load((target / path).read_text())
            by_name = {g["name"]: g for g in stored[mine["namespace"]]}  # the API lists groups by name
            assert by_name == {g["name"]: g for g in mine["groups"]}, mine["namespace"]
        second = ["--address", urls[2], "--id", c.mimir_tenant(settings)]
        assert "no changes detected" in mimirtool(tool, target, "rules", "diff", *second, *namespaces)
        expected_groups = {g["name"] for p in namespaces for g in yaml.safe_load((target / p).read_text())["groups"]}
        served = wait_for("every group evaluated by the ruler", lambda: _groups(urls[1], tenant) >= expected_groups,
                          SERVED_TIMEOUT)  # fmt: skip
        assert served
        am = yaml.safe_load(mimirtool(tool, target, "alertmanager", "get", *second))
        assert am.pop("Templates") is None  # `get` prints the config and, after it, the tenant's (no) templates
        assert am == yaml.safe_load((target / c.MIMIR_ALERTMANAGER_CONFIG).read_text())

        procs[2].terminate()
        procs[2].wait(STOP_TIMEOUT)
        wait_for("the stopped process's rule groups taken over", lambda: _groups(urls[0], tenant) >= expected_groups,
                 SERVED_TIMEOUT)  # fmt: skip
        remaining = ["--address", urls[0], "--id", c.mimir_tenant(settings)]
        assert yaml.safe_load(mimirtool(tool, target, "alertmanager", "get", *remaining)) == am | {"Templates": None}
        watchdog = wait_for(
            "the ruler's Watchdog alert in the ring's Alertmanager",
            lambda: [a for a in httpx.get(f"{urls[1]}/alertmanager/api/v2/alerts", headers=tenant).json()
                     if a["labels"].get("alertname") == c.ALERT_WATCHDOG],
            SERVED_TIMEOUT,
        )  # fmt: skip
        assert watchdog[0]["status"]["state"] == "active"


def _groups(url: str, tenant: dict[str, str]) -> set[str]:
    """The rule groups the ruler API serves for the tenant (the ones being evaluated)."""
    response = httpx.get(f"{url}/prometheus/api/v1/rules", headers=tenant, timeout=5)
    response.raise_for_status()
    return {g["name"] for g in response.json()["data"]["groups"]}
