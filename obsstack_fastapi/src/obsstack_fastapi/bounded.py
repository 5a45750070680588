"""Declarative business metrics with bounded labels: each label declares its values up front.

A value outside the declared set is recorded under the label's fallback (``other`` unless declared
otherwise), so no input can create a new series. Every declared combination is created at start, so
dashboards and ``rate()`` see zeros instead of missing series.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

OTHER = "other"
Kind = Literal["counter", "gauge", "histogram"]


@dataclass(frozen=True)
class Label:
    """A label name, its allowed values and the value anything else becomes."""

    name: str
    values: tuple[str, ...]
    fallback: str = OTHER
    _allowed: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.fallback not in self.values:
            raise ValueError(f"label {self.name}: fallback {self.fallback!r} must be one of {self.values}")
        object.__setattr__(self, "_allowed", frozenset(self.values))

    def clamp(self, value: object) -> str:
        """``value`` when declared, else the fallback."""
        return value if isinstance(value, str) and value in self._allowed else self.fallback


@dataclass(frozen=True)
class MetricSpec:
    """One metric of the contract: exposed name, help, bounded labels, buckets for histograms."""

    kind: Kind
    name: str
    help: str
    labels: tuple[Label, ...] = ()
    buckets: tuple[float, ...] = ()


class BoundedMetric:
    """A prometheus metric built from a `MetricSpec`; children are looked up by clamped values."""

    def __init__(self, spec: MetricSpec, registry: CollectorRegistry) -> None:
        self.spec = spec
        self._metric = _build(spec, registry)
        self._children: dict[tuple[str, ...], Any] = {}
        if not spec.labels:
            self._children[()] = self._metric
            return
        for values in itertools.product(*(label.values for label in spec.labels)):
            self._children[values] = self._metric.labels(*values)

    def child(self, **values: object) -> Any:
        """The child for these label values (each clamped to its declared set)."""
        key = tuple(label.clamp(values.get(label.name)) for label in self.spec.labels)
        return self._children[key]


def _build(spec: MetricSpec, registry: CollectorRegistry) -> Any:
    names = tuple(label.name for label in spec.labels)
    if spec.kind == "counter":
        return Counter(spec.name, spec.help, names, registry=registry)
    if spec.kind == "gauge":
        return Gauge(spec.name, spec.help, names, registry=registry, multiprocess_mode="livesum")
    return Histogram(spec.name, spec.help, names, buckets=spec.buckets or Histogram.DEFAULT_BUCKETS, registry=registry)


def build_all(specs: tuple[MetricSpec, ...], registry: CollectorRegistry) -> dict[str, BoundedMetric]:
    """Every spec registered in ``registry``, by exposed name."""
    return {spec.name: BoundedMetric(spec, registry) for spec in specs}
