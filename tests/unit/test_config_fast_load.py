"""stack.yaml_load's fast construction of an anchorless stack.yaml: the values the full construction makes, and
anything it is not sure of handed to the full construction (which keeps every refusal and its message)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stack import yaml_load

SAME = [
    "a: 1\nb: [1, 2.5, true, null, ~, 0x1f, 0o17, 1_000, 1:30, .inf, '3', yes, No, '']\n",
    "a: {b: {c: [d, {e: f}]}}\nempty:\nlist: []\nmap: {}\n",
    "a: !!str 1\nb: !!int '2'\nc: !!float 3\nd: !!bool 'true'\n",
    "[1, 2]\n",
    "text\n",
    "",
    "# only a comment\n",
]
UNSURE = [
    "a: 1\na: 2\n",  # a repeated key
    "? [1]\n: x\n",  # a key that is a list
    "1: x\n",  # a key that is not text
    "<<: {a: 1}\n",  # a merge key
    "a: !!set {x}\n",  # a tag the walk leaves to the full construction
    "a: 2001-12-14\n",  # a timestamp
    "a: !!int x\n",  # a scalar its constructor refuses
    "a: !foo x\n",  # an unknown tag
    "--- 1\n--- 2\n",  # two documents
    "a: [b\n",  # malformed
]


@pytest.mark.parametrize("text", SAME)
def test_fast_load_makes_what_the_full_construction_makes(text: str) -> None:
    """A document of mappings with distinct text keys, lists and plain scalars loads to the same values."""
    assert yaml_load._fast_load(text) == yaml.load(text, Loader=yaml_load._AnchorlessLoader)  # noqa: S506


@pytest.mark.parametrize("text", UNSURE)
def test_fast_load_hands_the_rest_to_the_full_construction(text: str) -> None:
    """Anything else raises _Unsure, so that read_yaml asks the full construction (and its refusals)."""
    with pytest.raises(yaml_load._Unsure):
        yaml_load._fast_load(text)


def test_read_yaml_refuses_a_repeated_key_as_before(tmp_path: Path) -> None:
    """The fast path does not hide a refusal: a repeated key is still the full construction's one line."""
    path = tmp_path / "stack.yaml"
    path.write_text("project: a\nproject: b\n")
    with pytest.raises(yaml_load.ConfigError) as error:
        yaml_load.read_yaml(path)
    assert "duplicate key 'project' at line 2" in str(error.value)
