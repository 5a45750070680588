"""Shared by the Mimir target's tests: the project's stack.yaml with the target on, and the pinned binaries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from stack.config import load_settings
from stack.settings import StackSettings
from stack.validate.mimir import tool

REPO = Path(__file__).resolve().parents[2]


def settings_with(tmp_path: Path, mimir: str = "{enabled: true}", port: int | None = None) -> StackSettings:
    """The project's stack.yaml (its services and profiles) with the given mimir block (and Mimir's port)."""
    data = yaml.safe_load((REPO / "stack.yaml").read_text(encoding="utf-8"))
    data["mimir"] = yaml.safe_load(mimir)
    if port is not None:
        data["components"]["mimir"] = {"image": "grafana/mimir:3.0.5", "port": port}
    config = tmp_path / "stack.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_settings(config)


def require_mimir_binary(name: str, settings: StackSettings) -> str:
    """The pinned mimir/mimirtool (cached build, else PATH); under CI a missing one fails instead of skipping."""
    found = tool(name, settings)
    if found is None:
        message = f"{name} not built; run `obsstack components build {name}`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found
