"""Block-style YAML text of plain data, byte for byte what PyYAML's dump writes, several times faster.

The generated files are large trees of a few distinct scalars (label names, durations, series values).
PyYAML builds and analyses a node for every one of them; here the structure is written directly and each
distinct scalar is analysed once, by PyYAML itself (as the value of a one-entry mapping, or as its key),
and cached. The layout is PyYAML's with `default_flow_style=False`, `sort_keys=False`, indent 2: mappings
as `key: value`, sequences indentless under a key, a mapping item's first key on the dash line, `{}` and
`[]` for empty collections. A tree holding a multi-line string (a literal block, whose text depends on its
indentation) or a key PyYAML would not write as a simple key is left to PyYAML whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import yaml

Dump = Callable[[Any], str]  # PyYAML's dump of one document, configured as the caller writes files


# A string PyYAML writes as itself (plain) in block context, decided without asking it: printable ASCII,
# starting with a letter, `_`, `/`, `$` or `(` (no indicator, no number, no `.inf`, no `~`), not ending in a
# space or `:`, with no `: ` or ` #` inside, and not one of the words YAML 1.1 reads as a bool or null.
_PLAIN = re.compile(r"[A-Za-z_/$(](?:[ -~]{0,998}[!-9;-~])?")
_IMPLICIT = frozenset(
    word for base in ("yes", "no", "true", "false", "on", "off", "null") for word in (base, base.title(), base.upper())
)


# A string led by a digit, `.` or `-` (a duration, a ratio, an expression starting `1 - `) is plain on the same
# terms when it is not an indicator (`-`, `- `, `---`, `...`) and PyYAML's resolver reads it back as a string
# (not an int, a float, a timestamp, a sexagesimal number).
_PLAIN_NUMERIC = re.compile(r"[0-9.-](?:[ -~]{0,998}[!-9;-~])?")
_RESOLVER = yaml.resolver.Resolver()
_LINE = re.compile(r"[ -~]{1,998}")  # one printable line, never folded
_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")
_STR_TAG = "tag:yaml.org,2002:str"


def plain(value: str) -> bool:
    """PyYAML (block context, width 100,000) writes `value` unquoted, as it is."""
    if ": " in value or " #" in value:
        return False
    if _PLAIN.fullmatch(value) is not None:
        return value not in _IMPLICIT
    return (
        _PLAIN_NUMERIC.fullmatch(value) is not None
        and value != "-"
        and not value.startswith(("- ", "---", "..."))
        and _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) == _STR_TAG  # type: ignore[no-untyped-call]
    )


class _Fallback(Exception):
    """The tree holds something this writer does not lay out like PyYAML; PyYAML writes it."""


def _token(value: Any) -> str:
    """What tells equal-comparing scalars apart in the cache: -0.0 from 0.0, True from 1 (with the type)."""
    return repr(value) if isinstance(value, float) else ""


_LITERAL = re.compile(r"[!-~][ -~\n]*")  # printable ASCII lines, the first not starting with a space


def literal(value: str) -> bool:
    """PyYAML writes `value` (a mapping's value, asked for as a literal block) as `|` then its lines indented:
    printable ASCII lines ending in exactly one newline, no line ending in a space, none starting the text
    with a space or a newline (those take block hints)."""
    return (
        value.endswith("\n")
        and not value.endswith("\n\n")
        and " \n" not in value
        and _LITERAL.fullmatch(value) is not None
    )


class BlockWriter:
    """`write(data)` returns what `dump(data)` returns, for dicts, lists, str, int, float, bool and None.

    `literal_blocks`: the dump writes multi-line strings as literal blocks (`|`); the writer then lays out
    those `literal` accepts itself when they are a mapping's value, else the whole tree goes to PyYAML."""

    def __init__(self, dump: Dump, literal_blocks: bool = False) -> None:
        self._dump = dump
        self._literal_blocks = literal_blocks
        self.value_text = lru_cache(maxsize=None)(self._value_text)
        self.key_text = lru_cache(maxsize=None)(self._key_text)
        self._strings: dict[str, str] = {}  # a string value -> its text (most values repeat)
        self._keys: dict[str, str] = {}

    def write(self, data: Any) -> str:
        if not isinstance(data, dict) or not data:
            return self._dump(data)
        lines: list[str] = []
        try:
            self._mapping(data, "", lines)
        except _Fallback:
            return self._dump(data)
        return "\n".join(lines) + "\n"

    def _value_text(self, kind: str, token: str, value: Any) -> str:
        text = self._dump({"k": value})
        if not text.startswith("k: ") or text.count("\n") != 1:
            raise _Fallback
        return text[3:-1]

    def _key_text(self, kind: str, token: str, key: Any) -> str:
        text = self._dump({key: 0})
        if not text.endswith(": 0\n") or text.count("\n") != 1 or text.startswith("? "):
            raise _Fallback
        return text[:-4]

    def _string(self, value: str) -> str:
        """The text of a one-line string value (cached): itself when plain, else as PyYAML writes it."""
        text = self._strings.get(value)
        if text is None:
            if "\n" in value:
                raise _Fallback
            if plain(value):
                text = value
            elif _LINE.fullmatch(value) is not None and (value[0] in _INDICATORS or ": " in value or " #" in value):
                # never plain (an indicator first, or `: `/` #` inside): one printable line is single-quoted
                text = "'" + value.replace("'", "''") + "'"
            else:
                text = self.value_text("str", "", value)
            self._strings[value] = text
        return text

    def _key(self, key: Any) -> str:
        if type(key) is str:
            text = self._keys.get(key)
            if text is None:
                text = self._keys[key] = self.key_text("str", "", key)
            return text
        return self.key_text(type(key).__name__, _token(key), key)

    def _scalar(self, value: Any) -> str:
        kind = type(value)
        if kind is str:
            return self._string(value)
        if kind is int:
            return str(value)
        return self.value_text(kind.__name__, _token(value), value)

    def _inline(self, value: Any) -> str | None:
        """The text of `value` on the same line as its key or dash, or None for a block below it."""
        if isinstance(value, dict):
            return "{}" if not value else None
        if isinstance(value, list | tuple):
            return "[]" if not value else None
        return self._scalar(value)

    def _mapping(self, data: dict[Any, Any], indent: str, lines: list[str], first: str | None = None) -> None:
        """The entries at `indent`; the first one after `first` (a dash prefix) when given."""
        lead = indent if first is None else first
        keys, strings, append = self._keys, self._strings, lines.append
        for key, value in data.items():
            key_text = keys.get(key) if type(key) is str else None
            if key_text is None:
                key_text = self._key(key)
            kind = type(value)
            if kind is str:
                text = strings.get(value)
                if text is not None:
                    append(f"{lead}{key_text}: {text}")
                elif "\n" in value and self._literal_blocks and literal(value):
                    append(f"{lead}{key_text}: |")
                    block = indent + "  "
                    lines += [block + line if line else "" for line in value[:-1].split("\n")]
                else:
                    append(f"{lead}{key_text}: {self._string(value)}")
            elif kind is int:
                append(f"{lead}{key_text}: {value}")
            elif kind is dict and value:
                lines.append(f"{lead}{key_text}:")
                self._mapping(value, indent + "  ", lines)
            elif (kind is list or kind is tuple) and value:
                lines.append(f"{lead}{key_text}:")
                self._sequence(value, indent, lines)
            else:
                inline = self._inline(value)
                if inline is None:  # a dict or list subclass
                    lines.append(f"{lead}{key_text}:")
                    if isinstance(value, dict):
                        self._mapping(value, indent + "  ", lines)
                    else:
                        self._sequence(value, indent, lines)
                else:
                    lines.append(f"{lead}{key_text}: {inline}")
            lead = indent

    def _sequence(self, items: Any, indent: str, lines: list[str], first: str | None = None) -> None:
        strings, dash = self._strings, indent + "- "
        for position, item in enumerate(items):
            lead = first + "- " if position == 0 and first is not None else dash
            inline = strings.get(item) if type(item) is str else None
            if inline is None:
                inline = self._inline(item)
            if inline is not None:
                lines.append(f"{lead}{inline}")
            elif isinstance(item, dict):
                self._mapping(item, indent + "  ", lines, first=lead)
            else:
                self._sequence(item, indent + "  ", lines, first=lead)
