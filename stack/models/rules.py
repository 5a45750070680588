"""Prometheus rule files and promtool unit-test files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

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
    GROUPS_AT: ClassVar[tuple[str, ...]] = ("groups",)  # where a document holds its rule groups (render)

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


def _fields(model: ConfigModel) -> dict[str, Any]:
    return model.__dict__


def _set_fields(model: ConfigModel) -> dict[str, Any]:
    return {name: value for name, value in model.__dict__.items() if value is not None}


def _dumped(model: ConfigModel) -> dict[str, Any]:
    return model.to_data()


# The promtool test models as the block writer reads them, in place of dumping them first: what `to_data()` gives
# (no field has an alias; strings, string dicts and tuples are the same in JSON mode; None fields are left out),
# read from the fields as they are. A float (an expected sample's value) goes through `to_data()` as it is.
TEST_VIEWS: dict[type, Callable[[Any], dict[str, Any]]] = {
    RuleTestFile: _set_fields,
    TestGroup: _fields,
    InputSeries: _fields,
    AlertRuleTest: _fields,
    ExpectedAlert: _set_fields,
    PromqlExprTest: _fields,
    ExpectedSample: _dumped,
}


def _alerting_rule(rule: AlertingRule) -> dict[str, Any]:
    """An alerting rule's fields as dumped: `for_` by its alias, left out when unset."""
    fields: dict[str, Any] = {"alert": rule.alert, "expr": rule.expr}
    if rule.for_ is not None:
        fields["for"] = rule.for_
    fields["labels"], fields["annotations"] = rule.labels, rule.annotations
    return fields


# The rule files' models likewise (their groups are written once, then placed in alerts/, the PrometheusRules and
# Mimir's namespaces).
RULE_VIEWS: dict[type, Callable[[Any], dict[str, Any]]] = {
    RuleFile: _fields,
    RuleGroup: _set_fields,
    RecordingRule: _set_fields,
    AlertingRule: _alerting_rule,
}
