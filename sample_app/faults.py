"""Fault injection (latency, 5xx rate, pool exhaustion, payment failures) so every alert can be made to fire.

Off unless ``APP_FAULTS_ENABLED=true`` (then the admin routes do not exist: 404); every admin call
needs ``Authorization: Bearer <APP_FAULTS_TOKEN>`` (401 otherwise, compared in constant time).
"""

from __future__ import annotations

import asyncio
import random
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException
from obsstack_fastapi.metrics import bearer_ok
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection

from obsstack_fastapi import get_logger
from sample_app.db import Database
from sample_app.payments import Payments

log = get_logger("sample_app.faults")


class FaultUpdate(BaseModel):
    """Body of ``PUT /admin/faults``; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")
    latency_seconds: float | None = Field(None, ge=0.0, le=60.0)
    error_rate: float | None = Field(None, ge=0.0, le=1.0)
    hold_connections: int | None = Field(None, ge=0)
    payment_failure_rate: float | None = Field(None, ge=0.0, le=1.0)


class FaultState(BaseModel):
    latency_seconds: float = 0.0
    error_rate: float = 0.0
    hold_connections: int = 0
    held_connections: int = 0
    payment_failure_rate: float = 0.0


class Faults:
    """Current faults, the connections held out of the real pool, and the payment provider's failure rate."""

    def __init__(self, db: Database, seed: int | None = None, payments: Payments | None = None) -> None:
        self._db = db
        self._payments = payments or Payments()
        self._random = random.Random(seed)  # noqa: S311 - fault sampling, not cryptography
        self._held: list[AsyncConnection] = []
        self._lock = asyncio.Lock()
        self.latency_seconds = 0.0
        self.error_rate = 0.0
        self.hold_connections = 0

    def state(self) -> FaultState:
        return FaultState(
            latency_seconds=self.latency_seconds, error_rate=self.error_rate,
            hold_connections=self.hold_connections, held_connections=len(self._held),
            payment_failure_rate=self._payments.failure_rate,
        )  # fmt: skip

    async def apply(self) -> None:
        """Called by business routes: sleep the injected latency, then fail at the injected rate."""
        if self.latency_seconds > 0:
            await asyncio.sleep(self.latency_seconds)
        if self.error_rate > 0 and self._random.random() < self.error_rate:
            raise HTTPException(status_code=500, detail="injected fault")

    async def update(self, change: FaultUpdate) -> FaultState:
        if change.latency_seconds is not None:
            self.latency_seconds = change.latency_seconds
        if change.error_rate is not None:
            self.error_rate = change.error_rate
        if change.payment_failure_rate is not None:
            self._payments.failure_rate = change.payment_failure_rate
        if change.hold_connections is not None:
            await self._hold(min(change.hold_connections, self._db.capacity))
        return self.state()

    async def reset(self) -> FaultState:
        self.latency_seconds = 0.0
        self.error_rate = 0.0
        self._payments.failure_rate = 0.0
        await self._hold(0)
        return self.state()

    async def _hold(self, wanted: int) -> None:
        """Check connections out of the pool (or give them back) until ``wanted`` are held."""
        async with self._lock:
            self.hold_connections = wanted
            while len(self._held) > wanted:
                await self._db.release(self._held.pop())
            while len(self._held) < wanted:
                try:
                    self._held.append(await self._db.checkout())
                except (PoolTimeoutError, OSError) as exc:
                    log.warning("fault could not hold more connections", held=len(self._held), error=str(exc))
                    break


def install(app: FastAPI, faults: Faults, token: str) -> None:
    """Add ``GET|PUT|DELETE /admin/faults`` to ``app``, all behind the bearer token.

    Routes go on the app itself (not an included router) so the cheap route resolver applies.
    """

    def authorized(authorization: Annotated[str | None, Header()] = None) -> None:
        if not bearer_ok(authorization, token):
            raise HTTPException(401, detail="unauthorized", headers={"WWW-Authenticate": "Bearer"})

    guard = [Depends(authorized)]

    @app.get("/admin/faults", dependencies=guard, include_in_schema=False)
    async def get_faults() -> FaultState:
        return faults.state()

    @app.put("/admin/faults", dependencies=guard, include_in_schema=False)
    async def put_faults(change: FaultUpdate) -> FaultState:
        state = await faults.update(change)
        log.warning("faults updated", **state.model_dump())
        return state

    @app.delete("/admin/faults", dependencies=guard, include_in_schema=False)
    async def delete_faults() -> FaultState:
        state = await faults.reset()
        log.warning("faults reset")
        return state
