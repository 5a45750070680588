"""Writes verify-report.json and an HTML report with plots of the golden signals during the run."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from stack.render import render_template
from stack.runtime.outcome import VerifyReport

WIDTH, HEIGHT, PAD = 720, 160, 30


def to_json(report: VerifyReport) -> str:
    """The whole report; each check with its status (ok, failed, skipped or n/a), and the counts by status."""
    data: dict[str, Any] = asdict(report)
    for line, check in zip(report.checks, data["checks"], strict=True):
        check["status"] = line.status
    data["ok"] = report.ok
    data["counts"] = report.counts()
    data["failures"] = report.failures()
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


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


def plot(points: list[tuple[float, float]], start: float, end: float, faults: list[Any]) -> dict[str, Any]:
    """SVG geometry for one signal: a polyline, fault spans and the y maximum."""
    span = max(end - start, 1.0)
    top = max((v for _, v in points), default=0.0) or 1.0

    def x(stamp: float) -> float:
        return round(PAD + (stamp - start) / span * (WIDTH - 2 * PAD), 1)

    def y(value: float) -> float:
        return round(HEIGHT - PAD - value / top * (HEIGHT - 2 * PAD), 1)

    line = " ".join(f"{x(t)},{y(v)}" for t, v in points)
    spans = [
        {"x": x(f.started), "w": max(1.0, x(f.ended) - x(f.started)), "name": f.name}
        for f in faults
        if f.started and f.ended
    ]
    return {"line": line, "spans": spans, "top": f"{top:.4g}", "empty": not points}


def to_html(report: VerifyReport) -> str:
    plots = {
        name: plot(points, report.started, report.finished, report.faults) for name, points in report.signals.items()
    }
    return render_template("verify-report.html.j2", report=report, plots=plots, width=WIDTH, height=HEIGHT, pad=PAD)


def write_reports(report: VerifyReport, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path, html_path = directory / "verify-report.json", directory / "verify-report.html"
    json_path.write_text(to_json(report), encoding="utf-8")
    html_path.write_text(to_html(report), encoding="utf-8")
    return json_path, html_path
