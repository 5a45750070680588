"""The orders API end to end: list, get, create with the downstream call, and the trace it leaves."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from opentelemetry.trace import SpanKind


async def test_create_get_list(running: Callable) -> None:
    """An order created is returned by id and listed first; unknown ids are 404; bad input 422."""
    _, client = await running()
    created = await client.post("/orders", json={"sku": "B-2", "quantity": 3})
    assert created.status_code == 201
    order = created.json()
    assert (await client.get(f"/orders/{order['id']}")).json()["sku"] == "B-2"
    assert (await client.get("/orders", params={"limit": 1})).json()[0]["id"] == order["id"]
    assert (await client.get("/orders/424242")).status_code == 404
    assert (await client.post("/orders", json={"sku": "bad sku!", "quantity": 0})).status_code == 422
    assert "customer_email" not in order


async def test_one_trace_covers_server_sql_and_downstream(running: Callable) -> None:
    """Creating an order makes one trace: the server span, SQL spans and the httpx call to inventory."""
    harness, client = await running()
    await client.post("/orders", json={"sku": "C-3", "quantity": 1}, headers={"X-Request-ID": "t-1"})
    spans = harness.finished_spans()
    server = next(s for s in spans if s.kind == SpanKind.SERVER and s.name == "POST /orders")
    trace_spans = [s for s in spans if s.context.trace_id == server.context.trace_id]
    assert server.attributes["http.route"] == "/orders"
    assert server.attributes["http.response.status_code"] == 201
    assert any(s.kind == SpanKind.CLIENT and "POST" in s.name for s in trace_spans)
    assert any("INSERT" in s.name or s.attributes.get("db.system") for s in trace_spans if s is not server)
    assert server.resource.attributes["service.name"] == "orders"
    assert server.resource.attributes["deployment.environment"] == "production"


async def test_incoming_traceparent_is_the_parent(running: Callable) -> None:
    """A W3C traceparent header makes the server span a child of the caller's span."""
    harness, client = await running(log_excluded_routes=())
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    await client.get("/healthz", headers={"traceparent": parent})
    server = harness.finished_spans()[-1]
    assert format(server.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert format(server.parent.span_id, "016x") == "b7ad6b7169203331"
    assert harness.access_lines()[-1]["trace_id"] == "0af7651916cd43dd8448eb211c80319c"


async def test_sampler_ratio_zero_records_nothing(running: Callable) -> None:
    """OBS_TRACE_SAMPLE_RATIO=0 exports no spans and puts no exemplar on the histogram."""
    harness, client = await running(trace_sample_ratio=0.0)
    await client.get("/healthz")
    assert harness.finished_spans() == []
    metrics = await client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert "trace_id" not in metrics.text


async def test_downstream_failure_is_502(running: Callable) -> None:
    """With APP_DOWNSTREAM_URL unreachable, creating an order answers 502 and stores nothing."""
    _, client = await running(downstream_url="http://127.0.0.1:9", downstream_timeout=1.0)
    assert (await client.post("/orders", json={"sku": "D-4", "quantity": 1})).status_code == 502
    assert (await client.get("/orders")).json() == []


async def test_older_database_gains_the_new_columns(running: Callable, tmp_path: Path) -> None:
    """An orders table from before payments and cancellation gets the new columns (with defaults) on start."""
    db_file = tmp_path / "old.db"
    with sqlite3.connect(db_file) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, sku VARCHAR(64) NOT NULL, "
                     "quantity INTEGER NOT NULL, customer_email VARCHAR(254), created_at DATETIME NOT NULL)")
        conn.execute("INSERT INTO orders (sku, quantity, created_at) VALUES ('OLD-1', 1, '2024-01-01 00:00:00')")
    _, client = await running(database_url=f"sqlite+aiosqlite:///{db_file}")
    old = (await client.get("/orders/1")).json()
    assert (old["payment_method"], old["currency"], old["status"]) == ("card", "EUR", "created")
    assert (await client.post("/orders", json={"sku": "NEW-1", "quantity": 1})).status_code == 201
