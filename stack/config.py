"""Reading stack.yaml into StackSettings, with one clear line per error.

Precedence: flags (init kwargs) > OBSSTACK_* environment > stack.yaml > defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from stack.errors import ConfigError
from stack.settings import StackSettings


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys instead of silently keeping the last."""


def _construct_mapping(
    loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} at line {mark.line + 1}", mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


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


class _YamlSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def load_settings(path: Path, overrides: dict[str, Any] | None = None) -> StackSettings:
    """Load settings from `path`, environment and flag overrides; raise ConfigError on bad input."""
    data = read_yaml(path)

    class _Settings(StackSettings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, _YamlSource(settings_cls, data))

    try:
        loaded = _Settings(**(overrides or {}))
    except ValidationError as exc:
        errors = exc.errors()
        deeper = [tuple(e["loc"]) for e in errors if e["type"] != "too_short"]
        kept = [
            e
            for e in errors
            if e["type"] != "too_short" or not any(loc[: len(e["loc"])] == tuple(e["loc"]) for loc in deeper)
        ]
        raise ConfigError([_describe(error, path) for error in kept]) from None
    return StackSettings.model_validate(loaded.model_dump())


def _describe(error: Any, path: Path) -> str:
    where = ".".join(_loc_part(part) for part in error["loc"]).replace(".[", "[")
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if error["type"] == "extra_forbidden":
        return (
            f"{where or '<top>'} in {path}: unknown key, expected one of the documented settings (see README)"
        )
    if error["type"] == "missing":
        return f"{where} in {path}: required setting is missing"
    if "got " in message or where == "":
        return f"{where + ' in ' if where else ''}{path}: {message}"
    if isinstance(value, str | int | float | bool) or value is None:
        return f"{where} in {path}: {message}, got {value!r}"
    return f"{where} in {path}: {message}"


def _loc_part(part: Any) -> str:
    return f"[{part}]" if isinstance(part, int) else str(part)
