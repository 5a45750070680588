"""Request ids: accept the caller's ``X-Request-ID`` only if short and safe, else make a new one."""

from __future__ import annotations

import random
import re

HEADER = b"x-request-id"
MAX_LENGTH = 128
_RANDOM = random.Random()  # noqa: S311 - correlation ids, not secrets
_SAFE = re.compile(rb"[A-Za-z0-9._\-]{1,128}")


def accept(value: bytes | None) -> str | None:
    """The incoming id when it is 1-128 characters of ``[A-Za-z0-9._-]`` (so never CR/LF), else None."""
    if value is None or len(value) > MAX_LENGTH or _SAFE.fullmatch(value) is None:
        return None
    return value.decode("ascii")


def new() -> str:
    """A fresh random id (32 hex characters).

    Like OpenTelemetry's trace ids it comes from `random` (seeded from the OS at start), not from a
    syscall per request: request ids correlate, they are not secrets.
    """
    return f"{_RANDOM.getrandbits(128):032x}"


def safe_id(value: str | bytes) -> str | None:
    """``value`` when it is a safe id (same rule as `accept`: 1-128 of ``[A-Za-z0-9._-]``), else None."""
    return accept(value.encode("utf-8", "replace") if isinstance(value, str) else value)
