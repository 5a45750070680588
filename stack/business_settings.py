"""A service's business metrics and their alerts (`services[].business` in stack.yaml)."""

from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from stack.conventions import BUILT_IN_ALERTS
from stack.durations import Duration
from stack.errors import shown
from stack.setting_base import (
    ALERT_NAME_RE,
    LABEL_NAME_RE,
    LABEL_VALUE_RE,
    METRIC_NAME_RE,
    RESERVED_LABELS,
    TITLE_RE,
    UNIT_RE,
    Frozen,
    Ratio,
)


class BusinessMetric(Frozen):
    """A metric the app exposes beyond HTTP, with its bounded label values (others become `other`)."""

    name: str
    type: Literal["counter", "gauge", "histogram"]
    title: str
    unit: str = "short"
    labels: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _valid(self) -> Self:
        if not METRIC_NAME_RE.match(self.name) or (self.type == "counter") != self.name.endswith("_total"):
            raise ValueError(
                f"name must be a Prometheus metric name, ending in _total exactly for counters, got {shown(self.name)}"
            )
        if not TITLE_RE.match(self.title) or not UNIT_RE.match(self.unit):
            raise ValueError(f"title and unit must be plain text, got {shown(self.title)} and {shown(self.unit)}")
        for key, values in self.labels.items():
            if not LABEL_NAME_RE.match(key) or key in RESERVED_LABELS or not values:
                raise ValueError(f"label {shown(key)} must be a non-reserved label name with at least one value")
            bad = [v for v in values if not LABEL_VALUE_RE.match(v)]
            if bad:
                raise ValueError(f"label {key} values must be plain text, got {shown(bad)}")
        return self


class BusinessAlert(Frozen):
    """Alert when the share of `metric` events matching `failure` exceeds `above` (for example payment failures)."""

    name: str
    metric: str
    failure: dict[str, str]
    matchers: dict[str, str] = Field(default_factory=dict)
    above: Ratio
    for_: Duration = Field(default=Duration.parse("10m"), alias="for")
    severity: Literal["warning", "critical"] = "warning"
    min_rate: Annotated[float, Field(ge=0)] = 0.0

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not ALERT_NAME_RE.match(value):
            raise ValueError(f"must be an alert name in CamelCase such as PaymentFailuresHigh, got {shown(value)}")
        return value


class Business(Frozen):
    metrics: tuple[BusinessMetric, ...] = ()
    alerts: tuple[BusinessAlert, ...] = ()

    @model_validator(mode="after")
    def _alerts_use_declared_metrics(self) -> Self:
        declared = {m.name: m for m in self.metrics}
        if len(declared) < len(self.metrics):
            twice = next(m.name for i, m in enumerate(self.metrics) if m.name in [n.name for n in self.metrics[:i]])
            raise ValueError(f"metrics: {twice!r} is declared twice, expected each business metric once")
        names = [a.name for a in self.alerts]
        for index, alert in enumerate(self.alerts):
            if alert.name in BUILT_IN_ALERTS or names.count(alert.name) > 1:
                raise ValueError(f"alerts[{index}].name: {alert.name!r} is already an alert name")
            metric = declared.get(alert.metric)
            if metric is None or metric.type == "gauge":
                raise ValueError(
                    f"alerts[{index}].metric: must name a declared counter or histogram, got {alert.metric!r}"
                )
            for key, value in {**alert.matchers, **alert.failure}.items():
                if value not in metric.labels.get(key, ()):
                    raise ValueError(
                        f"alerts[{index}]: {key}={shown(value)} is not a declared value of {metric.name} label {key}"
                    )
            if not alert.failure or not any(len(metric.labels[k]) > 1 for k in alert.failure):
                raise ValueError(f"alerts[{index}].failure: needs a label with another (non-failure) value")
        return self
