"""Route-template resolution for metric and log labels; anything untemplated becomes ``none``."""

from __future__ import annotations

from typing import Any

from prometheus_fastapi_instrumentator import routing
from starlette.routing import Mount, get_route_path
from starlette.types import Scope

UNTEMPLATED = "none"


class RouteResolver:
    """Finds the template of the route a request will hit.

    Plain routes (every route of the sample app) are matched by their own compiled regex against the
    path, which is cheap; an app with mounts or included routers falls back to the instrumentator's
    resolver for identical semantics. The route table is re-read when the number of routes changes.
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
    """The instrumentator's matcher without its trailing-slash rule (which would label by raw path)."""
    name = routing._get_route_name(scope, routes)
    return name if name is not None else UNTEMPLATED
