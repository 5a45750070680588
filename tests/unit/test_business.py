"""Business metrics declared in stack.yaml: ratio alerts, generated tests and dashboard panels."""

from __future__ import annotations

import pytest

from stack import conventions as c
from stack.builders.business import business_alerts, business_panels
from stack.builders.dashboards import build_dashboards
from stack.builders.rule_tests import build_rule_tests
from stack.builders.rules import build_rule_files
from stack.config import load_settings

STACK = """\
services:
  - name: shop
    business:
      metrics:
        - name: payments_total
          type: counter
          title: Payments
          labels: {method: [card, cash], outcome: [ok, declined]}
        - {name: carts_open, type: gauge, title: Open carts}
        - {name: checkout_seconds, type: histogram, title: Checkout time, unit: s}
      alerts:
        - name: PaymentsDeclined
          metric: payments_total
          matchers: {method: card}
          failure: {outcome: declined}
          above: 0.2
          for: 15m
          min_rate: 0.5
"""


@pytest.fixture
def settings(make_project):
    return load_settings(make_project(STACK))


def test_ratio_alert_uses_declared_matchers_threshold_and_for(settings) -> None:
    """The alert divides failures by all events of the same matchers and applies threshold, guard and for."""
    (alert,) = business_alerts(settings, settings.services[0])
    assert alert.alert == "PaymentsDeclined"
    assert alert.for_ == "15m"
    assert 'payments_total{service="shop",method="card",outcome="declined"}' in alert.expr
    assert ') > 0.2 and on (service) sum by (service) (rate(payments_total{service="shop",method="card"}[5m]))' in (
        alert.expr
    )
    assert alert.expr.endswith("> 0.5")
    assert alert.annotations["dashboard_url"].endswith(f"viewPanel={c.PANEL_IDS['business']}")


def test_business_alert_is_in_the_service_rule_file_and_tested(settings) -> None:
    """The alert lands in the service's alert group, and promtool tests cover firing and silence."""
    alerts = {a.alert for a in build_rule_files(settings)["shop.rules.yml"].alerts()}
    assert "PaymentsDeclined" in alerts
    tests = build_rule_tests(settings)["shop.test.yml"]
    checks = [t for g in tests.tests for t in g.alert_rule_test if t.alertname == "PaymentsDeclined"]
    assert any(t.exp_alerts for t in checks)
    assert any(not t.exp_alerts for t in checks)
    series = [s.series for g in tests.tests for s in g.input_series if "payments_total" in s.series]
    assert any('outcome="ok"' in s for s in series)


def test_panels_follow_metric_types(settings) -> None:
    """Counters are drawn as rates by label, gauges as levels, histograms as p50/p95."""
    specs = {p.title: p for p in business_panels(settings.services[0])}
    assert "sum by (method, outcome) (rate(payments_total" in specs["Payments /s"].queries[0][0]
    assert specs["Open carts"].queries[0][0].startswith("sum by (service) (carts_open")
    assert [legend for _, legend in specs["Checkout time"].queries] == ["p50", "p95"]
    assert specs["Checkout time"].unit == "s"


def test_dashboard_gets_a_business_row_with_the_linked_panel_id(settings) -> None:
    """The service dashboard has a Business row whose first panel has the id alerts link to."""
    board = build_dashboards(settings)[c.dashboard_name("shop")]
    titles = {p["title"]: p for p in board["panels"]}
    assert "Business" in titles
    assert titles["Payments /s"]["id"] == c.PANEL_IDS["business"]


def test_no_business_row_without_declarations(make_project) -> None:
    """A service without business metrics gets no empty Business row."""
    settings = load_settings(make_project())
    board = build_dashboards(settings)[c.dashboard_name("orders")]
    assert "Business" not in {p["title"] for p in board["panels"]}
