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


def test_short_run_files_what_it_allocated_as_old_not_young() -> None:
    """After the block the collector is on, nothing is left frozen, and what the run allocated sits in the
    oldest generation: enabling the collector with all of it still young would make the next allocation walk
    it all (a collection of the youngest generation sized like the whole run)."""
    with _short_run():
        kept = [[index] for index in range(50_000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    assert any(item is kept for item in gc.get_objects(generation=2))
