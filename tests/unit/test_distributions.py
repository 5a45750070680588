"""Recipes of the built components: which module and version each builds, the stamps and tags it carries,
that nothing AGPL is among them, and that the version checks read what the real binaries print.

The real builds run in CI (`make components`); these tests cover what decides *what* is built.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from stack.builders.distributions import KUBECTL_MAIN, UI_OVERRIDES, recipe, recipes
from stack.cli import app
from stack.config import load_settings
from stack.errors import StackError
from stack.models.distributions import BUILT, GoRecipe, PlaceholderUi, PrometheusUi, SourceRecipe

COMMON = "github.com/prometheus/common/version"


def _source(settings_path: Path, name: str) -> SourceRecipe:
    built = recipe(load_settings(settings_path), name)
    assert isinstance(built, SourceRecipe)
    return built


def _go(settings_path: Path, name: str) -> GoRecipe:
    built = recipe(load_settings(settings_path), name)
    assert isinstance(built, GoRecipe)
    return built


def test_built_components_are_the_permissively_licensed_ones(make_project) -> None:
    """`components build` with no names builds exactly Prometheus, Alertmanager, the collector, kubectl,
    cortextool, Cortex, Jaeger and VictoriaLogs, one recipe each; no Grafana, Loki, Tempo or Mimir module appears
    in any recipe."""
    built = recipes(load_settings(make_project()), ())
    assert [r.name for r in built] == ["prometheus", "alertmanager", "otelcol", "kubectl", "cortextool", "cortex",
                                       "jaeger", "victorialogs"]  # fmt: skip
    assert list(BUILT) == [r.name for r in built]
    assert not [r for r in built if "grafana/" in repr(r)]


def test_prometheus_builds_promtool_too_from_the_v0_module_with_upstream_tags_and_stamps(make_project) -> None:
    """Prometheus 3.16.0 is module github.com/prometheus/prometheus v0.316.0; cmd/prometheus and cmd/promtool
    are built with upstream's netgo,builtinassets tags and every .promu.yml stamp, with fixed values."""
    built = _source(make_project(), "prometheus")
    assert (built.module, built.module_version) == ("github.com/prometheus/prometheus", "v0.316.0")
    assert (built.binaries, built.commands) == (("prometheus", "promtool"), ("./cmd/prometheus", "./cmd/promtool"))
    assert built.tags == ("netgo", "builtinassets")
    assert built.ldflags == (
        f"-X {COMMON}.Version=3.16.0",
        f"-X {COMMON}.Revision=v0.316.0",
        f"-X {COMMON}.Branch=HEAD",
        f"-X {COMMON}.BuildUser=obsstack",
        f"-X {COMMON}.BuildDate=19700101-00:00:00",
    )
    assert isinstance(built.assets, PrometheusUi)
    assert built.assets.overrides == UI_OVERRIDES["3.16.0"]
    assert {package for package, _ in built.assets.overrides} >= {"@mantine/code-highlight", "@mantine/core"}


def test_a_prometheus_bump_follows_the_image_tag_without_overrides(make_project) -> None:
    """3.5.0 maps to module v0.305.0; a release without known unserved UI packages installs the lockfile as is."""
    text = "project: demo\nservices: [{name: api}]\ncomponents:\n  prometheus: {image: 'prom/prometheus:v3.5.0'}\n"
    built = _source(make_project(text), "prometheus")
    assert (built.version, built.module_version) == ("3.5.0", "v0.305.0")
    assert f"-X {COMMON}.Version=3.5.0" in built.ldflags
    assert isinstance(built.assets, PrometheusUi)
    assert built.assets.overrides == ()


def test_alertmanager_builds_amtool_too_with_a_placeholder_ui(make_project) -> None:
    """Alertmanager 0.35.0 and amtool come from their module's own source at v0.35.0 with the netgo tag and the
    version stamped; the UI directory go:embed needs is filled with API-only placeholder pages."""
    built = _source(make_project(), "alertmanager")
    assert (built.module, built.module_version) == ("github.com/prometheus/alertmanager", "v0.35.0")
    assert built.commands == ("./cmd/alertmanager", "./cmd/amtool")
    assert built.tags == ("netgo",)
    assert f"-X {COMMON}.Version=0.35.0" in built.ldflags
    assert isinstance(built.assets, PlaceholderUi)
    assert [path for path, _ in built.assets.files] == ["ui/app/dist/elm/index.html", "ui/app/dist/mantine/index.html"]
    assert all("/api/v2/" in content for _, content in built.assets.files)


def test_cortextool_builds_in_a_wrapper_module_stamped_with_its_tag(make_project) -> None:
    """cortextool 0.21.1 (mimir.cortextool_version) is cortex-tools v0.21.1's cmd/cortextool, stamped as its
    Makefile does, so `cortextool version` prints `version v0.21.1`; its cortex requirement v1.21.0, which the
    module proxy no longer serves, is replaced by v1.21.1."""
    built = _go(make_project(), "cortextool")
    assert (built.version, built.module, built.module_version) == (
        "0.21.1", "github.com/cortexproject/cortex-tools", "v0.21.1"
    )  # fmt: skip
    assert built.target == "github.com/cortexproject/cortex-tools/cmd/cortextool"
    assert built.ldflags == ("-X github.com/cortexproject/cortex-tools/pkg/version.Version=v0.21.1",)
    assert (built.tags, built.version_flag) == (("netgo",), "version")
    assert built.replaces == ("github.com/cortexproject/cortex => github.com/cortexproject/cortex v1.21.1",)


def test_kubectl_builds_a_generated_main_from_the_staging_module(make_project) -> None:
    """kubectl 1.37.2 is k8s.io/kubectl v0.37.2 plus kubectl's own main, built as the wrapper module, with the
    client version stamped into component-base."""
    built = _go(make_project(), "kubectl")
    assert (built.version, built.module, built.module_version) == ("1.37.2", "k8s.io/kubectl", "v0.37.2")
    assert (built.target, built.main) == (".", KUBECTL_MAIN)
    assert "-X k8s.io/component-base/version.gitVersion=v1.37.2" in built.ldflags


def test_kubectl_follows_kubernetes_kubectl_version(make_project) -> None:
    """The kubectl pin is kubernetes.kubectl_version; a value that is no 1.Y.Z release is one clear line."""
    text = "project: demo\nservices: [{name: api}]\nkubernetes: {kubectl_version: '1.36.0'}\n"
    assert _go(make_project(text), "kubectl").module_version == "v0.36.0"
    bad = "project: demo\nservices: [{name: api}]\nkubernetes: {kubectl_version: '2.0.1'}\n"
    with pytest.raises(StackError, match=r"kubernetes.kubectl_version: got '2.0.1'; expected a Kubernetes release"):
        recipe(load_settings(make_project(bad)), "kubectl")


@pytest.mark.parametrize("name", ["loki", "tempo", "grafana", "mimir", "mimirtool", "promtool"])
def test_components_obsstack_does_not_build_are_refused_with_exit_2(make_project, name) -> None:
    """Asking for Loki, Tempo, Grafana, Mimir (AGPL) or a binary name instead of a component is one line
    listing what obsstack builds, exit 2, before anything is fetched."""
    result = CliRunner().invoke(app, ["components", "build", name, "--config", str(make_project())])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: components build {name}: unknown; expected some of prometheus, alertmanager, otelcol, kubectl, "
        "cortextool, cortex, jaeger, victorialogs, dashcheck, lezer"
    )
