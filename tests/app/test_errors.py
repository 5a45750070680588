"""Unhandled errors: a 500 with the request id, one redacted log line, a scrubbed and tagged Sentry event."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sentry_sdk
from lib.capture import CapturingTransport

DSN = "http://public@127.0.0.1:9/1"
MESSAGE = "charge failed for eve@example.com with password=hunter2 and Bearer abcdef123456"


@pytest.fixture
def transport() -> Iterator[CapturingTransport]:
    """A capturing transport; Sentry is switched off again after the test."""
    capturing = CapturingTransport()
    yield capturing
    sentry_sdk.init(dsn=None)


def _add_failing_route(app: Any) -> None:
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(MESSAGE)


async def test_unhandled_error_is_captured_scrubbed_and_tagged(
    make_harness: Callable[..., Any], asgi: Callable[..., Any], transport: CapturingTransport
) -> None:
    """Sentry gets the error tagged with trace_id and request_id, without the email, password or token."""
    harness = make_harness({"sentry_transport": transport}, sentry_dsn=DSN)
    _add_failing_route(harness.app)
    status, headers, body = await asgi(harness.app, "/boom", [(b"x-request-id", b"err-1")])
    sentry_sdk.flush(timeout=2)
    assert status == 500
    assert headers[b"x-request-id"] == b"err-1"
    assert b"eve@example.com" not in body
    assert len(transport.events) == 1
    event = transport.events[0]
    assert event["tags"]["request_id"] == "err-1"
    assert event["tags"]["trace_id"] == format(harness.finished_spans()[-1].context.trace_id, "032x")
    text = repr(event)
    for secret in ("eve@example.com", "hunter2", "abcdef123456"):
        assert secret not in text
    assert event["exception"]["values"][0]["type"] == "RuntimeError"


async def test_sentry_event_carries_no_local_variables(
    make_harness: Callable[..., Any], asgi: Callable[..., Any], transport: CapturingTransport
) -> None:
    """A handler's local variables (here a card token no redaction rule knows) never reach Sentry."""
    harness = make_harness({"sentry_transport": transport}, sentry_dsn=DSN)

    @harness.app.get("/charge")
    async def charge() -> None:
        card_token = f"tok-{6 * 7}-runtime"  # the value exists only at run time, not in the source lines
        raise ValueError(f"declined ({len(card_token)} chars)")

    status, _, _ = await asgi(harness.app, "/charge", [])
    sentry_sdk.flush(timeout=2)
    assert status == 500
    assert len(transport.events) == 1
    frames = transport.events[0]["exception"]["values"][0]["stacktrace"]["frames"]
    assert any(frame["function"] == "charge" for frame in frames)
    assert all("vars" not in frame for frame in frames)
    assert "tok-42-runtime" not in repr(transport.events[0])


async def test_unhandled_error_is_logged_once_redacted(
    make_harness: Callable[..., Any], asgi: Callable[..., Any]
) -> None:
    """The error is logged once with its traceback, and recorded on the span, PII removed in both."""
    harness = make_harness()
    _add_failing_route(harness.app)
    status, _, _ = await asgi(harness.app, "/boom", [(b"x-request-id", b"err-2")])
    assert status == 500
    text = harness.logs.getvalue()
    for secret in ("eve@example.com", "hunter2", "abcdef123456"):
        assert secret not in text
    errors = [line for line in harness.log_lines() if line["event"] == "unhandled error"]
    assert len(errors) == 1
    assert "RuntimeError" in errors[0]["exception"]
    assert errors[0]["request_id"] == "err-2"
    assert harness.access_lines()[-1]["status"] == 500
    server = harness.finished_spans()[-1]
    assert server.status.status_code.name == "ERROR"
    event = next(e for e in server.events if e.name == "exception")
    assert event.attributes["exception.type"] == "RuntimeError"
    assert "eve@example.com" not in event.attributes["exception.message"]
    assert "hunter2" not in event.attributes["exception.stacktrace"]
    assert harness.sample("http_requests_total", {"handler": "/boom", "method": "GET", "status": "5xx"}) == 1


async def test_sentry_is_off_without_dsn(make_harness: Callable[..., Any]) -> None:
    """Without SENTRY_DSN no Sentry client is initialised by the app."""
    sentry_sdk.init(dsn=None)
    harness = make_harness()
    assert harness.app.state.observability.report_error is not sentry_sdk.capture_exception
    assert sentry_sdk.get_client().transport is None
