"""The catalogue of alerts: complete, linked to real panels, and the one source of rules, tests and links."""

from __future__ import annotations

import pytest

from stack import conventions as c
from stack.builders.catalogue import CATALOGUE, SERVICE_ALERTS, STACK_ALERTS, fault_alerts, panels
from stack.builders.rule_tests import build_rule_tests
from stack.builders.rules import build_rule_files
from stack.config import load_settings

STACK = """\
project: demo
services:
  - name: shop
    db_pool: {warning: 0.7, critical: 0.9}
    business:
      metrics:
        - name: payments_total
          type: counter
          title: Payments
          labels: {outcome: [ok, declined]}
      alerts:
        - {name: PaymentsDeclined, metric: payments_total, failure: {outcome: declined}, above: 0.2}
  - name: billing
    port: 8001
    restarts: {enabled: false}
"""


@pytest.fixture
def settings(make_project):
    return load_settings(make_project(STACK))


def test_catalogue_names_are_the_built_in_alerts() -> None:
    """Every built-in alert name has exactly one catalogue entry and every entry is a built-in name, so an
    alert cannot be half-added."""
    names = [kind.name for kind in CATALOGUE]
    assert len(names) == len(set(names))
    assert set(names) == c.BUILT_IN_ALERTS


def test_every_panel_is_a_dashboard_panel() -> None:
    """A service alert links a panel of PANEL_IDS; only stack-wide alerts have none (they link the overview)."""
    assert all(kind.panel in c.PANEL_IDS for kind in SERVICE_ALERTS)
    assert all(alert.panel is None for alert in STACK_ALERTS)


def test_every_generated_alert_has_a_panel_entry(settings) -> None:
    """The links pass knows every alert the rules contain, business alerts included."""
    known = panels(settings)
    for rule_file in build_rule_files(settings).values():
        assert {a.alert for a in rule_file.alerts()} <= set(known)
    assert known["PaymentsDeclined"] == "business"


def test_every_generated_alert_is_tested_firing(settings) -> None:
    """For each service, the promtool tests expect every alert of its rule file to fire, and no other."""
    tests = build_rule_tests(settings)
    for service in ("shop", "billing"):
        rules = {a.alert for a in build_rule_files(settings)[c.rules_file(service)].alerts()}
        files = [tests[c.rules_test_file(c.rules_file(service))], tests[c.slo_test_file(c.rules_file(service))]]
        fired = {t.alertname for f in files for g in f.tests for t in g.alert_rule_test if t.exp_alerts}
        assert fired == rules, service
    assert c.ALERT_RESTARTS not in {a.alert for a in build_rule_files(settings)["billing.rules.yml"].alerts()}


def test_expected_links_are_the_rules_links(settings) -> None:
    """An expected alert in the promtool tests carries the same runbook and dashboard links as its rule."""
    links = {
        (a.alert, a.labels.get(c.SERVICE_LABEL)): (a.annotations["runbook_url"], a.annotations["dashboard_url"])
        for rule_file in build_rule_files(settings).values()
        for a in rule_file.alerts()
    }
    expected = [
        (check.alertname, e)
        for test_file in build_rule_tests(settings).values()
        for group in test_file.tests
        for check in group.alert_rule_test
        for e in check.exp_alerts
    ]
    assert len(expected) > 20
    for name, alert in expected:
        service = None if name == c.ALERT_TARGET_DOWN else alert.exp_labels.get(c.SERVICE_LABEL)
        annotations = alert.exp_annotations or {}
        assert (annotations["runbook_url"], annotations["dashboard_url"]) == links[(name, service)], name


def test_stack_wide_alerts_link_the_overview(settings) -> None:
    """TargetDown and Watchdog link the overview dashboard, not a service's panel."""
    platform = build_rule_files(settings)[c.PLATFORM_RULES_FILE].alerts()
    assert [a.alert for a in platform] == [alert.name for alert in STACK_ALERTS]
    for alert in platform:
        assert alert.annotations["dashboard_url"].endswith(f"/d/{c.stable_uid('overview')}/overview")


def test_verify_faults_expect_what_the_catalogue_says(make_project) -> None:
    """Each fault of verify must fire the alerts whose kind names it, may fire the side effects, and waits
    for all but the lingering burn alert to resolve; a disabled alert is not expected."""
    settings = load_settings(make_project(STACK))
    shop, billing = settings.services
    expected = fault_alerts(settings, shop)
    assert expected["latency"] == c.FaultAlerts(frozenset({c.ALERT_LATENCY}), frozenset(), frozenset({c.ALERT_LATENCY}))
    assert expected["db_pool"].required == {c.ALERT_POOL}
    assert expected["db_pool"].allowed == {c.ALERT_POOL_WAITING, c.ALERT_TRAFFIC_DROP}
    assert expected["errors"].required == {c.ALERT_ERRORS, c.ALERT_BURN}
    assert expected["errors"].must_resolve == {c.ALERT_ERRORS}
    assert fault_alerts(settings, billing)["db_pool"].required == frozenset()  # no pool, no pool alert
    quiet = load_settings(make_project("services: [{name: api, latency: {enabled: false}}]\n"))
    assert fault_alerts(quiet, quiet.services[0])["latency"].required == frozenset()
