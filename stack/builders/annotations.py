"""Alert annotations: texts written once and filled two ways, and the links pass.

Rules get Prometheus template expressions (`{{ $value | humanizePercentage }}`); the generated promtool
tests get the same sentence filled with Python ports of those functions, so both always agree.
runbook_url and dashboard_url are not part of any text: one pass adds them to the built rules and one to
the tests' expected alerts, both computed by `link_annotations` (like the kubernetes-mixin's runbook pass).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from stack import conventions as c
from stack.models.rules import AlertingRule, AlertRuleTest, ExpectedAlert, RuleFile, RuleGroup, RuleTestFile, TestGroup
from stack.settings import StackSettings

Panels = Mapping[str, str | None]  # alert name -> its dashboard panel (None: a stack-wide alert)


def humanize_duration(value: float) -> str:
    """Python port of Prometheus' humanizeDuration for the values alerts produce."""
    if math.isnan(value) or math.isinf(value):
        return f"{value:.4g}"
    if value == 0:
        return "0s"
    if abs(value) >= 1:
        return f"{value:.4g}s" if abs(value) < 60 else _long_duration(value)
    prefix = ""
    for unit in ("m", "u", "n", "p"):
        if abs(value) >= 1:
            break
        prefix, value = unit, value * 1000
    return f"{value:.4g}{prefix}s"


def _long_duration(value: float) -> str:
    seconds = int(value)
    days, hours, minutes, secs = seconds // 86400, seconds // 3600 % 24, seconds // 60 % 60, seconds % 60
    if days:
        return f"{days}d {hours}h {minutes}m {secs}s"
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    return f"{minutes}m {secs}s"


def humanize_percentage(value: float) -> str:
    return f"{value * 100:.4g}%"


def humanize(value: float) -> str:
    """Prometheus' humanize for plain counts below 1000."""
    return f"{value:.4g}"


def burn(value: float) -> str:
    return f"{value:.1f}"


FORMATS: dict[str, tuple[str, Callable[[float], str]]] = {
    "duration": ("{{ $value | humanizeDuration }}", humanize_duration),
    "percentage": ("{{ $value | humanizePercentage }}", humanize_percentage),
    "count": ("{{ $value | humanize }}", humanize),
    "burn": ('{{ $value | printf "%.1f" }}', burn),
    "rate": ('{{ $value | printf "%.3g" }}', lambda value: f"{value:.3g}"),
}


@dataclass(frozen=True)
class Texts:
    """summary and description with `{value}` and `{labels.x}` holes."""

    summary: str
    description: str
    value_format: str | None = None

    def for_rule(self) -> dict[str, str]:
        template = FORMATS[self.value_format][0] if self.value_format else ""
        return self._fill(template, "{{ $labels.job }}", "{{ $labels.instance }}")

    def expected(self, value: float | None, labels: dict[str, str]) -> dict[str, str]:
        shown = FORMATS[self.value_format][1](value) if self.value_format and value is not None else ""
        return self._fill(shown, labels.get("job", ""), labels.get("instance", ""))

    def _fill(self, value: str, job: str, instance: str) -> dict[str, str]:
        """The texts with their holes filled: the value, and the job and instance labels."""
        return {
            "summary": self.summary.format(value=value, job=job, instance=instance),
            "description": self.description.format(value=value, job=job, instance=instance),
        }


def links(settings: StackSettings, alert: str, service: str | None, panel: str | None) -> tuple[str, str]:
    runbook = c.runbook_url(settings.alerting.runbook_base_url, alert)
    return runbook, _dashboard_link(settings.alerting.grafana_url, service, panel)


def _dashboard_link(grafana_url: str, service: str | None, panel: str | None) -> str:
    """A service's dashboard panel (None: the overview). Called once per (alert, service) of a pass (Linker), and
    each dashboard name is hashed once (conventions.stable_uid is memoised)."""
    if service is None:
        return f"{grafana_url}/d/{c.stable_uid('overview')}/overview"
    return c.dashboard_url(grafana_url, service, panel)


def link_annotations(settings: StackSettings, alert: str, labels: Mapping[str, str], panels: Panels) -> dict[str, str]:
    """runbook_url and dashboard_url of one alert: a stack-wide alert links the overview, the others
    the panel of their signal on their service's dashboard."""
    panel = panels[alert]
    service = labels.get(c.SERVICE_LABEL) if panel is not None else None
    runbook, dashboard = links(settings, alert, service, panel)
    return {"runbook_url": runbook, "dashboard_url": dashboard}


class Linker:
    """link_annotations of each (alert, service), computed once for a whole pass: a service's file names
    the same few alerts in many rules and expected alerts. The links depend on nothing else."""

    def __init__(self, settings: StackSettings, panels: Panels) -> None:
        self.settings, self.panels = settings, panels
        self._found: dict[tuple[str, str | None], dict[str, str]] = {}

    def __call__(self, alert: str, labels: Mapping[str, str]) -> dict[str, str]:
        key = (alert, labels.get(c.SERVICE_LABEL))
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = link_annotations(self.settings, alert, labels, self.panels)
        return found


def add_links(links: Linker, rule_file: RuleFile) -> RuleFile:
    """The links pass over built rules: every alerting rule gets its runbook and dashboard links (a group of
    recording rules only is kept as it is; the rest is built anew from its validated fields, as below)."""

    def linked(group: RuleGroup) -> RuleGroup:
        if not any(isinstance(r, AlertingRule) for r in group.rules):
            return group
        rules = tuple(_linked_rule(links, r) if isinstance(r, AlertingRule) else r for r in group.rules)
        return RuleGroup(name=group.name, interval=group.interval, rules=rules)

    return RuleFile(groups=tuple(linked(g) for g in rule_file.groups))


def link_rule(settings: StackSettings, rule: AlertingRule, panels: Panels) -> AlertingRule:
    """The rule with its links appended to its annotations."""
    return _linked_rule(Linker(settings, panels), rule)


def _linked_rule(links: Linker, rule: AlertingRule) -> AlertingRule:
    annotations = {**rule.annotations, **links(rule.alert, rule.labels)}
    return AlertingRule(alert=rule.alert, expr=rule.expr, for_=rule.for_, labels=rule.labels, annotations=annotations)


def add_expected_links(links: Linker, test_file: RuleTestFile) -> RuleTestFile:
    """The same pass over promtool tests: every expected alert's annotations get the same links. What has
    nothing to link (a silent check, a group of silent checks) is kept as it is, not copied; what changes is
    built anew from the validated model's own fields (the types are unchanged, so this is validation again
    of values already validated, and cheaper than model_copy)."""
    return RuleTestFile(
        rule_files=test_file.rule_files,
        evaluation_interval=test_file.evaluation_interval,
        group_eval_order=test_file.group_eval_order,
        tests=tuple(_linked_group(links, g) for g in test_file.tests),
    )


def _linked_group(links: Linker, group: TestGroup) -> TestGroup:
    checks, changed = [], False
    for check in group.alert_rule_test:
        linked = check if not check.exp_alerts else _linked_check(links, check)  # a silent check: nothing to link
        checks.append(linked)
        changed = changed or linked is not check
    if not changed:
        return group
    return TestGroup(
        interval=group.interval,
        input_series=group.input_series,
        alert_rule_test=tuple(checks),
        promql_expr_test=group.promql_expr_test,
    )


def _linked_check(links: Linker, check: AlertRuleTest) -> AlertRuleTest:
    alert, expected, changed = check.alertname, [], False
    for old in check.exp_alerts:
        if old.exp_annotations is None:
            expected.append(old)  # no annotations expected: nothing to link
            continue
        extra = links(alert, old.exp_labels)
        expected.append(ExpectedAlert(exp_labels=old.exp_labels, exp_annotations={**old.exp_annotations, **extra}))
        changed = True
    if not changed:
        return check  # no expected alert with annotations
    return AlertRuleTest(eval_time=check.eval_time, alertname=alert, exp_alerts=tuple(expected))


def seconds_text(value: float) -> str:
    """A threshold in seconds as people write it: 200ms, 1.5s."""
    return f"{value * 1000:g}ms" if value < 1 else f"{value:g}s"


def percent_text(value: float) -> str:
    return f"{value * 100:g}%"
