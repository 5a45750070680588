"""Building blocks of the generated promtool tests: timelines, expected alerts, target labels, series."""

from __future__ import annotations

import math
import posixpath
from functools import lru_cache

from stack import conventions as c
from stack.builders.annotations import Texts
from stack.builders.promql import names
from stack.builders.series import counter, gauge, labels_text
from stack.durations import Duration
from stack.models.rules import AlertRuleTest, ExpectedAlert, InputSeries, RuleTestFile, TestGroup
from stack.settings import Service, StackSettings

Fired = list[tuple[dict[str, str], float | None, Texts]]
# (a success, a failure) status label value: the instrumentator groups codes, OpenTelemetry keeps them raw, and
# so do most hand-written metrics (the rules match both: c.ERROR_STATUS_REGEX)
STATUS_STYLES = {"instrumentator": ("2xx", "5xx"), "otel": ("200", "503"), "custom": ("200", "503")}


def promtool_file(
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


def expect(alert: str, fired: Fired, at: Duration) -> AlertRuleTest:
    """At `at`, exactly the alerts in `fired` (labels, value, texts) are firing for `alert`.

    Their runbook and dashboard links are added afterwards by annotations.add_expected_links.
    """
    expected = tuple(
        ExpectedAlert(exp_labels=labels, exp_annotations=texts.expected(value, labels))
        for labels, value, texts in fired
    )
    return AlertRuleTest(eval_time=str(at), alertname=alert, exp_alerts=expected)


def lifecycle(alert: str, fired: Fired, time: Timeline) -> tuple[AlertRuleTest, ...]:
    """Silent one evaluation before `for:` elapses, firing when it has, resolved after recovery."""
    return quiet(alert, time.before), expect(alert, fired, time.fire), quiet(alert, time.resolved)


def silent(alert: str, *times: Duration) -> tuple[AlertRuleTest, ...]:
    return tuple(quiet(alert, t) for t in times)


@lru_cache(maxsize=1024)
def quiet(alert: str, at: Duration) -> AlertRuleTest:
    """At `at`, no `alert` is firing. One instance per (alert, time), shared by every service's tests: it is a
    frozen value, and the links pass keeps a check without expected alerts as it is."""
    return AlertRuleTest(eval_time=str(at), alertname=alert)


class Outage:
    """The one scenario stack-wide alerts are tested in: the first service's target is down for
    `target_down_for`, then back."""

    def __init__(self, settings: StackSettings) -> None:
        timing = settings.timing
        scraped = [s for s in settings.services if s.scraped]
        prometheus = {"job": "prometheus", "instance": f"localhost:{settings.components.prometheus.port}",
                      c.SERVICE_LABEL: "prometheus"}  # fmt: skip
        self.target = target(scraped[0]) if scraped else prometheus
        self.time = Timeline(settings, timing.target_down_for, False, timing.scrape_interval)

    def up(self) -> InputSeries:
        values = gauge([(self.time.high_steps, 0), (self.time.low_steps, 1)])
        return InputSeries(series=labels_text("up", self.target), values=values)


def target(service: Service) -> dict[str, str]:
    """The labels Prometheus gives the service's series: a scrape job's (job, instance, service), or for a pushed
    service what remote write makes of its resource (service_name, instance: service.instance.id) and the
    collector's transform adds (service)."""
    if not service.scraped:
        return {"instance": f"{service.name}-0", "service_name": service.name, c.SERVICE_LABEL: service.name}
    return {
        "job": service.name,
        "instance": f"{service.address}:{service.scrape_port}",
        c.SERVICE_LABEL: service.name,
    }


class Requests:
    """A service's 2xx and 5xx request counters: their series texts built once, their values per phases."""

    def __init__(self, service: Service) -> None:
        n = names(service)
        base = {**target(service), n.route: "/orders", n.method: "GET"}
        ok_status, bad_status = STATUS_STYLES[service.metrics_convention]
        self.ok = labels_text(n.requests, {**base, n.status: ok_status})
        self.bad = labels_text(n.requests, {**base, n.status: bad_status})

    def __call__(self, phases: list[tuple[int, float | None, float]]) -> list[InputSeries]:
        """Each phase is (steps, requests per step, 5xx ratio), None requests: no samples."""
        ok = [(steps, None if count is None else count * (1 - ratio)) for steps, count, ratio in phases]
        bad = [(steps, None if count is None else count * ratio) for steps, count, ratio in phases]
        return [InputSeries(series=self.ok, values=counter(ok)), InputSeries(series=self.bad, values=counter(bad))]


def requests(service: Service, phases: list[tuple[int, float | None, float]]) -> list[InputSeries]:
    """2xx and 5xx counters; each phase is (steps, requests per step, 5xx ratio), None requests: no samples."""
    return Requests(service)(phases)
