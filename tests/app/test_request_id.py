"""Request ids: accepted only when short and safe, always echoed, never a vector into the logs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from obsstack_fastapi import request_id

HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.mark.parametrize(
    "value",
    [b"abc\r\nX-Injected: 1", b"abc\ndef", b"a" * 129, b"x" * 10_240, b"", b"semi;colon", b"sp ace", b"\xff"],
)
def test_unsafe_ids_are_refused(value: bytes) -> None:
    """CR/LF, over-long, empty and off-alphabet ids are not accepted."""
    assert request_id.accept(value) is None


def test_safe_id_is_accepted() -> None:
    """An id of 1-128 characters from [A-Za-z0-9._-] is kept as it is."""
    assert request_id.accept(b"req-1.A_b") == "req-1.A_b"
    assert request_id.accept(b"a" * 128) == "a" * 128


async def test_incoming_id_is_echoed_and_logged(asgi: Callable[..., Any], make_harness: Callable[..., Any]) -> None:
    """A valid X-Request-ID comes back in the response and is on the access-log line."""
    harness = make_harness(log_excluded_routes=())
    status, headers, _ = await asgi(harness.app, "/healthz", [(b"x-request-id", b"client-42")])
    assert status == 200
    assert headers[b"x-request-id"] == b"client-42"
    assert harness.access_lines()[-1]["request_id"] == "client-42"


@pytest.mark.parametrize("bad", [b"evil\r\nSet-Cookie: a=b", b"A" * 10_240])
async def test_unsafe_id_is_replaced_and_never_logged(
    asgi: Callable[..., Any], make_harness: Callable[..., Any], bad: bytes
) -> None:
    """A CR/LF or 10 kB X-Request-ID is replaced by a fresh id and appears in no log line."""
    harness = make_harness(log_excluded_routes=())
    status, headers, _ = await asgi(harness.app, "/healthz", [(b"x-request-id", bad)])
    assert status == 200
    assert HEX32.match(headers[b"x-request-id"].decode())
    text = harness.logs.getvalue()
    assert "evil" not in text
    assert "Set-Cookie" not in text
    assert "A" * 200 not in text
    assert harness.access_lines()[-1]["request_id"] == headers[b"x-request-id"].decode()


async def test_missing_id_is_generated(asgi: Callable[..., Any], make_harness: Callable[..., Any]) -> None:
    """Without X-Request-ID each response carries a new random 32-hex id."""
    harness = make_harness()
    _, first, _ = await asgi(harness.app, "/healthz")
    _, second, _ = await asgi(harness.app, "/healthz")
    assert HEX32.match(first[b"x-request-id"].decode())
    assert first[b"x-request-id"] != second[b"x-request-id"]


async def test_excluded_routes_still_get_an_id(asgi: Callable[..., Any], make_harness: Callable[..., Any]) -> None:
    """/metrics is not counted as traffic but its response still carries the request id."""
    harness = make_harness()
    status, headers, _ = await asgi(harness.app, "/metrics", [(b"x-request-id", b"scrape-1")])
    assert status == 200
    assert headers[b"x-request-id"] == b"scrape-1"
