"""render: each runbook entry is worked out from its alerting rule before the template lays it out."""

from __future__ import annotations

from stack.models.rules import AlertingRule
from stack.render import runbook_entry


def _rule(labels: dict[str, str], for_: str | None) -> AlertingRule:
    annotations = {"summary": "orders is slow", "dashboard_url": "http://grafana/d/x"}
    return AlertingRule(alert="HighLatencyP95", expr="up == 0", for_=for_, labels=labels, annotations=annotations)


def test_entry_names_service_severity_tier_and_duration() -> None:
    """A service's burn-tier rule with `for:` names all three in its heading and says how long it must hold."""
    rule = _rule({"service": "orders", "severity": "critical", "burnrate_tier": "page"}, "5m")
    heading, summary, expr, held_for, dashboard = runbook_entry(rule)
    assert heading == "orders: severity critical, tier page"
    assert (summary, expr, held_for, dashboard) == ("orders is slow", "up == 0", " for 5m", "http://grafana/d/x")


def test_entry_of_a_stack_wide_rule_without_for() -> None:
    """A rule without a service label is about all services; without `for:` nothing follows the expression."""
    heading, _, _, held_for, _ = runbook_entry(_rule({"severity": "none"}, None))
    assert (heading, held_for) == ("all services: severity none", "")
