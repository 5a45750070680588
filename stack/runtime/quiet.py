"""Panels that draw events only (5xx by route, the top failing routes, error logs, slow traces): empty is
their right answer for a service that had no such event during the run.

verify causes errors and slow requests only for a service with `faults: true`; a service without fault toggles
may well have answered every request fast and without error. Such a panel is judged by the event it draws: when
the service's own metrics show no 5xx (or no request slower than its latency warning) during the run, its empty
panel is "skipped" with that reason; when they show one, the panel must have data like any other.
"""

from __future__ import annotations

import json
import re
from typing import Any

from stack import conventions as c
from stack.dashlint import iter_panels
from stack.runtime.promapi import PromClient, Unavailable
from stack.settings import Service, StackSettings

# panel (conventions.PANEL_IDS key) -> the event it draws
EVENT_PANELS = {
    "errors_by_route": "5xx",
    "top_failing_routes": "5xx",
    "logs": "5xx",  # the error logs of a service that answered no 5xx may well be none
    "slow_traces": "slow",
}
_IDS = {c.PANEL_IDS[key]: event for key, event in EVENT_PANELS.items()}


def event_panels(boards: list[dict[str, Any]]) -> dict[str, str]:
    """"panel <dashboard> / <title>" (as the doctor names its checks) -> the event the panel draws."""
    return {
        f"panel {board.get('title', '')} / {panel.get('title', '')}": _IDS[panel["id"]]
        for board in boards
        for panel in iter_panels(board)
        if panel.get("id") in _IDS
    }


def event_query(settings: StackSettings, service: Service, event: str, seconds: int) -> str:
    """How many of the event the service's own metrics counted during the last `seconds`."""
    names, label = service.http_names, json.dumps(service.name)
    if event == "5xx":
        return f"sum(increase({names.failed(service.name)}[{seconds}s]))"
    edge = re.escape(f"{service.latency.warning:g}") + r"(\.0)?"  # "0.25"; "1" (remote write) or "1.0" (scrape)
    bucket = f"{names.duration}_bucket{{{c.SERVICE_LABEL}={label}"
    slower = f'sum(increase({bucket},le="+Inf"}}[{seconds}s]))'
    return f"{slower} - sum(increase({bucket},le=~{json.dumps(edge)}}}[{seconds}s]))"


def quiet_reason(prom: PromClient, settings: StackSettings, service: Service, event: str, seconds: int) -> str | None:
    """Why an empty event panel is right for the service (no such event during the run), or None when the
    service had the event, or when Prometheus cannot say (the panel then fails as empty)."""
    try:
        result = prom.query(event_query(settings, service, event, seconds))
    except Unavailable:
        return None
    counted = float(result[0]["value"][1]) if result else 0.0
    if counted >= 0.5:
        return None
    what = "no 5xx" if event == "5xx" else f"no request slower than {service.latency.warning:g}s"
    return (
        f"{what} from {service.name} during the run: this panel draws only those, so it is rightly empty "
        f"(verify causes them only for a service with faults: true)"
    )
