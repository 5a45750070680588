"""Recipes of mimir, mimirtool and kubectl: which module and version each builds, the stamps it carries, and
that the version checks read what those binaries print.

The real builds run in CI (`make components`); these tests cover what decides *what* is built.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stack.builders.distributions import KUBECTL_MAIN, PSEUDO_VERSIONS, recipe, recipes
from stack.cli import app
from stack.config import load_settings
from stack.errors import StackError
from stack.models.distributions import BUILT, GoRecipe
from stack.runtime import binaries, gobuild
from stack.tools import cached_binary

MIMIR_COMMIT = "v1.3.1-0.20260423142704-aced80d74930"
STAMP = "github.com/grafana/mimir/pkg/util/version"


def _go(settings_path: Path, name: str) -> GoRecipe:
    built = recipe(load_settings(settings_path), name)
    assert isinstance(built, GoRecipe)
    return built


@pytest.mark.parametrize("name", ["mimir", "mimirtool"])
def test_mimir_and_mimirtool_build_from_the_one_served_commit_stamped_with_the_pin(make_project, name) -> None:
    """Both come from the Mimir module at the served main-commit pseudo-version, with upstream's tags and the
    pinned 3.0.5 stamped as Version (so `-version` / `version` reports the pin)."""
    built = _go(make_project(), name)
    assert (built.version, built.module, built.module_version) == ("3.0.5", "github.com/grafana/mimir", MIMIR_COMMIT)
    assert built.target == f"github.com/grafana/mimir/cmd/{name}"
    assert built.tags == ("netgo", "stringlabels")
    assert f"-X {STAMP}.Version=3.0.5" in built.ldflags
    assert f"-X {STAMP}.Revision=aced80d74930" in built.ldflags
    assert built.main == ""


def test_mimirtool_follows_the_mimir_image_tag(make_project) -> None:
    """mimirtool has no component of its own: bumping components.mimir to a version without a known commit
    fails for both, naming PSEUDO_VERSIONS."""
    text = "project: demo\nservices: [{name: api}]\ncomponents:\n  mimir: {image: 'grafana/mimir:3.0.4', port: 9009}\n"
    settings = load_settings(make_project(text))
    for name in ("mimir", "mimirtool"):
        with pytest.raises(StackError, match=rf"components.{name} pins 3.0.4.*PSEUDO_VERSIONS"):
            recipe(settings, name)
    assert PSEUDO_VERSIONS[("mimir", "3.0.5")] == PSEUDO_VERSIONS[("mimirtool", "3.0.5")]


def test_kubectl_builds_a_generated_main_from_the_staging_module(make_project) -> None:
    """kubectl 1.37.2 is k8s.io/kubectl v0.37.2 plus kubectl's own main, built as the wrapper module, with the
    client version stamped into component-base."""
    built = _go(make_project(), "kubectl")
    assert (built.version, built.module, built.module_version) == ("1.37.2", "k8s.io/kubectl", "v0.37.2")
    assert built.target == "."
    assert built.main == KUBECTL_MAIN
    assert "cmd.NewDefaultKubectlCommand()" in built.main
    assert built.main.startswith("package main\n")
    assert "-X k8s.io/component-base/version.gitVersion=v1.37.2" in built.ldflags
    assert {"-X k8s.io/component-base/version.gitMajor=1", "-X k8s.io/component-base/version.gitMinor=37"} <= set(
        built.ldflags
    )


def test_kubectl_follows_kubernetes_kubectl_version(make_project) -> None:
    """The kubectl pin is kubernetes.kubectl_version; a value that is no 1.Y.Z release is one clear line."""
    text = "project: demo\nservices: [{name: api}]\nkubernetes: {kubectl_version: '1.36.0'}\n"
    assert _go(make_project(text), "kubectl").module_version == "v0.36.0"
    bad = "project: demo\nservices: [{name: api}]\nkubernetes: {kubectl_version: '2.0.1'}\n"
    with pytest.raises(StackError, match=r"kubernetes.kubectl_version: got '2.0.1'; expected a Kubernetes release"):
        recipe(load_settings(make_project(bad)), "kubectl")


def test_build_all_includes_mimir_mimirtool_and_kubectl(make_project) -> None:
    """`obsstack components build` with no names (make components, CI) builds the Mimir binaries and kubectl."""
    names = [r.name for r in recipes(load_settings(make_project()), ())]
    assert names == list(BUILT)
    assert {"mimir", "mimirtool", "kubectl"} <= set(names)


def test_kubectl_cache_path_is_the_shared_one(make_project, tmp_path, monkeypatch) -> None:
    """The recipe installs kubectl where stack.tools.cached_binary looks (and other code expects it)."""
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    path = _stand_in(tmp_path / "cache" / "components" / "kubectl-1.37.2", "kubectl", KUBECTL_OUT.format("1.37.2"))
    assert cached_binary("kubectl", "1.37.2", "kubectl") == path
    assert gobuild.cached("kubectl", "1.37.2") == path
    lines: list[str] = []
    assert gobuild.build(recipe(load_settings(make_project()), "kubectl"), lines.append) == path
    assert lines == [f"kubectl 1.37.2: cached at {path}"]


MIMIR_OUT = "Mimir, version {} (branch: main, revision: aced80d74930)\n  go version:       go1.26.8\n"
MIMIRTOOL_OUT = "Mimirtool, version {} (branch: main, revision: aced80d74930)\ncheck latest version... "
KUBECTL_OUT = "Client Version: v{}\nKustomize Version: v5.8.1\n"


def _stand_in(directory: Path, name: str, output: str) -> Path:
    """A stand-in executable (not the real binary) printing what the real one prints for its version flag,
    only when called with exactly that flag."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    flag = {"mimir": "-version", "mimirtool": "version", "kubectl": "version --client"}[name]
    path.write_text(f'#!/bin/sh\n[ "$*" = "{flag}" ] || exit 3\nprintf "%s" "{output}"\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.mark.parametrize(
    ("name", "output", "version"),
    [("mimir", MIMIR_OUT, "3.0.5"), ("mimirtool", MIMIRTOOL_OUT, "3.0.5"), ("kubectl", KUBECTL_OUT, "1.37.2")],
)
def test_path_binaries_are_checked_against_the_pin(make_project, tmp_path, monkeypatch, name, output, version) -> None:
    """The version each prints (kubectl's `Client Version: v1.37.2` too) is read with its own flag; a
    different version on PATH is refused with the build command, the pinned one accepted."""
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    settings = load_settings(make_project())
    _stand_in(tmp_path / "bin", name, output.format("9.9.9"))
    with pytest.raises(StackError, match=rf"reports version 9.9.9, stack.yaml pins {version}.*components build {name}"):
        binaries.locate(name, (name,), settings)
    right = _stand_in(tmp_path / "bin", name, output.format(version))
    assert binaries.locate(name, (name,), settings) == str(right)


def test_components_list_names_the_new_binaries(make_project, tmp_path, monkeypatch) -> None:
    """`obsstack components list` shows mimir, mimirtool and kubectl with their pinned versions."""
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    result = CliRunner().invoke(app, ["components", "list", "--config", str(make_project())])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1] for line in result.output.splitlines() if line.strip()}
    assert (rows["mimir"], rows["mimirtool"], rows["kubectl"]) == ("3.0.5", "3.0.5", "1.37.2")
