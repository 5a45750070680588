"""Block-style YAML text of plain data, byte for byte what PyYAML's dump writes, several times faster.

The generated files are large trees of a few distinct scalars (label names, durations, series values).
PyYAML builds and analyses a node for every one of them; here the structure is written directly and each
distinct scalar is analysed once, by PyYAML itself (as the value of a one-entry mapping, or as its key),
and cached. The layout is PyYAML's with `default_flow_style=False`, `sort_keys=False`, indent 2: mappings
as `key: value`, sequences indentless under a key, a mapping item's first key on the dash line, `{}` and
`[]` for empty collections. A tree holding a multi-line string (a literal block, whose text depends on its
indentation) or a key PyYAML would not write as a simple key is left to PyYAML whole.

Block YAML at indent n is its text at indent 0 with n spaces before each non-empty line (every line this writer
writes starts with its indentation; a literal block's empty lines stay empty). So a list embedded in several
documents (the rule groups of alerts/, the PrometheusRules and Mimir's namespaces) is written once (`item`) and
placed, re-indented, wherever it is a mapping's value (`Written`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

Dump = Callable[[Any], str]  # PyYAML's dump of one document, configured as the caller writes files
# by type: an object's fields as the mapping its dump would be (a typed model read in place, not dumped first)
Views = Mapping[type, Callable[[Any], dict[str, Any]]]


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
_SIMPLE_KEY = 100  # a plain key this long or shorter is written as itself by either emitter
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


_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\n"  # deleted from an ASCII text's bytes: what is left is not printable


def literal(value: str) -> bool:
    """PyYAML writes `value` (a mapping's value, asked for as a literal block) as `|` then its lines indented:
    printable ASCII lines ending in exactly one newline, no line ending in a space, none starting the text
    with a space or a newline (those take block hints). Each test is one pass in C over the text (a dashboard
    is 75 kB); `rfind` finds the rare `\n`-ended pair faster than `in`, which stops at every space."""
    return (
        value.endswith("\n")
        and not value.endswith("\n\n")
        and value.isascii()
        and value[0] not in " \n"
        and not value.encode("ascii").translate(None, _PRINTABLE)
        and value.rfind(" \n") < 0
    )


def indented(text: str, pad: str) -> str:
    """`text` (lines joined by newlines) with `pad` before each non-empty line."""
    if not pad or not text:
        return text
    if text.rfind("\n\n") < 0 and not text.startswith("\n") and not text.endswith("\n"):
        return pad + text.replace("\n", "\n" + pad)  # no empty line: one pass in C
    return "\n".join([pad + line if line else "" for line in text.split("\n")])


@dataclass(frozen=True, slots=True)
class Written:
    """A non-empty list as `BlockWriter.item` wrote its items (joined by newlines), to be a mapping's value at
    any indent; `source()` gives the list itself, for a document the writer leaves to PyYAML."""

    text: str
    source: Callable[[], list[Any]]


def _viewed(data: Any, views: Views) -> Any:
    """`data` as the mapping its type's view gives, or itself when its type has none."""
    view = views.get(type(data))
    return data if view is None else view(data)


def _sourced(data: Any, views: Views) -> Any:
    """`data` with each `Written` replaced by its list and each object with a view by its mapping."""
    data = _viewed(data, views)
    if isinstance(data, Written):
        return data.source()
    if isinstance(data, dict):
        return {key: _sourced(value, views) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return type(data)(_sourced(item, views) for item in data)
    return data


class _Prefixes(dict[str, str]):
    """`<lead><key>:` of each string key met after one lead."""

    __slots__ = ("lead",)

    def __init__(self, lead: str) -> None:
        super().__init__()
        self.lead = lead


class BlockWriter:
    """`write(data)` returns what `dump(data)` returns, for dicts, lists, str, int, float, bool and None, and
    `Written` lists as a mapping's values.

    `literal_blocks`: the dump writes multi-line strings as literal blocks (`|`); the writer then lays out
    those `literal` accepts itself when they are a mapping's value, else the whole tree goes to PyYAML.
    `views`: objects of these types are written as the mapping their view gives (anywhere in the tree)."""

    def __init__(self, dump: Dump, literal_blocks: bool = False, views: Views | None = None) -> None:
        self._dump = dump
        self._literal_blocks = literal_blocks
        self._views = dict(views or {})
        self.value_text = lru_cache(maxsize=None)(self._value_text)
        self.key_text = lru_cache(maxsize=None)(self._key_text)
        self._strings: dict[str, str] = {}  # a string value -> its text (most values repeat)
        self._keys: dict[str, str] = {}
        self._prefixes: dict[str, _Prefixes] = {}  # by lead: an indentation, or one ending in a dash

    def write(self, data: Any, header: str = "") -> str:
        """`header` (whole lines) + the text of `data`, joined once (a ConfigMap's dashboard is 75 kB)."""
        data = _viewed(data, self._views)
        if not isinstance(data, dict) or not data or (header and not header.endswith("\n")):
            return header + self._dump(_sourced(data, self._views))
        lines = [header[:-1]] if header else []
        try:
            self._mapping(data, "", lines)
        except _Fallback:
            return header + self._dump(_sourced(data, self._views))
        lines.append("")
        return "\n".join(lines)

    def item(self, data: Any) -> str | None:
        """The lines of `data` (a non-empty mapping, or an object whose view is one) as an item of a list at indent
        0 (`- ` first), joined by newlines; None when the writer leaves a tree holding it to PyYAML."""
        data = _viewed(data, self._views)
        if type(data) is not dict or not data:
            return None
        lines: list[str] = []
        try:
            self._mapping(data, "  ", lines, first="- ")
        except _Fallback:
            return None
        return "\n".join(lines)

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
        """A key's text (cached): itself when plain and short, else as PyYAML writes it. A plain scalar is a
        simple key (`key: value`) below 128 characters with libyaml and 123 with PyYAML's own emitter."""
        if type(key) is str:
            text = self._keys.get(key)
            if text is None:
                short = len(key) <= _SIMPLE_KEY
                text = self._keys[key] = key if short and plain(key) else self.key_text("str", "", key)
            return text
        return self.key_text(type(key).__name__, _token(key), key)

    def _scalar(self, value: Any) -> str:
        kind = type(value)
        if kind is str:
            return self._string(value)
        if kind is int:
            return str(value)
        if kind is Written:  # a list of lists: left to PyYAML
            raise _Fallback
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
        prefixes = self._prefixes.get(indent)
        if prefixes is None:
            prefixes = self._lead(indent)
        leading = prefixes
        if first is not None:
            found = self._prefixes.get(first)
            leading = found if found is not None else self._lead(first)
        strings, append = self._strings, lines.append
        for key, value in data.items():
            prefix = leading.get(key)
            if prefix is None:
                prefix = self._prefix(leading, key)
            leading = prefixes
            kind = type(value)
            if kind is str:
                text = strings.get(value)
                if text is None:
                    if "\n" in value and self._literal_blocks and literal(value):
                        lines += (f"{prefix} |", indented(value[:-1], indent + "  "))
                        continue
                    text = self._string(value)
                append(f"{prefix} {text}")
            elif kind is dict:
                if value:
                    append(prefix)
                    self._mapping(value, indent + "  ", lines)
                else:
                    append(f"{prefix} {{}}")
            elif kind is list or kind is tuple:
                if value:
                    append(prefix)
                    self._sequence(value, indent, lines)
                else:
                    append(f"{prefix} []")
            elif kind is int:
                append(f"{prefix} {value}")
            else:
                self._other(prefix, value, indent, lines)

    def _lead(self, lead: str) -> _Prefixes:
        prefixes = self._prefixes[lead] = _Prefixes(lead)
        return prefixes

    def _prefix(self, prefixes: _Prefixes, key: Any) -> str:
        """`<lead><key>:`, kept for a string key (True and 1 are one dict key, their texts are not)."""
        prefix = f"{prefixes.lead}{self._key(key)}:"
        if type(key) is str:
            prefixes[key] = prefix
        return prefix

    def _other(self, prefix: str, value: Any, indent: str, lines: list[str]) -> None:
        """An entry whose value is no string, int, dict or list."""
        value = _viewed(value, self._views)
        if type(value) is Written:
            lines += (prefix, indented(value.text, indent))  # a list under a key is indentless
            return
        inline = self._inline(value)
        if inline is not None:
            lines.append(f"{prefix} {inline}")
            return
        lines.append(prefix)  # a non-empty tuple, dict or list subclass
        if isinstance(value, dict):
            self._mapping(value, indent + "  ", lines)
        else:
            self._sequence(value, indent, lines)

    def _sequence(self, items: Any, indent: str, lines: list[str], first: str | None = None) -> None:
        strings, append, dash, inner = self._strings, lines.append, indent + "- ", indent + "  "
        lead = dash if first is None else first + "- "
        views = self._views
        for item in items:
            kind = type(item)
            view = views.get(kind)  # _viewed inline: this loop runs for every list item of every file
            if view is not None:
                item = view(item)
                kind = type(item)
            if kind is dict and item:
                self._mapping(item, inner, lines, first=lead)
            else:
                inline = strings.get(item) if kind is str else None
                if inline is None:
                    inline = self._inline(item)
                if inline is not None:
                    append(f"{lead}{inline}")
                elif isinstance(item, dict):
                    self._mapping(item, inner, lines, first=lead)
                else:
                    self._sequence(item, inner, lines, first=lead)
            lead = dash
