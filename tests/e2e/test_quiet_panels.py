"""The doctor's panels of events only (5xx by route, top failing routes, error logs, slow traces), on the pinned
Prometheus scraping a real prometheus_client exposition: while the service answers every request fast and
without error, their emptiness is explained ("skipped" with the reason); once it answered a 5xx or a slow
request, an empty panel of that event is a failure again."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram
from support import scraping_prometheus

from stack.config import load_settings
from stack.runtime.promapi import wait_until
from stack.runtime.quiet import quiet_reason

pytestmark = pytest.mark.e2e

STACK = """\
project: shop
services:
  - name: ledger
    port: 18102
    metrics_convention: custom
    metric_names: {requests: ledger_requests_total, duration: ledger_request_duration_seconds}
    metric_labels: {route: path, status: code}
    latency_buckets: [0.05, 0.25, 0.5, 1]
"""


def test_event_panels_are_skipped_only_while_the_service_had_no_such_event(
    tmp_path: Path, make_project, prometheus_binary
) -> None:
    """No 5xx and no request slower than the warning edge: both events give a reason; after one 503 and one
    slow request, neither does (the panels must then have data)."""
    settings = load_settings(make_project(STACK))
    ledger = settings.services[0]
    registry = CollectorRegistry()
    requests = Counter("ledger_requests", "Requests.", ["method", "path", "code"], registry=registry)
    duration = Histogram("ledger_request_duration_seconds", "Latency.", ["method", "path"],
                         buckets=(0.05, 0.25, 0.5, 1), registry=registry)  # fmt: skip
    requests.labels("GET", "/balance", "200").inc()
    requests.labels("POST", "/settle", "503")  # the series exists from the start, at 0
    duration.labels("GET", "/balance").observe(0.01)
    with scraping_prometheus(tmp_path, prometheus_binary, registry, "ledger") as prom:
        time.sleep(3)  # a few scrapes of the quiet service
        quiet_errors = quiet_reason(prom, settings, ledger, "5xx", 60)
        quiet_latency = quiet_reason(prom, settings, ledger, "slow", 60)
        assert quiet_errors is not None
        assert "no 5xx from ledger during the run" in quiet_errors
        assert quiet_latency is not None
        assert "no request slower than 0.25s from ledger" in quiet_latency  # its own warning edge
        requests.labels("POST", "/settle", "503").inc()
        duration.labels("GET", "/balance").observe(0.7)
        errors = wait_until(lambda: (quiet_reason(prom, settings, ledger, "5xx", 60) is None, "5xx unseen"), 20, 1)
        slow = wait_until(lambda: (quiet_reason(prom, settings, ledger, "slow", 60) is None, "slow unseen"), 20, 1)
        assert errors.ok, errors.last
        assert slow.ok, slow.last
