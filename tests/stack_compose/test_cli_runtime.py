"""up/down/status CLI: clear messages and exit 2 for errors."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from stack.cli import app

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
