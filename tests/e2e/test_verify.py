"""verify: bounded waits, clear errors for refused toggles, the receiver, scenarios and reports."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from support import free_port, running_app

from stack.config import load_settings
from stack.conventions import FaultAlerts
from stack.dashlint import MACROS, VARIABLE
from stack.errors import StackError
from stack.render import render_all
from stack.runtime import doctor
from stack.runtime import verify as verify_mod
from stack.runtime.faults import FaultClient
from stack.runtime.outcome import Signal
from stack.runtime.promapi import Unavailable, wait_until
from stack.runtime.receiver import WebhookReceiver
from stack.runtime.report import to_html, to_json
from stack.runtime.scenarios import error_fault, latency_fault, pool_fault
from stack.tools import ToolError, locate
from stack.write import write_plan


@contextmanager
def sample_app(tmp_path: Path, **env: str) -> Iterator[str]:
    """The real sample app as a process on a free loopback port; always stopped."""
    with running_app(tmp_path, **env) as (base, _):
        yield base


def _flaky(failures: int):
    calls = {"n": 0}

    def check() -> tuple[bool, str]:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise Unavailable("connection refused (Prometheus restarting)")
        return True, "answered"

    return check


def test_wait_survives_a_restarting_peer() -> None:
    """Errors while a peer restarts count as 'not yet'; the wait succeeds once it answers."""
    waited = wait_until(_flaky(2), timeout=5, interval=0.01)
    assert waited.ok
    assert waited.last == "answered"


def test_wait_is_bounded_and_reports_what_it_saw() -> None:
    """A check that never succeeds returns after the timeout with the last observation."""
    start = time.monotonic()
    waited = wait_until(_flaky(10_000), timeout=0.3, interval=0.05)
    assert not waited.ok
    assert time.monotonic() - start < 2
    assert "Prometheus restarting" in waited.last


def test_scenarios_land_between_thresholds(make_project) -> None:
    """Latency halfway above the warning edge, 9 of 10 connections, 3 % errors: warning, not critical."""
    settings = load_settings(make_project("services: [{name: orders, db_pool: {warning: 0.8, critical: 0.95}}]\n"))
    service = settings.services[0]
    none = FaultAlerts()
    assert latency_fault(settings, service, none).setting == {"latency_seconds": 0.225}
    assert pool_fault(settings, service, 10, none).setting == {"hold_connections": 9}
    assert error_fault(settings, service, none).setting == {"error_rate": 0.03}
    with pytest.raises(ValueError, match="cannot be held above 80%"):
        pool_fault(settings, service, 5, none)


def test_refused_fault_toggle_is_a_clear_error(tmp_path: Path) -> None:
    """A wrong token gets a StackError naming the refusal, not a silent pass."""
    with sample_app(tmp_path, OBS_FAULTS_ENABLED="true", OBS_FAULTS_TOKEN="right-token") as base:
        with pytest.raises(StackError, match="refused by the app \\(HTTP 401\\)"):
            FaultClient(base, "wrong-token").set(latency_seconds=0.3)
        state = FaultClient(base, "right-token").set(latency_seconds=0.3)
        assert state["latency_seconds"] == 0.3
        assert FaultClient(base, "right-token").clear()["latency_seconds"] == 0


def test_disabled_faults_are_a_clear_error(tmp_path: Path) -> None:
    """With faults disabled in the app, verify says how to enable them."""
    with sample_app(tmp_path) as base, pytest.raises(StackError, match="OBS_FAULTS_ENABLED=true"):
        FaultClient(base, "any").state()


def test_receiver_records_alertmanager_payloads() -> None:
    """A webhook POST in Alertmanager's format is recorded per alert with its status."""
    url = f"http://127.0.0.1:{free_port()}/alerts"
    receiver = WebhookReceiver(url)
    receiver.start()
    try:
        payload = {"alerts": [{"status": "firing", "labels": {"alertname": "HighErrorRate", "service": "x"}}]}
        assert httpx.post(url, json=payload, timeout=5).status_code == 200
        assert receiver.seen("HighErrorRate", "firing", 0)
        assert not receiver.seen("HighErrorRate", "resolved", 0)
    finally:
        receiver.stop()


def test_receiver_refuses_non_loopback_urls() -> None:
    """verify never listens beyond loopback."""
    with pytest.raises(StackError, match="loopback only"):
        WebhookReceiver("http://0.0.0.0:9095/alerts").start()


def test_verify_without_a_stack_times_out_and_names_the_step(make_project, monkeypatch) -> None:
    """Nothing listening: verify returns (does not hang) with failed startup checks and exit-worthy report."""
    port = free_port()
    config = make_project(f"services: [{{name: orders, port: {port}, faults: true}}]\n"
                          f"alerting: {{webhook_url: 'http://127.0.0.1:{free_port()}/alerts'}}\n"
                          f"components:\n  prometheus: {{image: 'prom/prometheus:v3.16.0', port: {free_port()}}}\n"
                          f"  alertmanager: {{image: 'prom/alertmanager:v0.35.0', port: {free_port()}}}\n")  # fmt: skip
    settings = load_settings(config, {"profile": "fast"})
    write_plan(config.parent, render_all(settings))
    monkeypatch.setattr(verify_mod, "STARTUP_TIMEOUT", 1.0)
    said: list[str] = []
    start = time.monotonic()
    report = verify_mod.Verifier(settings, settings.services, "token", said.append, root=config.parent).run()
    assert time.monotonic() - start < 30
    assert not report.ok
    assert any("startup: orders answers" in line and "timed out" in line for line in report.failures())
    assert any(line.startswith("FAIL startup: Prometheus ready") for line in said)
    data = json.loads(to_json(report))
    assert data["ok"] is False
    assert data["profile"] == "fast"


def test_html_report_escapes_what_it_shows(make_project) -> None:
    """Text from Prometheus or the app is HTML-escaped in the report."""
    settings = load_settings(make_project())
    report = verify_mod.VerifyReport("fast", "orders", 0.0, 10.0)
    report.checks.append(verify_mod.CheckLine("telemetry", "x", False, "<script>alert(1)</script>"))
    report.signals = {"traffic": Signal("orders", [(1.0, 2.0), (5.0, 4.0)], "reqps")}
    html = to_html(report)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert "<polyline" in html
    assert "fast" in html
    assert settings.profile == "production"


def _start_prometheus(binary: str, config: Path, data: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={data}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def pinned_prometheus(make_project) -> str:
    """The Prometheus `up --local` starts (the cached build at the pin, or PATH's at that version); under CI a
    missing one fails."""
    try:
        return locate(load_settings(make_project()).tool_pin("prometheus"))
    except ToolError as error:
        if os.environ.get("CI"):
            pytest.fail(error.detail)
        pytest.skip(error.detail)


def test_verify_waits_through_a_real_prometheus_restart(tmp_path: Path, make_project) -> None:
    """A query made while the real (pinned) Prometheus restarts is retried until it answers again (bounded)."""
    binary, port = pinned_prometheus(make_project), free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(f"global: {{scrape_interval: 1s}}\nscrape_configs:\n  - job_name: self\n"
                      f"    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n")  # fmt: skip
    client = verify_mod.PromClient(f"http://127.0.0.1:{port}")
    proc = _start_prometheus(binary, config, tmp_path / "data", port)
    restarted: dict[str, subprocess.Popen[bytes]] = {}
    try:
        assert wait_until(lambda: (client.ready(), "not ready"), 30, 0.2).ok
        proc.terminate()
        proc.wait(timeout=30)
        data = tmp_path / "data"
        timer = threading.Timer(2.0, lambda: restarted.update(p=_start_prometheus(binary, config, data, port)))
        timer.start()
        waited = wait_until(lambda: (bool(client.query("up")), "no up series yet"), 60, 0.5)
        timer.join()
        assert waited.ok, waited.last
        assert waited.seconds >= 1.5
    finally:
        for p in (proc, *restarted.values()):
            p.terminate()
            p.wait(timeout=30)


def test_verify_refuses_at_once_without_the_generated_files(make_project) -> None:
    """The doctor reads the deployed rules and dashboards: a missing one fails before anything runs."""
    config = make_project("services: [{name: orders, port: 8000}]\n")
    settings = load_settings(config, {"profile": "fast"})
    with pytest.raises(StackError, match=r"orders\.rules\.yml: cannot read .*run `obsstack generate` first"):
        verify_mod.Verifier(settings, settings.services, None, print, root=config.parent)


def test_doctor_queries_come_from_the_files_on_disk(make_project) -> None:
    """The doctor runs what was written (an edit on disk shows), with every Grafana macro and variable filled."""
    config = make_project("services: [{name: orders, port: 8000}]\n")
    settings = load_settings(config, {"profile": "fast"})
    write_plan(config.parent, render_all(settings))
    service = settings.services[0]
    queries = doctor.queries(config.parent, settings, service, 120)
    assert any(name.startswith("recording rule ") for name, _ in queries)
    assert any(name.startswith("panel ") for name, _ in queries)
    left = [e for _, e in queries if VARIABLE.search(e) or MACROS.search(e)]
    assert not left, left[:3]  # label_replace's "${1}xx" is PromQL, not a Grafana variable, and stays
    assert all('service="orders"' in expr or "service=~" in expr or "orders" in expr for _, expr in queries)
    board = config.parent / settings.output.dashboards_dir / "orders-golden-signals.json"
    data = json.loads(board.read_text(encoding="utf-8"))
    source = {"type": "prometheus", "uid": "x"}
    data["panels"] = [{"id": 1, "type": "stat", "title": "Edited", "datasource": source,
                       "targets": [{"expr": "edited_metric"}]}]  # fmt: skip
    board.write_text(json.dumps(data), encoding="utf-8")
    titles = [name for name, _ in doctor.dashboard_queries(config.parent, settings, service, 120)]
    assert any("Edited" in title for title in titles)
