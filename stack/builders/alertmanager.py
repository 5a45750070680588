"""settings -> alertmanager.yml model: routing, inhibition and webhook receivers."""

from __future__ import annotations

from stack import conventions as c
from stack.models.alertmanager import (
    AlertmanagerConfig,
    GlobalConfig,
    InhibitRule,
    Receiver,
    Route,
    WebhookConfig,
)
from stack.settings import StackSettings


def build_alertmanager(settings: StackSettings) -> AlertmanagerConfig:
    timing, alerting = settings.timing, settings.alerting
    urls = {
        "warning": alerting.webhook_url,
        "critical": alerting.critical_webhook_url or alerting.webhook_url,
        "watchdog": alerting.watchdog_webhook_url or alerting.webhook_url,
    }
    watchdog = Route(
        receiver="watchdog",
        matchers=(f'alertname="{c.ALERT_WATCHDOG}"',),
        group_wait="0s",
        group_interval=str(timing.group_interval),
        repeat_interval=str(timing.group_interval),
    )
    return AlertmanagerConfig(
        global_=GlobalConfig(resolve_timeout="5m"),
        route=Route(
            receiver="warning",
            group_by=("alertname", c.SERVICE_LABEL),
            group_wait=str(timing.group_wait),
            group_interval=str(timing.group_interval),
            repeat_interval=str(timing.repeat_interval),
            routes=(
                watchdog,
                Route(receiver="critical", matchers=('severity="critical"',)),
                Route(receiver="warning", matchers=('severity="warning"',)),
            ),
        ),
        inhibit_rules=inhibit_rules(settings),
        receivers=tuple(
            Receiver(name=name, webhook_configs=(WebhookConfig(url=urls[name]),)) for name in c.WEBHOOK_RECEIVERS
        ),
    )


def inhibit_rules(settings: StackSettings) -> tuple[InhibitRule, ...]:
    """Critical silences warning of the same alert and service; a faster burn tier silences slower ones;
    a down target silences its 'metrics absent' alert. A metrics_source otlp service has no target: its
    metrics arrive through the collector, so the collector's target down silences the pushed services'
    'metrics absent' alerts instead (the cause, not its consequences)."""
    rules = [
        InhibitRule(
            source_matchers=('severity="critical"',),
            target_matchers=('severity="warning"',),
            equal=("alertname", c.SERVICE_LABEL),
        ),
        InhibitRule(
            source_matchers=(f'alertname="{c.ALERT_TARGET_DOWN}"',),
            target_matchers=(f'alertname="{c.ALERT_ABSENT}"',),
            equal=(c.SERVICE_LABEL,),
        ),
    ]
    pushed = sorted(s.name for s in settings.services if not s.scraped)
    if pushed:
        rules.append(
            InhibitRule(
                source_matchers=(f'alertname="{c.ALERT_TARGET_DOWN}"', f'{c.SERVICE_LABEL}="otelcol"'),
                target_matchers=(f'alertname="{c.ALERT_ABSENT}"', f'{c.SERVICE_LABEL}=~"{"|".join(pushed)}"'),
            )
        )
    names = [t.name for t in c.BURN_TIERS]
    for index, faster in enumerate(names[:-1]):
        slower = "|".join(names[index + 1 :])
        rules.append(
            InhibitRule(
                source_matchers=(f'alertname="{c.ALERT_BURN}"', f'burnrate_tier="{faster}"'),
                target_matchers=(f'alertname="{c.ALERT_BURN}"', f'burnrate_tier=~"{slower}"'),
                equal=(c.SERVICE_LABEL,),
            )
        )
    return tuple(rules)
