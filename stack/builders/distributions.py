"""settings -> how to build each Go component at the version stack.yaml pins (pure).

One source of truth: the image tag of `components.<name>` is the version built. Loki and Tempo are built
from their own `cmd/` package inside a small wrapper module that carries the upstream replace directives;
the collector is built by the OpenTelemetry Collector Builder (ocb) from a manifest listing exactly the
components the generated collector config uses.

Tempo's module path has no major-version suffix, so its tags (v2.x) are not module versions: the build
needs the pseudo-version of the tag's commit, which only the tag's commit fixes. `PSEUDO_VERSIONS` holds
the ones checked against the Go module proxy; a pin without an entry fails with what to add.
"""

from __future__ import annotations

from collections.abc import Sequence

from stack.builders.otelcol import build_otelcol
from stack.errors import StackError
from stack.models.distributions import (
    BINARY,
    BUILT,
    Dist,
    GoMod,
    GoRecipe,
    OcbManifest,
    OcbRecipe,
    Recipe,
    pinned_version,
)
from stack.models.otelcol import OtelcolConfig
from stack.settings import StackSettings

CORE = "go.opentelemetry.io/collector"
CONTRIB = "github.com/open-telemetry/opentelemetry-collector-contrib"

# (component, version) -> (module version of the tag's commit, the tag's commit): for modules whose path
# lacks the major-version suffix its tags need. Add a line when bumping such a pin.
PSEUDO_VERSIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("tempo", "2.9.0"): ("v1.5.1-0.20251008140505-607c7fb69662", "607c7fb69662"),
    # Mimir (and mimirtool, same module): the Go module proxy serves exactly one version of
    # github.com/grafana/mimir, this pseudo-version of a commit on main whose VERSION file says 3.0.5; the
    # mimir-3.0.5 tag's own commit is not served. So "3.0.5" here is that main commit, stamped 3.0.5.
    ("mimir", "3.0.5"): ("v1.3.1-0.20260423142704-aced80d74930", "aced80d74930"),
    ("mimirtool", "3.0.5"): ("v1.3.1-0.20260423142704-aced80d74930", "aced80d74930"),
}
MIMIR = "github.com/grafana/mimir"
MIMIR_BRANCH = "main"  # the branch of the pinned commit (see PSEUDO_VERSIONS), stamped into `mimir -version`
MIMIR_TAGS = ("netgo", "stringlabels")  # upstream Makefile's GO_TAGS

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
    "receivers": {"otlp": f"{CORE}/receiver/otlpreceiver"},
    "processors": {
        "batch": f"{CORE}/processor/batchprocessor",
        "memory_limiter": f"{CORE}/processor/memorylimiterprocessor",
        "resource": f"{CONTRIB}/processor/resourceprocessor",
    },
    "exporters": {
        "otlp": f"{CORE}/exporter/otlpexporter",
        "otlphttp": f"{CORE}/exporter/otlphttpexporter",
        "prometheusremotewrite": f"{CONTRIB}/exporter/prometheusremotewriteexporter",
    },
    "extensions": {"health_check": f"{CONTRIB}/extension/healthcheckextension"},
    "connectors": {},
}


def recipes(settings: StackSettings, names: Sequence[str]) -> tuple[Recipe, ...]:
    """The recipes of `names` (all built components when empty), refusing a name obsstack does not build."""
    unknown = [n for n in names if n not in BUILT]
    if unknown:
        raise StackError(f"components build {', '.join(unknown)}: unknown; expected some of {', '.join(BUILT)}")
    return tuple(recipe(settings, name) for name in names or BUILT)


def recipe(settings: StackSettings, name: str) -> Recipe:
    if name not in BUILT:
        raise StackError(f"component {name!r}: obsstack builds {', '.join(BUILT)}; expected one of those")
    version = pinned_version(name, settings.components.pinned, settings.kubernetes.kubectl_version)
    if name in ("mimir", "mimirtool"):
        return mimir_recipe(name, version)
    if name == "kubectl":
        return kubectl_recipe(version)
    if name == "loki":
        build = "github.com/grafana/loki/v3/pkg/util/build"
        return GoRecipe(
            "loki", version, "github.com/grafana/loki/v3", f"v{version}", "github.com/grafana/loki/v3/cmd/loki",
            (f"-X {build}.Version={version}", f"-X {build}.Branch=v{version}"), tags=("netgo",),
        )  # fmt: skip
    if name == "tempo":
        module_version, commit = _pseudo(name, version)
        return GoRecipe(
            "tempo", version, "github.com/grafana/tempo", module_version, "github.com/grafana/tempo/cmd/tempo",
            (f"-X main.Version={version}", f"-X main.Branch=v{version}", f"-X main.Revision={commit}"),
        )  # fmt: skip
    return OcbRecipe("otelcol", version, f"v{version}", ocb_manifest(build_otelcol(settings), version))


def mimir_recipe(name: str, version: str) -> GoRecipe:
    """mimir or mimirtool from the Mimir module, with upstream's build tags and version stamps."""
    module_version, commit = _pseudo(name, version)
    stamp = f"{MIMIR}/pkg/util/version"
    ldflags = (f"-X {stamp}.Version={version}", f"-X {stamp}.Revision={commit}", f"-X {stamp}.Branch={MIMIR_BRANCH}")
    return GoRecipe(name, version, MIMIR, module_version, f"{MIMIR}/cmd/{name}", ldflags, tags=MIMIR_TAGS)


def kubectl_recipe(version: str) -> GoRecipe:
    """kubectl X.Y.Z from the k8s.io/kubectl module v0.Y.Z (Kubernetes' staging modules drop the 1.), with
    the version `kubectl version --client` reports stamped the way Kubernetes' release build does."""
    major, minor, patch = _release(version)
    stamp = "k8s.io/component-base/version"
    ldflags = (f"-X {stamp}.gitVersion=v{version}", f"-X {stamp}.gitMajor={major}", f"-X {stamp}.gitMinor={minor}",
               f"-X {stamp}.gitTreeState=clean")  # fmt: skip
    return GoRecipe("kubectl", version, "k8s.io/kubectl", f"v0.{minor}.{patch}", "k8s.io/kubectl/pkg/cmd", ldflags,
                    main=KUBECTL_MAIN)  # fmt: skip


def _release(version: str) -> tuple[int, int, int]:
    parts = version.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or parts[0] != "1":
        raise StackError(f"kubernetes.kubectl_version: got {version!r}; expected a Kubernetes release 1.Y.Z")
    return 1, int(parts[1]), int(parts[2])


def _pseudo(name: str, version: str) -> tuple[str, str]:
    found = PSEUDO_VERSIONS.get((name, version))
    if found is None:
        known = ", ".join(v for n, v in PSEUDO_VERSIONS if n == name)
        raise StackError(
            f"components.{name} pins {version}, whose module has no major-version suffix, so the build needs "
            f"the pseudo-version of the v{version} tag's commit; expected a pinned version with one ({known}), "
            f"or add ({name!r}, {version!r}) to PSEUDO_VERSIONS in stack/builders/distributions.py"
        )
    return found


def used_types(config: OtelcolConfig) -> dict[str, tuple[str, ...]]:
    """Component types (`otlp/tempo` -> `otlp`) the config declares, per kind, sorted."""
    data = config.to_data()
    kinds = ("receivers", "processors", "exporters", "extensions", "connectors")
    return {kind: tuple(sorted({key.split("/", 1)[0] for key in data.get(kind, {})})) for kind in kinds}


def ocb_manifest(config: OtelcolConfig, version: str) -> OcbManifest:
    """Exactly the modules of the component types `config` uses, all at the collector release `version`."""
    modules: dict[str, tuple[GoMod, ...]] = {}
    for kind, types in used_types(config).items():
        unknown = [t for t in types if t not in COLLECTOR_MODULES[kind]]
        if unknown:
            raise StackError(f"collector {kind} {', '.join(unknown)}: no Go module known; add it to COLLECTOR_MODULES")
        modules[kind] = tuple(GoMod(gomod=f"{COLLECTOR_MODULES[kind][t]} v{version}") for t in types)
    dist = Dist(name=BINARY["otelcol"], description="obsstack's OpenTelemetry collector", version=version,
                output_path="dist")  # fmt: skip
    return OcbManifest(dist=dist, **modules)
