"""The "no data" doctor and the golden-signal series for the verify report.

Recording rules are checked with `present_over_time` over the whole run; dashboard queries get their
Grafana macros replaced by a window covering the run, so a panel passes if it had data at any time.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from stack import conventions as c
from stack.builders.rules import build_rule_files
from stack.runtime.promapi import PromClient, Unavailable
from stack.settings import Service, StackSettings

if TYPE_CHECKING:
    from stack.runtime.verify import VerifyReport

MACROS = ("$__rate_interval", "${__rate_interval}", "$__interval", "${__interval}", "$__range", "${__range}")


def recording_queries(settings: StackSettings, service: Service, seconds: int) -> list[tuple[str, str]]:
    rule_file = build_rule_files(settings)[c.rules_file(service.name)]
    return [
        (
            f"recording rule {r.record}",
            f'present_over_time({r.record}{{service="{service.name}"}}[{seconds}s])',
        )
        for r in rule_file.records()
    ]


def fill_macros(expr: str, service: Service, seconds: int) -> str:
    for macro in MACROS:
        expr = expr.replace(macro, f"{seconds}s")
    expr = re.sub(r"\$\{?service\}?", service.name, expr)
    expr = re.sub(r"\$\{?(instance|route|handler|job)(:[a-z]+)?\}?", ".+", expr)
    return expr


def dashboard_queries(
    settings: StackSettings, service: Service, seconds: int, kind: str = "prometheus"
) -> list[tuple[str, str]]:
    """(panel title, query with macros filled) of the service's panels whose datasource is `kind`."""
    from stack.builders.dashboards import service_queries

    queries: list[tuple[str, str]] = service_queries(settings, service, kind)
    return [(f"panel {title}", fill_macros(expr, service, seconds)) for title, expr in queries]


def over_the_run(expr: str, seconds: int, step: str) -> str:
    """The panel had data at some moment of the run: a subquery over the run, evaluated every `step`. An
    instant check at the end would fail panels that show a moment (the firing alerts) for a quiet end."""
    return f"present_over_time(({expr})[{seconds}s:{step}])"


def queries(settings: StackSettings, service: Service, seconds: int) -> list[tuple[str, str]]:
    step = str(settings.timing.scrape_interval)
    panels = [(name, over_the_run(expr, seconds, step)) for name, expr in dashboard_queries(settings, service, seconds)]
    return recording_queries(settings, service, seconds) + panels


def signal_exprs(settings: StackSettings, service: Service) -> dict[str, str]:
    w, name = settings.timing.rate_window, service.name
    exprs = {
        "traffic (requests/s)": f'{c.rec_request_rate(w)}{{service="{name}"}}',
        "errors (5xx ratio)": f'{c.rec_error_ratio(w)}{{service="{name}"}}',
        "latency p95 (s)": f'{c.rec_latency_quantile(0.95, w)}{{service="{name}"}}',
    }
    if service.has_db_pool:
        exprs["saturation (DB pool used)"] = f'{c.REC_POOL_UTILIZATION}{{service="{name}"}}'
    return exprs


def signals(
    prom: PromClient, settings: StackSettings, service: Service, report: VerifyReport
) -> dict[str, list[tuple[float, float]]]:
    end = report.finished or time.time()
    step = max(settings.timing.scrape_interval.seconds, (end - report.started) / 300)
    result: dict[str, list[tuple[float, float]]] = {}
    for title, expr in signal_exprs(settings, service).items():
        try:
            series = prom.query_range(expr, report.started, end, step)
        except Unavailable:
            series = []
        result[title] = _points(series[0]["values"]) if series else []
    return result


def _points(values: list[Any]) -> list[tuple[float, float]]:
    points = []
    for stamp, value in values:
        number = float(value)
        if number == number and abs(number) != float("inf"):
            points.append((float(stamp), number))
    return points
