"""Which binary local mode starts for a component: the cached build at the pinned version first, then PATH,
refusing a binary whose reported version differs from the pin."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Sequence

from stack.errors import StackError
from stack.models.distributions import BUILT, VERSION_FLAG, Recipe, pinned_version
from stack.runtime import gobuild
from stack.settings import StackSettings

Echo = Callable[[str], None]


def locate(name: str, on_path: Sequence[str], settings: StackSettings) -> str | None:
    """The binary to start for component `name`, or None when there is none."""
    version = pinned(settings, name) if name in BUILT else ""  # "": not ours to build or check
    if version and (built := gobuild.cached(name, version)) is not None:
        return str(built)
    found = next((found for b in on_path if (found := shutil.which(b))), None)
    if found is None or not version:
        return found
    got = gobuild.reported_version(found, VERSION_FLAG[name])
    if got != version:
        raise StackError(
            f"{name}: {found} reports version {got or 'none'}, stack.yaml pins {version}; run "
            f"`obsstack components build {name}` (the cached build is used first) or put {name} {version} on PATH"
        )
    return found


def build_all(recipes: Iterable[Recipe], echo: Echo) -> Iterable[str]:
    for recipe in recipes:
        yield f"{recipe.name} {recipe.version}: {gobuild.build(recipe, echo)}"


def describe(settings: StackSettings) -> Iterable[str]:
    for name in BUILT:
        version = pinned(settings, name)
        built = gobuild.cached(name, version)
        where = str(built) if built else f"not built (`obsstack components build {name}`)"
        yield f"{name:<9} {version:<10} {where}"


def pinned(settings: StackSettings, name: str) -> str:
    """The version built component `name` must report (kubectl: kubernetes.kubectl_version)."""
    return pinned_version(name, settings.components.pinned, settings.kubernetes.kubectl_version)
