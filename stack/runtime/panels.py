"""What each dashboard panel showed during a verify run, fetched with the panel's own queries, for the report.

A Prometheus panel's targets are run as range queries over the run, `$__rate_interval` standing for what Grafana
would use at that step (4 scrape intervals at least), so a reader sees the series the user's dashboard will
draw. A log or trace panel's query is run once against the chosen store and its first rows kept. Everything is
bounded: MAX_POINTS a series, MAX_SERIES a panel (the rest named in a note), MAX_ROWS a log or trace panel.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stack.dashlint import datasource_type, fill_template, iter_panels
from stack.runtime.outcome import PanelData, Series, Threshold
from stack.runtime.promapi import PromClient, Unavailable
from stack.runtime.stores import Target, backend_json, jaeger_search, logsql, tempo_traces

MAX_POINTS, MAX_SERIES, MAX_BUCKETS, MAX_ROWS, MAX_TEXT = 240, 8, 40, 5, 240
LEVELS = {"orange": "warning", "yellow": "warning", "red": "critical", "dark-red": "critical", "green": "objective"}
LEGEND = re.compile(r"\{\{\s*([A-Za-z_]\w*)\s*\}\}")
Rows = tuple[list[str], list[list[str]]]
Variables = tuple[Mapping[str, str], str]  # the template variables' values, and the value of any other


@dataclass(frozen=True)
class RunRange:
    """The run as the report's panels are drawn: [start, end] every `step` seconds; `rate` stands for
    `$__rate_interval` (Grafana's: the step plus one scrape, 4 scrapes at least)."""

    start: float
    end: float
    step: float
    rate: str

    @classmethod
    def of(cls, start: float, end: float, scrape_seconds: float) -> RunRange:
        step = max(scrape_seconds, (end - start) / MAX_POINTS)
        return cls(start, end, round(step, 3), f"{round(max(4 * scrape_seconds, step + scrape_seconds))}s")


def thresholds(panel: Mapping[str, Any]) -> list[Threshold]:
    """The panel's threshold steps with a value (the first, `null`, is the base colour): warning, critical."""
    steps = panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", [])
    return [
        Threshold(LEVELS.get(str(s.get("color")), str(s.get("color"))), float(s["value"]))
        for s in steps
        if s.get("value") is not None
    ]


def blank(board: Mapping[str, Any], panel: Mapping[str, Any], service: str) -> PanelData:
    """The panel's place, title, unit and thresholds, without data."""
    pos = panel.get("gridPos", {})
    return PanelData(
        board=str(board.get("title", "")), title=str(panel.get("title", "")), kind=str(panel.get("type", "")),
        x=int(pos.get("x", 0)), y=int(pos.get("y", 0)), w=int(pos.get("w", 24)), service=service,
        unit=str(panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "") or ""),
        thresholds=thresholds(panel),
    )  # fmt: skip


def legend(target: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """The series' name as Grafana's legend shows it: the target's legendFormat, else its labels."""
    fmt = str(target.get("legendFormat") or "")
    if fmt and fmt != "__auto":
        return LEGEND.sub(lambda m: labels.get(m.group(1), ""), fmt).strip() or fmt
    shown = {k: v for k, v in labels.items() if k != "__name__"}
    return labels.get("__name__", "") + "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(shown.items())) + "}"


def numbers(values: list[Any]) -> list[tuple[float, float]]:
    """Finite (time, value) points of a Prometheus answer."""
    points = []
    for stamp, value in values:
        number = float(value)
        if number == number and abs(number) != float("inf"):
            points.append((round(float(stamp), 3), float(f"{number:.6g}")))
    return points


def prometheus_panel(
    prom: PromClient, board: dict[str, Any], panel: dict[str, Any], variables: Variables, span: RunRange,
    service: str,
) -> PanelData:  # fmt: skip
    """A Prometheus panel: each target's series over the run (at most MAX_SERIES drawn, the others counted)."""
    data, series, errors = blank(board, panel, service), [], []
    for target in panel.get("targets", []):
        if datasource_type(panel, target) != "prometheus" or not target.get("expr"):
            continue
        expr = fill_template(str(target["expr"]), span.rate, *variables)
        try:
            answer = prom.query_range(expr, span.start, span.end, span.step)
        except Unavailable as exc:
            errors.append(str(exc))
            continue
        series += [Series(legend(target, r.get("metric", {})), numbers(r.get("values", []))) for r in answer]
    limit = MAX_BUCKETS if data.kind == "heatmap" else MAX_SERIES  # a heatmap needs every bucket
    data.series = sorted((s for s in series if s.points), key=lambda s: s.name)[:limit]
    left_out = len([s for s in series if s.points]) - len(data.series)
    data.note = "; ".join([*errors, *([f"{left_out} more series not drawn"] if left_out > 0 else [])])
    return data


def prometheus_panels(
    prom: PromClient, board: dict[str, Any], variables: Variables, span: RunRange, service: str
) -> list[PanelData]:
    """Every row and Prometheus panel of the board, in its grid order."""
    found = []
    for panel in iter_panels(board):
        kinds = {datasource_type(panel, t) for t in panel.get("targets", [])}
        if panel.get("type") == "row":
            found.append(blank(board, panel, service))
        elif "prometheus" in kinds:
            found.append(prometheus_panel(prom, board, panel, variables, span, service))
    return sorted(found, key=lambda p: (p.y, p.x))


# --- log and trace panels: their first rows, by the chosen store's datasource type -----------------------------


def clock(seconds: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(seconds))


def cut(text: Any) -> str:
    text = str(text)
    return text if len(text) <= MAX_TEXT else f"{text[: MAX_TEXT - 1]}…"


def loki_rows(url: str, target: Target, start: float, end: float) -> Rows:
    params = {"query": str(target["expr"]), "limit": str(MAX_ROWS), "direction": "backward",
              "start": f"{int(start)}000000000", "end": f"{int(end) + 1}000000000"}  # fmt: skip
    result = backend_json(f"{url}/loki/api/v1/query_range", params, "Loki").get("data", {}).get("result", [])
    entries = sorted(((int(ts), line) for r in result for ts, line in r.get("values", [])), reverse=True)
    return ["time", "line"], [[clock(ts / 1e9), cut(line)] for ts, line in entries[:MAX_ROWS]]


FIELDS = ("level", "severity_text", "status", "method", "route", "path", "error", "exception.type")  # shown first
HIDDEN = ("trace_id", "span_id", "service.name")


def record_text(record: dict[str, Any]) -> str:
    """A log record as one line: its message, then its telling fields (those of FIELDS, else a few others)."""
    named = [k for k in FIELDS if k in record] or sorted(
        k for k in record if not k.startswith("_") and k not in HIDDEN)[:4]  # fmt: skip
    return " ".join([str(record.get("_msg", "")), *(f"{k}={record[k]}" for k in named)]).strip()


def victorialogs_rows(url: str, target: Target, start: float, end: float) -> Rows:
    records = logsql(url, str(target["expr"]), MAX_ROWS, start, end)
    return ["time", "record"], [[str(r.get("_time", ""))[11:19], cut(record_text(r))] for r in records]


def tempo_rows(url: str, target: Target, start: float, end: float) -> Rows:
    traces = tempo_traces(url, str(target["query"]), start, end, MAX_ROWS)
    return ["trace", "root span", "start", "duration"], [
        [str(t.get("traceID", "")), cut(f"{t.get('rootServiceName', '')} {t.get('rootTraceName', '')}"),
         clock(int(t.get("startTimeUnixNano", 0)) / 1e9), f"{t.get('durationMs', 0)} ms"]
        for t in traces[:MAX_ROWS]
    ]  # fmt: skip


def jaeger_rows(url: str, target: Target, start: float, end: float) -> Rows:
    extra = {"minDuration": str(target["minDuration"])} if target.get("minDuration") else {}
    traces = jaeger_search(url, str(target["service"]), start, end, MAX_ROWS, **extra)
    rows = []
    for trace in traces[:MAX_ROWS]:
        spans = trace.get("spans") or [{}]
        root = min(spans, key=lambda s: s.get("startTime", 0))
        first, last = root.get("startTime", 0), max(s.get("startTime", 0) + s.get("duration", 0) for s in spans)
        rows.append([str(trace.get("traceID", "")), cut(root.get("operationName", "")), clock(first / 1e6),
                     f"{(last - first) / 1000:.0f} ms"])  # fmt: skip
    return ["trace", "root span", "start", "duration"], rows


# one entry per datasource type a chosen store's panels have (stores.LogApi/TraceApi.panel_type)
ROWS: dict[str, Callable[[str, Target, float, float], Rows]] = {
    "loki": loki_rows,
    "victoriametrics-logs-datasource": victorialogs_rows,
    "tempo": tempo_rows,
    "jaeger": jaeger_rows,
}


def store_panel(
    data: PanelData, kind: str, url: str, target: Target, start: float, end: float
) -> PanelData:  # fmt: skip
    """The panel with its first rows from the store (or, if it does not answer, why not)."""
    try:
        data.columns, data.rows = ROWS[kind](url, target, start, end)
    except (Unavailable, KeyError, ValueError, TypeError) as exc:
        data.note = f"rows not read: {exc}"
    return data
