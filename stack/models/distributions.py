"""How a Go component is built and what it reports: the recipe types and the names of built binaries.

Pure data shared by the builder of recipes (stack.builders.distributions) and the runtime that runs them.
Only permissively licensed components are built: Prometheus, Alertmanager, the OpenTelemetry collector,
kubectl, cortextool, Cortex (the ring that proves the Mimir target), and the licence-clean stores Jaeger
and VictoriaLogs (Apache-2.0).
Loki, Tempo and Grafana (AGPL) are never built: a user brings the release binary.
"""

from collections.abc import Callable
from dataclasses import dataclass

from stack.models import ConfigModel

BUILT = ("prometheus", "alertmanager", "otelcol", "kubectl", "cortextool", "cortex", "jaeger", "victorialogs")
CHECKERS = ("dashcheck", "lezer")  # obsstack's own checkers, built from stack/checkers/ (stack.runtime.checkers)
BINARIES = {  # what the build of each component produces; the first is the component's own binary
    "prometheus": ("prometheus", "promtool"), "alertmanager": ("alertmanager", "amtool"),
    "otelcol": ("otelcol-obsstack",), "kubectl": ("kubectl",), "cortextool": ("cortextool",), "cortex": ("cortex",),
    "jaeger": ("jaeger",), "victorialogs": ("victoria-logs",),
}  # fmt: skip
VERSION_FLAG = {  # the arguments (split on spaces) that make a component's binaries print their version
    "prometheus": "--version", "alertmanager": "--version", "otelcol": "--version",
    "kubectl": "version --client", "cortextool": "version", "cortex": "-version",
    "jaeger": "--version", "victorialogs": "-version",
    "loki": "-version", "tempo": "-version",  # not built: a binary on PATH is still checked against the pin
}  # fmt: skip
IMAGE_PINNED = ("otelcol", "jaeger", "victorialogs")  # built at their image tag; the others follow tool_pin
OCB_MODULE = "go.opentelemetry.io/collector/cmd/builder"


def pinned_version(name: str, tool_version: Callable[[str], str], image_version: Callable[[str], str]) -> str:
    """The version built component `name` must report: its image tag (`image_version`, i.e.
    settings.components.pinned) for the collector, else the version of its tool's pin (`tool_version`, i.e.
    settings.tool_pin(...).version: kubernetes.kubectl_version for kubectl, mimir.cortextool_version ...)."""
    return image_version(name) if name in IMAGE_PINNED else tool_version(name)


@dataclass(frozen=True)
class Built:
    """A component at the version it must report; its binaries and version flag follow from its name."""

    name: str
    version: str  # as the component reports it, e.g. 3.16.0

    @property
    def binaries(self) -> tuple[str, ...]:
        return BINARIES[self.name]

    @property
    def binary(self) -> str:
        return BINARIES[self.name][0]

    @property
    def version_flag(self) -> str:
        return VERSION_FLAG[self.name]


@dataclass(frozen=True)
class GoRecipe(Built):
    """A binary built with `go build PACKAGE` inside a wrapper module requiring MODULE@MODULE_VERSION (and
    carrying its replace directives); with `main`, that source is the wrapper module's main.go (it imports
    PACKAGE) and the module itself is built."""

    module: str
    module_version: str
    package: str
    ldflags: tuple[str, ...]
    tags: tuple[str, ...] = ()
    main: str = ""  # Go source of a main package, for a module that ships its command outside itself
    # replace directives added to the upstream ones: a requirement the Go module proxy no longer serves
    replaces: tuple[str, ...] = ()

    @property
    def target(self) -> str:
        """What `go build` builds: the wrapper module when it carries a main package, else PACKAGE."""
        return "." if self.main else self.package


@dataclass(frozen=True)
class PrometheusUi:
    """Prometheus' web UI (mantine-ui) built from the module's web/ui with pnpm and the lockfile, gzipped and
    listed in web/ui/embed.go as upstream's scripts/compress_assets.sh does, for the `builtinassets` tag."""

    pnpm: str  # pnpm release, from npm; Node.js is the release upstream's web/ui/.nvmrc names
    # packages the lockfile pins that the npm registry no longer serves: (package, served version), as
    # pnpm overrides; the install re-resolves only these
    overrides: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PlaceholderUi:
    """Files written into the source copy where a go:embed directive expects built UI assets the module lacks."""

    files: tuple[tuple[str, str], ...]  # (path relative to the module root, content)


@dataclass(frozen=True)
class SourceRecipe(Built):
    """Binaries built with `go build` inside a writable copy of MODULE@MODULE_VERSION's own source (its go.mod
    as is, no workspace), after `assets` put there what its go:embed directives need."""

    module: str
    module_version: str
    commands: tuple[str, ...]  # ./cmd/<binary> for each of `binaries`, in that order
    ldflags: tuple[str, ...]
    tags: tuple[str, ...]
    assets: PrometheusUi | PlaceholderUi


class GoMod(ConfigModel):
    gomod: str


class Dist(ConfigModel):
    name: str
    description: str
    version: str
    output_path: str


class OcbManifest(ConfigModel):
    """The Collector Builder's manifest (cmd/builder/internal/builder/config.go at the pinned release)."""

    dist: Dist
    receivers: tuple[GoMod, ...] = ()
    processors: tuple[GoMod, ...] = ()
    exporters: tuple[GoMod, ...] = ()
    extensions: tuple[GoMod, ...] = ()
    connectors: tuple[GoMod, ...] = ()


@dataclass(frozen=True)
class OcbRecipe(Built):
    builder_version: str  # module version of ocb
    manifest: OcbManifest


Recipe = GoRecipe | SourceRecipe | OcbRecipe
