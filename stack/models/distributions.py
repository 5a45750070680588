"""How a Go component is built and what it reports: the recipe types and the names of built binaries.

Pure data shared by the builder of recipes (stack.builders.distributions) and the runtime that runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stack.models import ConfigModel

BUILT = ("otelcol", "loki", "tempo", "mimir", "mimirtool", "kubectl")
BINARY = {  # what the build produces
    "otelcol": "otelcol-obsstack", "loki": "loki", "tempo": "tempo",
    "mimir": "mimir", "mimirtool": "mimirtool", "kubectl": "kubectl",
}  # fmt: skip
VERSION_FLAG = {  # the arguments (split on spaces) that make a binary print its version
    "otelcol": "--version", "loki": "-version", "tempo": "-version", "grafana": "-v",
    "mimir": "-version", "mimirtool": "version", "kubectl": "version --client",
}  # fmt: skip
# a built binary whose version is not the image tag of `components.<its name>`: the component it follows
FOLLOWS = {"mimirtool": "mimir"}  # mimirtool is built from the same Mimir module and commit
KUBECTL = "kubectl"  # follows kubernetes.kubectl_version (there is no kubectl component)
OCB_MODULE = "go.opentelemetry.io/collector/cmd/builder"


def pinned_version(name: str, pinned: Callable[[str], str], kubectl_version: str) -> str:
    """The version built binary `name` must report: `kubectl_version` for kubectl, else the image tag of the
    component it follows (`pinned` is settings.components.pinned)."""
    return kubectl_version if name == KUBECTL else pinned(FOLLOWS.get(name, name))


@dataclass(frozen=True)
class Built:
    """A component at the version it must report; its binary and version flag follow from its name."""

    name: str
    version: str  # as the component reports it, e.g. 3.5.3

    @property
    def binary(self) -> str:
        return BINARY[self.name]

    @property
    def version_flag(self) -> str:
        return VERSION_FLAG[self.name]


@dataclass(frozen=True)
class GoRecipe(Built):
    """A binary built with `go build PACKAGE` inside a wrapper module requiring MODULE@MODULE_VERSION; with
    `main`, that source is the wrapper module's main.go (it imports PACKAGE) and the module itself is built."""

    module: str
    module_version: str
    package: str
    ldflags: tuple[str, ...]
    tags: tuple[str, ...] = ()
    main: str = ""  # Go source of a main package, for a module that ships its command outside itself

    @property
    def target(self) -> str:
        """What `go build` builds: the wrapper module when it carries a main package, else PACKAGE."""
        return "." if self.main else self.package


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


Recipe = GoRecipe | OcbRecipe
