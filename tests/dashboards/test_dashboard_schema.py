"""current_schema maps legacy (pre-Grafana-7) dashboard JSON onto the schema current Grafana saves, and the
built dashboards are already in that schema."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import get_args

import pytest

from stack.builders.dashboard_schema import (
    LEGACY_DASHBOARD_KEYS,
    LEGACY_PANEL_KEYS,
    current_schema,
)
from stack.builders.dashboards import build_dashboards
from stack.builders.panels import dashboard, layout, query_variable, stat, steps, table, timeseries
from stack.config import load_settings
from stack.dashlint import iter_panels
from stack.models.grafana import PromTarget
from stack.settings import Backends

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "stack.yaml"


def legacy_board() -> dict:
    """A dashboard in the shape grafanalib writes: legacy keys, required fields missing."""
    return {
        "__inputs": [],
        "rows": [],
        "style": "dark",
        "hideControls": False,
        "sharedCrosshair": True,
        "graphTooltip": 0,
        "timepicker": {"refresh_intervals": ["5s"], "time_options": ["5m"]},
        "templating": {"list": [{"name": "x", "tagsQuery": None, "useTags": False, "current": {"tags": []}}]},
        "panels": [
            {"type": "row", "id": 1, "title": "R", "span": None, "targets": [], "transparent": False},
            {"type": "timeseries", "id": 2, "span": None, "minSpan": None, "height": None, "error": False,
             "editable": True, "options": {"legend": {"displayMode": "list"}}, "fieldConfig": {"defaults": {}}},
        ],
    }  # fmt: skip


def test_legacy_keys_are_dropped_and_crosshair_becomes_graph_tooltip():
    """rows/style/hideControls/__inputs/sharedCrosshair go; a shared crosshair is graphTooltip 1."""
    board = current_schema(legacy_board())
    assert not LEGACY_DASHBOARD_KEYS & board.keys()
    assert board["graphTooltip"] == 1
    assert board["timepicker"] == {"refresh_intervals": ["5s"]}
    assert board["templating"]["list"] == [{"name": "x", "current": {}}]


def test_row_is_grafanas_row_panel():
    """A row keeps only what Grafana's row panel has: no targets, span or transparent."""
    row = current_schema(legacy_board())["panels"][0]
    assert row == {"type": "row", "id": 1, "title": "R", "collapsed": False, "panels": []}


def test_panel_loses_legacy_keys_and_gains_required_fields():
    """span/minSpan/height/error/editable go; legend.showLegend and fieldConfig.overrides are filled."""
    panel = current_schema(legacy_board())["panels"][1]
    assert not LEGACY_PANEL_KEYS & panel.keys()
    assert panel["options"]["legend"] == {"displayMode": "list", "showLegend": True}
    assert panel["fieldConfig"] == {"defaults": {}, "overrides": []}


def test_present_values_win_over_defaults_and_input_is_untouched():
    """A value already set is kept, and the input dict is not modified."""
    legacy = legacy_board()
    legacy["panels"][1]["options"]["legend"]["showLegend"] = False
    before = copy.deepcopy(legacy)
    assert current_schema(legacy)["panels"][1]["options"]["legend"]["showLegend"] is False
    assert legacy == before


def test_built_panels_carry_the_required_options():
    """Stat, table and time series built through panels.dashboard have the fields the schema requires."""
    panels = [
        timeseries(1, "t", "s", [("up", "x")]),
        stat(2, "s", "short", ("up", "x"), []),
        table(3, "tb", "short", [PromTarget("up", "", instant=True, format="table")]),
    ]
    board = dashboard("d", "D", layout([("Row", 10, [panels])]), [query_variable("v", "V", "q")], [])
    by_type = {p["type"]: p for p in iter_panels(board)}
    assert by_type["stat"]["options"] | {"wideLayout": True, "showPercentChange": False} == by_type["stat"]["options"]
    assert by_type["stat"]["options"]["percentChangeColorMode"] == "standard"
    assert by_type["table"]["options"]["frameIndex"] == 0
    assert by_type["table"]["fieldConfig"]["defaults"]["custom"] == {"align": "auto", "cellOptions": {"type": "auto"},
                                                                     "filterable": False, "inspect": False}  # fmt: skip
    assert by_type["table"]["fieldConfig"]["defaults"]["color"] == {"mode": "thresholds"}
    assert not {"columns", "fontSize", "color", "mappings"} & by_type["table"].keys()
    assert not any("tagsQuery" in v for v in board["templating"]["list"])


@pytest.mark.parametrize("traces", get_args(Backends.model_fields["traces"].annotation))
@pytest.mark.parametrize("logs", get_args(Backends.model_fields["logs"].annotation))
def test_built_dashboards_are_in_the_current_schema(traces, logs):
    """Every built dashboard, with each log and trace store, is a fixed point of current_schema: the builders
    write no legacy key and leave no required field out."""
    settings = load_settings(GOLDEN)
    settings = settings.model_copy(update={"backends": Backends(traces=traces, logs=logs)})
    for name, board in build_dashboards(settings).items():
        assert current_schema(board) == board, name


def test_dashboards_share_no_mutable_part():
    """Two built dashboards hold no dict or list in common: changing one cannot change the other."""
    first, second = list(build_dashboards(load_settings(GOLDEN)).values())[:2]
    assert not containers(first) & containers(second)


def containers(value: object) -> set[int]:
    if isinstance(value, dict):
        return {id(value)}.union(*(containers(v) for v in value.values()))
    if isinstance(value, list):
        return {id(value)}.union(*(containers(v) for v in value))
    return set()


@pytest.mark.parametrize("level", [math.inf, -math.inf, math.nan])
def test_a_non_finite_threshold_is_refused(level):
    """JSON has no infinity or NaN: a threshold step with one is an error, not a silent null."""
    with pytest.raises(ValueError, match="non-finite"):
        steps(("red", level))
