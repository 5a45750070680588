"""Reading stack.yaml into StackSettings, with one clear line per error.

The precedence (flags > OBSSTACK_* environment > stack.yaml > defaults) is declared on StackSettings.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from stack.errors import ConfigError
from stack.settings import StackSettings, file_values
from stack.sources import Sources, describe, settings_error
from stack.strictness import strict_errors
from stack.yaml_load import read_yaml


def load_settings(
    path: Path, overrides: dict[str, Any] | None = None, document: Mapping[str, Any] | None = None
) -> StackSettings:
    """Load settings from `path`, environment and flag overrides; raise ConfigError on bad input.

    stack.yaml is read strictly (stack.strictness); every error names the source its value came from.
    `document`: what `read_yaml(path)` gave, when the caller has read it already."""
    data = read_yaml(path) if document is None else dict(document)
    sources = Sources(path, overrides or {})
    strict = strict_errors(StackSettings, data)
    if strict:
        raise ConfigError([f"{sources.field(loc)} in {path}: {what}" for loc, what in strict])
    try:
        with file_values(data):
            return StackSettings(**(overrides or {}))
    except SettingsError as exc:
        raise ConfigError([settings_error(exc, sources)]) from None
    except ValidationError as exc:
        errors = exc.errors()
        deeper = [tuple(e["loc"]) for e in errors if e["type"] != "too_short"]
        kept = [
            e
            for e in errors
            if e["type"] != "too_short" or not any(loc[: len(e["loc"])] == tuple(e["loc"]) for loc in deeper)
        ]
        raise ConfigError([describe(error, sources) for error in kept]) from None
