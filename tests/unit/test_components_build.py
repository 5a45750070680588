"""Building the pinned Go components: recipes from stack.yaml, the wrapper module, the cache and version checks.

The real builds run in CI (`make components`, then the e2e stack uses the binaries); these tests cover what
decides *what* is built and which binary `up --local` accepts, without the go command's 10 minutes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stack.builders.distributions import COLLECTOR_MODULES, recipe, used_types
from stack.builders.otelcol import build_otelcol
from stack.cli import app
from stack.config import load_settings
from stack.errors import StackError
from stack.models.distributions import GoRecipe, OcbRecipe
from stack.runtime import binaries, gobuild

PINNED = "components:\n  otelcol: {image: 'otel/opentelemetry-collector-contrib:0.131.0', port: 8888}\n"


def test_collector_manifest_lists_exactly_the_components_the_config_uses(make_project) -> None:
    """Every receiver/processor/exporter/extension type of the generated config has one module in the
    manifest, at the pinned release, and nothing else is in it."""
    settings = load_settings(make_project())
    built = recipe(settings, "otelcol")
    assert isinstance(built, OcbRecipe)
    manifest = built.manifest.to_data()
    for kind, types in used_types(build_otelcol(settings)).items():
        expected = sorted(f"{COLLECTOR_MODULES[kind][t]} v0.132.0" for t in types)
        assert sorted(m["gomod"] for m in manifest.get(kind, [])) == expected, kind
    assert used_types(build_otelcol(settings))["exporters"] == ("otlp", "otlphttp", "prometheusremotewrite")


def test_bumping_an_image_tag_bumps_the_build(make_project) -> None:
    """The image tag is the one source of truth: collector modules, ocb and the dist version follow it."""
    settings = load_settings(make_project("project: demo\nservices: [{name: api}]\n" + PINNED))
    built = recipe(settings, "otelcol")
    assert isinstance(built, OcbRecipe)
    assert (built.version, built.builder_version, built.manifest.dist.version) == ("0.131.0", "v0.131.0", "0.131.0")
    assert all(m.gomod.endswith(" v0.131.0") for m in built.manifest.exporters)
    loki = recipe(settings, "loki")
    assert isinstance(loki, GoRecipe)
    assert (loki.module, loki.module_version) == ("github.com/grafana/loki/v3", "v3.5.3")
    assert any(flag.endswith(".Version=3.5.3") for flag in loki.ldflags)


def test_tempo_builds_from_the_tag_commit_pseudo_version(make_project) -> None:
    """Tempo's module path has no /v2: the pinned 2.9.0 builds from its commit's pseudo-version."""
    tempo = recipe(load_settings(make_project()), "tempo")
    assert isinstance(tempo, GoRecipe)
    assert tempo.module == "github.com/grafana/tempo"
    assert tempo.module_version.endswith("-607c7fb69662")
    assert "-X main.Version=2.9.0" in tempo.ldflags


def test_a_tempo_pin_without_a_known_commit_says_what_to_add(make_project) -> None:
    text = "project: demo\nservices: [{name: api}]\ncomponents:\n  tempo: {image: 'grafana/tempo:2.7.1', port: 3200}\n"
    with pytest.raises(StackError, match=r"components.tempo pins 2.7.1.*PSEUDO_VERSIONS"):
        recipe(load_settings(make_project(text)), "tempo")


UPSTREAM = """module github.com/grafana/loki/v3

go 1.24.0

require github.com/x/y v1.0.0

replace github.com/a/b => github.com/c/b v1.2.3

exclude k8s.io/client-go v8.0.0+incompatible

replace (
	k8s.io/api => k8s.io/api v0.25.0
	github.com/grafana/loki/pkg/push => ./pkg/push
)
"""


def test_wrapper_module_carries_upstream_replaces_but_not_local_directories() -> None:
    """Replace and exclude directives are copied; a replace by a directory of the upstream repository
    cannot work outside it, so it is dropped and the build says so."""
    notes: list[str] = []
    loki = GoRecipe("loki", "3.5.3", "github.com/grafana/loki/v3", "v3.5.3", "github.com/grafana/loki/v3/cmd/loki", ())
    text = gobuild.wrapper_gomod(loki, UPSTREAM, "1.24.0", notes.append)
    assert "require github.com/grafana/loki/v3 v3.5.3" in text
    assert "replace github.com/a/b => github.com/c/b v1.2.3" in text
    assert "exclude k8s.io/client-go v8.0.0+incompatible" in text
    assert "k8s.io/api => k8s.io/api v0.25.0" in text
    assert "./pkg/push" not in text
    assert notes == ["loki: not carried (a directory of the upstream repository): "
                     "github.com/grafana/loki/pkg/push => ./pkg/push"]  # fmt: skip


def _stand_in(directory: Path, name: str, version: str) -> Path:
    """A stand-in executable (not the real component) that prints a version line the way Loki does."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{name}, version {version} (branch: HEAD)'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_up_refuses_a_binary_on_path_whose_version_differs_from_the_pin(make_project, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    settings = load_settings(make_project())
    _stand_in(tmp_path / "bin", "loki", "3.4.0")
    with pytest.raises(StackError, match=r"reports version 3.4.0, stack.yaml pins 3.5.3.*components build loki"):
        binaries.locate("loki", ("loki",), settings)
    right = _stand_in(tmp_path / "bin", "loki", "3.5.3")
    assert binaries.locate("loki", ("loki",), settings) == str(right)


def test_the_cached_build_is_used_before_path(make_project, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    _stand_in(tmp_path / "bin", "tempo", "2.8.0")
    cached = _stand_in(tmp_path / "cache" / "components" / "tempo-2.9.0", "tempo", "2.9.0")
    assert binaries.locate("tempo", ("tempo",), load_settings(make_project())) == str(cached)


def test_build_reuses_a_cached_binary_without_running_go(make_project, tmp_path, monkeypatch) -> None:
    """Present in the cache means never rebuilt: no go command runs (PATH has none here)."""
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    cached = _stand_in(tmp_path / "cache" / "components" / "loki-3.5.3", "loki", "3.5.3")
    lines: list[str] = []
    assert gobuild.build(recipe(load_settings(make_project()), "loki"), lines.append) == cached
    assert lines == [f"loki 3.5.3: cached at {cached}"]


def test_build_without_go_is_one_clear_line(make_project, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    config = make_project()
    result = CliRunner().invoke(app, ["components", "build", "loki", "--config", str(config)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: go not found on PATH; building components needs Go (https://go.dev/dl/, or Debian's golang-go "
        "if new enough), or put the pinned release binaries on PATH instead"
    ]
    assert not (tmp_path / "cache" / "components").exists()


def test_unknown_component_name_is_exit_2(make_project) -> None:
    result = CliRunner().invoke(app, ["components", "build", "grafanaa", "--config", str(make_project())])
    assert result.exit_code == 2
    assert "components build grafanaa: unknown; expected some of otelcol, loki, tempo" in result.output


def test_a_module_that_cannot_be_fetched_is_one_line_with_gos_message(make_project, tmp_path, monkeypatch) -> None:
    """The module proxy switched off (GOPROXY=off, no network): the error names module, version and go's words."""
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GOPROXY", "off")
    monkeypatch.setenv("GOMODCACHE", str(tmp_path / "modcache"))
    text = "project: demo\nservices: [{name: api}]\ncomponents:\n  loki: {image: 'grafana/loki:3.9.99', port: 3100}\n"
    result = CliRunner().invoke(app, ["components", "build", "loki", "--config", str(make_project(text))])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert errors == ["error: loki 3.9.99: cannot fetch github.com/grafana/loki/v3@v3.9.99: "
                      "github.com/grafana/loki/v3@v3.9.99: module lookup disabled by GOPROXY=off"]  # fmt: skip
    assert not (tmp_path / "cache" / "components" / "loki-3.9.99").exists()
