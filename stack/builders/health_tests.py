"""Generated promtool tests of the absent, traffic-drop and restart alerts (see builders/health.py).

ServiceMetricsAbsent: only `up` fires it when `for:` has elapsed; request series keep it silent.
TrafficDrop: traffic at a steady rate for a whole baseline window, then none. The current rate falls
gradually over one rate window, so the tests assert bounds that hold for any shape of that fall: silent
when `for:` has elapsed since the drop (the condition cannot hold at the drop itself), firing once the
current rate has been exactly 0 for `for:`, and resolved one rate window after traffic returns. A drop
to just above the threshold, a service below the baseline guard and a target that is down (for a pushed
service: pushes that stop, no samples at all) stay silent. A pushed service has no `up` series.
ServiceRestarting: the process start time changes N+1 times (fires, value N+1) or N times (silent).
"""

from __future__ import annotations

import math

from stack import conventions as c
from stack.builders.alerts_kind import WARNING, alert_labels
from stack.builders.health import absent_texts, restart_texts, traffic_drop_texts
from stack.builders.rule_test_kit import Fired, Requests, Timeline, expect, quiet, requests, silent, target
from stack.builders.series import gauge, labels_text
from stack.durations import Duration
from stack.models.rules import InputSeries, TestGroup
from stack.settings import Service, StackSettings


class DropTimes:
    """Sample counts and evaluation times of one traffic-drop scenario, on the evaluation grid."""

    def __init__(self, settings: StackSettings) -> None:
        t = settings.timing
        self.step, self.eval = t.scrape_interval.ms, t.evaluation_interval.ms
        self.busy_steps = math.ceil((t.traffic_baseline_window.ms + t.rate_window.ms) / self.step) + 1
        drop = self.busy_steps * self.step
        self.silent = self._floor(drop + t.traffic_drop_for.ms)
        self.fire = self._ceil(drop + t.rate_window.ms + self.step) + self._ceil(t.traffic_drop_for.ms) + self.eval
        self.low_steps = math.ceil((self.fire - drop) / self.step) + 1
        back = drop + self.low_steps * self.step
        self.resolved = self._ceil(back + t.rate_window.ms + self.eval)
        self.back_steps = math.ceil((self.resolved - back) / self.step) + 2

    def _ceil(self, ms: int) -> int:
        return math.ceil(ms / self.eval) * self.eval

    def _floor(self, ms: int) -> int:
        return ms // self.eval * self.eval

    def at(self, ms: int) -> Duration:
        return Duration(ms)


def _drop_group(settings: StackSettings, service: Service, times: DropTimes, traffic: Requests, busy: float,
                low: float, up_during_drop: bool, fires: bool) -> TestGroup:  # fmt: skip
    per_step = settings.timing.scrape_interval.seconds
    stopped = not service.scraped and not up_during_drop  # a pushed service's "target down": no pushes
    phases: list[tuple[int, float | None, float]] = [
        (times.busy_steps, busy * per_step, 0.0),
        (times.low_steps, None if stopped else low * per_step, 0.0),
        (times.back_steps, busy * per_step, 0.0),
    ]
    up_values = [
        (times.busy_steps + 1, 1.0),
        (times.low_steps, 1.0 if up_during_drop else 0.0),
        (times.back_steps, 1.0),
    ]
    up = (InputSeries(series=labels_text("up", target(service)), values=gauge(up_values)),) if service.scraped else ()
    alert, checks = c.ALERT_TRAFFIC_DROP, silent(c.ALERT_TRAFFIC_DROP, times.at(times.silent))
    if fires:
        fired: Fired = [(alert_labels(service, WARNING), 0.0, traffic_drop_texts(settings, service))]
        checks += (expect(alert, fired, times.at(times.fire)),)
    else:
        checks += silent(alert, times.at(times.fire))
    checks += silent(alert, times.at(times.resolved))
    return TestGroup(interval=str(settings.timing.scrape_interval), input_series=(*up, *traffic(phases)),
                     alert_rule_test=checks)  # fmt: skip


def traffic_drop_cases(settings: StackSettings, service: Service) -> list[TestGroup]:
    cfg, times, traffic = service.traffic_drop, DropTimes(settings), Requests(service)
    busy = 10 * cfg.min_baseline_rate
    just_above = min(cfg.below * 1.5, (cfg.below + 1) / 2)
    return [
        _drop_group(settings, service, times, traffic, busy, 0.0, up_during_drop=True, fires=True),
        _drop_group(settings, service, times, traffic, busy, busy * just_above, up_during_drop=True, fires=False),
        _drop_group(
            settings, service, times, traffic, cfg.min_baseline_rate / 2, 0.0, up_during_drop=True, fires=False
        ),
        _drop_group(settings, service, times, traffic, busy, 0.0, up_during_drop=False, fires=False),
    ]


def _start_times(changes: int, every: int, hold: int) -> str:
    """A process start time that changes `changes` times, once every `every` samples, then holds."""
    values = [1_000_000 + 60 * (i // every) for i in range(changes * every + 1)]
    return " ".join(str(v) for v in values) + f" {values[-1]}+0x{hold}"


def restart_cases(settings: StackSettings, service: Service) -> list[TestGroup]:
    t, most = settings.timing, service.restarts.max_restarts
    step, ev = t.scrape_interval.ms, t.evaluation_interval.ms
    every = math.ceil(ev / step)
    last_change = (most + 1) * every * step
    fire = math.ceil(last_change / ev) * ev
    resolved = math.ceil((last_change + t.restart_window.ms + ev) / ev) * ev
    hold = math.ceil((resolved - last_change) / step) + 2
    series = labels_text(c.PROCESS_START, target(service))
    fired: Fired = [(alert_labels(service, WARNING), float(most + 1), restart_texts(settings, service))]
    alert = c.ALERT_RESTARTS
    restarts = TestGroup(
        interval=str(t.scrape_interval),
        input_series=(InputSeries(series=series, values=_start_times(most + 1, every, hold)),),
        alert_rule_test=(
            quiet(alert, Duration(fire - ev)),
            expect(alert, fired, Duration(fire)),
            quiet(alert, Duration(resolved)),
        ),
    )
    fewer = TestGroup(
        interval=str(t.scrape_interval),
        input_series=(InputSeries(series=series, values=_start_times(most, every, hold + every)),),
        alert_rule_test=silent(alert, Duration(fire), Duration(resolved)),
    )
    return [restarts, fewer]


def absent_cases(settings: StackSettings, service: Service) -> list[TestGroup]:
    time = Timeline(settings, settings.timing.absent_for, False, settings.timing.scrape_interval)
    up = InputSeries(series=labels_text("up", target(service)), values=gauge([(time.high_steps, 1)]))
    # a scraped target is up but has no request series; a pushed service has no `up` at all
    context = (up,) if service.scraped else ()
    fired: Fired = [(alert_labels(service, WARNING), None, absent_texts(settings, service))]
    absent = TestGroup(
        interval=str(time.step),
        input_series=context,
        alert_rule_test=(
            quiet(c.ALERT_ABSENT, time.before),
            expect(c.ALERT_ABSENT, fired, time.fire),
        ),
    )
    present = TestGroup(
        interval=str(time.step),
        input_series=(*context, *requests(service, [(time.high_steps, 10.0, 0.0)])),
        alert_rule_test=silent(c.ALERT_ABSENT, time.fire),
    )
    return [absent, present]
