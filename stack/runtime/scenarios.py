"""PURE: the faults verify injects, from the settings; which alerts each must (and may) fire comes from the
generator's alert catalogue as conventions.FaultAlerts (catalogue.fault_alerts), passed in by the CLI."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from stack import conventions as c
from stack.errors import StackError
from stack.runtime.traffic import BASELINE_RATE
from stack.settings import Service, StackSettings


@dataclass(frozen=True)
class FaultScenario:
    name: str
    setting: dict[str, float]
    required: frozenset[str]
    allowed: frozenset[str] = frozenset()
    must_resolve: frozenset[str] = frozenset()
    traffic_rate: float = BASELINE_RATE
    service: str = ""
    for_seconds: float = 0.0
    needs_rate: bool = True
    notes: tuple[str, ...] = field(default=())


def latency_fault(settings: StackSettings, service: Service, alerts: c.FaultAlerts) -> FaultScenario:
    """Latency halfway between the warning threshold and the next bucket edge: warning, not critical."""
    edges = settings.buckets(service)
    warning = service.latency.warning
    upper = edges[edges.index(warning) + 1]
    return FaultScenario(
        name="latency",
        setting={"latency_seconds": round((warning + upper) / 2, 4)},
        required=alerts.required,
        allowed=alerts.allowed,
        must_resolve=alerts.must_resolve,
        for_seconds=settings.timing.latency_for.seconds,
    )


def pool_fault(settings: StackSettings, service: Service, capacity: int, alerts: c.FaultAlerts) -> FaultScenario:
    """Hold the fewest connections that put the pool above the warning ratio."""
    assert service.db_pool is not None  # only services with a pool get this fault
    warning = service.db_pool.warning
    hold = math.floor(warning * capacity) + 1
    if hold >= capacity:
        raise ValueError(
            f"a DB pool of {capacity} connections cannot be held above {warning:.0%} and leave one free; "
            "give the service a larger pool (10 connections or more)"
        )
    return FaultScenario(
        name="db_pool",
        setting={"hold_connections": hold},
        required=alerts.required,
        allowed=alerts.allowed,  # the fault runs at a lower rate, and holds connections others wait for
        must_resolve=alerts.must_resolve,
        traffic_rate=3.0,
        for_seconds=settings.timing.db_pool_for.seconds,
        needs_rate=False,
        notes=(f"holds {hold} of {capacity} connections ({hold / capacity:.0%})",),
    )


def error_fault(settings: StackSettings, service: Service, alerts: c.FaultAlerts) -> FaultScenario:
    """A 5xx rate between the warning and critical thresholds; it also burns the error budget.

    Slow (ticket) burn tiers keep firing for their short window after the fault, so this runs last and
    only HighErrorRate must resolve."""
    cfg = service.error_rate
    return FaultScenario(
        name="errors",
        setting={"error_rate": round(min(cfg.warning * 3, (cfg.warning + cfg.critical) / 2), 4)},
        required=alerts.required,
        allowed=alerts.allowed,
        must_resolve=alerts.must_resolve,
        for_seconds=settings.timing.error_rate_for.seconds,
        notes=("slower burn-rate tiers may still fire after the fault ends (their short window)",),
    )


def detection_timeout(settings: StackSettings, scenario: FaultScenario) -> float:
    timing = settings.timing
    rate = timing.rate_window.seconds if scenario.needs_rate else 0.0
    return scenario.for_seconds + rate + 4 * timing.evaluation_interval.seconds + 45.0


def resolve_timeout(settings: StackSettings) -> float:
    return settings.timing.rate_window.seconds * 2 + 4 * settings.timing.evaluation_interval.seconds + 45.0


def notify_timeout(settings: StackSettings) -> float:
    return settings.timing.group_wait.seconds + settings.timing.group_interval.seconds + 30.0


def pick_services(settings: StackSettings, names: list[str] | None) -> tuple[Service, ...]:
    """The services of stack.yaml to verify: all of them, or those named (in stack.yaml's order)."""
    if not names:
        return settings.services
    known = [s.name for s in settings.services]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise StackError(f"--service {unknown[0]!r}: not in stack.yaml, expected one of {known}")
    return tuple(s for s in settings.services if s.name in names)
