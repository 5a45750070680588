"""write: bytes compared without a diff unless one is shown; the manifest's entries and the output
directories as stack.ownership reads them."""

from __future__ import annotations

import difflib

import pytest

from stack.errors import StackError
from stack.ownership import Outputs, check_outputs, read_manifest
from stack.render import Artifact
from stack.write import MANIFEST, compare, write_plan

DIRS = {"output.alerts_dir": "alerts", "output.compose_dir": "deploy/compose"}
OWNED = Outputs(DIRS, dict.fromkeys(DIRS, "stack.yaml"))
PLAN = [Artifact("alerts/a.rules.yml", "a: 1\n"), Artifact("deploy/compose/compose.yaml", "services: {}\n")]


def test_compare_computes_no_diff_until_it_is_read(tmp_path, monkeypatch) -> None:
    """compare finds the changed files by their bytes; the unified diff is made only when `diff` is read."""
    write_plan(tmp_path, PLAN, OWNED)
    (tmp_path / "alerts" / "a.rules.yml").write_text("a: 2\n")
    calls = []
    real = difflib.unified_diff
    monkeypatch.setattr(difflib, "unified_diff", lambda *a, **k: calls.append(a) or real(*a, **k))
    drift = compare(tmp_path, PLAN, OWNED)
    assert drift.changed == ("alerts/a.rules.yml",)
    assert calls == []
    assert "-a: 2\n+a: 1\n" in drift.diff
    assert len(calls) == 1


def test_a_file_differing_only_in_line_endings_is_changed(tmp_path) -> None:
    """The comparison is of bytes: CRLF line endings are a change (text mode would have hidden it)."""
    write_plan(tmp_path, PLAN, OWNED)
    (tmp_path / "alerts" / "a.rules.yml").write_bytes(b"a: 1\r\n")
    assert compare(tmp_path, PLAN, OWNED).changed == ("alerts/a.rules.yml",)


def test_the_deepest_output_dir_names_a_path() -> None:
    """A path is attributed to the output directory holding it, by whole path parts."""
    assert OWNED.field_of("deploy/compose/compose.yaml") == "output.compose_dir"
    assert OWNED.field_of("alerts/tests/x.yml") == "output.alerts_dir"
    assert OWNED.field_of("alertsx/y.yml") == ""
    assert OWNED.field_of("README.md") == ""


def test_manifest_entries_are_split_by_where_they_are(tmp_path) -> None:
    """Entries inside an output directory may be pruned; others are kept apart (never deleted); comments and
    blank lines are skipped."""
    (tmp_path / MANIFEST).write_text("# header\n\nalerts/a.yml\nREADME.md\ndeploy/compose/c.yaml\n")
    manifest = read_manifest(tmp_path, OWNED)
    assert manifest.owned == {"alerts/a.yml", "deploy/compose/c.yaml"}
    assert manifest.elsewhere == {"README.md"}


def test_an_output_dir_below_a_symlinked_parent_is_refused(tmp_path) -> None:
    """deploy/compose where deploy is a symlink: refused, naming the link."""
    (tmp_path / "real").mkdir()
    (tmp_path / "deploy").symlink_to(tmp_path / "real")
    with pytest.raises(StackError, match=r"output.compose_dir in stack.yaml: leads through the symlink 'deploy'"):
        check_outputs(tmp_path, OWNED)


def test_pruning_removes_only_emptied_real_directories(tmp_path) -> None:
    """A stale file is removed with the directories it leaves empty, up to the project root and no further."""
    write_plan(tmp_path, [*PLAN, Artifact("alerts/tests/old.test.yml", "x: 1\n")], OWNED)
    write_plan(tmp_path, PLAN, OWNED)
    assert not (tmp_path / "alerts" / "tests").exists()
    assert (tmp_path / "alerts" / "a.rules.yml").read_text() == "a: 1\n"
