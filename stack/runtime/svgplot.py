"""SVG plots of a verify run, written by our own code (no plotting dependency, nothing loaded from a network).

One plot: series as lines on a time axis (seconds since the run started, wall-clock time at both ends), a y
scale in the panel's unit (s, %, req/s...), alert thresholds as dashed labelled lines, fault windows shaded and
labelled, and the moments alerts fired and resolved as vertical marks. The functions are pure: values in, text
out; every text written into the SVG is escaped here.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from html import escape

from stack.runtime.outcome import Series, Threshold

PALETTE = ("#1f78c1", "#e0752d", "#37872d", "#8f3bb8", "#c4162a", "#1f9e89", "#b8860b", "#6e7781")
LEVEL_COLOURS = {"warning": "#e0752d", "critical": "#c4162a", "objective": "#37872d"}
LEFT, RIGHT, TOP, BOTTOM = 66, 14, 32, 38
LABEL_ROWS = 3  # labels of neighbouring faults and marks are staggered over this many lines
X_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
MAX_X_TICKS, Y_TICKS = 8, 4
WIDE_ENOUGH = 500  # inner width that has room for the x axis' caption between the clock times


@dataclass(frozen=True)
class Window:
    """A span shaded on the plot (an injected fault), with its label."""

    start: float
    end: float
    label: str


@dataclass(frozen=True)
class Mark:
    """A moment marked on the plot: `kind` fired or resolved; `label` says which alerts, shown where wide."""

    at: float
    kind: str
    label: str


@dataclass(frozen=True)
class Plot:
    title: str
    start: float
    end: float
    unit: str = ""
    width: int = 720
    height: int = 220
    series: tuple[Series, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    windows: tuple[Window, ...] = field(default_factory=tuple)
    marks: tuple[Mark, ...] = field(default_factory=tuple)


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def number(value: float) -> str:
    """Three significant digits, no exponent for everyday sizes, no trailing zeros."""
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.001:
        return f"{value:.3g}"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _bytes(value: float) -> str:
    for prefix in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or prefix == "GiB":
            return f"{number(value)} {prefix}"
        value /= 1024
    return f"{number(value)} GiB"


def fmt(value: float, unit: str) -> str:
    """A value in a Grafana unit as a reader writes it: 0.225 s -> "225 ms", 0.03 percentunit -> "3 %"."""
    if unit == "s":
        return f"{number(value * 1000)} ms" if abs(value) < 1 else f"{number(value)} s"
    if unit == "ms":
        return f"{number(value)} ms" if abs(value) < 1000 else f"{number(value / 1000)} s"
    if unit == "bytes":
        return _bytes(value)
    if unit.startswith("suffix:"):
        return number(value) + unit.removeprefix("suffix:")
    suffix = {"percentunit": " %", "percent": " %", "reqps": " req/s", "ops": " /s"}.get(unit, "")
    return number(value * 100 if unit == "percentunit" else value) + suffix


def unit_name(unit: str) -> str:
    """What the y axis measures, in words (a duration's ticks carry ms or s themselves)."""
    names = {"s": "duration", "ms": "duration", "percentunit": "percent", "percent": "percent",
             "reqps": "requests per second", "ops": "per second", "bytes": "bytes",
             "suffix:x": "times the budget rate"}  # fmt: skip
    return names.get(unit, "count")


def y_ticks(top: float) -> list[float]:
    """Y_TICKS + 1 round values from 0 covering `top`."""
    raw = top / Y_TICKS
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 1.5, 2, 2.5, 3, 4, 5, 10) if m * magnitude >= raw)
    return [round(i * step, 12) for i in range(Y_TICKS + 1)]


def x_step(seconds: float, width: float) -> int:
    """Seconds between x ticks: round, and no more ticks than fit their labels (~70 px each)."""
    most = max(2, min(MAX_X_TICKS, int(width // 70)))
    return next((s for s in X_STEPS if seconds / s <= most), X_STEPS[-1])


def wall(stamp: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(stamp))


class Frame:
    """Where values land on the plot: x from time, y from value."""

    def __init__(self, plot: Plot, top: float) -> None:
        self.plot, self.top = plot, top
        self.span = max(plot.end - plot.start, 1.0)
        self.inner_w, self.inner_h = plot.width - LEFT - RIGHT, plot.height - TOP - BOTTOM

    def x(self, stamp: float) -> float:
        clamped = min(max(stamp, self.plot.start), self.plot.end)
        return round(LEFT + (clamped - self.plot.start) / self.span * self.inner_w, 1)

    def y(self, value: float) -> float:
        return round(TOP + self.inner_h - max(0.0, value) / self.top * self.inner_h, 1)


def scale_top(plot: Plot) -> float:
    """The y axis' end: the data's maximum and every threshold fit, with a little room above."""
    values = [v for s in plot.series for _, v in s.points] + [t.value for t in plot.thresholds]
    highest = max(values, default=0.0)
    return y_ticks(highest * 1.08 if highest > 0 else 1.0)[-1]


def _axes(frame: Frame) -> list[str]:
    plot, parts = frame.plot, []
    bottom = TOP + frame.inner_h
    for tick in y_ticks(frame.top):
        y = frame.y(tick)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{plot.width - RIGHT}" y1="{y}" y2="{y}"/>')
        label = escape(fmt(tick, plot.unit))
        parts.append(f'<text class="ytick" x="{LEFT - 4}" y="{y + 3}" text-anchor="end">{label}</text>')
    step = x_step(frame.span, frame.inner_w)
    for second in range(0, int(frame.span) + 1, step):
        x = frame.x(plot.start + second)
        parts.append(f'<line class="tick" x1="{x}" x2="{x}" y1="{bottom}" y2="{bottom + 4}"/>')
        parts.append(f'<text class="xtick" x="{x}" y="{bottom + 14}" text-anchor="middle">{second} s</text>')
    clock = bottom + 28
    parts.append(f'<text class="clock" x="{LEFT}" y="{clock}">{wall(plot.start)} UTC</text>')
    if frame.inner_w >= WIDE_ENOUGH:
        parts.append(f'<text class="axis-label" x="{LEFT + frame.inner_w / 2}" y="{clock}" text-anchor="middle">'
                     f"seconds since the run started</text>")  # fmt: skip
    parts.append(f'<text class="clock" x="{plot.width - RIGHT}" y="{clock}" text-anchor="end">'
                 f"{wall(plot.end)} UTC</text>")  # fmt: skip
    parts.append(f'<text class="axis-label" transform="rotate(-90)" x="{-(TOP + frame.inner_h / 2)}" y="12" '
                 f'text-anchor="middle">{escape(unit_name(plot.unit))}</text>')  # fmt: skip
    parts.append(f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{frame.inner_w}" height="{frame.inner_h}"/>')
    return parts


def _windows(frame: Frame) -> list[str]:
    parts = []
    for index, window in enumerate(frame.plot.windows):
        x1, x2 = frame.x(window.start), frame.x(window.end)
        parts.append(f'<rect class="fault" x="{x1}" y="{TOP}" width="{max(1.0, round(x2 - x1, 1))}" '
                     f'height="{frame.inner_h}"><title>{escape(window.label)}</title></rect>')  # fmt: skip
        bottom = TOP + frame.inner_h - 4 - 11 * (index % LABEL_ROWS)
        parts.append(f'<text class="fault-label" x="{x1 + 3}" y="{bottom}">{escape(window.label)}</text>')
    return parts


def _thresholds(frame: Frame) -> list[str]:
    parts = []
    for threshold in frame.plot.thresholds:
        y, tint = frame.y(threshold.value), LEVEL_COLOURS.get(threshold.level, "#6e7781")
        label = f"{threshold.level} {fmt(threshold.value, frame.plot.unit)}"
        parts.append(f'<line class="threshold {escape(threshold.level)}" x1="{LEFT}" x2="{frame.plot.width - RIGHT}" '
                     f'y1="{y}" y2="{y}" stroke="{tint}"/>')  # fmt: skip
        parts.append(f'<text class="threshold-label" x="{frame.plot.width - RIGHT - 3}" y="{y - 3}" '
                     f'text-anchor="end" fill="{tint}">{escape(label)}</text>')  # fmt: skip
    return parts


def _marks(frame: Frame) -> list[str]:
    parts = []
    for index, mark in enumerate(frame.plot.marks):
        x, line = frame.x(mark.at), TOP - 9 * (index % LABEL_ROWS)
        parts.append(f'<line class="mark {escape(mark.kind)}" x1="{x}" x2="{x}" y1="{line - 2}" '
                     f'y2="{TOP + frame.inner_h}"><title>{escape(mark.label)}</title></line>')  # fmt: skip
        anchor = "end" if x > frame.plot.width - 200 else "start"
        text = mark.label if frame.inner_w >= WIDE_ENOUGH else mark.kind  # alert names where there is room
        parts.append(f'<text class="mark-label {escape(mark.kind)}" x="{x + (-2 if anchor == "end" else 2)}" '
                     f'y="{line - 3}" text-anchor="{anchor}">{escape(text)}</text>')  # fmt: skip
    return parts


def segments(points: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """The points split where a gap is longer than twice the usual interval (no data there: no line)."""
    if len(points) < 2:
        return [points] if points else []
    gaps = sorted(b[0] - a[0] for a, b in itertools.pairwise(points))
    limit = 2 * gaps[len(gaps) // 2]
    parts, current = [], [points[0]]
    for before, point in itertools.pairwise(points):
        if point[0] - before[0] > limit:
            parts.append(current)
            current = []
        current.append(point)
    return [*parts, current]


def _lines(frame: Frame) -> list[str]:
    parts = []
    for index, series in enumerate(frame.plot.series):
        for part in segments(series.points):
            coords = " ".join(f"{frame.x(t)},{frame.y(v)}" for t, v in part)
            shape = "polyline" if len(part) > 1 else "circle"
            if shape == "circle":
                x, y = coords.split(",")
                parts.append(f'<circle cx="{x}" cy="{y}" r="1.5" fill="{colour(index)}"/>')
            else:
                parts.append(f'<polyline class="line" points="{coords}" stroke="{colour(index)}">'
                             f"<title>{escape(series.name)}</title></polyline>")  # fmt: skip
    return parts


def svg(plot: Plot) -> str:
    """The plot as one <svg> element (sized by viewBox, so it scales to its box)."""
    frame = Frame(plot, scale_top(plot))
    body = [*_windows(frame), *_axes(frame), *_thresholds(frame), *_lines(frame), *_marks(frame)]
    return _svg(plot, "plot", body)


def edge(name: str) -> float:
    """A histogram bucket's upper edge from its series name (`le`), +Inf last; not an edge: NaN."""
    try:
        return float(name)
    except ValueError:
        return math.nan


def _cells(plot: Plot) -> tuple[list[str], list[tuple[float, int, float]]]:
    """(bucket labels from the lowest, (time, bucket index, count in that bucket alone)) of cumulative `le`
    series: each bucket's own share is its cumulative value less the one below (Grafana's heatmap format)."""
    buckets = sorted((s for s in plot.series if not math.isnan(edge(s.name))), key=lambda s: edge(s.name))
    values = [dict(s.points) for s in buckets]
    cells = []
    for stamp in sorted({t for s in buckets for t, _ in s.points}):
        below = 0.0
        for index, by_time in enumerate(values):
            cumulative = by_time.get(stamp, below)
            cells.append((stamp, index, max(0.0, cumulative - below)))
            below = max(below, cumulative)
    return [s.name for s in buckets], cells


def heatmap(plot: Plot) -> str:
    """A histogram's buckets over time (series named by their `le`), as Grafana's heatmap panel draws them:
    one band per bucket, darker where more requests fell in it."""
    labels, cells = _cells(plot)
    frame = Frame(plot, 1.0)
    band = frame.inner_h / max(1, len(labels))
    stamps = sorted({t for t, _, _ in cells})
    width = frame.inner_w / max(1, len(stamps))
    most = max((v for _, _, v in cells), default=0.0) or 1.0
    body = [f'<text class="axis-label" x="{LEFT}" y="{TOP - 6}">bucket (le), {escape(plot.unit or "count")}</text>']
    body += [f'<rect class="cell" x="{frame.x(t)}" y="{round(TOP + frame.inner_h - (i + 1) * band, 1)}" '
             f'width="{round(width + 0.5, 1)}" height="{round(band, 1)}" fill="{PALETTE[0]}" '
             f'fill-opacity="{round(v / most, 3)}"/>' for t, i, v in cells if v > 0]  # fmt: skip
    body += [f'<text class="ytick" x="{LEFT - 4}" y="{round(TOP + frame.inner_h - (i + 0.5) * band + 3, 1)}" '
             f'text-anchor="end">{escape(name)}</text>' for i, name in enumerate(labels)]  # fmt: skip
    axes = [part for part in _axes(frame) if 'class="ytick"' not in part and 'class="grid"' not in part]
    body = [*_windows(frame), *axes, *body, *_marks(frame)]
    return _svg(plot, "plot heatmap", body)


def _svg(plot: Plot, css: str, body: list[str]) -> str:
    return (
        f'<svg class="{css}" viewBox="0 0 {plot.width} {plot.height}" width="{plot.width}" height="{plot.height}" '
        f'role="img" aria-label="{escape(plot.title)}">' + "".join(body) + "</svg>"
    )
