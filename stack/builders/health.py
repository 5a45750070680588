"""The service-health alerts beyond the golden signals: metrics absent, traffic drop and restarts
(expressions and texts; their tests are in health_tests.py).

- ServiceMetricsAbsent: no request series of the service at all (not scraped, not instrumented, no traffic).
  For a metrics_source otlp service (pushed, never scraped, so it has no `up` and no TargetDown) it is
  the one "no data" alert: the expression reads only the request series.
- TrafficDrop: the request rate fell below a share of its own rate over the baseline window just before,
  while the target is up. A service whose requests stop entirely has 0/0 burn windows and would stay
  silent otherwise. A pushed service has no `up`: its pushes are the guard (an SDK pushes its cumulative
  counters unchanged while idle, so the rate is 0; a dead one pushes nothing, so the rate is empty).
- ServiceRestarting: the process start time changed more than `max_restarts` times in the restart window
  (only for services that expose process_*).
"""

from __future__ import annotations

from stack import conventions as c
from stack.builders import promql as q
from stack.builders.annotations import Texts, percent_text
from stack.settings import Service, StackSettings


def baseline_rate(settings: StackSettings, service: Service) -> str:
    """Requests/s over the baseline window that ended one rate window ago."""
    timing = settings.timing
    requests = q.svc(q.names(service).requests, service.name)
    return q.sum_by(
        (c.SERVICE_LABEL,), f"rate({requests}[{timing.traffic_baseline_window}] offset {timing.rate_window})"
    )


def traffic_drop_expr(settings: StackSettings, service: Service) -> str:
    cfg, baseline = service.traffic_drop, baseline_rate(settings, service)
    current = q.svc(c.rec_request_rate(settings.timing.rate_window), service.name)
    guard = f"{baseline} > {q.number(cfg.min_baseline_rate)}"
    expr = f"{current} < {q.number(cfg.below)} * {baseline} and on (service) {guard}"
    if not service.scraped:
        return expr
    up = q.sum_by((c.SERVICE_LABEL,), q.svc("up", service.name))
    return f"{expr} and on (service) {up} > 0"


def traffic_drop_texts(settings: StackSettings, service: Service) -> Texts:
    timing, cfg = settings.timing, service.traffic_drop
    return Texts(
        summary=f"Requests to {service.name} dropped below {percent_text(cfg.below)} of their recent rate",
        description=f"{service.name} receives {{value}} requests/s over {timing.rate_window}, below "
        f"{percent_text(cfg.below)} of its rate over the {timing.traffic_baseline_window} before, while its "
        f"{'target is up' if service.scraped else 'metrics are pushed'} (alerting only when that rate was above "
        f"{cfg.min_baseline_rate:g} requests/s).",
        value_format="rate",
    )


def restart_expr(settings: StackSettings, service: Service) -> str:
    starts = q.svc(c.PROCESS_START, service.name)
    changes = q.sum_by((c.SERVICE_LABEL,), f"changes({starts}[{settings.timing.restart_window}])")
    return f"{changes} > {service.restarts.max_restarts}"


def restart_texts(settings: StackSettings, service: Service) -> Texts:
    window, most = settings.timing.restart_window, service.restarts.max_restarts
    return Texts(
        summary=f"{service.name} restarted more than {most} times in {window}",
        description=f"The processes of {service.name} restarted {{value}} times in the last {window} "
        f"(more than {most}): a crash loop, an OOM kill or a failing liveness probe.",
        value_format="count",
    )


def absent_expr(settings: StackSettings, service: Service) -> str:
    return f"absent({q.svc(q.names(service).requests, service.name)})"


def absent_texts(settings: StackSettings, service: Service) -> Texts:
    causes = "is not scraped" if service.scraped else "pushes no metrics to the collector (or the collector is down)"
    return Texts(
        summary=f"{service.name} exposes no request metrics",
        description=f"No {q.names(service).requests} series of {service.name}: the service {causes}, "
        f"is not instrumented, or has no traffic.",
    )
