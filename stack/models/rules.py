"""Prometheus rule files and promtool unit-test files."""

from __future__ import annotations

from pydantic import Field

from stack.models import ConfigModel


class RecordingRule(ConfigModel):
    record: str
    expr: str
    labels: dict[str, str] | None = None


class AlertingRule(ConfigModel):
    alert: str
    expr: str
    for_: str | None = Field(default=None, alias="for")
    labels: dict[str, str]
    annotations: dict[str, str]


class RuleGroup(ConfigModel):
    name: str
    interval: str | None = None
    rules: tuple[RecordingRule | AlertingRule, ...]


class RuleFile(ConfigModel):
    groups: tuple[RuleGroup, ...]

    def alerts(self) -> tuple[AlertingRule, ...]:
        return tuple(r for g in self.groups for r in g.rules if isinstance(r, AlertingRule))

    def records(self) -> tuple[RecordingRule, ...]:
        return tuple(r for g in self.groups for r in g.rules if isinstance(r, RecordingRule))


class InputSeries(ConfigModel):
    series: str
    values: str


class ExpectedAlert(ConfigModel):
    exp_labels: dict[str, str]
    exp_annotations: dict[str, str] | None = None


class AlertRuleTest(ConfigModel):
    eval_time: str
    alertname: str
    exp_alerts: tuple[ExpectedAlert, ...] = ()


class ExpectedSample(ConfigModel):
    labels: str
    value: float


class PromqlExprTest(ConfigModel):
    expr: str
    eval_time: str
    exp_samples: tuple[ExpectedSample, ...] = ()


class TestGroup(ConfigModel):
    interval: str
    input_series: tuple[InputSeries, ...]
    alert_rule_test: tuple[AlertRuleTest, ...] = ()
    promql_expr_test: tuple[PromqlExprTest, ...] = ()


class RuleTestFile(ConfigModel):
    rule_files: tuple[str, ...]
    evaluation_interval: str
    group_eval_order: tuple[str, ...] | None = None
    tests: tuple[TestGroup, ...]
