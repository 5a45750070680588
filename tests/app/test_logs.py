"""Logs: JSON lines with request context, one access line per request, stdlib routed, PII redacted."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from obsstack_fastapi.redact import REDACTED, redact_mapping, redact_text
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter


async def test_access_line_carries_request_context(running: Callable) -> None:
    """Exactly one access line per request, with status, duration, ids, method, route and user_id."""
    harness, client = await running()
    response = await client.get("/orders", headers={"X-User-ID": "user-7", "X-Request-ID": "r-1"})
    assert response.status_code == 200
    lines = [line for line in harness.access_lines() if line["request_id"] == "r-1"]
    assert len(lines) == 1
    line = lines[0]
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
    assert line["method"] == "GET"
    assert line["route"] == "/orders"
    assert line["user_id"] == "user-7"
    assert line["level"] == "info"
    assert len(line["trace_id"]) == 32
    assert len(line["span_id"]) == 16
    assert line["trace_id"] == format(harness.finished_spans()[-1].context.trace_id, "032x")


async def test_app_log_lines_share_the_request_context(running: Callable) -> None:
    """A log line written inside a handler carries the same request_id and trace_id as the access line."""
    harness, client = await running()
    await client.post("/orders", json={"sku": "A-1", "quantity": 1}, headers={"X-Request-ID": "r-2"})
    created = next(line for line in harness.log_lines() if line["event"] == "order created")
    access = next(line for line in harness.access_lines() if line["request_id"] == "r-2")
    assert created["request_id"] == "r-2"
    assert created["trace_id"] == access["trace_id"]
    assert created["route"] == "/orders"


async def test_stdlib_logs_use_the_same_pipeline(make_harness: Callable[..., Any]) -> None:
    """A stdlib (e.g. uvicorn) record becomes a JSON line with level, logger name and redaction."""
    harness = make_harness()
    logging.getLogger("uvicorn.error").warning("client %s failed with password=%s", "bob@example.com", "hunter2")
    line = harness.log_lines()[-1]
    assert line["logger"] == "uvicorn.error"
    assert line["level"] == "warning"
    assert "bob@example.com" not in line["event"]
    assert "hunter2" not in line["event"]


async def test_pii_in_request_fields_is_redacted(running: Callable) -> None:
    """An email posted in a request field never reaches the logs."""
    harness, client = await running()
    body = {"sku": "A-1", "quantity": 1, "customer_email": "alice@example.com"}
    assert (await client.post("/orders", json=body)).status_code == 201
    text = harness.logs.getvalue()
    assert "alice@example.com" not in text
    assert REDACTED in text


async def test_development_logs_are_console(make_harness: Callable[..., Any], asgi: Callable[..., Any]) -> None:
    """OBS_ENVIRONMENT=development renders human console lines instead of JSON."""
    harness = make_harness(environment="development", log_excluded_routes=())
    await asgi(harness.app, "/healthz")
    last = harness.logs.getvalue().splitlines()[-1]
    assert not last.startswith("{")
    assert "request" in last
    assert "route=/healthz" in last


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("mail me at carol@example.org", "carol@example.org"),
        ("Authorization: Bearer abcdef123456", "abcdef123456"),
        ("token=tok_987654321", "tok_987654321"),
        ("password: 'p@ss w0rd'", "p@ss w0rd"),
        ("postgresql://app:dbpass@db:5432/x", "dbpass"),
        ("jwt eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl", "eyJzdWIiOiIx"),
        ("cookie=session=abc123def", "abc123def"),
    ],
)
def test_redact_text(text: str, secret: str) -> None:
    """Emails, bearer tokens, key=value secrets, URL credentials, JWTs and cookies are removed from text."""
    assert secret not in redact_text(text)


def test_redact_mapping_by_key_and_nested() -> None:
    """Secret-named fields are blanked at any depth; harmless fields are untouched."""
    data = {
        "Authorization": "Basic dXNlcjpwYXNz",
        "headers": {"cookie": "a=b", "x-api-key": "k", "accept": "*/*"},
        "user": {"password": 1234, "email": "d@example.com", "name": "Dan"},
        "items": [{"refresh_token": "r"}, "e@example.com"],
        "status": 200,
    }
    out = redact_mapping(data)
    assert out["Authorization"] == REDACTED
    assert out["headers"] == {"cookie": REDACTED, "x-api-key": REDACTED, "accept": "*/*"}
    assert out["user"] == {"password": REDACTED, "email": REDACTED, "name": "Dan"}
    assert out["items"] == [{"refresh_token": REDACTED}, REDACTED]
    assert out["status"] == 200


async def test_log_lines_are_exported_as_otlp_records(running: Callable) -> None:
    """With a log exporter, each (redacted) line also becomes an OTLP record with the span's trace context."""
    exporter = InMemoryLogRecordExporter()
    harness, client = await running({"log_exporter": exporter})
    body = {"sku": "A-1", "quantity": 1, "customer_email": "frank@example.com"}
    await client.post("/orders", json=body, headers={"X-Request-ID": "otlp-1"})
    telemetry = harness.app.state.observability.telemetry
    for bridge in telemetry.bridges:
        bridge.drain()
    records = [item.log_record for item in exporter.get_finished_logs()]
    access = next(r for r in records if r.body == "request" and r.attributes["request_id"] == "otlp-1")
    assert access.attributes["route"] == "/orders"
    assert access.attributes["status"] == 201
    assert format(access.trace_id, "032x") == harness.access_lines()[-1]["trace_id"]
    created = next(r for r in records if r.body == "order created")
    assert created.attributes["customer_email"] == REDACTED
