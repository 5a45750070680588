"""Prometheus durations as a typed value: parsed once, printed canonically."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from stack.errors import shown

_UNITS: tuple[tuple[str, int], ...] = (
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
)
_MS = dict(_UNITS)
_PART = re.compile(r"([0-9]+)(ms|w|d|h|m|s)")
_WHOLE = re.compile(r"^(?:[0-9]+(?:ms|w|d|h|m|s))+\Z")
# The longest duration accepted: 10 years. Prometheus holds durations in int64 nanoseconds (292 years), and
# obsstack writes multiples of the windows (retention = 2 x slo_window, burn-rate windows, offsets).
MAX_MS = 3650 * 24 * 3600 * 1000


@lru_cache(maxsize=4096)
def _text(ms: int) -> str:
    """A duration's text (a few distinct ones are printed tens of thousands of times by generate)."""
    if ms == 0:
        return "0s"
    rest, parts = ms, []
    for unit, size in _UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


@lru_cache(maxsize=1024)
def _parse_ms(text: str) -> int:
    """A duration text's milliseconds, each distinct text parsed once (the same few are parsed thousands of
    times: every burn tier's windows, every service's settings); a refused text raises, and is not cached."""
    text = text.strip()
    if not _WHOLE.match(text):
        raise ValueError(f"must be a Prometheus duration such as 30s, 5m or 1h30m, got {shown(text)}")
    parts = _PART.findall(text)
    ms = sum(int(n) * _MS[unit] for n, unit in parts) if all(len(n) <= 15 for n, _ in parts) else -1
    if not 0 <= ms <= MAX_MS:
        raise ValueError(f"must be at most 3650d (10 years), got {shown(text)}")
    return ms


@dataclass(frozen=True, order=True)
class Duration:
    """A non-negative duration in milliseconds, written the way Prometheus reads it."""

    ms: int

    @classmethod
    def parse(cls, text: str) -> Duration:
        return cls(_parse_ms(text))

    @classmethod
    def of_seconds(cls, seconds: float) -> Duration:
        return cls(round(seconds * 1000))

    @property
    def seconds(self) -> float:
        return self.ms / 1000

    def __str__(self) -> str:
        return _text(self.ms)

    def __mul__(self, factor: float) -> Duration:
        return Duration(round(self.ms * factor))

    def __add__(self, other: Duration) -> Duration:
        return Duration(self.ms + other.ms)

    def __sub__(self, other: Duration) -> Duration:
        return Duration(self.ms - other.ms)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def coerce(value: Any) -> Duration:
            if isinstance(value, Duration):
                return value
            if isinstance(value, str):
                return cls.parse(value)
            raise ValueError(f"must be a Prometheus duration string such as 30s or 5m, got {shown(value)}")

        return core_schema.no_info_plain_validator_function(coerce, serialization=core_schema.to_string_ser_schema())
