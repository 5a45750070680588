"""Building the pinned components: the collector manifest from stack.yaml, the wrapper module, the cache,
the version checks of binaries on PATH, and the built Prometheus and Alertmanager themselves.

The real builds run in CI (`make components`, before the tests); the last tests run those binaries.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from stack.builders.distributions import ALWAYS_BUILT, COLLECTOR_MODULES, recipe, used_types
from stack.builders.otelcol import build_otelcol
from stack.cli import app
from stack.config import load_settings
from stack.errors import StackError
from stack.models.distributions import GoRecipe, OcbRecipe, PlaceholderUi, PrometheusUi
from stack.runtime import binaries, gobuild, uibuild
from stack.runtime.promapi import wait_until
from stack.settings import Backends
from stack.tools import ToolError, locate
from tests.support import free_port, pinned_tool

PINNED = "components:\n  otelcol: {image: 'otel/opentelemetry-collector-contrib:0.131.0', port: 8888}\n"


def test_collector_manifest_lists_exactly_the_components_every_store_choice_uses(make_project) -> None:
    """Every receiver/processor/connector/exporter/extension type of the collector config of any `backends`
    choice has one module in the manifest, at the pinned release, and nothing else is in it but the transform
    processor (for metrics_source otlp services, built always): one cached build serves every choice."""
    settings = load_settings(make_project())
    built = recipe(settings, "otelcol")
    assert isinstance(built, OcbRecipe)
    manifest = built.manifest.to_data()
    choices = [("tempo", "loki"), ("tempo", "victorialogs"), ("jaeger", "loki"), ("jaeger", "victorialogs")]
    configs = [build_otelcol(settings.model_copy(update={"backends": Backends(traces=t, logs=lg)}))
               for t, lg in choices]  # fmt: skip
    for kind in ("receivers", "processors", "exporters", "extensions", "connectors"):
        types = {t for config in configs for t in used_types(config)[kind]} | set(ALWAYS_BUILT.get(kind, ()))
        expected = sorted(f"{COLLECTOR_MODULES[kind][t]} v0.159.0" for t in types)
        assert sorted(m["gomod"] for m in manifest.get(kind, [])) == expected, kind
    assert used_types(build_otelcol(settings))["exporters"] == ("otlp", "otlphttp", "prometheusremotewrite")
    assert {m["gomod"].split()[0].rsplit("/", 1)[1] for m in manifest["connectors"]} == {
        "servicegraphconnector", "spanmetricsconnector"}  # fmt: skip


def test_bumping_an_image_tag_bumps_the_build(make_project) -> None:
    """The image tag is the one source of truth: collector modules, ocb and the dist version follow it."""
    settings = load_settings(make_project("project: demo\nservices: [{name: api}]\n" + PINNED))
    built = recipe(settings, "otelcol")
    assert isinstance(built, OcbRecipe)
    assert (built.version, built.builder_version, built.manifest.dist.version) == ("0.131.0", "v0.131.0", "0.131.0")
    assert all(m.gomod.endswith(" v0.131.0") for m in built.manifest.exporters)


UPSTREAM = """module github.com/cortexproject/cortex-tools

go 1.25.0

require github.com/x/y v1.0.0

replace github.com/a/b => github.com/c/b v1.2.3

exclude k8s.io/client-go v8.0.0+incompatible

replace (
	k8s.io/api => k8s.io/api v0.25.0
	github.com/cortexproject/cortex-tools/pkg/x => ./pkg/x
)
"""


def test_wrapper_module_carries_upstream_replaces_but_not_local_directories() -> None:
    """Replace and exclude directives are copied, then the recipe's own; a replace by a directory of the
    upstream repository cannot work outside it, so it is dropped and the build says so."""
    notes: list[str] = []
    tool = GoRecipe("cortextool", "0.21.1", "github.com/cortexproject/cortex-tools", "v0.21.1", "x/cmd/cortextool", (),
                    replaces=("github.com/e/f => github.com/e/f v1.0.1",))  # fmt: skip
    text = gobuild.wrapper_gomod(tool, UPSTREAM, "1.25.0", notes.append)
    assert "require github.com/cortexproject/cortex-tools v0.21.1" in text
    assert "replace github.com/a/b => github.com/c/b v1.2.3" in text
    assert "exclude k8s.io/client-go v8.0.0+incompatible" in text
    assert "k8s.io/api => k8s.io/api v0.25.0" in text
    assert "./pkg/x" not in text
    assert text.endswith("\nreplace github.com/e/f => github.com/e/f v1.0.1\n")
    assert notes == ["cortextool: not carried (a directory of the upstream repository): "
                     "github.com/cortexproject/cortex-tools/pkg/x => ./pkg/x"]  # fmt: skip


def _stand_in(directory: Path, name: str, line: str) -> Path:
    """A stand-in executable (not the real tool) that prints one version line, as promtool does."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{line}'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_a_path_binary_reporting_another_version_is_refused(make_project, tmp_path, monkeypatch) -> None:
    """Debian's promtool 2.42.0 on PATH is refused with one line naming the pin and the build command; the
    same name reporting the pin is accepted."""
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    settings = load_settings(make_project())
    _stand_in(tmp_path / "bin", "promtool", "promtool, version 2.42.0 (branch: debian/sid, revision: 2.42.0-1)")
    with pytest.raises(ToolError, match=r"reports version 2.42.0, stack.yaml pins 3.16.0; run `obsstack components "
                       r"build prometheus`"):  # fmt: skip
        locate(settings.tool_pin("promtool"))
    right = _stand_in(tmp_path / "bin", "promtool", "promtool, version 3.16.0 (branch: HEAD, revision: v0.316.0)")
    assert locate(settings.tool_pin("promtool")) == str(right)


def test_up_refuses_a_prometheus_on_path_whose_version_differs(make_project, tmp_path, monkeypatch) -> None:
    """Local mode's lookup: the cached build first; without one, a PATH prometheus reporting 2.42.0 is one
    line saying what to run; nothing at all is None (the caller names the install hint)."""
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    settings = load_settings(make_project())
    assert binaries.locate("prometheus", ("prometheus",), settings) is None
    _stand_in(tmp_path / "bin", "prometheus", "prometheus, version 2.42.0 (branch: debian/sid)")
    with pytest.raises(StackError, match=r"prometheus: .* reports version 2.42.0, stack.yaml pins 3.16.0; run"):
        binaries.locate("prometheus", ("prometheus",), settings)
    cache = tmp_path / "cache" / "components" / "prometheus-3.16.0"
    built = _stand_in(cache, "prometheus", "prometheus, version 3.16.0")
    _stand_in(cache, "promtool", "promtool, version 3.16.0")
    assert binaries.locate("prometheus", ("prometheus",), settings) == str(built)


def test_a_loki_on_path_is_checked_and_the_hint_names_the_release_binary(make_project, tmp_path, monkeypatch) -> None:
    """Loki is never built: a PATH loki of another version is refused, saying to bring the official release
    binary or use Docker; the pinned one is started."""
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    settings = load_settings(make_project())
    _stand_in(tmp_path / "bin", "loki", "loki, version 3.4.0 (branch: HEAD)")
    with pytest.raises(StackError, match=r"pins 3.5.3; put the official release binary of loki 3.5.3 on PATH, or "
                       r"use Docker \(compose runs the official image\)"):  # fmt: skip
        binaries.locate("loki", ("loki",), settings)
    right = _stand_in(tmp_path / "bin", "loki", "loki, version 3.5.3 (branch: HEAD)")
    assert binaries.locate("loki", ("loki",), settings) == str(right)


def test_build_reuses_cached_binaries_without_running_go(make_project, tmp_path, monkeypatch) -> None:
    """Present in the cache means never rebuilt: no go command runs (PATH has none here)."""
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    cache = tmp_path / "cache" / "components" / "alertmanager-0.35.0"
    cached = _stand_in(cache, "alertmanager", "alertmanager, version 0.35.0")
    _stand_in(cache, "amtool", "amtool, version 0.35.0")
    lines: list[str] = []
    assert gobuild.build(recipe(load_settings(make_project()), "alertmanager"), lines.append) == cached
    assert lines == [f"alertmanager 0.35.0: cached at {cached}"]


def test_components_list_shows_every_built_component(make_project, tmp_path, monkeypatch) -> None:
    """`obsstack components list`: each built component with its pin, its cached binaries or the command."""
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    cache = tmp_path / "cache" / "components" / "prometheus-3.16.0"
    _stand_in(cache, "prometheus", "prometheus, version 3.16.0")
    _stand_in(cache, "promtool", "promtool, version 3.16.0")
    result = CliRunner().invoke(app, ["components", "list", "--config", str(make_project())])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines() if line.strip()}
    assert list(rows) == ["prometheus", "alertmanager", "otelcol", "kubectl", "cortextool", "cortex", "jaeger",
                          "victorialogs"]  # fmt: skip
    assert rows["prometheus"] == ["3.16.0", str(cache / "prometheus"), str(cache / "promtool")]
    assert rows["cortextool"][0] == "0.21.1"
    assert rows["alertmanager"] == ["0.35.0", "not", "built", "(`obsstack", "components", "build", "alertmanager`)"]


def test_build_without_go_is_one_clear_line(make_project, tmp_path, monkeypatch) -> None:
    """No go command on PATH: one error line naming Go and the alternative, exit 2, nothing created."""
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = CliRunner().invoke(app, ["components", "build", "cortextool", "--config", str(make_project())])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: go not found on PATH; building components needs Go (https://go.dev/dl/, or Debian's golang-go "
        "if new enough), or put the pinned release binaries on PATH instead"
    ]
    assert not (tmp_path / "cache" / "components").exists()


def test_a_module_that_cannot_be_fetched_is_one_line_with_gos_message(make_project, tmp_path, monkeypatch) -> None:
    """The module proxy switched off (GOPROXY=off, no network): the error names module, version and go's words."""
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GOPROXY", "off")
    monkeypatch.setenv("GOMODCACHE", str(tmp_path / "modcache"))
    text = "project: demo\nservices: [{name: api}]\ncomponents:\n  alertmanager: {image: 'prom/alertmanager:v0.99.9'}\n"
    result = CliRunner().invoke(app, ["components", "build", "alertmanager", "--config", str(make_project(text))])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert errors == ["error: alertmanager 0.99.9: cannot fetch github.com/prometheus/alertmanager@v0.99.9: "
                      "github.com/prometheus/alertmanager@v0.99.9: module lookup disabled by GOPROXY=off"]  # fmt: skip
    assert not (tmp_path / "cache" / "components" / "alertmanager-0.99.9").exists()


@contextmanager
def _serving(argv: list[str], url: str) -> Iterator[None]:
    """`argv` running until `url` answers 200; always stopped."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ready() -> tuple[bool, str]:
        try:
            return httpx.get(url, timeout=1).status_code == 200, "not ready"
        except httpx.HTTPError as exc:
            return False, str(exc)

    try:
        assert wait_until(ready, 60.0, 0.3).ok, f"{argv[0]} did not become ready"
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.tools
def test_built_prometheus_reports_the_pin_and_serves_its_ui(make_project, tmp_path) -> None:
    """The built Prometheus on a free loopback port: buildinfo says 3.16.0 and the web UI (`/query`, where
    `/` redirects) answers 200 with the UI's page and its script bundle, not the 500 of a build without
    assets."""
    binary, port = pinned_tool(load_settings(make_project()), "prometheus"), free_port()
    (tmp_path / "prometheus.yml").write_text("global: {scrape_interval: 15s}\n")
    base = f"http://127.0.0.1:{port}"
    argv = [binary, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}"]  # fmt: skip
    with _serving(argv, f"{base}/-/ready"):
        assert httpx.get(f"{base}/api/v1/status/buildinfo").json()["data"]["version"] == "3.16.0"
        page = httpx.get(f"{base}/", follow_redirects=True)
        script = re.search(r'src="\./(assets/index-[\w-]+\.js)"', page.text)
        assert script is not None, page.text
        bundle = httpx.get(f"{base}/{script.group(1)}")
    assert (page.status_code, page.url.path) == (200, "/query")
    assert page.headers["content-type"].startswith("text/html")
    assert re.search(r"<title>Prometheus [^<]+</title>", page.text), page.text
    assert '<div id="root"></div>' in page.text
    assert (bundle.status_code, bundle.headers["content-type"]) == (200, "application/javascript")


@pytest.mark.tools
def test_built_alertmanager_reports_the_pin(make_project, tmp_path) -> None:
    """The built Alertmanager on a free loopback port: /api/v2/status reports 0.35.0 (its UI is a placeholder)."""
    binary, port = pinned_tool(load_settings(make_project()), "alertmanager"), free_port()
    (tmp_path / "alertmanager.yml").write_text("route: {receiver: none}\nreceivers: [{name: none}]\n")
    base = f"http://127.0.0.1:{port}"
    argv = [binary, f"--config.file={tmp_path / 'alertmanager.yml'}", f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="]  # fmt: skip
    with _serving(argv, f"{base}/-/ready"):
        status = httpx.get(f"{base}/api/v2/status").json()
    assert status["versionInfo"]["version"] == "0.35.0"


def test_alertmanager_placeholder_ui_is_written_into_the_source_copy(tmp_path) -> None:
    """The placeholder pages land where Alertmanager's go:embed expects ui/app/dist; nothing is run."""
    files = (("ui/app/dist/elm/index.html", "<p>API only</p>"),)

    def run(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
        raise AssertionError(f"nothing runs for a placeholder, got {argv}")

    uibuild.place(PlaceholderUi(files), tmp_path / "src", tmp_path / "work", run)
    assert (tmp_path / "src" / "ui" / "app" / "dist" / "elm" / "index.html").read_text() == "<p>API only</p>"


def test_prometheus_ui_steps_use_the_lockfile_the_overrides_and_upstreams_scripts(tmp_path, monkeypatch) -> None:
    """The UI is built in a copy of web/ui (without the old react-app) with the .nvmrc's Node.js first on
    PATH: pnpm install re-resolving only the overridden packages, build_ui.sh --mantine-ui; the built tree is
    kept (not the node_modules), so the next build reuses it and runs nothing. (Node.js and pnpm are already
    in the tools cache.)"""
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    node_bin = tmp_path / "cache" / "tools" / f"{uibuild.node_package()}-24.21.0" / "node_modules"
    _stand_in(node_bin / uibuild.node_package() / "bin", "node", "v24.21.0")
    _stand_in(tmp_path / "cache" / "tools" / "pnpm-11.29.0" / "node_modules" / ".bin", "pnpm", "11.29.0")
    upstream = tmp_path / "module" / "web" / "ui"
    (upstream / "react-app").mkdir(parents=True)
    (upstream / ".nvmrc").write_text("24.21.0\n")
    (upstream / "pnpm-workspace.yaml").write_text("packages:\n  - mantine-ui\n")
    steps: list[tuple[str, ...]] = []
    seen: dict[str, str] = {}

    def run(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
        steps.append((*argv, cwd.name, env["PATH"].split(os.pathsep)[0].split("/")[-2]))
        seen.update(workspace=(cwd / "pnpm-workspace.yaml").read_text(), react=str((cwd / "react-app").exists()))
        if argv[:2] == ["bash", "build_ui.sh"]:
            (cwd / "static" / "mantine-ui").mkdir(parents=True)
            (cwd / "static" / "mantine-ui" / "index.html").write_text("<div id=root></div>")
        return ""

    ui = PrometheusUi(pnpm="11.29.0", overrides=(("@mantine/core", "9.6.2"),))
    built = uibuild.prometheus_ui(ui, upstream, tmp_path / "work", run)
    assert steps == [
        ("pnpm", "install", "--no-frozen-lockfile", "--config.minimum-release-age=0", "ui", uibuild.node_package()),
        ("bash", "build_ui.sh", "--mantine-ui", "ui", uibuild.node_package()),
    ]
    assert seen == {"workspace": "packages:\n  - mantine-ui\noverrides:\n  '@mantine/core': 9.6.2\n", "react": "False"}
    assert (built / "mantine-ui" / "index.html").is_file()
    assert not (tmp_path / "work" / "ui").exists(), "the UI's node_modules are not kept"
    steps.clear()
    assert uibuild.prometheus_ui(ui, upstream, tmp_path / "work", run) == built
    assert steps == []


def test_a_cached_collector_of_another_manifest_is_rebuilt(make_project, tmp_path, monkeypatch) -> None:
    """The collector's modules follow obsstack's manifest, not its version: a cached otelcol stamped with this
    manifest's digest is reused; one stamped with another (or none: built before stamps) is rebuilt, here
    stopping at the missing Go (the stale build is kept until a rebuild can replace it)."""
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    otelcol = recipe(load_settings(make_project()), "otelcol")
    cache = tmp_path / "cache" / "components" / f"otelcol-{otelcol.version}"
    cached = _stand_in(cache, "otelcol-obsstack", f"otelcol-obsstack version {otelcol.version}")
    stamp = gobuild.recipe_stamp(otelcol)
    assert stamp is not None
    (cache / gobuild.RECIPE_STAMP).write_text(stamp, encoding="utf-8")
    lines: list[str] = []
    assert gobuild.build(otelcol, lines.append) == cached
    (cache / gobuild.RECIPE_STAMP).write_text("0" * 64, encoding="utf-8")
    with pytest.raises(StackError, match="go not found on PATH"):
        gobuild.build(otelcol, lines.append)
    (cache / gobuild.RECIPE_STAMP).unlink()
    with pytest.raises(StackError, match="go not found on PATH"):
        gobuild.build(otelcol, lines.append)
    assert lines == [f"otelcol {otelcol.version}: cached at {cached}"]
    assert gobuild.recipe_stamp(recipe(load_settings(make_project()), "alertmanager")) is None
