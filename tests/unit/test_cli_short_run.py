"""cli._short_run: generate runs without garbage collection and without pydantic's plugin look-up, and leaves the
process as it found it (no later subprocess inherits PYDANTIC_DISABLE_PLUGINS)."""

from __future__ import annotations

import gc
import os

import pytest

from stack.cli import PLUGINS_OFF, _short_run


def test_short_run_turns_plugins_and_collection_off_then_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside: the variable is "1" and the collector off; after: the variable is gone again, the collector on."""
    monkeypatch.delenv(PLUGINS_OFF, raising=False)
    with _short_run():
        assert os.environ[PLUGINS_OFF] == "1"
        assert not gc.isenabled()
    assert PLUGINS_OFF not in os.environ
    assert gc.isenabled()


def test_short_run_restores_a_users_own_setting_even_on_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value the user set is restored, also when the command fails inside the block."""
    monkeypatch.setenv(PLUGINS_OFF, "logfire")
    with pytest.raises(RuntimeError), _short_run():
        raise RuntimeError("the command failed")
    assert os.environ[PLUGINS_OFF] == "logfire"
    assert gc.isenabled()
