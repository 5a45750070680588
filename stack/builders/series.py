"""promtool input-series notation: counters and gauges built from (steps, value) segments.

The same few value texts recur in every service's tests (the same timelines, thresholds and rates), so each
distinct tuple of segments is written once. Keys are values, not objects: a value and its text never differ
between services. Values are never negative (counters only grow, gauges here are counts and levels), so
0.0 and -0.0, which are equal as keys, never both occur.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from stack.builders.promql import number

Segments = Sequence[tuple[int, float]]
GappySegments = Sequence[tuple[int, float | None]]


def counter(segments: GappySegments) -> str:
    """A counter starting at 0 that grows by `inc` at each of `steps` samples, segment by segment; an `inc` of
    None is `steps` missing samples (nothing scraped or pushed), after which the counter goes on."""
    return _counter(tuple(segments))


@lru_cache(maxsize=4096)
def _counter(segments: tuple[tuple[int, float | None], ...]) -> str:
    parts, value = ["0"], 0.0
    for steps, inc in segments:
        if steps > 0 and inc is None:
            parts.append(f"_x{steps}")
        elif steps > 0 and inc is not None:
            parts.append(f"{number(value + inc)}+{number(inc)}x{steps - 1}")
            value += steps * inc
    return " ".join(parts)


def gauge(segments: Segments) -> str:
    """A gauge holding `value` for `steps` samples, segment by segment."""
    return _gauge(tuple(segments))


@lru_cache(maxsize=4096)
def _gauge(segments: tuple[tuple[int, float], ...]) -> str:
    return " ".join(f"{number(value)}+0x{steps - 1}" for steps, value in segments if steps > 0)


def labels_text(metric: str, labels: dict[str, str]) -> str:
    return metric + "{" + ", ".join([f'{key}="{value}"' for key, value in labels.items()]) + "}"
