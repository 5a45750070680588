"""Liveness and readiness: ``/healthz`` answers while the process serves, ``/ready`` runs your checks.

A check is a sync or async callable taking no argument. It passes unless it raises, returns ``False``
or takes longer than the timeout. ``/ready`` runs every check concurrently and answers 200
``{"status": "ready"}`` or 503 ``{"status": "unavailable", "failing": [names...]}``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from .settings import HEALTH_PATH, READY_PATH

Check = Callable[[], Any] | Callable[[], Awaitable[Any]]
DEFAULT_TIMEOUT_SECONDS = 2.0
log = structlog.get_logger("obsstack_fastapi.health")


class Readiness:
    """Named checks; more can be added after the routes exist (`add`)."""

    def __init__(self, checks: Mapping[str, Check] | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._checks: dict[str, Check] = dict(checks or {})
        self.timeout = timeout

    def add(self, name: str, check: Check) -> None:
        """Register (or replace) the check called ``name``."""
        self._checks[name] = check

    async def failing(self) -> list[str]:
        """Names of the checks that do not pass, in registration order."""
        names = list(self._checks)
        results = await asyncio.gather(*(self._run(name, self._checks[name]) for name in names))
        return [name for name, ok in zip(names, results, strict=True) if not ok]

    async def _run(self, name: str, check: Check) -> bool:
        try:
            async with asyncio.timeout(self.timeout):
                result = await _call(check)
        except Exception as exc:  # any failure of a check means not ready
            log.warning("not ready", check=name, error=type(exc).__name__)
            return False
        if result is False:
            log.warning("not ready", check=name, error="returned False")
            return False
        return True


async def _call(check: Check) -> Any:
    """Await an async check; run a sync one in a worker thread so it cannot block the loop."""
    if inspect.iscoroutinefunction(check):
        return await check()
    result = await asyncio.to_thread(check)
    if inspect.isawaitable(result):
        return await result
    return result


def has_route(app: FastAPI, path: str) -> bool:
    """True when the app already routes ``path`` (then we do not add ours)."""
    return any(getattr(route, "path", None) == path for route in app.routes)


def add_health(
    app: FastAPI, checks: Mapping[str, Check] | Readiness | None = None, *,
    live_path: str = HEALTH_PATH, ready_path: str = READY_PATH, timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> Readiness:  # fmt: skip
    """Mount ``GET live_path`` and ``GET ready_path`` (each only if the app has no such route yet)."""
    readiness = checks if isinstance(checks, Readiness) else Readiness(checks, timeout)

    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    async def ready() -> Any:
        failing = await readiness.failing()
        if failing:
            return JSONResponse({"status": "unavailable", "failing": failing}, status_code=503)
        return {"status": "ready"}

    if not has_route(app, live_path):
        app.add_api_route(live_path, healthz, methods=["GET"], include_in_schema=False)
    if not has_route(app, ready_path):
        app.add_api_route(ready_path, ready, methods=["GET"], include_in_schema=False)
    return readiness
