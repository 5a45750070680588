"""settings -> the business part of a service: ratio alerts, their promtool tests, and panel specs.

Panel specs are plain data (title, unit, queries); the dashboards builder turns them into panels, so
grafanalib stays in one module.
"""

from __future__ import annotations

from dataclasses import dataclass

from stack import conventions as c
from stack.builders import promql as q
from stack.builders.annotations import Texts, links, percent_text
from stack.models.rules import AlertingRule, InputSeries
from stack.settings import BusinessAlert, BusinessMetric, Service, StackSettings


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


def business_alerts(settings: StackSettings, service: Service) -> tuple[AlertingRule, ...]:
    rules = []
    for alert in service.business.alerts:
        ratio, total = ratio_expr(settings, service, alert)
        expr = f"{ratio} > {q.number(alert.above)}"
        if alert.min_rate > 0:
            expr += f" and on (service) {total} > {q.number(alert.min_rate)}"
        runbook, dashboard = links(settings, alert.name, service.name, "business")
        rules.append(
            AlertingRule(
                alert=alert.name,
                expr=expr,
                for_=str(alert.for_),
                labels={"severity": alert.severity, c.SERVICE_LABEL: service.name},
                annotations=business_texts(settings, service, alert).for_rule(runbook, dashboard),
            )
        )
    return tuple(rules)


def business_series(
    service: Service, alert: BusinessAlert, base: dict[str, str], phases: list[tuple[int, float, float]]
) -> list[InputSeries]:
    """Failure and success counters of the alert's metric; each phase is (steps, events per step, failure ratio)."""
    from stack.builders.series import counter, labels_text

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
