"""The access line's direct path writes exactly what the structlog chain writes for the same event."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from obsstack_fastapi import context


@pytest.mark.parametrize(
    "fields",
    [
        {"request_id": "r-1", "method": "GET", "route": "/items/{item_id}", "trace_id": "a" * 32, "span_id": "b" * 16},
        {"request_id": "r-2", "method": "POST", "route": "/login", "user_id": "bob@example.com", "token": "xyz"},
    ],
)
def test_direct_line_equals_chain_line(
    make_service: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any]
) -> None:
    """Same keys in the same order, same redaction (emails, secret-named fields), same timestamp format."""
    service = make_service()
    access = service.obs.access_log
    monkeypatch.setattr("time.time", lambda: 1_700_000_000.25)
    token = context.start_request(dict(fields))
    try:
        access.info("request", status=200, duration_ms=1.5)
        access._logger.info("request", status=200, duration_ms=1.5)
    finally:
        context.end_request(token)
    direct, chain = service.logs.getvalue().splitlines()
    assert direct == chain
    assert "bob@example.com" not in direct
    assert json.loads(direct)["timestamp"] == "2023-11-14T22:13:20.250Z"
