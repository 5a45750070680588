"""The metric and label names of a `metrics_convention: custom` service (`metric_names`, `metric_labels`)."""

from typing import Self

from pydantic import field_validator, model_validator

from stack import conventions as c
from stack.errors import shown
from stack.setting_base import METRIC_LABEL_RE, METRIC_NAME_RE, RESERVED_LABELS, Frozen


class MetricNames(Frozen):
    """The metric names of a `metrics_convention: custom` service (as Prometheus has them)."""

    requests: str  # a counter of requests: `<name>_total`, or the duration histogram's `<duration>_count`
    duration: str  # the latency histogram in seconds, without _bucket
    inprogress: str | None = None  # a gauge of requests in flight, when the service has one

    @field_validator("requests", "duration", "inprogress")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not METRIC_NAME_RE.fullmatch(value):
            raise ValueError(f"must be a Prometheus metric name ([a-zA-Z_][a-zA-Z0-9_]*), got {shown(value)}")
        return value

    @model_validator(mode="after")
    def _suffixes(self) -> Self:
        if not (self.requests.endswith(c.COUNTER_SUFFIX) or self.requests == f"{self.duration}_count"):
            raise ValueError(
                f"requests: {self.requests!r} is a counter, expected a name ending in _total "
                f"(or {self.duration}_count, the duration histogram's count)"
            )
        for key in ("duration", "inprogress"):
            name = getattr(self, key)
            suffixes = (c.COUNTER_SUFFIX, *c.HISTOGRAM_SERIES_SUFFIXES)
            wrong = next((s for s in suffixes if name and name.endswith(s)), None)
            if wrong:
                kind = "a histogram (named without _bucket)" if key == "duration" else "a gauge"
                raise ValueError(f"{key}: {name!r} ends in {wrong} but is {kind}, expected a name without it")
        given = [n for n in (self.requests, self.duration, self.inprogress) if n]
        if len(set(given)) < len(given):
            raise ValueError("requests, duration and inprogress must be three different metrics")
        return self


class MetricLabels(Frozen):
    """The label names of a `metrics_convention: custom` service's HTTP metrics."""

    route: str  # the route template (never a raw path)
    method: str = "method"
    status: str = "status"  # grouped (5xx) or raw (503) status codes alike

    @field_validator("route", "method", "status")
    @classmethod
    def _label(cls, value: str) -> str:
        if not METRIC_LABEL_RE.fullmatch(value) or value.startswith("__"):
            raise ValueError(f"must be a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*), got {shown(value)}")
        if value in RESERVED_LABELS:
            raise ValueError(f"{shown(value)} is a label obsstack sets itself, expected another label name")
        return value

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        for first, second in (("route", "status"), ("route", "method"), ("method", "status")):
            if getattr(self, first) == getattr(self, second):
                raise ValueError(
                    f"{first} and {second} are both {getattr(self, first)!r}, expected two different label names"
                )
        return self
