"""Reading stack.yaml into StackSettings, with one clear line per error.

The precedence (flags > OBSSTACK_* environment > stack.yaml > defaults) is declared on StackSettings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from stack.errors import ConfigError
from stack.settings import StackSettings, file_values

MAX_EXPANDED_NODES = 10_000  # a stack.yaml with aliases expanding past this is an alias bomb


class _AliasBombError(yaml.YAMLError):
    def __init__(self, expanded: int | None) -> None:
        got = "without end (an alias inside its own anchor)" if expanded is None else f"to {expanded} values"
        super().__init__(
            f"YAML aliases expand the document {got}, expected at most {MAX_EXPANDED_NODES} values "
            "(write the values out instead of nesting aliases)"
        )


# libyaml's parser when PyYAML has it (about ten times faster on large files), else the pure-Python one;
# construction (duplicate keys, the alias bound) stays the Python code below either way.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that rejects duplicate mapping keys instead of silently keeping the last, and alias
    bombs ("billion laughs") before constructing anything."""

    def construct_document(self, node: yaml.Node) -> Any:
        expanded, distinct = _expanded_size(node)
        if expanded is None or (expanded > MAX_EXPANDED_NODES and expanded > distinct):
            raise _AliasBombError(expanded)
        return super().construct_document(node)


def _expanded_size(root: yaml.Node) -> tuple[int | None, int]:
    """(number of nodes once every alias is expanded, or None if an alias contains itself; distinct nodes).

    Composed aliases are shared node objects, so sizes are memoised per node: linear in the text,
    whatever the expansion."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        children = _children(node)
        if done:
            on_path.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            continue
        if id(node) in sizes:
            continue
        if id(node) in on_path:
            return None, len(sizes)
        on_path.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)
    return sizes[id(root)], len(sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r} at line {mark.line + 1}", mark)
        seen.add(key)
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> dict[str, Any]:
    """Parse a YAML mapping, turning every failure into a one-line ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found, expected a stack.yaml (see README)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except _AliasBombError as exc:
        raise ConfigError([f"{path}: {exc}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([f"{where}: malformed YAML: {problem}, expected a YAML mapping"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: top level is a {type(data).__name__}, expected a mapping of settings"])
    return data


def load_settings(path: Path, overrides: dict[str, Any] | None = None) -> StackSettings:
    """Load settings from `path`, environment and flag overrides; raise ConfigError on bad input."""
    try:
        with file_values(read_yaml(path)):
            return StackSettings(**(overrides or {}))
    except ValidationError as exc:
        errors = exc.errors()
        deeper = [tuple(e["loc"]) for e in errors if e["type"] != "too_short"]
        kept = [
            e
            for e in errors
            if e["type"] != "too_short" or not any(loc[: len(e["loc"])] == tuple(e["loc"]) for loc in deeper)
        ]
        raise ConfigError([_describe(error, path) for error in kept]) from None


def _describe(error: Any, path: Path) -> str:
    where = ".".join(_loc_part(part) for part in error["loc"]).replace(".[", "[")
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if error["type"] == "extra_forbidden":
        return f"{where or '<top>'} in {path}: unknown key, expected one of the documented settings (see README)"
    if error["type"] == "missing":
        return f"{where} in {path}: required setting is missing"
    if "got " in message or where == "":
        return f"{where + ' in ' if where else ''}{path}: {message}"
    if isinstance(value, str | int | float | bool) or value is None:
        return f"{where} in {path}: {message}, got {value!r}"
    return f"{where} in {path}: {message}"


def _loc_part(part: Any) -> str:
    return f"[{part}]" if isinstance(part, int) else str(part)
