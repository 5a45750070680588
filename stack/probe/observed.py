"""PURE: the metric families a probe saw, in Prometheus' naming, whatever the source (scrape or OTLP)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from stack.errors import StackError

Kind = Literal["counter", "gauge", "histogram", "other"]
MAX_VALUES = 20  # distinct values kept per label: enough to tell 2xx from 200, bounded for any exposition


class ProbeError(StackError):
    """What the probe found (or did not), in one line; exit 2."""


@dataclass(frozen=True)
class Family:
    """One metric as Prometheus has it: a counter with its `_total`, a histogram without `_bucket`."""

    name: str
    kind: Kind
    labels: frozenset[str] = frozenset()  # label names of its samples (without le)
    edges: tuple[float, ...] = ()  # a histogram's finite `le` edges, sorted
    values: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (label, its distinct values seen, sorted)

    def values_of(self, label: str) -> tuple[str, ...]:
        return next((seen for name, seen in self.values if name == label), ())


@dataclass(frozen=True)
class Observed:
    """Everything one probe saw: families with samples, and those declared without any sample yet."""

    source: Literal["scrape", "otlp"]
    where: str  # the URL scraped, or the OTLP ports listened on (for messages)
    families: tuple[Family, ...]
    empty: tuple[str, ...] = ()  # declared (# TYPE) but without samples: no request has been counted yet
    service_names: tuple[str, ...] = field(default=())  # OTLP resources' service.name, in arrival order

    def get(self, name: str) -> Family | None:
        return next((f for f in self.families if f.name == name), None)


@dataclass
class FamilyBuilder:
    """Accumulates the samples of one family (used by the parsers only; the result is frozen)."""

    name: str
    kind: Kind
    labels: set[str] = field(default_factory=set)
    edges: set[float] = field(default_factory=set)
    values: dict[str, set[str]] = field(default_factory=dict)

    def add(self, labels: dict[str, str], edges: Iterable[float] = ()) -> None:
        for label, value in labels.items():
            self.labels.add(label)
            seen = self.values.setdefault(label, set())
            if len(seen) < MAX_VALUES:
                seen.add(value)
        self.edges.update(e for e in edges if e != float("inf"))

    def freeze(self) -> Family:
        return Family(
            name=self.name, kind=self.kind, labels=frozenset(self.labels), edges=tuple(sorted(self.edges)),
            values=tuple((label, tuple(sorted(seen))) for label, seen in sorted(self.values.items())),
        )  # fmt: skip
