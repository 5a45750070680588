"""The structlog processors in a user's own chain, with logging left exactly as the user configured it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog

from obsstack_fastapi import add_request_context, add_trace_ids, bind, get_logger, redact_event


@pytest.fixture
def user_logging() -> Iterator[io.StringIO]:
    """The user's own structlog configuration (JSON to a buffer); structlog and the root logger restored after."""
    out = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    structlog.configure(
        processors=[add_request_context, add_trace_ids, redact_event, structlog.processors.JSONRenderer()],
        logger_factory=structlog.WriteLoggerFactory(file=out), cache_logger_on_first_use=False,
    )  # fmt: skip
    yield out
    structlog.reset_defaults()
    root.handlers[:], root.level = handlers, level


async def test_processors_in_the_users_chain(make_service: Callable[..., Any], user_logging: io.StringIO) -> None:
    """With logs=False the user's chain stays configured and gets request_id, trace_id, route, bound fields,
    with secrets redacted; the access line goes through the same chain."""
    config_before = structlog.get_config()
    root_handlers = list(logging.getLogger().handlers)
    service = make_service({"logs": False})
    log = get_logger("user")

    @service.app.get("/hello")
    async def hello() -> dict[str, str]:
        bind(user_id="u-1")
        log.info("said hello", password="hunter2")
        return {"hello": "world"}

    async with service.client() as client:
        assert (await client.get("/hello", headers={"x-request-id": "r-1"})).status_code == 200
    assert structlog.get_config() == config_before
    assert logging.getLogger().handlers == root_handlers
    assert service.logs.getvalue() == ""
    lines = [json.loads(line) for line in user_logging.getvalue().splitlines()]
    said, access = lines
    trace_id = format(service.finished_spans()[-1].context.trace_id, "032x")
    assert said == {
        "password": "[REDACTED]", "event": "said hello", "request_id": "r-1", "method": "GET",
        "route": "/hello", "trace_id": trace_id, "span_id": said["span_id"], "user_id": "u-1",
    }  # fmt: skip
    assert access["event"] == "request"
    assert access["status"] == 200
    assert access["trace_id"] == trace_id


def test_processors_outside_a_request_are_harmless() -> None:
    """Outside a request the context processors add nothing; redaction still scrubs."""
    event = {"event": "boot", "dsn": "https://key@sentry.io/1", "note": "mail bob@example.com"}
    for processor in (add_request_context, add_trace_ids, redact_event):
        event = processor(None, "info", event)
    assert event == {"event": "boot", "dsn": "[REDACTED]", "note": "mail [REDACTED]"}


async def test_access_log_can_be_dropped(make_service: Callable[..., Any], user_logging: io.StringIO) -> None:
    """logs=False, access_log=False: no access line at all, the user's own lines unaffected."""
    service = make_service({"logs": False, "access_log": False})
    async with service.client() as client:
        assert (await client.get("/items/1")).status_code == 200
    assert user_logging.getvalue() == ""
