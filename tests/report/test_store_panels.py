"""The doctor's log and trace panels in the report: each keeps its dashboard place, title and verdict, and a
panel whose store is not part of the stack is shown as n/a with the reason, not as an empty plot."""

from __future__ import annotations

from stack.config import load_settings
from stack.render import render_all
from stack.runtime import doctor
from stack.runtime.outcome import Endpoints, VerifyReport
from stack.runtime.presence import Presence
from stack.runtime.report import boards, to_html
from stack.write import write_plan


def test_store_panels_not_part_of_the_stack_are_shown_as_na_with_the_reason(make_project) -> None:
    """Without Loki and Tempo, every LogQL and TraceQL panel of the service's dashboard is in the report's
    section of that dashboard, titled like it, marked n/a with the reason, and drawn as nothing."""
    config = make_project("services: [{name: orders, port: 8000}]\n")
    settings = load_settings(config, {"profile": "fast"})
    write_plan(config.parent, render_all(settings))
    report = VerifyReport("fast", "orders", 0.0, 60.0)
    ends = Endpoints.from_settings(settings, settings.services)
    absent = Presence({"loki": "http://127.0.0.1:9/", "tempo": "http://127.0.0.1:9/"}, frozenset({"loki", "tempo"}))
    doctor._logs_and_traces(config.parent, settings, settings.services, ends, report, absent, 60)
    assert len(report.panels) == len(report.checks) >= 2
    assert {p.kind for p in report.panels} == {"logs", "table"}
    assert {p.board for p in report.panels} == {"orders: golden signals"}
    assert all(p.service == "orders" and p.y > 0 and not p.rows for p in report.panels)
    [board] = boards(report)
    assert {p["status"] for p in board["panels"]} == {"n/a"}
    assert {p["show"] for p in board["panels"]} == {"empty"}
    html = to_html(report)
    for panel in report.panels:
        assert f'<h4>{panel.title.replace(">", "&gt;")} <span class="status na">n/a</span></h4>' in html
    assert "<p class=\"empty\">nothing to draw: loki not running: not part of this stack" in html
