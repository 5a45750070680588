"""How a Go component is built and what it reports: the recipe types and the names of built binaries.

Pure data shared by the builder of recipes (stack.builders.distributions) and the runtime that runs them.
"""

from __future__ import annotations

from dataclasses import dataclass

from stack.models import ConfigModel

BUILT = ("otelcol", "loki", "tempo")
BINARY = {"otelcol": "otelcol-obsstack", "loki": "loki", "tempo": "tempo"}  # what the build produces
VERSION_FLAG = {"otelcol": "--version", "loki": "-version", "tempo": "-version", "grafana": "-v"}
OCB_MODULE = "go.opentelemetry.io/collector/cmd/builder"


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
    """A binary built with `go build PACKAGE` inside a wrapper module requiring MODULE@MODULE_VERSION."""

    module: str
    module_version: str
    package: str
    ldflags: tuple[str, ...]
    tags: tuple[str, ...] = ()


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
