"""Writes verify-report.json and verify-report.html: the checks, the alert contract, the golden signals with their
alert thresholds, fault windows and alert moments, and every dashboard panel as the doctor fetched it.

The HTML is one self-contained file: plots are inline SVG from svgplot, styles inline, no script, nothing
loaded from a network. `from_json` reads a written report back, so a recorded run renders again.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from markupsafe import Markup

from stack.errors import StackError
from stack.render import render_template
from stack.runtime import svgplot
from stack.runtime.doctor import ALL_SERVICES, SECTION
from stack.runtime.outages import Outage
from stack.runtime.outcome import CheckLine, FaultOutcome, PanelData, Series, Signal, Threshold, VerifyReport
from stack.runtime.svgplot import Mark, Plot, Window, fmt
from stack.runtime.traffic import Window as Traffic

WIDE, WIDE_HEIGHT, CELL, PANEL_HEIGHT = 1200, 250, 50, 210  # a dashboard column of 24 is CELL wide
TABLE_KINDS = frozenset({"table", "stat", "gauge", "bargauge"})
WORST_FIRST = ("failed", "skipped", "n/a", "ok")
NUMBER = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
PAIR = re.compile(rf"\[\s+({NUMBER}),\s+({NUMBER})\s+\]")  # a (time, value) point, kept on one line


def to_json(report: VerifyReport) -> str:
    """The whole report; each check with its status (ok, failed, skipped or n/a), and the counts by status."""
    data: dict[str, Any] = asdict(report)
    for line, check in zip(report.checks, data["checks"], strict=True):
        check["status"] = line.status
    data["ok"] = report.ok
    data["counts"] = report.counts()
    data["failures"] = report.failures()
    return PAIR.sub(r"[\1, \2]", json.dumps(data, indent=1, sort_keys=True)) + "\n"


def _points(values: list[list[float]]) -> list[tuple[float, float]]:
    return [(float(t), float(v)) for t, v in values]


def _panel(data: dict[str, Any]) -> PanelData:
    series = [Series(s["name"], _points(s["points"])) for s in data.pop("series")]
    levels = [Threshold(**t) for t in data.pop("thresholds")]
    return PanelData(**data, series=series, thresholds=levels)


def _outage(data: dict[str, Any]) -> Outage:
    for key in ("baseline", "during"):
        data[key] = Traffic(**data[key]) if data.get(key) else None
    return Outage(**data)


def from_json(text: str, where: str = "report") -> VerifyReport:
    """A report written by to_json, read back (StackError, saying where, when it is not one)."""
    try:
        data = json.loads(text)
        for key in ("ok", "counts", "failures"):
            data.pop(key, None)
        checks = [CheckLine(**{k: v for k, v in c.items() if k != "status"}) for c in data.pop("checks")]
        signals = {
            name: Signal(s["service"], _points(s["points"]), s["unit"], [Threshold(**t) for t in s["thresholds"]])
            for name, s in data.pop("signals").items()
        }
        faults = [FaultOutcome(**f) for f in data.pop("faults")]
        outages = [_outage(o) for o in data.pop("outages")]
        panels = [_panel(p) for p in data.pop("panels")]
        return VerifyReport(**data, checks=checks, faults=faults, signals=signals, outages=outages, panels=panels)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
        raise StackError(f"{where}: not a verify report written by this obsstack ({problem})") from None


def fault_table(report: VerifyReport) -> list[str]:
    """The alert contract as a text table: per fault, seconds from switching it on until its alerts fired
    (detected) and reached the webhook (delivered), then until they resolved after it was switched off."""

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}s"

    width = max((len(f.name) for f in report.faults), default=5)
    head = f"{'fault':<{width}}  {'detected':>9}  {'delivered':>9}  {'resolved':>9}  result"
    rows = [
        f"{f.name:<{width}}  {cell(f.detected_s):>9}  {cell(f.notified_s):>9}  {cell(f.resolved_s):>9}  "
        + ("ok" if f.ok else f"FAILED: {f.detail}")
        for f in report.faults
    ]
    return [head, *rows] if rows else []


# what a fault setting does, in words and units (the toggles of obsstack_fastapi's fault router)
SETTING_WORDS = {
    "latency_seconds": lambda v: f"latency +{fmt(v, 's')} on every request",
    "error_rate": lambda v: f"HTTP 500 on {fmt(v, 'percentunit')} of requests",
    "hold_connections": lambda v: f"{v:g} DB pool connections held",
}


def fault_words(setting: dict[str, float]) -> str:
    """`{"latency_seconds": 0.225}` -> "latency +225 ms on every request"."""
    return "; ".join(SETTING_WORDS[k](v) if k in SETTING_WORDS else f"{k} = {v:g}" for k, v in setting.items())


def service_faults(report: VerifyReport, service: str) -> list[FaultOutcome]:
    """The faults injected into `service` ("": every service); a run of several services prefixes their names."""
    return [f for f in report.faults if not service or ": " not in f.name or f.name.startswith(f"{service}: ")]


def decorations(faults: list[FaultOutcome], wide: bool) -> tuple[tuple[Window, ...], tuple[Mark, ...]]:
    """The fault windows (labelled in words on a wide plot, by name on a small one) and the alert moments."""
    windows = tuple(
        Window(f.started, f.ended, f"{f.name}: {fault_words(f.setting)}" if wide else f.name)
        for f in faults
        if f.started and f.ended
    )
    marks = [Mark(f.started + f.detected_s, "fired", f"{', '.join(f.required)} fired") for f in faults if f.detected_s]
    marks += [Mark(f.ended + f.resolved_s, "resolved", f"{', '.join(f.required)} resolved")
              for f in faults if f.resolved_s]  # fmt: skip
    return windows, tuple(sorted(marks, key=lambda m: m.at))


def golden_plots(report: VerifyReport) -> list[dict[str, Any]]:
    plots = []
    for name, signal in report.signals.items():
        windows, marks = decorations(service_faults(report, signal.service), wide=True)
        plot = Plot(name, report.started, report.finished, signal.unit, WIDE, WIDE_HEIGHT,
                    (Series(name, signal.points),), tuple(signal.thresholds), windows, marks)  # fmt: skip
        plots.append({"name": name, "svg": _safe(svgplot.svg(plot)), "empty": not signal.points,
                      "thresholds": _levels(signal.thresholds, signal.unit)})  # fmt: skip
    return plots


def _safe(svg: str) -> Markup:
    """An SVG of svgplot, which escapes every text it writes, inserted as it is."""
    return Markup(svg)  # noqa: S704


def _levels(levels: list[Threshold], unit: str) -> str:
    return ", ".join(f"{t.level} {fmt(t.value, unit)}" for t in levels)


def panel_status(report: VerifyReport, panel: PanelData) -> tuple[str, str]:
    """The doctor's verdict on the panel (its worst target's), and that check's detail."""
    name = f"{panel.service or ALL_SERVICES}: panel {panel.board} / {panel.title}"
    lines = [c for c in report.checks if c.section == SECTION and c.name == name]
    worst = min(lines, key=lambda c: WORST_FIRST.index(c.status), default=None)
    return (worst.status, worst.detail) if worst else ("", "")


def panel_view(report: VerifyReport, panel: PanelData) -> dict[str, Any]:
    """What the template draws for one panel: a plot, a table of series or of rows, or a row heading."""
    status, detail = panel_status(report, panel)
    view: dict[str, Any] = {"title": panel.title, "w": max(1, min(24, panel.w)), "status": status,
                            "detail": detail, "note": panel.note, "kind": panel.kind,
                            "thresholds": _levels(panel.thresholds, panel.unit)}  # fmt: skip
    if panel.kind == "row":
        return view | {"show": "row"}
    if panel.rows or panel.columns:
        return view | {"show": "rows", "columns": panel.columns, "rows": panel.rows}
    if not any(s.points for s in panel.series):
        return view | {"show": "empty"}
    if panel.kind in TABLE_KINDS:
        rows = [[s.name, fmt(s.points[-1][1], panel.unit), fmt(max(v for _, v in s.points), panel.unit)]
                for s in panel.series]  # fmt: skip
        return view | {"show": "rows", "columns": ["series", "last", "highest during the run"], "rows": rows}
    windows, marks = decorations(service_faults(report, panel.service), wide=False)
    plot = Plot(panel.title, report.started, report.finished, panel.unit, view["w"] * CELL, PANEL_HEIGHT,
                tuple(panel.series), tuple(panel.thresholds), windows, marks)  # fmt: skip
    if panel.kind == "heatmap":
        return view | {"show": "plot", "svg": _safe(svgplot.heatmap(plot)), "legend": []}
    legend = [(s.name, svgplot.colour(i)) for i, s in enumerate(panel.series)]
    return view | {"show": "plot", "svg": _safe(svgplot.svg(plot)), "legend": legend}


def boards(report: VerifyReport) -> list[dict[str, Any]]:
    """One section per dashboard (in the order the doctor read them), its panels in the dashboard's grid order."""
    order: dict[str, list[PanelData]] = {}
    for panel in report.panels:
        order.setdefault(panel.board, []).append(panel)
    return [
        {"title": title, "panels": [panel_view(report, p) for p in sorted(found, key=lambda p: (p.y, p.x))]}
        for title, found in order.items()
    ]


def title(report: VerifyReport) -> str:
    """The page's title: the run's verdict and how many checks were skipped or not applicable."""
    counts = report.counts()
    failures = len(report.failures())
    verdict = "passed" if report.ok else f"FAILED ({failures} failure{'' if failures == 1 else 's'})"
    return f"obsstack verify: {report.service} {verdict}; {_checks(counts['skipped'])} skipped, {counts['n/a']} n/a"


def _checks(n: int) -> str:
    return f"{n} check" if n == 1 else f"{n} checks"


def to_html(report: VerifyReport) -> str:
    faults = [{"outcome": f, "words": fault_words(f.setting)} for f in report.faults]
    return render_template("verify-report.html.j2", report=report, title=title(report), faults=faults,
                           golden=golden_plots(report), boards=boards(report))  # fmt: skip


def _write(path: Path, text: str) -> None:
    """Atomically: a reader never sees half a report."""
    partial = path.with_name(f".{path.name}.tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def write_reports(report: VerifyReport, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path, html_path = directory / "verify-report.json", directory / "verify-report.html"
    _write(json_path, to_json(report))
    _write(html_path, to_html(report))
    return json_path, html_path


def rewrite_html(directory: Path) -> Path:
    """The HTML report of the run recorded in `directory`'s verify-report.json, written again."""
    json_path = directory / "verify-report.json"
    try:
        text = json_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StackError(f"{json_path}: cannot read ({exc.strerror}); run `obsstack verify` first") from None
    html_path = directory / "verify-report.html"
    _write(html_path, to_html(from_json(text, str(json_path))))
    return html_path
