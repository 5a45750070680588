"""Dashboard builder: ids, thresholds, units, datasources, exemplars, UIDs and links, on built objects."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from stack import conventions as c
from stack.builders.dashboards import build_dashboards, dashboard_queries
from stack.builders.rules import build_rule_files
from stack.config import load_settings
from stack.dashlint import UNITLESS_TYPES, iter_panels, lint
from stack.render import render_all

STACK = """\
project: demo
services:
  - name: orders
    latency: {warning: 0.25, critical: 1.0}
    error_rate: {warning: 0.02, critical: 0.1}
    db_pool: {warning: 0.7, critical: 0.9}
    slo: {objective: 0.995}
  - {name: billing, port: 8001}
"""


@pytest.fixture
def settings(make_project):
    return load_settings(make_project(STACK))


@pytest.fixture
def boards(settings):
    return build_dashboards(settings)


def panels_by_id(board) -> dict[int, dict]:
    return {p["id"]: p for p in iter_panels(board)}


def threshold_values(panel) -> list[float]:
    return [s["value"] for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"] if s["value"] is not None]


def test_one_dashboard_per_service_plus_overview(boards):
    """Each service gets `<service>-golden-signals`, and there is one overview."""
    assert set(boards) == {"orders-golden-signals", "billing-golden-signals", "overview"}


def test_panel_ids_unique(boards):
    """No dashboard repeats a panel id (rows included)."""
    for board in boards.values():
        ids = [p["id"] for p in iter_panels(board)]
        assert len(ids) == len(set(ids))


def test_main_panels_have_the_alert_link_ids(boards):
    """The main panel of each row has the id from PANEL_IDS that the alerts' viewPanel uses."""
    panels = panels_by_id(boards["orders-golden-signals"])
    expected = {
        "traffic": "Requests/s by route",
        "errors": "5xx ratio",
        "latency": "Latency p50 / p95 / p99",
        "saturation": "DB pool utilisation",
        "slo": "Error budget burn rate",
        "logs": "Error logs",
    }
    for row, title in expected.items():
        assert panels[c.PANEL_IDS[row]]["title"].startswith(title), row
    assert all(p["type"] != "row" for pid, p in panels.items() if pid in c.PANEL_IDS.values())


def test_threshold_lines_follow_the_settings(boards):
    """5xx ratio, p95 latency and pool panels draw the configured warning and critical thresholds."""
    orders = panels_by_id(boards["orders-golden-signals"])
    assert threshold_values(orders[c.PANEL_IDS["errors"]]) == [0.02, 0.1]
    assert threshold_values(orders[c.PANEL_IDS["latency"]]) == [0.25, 1.0]
    assert threshold_values(orders[c.PANEL_IDS["saturation"]]) == [0.7, 0.9]
    billing = panels_by_id(boards["billing-golden-signals"])
    assert threshold_values(billing[c.PANEL_IDS["errors"]]) == [0.01, 0.05]
    assert threshold_values(billing[c.PANEL_IDS["latency"]]) == [0.2, 0.5]
    for pid in (c.PANEL_IDS["errors"], c.PANEL_IDS["latency"], c.PANEL_IDS["saturation"]):
        assert orders[pid]["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] != "off"


def test_changing_a_setting_moves_the_threshold(make_project):
    """A different latency warning in stack.yaml gives a different threshold line (and slow-trace query)."""
    changed = load_settings(make_project(STACK.replace("warning: 0.25", "warning: 0.5")))
    panels = panels_by_id(build_dashboards(changed)["orders-golden-signals"])
    assert threshold_values(panels[c.PANEL_IDS["latency"]]) == [0.5, 1.0]
    assert "duration > 500ms" in panels[c.PANEL_IDS["slow_traces"]]["targets"][0]["query"]


def test_slo_panels_use_objective_and_burn_tiers(boards):
    """SLI stats turn green at the objective; burn-rate lines sit at the enabled tier factors."""
    panels = panels_by_id(boards["orders-golden-signals"])
    assert threshold_values(panels[21]) == [0.995]
    assert threshold_values(panels[22]) == [0.995]
    assert threshold_values(panels[c.PANEL_IDS["slo"]]) == [1.0, 3.0, 6.0, 14.4]
    assert all(" / 0.005" in t["expr"] for t in panels[c.PANEL_IDS["slo"]]["targets"])


def test_every_panel_has_unit_datasource_and_query(boards):
    """Every non-row panel has a unit (logs excepted), a datasource object and a query."""
    for board in boards.values():
        for panel in iter_panels(board):
            if panel["type"] == "row":
                continue
            if panel["type"] not in UNITLESS_TYPES:
                assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]
            assert isinstance(panel["datasource"], dict)
            assert panel["datasource"]["uid"]
            assert all(t.get("expr") or t.get("query") for t in panel["targets"])


def test_latency_panels_enable_exemplars(boards):
    """The p95 panel and the heatmap query raw buckets with exemplars, so points link to traces."""
    panels = panels_by_id(boards["orders-golden-signals"])
    for pid in (c.PANEL_IDS["latency"], c.PANEL_IDS["latency_heatmap"]):
        traced = [t for t in panels[pid]["targets"] if t["exemplar"]]
        assert traced
        assert all("_bucket{" in t["expr"] for t in traced)
    assert panels[c.PANEL_IDS["latency_heatmap"]]["type"] == "heatmap"
    assert panels[c.PANEL_IDS["latency_heatmap"]]["options"]["calculate"] is False


def test_rates_use_rate_interval_or_the_rule_window(settings):
    """Raw-metric rates use $__rate_interval; no query selects le="1"."""
    for title, expr in dashboard_queries(settings):
        assert 'le="1"' not in expr, title
        for window in re.findall(r"\[([^\]]+)\]", expr):
            allowed = {"$__rate_interval", str(settings.timing.slo_window), str(settings.timing.restart_window)}
            assert window in allowed, (title, expr)


def test_uids_stable_and_short(boards, settings):
    """UIDs derive from the dashboard name only, are at most 40 characters and survive a rebuild."""
    for name, board in boards.items():
        assert board["uid"] == c.stable_uid(name)
        assert len(board["uid"]) <= 40
    assert build_dashboards(settings) == boards


def test_alert_dashboard_urls_point_at_existing_panels(settings, boards):
    """Every alert's dashboard_url names a generated dashboard UID, and its viewPanel exists there."""
    by_uid = {board["uid"]: board for board in boards.values()}
    for rule_file in build_rule_files(settings).values():
        for alert in rule_file.alerts():
            url = urlsplit(alert.annotations["dashboard_url"])
            uid = url.path.split("/")[2]
            assert uid in by_uid, alert.alert
            panel = parse_qs(url.query).get("viewPanel")
            if panel:
                assert int(panel[0]) in panels_by_id(by_uid[uid]), (alert.alert, panel)


def test_generated_dashboards_pass_the_linter(boards, settings):
    """The linter finds nothing in what the builder produces."""
    assert lint(boards, settings.timing.scrape_interval) == []


def test_dashboard_queries_lists_every_promql_target(settings):
    """dashboard_queries names each PromQL target by dashboard and panel, Loki/TraceQL excluded."""
    queries = dashboard_queries(settings)
    titles = {title for title, _ in queries}
    assert "orders: golden signals / Requests/s by route" in titles
    assert not any("service_name" in expr or "resource.service.name" in expr for _, expr in queries)
    assert any(c.DB_POOL_WAIT in expr for _, expr in queries)


def test_render_is_byte_for_byte_reproducible(settings):
    """Rendering twice gives the same paths and the same bytes."""
    first, second = render_all(settings), render_all(settings)
    assert first == second
    paths = {a.path for a in first}
    assert "dashboards/orders-golden-signals.json" in paths
    assert "dashboards/overview.json" in paths
