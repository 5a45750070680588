"""Pool metrics of an engine given to `obs.instrument_engine`, used the plain SQLAlchemy way."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

POOL = {"pool": "default"}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A real SQLite pool: 2 connections plus 1 overflow."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}"
    created = create_async_engine(url, poolclass=AsyncAdaptedQueuePool, pool_size=2, max_overflow=1)
    yield created
    await created.dispose()


async def test_gauges_follow_plain_connections(make_service: Callable[..., Any], engine: AsyncEngine) -> None:
    """`async with engine.connect()` without any call of ours: in-use and idle are exact after every checkout
    and every release, the overflow connection (closed on return, not kept idle) included."""
    service = make_service()
    service.obs.instrument_engine(engine, capacity=3)

    def gauges() -> tuple[float | None, float | None]:
        return service.sample("db_pool_connections_in_use", POOL), service.sample("db_pool_connections_idle", POOL)

    assert service.sample("db_pool_connections_max", POOL) == 3
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        assert gauges() == (1, 0)
    assert gauges() == (0, 1)
    held = [await engine.connect() for _ in range(3)]
    assert gauges() == (3, 0)
    await held.pop().close()
    assert gauges() == (2, 1)
    await held.pop().close()
    assert gauges() == (1, 2)
    await held.pop().close()  # the idle queue is full: this one is closed
    assert gauges() == (0, 2)
