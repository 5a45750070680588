"""stack.strictness: each annotation compiled into a check; a value of the wrong YAML type is reported where it is,
in document order, through models, lists and mappings, also in models that hold themselves."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from stack.strictness import strict_errors


class Leaf(BaseModel):
    port: int
    ratio: float | None = None
    on: bool = True
    name: str = ""


class Tree(BaseModel):
    leaf: Leaf | None = None
    leaves: tuple[Leaf, ...] = ()
    by_name: dict[str, Annotated[float, Field(gt=0)]] = {}
    children: tuple[Tree, ...] = ()
    either: int | str = 0  # a union of several: any scalar passes here


def test_wrong_scalars_are_reported_in_document_order() -> None:
    """Strings, booleans and decimals where numbers or booleans are expected, each with its location."""
    data = {
        "leaf": {"port": "80", "on": "yes", "name": 5},
        "leaves": [{"port": 1.5}, None, {"ratio": True}],
        "by_name": {"a": "1"},
        "either": "x",
    }
    assert [loc for loc, _ in strict_errors(Tree, data)] == [
        ("leaf", "port"), ("leaf", "on"), ("leaves", 0, "port"), ("leaves", 2, "ratio"), ("by_name", "a"),
    ]  # fmt: skip
    assert strict_errors(Tree, data)[0][1] == "must be a whole number, not a string, got '80'"


def test_a_model_that_holds_itself_is_checked_at_every_depth() -> None:
    """Tree.children holds Trees: the check compiles and reaches the leaf two levels down."""
    data = {"children": [{"children": [{"leaf": {"port": False}}]}]}
    assert strict_errors(Tree, data) == [
        (("children", 0, "children", 0, "leaf", "port"), "must be a whole number, not a boolean, got False")
    ]


def test_values_of_other_shapes_are_left_to_validation() -> None:
    """A list where a model is expected, unknown keys and None are not this check's business."""
    assert strict_errors(Tree, {"leaf": [1], "unknown": "x", "leaves": None}) == []
    assert strict_errors(Tree, None) == []
