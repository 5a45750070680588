"""HTTP routes: the orders API and login (business traffic). Health, readiness and faults come from
`obsstack_fastapi`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Header, HTTPException, Query
from pydantic import BaseModel, Field, SecretStr

from obsstack_fastapi import bind, get_logger, safe_id
from sample_app import audit, downstream, users
from sample_app.business import BusinessMetrics
from sample_app.db import Database, OrderConflict
from sample_app.payments import PaymentDeclined, Payments

log = get_logger("sample_app.api")


@dataclass(frozen=True)
class Services:
    """What the routes work with, built once by `create_app`."""

    db: Database
    client: httpx.AsyncClient
    payments: Payments
    metrics: BusinessMetrics


class OrderIn(BaseModel):
    sku: str = Field(pattern=r"^[A-Za-z0-9\-]{1,64}$")
    quantity: int = Field(ge=1, le=1000)
    customer_email: str | None = Field(None, max_length=254)
    payment_method: str = Field("card", pattern=r"^[a-z_]{1,32}$")
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")


class Order(BaseModel):
    id: int
    sku: str
    quantity: int
    created_at: datetime
    payment_method: str
    currency: str
    status: str


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=254)
    password: SecretStr = Field(min_length=1, max_length=1024)


async def bind_user(x_user_id: Annotated[str | None, Header()] = None) -> None:
    """Dependency: bind ``user_id`` from ``X-User-ID`` when sent and safe (logs and audit actor use it)."""
    user_id = safe_id(x_user_id) if x_user_id else None
    if user_id is not None:
        bind(user_id=user_id)


def add_orders(app: FastAPI, s: Services) -> None:
    """List, get, create (reserve stock, pay, store) and cancel orders."""
    guard = [Depends(bind_user)]

    @app.get("/orders", dependencies=guard)
    async def list_orders(limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[Order]:
        return [Order(**row) for row in await s.db.list_orders(limit)]

    @app.get("/orders/{order_id:int}", dependencies=guard)
    async def get_order(order_id: int) -> Order:
        row = await s.db.get_order(order_id)
        if row is None:
            raise HTTPException(status_code=404, detail="order not found")
        return Order(**row)

    @app.post("/orders", status_code=201, dependencies=guard)
    async def create_order(order: OrderIn) -> Order:
        with s.metrics.checkout():
            await _reserve(s, order)
            await _pay(s, order)
            row = await s.db.create_order(order.model_dump(), audit.current_actor())
        s.metrics.order_created(order.payment_method, order.currency)
        log.info("order created", order_id=row["id"], sku=order.sku, customer_email=order.customer_email)
        return Order(**row)

    @app.post("/orders/{order_id:int}/cancel", dependencies=guard)
    async def cancel_order(order_id: int) -> Order:
        try:
            row = await s.db.cancel_order(order_id, audit.current_actor())
        except OrderConflict as exc:
            raise HTTPException(status_code=409, detail="order is not open") from exc
        if row is None:
            raise HTTPException(status_code=404, detail="order not found")
        log.info("order cancelled", order_id=order_id)
        return Order(**row)


async def _reserve(s: Services, order: OrderIn) -> None:
    """Reserve stock at inventory (an external call); 502 when it fails."""
    try:
        with s.metrics.calling("inventory"):
            await downstream.reserve(s.client, order.sku, order.quantity)
    except downstream.DownstreamError as exc:
        log.warning("reservation failed", sku=order.sku, error=str(exc))
        raise HTTPException(status_code=502, detail="inventory unavailable") from exc


async def _pay(s: Services, order: OrderIn) -> None:
    """Charge the order (an external call, timed by method and outcome); 402 when declined."""
    start, outcome = time.perf_counter(), "failure"
    try:
        with s.metrics.calling("payments"):
            await s.payments.charge(order.payment_method, order.currency)
        outcome = "success"
    except PaymentDeclined as exc:
        log.warning("payment declined", payment_method=order.payment_method, currency=order.currency)
        raise HTTPException(status_code=402, detail="payment declined") from exc
    finally:
        s.metrics.payment(order.payment_method, outcome, time.perf_counter() - start)


def add_login(app: FastAPI, s: Services) -> None:
    """``POST /login``: check the password, count and audit the attempt; 401 when it fails."""

    @app.post("/login", dependencies=[Depends(bind_user)])
    async def login(body: LoginIn) -> dict[str, str]:
        try:
            ok = await users.authenticate(s.db, body.username, body.password.get_secret_value())
        except Exception:
            s.metrics.login("other")
            raise
        result = "success" if ok else "failure"
        s.metrics.login(result)
        action = audit.LOGIN_SUCCESS if ok else audit.LOGIN_FAILURE
        entry = audit.Entry(body.username, action, f"user:{body.username}", None, {"result": result})
        await s.db.append_audit(entry)
        log.info("login", username=body.username, result=result)
        if not ok:
            raise HTTPException(status_code=401, detail="invalid credentials")
        return {"result": result}
