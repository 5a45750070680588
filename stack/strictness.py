"""stack.yaml is read strictly: a string where a number or a boolean is expected is refused, for every field.

pydantic's lax mode (which OBSSTACK_* variables need: they are text) would take `"off"` as false, `"9091"`
as 9091 and `true` as 1.0. The values of stack.yaml are checked here first, against the annotations of the
settings models, so that what a user wrote is what obsstack uses: booleans are `true`/`false`, whole numbers
are integers (not `2.0`), numbers are integers or decimals, never strings or booleans.

Each annotation is compiled once into a check (None for one that can hold no wrong scalar, such as `str`), so
the walk over a large stack.yaml visits only the values a check applies to.
"""

from __future__ import annotations

from collections.abc import Callable
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from stack.errors import shown

Loc = tuple[str | int, ...]
Found = list[tuple[Loc, str]]
Check = Callable[[Any, Loc, Found], None]
EXPECTED = {bool: "a boolean (true or false)", int: "a whole number", float: "a number"}
_FIELD_CHECKS: dict[type[BaseModel], dict[str, Check]] = {}  # per model: key in stack.yaml -> its check


def strict_errors(model: type[BaseModel], data: Any) -> list[tuple[Loc, str]]:
    """(where, what is wrong) for each scalar of `data` whose YAML type is not the one its field expects."""
    found: Found = []
    check = _compile(model)
    if check is not None and data is not None:
        check(data, (), found)
    return found


def _compile(annotation: Any) -> Check | None:
    """The check of a value of `annotation`, or None when no value of it can be wrong here."""
    kind = _unwrap(annotation)
    if kind is None:
        return None
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return _model_check(kind)
    if kind in EXPECTED:
        return _scalar_check(kind)
    origin, args = get_origin(kind), get_args(kind)
    if origin in (tuple, list) and args:
        return _items_check(args[0])
    if origin is dict and len(args) == 2:
        return _values_check(args[1])
    return None


def _model_check(model: type[BaseModel]) -> Check:
    def check(value: Any, loc: Loc, found: Found) -> None:
        if isinstance(value, dict):
            checks = _field_checks(model)
            for key, item in value.items():
                field = checks.get(key) if isinstance(key, str) else None
                if field is not None and item is not None:
                    field(item, (*loc, key), found)

    return check


def _field_checks(model: type[BaseModel]) -> dict[str, Check]:
    """The checks of a model's fields by the key stack.yaml names them with (alias, else name), compiled when
    a value of the model is first checked (so models that hold each other compile)."""
    if model not in _FIELD_CHECKS:
        fields = {field.alias or name: field for name, field in model.model_fields.items()}
        fields |= {name: field for name, field in model.model_fields.items() if name not in fields}
        compiled = {key: _compile(field.annotation) for key, field in fields.items()}
        _FIELD_CHECKS[model] = {key: check for key, check in compiled.items() if check is not None}
    return _FIELD_CHECKS[model]


def _scalar_check(kind: type) -> Check:
    def check(value: Any, loc: Loc, found: Found) -> None:
        if not _fits(kind, value) and isinstance(value, str | bool | int | float):
            found.append((loc, f"must be {EXPECTED[kind]}, not a {_yaml_type(value)}, got {shown(value)}"))

    return check


def _items_check(annotation: Any) -> Check | None:
    item_check = _compile(annotation)
    if item_check is None:
        return None

    def check(value: Any, loc: Loc, found: Found) -> None:
        if isinstance(value, list):
            for index, item in enumerate(value):
                if item is not None:
                    item_check(item, (*loc, index), found)

    return check


def _values_check(annotation: Any) -> Check | None:
    value_check = _compile(annotation)
    if value_check is None:
        return None

    def check(value: Any, loc: Loc, found: Found) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if item is not None:
                    value_check(item, (*loc, str(key)), found)

    return check


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
