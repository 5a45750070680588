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

# A float whose text orjson may write differently from Python's json (1e-9 for 1e-09, 0.00001 for 1e-05): in the
# indented text every number stands alone at the end of its line (after `": `, the indentation or nothing),
# where no string can end (a string ends with its quote), so this pattern meets the tail of a number only; the
# number starts after the last space before it.
_FLOAT_TAIL = re.compile(rb"[0-9]e[-+]?[0-9]+(?=,?\n)|0\.0000[0-9]+(?=,?\n)")


def to_json(data: Any) -> str:
    """Indented JSON with sorted keys and a trailing newline: the bytes of json.dumps(indent=2, sort_keys=True,
    ensure_ascii=False) + newline, written by orjson in one pass, each float orjson may write otherwise then
    given Python's text (orjson writes the shortest text that reads back as the same float).

    Non-finite floats are no JSON (orjson would write null): the settings refuse them and the dashboards'
    build (stack.builders.panels.dashboard) fails on one."""
    text = orjson.dumps(data, option=JSON_OPTIONS)
    pieces, done = [], 0
    for tail in _FLOAT_TAIL.finditer(text):
        start = text.rfind(b" ", 0, tail.start()) + 1
        pieces += [text[done:start], json.dumps(float(text[start : tail.end()])).encode("ascii")]
        done = tail.end()
    return (b"".join(pieces) + text[done:] if pieces else text).decode("utf-8")
