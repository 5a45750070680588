"""dashcheck decodes dashboards strictly with the Grafana Foundation SDK's types: unknown keys, wrong types and
missing required fields are findings naming the path; what obsstack generates has none."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from stack.builders.dashboards import build_dashboards
from stack.config import load_settings
from stack.runtime.checkers import SOURCE, build_dashcheck, source_gomod
from stack.validate.dashboards import SDK_MODULE, SDK_VERSION, check_schema
from tests.support import absent

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.tools


def run(dashcheck: str, folder: Path, boards: dict[str, dict]) -> tuple[int, list[dict]]:
    for name, board in boards.items():
        (folder / f"{name}.json").write_text(json.dumps(board, indent=2), encoding="utf-8")
    files = [str(folder / f"{name}.json") for name in boards]
    done = subprocess.run([dashcheck, *files], capture_output=True, text=True, timeout=60, check=False)
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


@pytest.fixture(scope="module")
def built() -> dict[str, dict]:
    return build_dashboards(load_settings(REPO / "stack.yaml"))


def test_generated_dashboards_have_no_findings(dashcheck, built, tmp_path):
    """The dashboards the builders make decode strictly: exit 0, no output."""
    assert run(dashcheck, tmp_path, built) == (0, [])


def test_committed_dashboards_have_no_findings(dashcheck):
    """dashboards/*.json as committed decode strictly (validate's check passes on them)."""
    files = sorted((REPO / "dashboards").glob("*.json"))
    assert files
    result = check_schema(files, REPO)
    assert result.status == "ok", result.detail


def test_unknown_key_is_named_with_its_path(dashcheck, built, tmp_path):
    """A key the schema does not have, on the dashboard and in a panel, is reported with its path."""
    board = copy.deepcopy(next(iter(built.values())))
    board["sharedCrosshair"] = True
    board["panels"][1]["span"] = 6
    code, findings = run(dashcheck, tmp_path, {"bad": board})
    assert code == 1
    assert {(f["path"], f["error"]) for f in findings} == {
        ("sharedCrosshair", "unknown field"),
        ("panels[1].span", "unknown field"),
    }
    assert all(f["file"].endswith("bad.json") for f in findings)


def test_unknown_panel_option_and_query_field(dashcheck, built, tmp_path):
    """An option the panel type does not have and a field a Prometheus query does not have are reported."""
    board = copy.deepcopy(next(iter(built.values())))
    panel = next(p for p in board["panels"] if p["type"] == "timeseries")
    index = board["panels"].index(panel)
    panel["options"]["legend"]["shwoLegend"] = True
    panel["targets"][0]["exprr"] = "up"
    _, findings = run(dashcheck, tmp_path, {"bad": board})
    paths = {f["path"] for f in findings}
    assert f"panels[{index}].options.legend.shwoLegend" in paths
    assert f"panels[{index}].targets[0].exprr" in paths


def test_wrong_type_is_reported(dashcheck, built, tmp_path):
    """A value of the wrong type (a string where the schema has an integer) is a finding at that path."""
    board = copy.deepcopy(next(iter(built.values())))
    board["panels"][1]["gridPos"]["w"] = "twelve"
    code, findings = run(dashcheck, tmp_path, {"bad": board})
    assert code == 1
    assert [f["path"] for f in findings] == ["panels[1].gridPos.w"]
    assert "string" in findings[0]["error"]


def test_missing_required_field_is_reported(dashcheck, built, tmp_path):
    """Leaving out a field the schema requires (a time series legend's showLegend) is a finding."""
    board = copy.deepcopy(next(iter(built.values())))
    panel = next(p for p in board["panels"] if p["type"] == "timeseries")
    del panel["options"]["legend"]["showLegend"]
    _, findings = run(dashcheck, tmp_path, {"bad": board})
    assert [f["error"] for f in findings] == ["required field is missing from input"]
    assert findings[0]["path"].endswith("options.legend.showLegend")


def test_reports_the_pinned_sdk_version(dashcheck):
    """`dashcheck --version` names the SDK version it was built with, which is the pin."""
    done = subprocess.run([dashcheck, "--version"], capture_output=True, text=True, timeout=30, check=True)
    assert re.search(rf"version {re.escape(SDK_VERSION)}\b", done.stdout)


def test_go_module_requires_the_pinned_sdk_and_nothing_else():
    """stack/checkers/dashboards/go.mod requires exactly the pinned SDK (Apache-2.0) and no other module."""
    requires = re.findall(r"^require (\S+) (\S+)$", source_gomod(), re.M)
    assert requires == [(SDK_MODULE, f"v{SDK_VERSION}")]
    assert not re.search(r"^\s*require \($", (SOURCE / "go.mod").read_text(), re.M)


def test_build_installs_into_the_component_cache(tmp_path, monkeypatch):
    """build_dashcheck builds stack/checkers/dashboards into <cache>/components/dashcheck-<SDK version>/dashcheck,
    and a second call reuses it."""
    if shutil.which("go") is None:
        message = "go is not installed (building dashcheck needs Go)"
        absent(message)
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path))
    lines: list[str] = []
    binary = build_dashcheck(lines.append)
    assert binary == tmp_path / "components" / f"dashcheck-{SDK_VERSION}" / "dashcheck"
    assert "built in" in lines[-1]
    assert build_dashcheck(lines.append) == binary
    assert "cached at" in lines[-1]
    assert [p.name for p in (tmp_path / "components").iterdir()] == [f"dashcheck-{SDK_VERSION}"]
