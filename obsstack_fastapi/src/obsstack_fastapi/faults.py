"""Opt-in fault toggles for any instrumented service, so every alert of the stack can be made to fire.

Off unless ``OBS_FAULTS_ENABLED=true`` and a token (``OBS_FAULTS_TOKEN`` / ``OBS_FAULTS_TOKEN_FILE``):
otherwise the routes do not exist (404). ``GET|PUT|DELETE /admin/faults`` need
``Authorization: Bearer <token>`` (401 otherwise, constant-time compare). Every answer is the state
``{"latency_seconds", "error_rate", "hold_connections", "held_connections", <extra toggles>}``; a PUT
changes the fields it names (unknown fields: 422), DELETE resets everything.

Latency and the 500 share are applied by the middleware to every route except the metrics, health and
fault paths. ``hold_connections`` checks connections out of the pool of the engine instrumented with
``obs.instrument_engine``. An app adds its own toggles with `Faults.add_toggle` (same endpoint).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import structlog
from fastapi import Body, FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from .auth import bearer_guard
from .pool import ConnectionHolder
from .settings import FAULTS_PATH

log = structlog.get_logger("obsstack_fastapi.faults")
MAX_LATENCY_SECONDS = 60.0


@dataclass(frozen=True)
class Toggle:
    """An app's own numeric fault: read with ``get``, changed with ``set``; DELETE sets ``reset``."""

    name: str
    get: Callable[[], float]
    set: Callable[[float], None]
    minimum: float = 0.0
    maximum: float = 1.0
    reset: float = 0.0


class Faults:
    """The current faults of this process; `inject` is what the middleware calls per request."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)  # noqa: S311 - fault sampling, not cryptography
        self.latency_seconds = 0.0
        self.error_rate = 0.0
        self.hold_connections = 0
        self.holder: ConnectionHolder | None = None
        self.toggles: dict[str, Toggle] = {}

    @property
    def active(self) -> bool:
        """True when a request may be slowed or failed (checked first, so idle faults cost one test)."""
        return self.latency_seconds > 0.0 or self.error_rate > 0.0

    def add_toggle(self, toggle: Toggle) -> None:
        """Serve ``toggle`` through the same endpoint (PUT field, state field, reset by DELETE)."""
        if toggle.name in _CORE_FIELDS:
            raise ValueError(f"fault toggle {toggle.name!r}: the name is taken by a built-in fault")
        self.toggles[toggle.name] = toggle

    async def inject(self) -> bool:
        """Sleep the injected latency; True when this request must fail with a 500."""
        if self.latency_seconds > 0.0:
            await asyncio.sleep(self.latency_seconds)
        return self.error_rate > 0.0 and self._random.random() < self.error_rate

    def state(self) -> dict[str, Any]:
        """The JSON answer of every fault call."""
        held = self.holder.held if self.holder is not None else 0
        core = {"latency_seconds": self.latency_seconds, "error_rate": self.error_rate,
                "hold_connections": self.hold_connections, "held_connections": held}  # fmt: skip
        return {**core, **{name: toggle.get() for name, toggle in self.toggles.items()}}

    async def update(self, change: dict[str, Any]) -> dict[str, Any]:
        """Apply the fields present in a validated PUT body."""
        if change.get("latency_seconds") is not None:
            self.latency_seconds = change["latency_seconds"]
        if change.get("error_rate") is not None:
            self.error_rate = change["error_rate"]
        for name, toggle in self.toggles.items():
            if change.get(name) is not None:
                toggle.set(change[name])
        if change.get("hold_connections") is not None:
            await self._hold(change["hold_connections"])
        return self.state()

    async def reset(self) -> dict[str, Any]:
        """Everything back to no fault; held connections go back to the pool."""
        self.latency_seconds = 0.0
        self.error_rate = 0.0
        for toggle in self.toggles.values():
            toggle.set(toggle.reset)
        await self._hold(0)
        return self.state()

    async def _hold(self, wanted: int) -> None:
        self.hold_connections = wanted
        if self.holder is not None:
            await self.holder.hold(wanted)
        elif wanted:
            log.warning("hold_connections set but no engine is instrumented (obs.instrument_engine)")

    def validate(self, body: dict[str, Any]) -> dict[str, Any]:
        """The PUT body checked against the built-in and registered fields (422 on anything else)."""
        extra = tuple((t.name, t.minimum, t.maximum) for t in self.toggles.values())
        try:
            return _update_model(extra).model_validate(body).model_dump(exclude_none=True)
        except ValidationError as exc:
            raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from exc


class FaultUpdate(BaseModel):
    """The built-in fields of ``PUT /admin/faults``; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")
    latency_seconds: float | None = Field(None, ge=0.0, le=MAX_LATENCY_SECONDS)
    error_rate: float | None = Field(None, ge=0.0, le=1.0)
    hold_connections: int | None = Field(None, ge=0)


_CORE_FIELDS = frozenset(FaultUpdate.model_fields) | {"held_connections"}


@cache
def _update_model(extra: tuple[tuple[str, float, float], ...]) -> type[BaseModel]:
    """`FaultUpdate` plus one optional bounded float per registered toggle (built once per set)."""
    if not extra:
        return FaultUpdate
    fields: dict[str, Any] = {name: (float | None, Field(None, ge=lo, le=hi)) for name, lo, hi in extra}
    return create_model("FaultUpdateWithToggles", __base__=FaultUpdate, **fields)


def add_faults(app: FastAPI, faults: Faults, token: str, path: str = FAULTS_PATH) -> None:
    """Add ``GET|PUT|DELETE path`` to ``app``, all behind the bearer token."""
    guard = [bearer_guard(token)]

    async def get_faults() -> dict[str, Any]:
        return faults.state()

    async def put_faults(body: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008 - FastAPI's idiom
        state = await faults.update(faults.validate(body))
        log.warning("faults updated", **state)
        return state

    async def delete_faults() -> dict[str, Any]:
        state = await faults.reset()
        log.warning("faults reset")
        return state

    for method, endpoint in (("GET", get_faults), ("PUT", put_faults), ("DELETE", delete_faults)):
        app.add_api_route(path, endpoint, methods=[method], dependencies=guard, include_in_schema=False)
