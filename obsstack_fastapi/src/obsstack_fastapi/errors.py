"""Sentry: errors only (no Sentry performance), enabled only with a DSN, PII scrubbed before send.

Default and auto-enabling integrations are off, so Sentry patches nothing in Starlette/FastAPI and
adds no per-request cost; the observability middleware captures every unhandled error itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sentry_sdk
from sentry_sdk.consts import DEFAULT_OPTIONS
from sentry_sdk.integrations.atexit import AtexitIntegration
from sentry_sdk.integrations.dedupe import DedupeIntegration
from sentry_sdk.integrations.excepthook import ExcepthookIntegration
from sentry_sdk.transport import Transport

from . import context
from .redact import redact_mapping
from .settings import ObsSettings

ErrorReporter = Callable[[BaseException], None]


def no_report(_: BaseException) -> None:
    """The reporter when Sentry is off."""
    return None


def before_send(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    """Tag the event with trace_id/request_id (when in a request) and scrub PII from all of it."""
    tags = dict(event.get("tags") or {})
    ctx = context.current()
    if ctx and "request_id" in ctx:
        tags["request_id"] = ctx["request_id"]
        event.setdefault("contexts", {})["request"] = {"method": ctx.get("method"), "route": ctx.get("route")}
    ids = context.trace_ids()
    if ids is not None:
        tags["trace_id"] = ids[0]
        tags["span_id"] = ids[1]
    event["tags"] = tags
    event.pop("user", None)
    return redact_mapping(event)


def setup_sentry(
    settings: ObsSettings, transport: type[Transport] | Transport | None = None
) -> ErrorReporter:
    """Initialise Sentry when a DSN is set; returns the function that reports an exception."""
    if settings.sentry_dsn is None or not settings.sentry_dsn.get_secret_value():
        return no_report
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.environment,
        release=f"{settings.service}@{settings.service_version}",
        server_name=settings.service,
        traces_sample_rate=0.0,
        max_request_body_size="never",
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=[DedupeIntegration(), ExcepthookIntegration(), AtexitIntegration()],
        before_send=before_send,  # type: ignore[arg-type]
        shutdown_timeout=1,
        transport=transport,
        **_privacy_options(),
    )
    return _report


def _privacy_options() -> dict[str, Any]:
    """No stack-frame variables or user data in events, in the option the installed SDK knows.

    sentry-sdk 2.x reads ``include_local_variables``; 3.x dropped it (``init`` refuses it) for the
    ``data_collection`` categories.
    """
    if "include_local_variables" in DEFAULT_OPTIONS:
        return {"include_local_variables": False}
    return {"data_collection": {"stack_frame_variables": False, "user_info": False, "http_bodies": []}}


def _report(exc: BaseException) -> None:
    sentry_sdk.capture_exception(exc)
