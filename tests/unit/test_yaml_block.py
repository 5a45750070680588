"""The fast block-YAML writer writes exactly PyYAML's bytes for any plain data tree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from stack.render import _Dumper, to_yaml
from stack.yaml_block import BlockWriter, Written, indented, literal, plain


def pyyaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=100_000, allow_unicode=True)


WRITER = BlockWriter(pyyaml)
LITERAL_WRITER = BlockWriter(pyyaml, literal_blocks=True)
text = st.text(alphabet=st.sampled_from(list("ab:#- '\"{}[]&*!|>%@`,?=~\t\\é0.1\n")), max_size=8)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=True, allow_infinity=True),
    text, st.sampled_from(["yes", "no", "on", "null", "~", "1e3", "0x1F", "1_000", "2024-01-01", "", "-", "- a"]),
)  # fmt: skip
keys = st.one_of(text, st.integers(-5, 5), st.booleans(), st.none())
trees = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(keys, trees, max_size=5))
def test_same_bytes_as_pyyaml(data: dict[Any, Any]) -> None:
    """Whatever the keys and scalars (quoted, special, multi-line, empty collections), the bytes are PyYAML's."""
    assert WRITER.write(data) == pyyaml(data)
    assert LITERAL_WRITER.write(data) == pyyaml(data)


def test_generated_files_use_it() -> None:
    """to_yaml writes the header, then the same bytes as PyYAML."""
    data = {"groups": [{"name": "a", "rules": [{"record": "x:y", "expr": "sum(up)", "labels": {}}]}]}
    assert to_yaml(data, header="# h\n") == "# h\n" + pyyaml(data)


NUMERIC_LED = [
    *("5m", "1:30", "1_000", "0x1F", "0o17", "1e3", "2024-01-01", "2024-01-01 10:00:00", "-a", "-", "---a"),
    *("...a", ".5", ".inf", ".a", "-.inf", '1 - (a{b="c"} / 0.001)', "5xx is above 1%", "0.99", "99.9%", "1h"),
    *("-1", "+1", "1_0:3"),
]
plain_text = st.text(alphabet=st.sampled_from(list("aAyYnNoOtTfF_/$(): #-'\"{}[],?=~.019eE;+^@&*!|>%`\\")), max_size=12)


@settings(max_examples=3000, deadline=None)
@given(
    st.one_of(
        plain_text,
        st.sampled_from(["yes", "No", "TRUE", "off", "Null", "on", "y", "n", "a:", "a :b"]),
        st.sampled_from(NUMERIC_LED),
        st.text(alphabet=st.sampled_from(list("0123456789.-:_ eEx+abmh%#")), min_size=1, max_size=8),
    )
)
def test_plain_strings_are_what_pyyaml_writes_unquoted(value: str) -> None:
    """A string the writer takes as plain (without asking PyYAML) is one PyYAML writes unquoted, as it is."""
    if plain(value):
        assert pyyaml({"k": value}) == f"k: {value}\n"
    assert WRITER.write({"k": value, value or "e": [value, {"x": value}]}) == pyyaml(
        {"k": value, value or "e": [value, {"x": value}]}
    )


lines = st.text(alphabet=st.sampled_from(list('ab {}":,- #|é\t')), max_size=6)


@settings(max_examples=1500, deadline=None)
@given(st.lists(lines, min_size=1, max_size=5), st.sampled_from(["", "\n", "\n\n", " ", "  \n"]))
def test_literal_blocks_are_pyyamls(parts: list[str], end: str) -> None:
    """Multi-line strings (JSON-like lines, empty lines, leading and trailing spaces, any ending) under a key,
    nested or in a list, are written as PyYAML writes them."""
    value = "\n".join(parts) + end
    data = {"data": {"x.json": value, "n": [value, {"y": value}]}, "z": value}
    assert LITERAL_WRITER.write(data) == pyyaml(data)
    if literal(value):
        assert LITERAL_WRITER.write({"k": value}) == pyyaml({"k": value})


@settings(max_examples=600, deadline=None)
@given(st.lists(st.dictionaries(keys, trees, min_size=1, max_size=4), min_size=1, max_size=4), trees)
def test_written_lists_are_the_lists_bytes_at_any_indent(items: list[dict[Any, Any]], other: Any) -> None:
    """A list written once (its items by `item`) and placed as a mapping's value, at the top, nested, or beside a
    value only PyYAML writes, gives the bytes of the document holding the list itself."""
    texts = [LITERAL_WRITER.item(item) for item in items]
    if any(text is None for text in texts):
        return  # the writer leaves such an item to PyYAML: its caller writes the list itself
    written = Written("\n".join(text for text in texts if text is not None), lambda: items)
    for make in (
        lambda v: {"groups": v},
        lambda v: {"a": 1, "spec": {"groups": v, "b": other}},
        lambda v: {"x": [{"y": {"z": v}}]},
    ):
        assert LITERAL_WRITER.write(make(written), header="# h\n") == "# h\n" + pyyaml(make(items))


def test_written_lists_beside_what_pyyaml_writes() -> None:
    """A document the writer leaves to PyYAML (a multi-line string it cannot write as a literal block) is written
    with the list itself in place of the written one."""
    items = [{"name": "a", "rules": [{"expr": "up"}]}]
    text = LITERAL_WRITER.item(items[0])
    assert text is not None
    data = {"note": "trailing \n", "groups": Written(text, lambda: items)}
    assert LITERAL_WRITER.write(data) == pyyaml({"note": "trailing \n", "groups": items})


@given(st.lists(st.text(alphabet=st.sampled_from(list("ab {-")), max_size=4), min_size=1, max_size=6))
def test_indented_pads_each_non_empty_line(parts: list[str]) -> None:
    """Each non-empty line gets the pad; empty lines (a literal block's) stay empty."""
    text = "\n".join(parts)
    assert indented(text, "  ").split("\n") == ["  " + line if line else "" for line in parts]
    assert indented(text, "") == text


class _PureDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def test_long_keys_as_either_emitter_writes_them() -> None:
    """A plain key is written as itself up to the length where libyaml or PyYAML's own emitter make it `? key`."""
    pure = BlockWriter(lambda data: yaml.dump(data, Dumper=_PureDumper, sort_keys=False, width=100_000))
    for length in (99, 100, 101, 122, 123, 124, 127, 128, 129, 130):
        data = {"a" * length: 1, "b": {"c" * length: "d"}}
        assert WRITER.write(data) == pyyaml(data)
        assert pure.write(data) == yaml.dump(data, Dumper=_PureDumper, sort_keys=False, width=100_000)


def safe_dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, width=100_000, allow_unicode=True)


SAFE_WRITER = BlockWriter(safe_dump)


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(keys, trees, max_size=5))
def test_same_bytes_as_pyyamls_own_emitter(data: dict[Any, Any]) -> None:
    """Over yaml.safe_dump (PyYAML's pure-Python emitter, multi-line strings quoted), the bytes are safe_dump's."""
    assert SAFE_WRITER.write(data) == safe_dump(data)


@dataclass(frozen=True)
class _Pair:
    """An object the writer reads through a view: its fields as a mapping, None ones left out."""

    first: Any
    second: Any = None


def _pair_view(pair: _Pair) -> dict[str, Any]:
    return {name: value for name, value in vars(pair).items() if value is not None}


def _viewed(data: Any) -> Any:
    if isinstance(data, _Pair):
        return _viewed(_pair_view(data))
    if isinstance(data, dict):
        return {key: _viewed(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_viewed(item) for item in data]
    return data


pairs = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.builds(_Pair, children, children), st.lists(children, max_size=3), st.tuples(children, children)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.builds(_Pair, pairs, pairs), st.dictionaries(text, pairs, max_size=4)))
def test_objects_with_a_view_are_written_as_their_mapping(data: Any) -> None:
    """An object whose type has a view, anywhere in the tree (the document itself, a value, a list item), is
    written as its view's mapping would be, also when the tree is left to PyYAML (a multi-line string)."""
    writer = BlockWriter(pyyaml, literal_blocks=True, views={_Pair: _pair_view})
    assert writer.write(data) == pyyaml(_viewed(data))
