"""Cortex's build: cmd/cortex inside a copy of its own module source at the pinned release (its go.mod's replace
directives apply as upstream has them), with its Makefile's tags and version stamps."""

from __future__ import annotations

from stack.builders.distributions import recipe
from stack.models.distributions import BINARIES, VERSION_FLAG, PlaceholderUi, SourceRecipe
from tests.cortex.conftest import ring_settings


def test_cortex_is_built_from_its_own_source_at_the_pin() -> None:
    """mimir.cortex_version 1.21.1 -> github.com/cortexproject/cortex v1.21.1, ./cmd/cortex, tags netgo and
    slicelabels, main.Version stamped (what `cortex -version` prints), no UI to embed."""
    built = recipe(ring_settings(), "cortex")
    assert isinstance(built, SourceRecipe)
    assert (built.module, built.module_version, built.commands) == (
        "github.com/cortexproject/cortex", "v1.21.1", ("./cmd/cortex",)
    )  # fmt: skip
    assert built.tags == ("netgo", "slicelabels")
    assert built.ldflags == ("-X main.Version=1.21.1", "-X main.Branch=HEAD", "-X main.Revision=v1.21.1")
    assert built.assets == PlaceholderUi(())
    assert (BINARIES["cortex"], VERSION_FLAG["cortex"]) == (("cortex",), "-version")


def test_the_pin_is_a_setting() -> None:
    """Another mimir.cortex_version is what gets built and checked."""
    from stack.config import load_settings
    from tests.cortex.conftest import REPO

    settings = load_settings(REPO / "stack.yaml", {"mimir": {"enabled": True, "cortex_version": "1.21.0"}})
    built = recipe(settings, "cortex")
    assert (built.version, built.module_version) == ("1.21.0", "v1.21.0")
    assert settings.tool_pin("cortex").version == "1.21.0"
