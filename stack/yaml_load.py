"""Reading stack.yaml's text into plain data (mappings, lists, scalars), with one clear line per error.

Only PyYAML and the error type: `generate` reads stack.yaml in a forked child (stack.forked) while it imports the
rest, so this module must load fast on its own. stack.config turns the data into settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from stack.errors import ConfigError, shown

MAX_EXPANDED_NODES = 10_000  # a stack.yaml with aliases expanding past this is an alias bomb


class _AliasBombError(yaml.YAMLError):
    def __init__(self, expanded: int | None) -> None:
        got = "without end (an alias inside its own anchor)" if expanded is None else f"to {expanded} values"
        super().__init__(
            f"YAML aliases expand the document {got}, expected at most {MAX_EXPANDED_NODES} values "
            "(write the values out instead of nesting aliases)"
        )


# libyaml's parser when PyYAML has it (about ten times faster on large files), else the pure-Python one;
# construction (duplicate keys, the alias bound) stays the Python code below either way: for a text without
# anchors, first a walk of our own over the composed nodes (_fast_load), which hands anything it is not sure of
# to the loaders' full construction.
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
        mark = key_node.start_mark
        if not isinstance(key_node, yaml.ScalarNode):
            kind = "list" if isinstance(key_node, yaml.SequenceNode) else "mapping"
            raise yaml.constructor.ConstructorError(
                None, None, f"a key at line {mark.line + 1} is a {kind}, expected a name", mark
            )
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                None, None, f"key {shown(key)} at line {mark.line + 1} is not text, expected a name (quote it)", mark
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {shown(key)} at line {mark.line + 1}", mark
            )
        seen.add(key)
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _AnchorlessLoader(_UniqueKeyLoader):
    """For a text without `&`: it has no anchor, so no alias to expand; the walk counting them is skipped."""

    def construct_document(self, node: yaml.Node) -> Any:
        return _SafeLoader.construct_document(self, node)


class _Unsure(Exception):
    """The fast construction met what only the full one decides (a tag, a merge or repeated key, an error)."""


class _ComposingLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """Composes only (libyaml's composer); the implicit tag of each distinct plain scalar is resolved once."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._tags: dict[tuple[Any, str | None, Any], str] = {}

    def resolve(self, kind: Any, value: str | None, implicit: Any) -> str:
        key = (kind, value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            tag = self._tags[key] = super().resolve(kind, value, implicit)
        return tag


_TAG = "tag:yaml.org,2002:"
_MAP, _SEQ, _STR = _TAG + "map", _TAG + "seq", _TAG + "str"
# the constructors the full construction calls for these implicit (or explicit) scalar tags
_SCALARS = {
    _TAG + name: yaml.constructor.SafeConstructor.yaml_constructors[_TAG + name]
    for name in ("null", "bool", "int", "float")
}


def _fast_load(text: str) -> Any:
    """The document of an anchorless text in one walk over its nodes: plain mappings with distinct text keys,
    lists, text, numbers, booleans and nulls. Anything else raises _Unsure, and the full construction (the
    loaders above: the same values, and every refusal with its message) reads the text instead."""
    loader = _ComposingLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _value(loader, node)
    except Exception as exc:  # a YAML error, a deep document: the full construction says what it is
        raise _Unsure from exc
    finally:
        loader.dispose()


def _value(loader: _ComposingLoader, node: yaml.Node) -> Any:
    """What the full construction makes of `node`, or _Unsure (or KeyError: a scalar of another tag)."""
    kind, tag = type(node), node.tag
    if kind is yaml.ScalarNode:
        return node.value if tag == _STR else _SCALARS[tag](loader, node)
    if kind is yaml.SequenceNode and tag == _SEQ:
        return [_value(loader, item) for item in node.value]
    if kind is not yaml.MappingNode or tag != _MAP:
        raise _Unsure
    mapping: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if type(key_node) is not yaml.ScalarNode or key_node.tag != _STR or key_node.value in mapping:
            raise _Unsure  # a merge key (`<<`), a key that is not text, a repeated key
        mapping[key_node.value] = _value(loader, value_node)
    return mapping


def _load(text: str) -> Any:
    """The document of `text`, or the full construction's error."""
    if "&" not in text:
        try:
            return _fast_load(text)
        except _Unsure:
            return yaml.load(text, Loader=_AnchorlessLoader)  # noqa: S506 - a SafeLoader subclass
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def read_yaml(path: Path) -> dict[str, Any]:
    """Parse a YAML mapping, turning every failure into a one-line ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found, expected a stack.yaml (see README)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    try:
        data = _load(text)
    except _AliasBombError as exc:
        raise ConfigError([f"{path}: {exc}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        expected = "" if "expected" in problem else ", expected a YAML mapping"
        raise ConfigError([f"{where}: malformed YAML: {problem}{expected}"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: top level is a {type(data).__name__}, expected a mapping of settings"])
    return data
