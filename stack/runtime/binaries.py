"""Which binary local mode starts for a component: the cached build at the pinned version first, then PATH,
refusing a binary whose reported version differs from the pin (stack.tools' Pin and locate)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Sequence

from stack.errors import StackError
from stack.models.distributions import BINARIES, BUILT, VERSION_FLAG, Recipe, pinned_version
from stack.runtime import gobuild
from stack.runtime.checkers import checker_builds
from stack.settings import StackSettings
from stack.tools import Pin, ToolError, reported_version
from stack.tools import locate as locate_pinned

Echo = Callable[[str], None]


def locate(name: str, on_path: Sequence[str], settings: StackSettings) -> str | None:
    """The binary to start for component `name`, or None when there is none: a component obsstack builds is
    its cached build at the pin, else the first of `on_path` on PATH reporting the pin; Loki and Tempo (not
    built) are PATH's, checked against their image tag; Grafana's is PATH's, unchecked."""
    if name in BUILT:
        version = pinned(settings, name)
        for tool in dict.fromkeys((BINARIES[name][0], *on_path)):
            try:
                return locate_pinned(Pin(tool, name, version, VERSION_FLAG[name]))
            except ToolError as error:
                if error.wrong_version:
                    raise StackError(error.detail) from None
        return None
    found = next((found for b in on_path if (found := shutil.which(b))), None)
    if found is None or name not in VERSION_FLAG:
        return found
    version = settings.components.pinned(name)
    if (got := reported_version(found, VERSION_FLAG[name])) != version:
        raise StackError(
            f"{name}: {found} reports version {got or 'none'}, stack.yaml pins {version}; {bring(name, version)}"
        )
    return found


def bring(name: str, version: str) -> str:
    """What to do for a component obsstack never builds (Loki, Tempo, Grafana: AGPL)."""
    return (
        f"put the official release binary of {name} {version} on PATH, or use Docker (compose runs the official image)"
    )


def build_all(recipes: Iterable[Recipe], checkers: Iterable[str], echo: Echo) -> Iterable[str]:
    """Build each recipe's component, then each of obsstack's own checkers named in `checkers`."""
    for recipe in recipes:
        yield f"{recipe.name} {recipe.version}: {gobuild.build(recipe, echo)}"
    builds = checker_builds()
    for name in checkers:
        yield f"{name}: {builds[name](echo)}"


def split_names(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """`components build` names -> (components built from recipes, obsstack's checkers); no name is all of
    both."""
    checkers = list(checker_builds())
    if not names:
        return [], checkers
    return [n for n in names if n not in checkers], [n for n in names if n in checkers]


def describe(settings: StackSettings) -> Iterable[str]:
    """One line per built component: its pinned version and its cached binaries, or how to build them."""
    for name in BUILT:
        version = pinned(settings, name)
        built = gobuild.cached(name, version)
        where = (
            " ".join(str(built.with_name(b)) for b in BINARIES[name])
            if built
            else f"not built (`obsstack components build {name}`)"
        )
        yield f"{name:<12} {version:<8} {where}"


def pinned(settings: StackSettings, name: str) -> str:
    """The version built component `name` must report (settings.tool_pin's; the collector's image tag)."""
    return pinned_version(name, lambda n: settings.tool_pin(n).version, settings.components.pinned)
