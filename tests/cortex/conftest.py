"""Shared by the Cortex ring's tests: the project's settings with the Mimir target on, and the pinned cortex."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack.config import load_settings
from stack.settings import StackSettings
from tests.support import pinned_tool

REPO = Path(__file__).resolve().parents[2]


def ring_settings(port: int = 9009, profile: str = "fast") -> StackSettings:
    """This repository's stack.yaml with the mimir target on and the ring's first HTTP port at `port`."""
    overrides = {"profile": profile, "mimir": {"enabled": True}, "components": {"mimir": {"port": port}}}
    return load_settings(REPO / "stack.yaml", overrides)


@pytest.fixture
def cortex() -> str:
    """The cortex binary at the pinned version (missing: skipped, or failed under CI=true)."""
    return pinned_tool(ring_settings(), "cortex")
