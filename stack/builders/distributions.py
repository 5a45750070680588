"""settings -> how to build each component at the version stack.yaml pins (pure).

One source of truth: the image tag of `components.<name>` (or the tool pin: kubectl, cortextool) is the
version built, and the built binaries report it. Only permissively licensed modules are built (never
Grafana, Loki, Tempo or Mimir, which are AGPL). Prometheus and Alertmanager build inside a copy of their own
module source, where the web UI they embed is put first; kubectl and cortextool build in a small wrapper
module; the collector is built by the OpenTelemetry Collector Builder (ocb) from a manifest listing exactly
the components the generated collector config uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product
from typing import get_args

from stack.builders.otelcol import build_otelcol
from stack.errors import StackError
from stack.models.distributions import (
    BINARIES,
    BUILT,
    CHECKERS,
    Dist,
    GoMod,
    GoRecipe,
    OcbManifest,
    OcbRecipe,
    PlaceholderUi,
    PrometheusUi,
    Recipe,
    SourceRecipe,
    pinned_version,
)
from stack.models.otelcol import OtelcolConfig
from stack.settings import Backends, StackSettings

CORE = "go.opentelemetry.io/collector"
CONTRIB = "github.com/open-telemetry/opentelemetry-collector-contrib"
PROMETHEUS = "github.com/prometheus/prometheus"
ALERTMANAGER = "github.com/prometheus/alertmanager"
CORTEXTOOL = "github.com/cortexproject/cortex-tools"
CORTEX = "github.com/cortexproject/cortex"
JAEGER = "github.com/jaegertracing/jaeger"
VICTORIALOGS = "github.com/VictoriaMetrics/VictoriaLogs"
# github.com/prometheus/common/version, as upstream's .promu.yml stamps it; fixed values, no clock or host:
# the branch a release tag's checkout reports, the module version as the revision (the commit is not known
# from the module proxy), the SOURCE_DATE_EPOCH=0 date of reproducible builds
COMMON_VERSION = "github.com/prometheus/common/version"
STAMP_BRANCH, STAMP_USER, STAMP_DATE = "HEAD", "obsstack", "19700101-00:00:00"
PNPM = "11.29.0"  # upstream's CI installs pnpm "<13.0.0"; the newest 11.x, which its pnpm-workspace.yaml targets
# Prometheus release -> npm packages its web/ui lockfile pins that the npm registry no longer serves, with the
# version installed instead. 3.16.0: @mantine/code-highlight 9.7.2 (no 9.7.x of it is served) and the five
# @mantine packages it requires at exactly its version; 9.8.1 fails the UI's type check (TS18047 in
# ResolutionInput.tsx), 9.6.2 passes it.
UI_OVERRIDES: dict[str, tuple[tuple[str, str], ...]] = {
    "3.16.0": tuple((f"@mantine/{p}", "9.6.2") for p in ("code-highlight", "core", "dates", "hooks", "notifications",
                                                          "store")),
}  # fmt: skip
# cortextool release -> replace directives its wrapper module adds: cortex-tools v0.21.1 requires
# github.com/cortexproject/cortex v1.21.0, which the Go module proxy no longer serves (403, "not available");
# v1.21.1, the patch release after it, is served.
CORTEXTOOL_REPLACES: dict[str, tuple[str, ...]] = {
    "0.21.1": ("github.com/cortexproject/cortex => github.com/cortexproject/cortex v1.21.1",),
}
# Alertmanager >= 0.35 embeds ui/app/dist (go:embed), which its module does not ship: an API-only UI
AM_PLACEHOLDER = (
    "<!doctype html><title>Alertmanager</title><p>This Alertmanager was built by obsstack without its web UI "
    '(the Go module does not ship it). The API is at <a href="api/v2/status">/api/v2/</a>.</p>\n'
)

# kubectl's own main package (k8s.io/kubernetes/cmd/kubectl/kubectl.go), which the k8s.io/kubectl module
# does not ship: the build compiles it in the wrapper module.
KUBECTL_MAIN = """package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"

	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

func main() {
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		util.CheckErr(err)
	}
}
"""

# collector component type -> Go module (without version) providing it, per kind of component
COLLECTOR_MODULES: dict[str, dict[str, str]] = {
    "receivers": {"otlp": f"{CORE}/receiver/otlpreceiver", "filelog": f"{CONTRIB}/receiver/filelogreceiver"},
    "processors": {
        "batch": f"{CORE}/processor/batchprocessor",
        "memory_limiter": f"{CORE}/processor/memorylimiterprocessor",
        "resource": f"{CONTRIB}/processor/resourceprocessor",
        "transform": f"{CONTRIB}/processor/transformprocessor",
    },
    "exporters": {
        "otlp": f"{CORE}/exporter/otlpexporter",
        "otlphttp": f"{CORE}/exporter/otlphttpexporter",
        "prometheusremotewrite": f"{CONTRIB}/exporter/prometheusremotewriteexporter",
    },
    "extensions": {
        "health_check": f"{CONTRIB}/extension/healthcheckextension",
        "file_storage": f"{CONTRIB}/extension/storage/filestorage",
    },
    "connectors": {  # span metrics and the service graph for a trace store without Tempo's metrics generator
        "span_metrics": f"{CONTRIB}/connector/spanmetricsconnector",
        "service_graph": f"{CONTRIB}/connector/servicegraphconnector",
    },
}


def recipes(settings: StackSettings, names: Sequence[str]) -> tuple[Recipe, ...]:
    """The recipes of `names` (all built components when empty), refusing a name obsstack does not build."""
    unknown = [n for n in names if n not in BUILT]
    if unknown:
        raise StackError(
            f"components build {', '.join(unknown)}: unknown; expected some of {', '.join(BUILT + CHECKERS)}"
        )
    return tuple(recipe(settings, name) for name in names or BUILT)


def recipe(settings: StackSettings, name: str) -> Recipe:
    if name not in BUILT:
        raise StackError(f"component {name!r}: obsstack builds {', '.join(BUILT)}; expected one of those")
    version = pinned(settings, name)
    if name == "prometheus":
        return prometheus_recipe(version)
    if name == "alertmanager":
        return alertmanager_recipe(version)
    if name == "kubectl":
        return kubectl_recipe(version)
    if name == "cortextool":
        return cortextool_recipe(version)
    if name == "cortex":
        return cortex_recipe(version)
    if name in STORE_RECIPES:
        return STORE_RECIPES[name](version)
    return OcbRecipe("otelcol", version, f"v{version}", ocb_manifest(every_store_config(settings), version))


def every_store_config(settings: StackSettings) -> tuple[OtelcolConfig, ...]:
    """The collector config for each choice of log and trace store: one binary serves them all, so the cached
    build of a version never lacks what another `backends` choice needs."""
    fields = Backends.model_fields
    choices = product(get_args(fields["traces"].annotation), get_args(fields["logs"].annotation))
    return tuple(
        build_otelcol(settings.model_copy(update={"backends": Backends(traces=traces, logs=logs)}))
        for traces, logs in choices
    )


def pinned(settings: StackSettings, name: str) -> str:
    """The version built component `name` must report."""
    return pinned_version(name, lambda n: settings.tool_pin(n).version, settings.components.pinned)


def common_stamps(version: str, revision: str) -> tuple[str, ...]:
    """The -X flags of github.com/prometheus/common/version that upstream's .promu.yml sets, with fixed values."""
    values = {"Version": version, "Revision": revision, "Branch": STAMP_BRANCH, "BuildUser": STAMP_USER,
              "BuildDate": STAMP_DATE}  # fmt: skip
    return tuple(f"-X {COMMON_VERSION}.{key}={value}" for key, value in values.items())


def prometheus_recipe(version: str) -> SourceRecipe:
    """Prometheus and promtool X.Y.Z from module v0.XYY.Z (3.16.0 -> v0.316.0), with upstream's tags: netgo,
    and builtinassets, which embeds the web UI built from the module's web/ui."""
    major, minor, patch = _semver("prometheus", version)
    module_version = f"v0.{major}{minor:02d}.{patch}"
    ui = PrometheusUi(pnpm=PNPM, overrides=UI_OVERRIDES.get(version, ()))
    return SourceRecipe("prometheus", version, PROMETHEUS, module_version, _commands("prometheus"),
                        common_stamps(version, module_version), ("netgo", "builtinassets"), ui)  # fmt: skip


def alertmanager_recipe(version: str) -> SourceRecipe:
    """Alertmanager and amtool from their module at vX.Y.Z, with upstream's netgo tag and a placeholder for the
    web UI the module does not ship (ui/app/dist: the root page and the /ui/ page)."""
    _semver("alertmanager", version)
    files = tuple((f"ui/app/dist/{d}/index.html", AM_PLACEHOLDER) for d in ("elm", "mantine"))
    return SourceRecipe("alertmanager", version, ALERTMANAGER, f"v{version}", _commands("alertmanager"),
                        common_stamps(version, f"v{version}"), ("netgo",), PlaceholderUi(files))  # fmt: skip


def cortextool_recipe(version: str) -> GoRecipe:
    """cortextool from github.com/cortexproject/cortex-tools at vX.Y.Z in a wrapper module carrying its replace
    directives, stamped as its Makefile does (pkg/version.Version is the tag: `cortextool version` prints it)."""
    _semver("cortextool", version)
    stamp = f"-X {CORTEXTOOL}/pkg/version.Version=v{version}"
    return GoRecipe("cortextool", version, CORTEXTOOL, f"v{version}", f"{CORTEXTOOL}/cmd/cortextool", (stamp,),
                    tags=("netgo",), replaces=CORTEXTOOL_REPLACES.get(version, ()))  # fmt: skip


def cortex_recipe(version: str) -> SourceRecipe:
    """Cortex X.Y.Z (cmd/cortex) inside a copy of its module source at vX.Y.Z (its go.mod carries replace
    directives a wrapper module would have to repeat), with its Makefile's tags (netgo, slicelabels) and stamps
    (main.Version: `cortex -version` prints it); it embeds no UI."""
    _semver("cortex", version)
    stamps = (f"-X main.Version={version}", f"-X main.Branch={STAMP_BRANCH}", f"-X main.Revision=v{version}")
    return SourceRecipe("cortex", version, CORTEX, f"v{version}", ("./cmd/cortex",), stamps, ("netgo", "slicelabels"),
                        PlaceholderUi(()))  # fmt: skip


def jaeger_recipe(version: str) -> GoRecipe:
    """Jaeger 2.X.Y from github.com/jaegertracing/jaeger module v1.(X+63).Y (2.12.0 -> v1.75.0: the v2 line is
    released from the v1 module), cmd/jaeger in a wrapper module carrying its replace directive, stamped as its
    BuildInfo.mk does (internal/version.latestVersion is the v2 tag: `jaeger --version` prints it). Without the
    `ui` tag its query service serves Jaeger's placeholder page instead of the UI (the module ships no UI build)."""
    major, minor, patch = _semver("jaeger", version)
    if major != 2:
        raise StackError(f"components.jaeger: pins {version!r}; expected a Jaeger v2 release 2.Y.Z")
    stamp = f"-X {JAEGER}/internal/version.latestVersion=v{version}"
    return GoRecipe("jaeger", version, JAEGER, f"v1.{minor + 63}.{patch}", f"{JAEGER}/cmd/jaeger", (stamp,))


def victorialogs_recipe(version: str) -> GoRecipe:
    """VictoriaLogs X.Y.Z from its module at vX.Y.Z (app/victoria-logs, web UI embedded), in a wrapper module,
    stamped as its Makefile does (VictoriaMetrics' lib/buildinfo.Version, `<app>-tags-v<version>`: `-version`
    prints it)."""
    _semver("victorialogs", version)
    stamp = f"-X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=victoria-logs-tags-v{version}"
    return GoRecipe("victorialogs", version, VICTORIALOGS, f"v{version}", f"{VICTORIALOGS}/app/victoria-logs",
                    (stamp,))  # fmt: skip


STORE_RECIPES = {"jaeger": jaeger_recipe, "victorialogs": victorialogs_recipe}


def _commands(name: str) -> tuple[str, ...]:
    return tuple(f"./cmd/{binary}" for binary in BINARIES[name])


def kubectl_recipe(version: str) -> GoRecipe:
    """kubectl X.Y.Z from the k8s.io/kubectl module v0.Y.Z (Kubernetes' staging modules drop the 1.), with
    the version `kubectl version --client` reports stamped the way Kubernetes' release build does."""
    major, minor, patch = _release(version)
    stamp = "k8s.io/component-base/version"
    ldflags = (f"-X {stamp}.gitVersion=v{version}", f"-X {stamp}.gitMajor={major}", f"-X {stamp}.gitMinor={minor}",
               f"-X {stamp}.gitTreeState=clean")  # fmt: skip
    return GoRecipe("kubectl", version, "k8s.io/kubectl", f"v0.{minor}.{patch}", "k8s.io/kubectl/pkg/cmd", ldflags,
                    main=KUBECTL_MAIN)  # fmt: skip


def _semver(name: str, version: str) -> tuple[int, int, int]:
    parts = version.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise StackError(f"components.{name}: pins {version!r}; expected a release version X.Y.Z")
    return int(parts[0]), int(parts[1]), int(parts[2])


def _release(version: str) -> tuple[int, int, int]:
    parts = version.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or parts[0] != "1":
        raise StackError(f"kubernetes.kubectl_version: got {version!r}; expected a Kubernetes release 1.Y.Z")
    return 1, int(parts[1]), int(parts[2])


def used_types(config: OtelcolConfig) -> dict[str, tuple[str, ...]]:
    """Component types (`otlp/tempo` -> `otlp`) the config declares, per kind, sorted."""
    data = config.to_data()
    kinds = ("receivers", "processors", "exporters", "extensions", "connectors")
    return {kind: tuple(sorted({key.split("/", 1)[0] for key in data.get(kind, {})})) for kind in kinds}


# component types built whether or not stack.yaml uses them today, so declaring one later needs no rebuild of the
# cached collector: the transform processor labels the metrics of metrics_source otlp services; the filelog receiver
# and its file_storage checkpoint read the services' log files in local mode only (the committed compose config has
# neither)
ALWAYS_BUILT: dict[str, tuple[str, ...]] = {
    "processors": ("transform",), "receivers": ("filelog",), "extensions": ("file_storage",),
}


def ocb_manifest(configs: Sequence[OtelcolConfig], version: str) -> OcbManifest:
    """The modules of the component types `configs` use, and ALWAYS_BUILT's, all at the collector release
    `version`."""
    modules: dict[str, tuple[GoMod, ...]] = {}
    used = [used_types(config) for config in configs]
    for kind in used[0]:
        types = tuple(sorted({t for one in used for t in one[kind]} | set(ALWAYS_BUILT.get(kind, ()))))
        unknown = [t for t in types if t not in COLLECTOR_MODULES[kind]]
        if unknown:
            raise StackError(f"collector {kind} {', '.join(unknown)}: no Go module known; add it to COLLECTOR_MODULES")
        modules[kind] = tuple(GoMod(gomod=f"{COLLECTOR_MODULES[kind][t]} v{version}") for t in types)
    dist = Dist(name=BINARIES["otelcol"][0], description="obsstack's OpenTelemetry collector", version=version,
                output_path="dist")  # fmt: skip
    return OcbManifest(dist=dist, **modules)
