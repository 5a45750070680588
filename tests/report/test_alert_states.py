"""PromClient.active on the pinned Prometheus: alerts by state, firing and pending, as verify asks before each
fault (an alert a fault left pending must not fire in the next fault's window)."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Gauge

from stack.runtime.promapi import wait_until
from tests.support import scraping_prometheus

pytestmark = pytest.mark.e2e

RULES = """\
groups:
  - name: states
    rules:
      - alert: AtOnce
        expr: shop_level > 1
      - alert: AfterAnHour
        expr: shop_level > 1
        for: 1h
      - alert: Never
        expr: shop_level > 5
"""


def test_pending_and_firing_alerts_are_told_apart(tmp_path: Path, prometheus_binary: str) -> None:
    """With the level above 1: the alert without `for` is firing, the one held for an hour pending, the one above
    5 neither; firing() gives the firing one only, active() what each state asked for."""
    registry = CollectorRegistry()
    Gauge("shop_level", "Level.", registry=registry).set(2)
    with scraping_prometheus(tmp_path, prometheus_binary, registry, "shop", rules=RULES) as prom:
        both = wait_until(lambda: (len(prom.active(("firing", "pending"))) == 2, str(prom.alerts())), 30, 0.5)
        assert both.ok, both.last
        assert prom.firing() == {("AtOnce", "shop")}
        assert prom.active(("pending",)) == {("AfterAnHour", "shop")}
        assert prom.active(("firing", "pending")) == {("AtOnce", "shop"), ("AfterAnHour", "shop")}
