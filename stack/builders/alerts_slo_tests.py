"""Generated promtool tests of the burn-rate alert (see builders/alerts_slo.py).

Uniform error ratios 10 % above and below each tier's threshold: every tier whose threshold is below
the ratio fires, the others do not.
"""

from __future__ import annotations

import math

from stack import conventions as c
from stack.builders.alerts_kind import alert_labels
from stack.builders.alerts_slo import burn_step, burn_texts, burn_variants, error_budget, short_windows, tier_of
from stack.builders.rule_test_kit import Fired, Requests, expect, quiet
from stack.durations import Duration
from stack.models.rules import TestGroup
from stack.settings import Service, StackSettings


def burn_cases(settings: StackSettings, service: Service) -> list[TestGroup]:
    variants, budget, step = burn_variants(settings, service), error_budget(service), burn_step(settings, service)
    fire_at = step * 2
    high = 3
    low = math.ceil(max(s.ms for s in short_windows(settings, service)) / step.ms) + 3
    traffic = Requests(service)
    resolved = quiet(c.ALERT_BURN, Duration((high + low - 1) * step.ms))
    # each variant's threshold, labels and texts, built once for the groups that expect it
    tiers = [
        (v, tier_of(v).factor * budget, alert_labels(service, v), burn_texts(settings, service, v)) for v in variants
    ]

    def group(ratio: float) -> TestGroup:
        series = traffic([(high, 1000.0, ratio), (low, 1000.0, 0.0)])
        fired: Fired = [(labels, ratio / budget, texts) for _, threshold, labels, texts in tiers if threshold < ratio]
        checks = (expect(c.ALERT_BURN, fired, fire_at), resolved)
        return TestGroup(interval=str(step), input_series=tuple(series), alert_rule_test=checks)

    groups = []
    for _, threshold, _, _ in tiers:
        groups.append(group(min(threshold * 1.1, (threshold + 1) / 2)))
        groups.append(group(threshold * 0.9))
    return groups
