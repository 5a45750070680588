"""Real promtool/amtool runs: generated tests pass, oracle tests pass, hand edits are caught."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import stack.validate as validation
from stack.cli import app
from stack.config import load_settings
from stack.settings import StackSettings
from stack.tools import CheckResult
from stack.validate.promtool import run_rule_tests
from tests.support import require_pinned

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


def test_validate_runs_every_tool_on_the_committed_files() -> None:
    """`obsstack validate` prints one ok line per check and exits 0 on the committed outputs; the replayed
    PrometheusRules and Mimir namespaces reuse the rule files' test run instead of running it again."""
    require_pinned(load_settings(REPO / "stack.yaml"), "promtool", "amtool", "kubectl", "cortextool")
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
    once = "same groups and tests as promtool test rules (generated), ran once"
    for replay in ("PrometheusRules", "mimir namespaces"):
        assert f"ok   promtool test rules ({replay}): {once}" in lines, lines


def test_validate_reports_a_broken_alertmanager_config(make_project) -> None:
    """A corrupted generated alertmanager.yml makes validate exit 1 with a FAIL line for amtool."""
    config = make_project()
    assert CliRunner().invoke(app, ["generate", "--config", str(config)]).exit_code == 0
    require_pinned(load_settings(config), "promtool", "amtool")
    am = config.parent / "compose" / "alertmanager" / "alertmanager.yml"
    am.write_text(am.read_text().replace("receiver: warning", "receiver: nobody", 1))
    result = CliRunner().invoke(app, ["validate", "--config", str(config)])
    assert result.exit_code == 1
    assert any(line.startswith("FAIL amtool check-config") for line in result.stdout.splitlines())


@pytest.fixture
def no_tools(make_project, monkeypatch, tmp_path: Path) -> Path:
    """A generated project, with an empty component cache and an empty PATH: no promtool or amtool anywhere."""
    config = make_project()
    assert CliRunner().invoke(app, ["generate", "--config", str(config)]).exit_code == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("OBSSTACK_CACHE", str(empty))
    monkeypatch.setenv("PATH", str(empty))
    return config


def test_validate_missing_tool_fails_under_ci(no_tools: Path, monkeypatch) -> None:
    """With CI=true and no pinned promtool, validate fails and names the build command."""
    monkeypatch.setenv("CI", "true")
    result = CliRunner().invoke(app, ["validate", "--config", str(no_tools)])
    assert result.exit_code == 1
    expected = "FAIL promtool check config: promtool 3.16.0 not found; run `obsstack components build prometheus`"
    assert expected in result.stdout.splitlines()


def test_validate_missing_tool_is_skipped_outside_ci(no_tools: Path, monkeypatch) -> None:
    """Without CI, a missing tool is a 'skip' line naming the build command, not a failure."""
    monkeypatch.delenv("CI", raising=False)
    result = CliRunner().invoke(app, ["validate", "--config", str(no_tools)])
    assert result.exit_code == 0, result.output
    expected = "skip amtool check-config: amtool 0.35.0 not found; run `obsstack components build alertmanager`"
    assert expected in result.stdout.splitlines()


def test_a_promtool_of_another_version_on_path_is_refused(no_tools: Path, monkeypatch, tmp_path: Path) -> None:
    """A promtool on PATH that reports another version than stack.yaml pins is refused with one line, even
    outside CI: its tests would prove the rules for a Prometheus nobody runs."""
    monkeypatch.delenv("CI", raising=False)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "promtool"
    fake.write_text("#!/bin/sh\necho 'promtool, version 2.42.0 (branch: debian/sid)'\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    result = CliRunner().invoke(app, ["validate", "--config", str(no_tools)])
    assert result.exit_code == 1
    refused = [line for line in result.stdout.splitlines() if line.startswith("FAIL promtool check config")]
    assert refused == [
        f"FAIL promtool check config: promtool: {fake} reports version 2.42.0, stack.yaml pins 3.16.0; "
        "run `obsstack components build prometheus` (the cached build is used first) or put promtool 3.16.0 on PATH"
    ]


def test_validate_streams_each_result_before_the_next_check_runs(make_project, monkeypatch) -> None:
    """validate yields a check's result before the checks after it have started."""
    config = make_project()
    assert CliRunner().invoke(app, ["generate", "--config", str(config)]).exit_code == 0
    started: list[str] = []

    def last(stage: Path, settings: StackSettings) -> Iterator[CheckResult]:
        started.append("last")
        yield CheckResult("last", "ok")

    monkeypatch.setattr(validation, "CHECKS", (validation.check_alertmanager, last))
    results = validation.validate(config.parent, load_settings(config))
    first = next(results)
    assert (first.name, started) == ("amtool check-config", [])
    assert [r.name for r in results] == ["last"]
    assert started == ["last"]


def test_equal_rules_and_tests_run_promtool_once(tmp_path: Path) -> None:
    """Tests loading the same groups from another file reuse the first run's result, saying so; a changed
    group makes a new key, so promtool runs again and the change fails."""
    settings = load_settings(REPO / "stack.yaml")
    require_pinned(settings, "promtool")
    shutil.copytree(ALERTS, tmp_path / "alerts")
    shutil.copytree(ALERTS, tmp_path / "replay")
    tests = {name: sorted((tmp_path / name / "tests").glob("*.yml")) for name in ("alerts", "replay")}
    first = run_rule_tests("first", settings, tests["alerts"], tmp_path)
    assert (first.status, first.detail) == ("ok", "")
    again = run_rule_tests("again", settings, tests["replay"], tmp_path)
    assert (again.status, again.detail) == ("ok", "same groups and tests as first, ran once")
    rules = tmp_path / "replay" / "orders.rules.yml"
    rules.write_text(rules.read_text().replace("for: 5m", "for: 10m", 1), encoding="utf-8")
    changed = run_rule_tests("changed", settings, tests["replay"], tmp_path)
    assert changed.failed
    assert "FAILED" in changed.detail
