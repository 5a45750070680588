"""HTTP routes: the orders API (business traffic) and the health endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, Header, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sample_app import downstream
from sample_app.db import Database
from sample_app.faults import Faults
from sample_app.observability import bind, get_logger, request_id

log = get_logger("sample_app.api")
READY_TIMEOUT_SECONDS = 2.0


class OrderIn(BaseModel):
    sku: str = Field(pattern=r"^[A-Za-z0-9\-]{1,64}$")
    quantity: int = Field(ge=1, le=1000)
    customer_email: str | None = Field(None, max_length=254)


class Order(BaseModel):
    id: int
    sku: str
    quantity: int
    created_at: datetime


def business(faults: Faults | None) -> Any:
    """Dependency of every business route: binds ``user_id`` (if sent and safe), applies faults."""

    async def dependency(x_user_id: Annotated[str | None, Header()] = None) -> None:
        user_id = request_id.accept(x_user_id.encode()) if x_user_id else None
        if user_id is not None:
            bind(user_id=user_id)
        if faults is not None:
            await faults.apply()

    return Depends(dependency)


def add_health(app: FastAPI, db: Database) -> None:
    """``/healthz``: the process is alive. ``/ready``: the database answers (503 naming it otherwise)."""

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", include_in_schema=False, response_model=None)
    async def ready() -> dict[str, str] | JSONResponse:
        try:
            await db.ping(READY_TIMEOUT_SECONDS)
        except Exception as exc:  # any failure of the dependency means not ready
            log.warning("not ready", dependency="database", error=type(exc).__name__)
            body = {"status": "unavailable", "failing": "database", "error": type(exc).__name__}
            return JSONResponse(body, status_code=503)
        return {"status": "ready"}


def add_orders(app: FastAPI, db: Database, client: httpx.AsyncClient, faults: Faults | None) -> None:
    """List, get and create orders; creating reserves stock downstream first."""
    guard = [business(faults)]

    @app.get("/orders", dependencies=guard)
    async def list_orders(limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[Order]:
        return [Order(**row) for row in await db.list_orders(limit)]

    @app.get("/orders/{order_id}", dependencies=guard)
    async def get_order(order_id: int) -> Order:
        row = await db.get_order(order_id)
        if row is None:
            raise HTTPException(status_code=404, detail="order not found")
        return Order(**row)

    @app.post("/orders", status_code=201, dependencies=guard)
    async def create_order(order: OrderIn) -> Order:
        try:
            await downstream.reserve(client, order.sku, order.quantity)
        except downstream.DownstreamError as exc:
            log.warning("reservation failed", sku=order.sku, error=str(exc))
            raise HTTPException(status_code=502, detail="inventory unavailable") from exc
        row = await db.create_order(order.sku, order.quantity, order.customer_email)
        log.info("order created", order_id=row["id"], sku=order.sku, customer_email=order.customer_email)
        return Order(**row)
