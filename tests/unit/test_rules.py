"""Rule builders: the built objects carry the configured thresholds, labels and links."""

from __future__ import annotations

import re

import pytest

from stack import conventions as c
from stack.builders import promql
from stack.builders.alertmanager import build_alertmanager
from stack.builders.prometheus import build_prometheus
from stack.builders.rule_tests import build_rule_tests
from stack.builders.rules import build_rule_files
from stack.config import load_settings

STACK = """\
project: demo
services:
  - name: orders
    host: app
    port: 8080
    metrics_token_file: secrets/token
    labels: {team: checkout}
    latency: {warning: 0.25, critical: 1.0}
    error_rate: {warning: 0.02, critical: 0.1, min_request_rate: 0.5}
    db_pool: {warning: 0.7, critical: 0.9}
    slo: {objective: 0.995}
  - name: billing
"""


@pytest.fixture
def settings(make_project):
    return load_settings(make_project(STACK))


def alerts_of(settings, service: str) -> dict[tuple[str, str], object]:
    rule_file = build_rule_files(settings)[c.rules_file(service)]
    return {(a.alert, a.labels.get("burnrate_tier", a.labels["severity"])): a for a in rule_file.alerts()}


def test_every_alert_has_severity_service_and_annotations(settings) -> None:
    """Each alert has severity and service labels and summary, description, runbook and dashboard links."""
    for rule_file in build_rule_files(settings).values():
        for alert in rule_file.alerts():
            assert alert.labels["severity"] in {"critical", "warning", "none"}
            assert set(alert.annotations) == {"summary", "description", "runbook_url", "dashboard_url"}
            assert alert.annotations["runbook_url"].endswith(f"/{alert.alert}.md")
            if alert.alert not in {c.ALERT_TARGET_DOWN}:
                assert c.SERVICE_LABEL in alert.labels


def test_thresholds_come_from_settings(settings) -> None:
    """Latency, error and pool thresholds in the expressions are the per-service settings."""
    alerts = alerts_of(settings, "orders")
    assert alerts[(c.ALERT_LATENCY, "warning")].expr.endswith("> 0.25")
    assert alerts[(c.ALERT_LATENCY, "critical")].expr.endswith("> 1")
    assert "> 0.02 and on (service)" in alerts[(c.ALERT_ERRORS, "warning")].expr
    assert alerts[(c.ALERT_ERRORS, "warning")].expr.endswith("> 0.5")
    assert alerts[(c.ALERT_POOL, "critical")].expr.endswith("> 0.9")
    billing = alerts_of(settings, "billing")
    assert billing[(c.ALERT_LATENCY, "warning")].expr.endswith("> 0.2")


def test_for_durations_come_from_the_profile(make_project) -> None:
    """`for:` follows the timing profile: 5m in production, 10s in fast."""
    config = make_project(STACK)
    prod = alerts_of(load_settings(config, {"profile": "production"}), "orders")
    fast = alerts_of(load_settings(config, {"profile": "fast"}), "orders")
    assert prod[(c.ALERT_LATENCY, "warning")].for_ == "5m"
    assert fast[(c.ALERT_LATENCY, "warning")].for_ == "10s"
    assert "[5m]" in build_rule_files(load_settings(config))[c.rules_file("orders")].records()[0].expr
    assert "[30s]" in build_rule_files(load_settings(config, {"profile": "fast"}))["orders.rules.yml"].records()[0].expr


def test_burn_rate_tiers_multiwindow(settings) -> None:
    """Four tiers with the workbook factors and windows, both windows required, labelled by tier."""
    alerts = alerts_of(settings, "orders")
    page = alerts[(c.ALERT_BURN, "page_fast")]
    assert page.labels["severity"] == "critical"
    assert "ratio_rate1h" in page.expr
    assert "ratio_rate5m" in page.expr
    assert " and " in page.expr
    assert "/ 0.005) > 14.4" in page.expr
    assert "ratio_rate3d" in alerts[(c.ALERT_BURN, "ticket_slow")].expr
    assert alerts[(c.ALERT_BURN, "ticket_slow")].labels["severity"] == "warning"


def test_burn_tier_can_be_switched_off(make_project) -> None:
    """A disabled tier produces no alert and no test."""
    settings = load_settings(make_project(STACK + "burn_rate_tiers: {ticket_slow: {enabled: false}}\n"))
    alerts = alerts_of(settings, "orders")
    assert (c.ALERT_BURN, "ticket_slow") not in alerts
    assert (c.ALERT_BURN, "ticket_fast") in alerts
    tests = build_rule_tests(settings)["orders.slo.test.yml"]
    tiers = {e.exp_labels.get("burnrate_tier") for g in tests.tests for t in g.alert_rule_test for e in t.exp_alerts}
    assert "ticket_slow" not in tiers


def test_fast_profile_scales_burn_windows(make_project) -> None:
    """With a 12h SLO window, the 1h/5m page tier becomes 1m/5s."""
    alerts = alerts_of(load_settings(make_project(STACK), {"profile": "fast"}), "orders")
    expr = alerts[(c.ALERT_BURN, "page_fast")].expr
    assert "ratio_rate1m" in expr
    assert "ratio_rate5s" in expr


def test_error_ratio_is_zero_not_empty_without_errors() -> None:
    """The error ratio falls back to 0 * total when no 5xx series exists yet."""
    from stack.settings import Service

    expr = promql.error_ratio(Service(name="orders"), _five(), ("service",))
    assert " or " in expr
    assert "* 0" in expr
    assert 'status=~"5.."' in expr


def _five():
    from stack.durations import Duration

    return Duration.parse("5m")


def test_selectors_escape_label_values() -> None:
    """A value with quotes and backslashes stays inside its PromQL string literal."""
    assert promql.selector("m", service='a"} or vector(1) #\\') == 'm{service="a\\"} or vector(1) #\\\\"}'


def test_scrape_config_per_service(settings) -> None:
    """Each service is a job scraping host:port with its labels and optional bearer token file."""
    config = build_prometheus(settings)
    jobs = {j.job_name: j for j in config.scrape_configs}
    orders = jobs["orders"]
    assert orders.static_configs[0].targets == ("app:8080",)
    assert orders.static_configs[0].labels == {"service": "orders", "team": "checkout"}
    assert orders.authorization is not None
    assert orders.authorization.credentials_file == "../../secrets/token"
    assert jobs["billing"].authorization is None
    assert {"prometheus", "alertmanager", "grafana", "loki", "tempo", "otelcol"} <= set(jobs)
    assert config.rule_files == ("../../alerts/*.rules.yml",)
    assert config.global_.scrape_interval == "15s"


def test_prometheus_config_uses_no_prometheus3_only_keys(settings) -> None:
    """Keys that promtool 2.42 rejects never appear in the dumped config."""
    dumped = repr(build_prometheus(settings).to_data())
    for key in ("otlp", "scrape_config_files", "scrape_protocols", "query_offset"):
        assert key not in dumped


def test_no_rule_selects_integer_le(settings) -> None:
    """No expression selects le="1" (Prometheus 3 writes "1.0")."""
    for rule_file in build_rule_files(settings).values():
        for rule in (*rule_file.records(), *rule_file.alerts()):
            assert not re.search(r'le\s*=~?\s*"', rule.expr)


def test_alertmanager_routing_and_inhibition(settings) -> None:
    """Grouped by alertname and service; Watchdog has its own receiver; critical inhibits warning."""
    config = build_alertmanager(settings)
    assert config.route.group_by == ("alertname", "service")
    routes = config.route.routes or ()
    assert routes[0].receiver == "watchdog"
    assert routes[0].matchers == ('alertname="Watchdog"',)
    assert {r.receiver for r in routes} == {"watchdog", "critical", "warning"}
    first = config.inhibit_rules[0]
    assert first.source_matchers == ('severity="critical"',)
    assert first.equal == ("alertname", "service")
    burn = [r for r in config.inhibit_rules if any("page_fast" in m for m in r.source_matchers)]
    assert burn
    assert 'burnrate_tier=~"page_slow|ticket_fast|ticket_slow"' in burn[0].target_matchers


def test_dashboard_links_point_at_the_service_panel(settings) -> None:
    """dashboard_url names the service's dashboard UID and the panel of the alert's signal."""
    alerts = alerts_of(settings, "orders")
    url = alerts[(c.ALERT_LATENCY, "warning")].annotations["dashboard_url"]
    assert c.stable_uid(c.dashboard_name("orders")) in url
    assert url.endswith(f"viewPanel={c.PANEL_IDS['latency']}")
