"""Business metrics: the contract's names and bounded labels, and what each business step records."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from obsstack_fastapi.bounded import BoundedMetric, Label, MetricSpec
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from sample_app.business import SPECS

AUTH = {"Authorization": "Bearer t0ken"}
FAULTS = {"faults_enabled": True, "faults_token": "t0ken", "faults_seed": 1, "payments_seed": 1}
DECLARED = {
    "orders_created_total": {"payment_method": {"card", "paypal", "bank_transfer", "other"},
                             "currency": {"EUR", "USD", "GBP", "other"}},
    "checkouts_in_progress": {},
    "payment_processing_seconds": {"payment_method": {"card", "paypal", "bank_transfer", "other"},
                                   "outcome": {"success", "failure"}},
    "login_attempts_total": {"result": {"success", "failure", "other"}},
    "external_calls_total": {"target": {"inventory", "payments", "other"}, "outcome": {"success", "error", "timeout"}},
    "external_call_duration_seconds": {"target": {"inventory", "payments", "other"},
                                       "outcome": {"success", "error", "timeout"}},
    "log_lines_sampled_out_total": {},
}  # fmt: skip


def exposed_labels(text: str) -> dict[str, dict[str, set[str]]]:
    """Family name -> label name -> values seen in a text exposition (``le`` left out)."""
    found: dict[str, dict[str, set[str]]] = {}
    for family in text_string_to_metric_families(text):
        name = family.name + "_total" if family.type == "counter" else family.name
        labels = found.setdefault(name, {})
        for sample in family.samples:
            for key, value in sample.labels.items():
                if key != "le":
                    labels.setdefault(key, set()).add(value)
    return found


async def test_metrics_are_exposed_with_exactly_the_declared_labels(running: Callable) -> None:
    """Every business metric is on /metrics from the start, with every declared label value and no other."""
    _, client = await running()
    exposed = exposed_labels((await client.get("/metrics")).text)
    for name, labels in DECLARED.items():
        assert exposed[name] == labels, name


async def test_unknown_label_values_become_other(running: Callable) -> None:
    """An order in an unknown currency with an unknown method counts under "other": no new series."""
    harness, client = await running()
    assert (await client.post("/orders", json={"sku": "A-1", "quantity": 1})).status_code == 201
    before = harness.series_count()  # the HTTP and pool series of POST /orders exist now
    body = {"sku": "A-1", "quantity": 1, "payment_method": "crypto", "currency": "JPY"}
    assert (await client.post("/orders", json=body)).status_code == 201
    assert harness.series_count() == before
    assert harness.sample("orders_created_total", {"payment_method": "other", "currency": "other"}) == 1
    text = (await client.get("/metrics")).text
    assert "JPY" not in text
    assert "crypto" not in text


async def test_order_creation_records_payment_and_calls(running: Callable) -> None:
    """A created order counts once by method and currency, times its payment and both external calls."""
    harness, client = await running()
    body = {"sku": "A-1", "quantity": 1, "payment_method": "paypal", "currency": "GBP"}
    assert (await client.post("/orders", json=body)).status_code == 201
    assert harness.sample("orders_created_total", {"payment_method": "paypal", "currency": "GBP"}) == 1
    payment = {"payment_method": "paypal", "outcome": "success"}
    assert harness.sample("payment_processing_seconds_count", payment) == 1
    assert harness.sample("payment_processing_seconds_sum", payment) >= 0.002
    for target in ("inventory", "payments"):
        labels = {"target": target, "outcome": "success"}
        assert harness.sample("external_calls_total", labels) == 1
        assert harness.sample("external_call_duration_seconds_count", labels) == 1
    assert harness.sample("checkouts_in_progress") == 0


async def test_defaults_are_card_and_eur(running: Callable) -> None:
    """Without payment_method and currency an order is paid by card in EUR."""
    harness, client = await running()
    order = (await client.post("/orders", json={"sku": "A-1", "quantity": 1})).json()
    assert (order["payment_method"], order["currency"], order["status"]) == ("card", "EUR", "created")
    assert harness.sample("orders_created_total", {"payment_method": "card", "currency": "EUR"}) == 1


async def test_declined_payment_is_402_and_counted_as_failure(running: Callable) -> None:
    """With payment_failure_rate 1 an order is refused with 402, not stored, and counted as a failure."""
    harness, client = await running(**FAULTS)
    put = await client.put("/admin/faults", headers=AUTH, json={"payment_failure_rate": 1.0})
    assert put.json()["payment_failure_rate"] == 1.0
    assert (await client.post("/orders", json={"sku": "A-1", "quantity": 1})).status_code == 402
    assert (await client.get("/orders")).json() == []
    assert harness.sample("payment_processing_seconds_count", {"payment_method": "card", "outcome": "failure"}) == 1
    assert harness.sample("external_calls_total", {"target": "payments", "outcome": "error"}) == 1
    assert harness.sample("orders_created_total", {"payment_method": "card", "currency": "EUR"}) == 0
    assert harness.sample("checkouts_in_progress") == 0
    assert (await client.delete("/admin/faults", headers=AUTH)).json()["payment_failure_rate"] == 0.0
    assert (await client.post("/orders", json={"sku": "A-1", "quantity": 1})).status_code == 201


async def test_payment_failure_rate_is_a_ratio(running: Callable) -> None:
    """payment_failure_rate 0.5 declines about half the payments (seeded)."""
    harness, client = await running(**FAULTS)
    await client.put("/admin/faults", headers=AUTH, json={"payment_failure_rate": 0.5})
    codes = [(await client.post("/orders", json={"sku": "A-1", "quantity": 1})).status_code for _ in range(60)]
    assert set(codes) == {201, 402}
    assert 15 <= codes.count(402) <= 45
    failed = harness.sample("payment_processing_seconds_count", {"payment_method": "card", "outcome": "failure"})
    assert failed == codes.count(402)


async def test_inventory_failure_is_an_external_error(running: Callable) -> None:
    """An unreachable inventory service is counted as target inventory, outcome error."""
    harness, client = await running(downstream_url="http://127.0.0.1:9", downstream_timeout=1.0)
    assert (await client.post("/orders", json={"sku": "D-4", "quantity": 1})).status_code == 502
    assert harness.sample("external_calls_total", {"target": "inventory", "outcome": "error"}) == 1
    assert harness.sample("external_calls_total", {"target": "payments", "outcome": "success"}) == 0


def test_timeouts_are_their_own_outcome() -> None:
    """A block that raises TimeoutError is recorded with outcome "timeout"."""
    from sample_app.business import BusinessMetrics

    registry = CollectorRegistry()
    metrics = BusinessMetrics(registry)
    with pytest.raises(TimeoutError), metrics.calling("inventory"):
        raise TimeoutError
    assert registry.get_sample_value("external_calls_total", {"target": "inventory", "outcome": "timeout"}) == 1


def test_label_fallback_must_be_declared() -> None:
    """A label whose fallback is not one of its values is a definition error."""
    with pytest.raises(ValueError, match="fallback"):
        Label("outcome", ("success", "failure"))


def test_bounded_metric_clamps_every_label() -> None:
    """Any value outside a label's set, including a missing one, lands on the fallback child."""
    spec = MetricSpec("counter", "things_total", "Things.", (Label("kind", ("a", "other")),))
    metric = BoundedMetric(spec, CollectorRegistry())
    assert metric.child(kind="zzz") is metric.child(kind="other")
    assert metric.child() is metric.child(kind="other")
    assert metric.child(kind="a") is not metric.child(kind="other")


def test_specs_match_the_contract() -> None:
    """The declared specs are exactly the contract's metrics (the sampler adds the last one)."""
    assert {spec.name for spec in SPECS} == set(DECLARED) - {"log_lines_sampled_out_total"}
