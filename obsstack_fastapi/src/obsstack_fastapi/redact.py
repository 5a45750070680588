"""Redaction of PII and secrets, shared by the log processor and Sentry's before_send. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[REDACTED]"
_MAX_DEPTH = 8
_SECRET_KEY_PARTS = (
    "password", "passwd", "pwd", "secret", "token", "authorization", "auth", "cookie",
    "api_key", "apikey", "session", "credential", "dsn", "private_key", "email",
)  # fmt: skip
_KEY_CACHE: dict[str, bool] = {}
_KEY_CACHE_MAX = 4096

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_URL_USERINFO = re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+@")
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=\-]{6,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
_KEY_VALUE = re.compile(
    r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|authorization|cookie|session(?:id)?)"
    r"(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s&,;]+)"
)
_HINT = re.compile(r"[@=:]|earer|asic|oken|eyJ")
# Fields the observability pipeline itself produces from validated values: never PII, not scanned.
SAFE_KEYS = frozenset(
    {"level", "logger", "timestamp", "request_id", "trace_id", "span_id", "method", "route",
     "status", "duration_ms"}
)  # fmt: skip


_PLAIN = frozenset({int, float, bool})


def is_secret_key(key: str) -> bool:
    """True when a field name says it holds PII or a secret (cached; keys come from code)."""
    verdict = _KEY_CACHE.get(key)
    if verdict is None:
        norm = key.lower().replace("-", "_")
        verdict = any(part in norm for part in _SECRET_KEY_PARTS)
        if len(_KEY_CACHE) < _KEY_CACHE_MAX:
            _KEY_CACHE[key] = verdict
    return verdict


def redact_text(text: str) -> str:
    """Replace emails, credentials in URLs, bearer/basic tokens, JWTs and ``password=...`` pairs."""
    if _HINT.search(text) is None:
        return text
    text = _URL_USERINFO.sub(REDACTED + "@", text)
    text = _EMAIL.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    return _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def redact_value(value: Any, depth: int = 0) -> Any:
    """Redact strings inside any JSON-like value; mappings have their secret keys blanked."""
    if isinstance(value, str):
        return redact_text(value)
    if depth >= _MAX_DEPTH or isinstance(value, int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return redact_mapping(value, depth + 1)
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item, depth + 1) for item in value]
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", "replace"))
    return value


def redact_mapping(data: Mapping[Any, Any], depth: int = 0) -> dict[Any, Any]:
    """A copy of ``data`` with secret keys replaced by ``[REDACTED]`` and every value redacted."""
    out: dict[Any, Any] = {}
    for key, value in data.items():
        if key in SAFE_KEYS and (type(value) is str or type(value) in _PLAIN):
            out[key] = value
        elif isinstance(key, str) and is_secret_key(key) and value is not None and value != "":
            out[key] = REDACTED
        else:
            out[key] = redact_value(value, depth)
    return out


def is_clean(data: Mapping[str, Any], text_key: str = "event") -> bool:
    """True when `redact_mapping` would return ``data`` unchanged because every field is a pipeline field
    with a plain value, apart from ``text_key``, whose text holds nothing redactable."""
    for key, value in data.items():
        if key == text_key:
            if type(value) is not str or _HINT.search(value) is not None:
                return False
        elif key not in SAFE_KEYS or not (type(value) is str or type(value) in _PLAIN):
            return False
    return True
