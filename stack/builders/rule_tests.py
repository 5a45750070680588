"""settings -> promtool unit tests for every generated alert.

Each alert gets: fires above its threshold exactly when `for:` has elapsed (silent one evaluation
before), stays silent just below the threshold, resolves after recovery, and renders its annotations.
The error-rate alert is also silent under the traffic guard. Values in annotations are computed with
Python ports of Prometheus' humanize functions.
"""

from __future__ import annotations

import math

from stack import conventions as c
from stack.builders import business as b
from stack.builders import health_tests as h
from stack.builders import rules as r
from stack.builders.promql import names
from stack.builders.rule_test_kit import (
    Fired,
    Timeline,
    expect,
    lifecycle,
    promtool_file,
    requests,
    silent,
    target,
)
from stack.builders.series import counter, gauge, labels_text
from stack.durations import Duration
from stack.models.rules import AlertRuleTest, InputSeries, RuleTestFile, TestGroup
from stack.settings import BusinessAlert, DBPoolAlert, Service, StackSettings


def build_rule_tests(settings: StackSettings) -> dict[str, RuleTestFile]:
    files: dict[str, RuleTestFile] = {}
    for service in settings.services:
        files[c.rules_test_file(c.rules_file(service.name))] = _service_tests(settings, service)
        burn = _burn_file(settings, service)
        if burn is not None:
            files[c.slo_test_file(c.rules_file(service.name))] = burn
    files[c.rules_test_file(c.PLATFORM_RULES_FILE)] = _platform_tests(settings)
    return files


def _service_tests(settings: StackSettings, service: Service) -> RuleTestFile:
    groups: list[TestGroup] = []
    if service.latency.enabled:
        groups += _latency_tests(settings, service)
    if service.error_rate.enabled:
        groups += _error_tests(settings, service)
    if service.db_pool is not None and service.db_pool.enabled:
        groups += _pool_tests(settings, service, service.db_pool)
    if service.absent_alert:
        groups += _absent_tests(settings, service)
    if service.traffic_drop.enabled:
        groups += h.traffic_drop_tests(settings, service)
    if service.restarts.enabled:
        groups += h.restart_tests(settings, service)
    groups += _business_tests(settings, service)
    return promtool_file(settings, c.rules_file(service.name), groups, c.rule_groups(service.name))


# --- latency -------------------------------------------------------------------------------------


def _histogram(service: Service, edges: tuple[float, ...], phases: list[tuple[int, int]]) -> list[InputSeries]:
    """Cumulative bucket counters; each phase is (steps, index of the bucket that gets 100 requests)."""
    n = names(service)
    base = {**target(service), n.route: "/orders", n.method: "GET"}
    series = []
    for index, edge in enumerate((*edges, math.inf)):
        le = "+Inf" if math.isinf(edge) else f"{edge:g}"
        segments = [(steps, 100.0 if index >= bucket else 0.0) for steps, bucket in phases]
        series.append(
            InputSeries(series=labels_text(f"{n.duration}_bucket", {**base, "le": le}), values=counter(segments))
        )
    count = [(steps, 100.0) for steps, _ in phases]
    series.append(InputSeries(series=labels_text(f"{n.duration}_count", base), values=counter(count)))
    return series


def _p95(edges: tuple[float, ...], bucket: int) -> float:
    """histogram_quantile(0.95) when every request falls in bucket `bucket` (linear interpolation)."""
    lower = edges[bucket - 1] if bucket > 0 else 0.0
    return lower + (edges[bucket] - lower) * 0.95


def _latency_tests(settings: StackSettings, service: Service) -> list[TestGroup]:
    edges = settings.buckets(service)
    warn, crit = edges.index(service.latency.warning), edges.index(service.latency.critical)
    time = Timeline(settings, settings.timing.latency_for, True, settings.timing.scrape_interval)

    def fired(levels: tuple[str, ...], bucket: int) -> Fired:
        return [
            (
                {"severity": level, c.SERVICE_LABEL: service.name},
                _p95(edges, bucket),
                r.latency_texts(settings, service, level),
            )
            for level in levels
        ]

    def above(bucket: int, levels: tuple[str, ...]) -> TestGroup:
        series = _histogram(service, edges, [(time.high_steps, bucket), (time.low_steps, warn)])
        checks = lifecycle(settings, c.ALERT_LATENCY, service, "latency", fired(levels, bucket), time)
        return TestGroup(interval=str(time.step), input_series=tuple(series), alert_rule_test=checks)

    below = TestGroup(
        interval=str(time.step),
        input_series=tuple(_histogram(service, edges, [(time.high_steps + time.low_steps, warn)])),
        alert_rule_test=silent(c.ALERT_LATENCY, time.fire, time.resolved),
    )
    return [above(warn + 1, ("warning",)), above(crit + 1, ("warning", "critical")), below]


# --- errors ----------------------------------------------------------------------------------------


def _error_tests(settings: StackSettings, service: Service) -> list[TestGroup]:
    cfg = service.error_rate
    time = Timeline(settings, settings.timing.error_rate_for, True, settings.timing.scrape_interval)
    busy = max(100.0, cfg.min_request_rate * time.step.seconds * 20)
    quiet = cfg.min_request_rate * time.step.seconds / 2

    def group(ratio: float, levels: tuple[str, ...]) -> TestGroup:
        series = requests(service, [(time.high_steps, busy, ratio), (time.low_steps, busy, 0.0)])
        fired: Fired = [
            (
                {"severity": level, c.SERVICE_LABEL: service.name},
                ratio,
                r.error_texts(settings, service, level),
            )
            for level in levels
        ]
        checks = lifecycle(settings, c.ALERT_ERRORS, service, "errors", fired, time)
        return TestGroup(interval=str(time.step), input_series=tuple(series), alert_rule_test=checks)

    def quiet_group(per_step: float, ratio: float) -> TestGroup:
        series = requests(service, [(time.high_steps + time.low_steps, per_step, ratio)])
        return TestGroup(
            interval=str(time.step),
            input_series=tuple(series),
            alert_rule_test=silent(c.ALERT_ERRORS, time.fire, time.resolved),
        )

    return [
        group(min(cfg.warning * 1.1, (cfg.warning + cfg.critical) / 2), ("warning",)),
        group(min(cfg.critical * 1.1, (cfg.critical + 1) / 2), ("warning", "critical")),
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


def _pool_tests(settings: StackSettings, service: Service, cfg: DBPoolAlert) -> list[TestGroup]:
    time = Timeline(settings, settings.timing.db_pool_for, False, settings.timing.scrape_interval)
    at_warning = math.floor(cfg.warning * POOL_CAPACITY)

    def group(in_use: int, levels: tuple[str, ...]) -> TestGroup:
        series = _pool(service, [(time.high_steps, in_use, 0), (time.low_steps, at_warning, 0)])
        fired: Fired = [
            (
                {"severity": level, c.SERVICE_LABEL: service.name},
                in_use / POOL_CAPACITY,
                r.pool_texts(service, cfg, level),
            )
            for level in levels
        ]
        checks = lifecycle(settings, c.ALERT_POOL, service, "saturation", fired, time)
        checks += silent(c.ALERT_POOL_WAITING, time.fire)
        return TestGroup(interval=str(time.step), input_series=tuple(series), alert_rule_test=checks)

    waiting = cfg.waiting_threshold + 1
    waiting_series = _pool(service, [(time.high_steps, 0, waiting), (time.low_steps, 0, cfg.waiting_threshold)])
    fired: Fired = [
        ({"severity": "warning", c.SERVICE_LABEL: service.name}, waiting, r.pool_waiting_texts(service, cfg))
    ]
    waits = TestGroup(
        interval=str(time.step),
        input_series=tuple(waiting_series),
        alert_rule_test=lifecycle(settings, c.ALERT_POOL_WAITING, service, "saturation", fired, time),
    )
    below = TestGroup(
        interval=str(time.step),
        input_series=tuple(_pool(service, [(time.high_steps + time.low_steps, at_warning, 0)])),
        alert_rule_test=silent(c.ALERT_POOL, time.fire, time.resolved),
    )
    return [
        group(at_warning + 1, ("warning",)),
        group(math.floor(cfg.critical * POOL_CAPACITY) + 1, ("warning", "critical")),
        below,
        waits,
    ]


# --- SLO burn rate ---------------------------------------------------------------------------------


def _burn_file(settings: StackSettings, service: Service) -> RuleTestFile | None:
    """Burn-rate alerts have no `for:`, so their tests evaluate at a coarser step (much faster)."""
    tiers = [t for t in r.enabled_tiers(settings) if r.burn_possible(service, t)]
    if not tiers:
        return None
    shorts = [t.scaled(settings.timing.slo_window)[1] for t in tiers]
    scrape = settings.timing.scrape_interval.ms
    step = Duration(math.ceil(max(scrape, min(s.ms for s in shorts) // 5) / scrape) * scrape)
    groups = _burn_tests(settings, service, tiers, shorts, step)
    return promtool_file(settings, c.rules_file(service.name), groups, c.rule_groups(service.name), step)


def _burn_tests(
    settings: StackSettings,
    service: Service,
    tiers: list[c.BurnTierSpec],
    shorts: list[Duration],
    step: Duration,
) -> list[TestGroup]:
    """Uniform error ratios 10 % above and below each tier's threshold: every tier whose threshold is
    below the ratio fires, the others do not."""
    budget = r.error_budget(service)
    fire_at = step * 2
    high = 3
    low = math.ceil(max(s.ms for s in shorts) / step.ms) + 3
    resolved = Duration((high + low - 1) * step.ms)

    def group(ratio: float) -> TestGroup:
        firing = [t for t in tiers if t.factor * budget < ratio]
        series = requests(service, [(high, 1000.0, ratio), (low, 1000.0, 0.0)])
        fired: Fired = [
            (
                {"severity": t.severity, c.SERVICE_LABEL: service.name, "burnrate_tier": t.name},
                ratio / budget,
                r.burn_texts(settings, service, t),
            )
            for t in firing
        ]
        checks = (
            expect(settings, c.ALERT_BURN, service.name, "slo", fired, fire_at),
            AlertRuleTest(eval_time=str(resolved), alertname=c.ALERT_BURN),
        )
        return TestGroup(interval=str(step), input_series=tuple(series), alert_rule_test=checks)

    groups = []
    for tier in tiers:
        threshold = tier.factor * budget
        groups.append(group(min(threshold * 1.1, (threshold + 1) / 2)))
        groups.append(group(threshold * 0.9))
    return groups


# --- absent, target down, watchdog ---------------------------------------------------------------


def _absent_tests(settings: StackSettings, service: Service) -> list[TestGroup]:
    time = Timeline(settings, settings.timing.absent_for, False, settings.timing.scrape_interval)
    up = InputSeries(series=labels_text("up", target(service)), values=gauge([(time.high_steps, 1)]))
    fired: Fired = [({"severity": "warning", c.SERVICE_LABEL: service.name}, None, r.absent_texts(service))]
    absent = TestGroup(
        interval=str(time.step),
        input_series=(up,),
        alert_rule_test=(
            AlertRuleTest(eval_time=str(time.before), alertname=c.ALERT_ABSENT),
            expect(settings, c.ALERT_ABSENT, service.name, "traffic", fired, time.fire),
        ),
    )
    present = TestGroup(
        interval=str(time.step),
        input_series=(up, *requests(service, [(time.high_steps, 10.0, 0.0)])),
        alert_rule_test=silent(c.ALERT_ABSENT, time.fire),
    )
    return [absent, present]


def _platform_tests(settings: StackSettings) -> RuleTestFile:
    service = settings.services[0]
    time = Timeline(settings, settings.timing.target_down_for, False, settings.timing.scrape_interval)
    labels = target(service)
    up = InputSeries(series=labels_text("up", labels), values=gauge([(time.high_steps, 0), (time.low_steps, 1)]))
    down: Fired = [({**labels, "severity": "critical"}, None, r.target_down_texts(settings))]
    watchdog: Fired = [({"severity": "none", c.SERVICE_LABEL: c.PLATFORM_SERVICE}, None, r.WATCHDOG_TEXTS)]
    checks = (
        AlertRuleTest(eval_time=str(time.before), alertname=c.ALERT_TARGET_DOWN),
        expect(settings, c.ALERT_TARGET_DOWN, None, None, down, time.fire),
        AlertRuleTest(eval_time=str(time.resolved), alertname=c.ALERT_TARGET_DOWN),
        expect(settings, c.ALERT_WATCHDOG, None, None, watchdog, Duration(0)),
        expect(settings, c.ALERT_WATCHDOG, None, None, watchdog, time.resolved),
    )
    group = TestGroup(interval=str(time.step), input_series=(up,), alert_rule_test=checks)
    return promtool_file(settings, c.PLATFORM_RULES_FILE, [group])


# --- business ratio alerts -------------------------------------------------------------------------


def _business_tests(settings: StackSettings, service: Service) -> list[TestGroup]:
    groups = []
    for alert in service.business.alerts:
        above = min(alert.above * 1.1, (alert.above + 1) / 2)
        groups += [_business_group(settings, service, alert, above), _business_group(settings, service, alert, None)]
    return groups


def _business_group(settings: StackSettings, service: Service, alert: BusinessAlert, ratio: float | None) -> TestGroup:
    """`ratio` above the threshold: the full lifecycle; None: 10 % below it, silent throughout."""
    time = Timeline(settings, alert.for_, True, settings.timing.scrape_interval)
    busy = max(100.0, alert.min_rate * time.step.seconds * 20)
    shown = ratio if ratio is not None else alert.above * 0.9
    phases = [(time.high_steps, busy, shown), (time.low_steps, busy, 0.0)]
    series = b.business_series(service, alert, target(service), phases)
    if ratio is None:
        checks = silent(alert.name, time.fire, time.resolved)
    else:
        labels = {"severity": alert.severity, c.SERVICE_LABEL: service.name}
        fired: Fired = [(labels, ratio, b.business_texts(settings, service, alert))]
        checks = lifecycle(settings, alert.name, service, "business", fired, time)
    return TestGroup(interval=str(time.step), input_series=tuple(series), alert_rule_test=checks)
