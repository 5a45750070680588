"""validate's dashboard checks on a staged project: the provisioning file decides which datasource UIDs exist,
and dashcheck missing is a skip with the command that builds it (a failure under CI=true)."""

from __future__ import annotations

import posixpath
from pathlib import Path

import pytest
import yaml

from stack import conventions as c
from stack.config import load_settings
from stack.render import render_grafana
from stack.validate.dashboards import SCHEMA_CHECK, check_dashboards, check_schema

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings():
    return load_settings(REPO / "stack.yaml")


@pytest.fixture
def stage(settings, tmp_path) -> Path:
    """The generated dashboards and Grafana provisioning, as validate stages them."""
    for artifact in render_grafana(settings, c.IN_CONTAINERS):
        target = tmp_path / artifact.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(artifact.text, encoding="utf-8")
    return tmp_path


def by_name(results) -> dict:
    return {r.name: r for r in results}


def datasources_file(stage: Path, settings) -> Path:
    return stage / posixpath.join(settings.output.compose_dir, c.GRAFANA_DATASOURCES)


def test_generated_dashboards_pass_the_linter_against_the_provisioning_file(stage, settings):
    """With the generated provisioning file, the lint finds nothing."""
    assert by_name(check_dashboards(stage, settings))["dashboard lint"].status == "ok"


def test_datasource_uid_nothing_provisions_fails(stage, settings):
    """Dropping Loki from the provisioning file makes the Loki panel's UID unresolved: the lint names it."""
    path = datasources_file(stage, settings)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["datasources"] = [d for d in data["datasources"] if d["type"] != "loki"]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = by_name(check_dashboards(stage, settings))["dashboard lint"]
    assert result.status == "failed"
    assert "'obs-loki' is neither a datasource variable nor a provisioned datasource" in result.detail


def test_missing_provisioning_file_fails(stage, settings):
    """No datasource provisioning file: the lint fails and says to generate."""
    datasources_file(stage, settings).unlink()
    result = by_name(check_dashboards(stage, settings))["dashboard lint"]
    assert result.status == "failed"
    assert "obsstack generate" in result.detail


@pytest.mark.parametrize(("ci", "status"), [("", "skipped"), ("true", "failed")])
def test_missing_dashcheck_names_the_build_command(stage, settings, tmp_path, monkeypatch, ci, status):
    """Without a built dashcheck the schema check is skipped, or failed under CI=true, naming the fix."""
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("CI", ci)
    result = check_schema(sorted((stage / "dashboards").glob("*.json")), stage)
    assert (result.name, result.status) == (SCHEMA_CHECK, status)
    assert "obsstack components build dashcheck" in result.detail
