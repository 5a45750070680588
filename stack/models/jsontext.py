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

# The floats orjson may write differently from Python's json are those below 1e-4: orjson writes 1e-9 for 1e-09
# and 0.00001 for 1e-05 (both write the same text for the others, 1e+16 included). In the indented text every
# number stands alone at the end of its line (after `": `, the indentation or nothing), where no string can end
# (a string ends with its quote), so these patterns meet the tail of such a number only; the number starts after
# the last space before it. An exponent is looked for only at each `-` (rare in the text, and found by memchr),
# where a regex scan for "e-" tries every "e".
_EXPONENT = re.compile(rb"e-[0-9]+(?=,?\n)")
_SMALL = re.compile(rb"0\.0000[0-9]+(?=,?\n)")


def to_json(data: Any) -> str:
    """Indented JSON with sorted keys and a trailing newline: the bytes of json.dumps(indent=2, sort_keys=True,
    ensure_ascii=False) + newline, written by orjson in one pass, each float orjson may write otherwise then
    given Python's text (orjson writes the shortest text that reads back as the same float).

    Non-finite floats are no JSON (orjson would write null): the settings refuse them and the dashboards'
    build fails on one (stack.builders.panels.steps, where the settings' numbers enter a dashboard)."""
    text = orjson.dumps(data, option=JSON_OPTIONS)
    ends = _tails(text)
    if not ends:
        return text.decode("utf-8")
    pieces, done = [], 0
    for end in ends:
        start = text.rfind(b" ", 0, end) + 1
        pieces += [text[done:start], json.dumps(float(text[start:end])).encode("ascii")]
        done = end
    pieces.append(text[done:])
    return b"".join(pieces).decode("utf-8")


def _tails(text: bytes) -> list[int]:
    """Where each number orjson may write otherwise than Python ends in `text`, in order."""
    ends = {small.end() for small in _SMALL.finditer(text)}
    dash = text.find(b"-")
    while dash != -1:
        exponent = _EXPONENT.match(text, max(dash - 1, 0))
        if exponent:
            ends.add(exponent.end())
        dash = text.find(b"-", dash + 1)
    return sorted(ends)
