"""The data the report draws for each dashboard panel: the panel's own PromQL, its variables and
`$__rate_interval` filled, run over the run on the pinned Prometheus scraping a real prometheus_client
exposition; series named like Grafana's legend, the panel's thresholds, the dashboard's grid order."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge

from stack.runtime.outcome import Threshold
from stack.runtime.panels import MAX_SERIES, RunRange, legend, prometheus_panels, record_text
from tests.support import scraping_prometheus

pytestmark = pytest.mark.e2e

PROM = {"type": "prometheus", "uid": "${datasource}"}


def panel(title: str, kind: str, x: int, y: int, expr: str, legend_format: str = "", **defaults: Any) -> Any:
    return {"type": kind, "title": title, "gridPos": {"x": x, "y": y, "w": 12, "h": 8}, "datasource": PROM,
            "fieldConfig": {"defaults": defaults}, "targets": [{"datasource": PROM, "expr": expr,
                                                                  "legendFormat": legend_format}]}  # fmt: skip


BOARD = {
    "title": "shop: golden signals",
    "panels": [
        panel("Requests/s by route", "timeseries", 12, 1,
              'sum by (route) (rate(shop_requests_total{service="$service"}[$__rate_interval]))', "{{route}}",
              unit="reqps", thresholds={"steps": [{"color": "green", "value": None}, {"color": "orange", "value": 5},
                                                  {"color": "red", "value": 10}]}),
        {"type": "row", "title": "Traffic", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1}},
        panel("Connections in use", "stat", 0, 1, 'shop_pool_in_use{service="$service"}', unit="short"),
        panel("Queue by shard", "timeseries", 0, 9, 'shop_queue{service="$service", shard=~"$shard"}', "{{shard}}"),
        panel("Never there", "timeseries", 12, 9, 'shop_absent_metric{service="$service"}'),
    ],
}  # fmt: skip


def test_each_panel_is_fetched_with_its_own_queries_in_grid_order(tmp_path: Path, prometheus_binary: str) -> None:
    """Rows and panels come back in (y, x) order with their unit and thresholds; a series is named by the
    target's legendFormat (its labels when it has none); at most MAX_SERIES are kept and the rest counted; a
    panel whose query matches nothing has no series."""
    registry = CollectorRegistry()
    requests = Counter("shop_requests", "Requests.", ["route"], registry=registry)
    Gauge("shop_pool_in_use", "In use.", registry=registry).set(3)
    queue = Gauge("shop_queue", "Queue.", ["shard"], registry=registry)
    for shard in range(MAX_SERIES + 2):
        queue.labels(f"s{shard:02d}").set(shard)
    with scraping_prometheus(tmp_path, prometheus_binary, registry, "shop") as prom:
        start = time.time()
        for _ in range(8):  # a few scrapes of a growing counter on two routes
            requests.labels("/orders").inc(5)
            requests.labels("/health").inc()
            time.sleep(1)
        span = RunRange.of(start - 5, time.time(), 1.0)
        found = prometheus_panels(prom, BOARD, ({"service": "shop"}, ".+"), span, "shop")
    assert [(p.kind, p.title) for p in found] == [
        ("row", "Traffic"), ("stat", "Connections in use"), ("timeseries", "Requests/s by route"),
        ("timeseries", "Queue by shard"), ("timeseries", "Never there"),
    ]  # fmt: skip
    row, stat, rates, shards, never = found
    assert [s.name for s in rates.series] == ["/health", "/orders"]
    assert all(s.points and all(v >= 0 for _, v in s.points) for s in rates.series)
    assert max(v for _, v in rates.series[1].points) > 1  # 5 a second on /orders
    assert (rates.unit, rates.thresholds) == ("reqps", [Threshold("warning", 5.0), Threshold("critical", 10.0)])
    assert rates.service == "shop"
    assert stat.series[0].points[-1][1] == 3
    assert stat.series[0].name.startswith('shop_pool_in_use{instance="127.0.0.1:')
    assert [s.name for s in shards.series] == [f"s{n:02d}" for n in range(MAX_SERIES)]
    assert shards.note == "2 more series not drawn"
    assert never.series == []
    assert row.series == []


def test_legend_and_rate_interval_follow_grafana() -> None:
    """legendFormat fills {{label}}; without one the series is named by its labels; `$__rate_interval` is
    the step plus a scrape and at least four scrapes."""
    assert legend({"legendFormat": "{{method}} {{route}}"}, {"method": "GET", "route": "/a"}) == "GET /a"
    assert legend({}, {"__name__": "up", "job": "x"}) == 'up{job="x"}'
    assert RunRange.of(0, 600, 1.0).rate == "4s"
    assert RunRange.of(0, 2400, 1.0) == RunRange(0, 2400, 10.0, "11s")


def test_a_log_record_row_shows_its_message_and_telling_fields() -> None:
    """A log panel's row is the record's message with its level, status and route, not the message alone;
    a record without those shows a few of its own fields, never the trace ids."""
    record = {"_msg": "request", "_time": "2026-12-06T21:48:10Z", "level": "error", "status": "500",
              "route": "/orders", "trace_id": "ab", "user_agent": "x"}  # fmt: skip
    assert record_text(record) == "request level=error status=500 route=/orders"
    assert record_text({"_msg": "boom", "trace_id": "ab", "logger": "app", "_stream": "{}"}) == "boom logger=app"
