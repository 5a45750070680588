"""The stack-wide alerts: a scrape target is down, and the always-firing Watchdog (dead man's switch).

Both are tested in one Outage scenario (rule_test_kit.Outage): TargetDown fires when `for:` has
elapsed and resolves when the target is back; Watchdog fires throughout.
"""

from __future__ import annotations

from stack import conventions as c
from stack.builders.annotations import Texts
from stack.builders.rule_test_kit import Fired, Outage, expect, quiet
from stack.durations import Duration
from stack.models.rules import AlertRuleTest
from stack.settings import StackSettings

TARGET_DOWN_LABELS = (("severity", "critical"),)
WATCHDOG_LABELS = (("severity", "none"), (c.SERVICE_LABEL, c.PLATFORM_SERVICE))


def target_down_texts(settings: StackSettings) -> Texts:
    return Texts(
        summary="{job} target {instance} is down",
        description=f"Prometheus could not scrape {{job}} at {{instance}} for {settings.timing.target_down_for}.",
    )


def target_down_checks(settings: StackSettings, outage: Outage) -> tuple[AlertRuleTest, ...]:
    time = outage.time
    down: Fired = [({**outage.target, **dict(TARGET_DOWN_LABELS)}, None, target_down_texts(settings))]
    return (
        quiet(c.ALERT_TARGET_DOWN, time.before),
        expect(c.ALERT_TARGET_DOWN, down, time.fire),
        quiet(c.ALERT_TARGET_DOWN, time.resolved),
    )


def watchdog_texts(settings: StackSettings) -> Texts:
    return Texts(
        summary="Watchdog: the alerting pipeline is alive",
        description="Always firing. If this alert stops arriving at the dead-man's-switch receiver, "
        "Prometheus or Alertmanager is broken.",
    )


def watchdog_checks(settings: StackSettings, outage: Outage) -> tuple[AlertRuleTest, ...]:
    fired: Fired = [(dict(WATCHDOG_LABELS), None, watchdog_texts(settings))]
    return (
        expect(c.ALERT_WATCHDOG, fired, Duration(0)),
        expect(c.ALERT_WATCHDOG, fired, outage.time.resolved),
    )
