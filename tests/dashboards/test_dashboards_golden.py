"""Golden files: tests/golden/stack.yaml renders exactly the files under tests/golden/expected/.

Rewrite the expected files after an intended change with: UPDATE_GOLDEN=1 pytest tests/dashboards
"""

from __future__ import annotations

import os
from pathlib import Path

from stack import conventions as c
from stack.config import load_settings
from stack.render import render_grafana

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
EXPECTED = GOLDEN / "expected"


def test_golden_dashboards_and_provisioning():
    """Every Grafana artifact equals its expected file byte for byte, and no expected file is stale."""
    artifacts = {a.path: a.text for a in render_grafana(load_settings(GOLDEN / "stack.yaml"), c.IN_CONTAINERS)}
    if os.environ.get("UPDATE_GOLDEN"):
        for path, text in artifacts.items():
            target = EXPECTED / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
    expected = {str(p.relative_to(EXPECTED)) for p in EXPECTED.rglob("*") if p.is_file()}
    assert expected == set(artifacts), "run UPDATE_GOLDEN=1 pytest tests/dashboards to refresh"
    for path, text in artifacts.items():
        assert (EXPECTED / path).read_bytes() == text.encode("utf-8"), path
