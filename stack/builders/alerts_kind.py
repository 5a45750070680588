"""What one alert kind is: the shape of an entry of the catalogue (builders/catalogue.py).

An entry holds everything the rules, the promtool tests and the links pass need to know about one kind,
so a new alert is one new entry. Links are not built here: annotations.add_links adds them afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from stack import conventions as c
from stack.builders.annotations import Texts
from stack.builders.rule_test_kit import Outage
from stack.durations import Duration
from stack.models.rules import AlertingRule, AlertRuleTest, TestGroup
from stack.settings import Service, StackSettings

T = TypeVar("T")


@dataclass(frozen=True)
class Variant:
    """One rule of a kind: its severity, the key its expression and texts are built for (a threshold
    level or a burn tier's name), and labels beyond severity and service."""

    severity: str
    key: str = ""
    labels: tuple[tuple[str, str], ...] = ()


WARNING = Variant("warning", "warning")
# the rules of a kind with warning and critical thresholds, in the order the rule files list them
LEVELS = tuple(Variant(level, level) for level in c.SEVERITIES[::-1])


def warning_only(settings: StackSettings, service: Service) -> tuple[Variant, ...]:
    return (WARNING,)


def levels(settings: StackSettings, service: Service) -> tuple[Variant, ...]:
    return LEVELS


def no_for(settings: StackSettings) -> Duration | None:
    """No `for:`: the alert fires at the first evaluation where its expression holds."""
    return None


def per_service(build: Callable[[StackSettings, Service], T]) -> Callable[[StackSettings, Service, Variant], T]:
    """A builder that is the same for every variant of a kind (kinds with one rule per service)."""
    return lambda settings, service, variant: build(settings, service)


def alert_labels(service: Service, variant: Variant) -> dict[str, str]:
    return {"severity": variant.severity, c.SERVICE_LABEL: service.name, **dict(variant.labels)}


@dataclass(frozen=True)
class AlertKind:
    """An alert about one service. `panel` is a key of conventions.PANEL_IDS (the alert's dashboard link);
    `cases` are its promtool test groups, in the service's test file unless `test_step` gives it its own
    (the `.slo.test.yml`, evaluated at that step). `fault`, `lingers` and `may_fire_on` are its part in
    verify's fault contract."""

    name: str
    panel: str
    applies: Callable[[StackSettings, Service], bool]
    expr: Callable[[StackSettings, Service, Variant], str]
    texts: Callable[[StackSettings, Service, Variant], Texts]
    cases: Callable[[StackSettings, Service], list[TestGroup]]
    for_: Callable[[StackSettings], Duration | None] = no_for
    variants: Callable[[StackSettings, Service], tuple[Variant, ...]] = warning_only
    test_step: Callable[[StackSettings, Service], Duration] | None = None
    fault: str | None = None  # the verify fault (conventions.FAULTS) that must fire it
    lingers: bool = False  # may still fire after that fault ends (slow burn windows): not awaited to resolve
    may_fire_on: tuple[str, ...] = ()  # faults during which it may fire too (side effects, not required)

    def rules(self, settings: StackSettings, service: Service) -> tuple[AlertingRule, ...]:
        for_ = self.for_(settings)
        return tuple(
            AlertingRule(
                alert=self.name,
                expr=self.expr(settings, service, variant),
                for_=str(for_) if for_ is not None else None,
                labels=alert_labels(service, variant),
                annotations=self.texts(settings, service, variant).for_rule(),
            )
            for variant in self.variants(settings, service)
        )


@dataclass(frozen=True)
class StackAlert:
    """An alert about the stack itself, not one service: one rule in the platform file, linked to the
    overview dashboard (`panel` None). Its `checks` run in the one shared Outage scenario."""

    name: str
    expr: str
    labels: tuple[tuple[str, str], ...]  # severity first
    texts: Callable[[StackSettings], Texts]
    checks: Callable[[StackSettings, Outage], tuple[AlertRuleTest, ...]]
    for_: Callable[[StackSettings], Duration | None] = no_for
    panel: None = None

    def rule(self, settings: StackSettings) -> AlertingRule:
        for_ = self.for_(settings)
        return AlertingRule(
            alert=self.name,
            expr=self.expr,
            for_=str(for_) if for_ is not None else None,
            labels=dict(self.labels),
            annotations=self.texts(settings).for_rule(),
        )
