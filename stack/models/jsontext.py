"""The project's one JSON text form: indented, sorted keys, a trailing newline, Python's float text.

Kept below the builders so a builder that embeds JSON in another document (a dashboard in a Kubernetes
ConfigMap) writes the same bytes as render writes to dashboards/*.json.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE

# A float token orjson may write differently from Python's json (1e-9 for 1e-09, 0.00001 for 1e-05): in the
# indented text every number stands alone at the end of its line, after `": `, the indentation or nothing, where no
# string can end (a string ends with its quote), so the pattern meets numbers only.
_FLOAT_TOKEN = re.compile(rb"(?<![^ ])(-?(?:[0-9]+(?:\.[0-9]+)?e[-+]?[0-9]+|0\.0000[0-9]+))(?=,?\n)")


def _python_float(match: re.Match[bytes]) -> bytes:
    """orjson writes the shortest text that reads back as the same float: Python's text of that float."""
    return json.dumps(float(match.group(1))).encode("ascii")


def to_json(data: Any) -> str:
    """Indented JSON with sorted keys and a trailing newline: the bytes of json.dumps(indent=2, sort_keys=True,
    ensure_ascii=False) + newline, written by orjson in one pass, floats then given Python's text.

    Non-finite floats are no JSON (orjson would write null): the settings refuse them and the dashboards'
    build (stack.builders.panels.dashboard) fails on one."""
    return _FLOAT_TOKEN.sub(_python_float, orjson.dumps(data, option=JSON_OPTIONS)).decode("utf-8")
