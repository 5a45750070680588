"""verify on a stack without Loki or Tempo: what is not part of the stack is "n/a" (never "ok", never a failure,
even under --strict); what `up` started and is down is skipped, or failed under --strict."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support import free_port

from stack.config import load_settings
from stack.errors import StackError
from stack.render import render_all
from stack.runtime import doctor
from stack.runtime.lifecycle import absent_components, component_switch
from stack.runtime.outcome import CheckLine, Endpoints, VerifyReport
from stack.runtime.pipeline import Backends
from stack.runtime.presence import Presence
from stack.runtime.report import to_html, to_json
from stack.runtime.state import Running, State, write_state
from stack.write import write_plan

NOT_PART = "loki not running: not part of this stack; run the official binary or Docker to include it"


class _Ready(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ready\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def answering() -> Iterator[str]:
    """A loopback HTTP server that answers 200 on every path, as a ready Loki or Tempo does on /ready."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ready)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/ready"
    finally:
        server.shutdown()
        server.server_close()


def silent() -> str:
    """A loopback URL nothing listens on."""
    return f"http://127.0.0.1:{free_port()}/ready"


def presence(absent: tuple[str, ...], strict: bool, **urls: str) -> Presence:
    health = {"otelcol": silent(), "loki": silent(), "tempo": silent()} | urls
    return Presence(health, frozenset(absent), strict)


def test_a_component_up_did_not_start_is_not_applicable_even_under_strict() -> None:
    """Loki with no binary (state.json's `missing`) and not answering: n/a with the reason, under --strict too."""
    for strict in (False, True):
        assert presence(("loki", "tempo"), strict).gate(("loki",)) == ("n/a", NOT_PART)


def test_a_component_up_started_that_is_down_fails_under_strict() -> None:
    """Loki started by `up` (not in `missing`) and down: skipped, and a failure under --strict, as before."""
    status, detail = presence((), strict=False).gate(("loki",))
    assert status == "skipped"
    assert detail.startswith("loki not running at http://127.0.0.1:")
    status, detail = presence((), strict=True).gate(("loki",))
    assert status == "failed"
    assert detail.endswith("(--strict: every component of the stack must run)")


def test_a_component_of_the_stack_that_is_down_outweighs_one_not_part_of_it() -> None:
    """A trace lookup needs the collector and Tempo: the collector down fails it under --strict, though Tempo
    is not part of the stack."""
    status, detail = presence(("tempo",), strict=True).gate(("otelcol", "tempo"))
    assert status == "failed"
    assert "otelcol not running" in detail
    assert "tempo" not in detail


def test_a_component_that_answers_is_checked_whoever_started_it(answering: str) -> None:
    """Loki answering though `up` found no binary for it (the user runs it): its checks run."""
    assert presence(("loki",), strict=True, loki=answering).gate(("loki",)) is None
    assert presence((), strict=True, loki=answering).gate(("loki",)) is None


def test_losses_count_only_exporters_to_backends_of_the_stack(answering: str) -> None:
    """An exporter to a Tempo that is not part of the stack fails by design and is not a loss; one to a Loki
    of the stack counts even while Loki is down (that is the loss a Loki outage must show)."""
    ends = Backends("http://127.0.0.1:9", "", "", presence(("tempo",), strict=True))
    assert ends.exporters() == ("prometheusremotewrite", "otlphttp/loki")
    ends = Backends("http://127.0.0.1:9", "", "", presence(("loki", "tempo"), strict=True, tempo=answering))
    assert ends.exporters() == ("prometheusremotewrite", "otlp/tempo")


def test_absent_components_come_from_the_local_state(tmp_path: Path) -> None:
    """The state's `missing` are not part of the stack: local mode's components without a binary, compose's
    services with no container (an override left them out); no state, none."""
    assert absent_components(tmp_path) == frozenset()
    ours = Running("loki", "http://127.0.0.1:3100", "http://127.0.0.1:3100/ready", pid=1)
    write_state(tmp_path, State("local", "fast", (ours,), missing=("tempo", "grafana")))
    assert absent_components(tmp_path) == {"tempo", "grafana"}
    write_state(tmp_path, State("compose", "fast", missing=("grafana",)))
    assert absent_components(tmp_path) == {"grafana"}


def test_not_applicable_is_its_own_status_in_the_report() -> None:
    """An n/a check keeps the run green, is counted apart from ok, skipped and failed, and shows as "n/a" in
    the JSON and the HTML report."""
    report = VerifyReport("fast", "orders", 0.0, 10.0)
    report.checks += [
        CheckLine.of("pipeline", "orders: trace by id in Tempo", "n/a", NOT_PART),
        CheckLine.of("pipeline", "orders: exemplar with a trace id", "ok", "3 exemplars"),
        CheckLine.of("faults", "orders: pool fault", "skipped", "no DB pool"),
    ]
    assert report.ok
    assert report.counts() == {"ok": 1, "failed": 0, "skipped": 1, "n/a": 1}
    assert report.summary() == "1 ok, 0 failed, 1 skipped, 1 n/a; faults 0/0 ok"
    data = json.loads(to_json(report))
    assert [c["status"] for c in data["checks"]] == ["n/a", "ok", "skipped"]
    assert data["counts"]["n/a"] == 1
    html = to_html(report)
    assert '<span class="status na">n/a</span></td><td class="reason">loki not running: not part of this stack' in html
    report.checks.append(CheckLine.of("pipeline", "orders: log line in Loki", "failed", "loki down"))
    assert not report.ok
    assert report.failures() == ["pipeline: orders: log line in Loki: loki down"]


def test_the_doctor_reports_logql_and_traceql_panels_as_not_applicable(make_project) -> None:
    """Without Loki and Tempo in the stack, every LogQL and TraceQL panel of the deployed dashboards is an n/a
    check naming the component, none ok, none failed."""
    config = make_project("services: [{name: orders, port: 8000}]\n")
    settings = load_settings(config, {"profile": "fast"})
    write_plan(config.parent, render_all(settings))
    report = VerifyReport("fast", "orders", 0.0)
    ends = Endpoints.from_settings(settings, settings.services)
    doctor._logs_and_traces(config.parent, settings, settings.services, ends, report,
                            presence(("loki", "tempo"), strict=True), 60)  # fmt: skip
    kinds = {kind: doctor.dashboard_queries(config.parent, settings, settings.services[0], 60, kind)
             for kind in ("loki", "tempo")}  # fmt: skip
    assert kinds["loki"]
    assert kinds["tempo"]
    assert len(report.checks) == len(kinds["loki"]) + len(kinds["tempo"])
    assert {line.status for line in report.checks} == {"n/a"}
    assert {line.detail.split(" ")[0] for line in report.checks} == {"loki", "tempo"}


def test_pipeline_faults_stop_only_what_up_started(tmp_path: Path) -> None:
    """--pipeline-faults on a local stack without Loki and Tempo switches the collector alone; the other two
    are left to verify, which reports them n/a (not part of the stack)."""
    collector = Running("otelcol", "http://127.0.0.1:13133", "http://127.0.0.1:13133/", pid=1)
    write_state(tmp_path, State("local", "fast", (collector,), missing=("loki", "tempo", "grafana")))
    settings = load_settings(_stack(tmp_path))
    assert component_switch(tmp_path, settings).components == ("otelcol",)
    write_state(tmp_path, State("compose", "fast"))
    with pytest.raises(StackError, match="supported for a local stack"):
        component_switch(tmp_path, settings)


def _stack(root: Path) -> Path:
    config = root / "stack.yaml"
    config.write_text("project: demo\nservices: [{name: orders, port: 8000}]\n", encoding="utf-8")
    return config
