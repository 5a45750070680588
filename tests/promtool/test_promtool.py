"""Real promtool/amtool runs: generated tests pass, oracle tests pass, hand edits are caught."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stack.cli import app

REPO = Path(__file__).resolve().parents[2]
ALERTS = REPO / "alerts"


def promtool_test(promtool: str, cwd: Path, *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, "test", "rules", *files], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def alerts_copy(tmp_path: Path) -> Path:
    """A scratch copy of the committed alerts/ directory."""
    target = tmp_path / "alerts"
    shutil.copytree(ALERTS, target)
    return target


def test_committed_generated_tests_pass(promtool: str) -> None:
    """promtool passes every generated unit test against the committed rules."""
    tests = sorted(str(p.relative_to(ALERTS)) for p in (ALERTS / "tests").glob("*.test.yml"))
    assert tests, "no generated promtool tests"
    result = promtool_test(promtool, ALERTS, *tests)
    assert result.returncode == 0, result.stdout + result.stderr


def test_oracle_tests_pass(promtool: str) -> None:
    """The hand-written edge-case tests (le="1.0", absent series, counter reset, guard) pass."""
    here = Path(__file__).parent
    result = promtool_test(promtool, here, *sorted(p.name for p in here.glob("*.test.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("original", "edited", "why"),
    [
        ('service="orders"} > 0.2\n', 'service="orders"} > 0.25\n', "latency threshold raised by hand"),
        ('service="orders"} > 0.2\n', 'service="orders"} > 0.1\n', "latency threshold lowered by hand"),
        ("> 0.01 and on (service)", "> 0.02 and on (service)", "error threshold raised by hand"),
        ('service="orders"} > 0.8\n', 'service="orders"} > 0.85\n', "pool threshold raised by hand"),
        (") > 14.4", ") > 16", "page burn factor raised by hand"),
        (") > 6", ") > 5", "slow page burn factor lowered by hand"),
        (") > 0.05 and on (service) sum", ") > 0.07 and on (service) sum", "business threshold raised by hand"),
    ],
)
def test_generated_tests_catch_threshold_edits(promtool: str, alerts_copy: Path, original, edited, why) -> None:
    """Changing a threshold in the rule file by hand makes the generated promtool tests fail."""
    rules = alerts_copy / "orders.rules.yml"
    text = rules.read_text()
    assert original in text, f"fixture drifted: {original!r} not in rules"
    count = -1 if "burn" in why else 1  # a burn factor stands in both windows of its expression
    rules.write_text(text.replace(original, edited, count))
    suite = "tests/orders.slo.test.yml" if "burn" in why else "tests/orders.test.yml"
    result = promtool_test(promtool, alerts_copy, suite)
    assert result.returncode != 0, why
    assert "FAILED" in result.stdout + result.stderr


@pytest.mark.parametrize(("edited", "why"), [("for: 10m", "for: lengthened"), ("for: 4m", "for: shortened")])
def test_generated_tests_catch_for_edits(promtool: str, alerts_copy: Path, edited: str, why: str) -> None:
    """Changing the first alert's `for: 5m` by hand makes the generated tests fail."""
    rules = alerts_copy / "orders.rules.yml"
    rules.write_text(rules.read_text().replace("for: 5m", edited, 1))
    result = promtool_test(promtool, alerts_copy, "tests/orders.test.yml")
    assert result.returncode != 0, why


def test_validate_runs_every_tool_on_the_committed_files(promtool: str, amtool: str) -> None:
    """`obsstack validate` prints one ok line per check and exits 0 on the committed outputs."""
    result = CliRunner().invoke(app, ["validate", "--config", str(REPO / "stack.yaml")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for name in (
        "promtool check config",
        "promtool check rules",
        "promtool test rules (generated)",
        "promtool test rules (oracle)",
        "amtool check-config",
    ):
        assert f"ok   {name}" in lines, lines


def test_validate_reports_a_broken_alertmanager_config(amtool: str, promtool: str, make_project) -> None:
    """A corrupted generated alertmanager.yml makes validate exit 1 with a FAIL line for amtool."""
    config = make_project()
    assert CliRunner().invoke(app, ["generate", "--config", str(config)]).exit_code == 0
    am = config.parent / "compose" / "alertmanager" / "alertmanager.yml"
    am.write_text(am.read_text().replace("receiver: warning", "receiver: nobody", 1))
    result = CliRunner().invoke(app, ["validate", "--config", str(config)])
    assert result.exit_code == 1
    assert any(line.startswith("FAIL amtool check-config") for line in result.stdout.splitlines())


def test_validate_missing_tool_fails_under_ci(make_project, monkeypatch) -> None:
    """With CI=true and no promtool on PATH, validate fails and names the apt package."""
    config = make_project()
    CliRunner().invoke(app, ["generate", "--config", str(config)])
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr("stack.tools.find_tool", lambda name: None)
    result = CliRunner().invoke(app, ["validate", "--config", str(config)])
    assert result.exit_code == 1
    assert "apt-get install prometheus" in result.stdout


def test_validate_missing_tool_is_skipped_outside_ci(make_project, monkeypatch) -> None:
    """Without CI, a missing tool is a 'skip' line naming the install command, not a failure."""
    config = make_project()
    CliRunner().invoke(app, ["generate", "--config", str(config)])
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr("stack.tools.find_tool", lambda name: None)
    result = CliRunner().invoke(app, ["validate", "--config", str(config)])
    assert result.exit_code == 0
    assert "skip amtool check-config: amtool not found; install it with: apt-get install prometheus-alertmanager" in (
        result.stdout
    )
