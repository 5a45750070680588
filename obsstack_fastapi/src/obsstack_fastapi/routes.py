"""Route-template resolution for metric and log labels; anything untemplated becomes ``none``."""

from __future__ import annotations

from typing import Any

from starlette.routing import Match, Mount, get_route_path  # type: ignore[attr-defined]
from starlette.types import Scope

UNTEMPLATED = "none"


class RouteResolver:
    """Finds the template of the route a request will hit.

    Plain routes are matched by their own compiled regex against the path, which is cheap; an app with
    mounts or included routers falls back to Starlette's own matching (the semantics of
    prometheus-fastapi-instrumentator's resolver). The route table is re-read when the number of routes changes.
    """

    def __init__(self, app: Any) -> None:
        self._app = app
        self._count = -1
        self._simple: list[tuple[Any, str]] | None = None

    def _refresh(self) -> None:
        routes = list(self._app.routes)
        self._count = len(routes)
        simple: list[tuple[Any, str]] = []
        for route in routes:
            regex = getattr(route, "path_regex", None)
            template = getattr(route, "path_format", None)
            if isinstance(route, Mount) or regex is None or template is None:
                self._simple = None
                return
            simple.append((regex, template))
        self._simple = simple

    def resolve(self, scope: Scope) -> str:
        """The route template for this request, or ``none``."""
        if len(self._app.routes) != self._count:
            self._refresh()
        if self._simple is None:
            return _fallback(scope, self._app.routes)
        path = get_route_path(scope)
        for regex, template in self._simple:
            if regex.match(path):
                return template
        return UNTEMPLATED


def _fallback(scope: Scope, routes: list[Any]) -> str:
    """Starlette's matcher over the effective routes; no trailing-slash rule (it would label by raw path)."""
    name = match_template(scope, routes)
    return name if name is not None else UNTEMPLATED


def _effective(routes: list[Any]) -> list[Any]:
    """Routes as they match: FastAPI's included routers (>= 0.116) expand to their prefixed routes."""
    flat: list[Any] = []
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if not callable(contexts):
            flat.append(route)
            continue
        for ctx in contexts():
            starlette_route = getattr(ctx, "starlette_route", None)
            flat.append(starlette_route if starlette_route is not None else ctx)
    return flat


def _template(route: Any, scope: Scope, child_scope: dict[str, Any]) -> str | None:
    if not isinstance(route, Mount):
        return getattr(route, "path", None)
    if not route.routes:  # an opaque mounted app: its mount path is the most specific name
        return route.path
    child = match_template({**scope, **child_scope}, list(route.routes))
    return None if child is None else route.path + child


def match_template(scope: Scope, routes: list[Any]) -> str | None:
    """The template of the first fully matching route, else of the first partial match (wrong method)."""
    partial: str | None = None
    for route in _effective(routes):
        match, child_scope = route.matches(scope)
        if match == Match.NONE:
            continue
        name = _template(route, scope, child_scope)
        if name is None:
            continue
        if match == Match.FULL:
            return name
        partial = partial or name
    return partial
