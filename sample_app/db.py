"""A real SQLAlchemy async connection pool (SQLite by default, PostgreSQL by URL) and the queries of the API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from obsstack_fastapi import PoolMetrics, get_logger
from sample_app import audit
from sample_app.schema import APPEND_ONLY_DDL, metadata, orders

log = get_logger("sample_app.db")
CREATED, CANCELLED = "created", "cancelled"
EXPORT_MAX_ROWS = 10_000
# Order fields an audit row records (created_at is the row's own time; ids are in the target).
_AUDITED = ("sku", "quantity", "customer_email", "payment_method", "currency", "status")


class OrderConflict(Exception):
    """The order is not in a state that allows the change (for example already cancelled)."""


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
        """Create missing tables and columns, and the triggers that keep the audit trail append-only."""
        async with self.connection() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.run_sync(_add_missing_columns)
            statements = APPEND_ONLY_DDL.get(conn.dialect.name)
            if statements is None:
                log.warning("audit trail not protected by the database", dialect=conn.dialect.name)
            for statement in statements or ():
                await conn.execute(text(statement))
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

    async def create_order(self, fields: dict[str, Any], actor: str) -> dict[str, Any]:
        """Insert the order and its ``order.create`` audit row in one transaction."""
        values = {**fields, "status": CREATED, "created_at": datetime.now(UTC)}
        async with self.connection() as conn:
            result = await conn.execute(insert(orders).values(**values))
            order = {"id": result.inserted_primary_key[0], **values}
            after = {key: order[key] for key in _AUDITED}
            await audit.append(conn, audit.Entry(actor, audit.ORDER_CREATE, f"order:{order['id']}", None, after))
            await conn.commit()
            return order

    async def cancel_order(self, order_id: int, actor: str) -> dict[str, Any] | None:
        """Cancel and audit (before/after status) in one transaction; None if unknown, `OrderConflict` if done."""
        async with self.connection() as conn:
            found = (await conn.execute(select(orders).where(orders.c.id == order_id))).first()
            if found is None:
                return None
            changed = await conn.execute(
                update(orders).where(orders.c.id == order_id, orders.c.status == CREATED).values(status=CANCELLED)
            )
            if changed.rowcount != 1:
                raise OrderConflict(f"order {order_id} is {found.status}, expected {CREATED}")
            before, after = {"status": found.status}, {"status": CANCELLED}
            await audit.append(conn, audit.Entry(actor, audit.ORDER_CANCEL, f"order:{order_id}", before, after))
            await conn.commit()
            return {**found._mapping, "status": CANCELLED}

    async def export_orders(self, actor: str, export_format: str) -> list[dict[str, Any]]:
        """Up to `EXPORT_MAX_ROWS` orders (oldest first), and the ``data.export`` audit row."""
        async with self.connection() as conn:
            result = await conn.execute(select(orders).order_by(orders.c.id).limit(EXPORT_MAX_ROWS))
            rows = [dict(item._mapping) for item in result]
            after = {"format": export_format, "rows": len(rows)}
            await audit.append(conn, audit.Entry(actor, audit.DATA_EXPORT, "orders", None, after))
            await conn.commit()
            return rows

    async def append_audit(self, entry: audit.Entry) -> None:
        """One audit row in its own transaction (for operations that change nothing else)."""
        async with self.connection() as conn:
            await audit.append(conn, entry)
            await conn.commit()

    async def audit_page(self, limit: int, before_id: int | None) -> list[dict[str, Any]]:
        async with self.connection() as conn:
            return await audit.page(conn, limit, before_id)

    async def dispose(self) -> None:
        await self.engine.dispose()


def _add_missing_columns(conn: Connection) -> None:
    """Add columns that are newer than an existing database file (each has a server default)."""
    inspector = inspect(conn)
    quote = conn.dialect.identifier_preparer
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present or column.server_default is None:
                continue
            default = str(column.server_default.arg).replace("'", "''")  # type: ignore[attr-defined]
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(text(
                f"ALTER TABLE {quote.format_table(table)} ADD COLUMN {quote.format_column(column)} {kind} "
                f"NOT NULL DEFAULT '{default}'"
            ))  # fmt: skip
