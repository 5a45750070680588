"""The service-health alerts beyond the golden signals: metrics absent, traffic drop and restarts
(expressions and texts; their tests are in health_tests.py).

- ServiceMetricsAbsent: no request series of the service at all (not scraped, not instrumented, no traffic).
- TrafficDrop: the request rate fell below a share of its own rate over the baseline window just before,
  while the target is up. A service whose requests stop entirely has 0/0 burn windows and would stay
  silent otherwise.
- ServiceRestarting: the process start time changed more than `max_restarts` times in the restart window.
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
    up = q.sum_by((c.SERVICE_LABEL,), q.svc("up", service.name))
    return (
        f"{current} < {q.number(cfg.below)} * {baseline}"
        f" and on (service) {baseline} > {q.number(cfg.min_baseline_rate)}"
        f" and on (service) {up} > 0"
    )


def traffic_drop_texts(settings: StackSettings, service: Service) -> Texts:
    timing, cfg = settings.timing, service.traffic_drop
    return Texts(
        summary=f"Requests to {service.name} dropped below {percent_text(cfg.below)} of their recent rate",
        description=f"{service.name} receives {{value}} requests/s over {timing.rate_window}, below "
        f"{percent_text(cfg.below)} of its rate over the {timing.traffic_baseline_window} before, while its "
        f"target is up (alerting only when that rate was above {cfg.min_baseline_rate:g} requests/s).",
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
    return Texts(
        summary=f"{service.name} exposes no request metrics",
        description=f"No {q.names(service).requests} series of {service.name}: the service is not scraped, "
        f"not instrumented, or has no traffic.",
    )
