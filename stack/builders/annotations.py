"""Alert annotation texts, written once and filled two ways.

Rules get Prometheus template expressions (`{{ $value | humanizePercentage }}`); the generated promtool
tests get the same sentence filled with Python ports of those functions, so both always agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from stack import conventions as c
from stack.settings import StackSettings


def humanize_duration(value: float) -> str:
    """Python port of Prometheus' humanizeDuration for the values alerts produce."""
    if math.isnan(value) or math.isinf(value):
        return f"{value:.4g}"
    if value == 0:
        return "0s"
    if abs(value) >= 1:
        return f"{value:.4g}s" if abs(value) < 60 else _long_duration(value)
    prefix = ""
    for unit in ("m", "u", "n", "p"):
        if abs(value) >= 1:
            break
        prefix, value = unit, value * 1000
    return f"{value:.4g}{prefix}s"


def _long_duration(value: float) -> str:
    seconds = int(value)
    days, hours, minutes, secs = seconds // 86400, seconds // 3600 % 24, seconds // 60 % 60, seconds % 60
    if days:
        return f"{days}d {hours}h {minutes}m {secs}s"
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    return f"{minutes}m {secs}s"


def humanize_percentage(value: float) -> str:
    return f"{value * 100:.4g}%"


def humanize(value: float) -> str:
    """Prometheus' humanize for plain counts below 1000."""
    return f"{value:.4g}"


def burn(value: float) -> str:
    return f"{value:.1f}"


FORMATS: dict[str, tuple[str, Callable[[float], str]]] = {
    "duration": ("{{ $value | humanizeDuration }}", humanize_duration),
    "percentage": ("{{ $value | humanizePercentage }}", humanize_percentage),
    "count": ("{{ $value | humanize }}", humanize),
    "burn": ('{{ $value | printf "%.1f" }}', burn),
    "rate": ('{{ $value | printf "%.3g" }}', lambda value: f"{value:.3g}"),
}


@dataclass(frozen=True)
class Texts:
    """summary and description with `{value}` and `{labels.x}` holes."""

    summary: str
    description: str
    value_format: str | None = None

    def for_rule(self, runbook: str, dashboard: str) -> dict[str, str]:
        template = FORMATS[self.value_format][0] if self.value_format else ""
        return self._fill(template, lambda name: "{{ $labels.%s }}" % name, runbook, dashboard)  # noqa: UP031

    def expected(self, value: float | None, labels: dict[str, str], runbook: str, dashboard: str) -> dict[str, str]:
        shown = FORMATS[self.value_format][1](value) if self.value_format and value is not None else ""
        return self._fill(shown, lambda name: labels.get(name, ""), runbook, dashboard)

    def _fill(self, value: str, label: Callable[[str], str], runbook: str, dashboard: str) -> dict[str, str]:
        holes = {"value": value, "job": label("job"), "instance": label("instance")}
        return {
            "summary": self.summary.format(**holes),
            "description": self.description.format(**holes),
            "runbook_url": runbook,
            "dashboard_url": dashboard,
        }


def links(settings: StackSettings, alert: str, service: str | None, panel: str | None) -> tuple[str, str]:
    runbook = c.runbook_url(settings.alerting.runbook_base_url, alert)
    if service is None:
        uid = c.stable_uid("overview")
        return runbook, f"{settings.alerting.grafana_url}/d/{uid}/overview"
    return runbook, c.dashboard_url(settings.alerting.grafana_url, service, panel)


def seconds_text(value: float) -> str:
    """A threshold in seconds as people write it: 200ms, 1.5s."""
    return f"{value * 1000:g}ms" if value < 1 else f"{value:g}s"


def percent_text(value: float) -> str:
    return f"{value * 100:g}%"
