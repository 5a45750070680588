"""Prometheus durations as a typed value: parsed once, printed canonically."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

_UNITS: tuple[tuple[str, int], ...] = (
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
)
_MS = dict(_UNITS)
_PART = re.compile(r"(\d+)(ms|w|d|h|m|s)")
_WHOLE = re.compile(r"^(?:\d+(?:ms|w|d|h|m|s))+$")


@dataclass(frozen=True, order=True)
class Duration:
    """A non-negative duration in milliseconds, written the way Prometheus reads it."""

    ms: int

    @classmethod
    def parse(cls, text: str) -> Duration:
        text = text.strip()
        if not _WHOLE.match(text):
            raise ValueError(f"must be a Prometheus duration such as 30s, 5m or 1h30m, got {text!r}")
        return cls(sum(int(n) * _MS[unit] for n, unit in _PART.findall(text)))

    @classmethod
    def of_seconds(cls, seconds: float) -> Duration:
        return cls(round(seconds * 1000))

    @property
    def seconds(self) -> float:
        return self.ms / 1000

    def __str__(self) -> str:
        if self.ms == 0:
            return "0s"
        rest, parts = self.ms, []
        for unit, size in _UNITS:
            count, rest = divmod(rest, size)
            if count:
                parts.append(f"{count}{unit}")
        return "".join(parts)

    def __mul__(self, factor: float) -> Duration:
        return Duration(round(self.ms * factor))

    def __add__(self, other: Duration) -> Duration:
        return Duration(self.ms + other.ms)

    def __sub__(self, other: Duration) -> Duration:
        return Duration(self.ms - other.ms)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def coerce(value: Any) -> Duration:
            if isinstance(value, Duration):
                return value
            if isinstance(value, str):
                return cls.parse(value)
            raise ValueError(f"must be a Prometheus duration string such as 30s or 5m, got {value!r}")

        return core_schema.no_info_plain_validator_function(
            coerce, serialization=core_schema.to_string_ser_schema()
        )
