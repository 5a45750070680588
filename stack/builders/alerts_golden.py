"""The golden-signal alerts of a service: p95 latency, 5xx ratio, DB pool use and requests waiting.

Latency, errors and pool have a warning and a critical rule (the variant's key is the level, whose
threshold the service settings give); requests waiting has one.
"""

from __future__ import annotations

from stack import conventions as c
from stack.builders import promql as q
from stack.builders.alerts_kind import Variant
from stack.builders.annotations import Texts, percent_text, seconds_text
from stack.settings import DBPoolAlert, Service, StackSettings

BY_SERVICE = (c.SERVICE_LABEL,)


def latency_expr(settings: StackSettings, service: Service, variant: Variant) -> str:
    p95 = q.svc(c.rec_latency_quantile(0.95, settings.timing.rate_window), service.name)
    return f"{p95} > {q.number(getattr(service.latency, variant.key))}"


def latency_texts(settings: StackSettings, service: Service, variant: Variant) -> Texts:
    level = variant.key
    threshold = seconds_text(getattr(service.latency, level))
    return Texts(
        summary=f"p95 latency of {service.name} is above {threshold}",
        description=f"p95 latency of {service.name} over {settings.timing.rate_window} is {{value}}, "
        f"above the {level} threshold of {threshold}.",
        value_format="duration",
    )


def error_expr(settings: StackSettings, service: Service, variant: Variant) -> str:
    w, name = settings.timing.rate_window, service.name
    ratio = q.svc(c.rec_error_ratio(w), name)
    traffic = q.svc(c.rec_request_rate(w), name)
    guard = q.number(service.error_rate.min_request_rate)
    threshold = q.number(getattr(service.error_rate, variant.key))
    return f"{ratio} > {threshold} and on (service) {traffic} > {guard}"


def error_texts(settings: StackSettings, service: Service, variant: Variant) -> Texts:
    level = variant.key
    threshold = percent_text(getattr(service.error_rate, level))
    return Texts(
        summary=f"5xx error ratio of {service.name} is above {threshold}",
        description=f"{{value}} of requests to {service.name} failed with 5xx over "
        f"{settings.timing.rate_window}, above the {level} threshold of {threshold} "
        f"(alerting only above {service.error_rate.min_request_rate:g} requests/s).",
        value_format="percentage",
    )


def pool_of(service: Service) -> DBPoolAlert:
    if service.db_pool is None:
        raise ValueError(f"service {service.name} declares no db_pool")
    return service.db_pool


def pool_expr(settings: StackSettings, service: Service, variant: Variant) -> str:
    threshold = q.number(getattr(pool_of(service), variant.key))
    return f"{q.svc(c.REC_POOL_UTILIZATION, service.name)} > {threshold}"


def pool_texts(settings: StackSettings, service: Service, variant: Variant) -> Texts:
    level = variant.key
    threshold = percent_text(getattr(pool_of(service), level))
    return Texts(
        summary=f"DB connection pool of {service.name} is {threshold} used or more",
        description=f"{{value}} of the DB connection pool of {service.name} is in use, above the {level} "
        f"threshold of {threshold}.",
        value_format="percentage",
    )


def pool_waiting_expr(settings: StackSettings, service: Service) -> str:
    waiting = q.sum_by(BY_SERVICE, q.svc(c.DB_POOL_WAITING, service.name))
    return f"{waiting} > {pool_of(service).waiting_threshold}"


def pool_waiting_texts(settings: StackSettings, service: Service) -> Texts:
    return Texts(
        summary=f"Requests of {service.name} are waiting for a DB connection",
        description=f"{{value}} requests of {service.name} are waiting for a DB connection "
        f"(threshold {pool_of(service).waiting_threshold}).",
        value_format="count",
    )
