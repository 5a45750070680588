"""A SQLAlchemy (async or sync) engine's pool: metrics (in use, idle, capacity, waiting, wait time) and holding."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Gauge, Histogram

from .settings import DEFAULT_POOL_WAIT_BUCKETS

log = structlog.get_logger("obsstack_fastapi.pool")


class PoolMetrics:
    """Gauges updated on pool events (so they work in multiprocess mode) and a wait histogram."""

    def __init__(self, registry: CollectorRegistry, pool_name: str = "default") -> None:
        def gauge(name: str, doc: str) -> Gauge:
            family = Gauge(name, doc, ("pool",), registry=registry, multiprocess_mode="livesum")
            return family.labels(pool_name)

        self.in_use = gauge("db_pool_connections_in_use", "Connections checked out of the pool.")
        self.idle = gauge("db_pool_connections_idle", "Connections idle in the pool.")
        self.capacity = gauge("db_pool_connections_max", "Pool capacity (pool_size + max_overflow).")
        self.waiting = gauge("db_pool_waiting", "Requests waiting for a connection.")
        self.wait_seconds = Histogram(
            "db_pool_wait_seconds", "Time to acquire a connection from the pool.",
            ("pool",), buckets=DEFAULT_POOL_WAIT_BUCKETS, registry=registry,
        ).labels(pool_name)  # fmt: skip
        self._pool: Any = None

    def attach(self, engine: Any, capacity: int) -> None:
        """Follow the engine's (queue) pool on every checkout and checkin, whoever uses the connection:
        plain ``async with engine.connect()`` keeps the gauges exact, no `refresh` call needed."""
        from sqlalchemy import event  # the optional [sqlalchemy] extra: only engines need it

        self._pool = getattr(engine, "sync_engine", engine).pool
        self.capacity.set(capacity)
        event.listen(self._pool, "checkout", self._on_checkout)
        event.listen(self._pool, "checkin", self._on_checkin)
        self.refresh()

    def _on_checkout(self, *_: Any) -> None:
        self.refresh()

    def _on_checkin(self, *_: Any) -> None:
        """SQLAlchemy fires ``checkin`` while the connection still counts as checked out: count it back.

        It then goes into the idle queue, or is closed when the queue is full (an overflow connection).
        """
        pool = self._pool
        idle, size = pool.checkedin(), pool.size()
        self.in_use.set(max(pool.checkedout() - 1, 0))
        self.idle.set(idle + 1 if size <= 0 or idle < size else idle)

    def refresh(self) -> None:
        """Set in-use and idle from the pool's own counters."""
        pool = self._pool
        if pool is not None:
            self.in_use.set(pool.checkedout())
            self.idle.set(pool.checkedin())

    @asynccontextmanager
    async def waiting_for_connection(self) -> AsyncIterator[None]:
        """Wrap the acquisition of a connection: counts waiters and observes the wait."""
        self.waiting.inc()
        start = time.perf_counter()
        try:
            yield
        finally:
            self.waiting.dec()
            self.wait_seconds.observe(time.perf_counter() - start)


class ConnectionHolder:
    """Checks connections out of an engine's pool and keeps them (the ``hold_connections`` fault).

    Works with an async engine (``AsyncEngine``) or a sync one (checked out in a worker thread); the
    pool metrics see the waits, the checkouts and the releases like any other use of the pool.
    """

    def __init__(self, engine: Any, capacity: int, metrics: PoolMetrics | None = None) -> None:
        self._engine = engine
        self.capacity = capacity
        self._metrics = metrics
        self._held: list[Any] = []
        self._lock = asyncio.Lock()

    @property
    def held(self) -> int:
        return len(self._held)

    async def hold(self, wanted: int) -> int:
        """Hold ``min(wanted, capacity)`` connections (fewer if the pool times out); returns how many."""
        wanted = min(wanted, self.capacity)
        async with self._lock:
            while len(self._held) > wanted:
                await self._release(self._held.pop())
            while len(self._held) < wanted:
                try:
                    self._held.append(await self._checkout())
                except Exception as exc:  # pool timeout or a database that is down: hold what we have
                    log.warning("fault could not hold more connections", held=len(self._held), error=str(exc))
                    break
        return len(self._held)

    async def _checkout(self) -> Any:
        if self._metrics is None:
            return await self._connect()
        async with self._metrics.waiting_for_connection():
            return await self._connect()

    async def _connect(self) -> Any:
        if hasattr(self._engine, "sync_engine"):
            return await self._engine.connect()
        return await asyncio.to_thread(self._engine.connect)

    async def _release(self, conn: Any) -> None:
        result = conn.close()
        if inspect.isawaitable(result):
            await result
        if self._metrics is not None:
            self._metrics.refresh()
