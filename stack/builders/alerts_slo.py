"""The SLO burn-rate alert: one rule per enabled multi-window multi-burn-rate tier (variant key: the tier).

A tier whose threshold is 100 % errors or more can never fire, so it is not generated. The burn tests
(alerts_slo_tests.py) run in the service's `.slo.test.yml` at `burn_step`: no `for:`, so a coarse step.
"""

from __future__ import annotations

import math
from functools import lru_cache

from stack import conventions as c
from stack.builders import promql as q
from stack.builders.alerts_kind import Variant
from stack.builders.annotations import Texts, percent_text
from stack.durations import Duration
from stack.settings import Service, StackSettings


def enabled_tiers(settings: StackSettings) -> tuple[c.BurnTierSpec, ...]:
    return tuple(t for t in c.BURN_TIERS if getattr(settings.burn_rate_tiers, t.name).enabled)


def error_budget(service: Service) -> float:
    return round(1 - service.slo.objective, 10)


def burn_possible(service: Service, tier: c.BurnTierSpec) -> bool:
    """A tier whose threshold is 100 % errors or more can never fire, so it is not generated."""
    return tier.factor * error_budget(service) < 1


def burn_tiers(settings: StackSettings, service: Service) -> tuple[c.BurnTierSpec, ...]:
    return tuple(t for t in enabled_tiers(settings) if burn_possible(service, t))


def burn_variants(settings: StackSettings, service: Service) -> tuple[Variant, ...]:
    return tuple(Variant(t.severity, t.name, (("burnrate_tier", t.name),)) for t in burn_tiers(settings, service))


_TIERS = {t.name: t for t in c.BURN_TIERS}


def tier_of(variant: Variant) -> c.BurnTierSpec:
    return _TIERS[variant.key]


@lru_cache(maxsize=64)
def tier_windows(tier: c.BurnTierSpec, slo_window: Duration) -> tuple[Duration, Duration]:
    """The tier's (long, short) windows for this SLO window: scaled once, not once per service and rule."""
    return tier.scaled(slo_window)


def burn_expr(settings: StackSettings, service: Service, variant: Variant) -> str:
    tier = tier_of(variant)
    long_w, short_w = tier_windows(tier, settings.timing.slo_window)
    budget, factor = q.number(error_budget(service)), q.number(tier.factor)
    long_ratio = q.svc(c.rec_slo_error_ratio(long_w), service.name)
    short_ratio = q.svc(c.rec_slo_error_ratio(short_w), service.name)
    return f"({long_ratio} / {budget}) > {factor} and ({short_ratio} / {budget}) > {factor}"


def burn_texts(settings: StackSettings, service: Service, variant: Variant) -> Texts:
    tier = tier_of(variant)
    long_w, short_w = tier_windows(tier, settings.timing.slo_window)
    return Texts(
        summary=f"{service.name} is burning its error budget {tier.factor:g}x too fast ({tier.name})",
        description=f"{service.name} burns its {percent_text(service.slo.objective)} availability "
        f"error budget at {{value}}x over {long_w} (and above {tier.factor:g}x over {short_w}); "
        f"at this rate the {settings.timing.slo_window} budget is gone early.",
        value_format="burn",
    )


def short_windows(settings: StackSettings, service: Service) -> list[Duration]:
    return [tier_windows(t, settings.timing.slo_window)[1] for t in burn_tiers(settings, service)]


def burn_step(settings: StackSettings, service: Service) -> Duration:
    """Burn-rate alerts have no `for:`, so their tests evaluate at a coarser step (much faster): a fifth
    of the shortest short window, on the scrape grid."""
    scrape = settings.timing.scrape_interval.ms
    shortest = min(s.ms for s in short_windows(settings, service))
    return Duration(math.ceil(max(scrape, shortest // 5) / scrape) * scrape)
