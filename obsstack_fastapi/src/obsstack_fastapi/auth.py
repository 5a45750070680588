"""Bearer tokens: one constant-time check, and the FastAPI dependency built on it."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException


def bearer_ok(header: str | None, token: str | None) -> bool:
    """True when no token is configured or the header carries exactly it (constant-time compare)."""
    if token is None:
        return True
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[7:].encode(), token.encode())


def bearer_guard(token: str) -> Any:
    """A dependency answering 401 unless ``Authorization: Bearer <token>``."""

    def authorized(authorization: Annotated[str | None, Header()] = None) -> None:
        if not bearer_ok(authorization, token):
            raise HTTPException(401, detail="unauthorized", headers={"WWW-Authenticate": "Bearer"})

    return Depends(authorized)
