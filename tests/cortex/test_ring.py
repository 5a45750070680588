"""A real ring of three Cortex processes (the pinned build) on ports of their own: it forms, takes the Mimir
target's files unchanged through the one loader, serves every group from every member, refuses an Alertmanager
config key its embedded Alertmanager does not know (reported with the key's name), and keeps serving and
evaluating every group after one member is killed with SIGKILL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from stack import conventions as c
from stack.errors import StackError
from stack.render import render_all, render_ring
from stack.runtime import procs
from stack.runtime.programs import Layout
from stack.runtime.ring import api, members, ring_states, sigkill, start_members, wait_formed
from stack.runtime.ring_load import load_target, served_groups, wait_groups
from stack.runtime.state import Running
from stack.settings import StackSettings
from stack.write import write_files
from tests.cortex.conftest import ring_settings

PORT = 19409  # not a port of the live stack: this test may run beside it


@dataclass(frozen=True)
class Ring:
    settings: StackSettings
    root: Path
    started: tuple[Running, ...]


@pytest.fixture
def ring(cortex: str, tmp_path: Path) -> Iterator[Ring]:
    """Three members started from render_ring's configs and the mimir target written as generate writes it;
    every process stopped afterwards."""
    settings = ring_settings(port=PORT)
    layout = Layout(tmp_path, tmp_path / ".obsstack")
    placement = c.Placement(local=True, data_root=layout.data_root, project_root=str(tmp_path),
                            config_root=str(layout.local), running=("prometheus",))  # fmt: skip
    write_files(layout.local, {a.path: a.text for a in render_ring(settings, placement)})
    write_files(tmp_path, {a.path: a.text for a in render_all(settings) if a.path.startswith("mimir/")})
    started = start_members(layout, settings, cortex)
    try:
        wait_formed(settings, started, lambda line: None)
        yield Ring(settings, tmp_path, started)
    finally:
        for item in started:
            procs.stop(item.started)


def _evaluated(member_url: str, since: float) -> set[str]:
    text = httpx.get(f"{member_url}/metrics", timeout=5).text
    found = set()
    for line in text.splitlines():
        if line.startswith("cortex_prometheus_rule_group_last_evaluation_timestamp_seconds{"):
            group = line.split('rule_group="', 1)[1].split('"', 1)[0].rsplit(";", 1)[-1]
            if float(line.rsplit(" ", 1)[1]) > since:
                found.add(group)
    return found


@pytest.mark.e2e
def test_the_target_loads_unchanged_and_every_member_serves_it(ring: Ring) -> None:
    """Every group of every namespace file is served by each member, as the file has it; the tenant's
    Alertmanager config is stored as its file's text, and the Watchdog fires in the ring's ruler."""
    target = api(ring.settings)
    count = load_target(ring.root / "mimir", target, lambda line: None)
    wait_groups(target.base_url, target.headers, count, 60)
    files = sorted((ring.root / "mimir" / c.MIMIR_RULES_DIR).glob("*.yaml"))
    on_disk = {g["name"]: g for f in files for g in yaml.safe_load(f.read_text(encoding="utf-8"))["groups"]}
    for member in members(ring.settings):
        assert served_groups(member.url, target.headers) == (len(on_disk), "")
        config = httpx.get(f"{member.url}/api/v1/rules", headers=target.headers, timeout=5)
        served = {g["name"]: g for groups in yaml.safe_load(config.text).values() for g in groups}
        assert served == on_disk
    stored = yaml.safe_load(httpx.get(f"{target.base_url}/api/v1/alerts", headers=target.headers, timeout=5).text)
    assert stored["alertmanager_config"] == (ring.root / "mimir" / c.MIMIR_ALERTMANAGER_CONFIG).read_text()

    def watchdog() -> bool:
        alerts = httpx.get(f"{target.base_url}/prometheus/api/v1/alerts", headers=target.headers, timeout=5)
        return any(a["labels"]["alertname"] == c.ALERT_WATCHDOG for a in alerts.json()["data"]["alerts"])

    assert _within(30, watchdog)


@pytest.mark.e2e
def test_an_alertmanager_key_cortex_does_not_know_is_reported_by_name(ring: Ring) -> None:
    """Alertmanager 0.35's global.mattermost_webhook_url is unknown to the Alertmanager Cortex 1.21 embeds
    (0.31.1): loading it fails with that key named, and the config stays unloaded (never silently dropped)."""
    config = ring.root / "mimir" / c.MIMIR_ALERTMANAGER_CONFIG
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["global"]["mattermost_webhook_url"] = "http://127.0.0.1:9/hook"
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    target = api(ring.settings)
    with pytest.raises(StackError, match="mattermost_webhook_url") as refused:
        load_target(ring.root / "mimir", target, lambda line: None)
    assert "refused by the ring's Alertmanager" in str(refused.value)
    assert httpx.get(f"{target.base_url}/api/v1/alerts", headers=target.headers, timeout=5).status_code == 404


@pytest.mark.e2e
def test_a_member_killed_with_sigkill_leaves_every_group_evaluated(ring: Ring) -> None:
    """After SIGKILL of a member, the other two find it unhealthy in their ring, evaluate every group between them
    and serve them all again (the rules API fails while the dead ruler is still in the ruler ring)."""
    target = api(ring.settings)
    count = load_target(ring.root / "mimir", target, lambda line: None)
    wait_groups(target.base_url, target.headers, count, 60)
    victim, survivors = ring.started[1], [m for m in members(ring.settings) if m.index != 1]
    killed_at = time.time()
    sigkill(victim)  # it cannot leave the ring: its entry stays until the others find it silent
    assert _within(60, lambda: all(ring_states(m.url).get(victim.name, "").upper() == "UNHEALTHY" for m in survivors))
    assert _within(90, lambda: len(set().union(*(_evaluated(m.url, killed_at) for m in survivors))) == count)
    assert _within(60, lambda: all(served_groups(m.url, target.headers)[0] == count for m in survivors))


def _within(seconds: float, check: object) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return True
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    return False
