"""Admin routes behind ``APP_ADMIN_TOKEN``: the audit trail (``GET /audit``) and ``GET /orders/export``.

Without a configured token the routes do not exist (404); with one, a missing or wrong bearer token is
401 (compared in constant time). Exports are audited as ``data.export``.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query
from fastapi.responses import Response
from pydantic import BaseModel

from obsstack_fastapi import bearer_guard, get_logger
from sample_app import audit
from sample_app.api import Order, Services, bind_user

log = get_logger("sample_app.admin")
AUDIT_MAX_LIMIT = 200
_ATTACHMENT = {"Content-Disposition": "attachment; filename=orders.csv"}
_CSV_FIELDS = ("id", "sku", "quantity", "payment_method", "currency", "status", "created_at")


class AuditRecord(BaseModel):
    id: int
    time: datetime
    actor: str
    action: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    trace_id: str | None


class AuditPage(BaseModel):
    """Newest first; pass ``next_before_id`` as ``before_id`` for the next (older) page."""

    items: list[AuditRecord]
    next_before_id: int | None


def install(app: FastAPI, s: Services, token: str) -> None:
    """Add ``GET /audit`` and ``GET /orders/export``, both behind the admin bearer token."""
    guard = [bearer_guard(token), Depends(bind_user)]

    @app.get("/audit", dependencies=guard)
    async def list_audit(
        limit: Annotated[int, Query(ge=1, le=AUDIT_MAX_LIMIT)] = 50,
        before_id: Annotated[int | None, Query(ge=1)] = None,
    ) -> AuditPage:
        rows = await s.db.audit_page(limit, before_id)
        next_before_id = rows[-1]["id"] if len(rows) == limit else None
        return AuditPage(items=[AuditRecord(**row) for row in rows], next_before_id=next_before_id)

    @app.get("/orders/export", dependencies=guard, response_model=None)
    async def export_orders(
        kind: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
    ) -> Response | list[Order]:
        rows = await s.db.export_orders(audit.current_actor(), kind)
        log.warning("orders exported", format=kind, rows=len(rows))
        if kind == "json":
            return [Order(**row) for row in rows]
        return Response(_csv(rows), media_type="text/csv", headers=_ATTACHMENT)


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
