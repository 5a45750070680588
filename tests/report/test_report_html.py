"""The HTML report of a recorded verify run (recorded/verify-report.json, written by `make e2e`), rendered again
and read as a reader would: thresholds with their values, both axes, honest status colours, fault settings in
words, and one drawing per dashboard panel in the dashboard's grid order."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from markupsafe import escape

from stack.runtime.outcome import CheckLine, VerifyReport
from stack.runtime.report import TABLE_KINDS, fault_words, from_json, to_html, to_json
from stack.runtime.svgplot import fmt, wall

RECORDED = Path(__file__).parent / "recorded" / "verify-report.json"


@pytest.fixture(scope="module")
def recorded() -> VerifyReport:
    return from_json(RECORDED.read_text(encoding="utf-8"), str(RECORDED))


@pytest.fixture(scope="module")
def html(recorded: VerifyReport) -> str:
    return to_html(recorded)


def plot_of(html: str, label: str) -> str:
    found = re.search(rf'<svg class="plot"[^>]*aria-label="{re.escape(label)}".*?</svg>', html, re.S)
    assert found, f"no plot labelled {label!r}"
    return found.group(0)


def board_sections(html: str) -> dict[str, str]:
    parts = re.split(r"<h2>Dashboard: (.*?)</h2>", html.split("<h2>Checklist</h2>")[0])
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_the_recording_is_a_full_run(recorded: VerifyReport) -> None:
    """The fixture is what `make e2e` wrote (a run on this 2-core machine under load, where the errors fault
    also fired the latency alert): checks, faults, golden signals with thresholds, and the panels of each
    dashboard the doctor read, with log and trace rows; it reads back to the same JSON."""
    assert len(recorded.checks) > 50
    assert len(recorded.faults) == 3
    assert any(s.thresholds for s in recorded.signals.values())
    assert len({p.board for p in recorded.panels}) >= 2
    assert json.loads(to_json(recorded)) == json.loads(RECORDED.read_text(encoding="utf-8"))


def test_golden_signal_plots_draw_the_alert_thresholds_with_their_values(recorded: VerifyReport, html: str) -> None:
    """Every threshold of a golden signal is a dashed line labelled with its level and value in the signal's
    unit (the latency p95 at 200 ms and 500 ms, the 5xx ratio at 1 % and 5 % by default)."""
    drawn = 0
    for name, signal in recorded.signals.items():
        svg = plot_of(html, name)
        for threshold in signal.thresholds:
            assert f'<line class="threshold {threshold.level}"' in svg
            assert f">{threshold.level} {fmt(threshold.value, signal.unit)}</text>" in svg
            drawn += 1
    assert drawn >= 4
    latency = next(name for name in recorded.signals if "latency" in name)
    assert ">warning 200 ms</text>" in plot_of(html, latency)


def test_every_plot_has_a_time_axis_and_a_y_scale_in_its_unit(recorded: VerifyReport, html: str) -> None:
    """Seconds since the start along x with the wall-clock time at both ends; y ticks carry the unit."""
    start, end = f">{wall(recorded.started)} UTC</text>", f">{wall(recorded.finished)} UTC</text>"
    for name, signal in recorded.signals.items():
        svg = plot_of(html, name)
        assert start in svg
        assert end in svg
        assert ">seconds since the run started</text>" in svg
        assert re.search(r'class="xtick"[^>]*>0 s<', svg)
        ticks = re.findall(r'class="ytick"[^>]*>([^<]*)<', svg)
        assert len(ticks) == 5
        assert ticks[0] == fmt(0, signal.unit) != "0", (name, ticks)
        assert all(not t[-1].isdigit() for t in ticks), (name, ticks)  # each with its unit


def test_fault_windows_and_alert_moments_are_marked(recorded: VerifyReport, html: str) -> None:
    """Each fault's window is shaded and labelled in words; the moments its alerts fired and resolved are
    marked on the plots of its service."""
    svg = plot_of(html, next(iter(recorded.signals)))
    for fault in recorded.faults:
        assert f"{fault.name}: {fault_words(fault.setting)}</text>" in svg
    assert svg.count('<line class="mark fired"') == sum(1 for f in recorded.faults if f.detected_s)
    assert svg.count('<line class="mark resolved"') == sum(1 for f in recorded.faults if f.resolved_s)


def test_statuses_have_their_own_colours_and_the_title_counts_the_skipped(recorded: VerifyReport) -> None:
    """ok is green, failed red, skipped and n/a grey with the reason beside them; the title gives the verdict
    and how many checks were skipped; fault settings are words, not a Python dict."""
    report = copy.deepcopy(recorded)
    report.checks += [CheckLine.of("faults", "orders: pool fault", "skipped", "skipped: no DB pool (db_pool not set)"),
                      CheckLine.of("pipeline", "orders: trace by id in Tempo", "n/a", "tempo not running")]  # fmt: skip
    html = to_html(report)
    title = re.search(r"<title>(.*?)</title>", html).group(1)  # type: ignore[union-attr]
    failed = [f for f in report.faults if not f.ok]
    assert title == f"obsstack verify: orders FAILED ({len(failed)} failure); 1 check skipped, 1 n/a"
    assert ".status.ok { background: #dafbe1; color: #116329; }" in html
    assert ".status.failed { background: #ffebe9; color: #a40e26; }" in html
    assert ".status.skipped, .status.na { background: #eaeef2; color: #57606a; }" in html
    for check in report.checks:
        assert f'<td>{escape(check.name)}</td><td><span class="status {check.status.replace("/", "")}">' in html
    assert '<td class="reason">skipped: no DB pool (db_pool not set)</td>' in html
    assert '<td class="reason">tempo not running</td>' in html
    for fault in report.faults:
        assert f"<td>{fault_words(fault.setting)}</td>" in html
        badge = '<span class="status ok">ok</span>' if fault.ok else '<span class="status failed">FAILED</span> '
        assert f"{badge}{escape(fault.detail) if not fault.ok else ''}" in html
    assert "{'" not in html


def test_each_dashboard_panel_is_drawn_in_grid_order(recorded: VerifyReport, html: str) -> None:
    """A section per dashboard; in it, every panel under its title in the dashboard's grid order: one plot
    per time series panel with data, a table for table and stat panels, the first rows of log and trace panels."""
    sections = board_sections(html)
    assert list(sections) == list(dict.fromkeys(p.board for p in recorded.panels))
    for board, section in sections.items():
        panels = sorted((p for p in recorded.panels if p.board == board), key=lambda p: (p.y, p.x))
        titles = re.findall(r"<h4>(.*?) (?:<span|</h4>)", section)
        titles += re.findall(r'<h3 class="rowhead">(.*?)</h3>', section)
        assert sorted(titles) == sorted(str(escape(p.title)) for p in panels)
        shown = [p for p in panels if p.kind != "row"]
        plotted = [p for p in shown if p.kind not in TABLE_KINDS and not p.rows and any(s.points for s in p.series)]
        assert section.count('<svg class="plot') == len(plotted)
        for heat in (p for p in plotted if p.kind == "heatmap"):
            label = re.escape(str(escape(heat.title)))
            assert re.search(rf'<svg class="plot heatmap"[^>]*aria-label="{label}"', section)
        positions = [section.index(f"<h4>{escape(p.title)} ") for p in shown]
        assert positions == sorted(positions)
        for panel in shown:
            if panel.rows:
                assert f"<td>{escape(panel.rows[0][0])}</td>" in section
    assert any(p.rows for p in recorded.panels), "a log or trace panel with rows"


def test_the_page_is_one_self_contained_file(html: str) -> None:
    """No script, stylesheet, image or font is loaded from anywhere: the plots are inline SVG."""
    for loader in ("<script", "<link", "src=", "href=", "url(", "@import", "<img", "<iframe"):
        assert loader not in html
    assert html.count("<svg") >= 4
