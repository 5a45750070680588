"""The small helpers that let the rule and promtool-test builders do each piece of work once."""

from __future__ import annotations

import json

import pytest

from stack import conventions as c
from stack.builders import promql, series
from stack.builders.alerts_slo import tier_windows
from stack.builders.annotations import Linker, add_expected_links, add_links, link_annotations
from stack.builders.catalogue import panels
from stack.builders.rule_test_kit import quiet
from stack.config import load_settings
from stack.durations import Duration
from stack.models import rules as m

STACK = """\
project: demo
services:
  - name: shop
  - name: billing
    port: 8001
"""


@pytest.fixture
def settings(make_project):
    return load_settings(make_project(STACK))


def test_duration_parse_is_the_same_every_time_and_refuses_every_time() -> None:
    """A duration text parsed again gives the same value; a refused text is refused again (not remembered)."""
    assert Duration.parse("1h30m") == Duration.parse(" 1h30m ") == Duration(90 * 60 * 1000)
    for _ in range(2):
        with pytest.raises(ValueError, match="Prometheus duration"):
            Duration.parse("5 minutes")
        with pytest.raises(ValueError, match="at most 3650d"):
            Duration.parse("9999d")


def test_tier_windows_are_the_tiers_scaled_windows() -> None:
    """tier_windows is BurnTierSpec.scaled, for every tier and a few SLO windows."""
    for tier in c.BURN_TIERS:
        for window in (Duration.parse("30d"), Duration.parse("7d"), Duration.parse("1h")):
            assert tier_windows(tier, window) == tier.scaled(window)


def test_linker_gives_link_annotations_once_per_alert_and_service(settings) -> None:
    """The Linker answers what link_annotations answers, for service and stack-wide alerts alike."""
    known = panels(settings)
    links = Linker(settings, known)
    for alert in (c.ALERT_LATENCY, c.ALERT_ERRORS, c.ALERT_TARGET_DOWN):
        for service in ("shop", "billing"):
            labels = {c.SERVICE_LABEL: service, "severity": "warning"}
            assert links(alert, labels) == link_annotations(settings, alert, labels, known)
            assert links(alert, {**labels, "severity": "critical"}) is links(alert, labels)
    assert links(c.ALERT_LATENCY, {c.SERVICE_LABEL: "shop"}) != links(c.ALERT_LATENCY, {c.SERVICE_LABEL: "billing"})


def test_expected_links_pass_links_expected_alerts_and_keeps_silent_groups(settings) -> None:
    """Expected alerts with annotations get the links; a group of silent checks is the same object after the
    pass, and an expected alert without annotations is left as it is."""
    labels = {c.SERVICE_LABEL: "shop", "severity": "warning"}
    texts = {"summary": "s", "description": "d"}
    series = (m.InputSeries(series='up{service="shop"}', values="1+0x3"),)
    quiet = m.TestGroup(
        interval="15s", input_series=series, alert_rule_test=(m.AlertRuleTest(eval_time="1m", alertname="X"),)
    )
    bare = m.ExpectedAlert(exp_labels=labels)
    loud = m.TestGroup(
        interval="15s",
        input_series=series,
        alert_rule_test=(
            m.AlertRuleTest(
                eval_time="1m",
                alertname=c.ALERT_LATENCY,
                exp_alerts=(m.ExpectedAlert(exp_labels=labels, exp_annotations=texts), bare),
            ),
        ),
    )
    test_file = m.RuleTestFile(rule_files=("x.yml",), evaluation_interval="15s", tests=(quiet, loud))
    links = Linker(settings, panels(settings))
    linked = add_expected_links(links, test_file)
    assert linked.tests[0] is quiet
    linked_alert, kept = linked.tests[1].alert_rule_test[0].exp_alerts
    assert linked_alert.exp_annotations == {**texts, **links(c.ALERT_LATENCY, labels)}
    assert kept is bare


def test_promql_quote_is_json_quoting_for_every_value() -> None:
    """quote's fast path for plain values writes what json.dumps writes; other values go through json.dumps."""
    for value in ("svc0", "", "/orders", 'a"b', "a\\b", "é", "\x7f", "\x01", "tab\t", "日本", "x}{y"):
        assert promql.quote(value) == json.dumps(value), value


def test_series_texts_do_not_depend_on_how_segments_are_passed() -> None:
    """counter and gauge give the same text for a list or a tuple of segments, every time."""
    segments = [(3, 10.0), (2, None), (2, 0.0)]
    assert series.counter(segments) == series.counter(tuple(segments)) == "0 10+10x2 _x2 30+0x1"
    assert series.gauge([(2, 1), (3, 0.5)]) == series.gauge(((2, 1.0), (3, 0.5))) == "1+0x1 0.5+0x2"


def test_a_silent_check_is_one_shared_value() -> None:
    """quiet gives one frozen check per (alert, time), with no expected alerts."""
    check = quiet("X", Duration.parse("5m"))
    assert check is quiet("X", Duration.parse("5m"))
    assert (check.eval_time, check.alertname, check.exp_alerts) == ("5m", "X", ())


def test_links_passes_rebuild_every_field_of_what_they_rebuild() -> None:
    """The links passes build a linked model from the old one's fields by name: these are all the fields
    (a new field must be added to annotations.add_links / add_expected_links too)."""
    assert set(m.RuleFile.model_fields) == {"groups"}
    assert set(m.RuleGroup.model_fields) == {"name", "interval", "rules"}
    assert set(m.AlertingRule.model_fields) == {"alert", "expr", "for_", "labels", "annotations"}
    assert set(m.RuleTestFile.model_fields) == {"rule_files", "evaluation_interval", "group_eval_order", "tests"}
    assert set(m.TestGroup.model_fields) == {"interval", "input_series", "alert_rule_test", "promql_expr_test"}
    assert set(m.AlertRuleTest.model_fields) == {"eval_time", "alertname", "exp_alerts"}
    assert set(m.ExpectedAlert.model_fields) == {"exp_labels", "exp_annotations"}


def test_links_passes_keep_the_other_fields(settings) -> None:
    """Everything but the annotations comes out of the passes as it went in."""
    links = Linker(settings, panels(settings))
    labels = {c.SERVICE_LABEL: "shop", "severity": "warning"}
    rule = m.AlertingRule(alert=c.ALERT_LATENCY, expr="x > 1", for_="5m", labels=labels, annotations={"summary": "s"})
    record = m.RecordingRule(record="r", expr="y")
    rule_file = m.RuleFile(
        groups=(m.RuleGroup(name="a", interval="1m", rules=(record, rule)), m.RuleGroup(name="b", rules=(record,)))
    )
    linked = add_links(links, rule_file)
    expected = [
        {"record": "r", "expr": "y"},
        {**rule.to_data(), "annotations": {"summary": "s", **links(rule.alert, labels)}},
    ]
    assert linked.to_data()["groups"][0] == {"name": "a", "interval": "1m", "rules": expected}
    assert linked.groups[1] is rule_file.groups[1]
    check = m.AlertRuleTest(
        eval_time="1m", alertname=c.ALERT_LATENCY, exp_alerts=(m.ExpectedAlert(exp_labels=labels, exp_annotations={}),)
    )
    sample = m.PromqlExprTest(expr="up", eval_time="1m", exp_samples=(m.ExpectedSample(labels="up", value=1),))
    group = m.TestGroup(interval="30s", input_series=(), alert_rule_test=(check,), promql_expr_test=(sample,))
    test_file = m.RuleTestFile(rule_files=("f",), evaluation_interval="1m", group_eval_order=("a", "b"), tests=(group,))
    data = add_expected_links(links, test_file).to_data()
    data["tests"][0]["alert_rule_test"][0]["exp_alerts"][0]["exp_annotations"] = {}
    assert data == test_file.to_data()


def test_svc_is_a_selector_on_the_service_label() -> None:
    """svc's direct path for no other matcher writes what selector writes."""
    for service in ("shop", 'we"ird', "naïve"):
        assert promql.svc("up", service) == promql.selector("up", **{c.SERVICE_LABEL: service})
    assert promql.svc("x_total", "shop", route="/a") == 'x_total{service="shop",route="/a"}'


def test_error_ratio_of_a_service_is_the_same_at_every_window(settings) -> None:
    """ErrorRatio, whose selectors are written once, gives error_ratio's expression at each window and grouping."""
    ratio = promql.ErrorRatio(settings.services[0])
    for window in (Duration.parse("5m"), Duration.parse("1h")):
        for by in ((c.SERVICE_LABEL,), (c.SERVICE_LABEL, "handler")):
            assert ratio(window, by) == promql.error_ratio(settings.services[0], window, by)
    assert ratio(Duration.parse("5m"), ("service",)).startswith(
        '(sum by (service) (rate(http_requests_total{service="shop",'
    )
