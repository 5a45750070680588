"""up/down/status CLI: clear messages and exit 2 for errors."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from stack.cli import app
from stack.runtime.state import State

STACK = "project: demo\nservices:\n  - name: orders\n    port: 18123\n"


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_local_and_compose_exclude_each_other(tmp_path: Path) -> None:
    """--local with --compose is a usage error with exit code 2."""
    (tmp_path / "stack.yaml").write_text(STACK, encoding="utf-8")
    result = run("up", "--local", "--compose", "--config", str(tmp_path / "stack.yaml"))
    assert result.exit_code == 2
    assert "exclude each other" in result.output


def test_compose_without_engine_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    """--compose without a Docker engine exits 2 with one line naming the problem."""
    monkeypatch.setattr("stack.runtime.lifecycle.engine", lambda: None)
    (tmp_path / "stack.yaml").write_text(STACK, encoding="utf-8")
    result = run("up", "--compose", "--config", str(tmp_path / "stack.yaml"))
    assert result.exit_code == 2
    assert "no Docker engine" in result.output


def test_down_and_status_without_state(tmp_path: Path) -> None:
    """down and status on a project that never ran say so and succeed."""
    (tmp_path / "stack.yaml").write_text(STACK, encoding="utf-8")
    assert "nothing to stop" in run("down", "--config", str(tmp_path / "stack.yaml")).output
    assert "not running" in run("status", "--config", str(tmp_path / "stack.yaml")).output


def test_local_says_local_processes_even_when_an_engine_answers(tmp_path: Path, monkeypatch) -> None:
    """`up --local` names the mode asked for, never "no Docker engine" (an engine may well answer)."""
    monkeypatch.setattr("stack.runtime.lifecycle.engine", object)  # an engine answers
    monkeypatch.setattr("stack.runtime.lifecycle.up_local", lambda root, settings, echo, eph: State("local", "fast"))
    (tmp_path / "stack.yaml").write_text(STACK, encoding="utf-8")
    result = run("up", "--local", "--config", str(tmp_path / "stack.yaml"))
    assert result.exit_code == 0, result.output
    assert "local processes (--local): starting the stack on 127.0.0.1" in result.output
    assert "no Docker engine" not in result.output


def test_the_local_mimir_ring_is_gone(tmp_path: Path) -> None:
    """`up --mimir` and `obsstack stop NAME` (the ring's commands) no longer exist: usage errors, exit 2."""
    (tmp_path / "stack.yaml").write_text(STACK, encoding="utf-8")
    assert run("up", "--mimir", "--config", str(tmp_path / "stack.yaml")).exit_code == 2
    assert run("stop", "mimir-2", "--config", str(tmp_path / "stack.yaml")).exit_code == 2
    assert not (tmp_path / ".obsstack").exists()
