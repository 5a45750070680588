"""Application factory: ``create_app()`` builds the orders service and instruments it with one call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from sample_app import api, downstream, faults
from sample_app.db import Database
from sample_app.observability import get_logger, instrument
from sample_app.settings import AppSettings

log = get_logger("sample_app")


def create_app(settings: AppSettings | None = None, **seams: Any) -> FastAPI:
    """The instrumented app. ``seams`` go to `instrument` (registry, exporters, Sentry transport, stream)."""
    settings = settings or AppSettings()
    db = Database(
        settings.database_url, settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout
    )
    client = downstream.make_client(settings.downstream_url, settings.downstream_timeout)
    fault_state = faults.Faults(db, settings.faults_seed) if settings.faults_enabled else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            await db.ensure_schema()
        except Exception as exc:  # keep serving: /ready reports the database until it answers
            log.error("database not reachable at startup", error=type(exc).__name__)
        yield
        if fault_state is not None:
            await fault_state.reset()
        await client.aclose()
        await db.dispose()
        obs.shutdown()

    app = FastAPI(title="orders", version=settings.service_version, lifespan=lifespan)
    obs = instrument(app, settings, **seams)
    db.metrics = obs.instrument_engine(db.engine, db.capacity)
    obs.instrument_client(client)
    app.add_exception_handler(PoolTimeoutError, _pool_timeout)
    api.add_health(app, db)
    api.add_orders(app, db, client, fault_state)
    if fault_state is not None:
        token = settings.resolved_faults_token()
        assert token is not None  # the settings validator guarantees a token source
        faults.install(app, fault_state, token)
    app.state.db = db
    app.state.faults = fault_state
    return app


async def _pool_timeout(_: Request, __: Exception) -> JSONResponse:
    """Pool exhausted for longer than APP_DB_POOL_TIMEOUT: 503, the client may retry."""
    return JSONResponse({"detail": "database busy"}, status_code=503)
