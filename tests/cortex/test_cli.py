"""`obsstack up --ring`: bad combinations and a missing Cortex build are one line and exit 2, nothing started."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from stack.cli import app
from tests.cortex.conftest import REPO


def test_ring_with_compose_is_refused() -> None:
    """The ring runs local processes: --ring --compose is one line, exit 2."""
    result = CliRunner().invoke(app, ["up", "--ring", "--compose", "--config", str(REPO / "stack.yaml")])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: --ring runs local processes; use it with --local (or without --compose)"
    )


def test_no_cortex_build_is_named_and_nothing_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No cortex at the pin (empty cache, none on PATH): one line naming `obsstack components build cortex`,
    exit 2, and no state file (nothing was started)."""
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    project = tmp_path / "project"
    project.mkdir()
    (project / "stack.yaml").write_text((REPO / "stack.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(app, ["up", "--local", "--ring", "--config", str(project / "stack.yaml")])
    assert result.exit_code == 2
    assert result.output.strip() == "error: cortex 1.21.1 not found; run `obsstack components build cortex`"
    assert not (project / ".obsstack").exists()
