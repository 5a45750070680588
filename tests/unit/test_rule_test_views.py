"""render: rule and promtool test files are written from their models as the block writer reads them (RULE_VIEWS,
TEST_VIEWS), with the bytes of their dumped data."""

from __future__ import annotations

from stack.builders.rule_tests import build_rule_tests
from stack.builders.rules import build_rule_files
from stack.config import load_settings
from stack.models import rules as m
from stack.render import _BLOCK, to_yaml

TWO_SERVICES = "project: demo\nservices:\n  - name: orders\n  - {name: billing, port: 8001}\n"


def test_generated_test_files_as_their_data(make_project) -> None:
    """Every generated promtool test file gives the same text from its model as from `to_data()`."""
    files = build_rule_tests(load_settings(make_project(TWO_SERVICES)))
    assert files
    for test_file in files.values():
        assert to_yaml(test_file) == to_yaml(test_file.to_data())


def test_every_test_model_and_unset_fields_as_their_data() -> None:
    """Unset optional fields are left out, an expected sample's float (infinite too) is dumped, and a multi-line
    string (left to PyYAML) is written from the same data."""
    check = m.AlertRuleTest(eval_time="1m", alertname="A", exp_alerts=(m.ExpectedAlert(exp_labels={"a": "b"}),))
    sample = m.PromqlExprTest(
        expr="up", eval_time="1m", exp_samples=(m.ExpectedSample(labels="up", value=float("inf")),)
    )
    for values in ("0+1x3", "0\n1"):
        group = m.TestGroup(
            interval="1m",
            input_series=(m.InputSeries(series="up", values=values),),
            alert_rule_test=(check,),
            promql_expr_test=(sample,),
        )
        test_file = m.RuleTestFile(rule_files=("a.yml",), evaluation_interval="1m", tests=(group,))
        assert to_yaml(test_file) == to_yaml(test_file.to_data())


def test_rule_files_and_their_groups_as_their_data(make_project) -> None:
    """Every generated rule file, and each of its groups as a list item, gives the same text from its model as from
    `to_data()`: `for` by its alias, unset `for`, labels and interval left out."""
    files = build_rule_files(load_settings(make_project(TWO_SERVICES)))
    extra = m.RuleFile(
        groups=(
            m.RuleGroup(
                name="g",
                interval="1m",
                rules=(
                    m.RecordingRule(record="r", expr="up", labels={"a": "b"}),
                    m.AlertingRule(alert="A", expr="up == 0", labels={}, annotations={}),
                ),
            ),
        )
    )
    for rule_file in (*files.values(), extra):
        assert to_yaml(rule_file) == to_yaml(rule_file.to_data())
        for group, data in zip(rule_file.groups, rule_file.to_data()["groups"], strict=True):
            assert _BLOCK.item(group) == _BLOCK.item(data)
