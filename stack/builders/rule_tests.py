"""settings -> promtool unit tests for every generated alert.

Each alert gets: fires above its threshold exactly when `for:` has elapsed (silent one evaluation
before), stays silent just below the threshold, resolves after recovery, and renders its annotations.
The error-rate alert is also silent under the traffic guard. Values in annotations are computed with
Python ports of Prometheus' humanize functions.
"""

from __future__ import annotations

import math
import posixpath

from stack import conventions as c
from stack.builders import business as b
from stack.builders import rules as r
from stack.builders.annotations import Texts, links
from stack.builders.series import counter, gauge, labels_text
from stack.durations import Duration
from stack.models.rules import AlertRuleTest, ExpectedAlert, InputSeries, RuleTestFile, TestGroup
from stack.settings import BusinessAlert, Service, StackSettings

Alerts = list[tuple[dict[str, str], float | None]]


def build_rule_tests(settings: StackSettings) -> dict[str, RuleTestFile]:
    files: dict[str, RuleTestFile] = {}
    for service in settings.services:
        files[c.rules_test_file(c.rules_file(service.name))] = _service_tests(settings, service)
        burn = _burn_file(settings, service)
        if burn is not None:
            files[c.slo_test_file(c.rules_file(service.name))] = burn
    files[c.rules_test_file(c.PLATFORM_RULES_FILE)] = _platform_tests(settings)
    return files


def _file(
    settings: StackSettings,
    rules_file: str,
    groups: list[TestGroup],
    order: tuple[str, ...] | None = None,
    evaluation_interval: Duration | None = None,
) -> RuleTestFile:
    """promtool evaluates rule groups in random order unless told: recording rules must come first."""
    return RuleTestFile(
        rule_files=(posixpath.join("..", rules_file),),
        evaluation_interval=str(evaluation_interval or settings.timing.evaluation_interval),
        group_eval_order=order,
        tests=tuple(groups),
    )


class Timeline:
    """When an alert that needs `for_` should fire, given the first evaluation where it holds."""

    def __init__(self, settings: StackSettings, for_: Duration, needs_rate: bool, interval: Duration) -> None:
        self.step, self.eval = interval, settings.timing.evaluation_interval
        start = self._ceil(interval.ms) if needs_rate else 0
        self.fire = Duration(start + self._ceil(for_.ms))
        self.before = Duration(self.fire.ms - self.eval.ms)
        self.high_steps = math.ceil((self.fire.ms + self.eval.ms) / interval.ms) + 1
        recover = settings.timing.rate_window.ms if needs_rate else 0
        self.low_steps = math.ceil(recover / interval.ms) + 4
        self.resolved = Duration(self._ceil((self.high_steps + self.low_steps - 1) * interval.ms))

    def _ceil(self, ms: int) -> int:
        return math.ceil(ms / self.eval.ms) * self.eval.ms


Fired = list[tuple[dict[str, str], float | None, Texts]]


def _expect(
    settings: StackSettings, alert: str, service: str | None, panel: str | None, fired: Fired, at: Duration
) -> AlertRuleTest:
    """At `at`, exactly the alerts in `fired` (labels, value, texts) are firing for `alert`."""
    runbook, dashboard = links(settings, alert, service, panel)
    expected = tuple(
        ExpectedAlert(exp_labels=labels, exp_annotations=texts.expected(value, labels, runbook, dashboard))
        for labels, value, texts in fired
    )
    return AlertRuleTest(eval_time=str(at), alertname=alert, exp_alerts=expected)


def _lifecycle(
    settings: StackSettings, alert: str, service: Service, panel: str, fired: Fired, time: Timeline
) -> tuple[AlertRuleTest, ...]:
    """Silent one evaluation before `for:` elapses, firing when it has, resolved after recovery."""
    return (
        AlertRuleTest(eval_time=str(time.before), alertname=alert),
        _expect(settings, alert, service.name, panel, fired, time.fire),
        AlertRuleTest(eval_time=str(time.resolved), alertname=alert),
    )


def _silent(alert: str, *times: Duration) -> tuple[AlertRuleTest, ...]:
    return tuple(AlertRuleTest(eval_time=str(t), alertname=alert) for t in times)


def _target(service: Service) -> dict[str, str]:
    return {
        "job": service.name,
        "instance": f"{service.target_host}:{service.port}",
        c.SERVICE_LABEL: service.name,
    }


def _service_tests(settings: StackSettings, service: Service) -> RuleTestFile:
    groups: list[TestGroup] = []
    if service.latency.enabled:
        groups += _latency_tests(settings, service)
    if service.error_rate.enabled:
        groups += _error_tests(settings, service)
    if service.db_pool.enabled:
        groups += _pool_tests(settings, service)
    if service.absent_alert:
        groups += _absent_tests(settings, service)
    groups += _business_tests(settings, service)
    return _file(settings, c.rules_file(service.name), groups, c.rule_groups(service.name))


# --- latency -------------------------------------------------------------------------------------


def _histogram(service: Service, edges: tuple[float, ...], phases: list[tuple[int, int]]) -> list[InputSeries]:
    """Cumulative bucket counters; each phase is (steps, index of the bucket that gets 100 requests)."""
    base = {**_target(service), "handler": "/orders", "method": "GET"}
    series = []
    for index, edge in enumerate((*edges, math.inf)):
        le = "+Inf" if math.isinf(edge) else f"{edge:g}"
        segments = [(steps, 100.0 if index >= bucket else 0.0) for steps, bucket in phases]
        series.append(
            InputSeries(series=labels_text(f"{c.HTTP_DURATION}_bucket", {**base, "le": le}), values=counter(segments))
        )
    count = [(steps, 100.0) for steps, _ in phases]
    series.append(InputSeries(series=labels_text(f"{c.HTTP_DURATION}_count", base), values=counter(count)))
    return series


def _p95(edges: tuple[float, ...], bucket: int) -> float:
    """histogram_quantile(0.95) when every request falls in bucket `bucket` (linear interpolation)."""
    lower = edges[bucket - 1] if bucket > 0 else 0.0
    return lower + (edges[bucket] - lower) * 0.95


def _latency_tests(settings: StackSettings, service: Service) -> list[TestGroup]:
    edges = settings.metrics.latency_buckets
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
        checks = _lifecycle(settings, c.ALERT_LATENCY, service, "latency", fired(levels, bucket), time)
        return TestGroup(interval=str(time.step), input_series=tuple(series), alert_rule_test=checks)

    below = TestGroup(
        interval=str(time.step),
        input_series=tuple(_histogram(service, edges, [(time.high_steps + time.low_steps, warn)])),
        alert_rule_test=_silent(c.ALERT_LATENCY, time.fire, time.resolved),
    )
    return [above(warn + 1, ("warning",)), above(crit + 1, ("warning", "critical")), below]


# --- errors ----------------------------------------------------------------------------------------


def _requests(service: Service, phases: list[tuple[int, float, float]]) -> list[InputSeries]:
    """2xx and 5xx counters; each phase is (steps, requests per step, 5xx ratio)."""
    base = {**_target(service), "handler": "/orders", "method": "GET"}
    ok = [(steps, n * (1 - ratio)) for steps, n, ratio in phases]
    bad = [(steps, n * ratio) for steps, n, ratio in phases]
    return [
        InputSeries(series=labels_text(c.HTTP_REQUESTS, {**base, "status": "2xx"}), values=counter(ok)),
        InputSeries(series=labels_text(c.HTTP_REQUESTS, {**base, "status": c.ERROR_STATUS}), values=counter(bad)),
    ]


def _error_tests(settings: StackSettings, service: Service) -> list[TestGroup]:
    cfg = service.error_rate
    time = Timeline(settings, settings.timing.error_rate_for, True, settings.timing.scrape_interval)
    busy = max(100.0, cfg.min_request_rate * time.step.seconds * 20)
    quiet = cfg.min_request_rate * time.step.seconds / 2

    def group(ratio: float, levels: tuple[str, ...]) -> TestGroup:
        series = _requests(service, [(time.high_steps, busy, ratio), (time.low_steps, busy, 0.0)])
        fired: Fired = [
            (
                {"severity": level, c.SERVICE_LABEL: service.name},
                ratio,
                r.error_texts(settings, service, level),
            )
            for level in levels
        ]
        checks = _lifecycle(settings, c.ALERT_ERRORS, service, "errors", fired, time)
        return TestGroup(interval=str(time.step), input_series=tuple(series), alert_rule_test=checks)

    def silent(requests: float, ratio: float) -> TestGroup:
        series = _requests(service, [(time.high_steps + time.low_steps, requests, ratio)])
        return TestGroup(
            interval=str(time.step),
            input_series=tuple(series),
            alert_rule_test=_silent(c.ALERT_ERRORS, time.fire, time.resolved),
        )

    return [
        group(min(cfg.warning * 1.1, (cfg.warning + cfg.critical) / 2), ("warning",)),
        group(min(cfg.critical * 1.1, (cfg.critical + 1) / 2), ("warning", "critical")),
        silent(busy, cfg.warning * 0.9),
        silent(quiet, 0.5),
    ]


# --- DB pool ---------------------------------------------------------------------------------------

POOL_CAPACITY = 1000


def _pool(service: Service, phases: list[tuple[int, float, float]]) -> list[InputSeries]:
    """Pool gauges; each phase is (steps, connections in use, requests waiting)."""
    base = {**_target(service), "pool": "default"}
    steps = sum(p[0] for p in phases)
    return [
        InputSeries(series=labels_text(c.DB_POOL_IN_USE, base), values=gauge([(s, u) for s, u, _ in phases])),
        InputSeries(series=labels_text(c.DB_POOL_MAX, base), values=gauge([(steps, POOL_CAPACITY)])),
        InputSeries(series=labels_text(c.DB_POOL_WAITING, base), values=gauge([(s, w) for s, _, w in phases])),
    ]


def _pool_tests(settings: StackSettings, service: Service) -> list[TestGroup]:
    cfg = service.db_pool
    time = Timeline(settings, settings.timing.db_pool_for, False, settings.timing.scrape_interval)
    at_warning = math.floor(cfg.warning * POOL_CAPACITY)

    def group(in_use: int, levels: tuple[str, ...]) -> TestGroup:
        series = _pool(service, [(time.high_steps, in_use, 0), (time.low_steps, at_warning, 0)])
        fired: Fired = [
            (
                {"severity": level, c.SERVICE_LABEL: service.name},
                in_use / POOL_CAPACITY,
                r.pool_texts(service, level),
            )
            for level in levels
        ]
        checks = _lifecycle(settings, c.ALERT_POOL, service, "saturation", fired, time)
        checks += _silent(c.ALERT_POOL_WAITING, time.fire)
        return TestGroup(interval=str(time.step), input_series=tuple(series), alert_rule_test=checks)

    waiting = cfg.waiting_threshold + 1
    waiting_series = _pool(service, [(time.high_steps, 0, waiting), (time.low_steps, 0, cfg.waiting_threshold)])
    fired: Fired = [({"severity": "warning", c.SERVICE_LABEL: service.name}, waiting, r.pool_waiting_texts(service))]
    waits = TestGroup(
        interval=str(time.step),
        input_series=tuple(waiting_series),
        alert_rule_test=_lifecycle(settings, c.ALERT_POOL_WAITING, service, "saturation", fired, time),
    )
    below = TestGroup(
        interval=str(time.step),
        input_series=tuple(_pool(service, [(time.high_steps + time.low_steps, at_warning, 0)])),
        alert_rule_test=_silent(c.ALERT_POOL, time.fire, time.resolved),
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
    return _file(settings, c.rules_file(service.name), groups, c.rule_groups(service.name), step)


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
        series = _requests(service, [(high, 1000.0, ratio), (low, 1000.0, 0.0)])
        fired: Fired = [
            (
                {"severity": t.severity, c.SERVICE_LABEL: service.name, "burnrate_tier": t.name},
                ratio / budget,
                r.burn_texts(settings, service, t),
            )
            for t in firing
        ]
        checks = (
            _expect(settings, c.ALERT_BURN, service.name, "slo", fired, fire_at),
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
    up = InputSeries(series=labels_text("up", _target(service)), values=gauge([(time.high_steps, 1)]))
    fired: Fired = [({"severity": "warning", c.SERVICE_LABEL: service.name}, None, r.absent_texts(service))]
    absent = TestGroup(
        interval=str(time.step),
        input_series=(up,),
        alert_rule_test=(
            AlertRuleTest(eval_time=str(time.before), alertname=c.ALERT_ABSENT),
            _expect(settings, c.ALERT_ABSENT, service.name, "traffic", fired, time.fire),
        ),
    )
    present = TestGroup(
        interval=str(time.step),
        input_series=(up, *_requests(service, [(time.high_steps, 10.0, 0.0)])),
        alert_rule_test=_silent(c.ALERT_ABSENT, time.fire),
    )
    return [absent, present]


def _platform_tests(settings: StackSettings) -> RuleTestFile:
    service = settings.services[0]
    time = Timeline(settings, settings.timing.target_down_for, False, settings.timing.scrape_interval)
    labels = _target(service)
    up = InputSeries(series=labels_text("up", labels), values=gauge([(time.high_steps, 0), (time.low_steps, 1)]))
    down: Fired = [({**labels, "severity": "critical"}, None, r.target_down_texts(settings))]
    watchdog: Fired = [({"severity": "none", c.SERVICE_LABEL: c.PLATFORM_SERVICE}, None, r.WATCHDOG_TEXTS)]
    checks = (
        AlertRuleTest(eval_time=str(time.before), alertname=c.ALERT_TARGET_DOWN),
        _expect(settings, c.ALERT_TARGET_DOWN, None, None, down, time.fire),
        AlertRuleTest(eval_time=str(time.resolved), alertname=c.ALERT_TARGET_DOWN),
        _expect(settings, c.ALERT_WATCHDOG, None, None, watchdog, Duration(0)),
        _expect(settings, c.ALERT_WATCHDOG, None, None, watchdog, time.resolved),
    )
    group = TestGroup(interval=str(time.step), input_series=(up,), alert_rule_test=checks)
    return _file(settings, c.PLATFORM_RULES_FILE, [group])


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
    series = b.business_series(service, alert, _target(service), phases)
    if ratio is None:
        checks = _silent(alert.name, time.fire, time.resolved)
    else:
        labels = {"severity": alert.severity, c.SERVICE_LABEL: service.name}
        fired: Fired = [(labels, ratio, b.business_texts(settings, service, alert))]
        checks = _lifecycle(settings, alert.name, service, "business", fired, time)
    return TestGroup(interval=str(time.step), input_series=tuple(series), alert_rule_test=checks)
