"""The project's one JSON text form: indented, sorted keys, a trailing newline, Python's float text.

Kept below the builders so a builder that embeds JSON in another document (a dashboard in a Kubernetes
ConfigMap) writes the same bytes as render writes to dashboards/*.json.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def _python_floats(value: Any) -> Any:
    """`value` with each float whose text orjson would write differently from Python's json (1e-09 vs
    1e-9, NaN) given as Python's text, so the bytes stay those of json.dumps(indent=2, sort_keys=True)."""
    if isinstance(value, dict):
        return {key: _python_floats(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_python_floats(item) for item in value]
    if isinstance(value, float) and (not math.isfinite(value) or "e" in repr(value)):
        return orjson.Fragment(json.dumps(value))
    return value


def to_json(data: Any) -> str:
    """Indented JSON with sorted keys and a trailing newline (orjson: the bytes of the json module, faster)."""
    return orjson.dumps(_python_floats(data), option=JSON_OPTIONS).decode("utf-8")
