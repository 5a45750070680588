"""Where a setting's value came from, and a validation error as one line naming it.

Every refusal reads `<field> in <source>: <what is wrong>, got <value>`, where source is the flag
(`--profile`, `--target`), the OBSSTACK_* variable or the stack.yaml the value came from, following the
precedence StackSettings declares (flags > environment > stack.yaml).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stack.errors import shown

ENV_PREFIX = "OBSSTACK_"
# error paths only: each pattern is compiled (and kept by the re module) when the first error is described
PLAIN_KEY = r"[A-Za-z_][A-Za-z0-9_]{0,63}"
FLAGS = {
    "profile": "--profile", "kubernetes": "--target kubernetes", "mimir": "--target mimir",
    "backends": "the running stack's state (.obsstack/)",  # verify asks the stores `up` started
}  # fmt: skip
# a cross-field error's message starts with the field it is about: `services[1] (billing).port: ...`
LEADING_FIELD = r"([a-z_][a-z0-9_]*(?:\[\d+\])?(?: \([^)]*\))?(?:\.[a-z_][a-z0-9_]*(?:\[\d+\])?)*): (.*)"


@dataclass(frozen=True)
class Sources:
    path: Path
    overrides: Mapping[str, Any]

    def of(self, loc: tuple[Any, ...]) -> str:
        """The flag, OBSSTACK_* variable or file the value at `loc` came from."""
        if loc and loc[0] in self.overrides:
            return FLAGS.get(str(loc[0]), "the command line")
        return self.variable(loc) or str(self.path)

    def variable(self, loc: tuple[Any, ...]) -> str | None:
        """The OBSSTACK_* variable that set `loc` (itself, or the object or list holding it), if one did."""
        names = [str(part) for part in loc]
        if any(part.isdigit() for part in names):  # a list comes whole, as the JSON of one variable
            names = names[: next(i for i, part in enumerate(names) if part.isdigit())]
        present = {key.upper(): key for key in os.environ if key.upper().startswith(ENV_PREFIX)}
        for size in range(len(names), 0, -1):
            candidate = ENV_PREFIX + "__".join(names[:size]).upper()
            if candidate in present:
                return present[candidate]
        return None

    def field(self, loc: tuple[Any, ...]) -> str:
        """`services[0].labels['a b']`: list indexes in brackets, keys that are not plain names quoted."""
        parts = [_part(part) for part in loc]
        return ".".join(parts).replace(".[", "[") or "<top>"


def describe(error: Mapping[str, Any], sources: Sources) -> str:
    """One pydantic error as `<field> in <source>: <what is wrong>, got <value>`."""
    loc = tuple(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if leading := re.fullmatch(LEADING_FIELD, message, re.S):  # a model's own check, about one of its fields
        field = ".".join(part for part in (sources.field(loc) if loc else "", leading.group(1)) if part)
        return f"{field} in {sources.of(loc + _loc_of(leading.group(1)))}: {leading.group(2)}"
    where, source = sources.field(loc), sources.of(loc)
    if error["type"] == "extra_forbidden":
        return f"{where} in {source}: unknown key, expected one of the documented settings (see README)"
    if error["type"] == "missing":
        return f"{where} in {source}: required setting is missing"
    if "got " in message or isinstance(error.get("input"), dict):  # a model's own check names what it refuses
        return f"{where} in {source}: {message}"
    return f"{where} in {source}: {message}, got {shown(error.get('input'))}"


def settings_error(error: Exception, sources: Sources) -> str:
    """pydantic-settings' SettingsError (an OBSSTACK_* variable that is not valid JSON) as one line."""
    found = re.search(r'field "([^"]+)"', str(error))
    field = found.group(1) if found else ""
    variable = sources.variable((field,)) if field else None
    if variable is None:  # a nested variable (OBSSTACK_A__B) of that field
        variable = next((k for k in os.environ if k.upper().startswith(f"{ENV_PREFIX}{field.upper()}__")), None)
    value = os.environ.get(variable, "") if variable else ""
    return (
        f"{field or '<top>'} in {variable or 'the environment'}: not valid JSON (a list or object setting in an "
        f"OBSSTACK_* variable is JSON), got {shown(value)}"
    )


def _part(part: Any) -> str:
    if isinstance(part, int):
        return f"[{part}]"
    return str(part) if re.fullmatch(PLAIN_KEY, str(part)) else f"[{shown(part)}]"


def _loc_of(field: str) -> tuple[str | int, ...]:
    """`services[1] (billing).port` -> ("services", 1, "port")."""
    plain = re.sub(r" \([^)]*\)", "", field)
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\[\]]+", plain) if p)
