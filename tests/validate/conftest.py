"""Fixtures of the validate checks: a copy of this repository's generated files to break, and the installed
LogQL/TraceQL checker (under CI a missing node or checker fails the test instead of skipping it)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from stack.config import load_settings
from stack.settings import StackSettings
from stack.validate.grammars import installed_checker
from tests.conftest import REPO, require_tool
from tests.support import absent

GENERATED = ("dashboards", "compose", "kubernetes")


@pytest.fixture(scope="session")
def repo_settings() -> StackSettings:
    return load_settings(REPO / "stack.yaml")


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    """A copy of the committed generated files (dashboards, compose, kubernetes), safe to break."""
    for name in GENERATED:
        shutil.copytree(REPO / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def lezer() -> Path:
    """The installed checker's script; missing: skipped, or failed under CI."""
    require_tool("node")
    script = installed_checker()
    if script is None:
        message = "the LogQL/TraceQL checker is not installed; run `obsstack components build lezer`"
        absent(message)
    return script


def edit_yaml(path: Path, change: Callable[[Any], None]) -> None:
    """Load a YAML file, let `change` mutate it, write it back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
