"""Per-request context shared by logs and error reports: one ContextVar holding one small dict."""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

from opentelemetry import trace

_REQUEST: ContextVar[dict[str, Any] | None] = ContextVar("obs_request_context", default=None)


def start_request(fields: dict[str, Any]) -> Token[dict[str, Any] | None]:
    """Make ``fields`` the context of the current request; returns the token for `end_request`."""
    return _REQUEST.set(fields)


def end_request(token: Token[dict[str, Any] | None]) -> None:
    """Restore the context that was current before `start_request`."""
    _REQUEST.reset(token)


def current() -> dict[str, Any] | None:
    """The current request's fields, or None outside a request."""
    return _REQUEST.get()


def bind(**fields: Any) -> None:
    """Add fields (for example ``user_id``) to the current request: later log lines carry them."""
    ctx = _REQUEST.get()
    if ctx is not None:
        ctx.update(fields)


def trace_ids() -> tuple[str, str] | None:
    """(trace_id, span_id) in hex of the current sampled span, else None (an unsampled trace is not stored)."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid or not span_context.trace_flags.sampled:
        return None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")
