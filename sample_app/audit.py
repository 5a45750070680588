"""The audit trail: one appended row per sensitive operation, never updated or deleted.

A row is (time, actor, action, target, before, after, request_id, trace_id). ``before`` / ``after`` go
through the same redaction as the log lines (`redact_mapping`), so PII never lands in the table. The
database itself refuses UPDATE, DELETE (and TRUNCATE on PostgreSQL): see `schema.APPEND_ONLY_DDL`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from obsstack_fastapi import current_request, current_trace_ids, redact_mapping, redact_text
from sample_app.schema import audit_log

ANONYMOUS = "anonymous"
ORDER_CREATE = "order.create"
ORDER_CANCEL = "order.cancel"
LOGIN_SUCCESS = "login.success"
LOGIN_FAILURE = "login.failure"
DATA_EXPORT = "data.export"


@dataclass(frozen=True)
class Entry:
    """What happened; when, and in which request and trace, is added by `row`."""

    actor: str
    action: str
    target: str
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None


def current_actor() -> str:
    """The ``X-User-ID`` bound to the current request, else ``anonymous``."""
    ctx = current_request() or {}
    return str(ctx.get("user_id") or ANONYMOUS)


def row(entry: Entry, now: datetime | None = None) -> dict[str, Any]:
    """The values to insert: redacted, stamped with the time and the request's request_id / trace_id."""
    ctx = current_request() or {}
    trace_id = ctx.get("trace_id")
    if trace_id is None and (ids := current_trace_ids()) is not None:
        trace_id = ids[0]
    return {
        "time": now or datetime.now(UTC),
        "actor": redact_text(entry.actor),
        "action": entry.action,
        "target": redact_text(entry.target),
        "before": redact_mapping(entry.before) if entry.before is not None else None,
        "after": redact_mapping(entry.after) if entry.after is not None else None,
        "request_id": ctx.get("request_id"),
        "trace_id": trace_id,
    }


async def append(conn: AsyncConnection, entry: Entry) -> None:
    """Insert one row on ``conn``; the caller commits (with the change it audits, when there is one)."""
    await conn.execute(insert(audit_log).values(**row(entry)))


async def page(conn: AsyncConnection, limit: int, before_id: int | None) -> list[dict[str, Any]]:
    """Up to ``limit`` rows, newest first, with ids below ``before_id`` when given."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    return [dict(item._mapping) for item in await conn.execute(query)]
