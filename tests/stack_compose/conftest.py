"""Settings for the compose, Loki, Tempo and collector tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack.config import load_settings
from stack.settings import StackSettings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings() -> StackSettings:
    """The repository's own stack.yaml (production profile)."""
    return load_settings(REPO / "stack.yaml")


@pytest.fixture
def fast(settings: StackSettings) -> StackSettings:
    return load_settings(REPO / "stack.yaml", {"profile": "fast"})
