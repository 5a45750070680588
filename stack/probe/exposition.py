"""PURE: a Prometheus text (or OpenMetrics) exposition -> the metric families it holds (`Observed`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families as text_families

from stack.probe.observed import FamilyBuilder, Kind, Observed, ProbeError

OPENMETRICS = "application/openmetrics-text"
KINDS: dict[str, Kind] = {"counter": "counter", "gauge": "gauge", "histogram": "histogram"}


def parse_exposition(text: str, content_type: str, where: str) -> Observed:
    """The families of `text` (OpenMetrics when the content type says so, else the text format 0.0.4)."""
    parse = openmetrics_families if content_type.startswith(OPENMETRICS) else text_families
    try:
        parsed = list(parse(text))
    except (ValueError, TypeError, IndexError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ProbeError(
            f"{where}: not a Prometheus exposition ({first[:120]}), expected the text format of a /metrics endpoint"
        ) from None
    builders: list[FamilyBuilder] = []
    empty: list[str] = []
    for family in parsed:
        builder = _family(family)
        if builder is None:
            continue
        (builders.append(builder) if family.samples else empty.append(builder.name))
    return Observed("scrape", where, tuple(b.freeze() for b in builders), tuple(empty))


def _family(family: Any) -> FamilyBuilder | None:
    """One parsed family as Prometheus names it; None for the `_created` gauges of the text format."""
    kind = KINDS.get(family.type, "other")
    name = str(family.name)
    if kind == "gauge" and name.endswith("_created"):
        return None
    if kind == "counter":
        named = [s.name for s in family.samples if not s.name.endswith("_created")]
        name = named[0] if named else f"{name}_total"
    builder = FamilyBuilder(name, kind)
    for sample in family.samples:
        if sample.name.endswith("_created"):
            continue
        labels = {k: v for k, v in sample.labels.items() if k != "le"}
        builder.add(labels, _edges(sample) if kind == "histogram" else ())
    return builder


def _edges(sample: Any) -> Iterable[float]:
    if not sample.name.endswith("_bucket") or "le" not in sample.labels:
        return ()
    try:
        return (float(sample.labels["le"]),)
    except ValueError:
        return ()
