"""The LogQL/TraceQL checker package: exact pins, permissive licences, installed from the lockfile."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from stack.runtime.lezer import build_lezer
from stack.validate.grammars import LEZER_SOURCE, lezer_dir
from tests.conftest import require_tool

PINS = {"@grafana/lezer-logql": "0.4.2", "@grafana/lezer-traceql": "1.0.0"}
PERMISSIVE = {"Apache-2.0", "MIT"}


def lock() -> dict[str, dict[str, str]]:
    packages: dict[str, dict[str, str]] = json.loads((LEZER_SOURCE / "package-lock.json").read_text())["packages"]
    return packages


def test_dependencies_are_pinned_exactly_and_locked() -> None:
    """package.json names exact versions (no ranges) and the lockfile resolves each to that version."""
    dependencies = json.loads((LEZER_SOURCE / "package.json").read_text())["dependencies"]
    assert {name: dependencies[name] for name in PINS} == PINS
    for name, version in dependencies.items():
        assert version[0].isdigit(), f"{name} {version}: expected an exact version"
        assert lock()[f"node_modules/{name}"]["version"] == version


def test_every_locked_package_is_permissively_licensed() -> None:
    """Grafana's grammars are Apache-2.0, the lezer runtime MIT; nothing else is installed."""
    licences = {path: meta.get("license") for path, meta in lock().items() if path}
    assert licences
    assert set(licences.values()) <= PERMISSIVE, licences


@pytest.mark.tools
def test_build_installs_from_the_lockfile_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`build_lezer` installs the pinned grammars into the cache with `npm ci`, then reuses the directory;
    the installed script parses a query with no network."""
    require_tool("npm")
    node = require_tool("node")
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path))
    said: list[str] = []
    built = build_lezer(said.append)
    assert built == lezer_dir()
    assert built.parent == tmp_path / "components"
    for name, version in PINS.items():
        assert json.loads((built / "node_modules" / name / "package.json").read_text())["version"] == version
    assert build_lezer(said.append) == built
    assert said[-1] == f"lezer: cached at {built}"
    query = json.dumps([{"id": "q", "language": "logql", "query": '{a="b"} |= '}])
    done = subprocess.run([node, "check.mjs"], cwd=built, input=query, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)[0]["errors"][0]["column"] == 12  # after `|= `: the string is missing
