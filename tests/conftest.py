"""Shared fixtures: temporary projects and real external tools."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

MINIMAL_STACK = """\
project: demo
services:
  - name: orders
    port: 8000
"""


def require_tool(name: str) -> str:
    """The tool's path; under CI a missing tool fails the test instead of skipping it."""
    found = shutil.which(name)
    if found is None:
        beside = Path(os.sys.executable).parent / name  # type: ignore[attr-defined]
        found = str(beside) if beside.exists() else None
    if found is None:
        message = f"{name} is not installed (see README: apt-get install prometheus prometheus-alertmanager)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def promtool() -> str:
    return require_tool("promtool")


@pytest.fixture
def amtool() -> str:
    return require_tool("amtool")


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[[str], Path]:
    """Write a stack.yaml into a fresh directory and return its path."""

    def make(text: str = MINIMAL_STACK) -> Path:
        config = tmp_path / "stack.yaml"
        config.write_text(text, encoding="utf-8")
        return config

    return make
