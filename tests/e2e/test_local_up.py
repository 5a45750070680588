"""Local mode for real: the pinned Prometheus and Alertmanager builds and the sample app on 127.0.0.1, then down.

Prometheus must scrape the app (`up == 1`), load every rule group with no evaluation error and report its
pinned version; after `down` no process of the run is left. Fails instead of skipping under CI when a pinned
binary is missing.
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from stack.config import load_settings
from stack.runtime import lifecycle
from stack.runtime.procs import alive, group_exists
from stack.runtime.state import State, read_state
from stack.tools import ToolError, locate

pytestmark = pytest.mark.e2e
DEADLINE = 40.0
REPO = Path(__file__).resolve().parents[2]


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def require_binaries(config: Path) -> None:
    """The pinned Prometheus and Alertmanager (cached build, or PATH at the pin); under CI a missing one fails."""
    settings = load_settings(config)
    for tool in ("prometheus", "alertmanager"):
        try:
            locate(settings.tool_pin(tool))
        except ToolError as error:
            if os.environ.get("CI"):
                pytest.fail(error.detail)
            pytest.skip(error.detail)


def stack_yaml(prometheus: int, alertmanager: int, app: int, webhook: int) -> str:
    return f"""\
project: e2e
profile: fast
services:
  - name: orders
    command: [python, -m, sample_app]
    env: {{APP_PORT: "{app}", PYTHONPATH: "{REPO}", DATABASE_URL: "sqlite+aiosqlite:///.obsstack/data/orders.db"}}
    port: {app}
    health_path: /healthz
    metrics_token_file: secrets/metrics-token
alerting:
  webhook_url: http://127.0.0.1:{webhook}/alerts
components:
  prometheus: {{image: "prom/prometheus:v3.16.0", port: {prometheus}}}
  alertmanager: {{image: "prom/alertmanager:v0.35.0", port: {alertmanager}}}
"""


def api(port: int, path: str, **params: str) -> Any:
    url = f"http://127.0.0.1:{port}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())["data"]


def eventually(check, what: str) -> Any:
    deadline = time.monotonic() + DEADLINE
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"{what} not true after {DEADLINE}s; last value: {last!r}")


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[State, int, Path]]:
    prometheus, alertmanager, app, webhook = free_ports(4)
    config = tmp_path / "stack.yaml"
    config.write_text(stack_yaml(prometheus, alertmanager, app, webhook), encoding="utf-8")
    require_binaries(config)
    console = Console(file=open(tmp_path / "up.out", "w"), width=200)  # noqa: SIM115 - closed below
    try:
        state = lifecycle.up(tmp_path, load_settings(config), mode="local", console=console)
        yield state, prometheus, tmp_path
    finally:
        lifecycle.down(tmp_path, console=console)
        console.file.close()


def test_local_up_scrapes_the_app_and_loads_rules(running: tuple[State, int, Path]) -> None:
    """up --local says so (not "no Docker engine"), starts the pinned Prometheus and Alertmanager and the app
    (plus the collector where built; Loki, Tempo and Grafana only from PATH, else recorded as not part of the
    stack); Prometheus reports its pin, scrapes the app and evaluates all rules cleanly."""
    state, prometheus, root = running
    said = (root / "up.out").read_text(encoding="utf-8")
    assert "local processes (--local)" in said
    assert "no Docker engine" not in said
    names = {c.name for c in state.components}
    assert {"prometheus", "alertmanager", "orders"} <= names <= {"prometheus", "alertmanager", "orders", "otelcol",
                                                                  "loki", "tempo", "grafana"}  # fmt: skip
    assert {"loki", "tempo", "grafana"} <= names | set(state.missing)
    pins = load_settings(root / "stack.yaml")
    assert api(prometheus, "status/buildinfo")["version"] == pins.tool_pin("prometheus").version
    manager = next(c for c in state.components if c.name == "alertmanager")
    with urllib.request.urlopen(f"{manager.url}/api/v2/status", timeout=5) as response:
        assert json.loads(response.read())["versionInfo"]["version"] == pins.tool_pin("alertmanager").version
    eventually(
        lambda: [r for r in api(prometheus, "query", query='up{service="orders"}')["result"]
                 if r["value"][1] == "1"],
        'up{service="orders"} == 1',
    )  # fmt: skip
    groups = eventually(lambda: _evaluated_groups(prometheus), "every rule group evaluated")
    assert {g["name"] for g in groups} >= {"orders.alerts", "orders.recording", "platform.alerts"}
    for group in groups:
        for rule in group["rules"]:
            assert rule["health"] == "ok", (group["name"], rule["name"], rule.get("lastError"))
            assert not rule.get("lastError"), rule
    assert lifecycle.status(root, Console(file=open(os.devnull, "w"))) is not None  # noqa: SIM115


def _evaluated_groups(port: int) -> list[dict[str, Any]] | None:
    groups: list[dict[str, Any]] = api(port, "rules")["groups"]
    done = groups and all(r.get("lastEvaluation", "0001").startswith("20") for g in groups for r in g["rules"])
    return groups if done else None


def test_down_leaves_no_process(tmp_path: Path) -> None:
    """After down, no process (nor process group) of the run is left, and up again reports idempotently."""
    ports = free_ports(4)
    config = tmp_path / "stack.yaml"
    config.write_text(stack_yaml(*ports), encoding="utf-8")
    require_binaries(config)
    out = tmp_path / "out.txt"
    with out.open("w") as handle:
        console = Console(file=handle, width=200)
        try:
            state = lifecycle.up(tmp_path, load_settings(config), mode="local", console=console)
            lifecycle.up(tmp_path, load_settings(config), mode="local", console=console)
        finally:
            lifecycle.down(tmp_path, console=console)
    assert "already up" in out.read_text()
    assert read_state(tmp_path) is None
    for component in state.components:
        assert not alive(component.started), component.name
        assert not group_exists(component.pid), component.name
