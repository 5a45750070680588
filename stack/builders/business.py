"""settings -> the business part of a service: ratio alerts, their promtool tests, and panel specs.

Each declared alert is one alert kind (`business_kinds`), listed after the catalogue's built-in kinds.
Panel specs are plain data (title, unit, queries); the dashboards builder turns them into panels, so
Grafana's dashboard model stays in one module (stack.builders.panels).
"""

from __future__ import annotations

from dataclasses import dataclass

from stack import conventions as c
from stack.builders import promql as q
from stack.builders.alerts_kind import AlertKind, Variant, alert_labels
from stack.builders.annotations import Texts, link_rule, percent_text
from stack.builders.rule_test_kit import Fired, Timeline, lifecycle, silent, target
from stack.builders.series import counter, labels_text
from stack.models.rules import AlertingRule, InputSeries, TestGroup
from stack.settings import BusinessAlert, BusinessMetric, Service, StackSettings

BUSINESS_PANEL = "business"


@dataclass(frozen=True)
class PanelSpec:
    title: str
    unit: str
    queries: tuple[tuple[str, str], ...]  # (expr with $service, $instance and $__rate_interval; legend)


def events_metric(metric: BusinessMetric) -> str:
    """The counter whose rate counts events: the counter itself, or a histogram's _count."""
    return metric.name if metric.type == "counter" else f"{metric.name}_count"


def _metric(service: Service, name: str) -> BusinessMetric:
    return next(m for m in service.business.metrics if m.name == name)


def ratio_expr(settings: StackSettings, service: Service, alert: BusinessAlert) -> tuple[str, str]:
    """(failure ratio, event rate) of the alert's metric over the profile's rate window."""
    metric, w = events_metric(_metric(service, alert.metric)), settings.timing.rate_window
    total = q.sum_by((c.SERVICE_LABEL,), q.rate(q.svc(metric, service.name, **alert.matchers), w))
    failed = q.sum_by((c.SERVICE_LABEL,), q.rate(q.svc(metric, service.name, **alert.matchers, **alert.failure), w))
    return f"({failed} or {total} * 0) / {total}", total


def business_texts(settings: StackSettings, service: Service, alert: BusinessAlert) -> Texts:
    metric = _metric(service, alert.metric)
    failure = ", ".join(f"{k}={v}" for k, v in alert.failure.items())
    return Texts(
        summary=f"{metric.title}: {failure} above {percent_text(alert.above)} on {service.name}",
        description=f"{{value}} of {metric.title.lower()} events of {service.name} have {failure} over "
        f"{settings.timing.rate_window}, above the {percent_text(alert.above)} threshold.",
        value_format="percentage",
    )


def business_expr(settings: StackSettings, service: Service, alert: BusinessAlert) -> str:
    ratio, total = ratio_expr(settings, service, alert)
    expr = f"{ratio} > {q.number(alert.above)}"
    if alert.min_rate > 0:
        expr += f" and on (service) {total} > {q.number(alert.min_rate)}"
    return expr


def business_kind(alert: BusinessAlert) -> AlertKind:
    """A declared ratio alert as an alert kind: one rule at its severity, linked to the Business row."""
    return AlertKind(
        name=alert.name,
        panel=BUSINESS_PANEL,
        applies=lambda settings, service: True,
        expr=lambda settings, service, variant: business_expr(settings, service, alert),
        texts=lambda settings, service, variant: business_texts(settings, service, alert),
        cases=lambda settings, service: business_cases(settings, service, alert),
        for_=lambda settings: alert.for_,
        variants=lambda settings, service: (Variant(alert.severity),),
    )


def business_kinds(service: Service) -> tuple[AlertKind, ...]:
    return tuple(business_kind(alert) for alert in service.business.alerts)


def business_alerts(settings: StackSettings, service: Service) -> tuple[AlertingRule, ...]:
    """The service's business alert rules, with their links."""
    kinds = business_kinds(service)
    panels = {kind.name: kind.panel for kind in kinds}
    return tuple(link_rule(settings, rule, panels) for kind in kinds for rule in kind.rules(settings, service))


def business_series(
    service: Service, alert: BusinessAlert, base: dict[str, str], phases: list[tuple[int, float, float]]
) -> list[InputSeries]:
    """Failure and success counters of the alert's metric; each phase is (steps, events per step, failure ratio)."""
    metric = _metric(service, alert.metric)
    labels = {**base, **alert.matchers}
    ok = {k: next(v for v in metric.labels[k] if v != value) for k, value in alert.failure.items()}
    name = events_metric(metric)
    failed = counter([(steps, n * r) for steps, n, r in phases])
    succeeded = counter([(steps, n * (1 - r)) for steps, n, r in phases])
    return [
        InputSeries(series=labels_text(name, {**labels, **alert.failure}), values=failed),
        InputSeries(series=labels_text(name, {**labels, **ok}), values=succeeded),
    ]


def business_cases(settings: StackSettings, service: Service, alert: BusinessAlert) -> list[TestGroup]:
    above = min(alert.above * 1.1, (alert.above + 1) / 2)
    return [_business_group(settings, service, alert, above), _business_group(settings, service, alert, None)]


def _business_group(settings: StackSettings, service: Service, alert: BusinessAlert, ratio: float | None) -> TestGroup:
    """`ratio` above the threshold: the full lifecycle; None: 10 % below it, silent throughout."""
    time = Timeline(settings, alert.for_, True, settings.timing.scrape_interval)
    busy = max(100.0, alert.min_rate * time.step.seconds * 20)
    shown = ratio if ratio is not None else alert.above * 0.9
    phases = [(time.high_steps, busy, shown), (time.low_steps, busy, 0.0)]
    series = business_series(service, alert, target(service), phases)
    if ratio is None:
        checks = silent(alert.name, time.fire, time.resolved)
    else:
        labels = alert_labels(service, Variant(alert.severity))
        fired: Fired = [(labels, ratio, business_texts(settings, service, alert))]
        checks = lifecycle(alert.name, fired, time)
    return TestGroup(interval=str(time.step), input_series=tuple(series), alert_rule_test=checks)


def business_panels(service: Service) -> list[PanelSpec]:
    """One panel per declared metric: rates by label for counters, levels for gauges, p50/p95 for histograms."""
    panels = []
    selector = '{service="$service",instance=~"$instance"}'
    for metric in service.business.metrics:
        by = ", ".join(metric.labels) or "service"
        legend = " ".join(f"{{{{{k}}}}}" for k in metric.labels) or metric.title
        if metric.type == "counter":
            expr = f"sum by ({by}) (rate({metric.name}{selector}[$__rate_interval]))"
            panels.append(PanelSpec(f"{metric.title} /s", "ops" if metric.unit == "short" else metric.unit,
                                    ((expr, legend),)))  # fmt: skip
        elif metric.type == "gauge":
            panels.append(PanelSpec(metric.title, metric.unit, ((f"sum by ({by}) ({metric.name}{selector})", legend),)))
        else:
            rate = f"rate({metric.name}_bucket{selector}[$__rate_interval])"
            queries = tuple(
                (f"histogram_quantile({p}, sum by (le) ({rate}))", f"p{round(p * 100)}") for p in (0.5, 0.95)
            )
            panels.append(PanelSpec(metric.title, metric.unit, queries))
    return panels
