"""Audit trail: one row per sensitive operation, correlated, redacted, append-only, behind the admin token."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from obsstack_fastapi.logs import redact_event
from obsstack_fastapi.redact import REDACTED
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from sample_app.db import Database
from sample_app.schema import audit_log

ADMIN = {"admin_token": "adm1n-token"}
AUTH = {"Authorization": "Bearer adm1n-token"}


async def audit_items(client: object, **params: object) -> list[dict]:
    response = await client.get("/audit", headers=AUTH, params=params)  # type: ignore[attr-defined]
    assert response.status_code == 200
    return response.json()["items"]


async def test_order_rows_carry_request_and_trace_ids(running: Callable) -> None:
    """Creating an order appends order.create with the request's request_id and trace_id, actor from X-User-ID."""
    harness, client = await running(**ADMIN)
    headers = {"X-Request-ID": "audit-1", "X-User-ID": "user-7"}
    created = await client.post("/orders", json={"sku": "A-1", "quantity": 2}, headers=headers)
    row = (await audit_items(client))[0]
    access = next(line for line in harness.access_lines() if line["request_id"] == "audit-1")
    assert row["action"] == "order.create"
    assert row["target"] == f"order:{created.json()['id']}"
    assert row["actor"] == "user-7"
    assert row["request_id"] == "audit-1"
    assert row["trace_id"] == access["trace_id"]
    assert len(row["trace_id"]) == 32
    assert row["before"] is None
    assert row["after"]["status"] == "created"


async def test_pii_is_redacted_by_the_log_processor(running: Callable) -> None:
    """An email in before/after is redacted exactly as the log processor redacts it."""
    _, client = await running(**ADMIN)
    body = {"sku": "A-1", "quantity": 1, "customer_email": "alice@example.com"}
    await client.post("/orders", json=body)
    row = (await audit_items(client))[0]
    raw = {**body, "payment_method": "card", "currency": "EUR", "status": "created"}
    assert row["after"] == redact_event(None, "info", raw)
    assert row["after"]["customer_email"] == REDACTED
    assert "alice@example.com" not in (await client.get("/audit", headers=AUTH)).text


async def test_cancel_is_audited_with_before_and_after(running: Callable) -> None:
    """Cancelling appends order.cancel with the status before and after; a second cancel is 409."""
    _, client = await running(**ADMIN)
    order = (await client.post("/orders", json={"sku": "A-1", "quantity": 1})).json()
    cancelled = await client.post(f"/orders/{order['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    row = (await audit_items(client))[0]
    assert (row["action"], row["actor"]) == ("order.cancel", "anonymous")
    assert (row["before"], row["after"]) == ({"status": "created"}, {"status": "cancelled"})
    assert (await client.post(f"/orders/{order['id']}/cancel")).status_code == 409
    assert (await client.post("/orders/424242/cancel")).status_code == 404
    assert len(await audit_items(client)) == 2


async def test_export_is_audited(running: Callable) -> None:
    """GET /orders/export returns JSON or CSV (no customer emails) and appends data.export."""
    _, client = await running(**ADMIN)
    await client.post("/orders", json={"sku": "A-1", "quantity": 1, "customer_email": "bob@example.com"})
    as_json = await client.get("/orders/export", headers=AUTH)
    assert [order["sku"] for order in as_json.json()] == ["A-1"]
    as_csv = await client.get("/orders/export", headers=AUTH, params={"format": "csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert [row["sku"] for row in csv.DictReader(io.StringIO(as_csv.text))] == ["A-1"]
    assert "bob@example.com" not in as_json.text + as_csv.text
    rows = await audit_items(client)
    assert [(row["action"], row["after"]["format"]) for row in rows[:2]] == [("data.export", "csv"),
                                                                              ("data.export", "json")]  # fmt: skip
    assert rows[0]["after"]["rows"] == 1


async def test_admin_routes_need_the_token(running: Callable) -> None:
    """Without APP_ADMIN_TOKEN /audit and /orders/export are 404; with it, a missing or wrong token is 401."""
    _, client = await running()
    assert (await client.get("/audit", headers=AUTH)).status_code == 404
    assert (await client.get("/orders/export", headers=AUTH)).status_code == 404
    _, client = await running(**ADMIN)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "adm1n-token"}):
        assert (await client.get("/audit", headers=headers)).status_code == 401
        assert (await client.get("/orders/export", headers=headers)).status_code == 401


async def test_admin_token_from_file(running: Callable, tmp_path: Path) -> None:
    """APP_ADMIN_TOKEN_FILE works like APP_ADMIN_TOKEN."""
    token_file = tmp_path / "admin-token"
    token_file.write_text("adm1n-token\n")
    _, client = await running(admin_token_file=token_file)
    assert (await client.get("/audit", headers=AUTH)).status_code == 200


async def test_pages_are_newest_first_and_bounded(running: Callable) -> None:
    """limit and before_id page backwards through the trail; limit is capped."""
    _, client = await running(**ADMIN)
    for _ in range(5):
        await client.post("/orders", json={"sku": "A-1", "quantity": 1})
    first = (await client.get("/audit", headers=AUTH, params={"limit": 2})).json()
    ids = [row["id"] for row in first["items"]]
    assert ids == sorted(ids, reverse=True)
    assert first["next_before_id"] == ids[-1]
    second = (await client.get("/audit", headers=AUTH, params={"limit": 2, "before_id": ids[-1]})).json()
    assert [row["id"] for row in second["items"]] == [ids[-1] - 1, ids[-1] - 2]
    rest = (await client.get("/audit", headers=AUTH, params={"limit": 10, "before_id": ids[-1] - 2})).json()
    assert len(rest["items"]) == 1
    assert rest["next_before_id"] is None
    assert (await client.get("/audit", headers=AUTH, params={"limit": 201})).status_code == 422
    assert (await client.get("/audit", headers=AUTH, params={"limit": 0})).status_code == 422


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None for SQLite in tmp_path; a real throw-away PostgreSQL server otherwise."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("postgres_url")
    return url


async def test_rows_cannot_be_changed_or_deleted(tmp_path: Path, database_url: str | None) -> None:
    """The database itself refuses UPDATE and DELETE of audit rows (and TRUNCATE on PostgreSQL)."""
    url = database_url
    db = Database(url or f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}", 1, 0, 5.0)
    try:
        await db.ensure_schema()
        await db.ensure_schema()  # idempotent
        await db.create_order({"sku": "A-1", "quantity": 1, "customer_email": None,
                               "payment_method": "card", "currency": "EUR"}, "tester")  # fmt: skip
        attempts = [update(audit_log).values(actor="someone else"), delete(audit_log)]
        if db.engine.dialect.name == "postgresql":
            attempts.append(text("TRUNCATE audit_log"))
        for statement in attempts:
            async with db.connection() as conn:
                with pytest.raises(DBAPIError, match="append-only"):
                    await conn.execute(statement)
        rows = await db.audit_page(1, None)
        assert rows[0]["actor"] == "tester"
    finally:
        await db.dispose()
