"""Named query functions of the dashboards: PromQL selectors of the dashboard's service, instances and
routes, bucket edges, status classes. The log and trace queries are in each store's own language, in its
entry of stack.builders.backends."""

from __future__ import annotations

from stack import conventions as c
from stack.builders import promql as q
from stack.durations import Duration

RATE = "[$__rate_interval]"


def sel(metric: str, route: str | None = None, **regex: str) -> str:
    """The metric of the selected service and instances (and routes, by the route label), plus regex matchers."""
    parts = [f'{c.SERVICE_LABEL}="$service"', 'instance=~"$instance"']
    parts += [f'{route}=~"$route"'] if route else []
    parts += [f"{key}=~{q.quote(value)}" for key, value in regex.items()]
    return f"{metric}{{{','.join(parts)}}}"


def rec(record: str, route: str | None = None) -> str:
    """A recording rule of the selected service (they keep only service, and the route label when by route)."""
    matchers = f'{c.SERVICE_LABEL}="$service"' + (f',{route}=~"$route"' if route else "")
    return f"{record}{{{matchers}}}"


def window_text(window: Duration) -> str:
    """A window as people say it: 30d rather than Prometheus' 4w2d."""
    day = 24 * 3600 * 1000
    return f"{window.ms // day}d" if window.ms >= day and window.ms % day == 0 else str(window)


def le_matcher(edge: float) -> str:
    """`le` of a bucket edge; whole numbers match both "1" (Prometheus 2) and "1.0" (Prometheus 3)."""
    text = q.number(edge)
    return f'le=~"{text}|{text}.0"' if float(edge).is_integer() else f"le={q.quote(text)}"


def buckets(metric: str, route: str | None = None, by: str = "le") -> str:
    return f"sum by ({by}) (rate({sel(f'{metric}_bucket', route)}{RATE}))"


def status_class(expr: str, label: str) -> str:
    """Status codes as classes (503 -> 5xx), whether the service groups them already or not."""
    return f'label_replace({expr}, "status_class", "${{1}}xx", "{label}", "(.).*")'
