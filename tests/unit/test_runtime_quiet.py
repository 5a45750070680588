"""The doctor's panels of events only, found in the generated dashboards by their stable panel ids."""

from __future__ import annotations

import json
from pathlib import Path

from stack.runtime.quiet import event_panels, event_query
from stack.settings import StackSettings

ROOT = Path(__file__).resolve().parents[2]


def test_the_event_panels_of_a_generated_dashboard_are_its_error_and_slow_panels() -> None:
    """errors by route, top failing routes and error logs draw 5xx; slow traces draw slow requests; the
    golden-signal panels (traffic, latency, saturation) are not event panels."""
    board = json.loads((ROOT / "dashboards" / "orders-golden-signals.json").read_text(encoding="utf-8"))
    events = event_panels([board])
    titles = {title.split(" / ", 1)[1]: event for title, event in events.items()}
    assert titles == {
        "5xx errors/s by route": "5xx",
        "Top failing routes (5xx ratio, 5m)": "5xx",
        "Error logs": "5xx",
        "Slow traces (> 200ms)": "slow",
    }


def test_event_queries_read_the_services_own_names_and_its_warning_edge() -> None:
    """A custom service's 5xx are its own status label on its own counter; slow is above its own warning edge,
    whether Prometheus wrote the integer edge as "1" (remote write) or "1.0" (scrape)."""
    settings = StackSettings(services=[{
        "name": "ledger", "metrics_convention": "custom", "latency_buckets": [0.5, 1, 2, 5],
        "latency": {"warning": 1, "critical": 2}, "metric_labels": {"route": "path", "status": "code"},
        "metric_names": {"requests": "ledger_requests_total", "duration": "ledger_request_duration_seconds"},
    }])  # fmt: skip
    ledger = settings.services[0]
    assert event_query(settings, ledger, "5xx", 90) == (
        'sum(increase(ledger_requests_total{service="ledger",code=~"5.."}[90s]))'
    )
    slow = event_query(settings, ledger, "slow", 90)
    assert 'ledger_request_duration_seconds_bucket{service="ledger",le="+Inf"}[90s]' in slow
    assert 'le=~"1(\\\\.0)?"' in slow
