"""Generated promtool tests of the golden-signal alerts (see builders/alerts_golden.py).

Each alert fires above its threshold exactly when `for:` has elapsed (silent one evaluation before),
stays silent just below the threshold, resolves after recovery, and renders its annotations. The
error-rate alert is also silent under the traffic guard.
"""

from __future__ import annotations

import math

from stack import conventions as c
from stack.builders import alerts_golden as g
from stack.builders.alerts_kind import LEVELS, WARNING, alert_labels
from stack.builders.promql import names
from stack.builders.rule_test_kit import Fired, Requests, Timeline, lifecycle, silent, target
from stack.builders.series import counter, gauge, labels_text
from stack.models.rules import InputSeries, TestGroup
from stack.settings import Service, StackSettings

# --- latency -------------------------------------------------------------------------------------


class _Histogram:
    """A service's request duration histogram: bucket and count series texts built once, values per phases."""

    def __init__(self, service: Service, edges: tuple[float, ...]) -> None:
        n = names(service)
        base = {**target(service), n.route: "/orders", n.method: "GET"}
        les = ["+Inf" if math.isinf(edge) else f"{edge:g}" for edge in (*edges, math.inf)]
        self.buckets = [labels_text(f"{n.duration}_bucket", {**base, "le": le}) for le in les]
        self.count = labels_text(f"{n.duration}_count", base)

    def __call__(self, phases: list[tuple[int, int]]) -> list[InputSeries]:
        """Cumulative bucket counters; each phase is (steps, index of the bucket that gets 100 requests)."""
        series = []
        for index, text in enumerate(self.buckets):
            segments = [(steps, 100.0 if index >= bucket else 0.0) for steps, bucket in phases]
            series.append(InputSeries(series=text, values=counter(segments)))
        count = [(steps, 100.0) for steps, _ in phases]
        series.append(InputSeries(series=self.count, values=counter(count)))
        return series


def _p95(edges: tuple[float, ...], bucket: int) -> float:
    """histogram_quantile(0.95) when every request falls in bucket `bucket` (linear interpolation)."""
    lower = edges[bucket - 1] if bucket > 0 else 0.0
    return lower + (edges[bucket] - lower) * 0.95


def latency_cases(settings: StackSettings, service: Service) -> list[TestGroup]:
    edges = settings.buckets(service)
    warn, crit = edges.index(service.latency.warning), edges.index(service.latency.critical)
    time = Timeline(settings, settings.timing.latency_for, True, settings.timing.scrape_interval)
    histogram = _Histogram(service, edges)

    def above(bucket: int, firing: int) -> TestGroup:
        fired: Fired = [
            (alert_labels(service, v), _p95(edges, bucket), g.latency_texts(settings, service, v))
            for v in LEVELS[:firing]
        ]
        series = histogram([(time.high_steps, bucket), (time.low_steps, warn)])
        checks = lifecycle(c.ALERT_LATENCY, fired, time)
        return TestGroup(interval=str(time.step), input_series=tuple(series), alert_rule_test=checks)

    below = TestGroup(
        interval=str(time.step),
        input_series=tuple(histogram([(time.high_steps + time.low_steps, warn)])),
        alert_rule_test=silent(c.ALERT_LATENCY, time.fire, time.resolved),
    )
    return [above(warn + 1, 1), above(crit + 1, 2), below]


# --- errors ----------------------------------------------------------------------------------------


def error_cases(settings: StackSettings, service: Service) -> list[TestGroup]:
    cfg = service.error_rate
    time = Timeline(settings, settings.timing.error_rate_for, True, settings.timing.scrape_interval)
    busy = max(100.0, cfg.min_request_rate * time.step.seconds * 20)
    quiet = cfg.min_request_rate * time.step.seconds / 2
    traffic = Requests(service)

    def group(ratio: float, firing: int) -> TestGroup:
        series = traffic([(time.high_steps, busy, ratio), (time.low_steps, busy, 0.0)])
        fired: Fired = [(alert_labels(service, v), ratio, g.error_texts(settings, service, v)) for v in LEVELS[:firing]]
        checks = lifecycle(c.ALERT_ERRORS, fired, time)
        return TestGroup(interval=str(time.step), input_series=tuple(series), alert_rule_test=checks)

    def quiet_group(per_step: float, ratio: float) -> TestGroup:
        series = traffic([(time.high_steps + time.low_steps, per_step, ratio)])
        return TestGroup(
            interval=str(time.step),
            input_series=tuple(series),
            alert_rule_test=silent(c.ALERT_ERRORS, time.fire, time.resolved),
        )

    return [
        group(min(cfg.warning * 1.1, (cfg.warning + cfg.critical) / 2), 1),
        group(min(cfg.critical * 1.1, (cfg.critical + 1) / 2), 2),
        quiet_group(busy, cfg.warning * 0.9),
        quiet_group(quiet, 0.5),
    ]


# --- DB pool ---------------------------------------------------------------------------------------

POOL_CAPACITY = 1000


def _pool(service: Service, phases: list[tuple[int, float, float]]) -> list[InputSeries]:
    """Pool gauges; each phase is (steps, connections in use, requests waiting)."""
    base = {**target(service), "pool": "default"}
    steps = sum(p[0] for p in phases)
    return [
        InputSeries(series=labels_text(c.DB_POOL_IN_USE, base), values=gauge([(s, u) for s, u, _ in phases])),
        InputSeries(series=labels_text(c.DB_POOL_MAX, base), values=gauge([(steps, POOL_CAPACITY)])),
        InputSeries(series=labels_text(c.DB_POOL_WAITING, base), values=gauge([(s, w) for s, _, w in phases])),
    ]


def _pool_time(settings: StackSettings) -> Timeline:
    return Timeline(settings, settings.timing.db_pool_for, False, settings.timing.scrape_interval)


def pool_cases(settings: StackSettings, service: Service) -> list[TestGroup]:
    cfg, time = g.pool_of(service), _pool_time(settings)
    at_warning = math.floor(cfg.warning * POOL_CAPACITY)

    def group(in_use: int, firing: int) -> TestGroup:
        series = _pool(service, [(time.high_steps, in_use, 0), (time.low_steps, at_warning, 0)])
        fired: Fired = [
            (alert_labels(service, v), in_use / POOL_CAPACITY, g.pool_texts(settings, service, v))
            for v in LEVELS[:firing]
        ]
        checks = lifecycle(c.ALERT_POOL, fired, time) + silent(c.ALERT_POOL_WAITING, time.fire)
        return TestGroup(interval=str(time.step), input_series=tuple(series), alert_rule_test=checks)

    below = TestGroup(
        interval=str(time.step),
        input_series=tuple(_pool(service, [(time.high_steps + time.low_steps, at_warning, 0)])),
        alert_rule_test=silent(c.ALERT_POOL, time.fire, time.resolved),
    )
    return [group(at_warning + 1, 1), group(math.floor(cfg.critical * POOL_CAPACITY) + 1, 2), below]


def pool_waiting_cases(settings: StackSettings, service: Service) -> list[TestGroup]:
    threshold, time = g.pool_of(service).waiting_threshold, _pool_time(settings)
    series = _pool(service, [(time.high_steps, 0, threshold + 1), (time.low_steps, 0, threshold)])
    fired: Fired = [(alert_labels(service, WARNING), threshold + 1, g.pool_waiting_texts(settings, service))]
    waits = TestGroup(
        interval=str(time.step),
        input_series=tuple(series),
        alert_rule_test=lifecycle(c.ALERT_POOL_WAITING, fired, time),
    )
    return [waits]
