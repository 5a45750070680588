"""generate: reproducible bytes, headers, atomic writes, pruning and --check."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from stack import conventions as c
from stack.config import load_settings
from stack.render import render_all
from stack.write import MANIFEST, compare, write_plan

TWO_SERVICES = "project: demo\nservices:\n  - name: orders\n  - {name: billing, port: 8001}\n"


def run(*args: str):
    from stack.cli import app

    return CliRunner().invoke(app, list(args))


def test_same_input_same_bytes(make_project) -> None:
    """Rendering twice gives identical artifacts; every YAML file starts with the header and ends with a newline."""
    settings = load_settings(make_project())
    first, second = render_all(settings), render_all(settings)
    assert first == second
    for artifact in first:
        assert artifact.text.endswith("\n")
        if artifact.path.endswith((".yml", ".yaml")):
            assert artifact.text.startswith(c.GENERATED_HEADER)


def test_generate_then_check_is_clean(make_project) -> None:
    """After generate, --check exits 0 and writes nothing."""
    config = make_project(TWO_SERVICES)
    assert run("generate", "--config", str(config)).exit_code == 0
    result = run("generate", "--check", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "up to date" in result.stdout


def test_check_reports_hand_edit_with_a_diff(make_project) -> None:
    """A hand-edited generated file makes --check exit 1 and print a diff, without rewriting it."""
    config = make_project(TWO_SERVICES)
    run("generate", "--config", str(config))
    rules = config.parent / "alerts" / "orders.rules.yml"
    edited = rules.read_text().replace("> 0.2", "> 0.3")
    rules.write_text(edited)
    result = run("generate", "--check", "--config", str(config))
    assert result.exit_code == 1
    assert "--- a/alerts/orders.rules.yml" in result.stdout
    assert "-    expr: " in result.stdout
    assert "> 0.3" in result.stdout
    assert rules.read_text() == edited


def test_removed_service_prunes_only_generated_files(make_project) -> None:
    """Dropping a service removes its generated files; a user's own file in alerts/ is kept."""
    config = make_project(TWO_SERVICES)
    run("generate", "--config", str(config))
    own = config.parent / "alerts" / "my-notes.md"
    own.write_text("mine\n")
    assert (config.parent / "alerts" / "billing.rules.yml").exists()
    config.write_text("project: demo\nservices:\n  - name: orders\n")
    assert run("generate", "--check", "--config", str(config)).exit_code == 1
    assert run("generate", "--config", str(config)).exit_code == 0
    assert not (config.parent / "alerts" / "billing.rules.yml").exists()
    assert not (config.parent / "alerts" / "tests" / "billing.test.yml").exists()
    assert own.read_text() == "mine\n"
    assert "billing" not in (config.parent / MANIFEST).read_text()


def test_writes_are_atomic_and_leave_no_temp_files(make_project) -> None:
    """write_plan replaces files by rename; no temporary file is left behind."""
    config = make_project()
    settings = load_settings(config)
    write_plan(config.parent, render_all(settings))
    leftovers = [p for p in config.parent.rglob("*.tmp")]
    assert leftovers == []
    assert compare(config.parent, render_all(settings)).clean


def test_failed_write_keeps_old_files(make_project, monkeypatch) -> None:
    """If writing fails midway, no file is replaced and temp files are cleaned up."""
    import os

    config = make_project()
    settings = load_settings(config)
    write_plan(config.parent, render_all(settings))
    rules = config.parent / "alerts" / "orders.rules.yml"
    before = rules.read_text()
    config.write_text(config.read_text().replace("port: 8000", "port: 8001"))
    calls = {"n": 0}
    real_fdopen = os.fdopen

    def flaky(fd, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            os.close(fd)
            raise OSError("disk full")
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", flaky)
    result = run("generate", "--config", str(config))
    assert result.exit_code == 2
    assert "disk full" in result.stderr
    assert "nothing was changed" in result.stderr
    assert rules.read_text() == before
    assert list(config.parent.rglob("*.tmp")) == []


def test_committed_outputs_are_up_to_date() -> None:
    """The repository's committed alerts/, dashboards/ and compose/ match stack.yaml."""
    repo = Path(__file__).resolve().parents[2]
    settings = load_settings(repo / "stack.yaml")
    drift = compare(repo, render_all(settings))
    assert drift.clean, drift.diff[:2000]
