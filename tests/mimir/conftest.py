"""Shared by the Mimir target's tests: the project's stack.yaml with the target on."""

from __future__ import annotations

from pathlib import Path

import yaml

from stack.config import load_settings
from stack.settings import StackSettings

REPO = Path(__file__).resolve().parents[2]


def settings_with(tmp_path: Path, mimir: str = "{enabled: true}") -> StackSettings:
    """The project's stack.yaml (its services and profiles) with the given mimir block."""
    data = yaml.safe_load((REPO / "stack.yaml").read_text(encoding="utf-8"))
    data["mimir"] = yaml.safe_load(mimir)
    config = tmp_path / "stack.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_settings(config)
