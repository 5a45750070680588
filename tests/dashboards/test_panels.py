"""The named panel parts of stack.builders.panels and the targets of stack.models.grafana, on plain data."""

from __future__ import annotations

import json

from stack import conventions as c
from stack.builders.dashboards import scaled_tiers
from stack.builders.panels import layout, query_variable, table, targets, timeseries
from stack.config import load_settings
from stack.models.grafana import PromTarget, TempoTarget, prom_query
from stack.models.jsontext import to_json

STACK = "project: demo\nservices:\n  - name: orders\n"


def test_prom_query_is_a_range_query_unless_instant():
    """A range query says range true, instant false; an instant one the reverse; the refId is the one given."""
    ranged, instant = prom_query("up", "x", "B"), prom_query("up", "x", instant=True, format="table")
    assert (ranged["range"], ranged["instant"], ranged["refId"], ranged["format"]) == (True, False, "B", "time_series")
    assert (instant["range"], instant["instant"], instant["refId"], instant["format"]) == (False, True, "A", "table")


def test_targets_are_lettered_in_order_whatever_their_form():
    """(expr, legend) pairs and full PromTargets alike get refIds A, B, C in order; a PromTarget keeps its flags."""
    built = targets([("up", "a"), PromTarget("rate(x[5m])", "b", exemplar=True, ref="Z"), ("down", "c")])
    assert [t["refId"] for t in built] == ["A", "B", "C"]
    assert built[1]["exemplar"] is True
    assert built[1]["expr"] == "rate(x[5m])"
    assert PromTarget("up", "a", ref="Z").to_json_data()["refId"] == "Z"


def test_a_tempo_table_target_gets_the_filters_its_schema_requires():
    """A TraceQL target gains `filters: []`; a Prometheus one does not."""
    tempo = TempoTarget('{resource.service.name="orders"}')
    traces = table(1, "t", "ms", [tempo], datasource=tempo.to_json_data()["datasource"])
    assert traces["targets"][0]["filters"] == []
    firing = table(2, "f", "short", [PromTarget("ALERTS", "", instant=True, format="table")])
    assert "filters" not in firing["targets"][0]


def test_query_variable_is_multi_with_all_unless_it_has_a_default():
    """No default: multi-select with All (`.*`); a default: that single value selected."""
    many, one = query_variable("route", "Route", "q"), query_variable("service", "Service", "q", default="orders")
    assert (many["multi"], many["includeAll"], many["allValue"], many["current"]["value"]) == (True, True, ".*",
                                                                                              "$__all")  # fmt: skip
    assert (one["multi"], one["includeAll"], one["allValue"], one["current"]["value"]) == (False, False, None, "orders")


def test_layout_places_rows_and_equal_width_panels_top_to_bottom():
    """A row takes one grid unit, then each line of panels shares the 24 columns, 8 units high."""
    a, b, c_ = (timeseries(i, str(i), "s", [("up", "x")]) for i in (1, 2, 3))
    placed = layout([("Row", 100, [[a, b], [c_]])])
    assert [(p["id"], p["gridPos"]) for p in placed] == [
        (100, {"h": 1, "w": 24, "x": 0, "y": 0}),
        (1, {"h": 8, "w": 12, "x": 0, "y": 1}),
        (2, {"h": 8, "w": 12, "x": 12, "y": 1}),
        (3, {"h": 8, "w": 24, "x": 0, "y": 9}),
    ]
    assert "gridPos" not in a  # the panels given are not changed


def test_scaled_tiers_are_the_enabled_tiers_with_their_windows(make_project):
    """Each enabled burn tier once, with the windows it has for the profile's SLO window; a disabled one is left out."""
    settings = load_settings(make_project(STACK + "burn_rate_tiers: {ticket_slow: {enabled: false}}\n"))
    tiers = scaled_tiers(settings)
    assert [t.name for t, _ in tiers] == [t.name for t in c.BURN_TIERS if t.name != "ticket_slow"]
    assert all(pair == t.scaled(settings.timing.slo_window) for t, pair in tiers)


def test_json_text_of_small_numbers_among_dashes_is_pythons():
    """Exponent floats are found among keys and strings full of dashes (`e-` in text is left alone)."""
    data = {"a-e-1": "x-e-1", "e-": [1e-09, -3e-07, 1e-05, 0.0001, "-", 2.5e-300], "le": 1e-9, "-": -1}
    assert to_json(data) == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
