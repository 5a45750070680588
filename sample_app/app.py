"""Application factory: ``create_app()`` builds the orders service and instruments it with one call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from obsstack_fastapi import Observability, Toggle, get_logger, instrument
from sample_app import admin, api, downstream, users
from sample_app.business import BusinessMetrics
from sample_app.db import Database
from sample_app.payments import Payments
from sample_app.settings import AppSettings

log = get_logger("sample_app")
READY_TIMEOUT_SECONDS = 2.0


def create_app(settings: AppSettings | None = None, **seams: Any) -> FastAPI:
    """The instrumented app. ``seams`` go to `instrument` (registry, exporters, Sentry transport, stream,
    log sampling random source)."""
    settings = settings or AppSettings()
    db = Database(
        settings.database_url, settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout
    )
    client = downstream.make_client(settings.downstream_url, settings.downstream_timeout)
    payments = Payments(settings.payments_seed)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await _prepare_database(db, settings)
        yield
        await obs.reset_faults()
        await client.aclose()
        await db.dispose()
        obs.shutdown()

    app = FastAPI(title="orders", version=settings.obs.service_version, lifespan=lifespan)
    obs = instrument(app, settings.obs, service_name=settings.service_name, **seams)
    _observe(obs, db, client, payments)
    services = api.Services(db, client, payments, BusinessMetrics(obs.registry))
    app.add_exception_handler(PoolTimeoutError, _pool_timeout)
    api.add_orders(app, services)
    api.add_login(app, services)
    admin_token = settings.resolved_admin_token()
    if admin_token is not None:
        admin.install(app, services, admin_token)
    app.state.db = db
    app.state.payments = payments
    return app


def _observe(obs: Observability, db: Database, client: Any, payments: Payments) -> None:
    """Pool metrics and SQL spans, httpx spans, the database readiness check, the payment fault toggle."""
    db.metrics = obs.instrument_engine(db.engine, db.capacity)
    obs.instrument_client(client)
    obs.add_check("database", partial(db.ping, READY_TIMEOUT_SECONDS))
    obs.add_fault_toggle(Toggle("payment_failure_rate", payments.get_failure_rate, payments.set_failure_rate))


async def _prepare_database(db: Database, settings: AppSettings) -> None:
    """Create the schema and the APP_DEMO_USERS users; a database that is down is reported, not fatal."""
    try:
        await db.ensure_schema()
        for name, password in settings.demo_user_pairs():
            await users.set_password(db, name, password)
    except Exception as exc:  # keep serving: /ready reports the database until it answers
        log.error("database not reachable at startup", error=type(exc).__name__)
        return
    if settings.demo_users is not None:
        log.info("demo users saved", count=len(settings.demo_user_pairs()))


async def _pool_timeout(_: Request, __: Exception) -> JSONResponse:
    """Pool exhausted for longer than APP_DB_POOL_TIMEOUT: 503, the client may retry."""
    return JSONResponse({"detail": "database busy"}, status_code=503)
