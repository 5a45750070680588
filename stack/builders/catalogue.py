"""The catalogue of alerts: one entry per alert kind, in the order the rule files list them.

Rules (rules.build_rule_files), the promtool tests (rule_tests.build_rule_tests) and the links passes
all iterate it, so a new alert is one new entry here, plus its name in conventions.BUILT_IN_ALERTS
(tests/unit/test_catalogue.py checks that both agree and that every panel is a key of PANEL_IDS).
A service's declared business alerts are kinds too (business.business_kinds), listed after these.
"""

from __future__ import annotations

from stack import conventions as c
from stack.builders import alerts_golden as golden
from stack.builders import alerts_golden_tests as golden_tests
from stack.builders import alerts_platform as platform
from stack.builders import alerts_slo as slo
from stack.builders import health, health_tests
from stack.builders.alerts_kind import AlertKind, StackAlert, levels, per_service
from stack.builders.alerts_slo_tests import burn_cases
from stack.builders.annotations import Panels
from stack.builders.business import business_kinds
from stack.settings import Service, StackSettings

SERVICE_ALERTS: tuple[AlertKind, ...] = (
    AlertKind(
        name=c.ALERT_LATENCY,
        panel="latency",
        applies=lambda settings, service: service.latency.enabled,
        for_=lambda settings: settings.timing.latency_for,
        variants=levels,
        expr=golden.latency_expr,
        texts=golden.latency_texts,
        cases=golden_tests.latency_cases,
        fault="latency",
    ),
    AlertKind(
        name=c.ALERT_ERRORS,
        panel="errors",
        applies=lambda settings, service: service.error_rate.enabled,
        for_=lambda settings: settings.timing.error_rate_for,
        variants=levels,
        expr=golden.error_expr,
        texts=golden.error_texts,
        cases=golden_tests.error_cases,
        fault="errors",
    ),
    AlertKind(
        name=c.ALERT_POOL,
        panel="saturation",
        applies=lambda settings, service: service.has_db_pool,
        for_=lambda settings: settings.timing.db_pool_for,
        variants=levels,
        expr=golden.pool_expr,
        texts=golden.pool_texts,
        cases=golden_tests.pool_cases,
        fault="db_pool",
    ),
    AlertKind(
        name=c.ALERT_POOL_WAITING,
        panel="saturation",
        applies=lambda settings, service: service.has_db_pool,
        for_=lambda settings: settings.timing.db_pool_for,
        expr=per_service(golden.pool_waiting_expr),
        texts=per_service(golden.pool_waiting_texts),
        cases=golden_tests.pool_waiting_cases,
        may_fire_on=("db_pool",),  # the held connections make requests wait
    ),
    AlertKind(
        name=c.ALERT_BURN,
        panel="slo",
        applies=lambda settings, service: bool(slo.burn_tiers(settings, service)),
        variants=slo.burn_variants,
        expr=slo.burn_expr,
        texts=slo.burn_texts,
        cases=burn_cases,
        test_step=slo.burn_step,
        fault="errors",
        lingers=True,
    ),
    AlertKind(
        name=c.ALERT_ABSENT,
        panel="traffic",
        applies=lambda settings, service: service.absent_alert,
        for_=lambda settings: settings.timing.absent_for,
        expr=per_service(health.absent_expr),
        texts=per_service(health.absent_texts),
        cases=health_tests.absent_cases,
    ),
    AlertKind(
        name=c.ALERT_TRAFFIC_DROP,
        panel="traffic",
        applies=lambda settings, service: service.traffic_drop.enabled,
        for_=lambda settings: settings.timing.traffic_drop_for,
        expr=per_service(health.traffic_drop_expr),
        texts=per_service(health.traffic_drop_texts),
        cases=health_tests.traffic_drop_cases,
        may_fire_on=("db_pool",),  # the pool fault runs at a lower request rate
    ),
    AlertKind(
        name=c.ALERT_RESTARTS,
        panel="restarts",
        applies=lambda settings, service: service.restarts.enabled and service.has_process_metrics,
        expr=per_service(health.restart_expr),
        texts=per_service(health.restart_texts),
        cases=health_tests.restart_cases,
    ),
)

STACK_ALERTS: tuple[StackAlert, ...] = (
    StackAlert(
        name=c.ALERT_TARGET_DOWN,
        expr="up == 0",
        labels=platform.TARGET_DOWN_LABELS,
        for_=lambda settings: settings.timing.target_down_for,
        texts=platform.target_down_texts,
        checks=platform.target_down_checks,
    ),
    StackAlert(
        name=c.ALERT_WATCHDOG,
        expr="vector(1)",
        labels=platform.WATCHDOG_LABELS,
        texts=platform.watchdog_texts,
        checks=platform.watchdog_checks,
    ),
)

CATALOGUE: tuple[AlertKind | StackAlert, ...] = (*SERVICE_ALERTS, *STACK_ALERTS)


def service_kinds(settings: StackSettings, service: Service) -> tuple[AlertKind, ...]:
    """The kinds a service gets, in rule order: the built-in ones that apply, then its business alerts."""
    return (*(kind for kind in SERVICE_ALERTS if kind.applies(settings, service)), *business_kinds(service))


def panels(settings: StackSettings) -> Panels:
    """Alert name -> dashboard panel of every alert the settings can generate (for the links passes)."""
    found: dict[str, str | None] = {kind.name: kind.panel for kind in CATALOGUE}
    for service in settings.services:
        found.update((kind.name, kind.panel) for kind in business_kinds(service))
    return found


def fault_alerts(settings: StackSettings, service: Service) -> dict[str, c.FaultAlerts]:
    """For each of verify's faults, the alerts of this service it must fire, may fire and must see resolved."""
    kinds = service_kinds(settings, service)
    return {
        fault: c.FaultAlerts(
            required=frozenset(k.name for k in kinds if k.fault == fault),
            allowed=frozenset(k.name for k in kinds if fault in k.may_fire_on),
            must_resolve=frozenset(k.name for k in kinds if k.fault == fault and not k.lingers),
        )
        for fault in c.FAULTS
    }
