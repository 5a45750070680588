"""The business metrics of the orders service, declared once; the generator's dashboards query these names.

Labels are bounded: a value outside its declared set (an unknown currency, say) is counted as ``other``
(outcomes fall back to ``failure`` / ``error``), never as a new series.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry

from obsstack_fastapi import Label, MetricSpec, build_all

PAYMENT_METHOD = Label("payment_method", ("card", "paypal", "bank_transfer", "other"))
CURRENCY = Label("currency", ("EUR", "USD", "GBP", "other"))
PAYMENT_OUTCOME = Label("outcome", ("success", "failure"), fallback="failure")
LOGIN_RESULT = Label("result", ("success", "failure", "other"))
TARGET = Label("target", ("inventory", "payments", "other"))
CALL_OUTCOME = Label("outcome", ("success", "error", "timeout"), fallback="error")
PAYMENT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CALL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

SPECS: tuple[MetricSpec, ...] = (
    MetricSpec("counter", "orders_created_total", "Orders created.", (PAYMENT_METHOD, CURRENCY)),
    MetricSpec("gauge", "checkouts_in_progress", "Order creations between start and commit, payment included."),
    MetricSpec(
        "histogram", "payment_processing_seconds", "Payment processing time.",
        (PAYMENT_METHOD, PAYMENT_OUTCOME), PAYMENT_BUCKETS,
    ),
    MetricSpec("counter", "login_attempts_total", "Login attempts by result.", (LOGIN_RESULT,)),
    MetricSpec("counter", "external_calls_total", "Calls to external services.", (TARGET, CALL_OUTCOME)),
    MetricSpec(
        "histogram", "external_call_duration_seconds", "Duration of calls to external services.",
        (TARGET, CALL_OUTCOME), CALL_BUCKETS,
    ),
)


def call_outcome(exc: BaseException | None) -> str:
    """``success`` without an exception, ``timeout`` for any `TimeoutError`, else ``error``."""
    if exc is None:
        return "success"
    return "timeout" if isinstance(exc, TimeoutError) else "error"


class BusinessMetrics:
    """Recording functions over the declared metrics (one instance per app, on its registry)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._m = build_all(SPECS, registry)

    def order_created(self, payment_method: str, currency: str) -> None:
        self._m["orders_created_total"].child(payment_method=payment_method, currency=currency).inc()

    def login(self, result: str) -> None:
        self._m["login_attempts_total"].child(result=result).inc()

    def payment(self, payment_method: str, outcome: str, seconds: float) -> None:
        metric = self._m["payment_processing_seconds"]
        metric.child(payment_method=payment_method, outcome=outcome).observe(seconds)

    def external_call(self, target: str, outcome: str, seconds: float) -> None:
        self._m["external_calls_total"].child(target=target, outcome=outcome).inc()
        self._m["external_call_duration_seconds"].child(target=target, outcome=outcome).observe(seconds)

    @contextmanager
    def checkout(self) -> Iterator[None]:
        """``checkouts_in_progress`` is one higher while the block runs."""
        gauge = self._m["checkouts_in_progress"].child()
        gauge.inc()
        try:
            yield
        finally:
            gauge.dec()

    @contextmanager
    def calling(self, target: str) -> Iterator[None]:
        """Time the block as a call to ``target``; its outcome follows from the exception, if any."""
        start = time.perf_counter()
        error: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            error = exc
            raise
        finally:
            self.external_call(target, call_outcome(error), time.perf_counter() - start)
