"""Request ids: accept the caller's ``X-Request-ID`` only if short and safe, else make a new one."""

from __future__ import annotations

import os
import re

HEADER = b"x-request-id"
MAX_LENGTH = 128
_SAFE = re.compile(rb"[A-Za-z0-9._\-]{1,128}")


def accept(value: bytes | None) -> str | None:
    """The incoming id when it is 1-128 characters of ``[A-Za-z0-9._-]`` (so never CR/LF), else None."""
    if value is None or len(value) > MAX_LENGTH or _SAFE.fullmatch(value) is None:
        return None
    return value.decode("ascii")


def new() -> str:
    """A fresh random id (32 hex characters)."""
    return os.urandom(16).hex()
