"""The orders table and a real SQLAlchemy async connection pool (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from sample_app.observability.pool import PoolMetrics

metadata = MetaData()
orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sku", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("customer_email", String(254), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


class Database:
    """Engine, pool metrics and the few queries the API needs."""

    def __init__(self, url: str, pool_size: int, max_overflow: int, pool_timeout: float) -> None:
        self.engine: AsyncEngine = create_async_engine(
            url, poolclass=AsyncAdaptedQueuePool, pool_size=pool_size,
            max_overflow=max_overflow, pool_timeout=pool_timeout,
        )  # fmt: skip
        self.capacity = pool_size + max_overflow
        self.metrics: PoolMetrics | None = None
        self.schema_ready = False

    async def checkout(self) -> AsyncConnection:
        """A connection from the pool (waits up to pool_timeout); counted by the pool metrics."""
        if self.metrics is None:
            return await self.engine.connect()
        async with self.metrics.waiting_for_connection():
            return await self.engine.connect()

    async def release(self, conn: AsyncConnection) -> None:
        """Return a connection to the pool."""
        await conn.close()
        if self.metrics is not None:
            self.metrics.refresh()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        conn = await self.checkout()
        try:
            yield conn
        finally:
            await self.release(conn)

    async def ensure_schema(self) -> None:
        async with self.connection() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.commit()
        self.schema_ready = True

    async def ping(self, timeout: float) -> None:
        """Raise unless ``SELECT 1`` answers within ``timeout`` seconds (creates the schema if missing)."""
        async with asyncio.timeout(timeout):
            if not self.schema_ready:
                await self.ensure_schema()
            async with self.connection() as conn:
                await conn.execute(text("SELECT 1"))

    async def list_orders(self, limit: int) -> list[dict[str, Any]]:
        async with self.connection() as conn:
            result = await conn.execute(select(orders).order_by(orders.c.id.desc()).limit(limit))
            return [dict(row._mapping) for row in result]

    async def get_order(self, order_id: int) -> dict[str, Any] | None:
        async with self.connection() as conn:
            row = (await conn.execute(select(orders).where(orders.c.id == order_id))).first()
            return dict(row._mapping) if row is not None else None

    async def create_order(self, sku: str, quantity: int, customer_email: str | None) -> dict[str, Any]:
        values = {"sku": sku, "quantity": quantity, "customer_email": customer_email,
                  "created_at": datetime.now(UTC)}  # fmt: skip
        async with self.connection() as conn:
            result = await conn.execute(insert(orders).values(**values))
            await conn.commit()
            return {"id": result.inserted_primary_key[0], **values}

    async def dispose(self) -> None:
        await self.engine.dispose()
