"""`obsstack report`: the HTML written again from a recorded run, and with --screenshot a PNG of the whole page
taken by headless Chromium (Debian's package), 1300 px wide, as CI keeps it under the report directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stack.cli import app
from stack.errors import StackError
from stack.runtime.screenshot import WIDTH, find_browser, png_size
from tests.support import absent

RECORDED = Path(__file__).parent / "recorded" / "verify-report.json"


@pytest.fixture
def chromium() -> str:
    """Chromium's path; under CI a missing browser fails the test instead of skipping it."""
    try:
        return find_browser()
    except StackError as error:
        absent(str(error))


@pytest.fixture
def recorded_run(tmp_path: Path) -> Path:
    shutil.copy(RECORDED, tmp_path / "verify-report.json")
    return tmp_path


def test_report_screenshot_writes_the_whole_page_as_a_png(recorded_run: Path, chromium: str) -> None:
    """The recorded run's page, 1300 px wide and as tall as its content (every dashboard section), written
    beside the report; the command names both files."""
    result = CliRunner().invoke(app, ["report", "--report-dir", str(recorded_run), "--screenshot"])
    assert result.exit_code == 0, result.output
    png = recorded_run / "verify-report.png"
    assert f"screenshot: {png}" in result.output
    assert f"report: {recorded_run / 'verify-report.html'}" in result.output
    data = png.read_bytes()
    width, height = png_size(data)
    assert width == WIDTH == 1300
    assert height > 3000  # the golden signals and two dashboards, not one screenful
    assert len(data) > 50_000
    assert not list(recorded_run.glob(".*.tmp"))


def test_report_without_a_recorded_run_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """No verify-report.json: one line saying what to run, exit 2, nothing written."""
    result = CliRunner().invoke(app, ["report", "--report-dir", str(tmp_path), "--screenshot"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "verify-report.json: cannot read" in lines[0]
    assert "obsstack verify" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_report_is_refused(tmp_path: Path) -> None:
    """A JSON that is not a verify report: one line naming the file, exit 2, no HTML written."""
    (tmp_path / "verify-report.json").write_text('{"checks": 3}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["report", "--report-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "verify-report.json: not a verify report" in result.output
    assert not (tmp_path / "verify-report.html").exists()
