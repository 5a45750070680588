"""stack.yaml is read strictly: a string where a number or a boolean is expected is refused, for every field.

pydantic's lax mode (which OBSSTACK_* variables need: they are text) would take `"off"` as false, `"9091"`
as 9091 and `true` as 1.0. The values of stack.yaml are checked here first, against the annotations of the
settings models, so that what a user wrote is what obsstack uses: booleans are `true`/`false`, whole numbers
are integers (not `2.0`), numbers are integers or decimals, never strings or booleans.
"""

from __future__ import annotations

from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from stack.errors import shown

Loc = tuple[str | int, ...]
EXPECTED = {bool: "a boolean (true or false)", int: "a whole number", float: "a number"}


def strict_errors(model: type[BaseModel], data: Any) -> list[tuple[Loc, str]]:
    """(where, what is wrong) for each scalar of `data` whose YAML type is not the one its field expects."""
    found: list[tuple[Loc, str]] = []
    _check(model, data, (), found)
    return found


def _check(annotation: Any, value: Any, loc: Loc, found: list[tuple[Loc, str]]) -> None:
    kind = _unwrap(annotation)
    if kind is None or value is None:
        return
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        if isinstance(value, dict):
            _check_fields(kind, value, loc, found)
        return
    if kind in EXPECTED:
        if not _fits(kind, value) and isinstance(value, str | bool | int | float):
            found.append((loc, f"must be {EXPECTED[kind]}, not a {_yaml_type(value)}, got {shown(value)}"))
        return
    origin, args = get_origin(kind), get_args(kind)
    if origin in (tuple, list) and isinstance(value, list) and args:
        for index, item in enumerate(value):
            _check(args[0], item, (*loc, index), found)
    elif origin is dict and isinstance(value, dict) and len(args) == 2:
        for key, item in value.items():
            _check(args[1], item, (*loc, str(key)), found)


def _check_fields(model: type[BaseModel], value: dict[Any, Any], loc: Loc, found: list[tuple[Loc, str]]) -> None:
    fields = {field.alias or name: field for name, field in model.model_fields.items()}
    fields |= {name: field for name, field in model.model_fields.items() if name not in fields}
    for key, item in value.items():
        field = fields.get(key) if isinstance(key, str) else None
        if field is not None:
            _check(field.annotation, item, (*loc, key), found)


def _unwrap(annotation: Any) -> Any:
    """The one type a field holds (Annotated and `| None` removed), or None when it is a union of several."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, UnionType):
        kinds = [arg for arg in get_args(annotation) if arg is not NoneType]
        return _unwrap(kinds[0]) if len(kinds) == 1 else None
    return annotation


def _fits(kind: type, value: Any) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _yaml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    return "decimal" if isinstance(value, float) else "whole number"
