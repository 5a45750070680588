"""Real promtool runs on the rules generated from tests/golden/stack.yaml, whose services include one that
pushes OpenTelemetry metrics by OTLP (inventory) and one with hand-written metrics of its own names and
labels (payments): the generated tests pass, and so does the hand-written oracle of payments."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import generated_project

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "stack.yaml"
ORACLE = Path(__file__).parent / "own_metrics" / "payments_oracle.test.yml"


def promtool_test(promtool: str, cwd: Path, *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, "test", "rules", *files], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def golden_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The golden stack and what `obsstack generate` made of it (once for this module)."""
    return generated_project(tmp_path_factory.mktemp("golden"), GOLDEN.read_text(encoding="utf-8"))


@pytest.fixture
def golden_alerts(golden_project: Path, tmp_path: Path) -> Path:
    """A scratch copy of the golden stack's alerts/, with payments' oracle beside its rule file."""
    alerts = tmp_path / "alerts"
    shutil.copytree(golden_project / "alerts", alerts)
    shutil.copy(ORACLE, alerts / ORACLE.name)
    return alerts


def test_generated_tests_of_pushed_and_custom_services_pass(promtool: str, golden_alerts: Path) -> None:
    """promtool passes the generated tests of inventory (pushed: no `up`, pushes that stop), payments (its own
    names and labels) and the platform alerts (TargetDown on a scraped service's target)."""
    found = sorted(str(p.relative_to(golden_alerts)) for p in (golden_alerts / "tests").glob("*.test.yml"))
    tests = [t for t in found if t.split("/")[-1].split(".")[0] in ("inventory", "payments", "platform")]
    assert len(tests) == 5, found  # inventory's and payments' own and .slo tests, the platform's
    result = promtool_test(promtool, golden_alerts, *tests)
    assert result.returncode == 0, result.stdout + result.stderr


def test_oracle_of_custom_named_service_passes(promtool: str, golden_alerts: Path) -> None:
    """Series written by hand in payments' own names and labels fire HighLatencyP95 and HighErrorRate as
    computed by hand, and the instrumentator's names fire nothing for it."""
    result = promtool_test(promtool, golden_alerts, ORACLE.name)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("original", "edited", "why"),
    [
        ('code=~"5.."', 'status=~"5.."', "the status label is the instrumentator's, not payments' own"),
        ("sum by (service, endpoint", "sum by (service, handler", "the route label is the instrumentator's"),
        ("payments_request_seconds_bucket", "http_request_duration_seconds_bucket", "the histogram's default name"),
    ],
)
def test_oracle_catches_default_names_in_the_rules(promtool: str, golden_alerts: Path, original, edited, why) -> None:
    """Rules that read a default name or label instead of payments' own fail its oracle."""
    rules = golden_alerts / "payments.rules.yml"
    text = rules.read_text(encoding="utf-8")
    assert original in text, f"fixture drifted: {original!r} not in rules"
    rules.write_text(text.replace(original, edited), encoding="utf-8")
    result = promtool_test(promtool, golden_alerts, ORACLE.name)
    assert result.returncode != 0, why
    assert "FAILED" in result.stdout + result.stderr
