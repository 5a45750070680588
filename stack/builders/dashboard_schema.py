"""Older dashboard JSON -> the dashboard JSON current Grafana saves (schema of Grafana 11/12). PURE.

The pre-Grafana-7 model (what grafanalib and many hand-written dashboards carry) has legacy keys the current
schema no longer has, and none of the fields the current panel options require. `current_schema` maps such a
dashboard onto the current schema, and is the written statement of what that schema asks: the builders
(stack.builders.panels) write it directly, and every dashboard they build is a fixed point of `current_schema`
(tests/dashboards/test_dashboard_schema.py). It:

1. drops the legacy dashboard keys (`rows`, `style`, `hideControls`, `__inputs`) and maps `sharedCrosshair`
   onto `graphTooltip` (1 = shared crosshair); drops the time picker's `time_options`;
2. drops the legacy variable keys (`tagsQuery`, `tagValuesQuery`, `useTags`, `current.tags`);
3. writes each row as Grafana's row panel (type, title, collapsed, gridPos, id, panels, repeat): grafanalib's
   RowPanel carries every key of a data panel, `targets` included;
4. drops the legacy keys of every other panel (`span`, `minSpan`, `height`, `error`, `editable`) and its keys
   whose value is null (Grafana omits them); a table's top-level `color` and `mappings` move into
   `fieldConfig.defaults`, its angular-table `columns` and `fontSize` go, `displayMode` becomes `cellOptions`;
5. fills the fields the schema requires with the defaults of the schema itself (the SDK's `NewOptions` /
   `NewFieldConfig` / `NewDataquery` of the pinned grafana-foundation-sdk, i.e. what Grafana writes when a
   panel is created): values already present are kept.

`obsstack validate` proves the result: dashcheck decodes it strictly with the SDK's types, with no list of
tolerated keys. Every value is a new object; the input is not modified.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Json = dict[str, Any]

LEGACY_DASHBOARD_KEYS = frozenset({"rows", "style", "sharedCrosshair", "hideControls", "__inputs"})
LEGACY_TIMEPICKER_KEYS = frozenset({"time_options"})
LEGACY_VARIABLE_KEYS = frozenset({"tagsQuery", "tagValuesQuery", "useTags"})
LEGACY_PANEL_KEYS = frozenset({"span", "minSpan", "height", "error", "editable"})
LEGACY_TABLE_KEYS = frozenset({"columns", "fontSize", "color", "mappings"})  # color, mappings: to defaults
ROW_KEYS = ("type", "title", "collapsed", "datasource", "gridPos", "id", "panels", "repeat")
GRAPH_TOOLTIP_SHARED_CROSSHAIR = 1

# Required fields, by panel type, at their schema defaults (grafana-foundation-sdk NewOptions/NewFieldConfig).
OPTION_DEFAULTS: Mapping[str, Json] = {
    "timeseries": {"legend": {"showLegend": True}},
    "stat": {"wideLayout": True, "showPercentChange": False, "percentChangeColorMode": "standard"},
    "table": {"frameIndex": 0},
    "logs": {"showLogContextToggle": False},
}
CUSTOM_DEFAULTS: Mapping[str, Json] = {"table": {"inspect": False}}
TARGET_DEFAULTS: Mapping[str, Json] = {"tempo": {"filters": []}}  # tempo NewDataquery


def current_schema(board: Json) -> Json:
    """The dashboard as current Grafana saves it (steps 1-5 of the module docstring)."""
    kept = {k: v for k, v in board.items() if k not in LEGACY_DASHBOARD_KEYS}
    tooltip = board.get("graphTooltip") or (GRAPH_TOOLTIP_SHARED_CROSSHAIR if board.get("sharedCrosshair") else 0)
    templating = board.get("templating", {})
    return kept | {
        "graphTooltip": tooltip,
        "timepicker": drop(board.get("timepicker", {}), LEGACY_TIMEPICKER_KEYS),
        "templating": templating | {"list": [variable(v) for v in templating.get("list", [])]},
        "panels": [row(p) if p.get("type") == "row" else panel(p) for p in board.get("panels", [])],
    }


def drop(data: Json, keys: frozenset[str]) -> Json:
    return {k: v for k, v in data.items() if k not in keys}


def variable(var: Json) -> Json:
    kept = drop(var, LEGACY_VARIABLE_KEYS)
    if isinstance(var.get("current"), dict):
        kept["current"] = drop(var["current"], frozenset({"tags"}))
    return kept


def row(data: Json) -> Json:
    """Grafana's row panel; the panels of a collapsed row are mapped like any other panel."""
    kept = {k: data[k] for k in ROW_KEYS if data.get(k) is not None}
    return kept | {"collapsed": bool(data.get("collapsed")), "panels": [panel(p) for p in data.get("panels", [])]}


def panel(data: Json) -> Json:
    kind = data.get("type", "")
    legacy = LEGACY_PANEL_KEYS | (LEGACY_TABLE_KEYS if kind == "table" else frozenset())
    kept = {k: v for k, v in data.items() if k not in legacy and v is not None}
    if "options" in data or kind in OPTION_DEFAULTS:
        kept["options"] = with_defaults(data.get("options", {}), OPTION_DEFAULTS.get(kind, {}))
    if "fieldConfig" in data:
        kept["fieldConfig"] = field_config(data, kind)
    if "targets" in data:
        kept["targets"] = [with_defaults(t, TARGET_DEFAULTS.get(source_type(t, data), {})) for t in data["targets"]]
    return kept


def field_config(data: Json, kind: str) -> Json:
    """`fieldConfig` with `overrides`, null defaults left out, a table's `color`, `mappings` and cell display."""
    config: Json = data["fieldConfig"]
    defaults = {k: v for k, v in config.get("defaults", {}).items() if v is not None}
    if kind == "table":
        moved = {k: data[k] for k in ("color", "mappings") if data.get(k) is not None and k not in defaults}
        defaults = moved | defaults | {"custom": table_custom(defaults.get("custom", {}))}
    elif kind in CUSTOM_DEFAULTS:
        defaults["custom"] = with_defaults(defaults.get("custom", {}), CUSTOM_DEFAULTS[kind])
    return config | {"defaults": defaults, "overrides": config.get("overrides", [])}


def table_custom(custom: Json) -> Json:
    """A table's field options: the deprecated `displayMode` as `cellOptions` (Grafana's own migration)."""
    kept = drop(custom, frozenset({"displayMode"}))
    if "displayMode" in custom and "cellOptions" not in custom:
        kept["cellOptions"] = {"type": custom["displayMode"]}
    return with_defaults(kept, CUSTOM_DEFAULTS["table"])


def source_type(target: Json, data: Json) -> str:
    source = target.get("datasource") or data.get("datasource")
    return str(source.get("type", "")) if isinstance(source, dict) else ""


def with_defaults(values: Json, defaults: Json) -> Json:
    """`values` with each missing key of `defaults` added (nested dicts merged); present values win."""
    merged = dict(values)
    for key, default in defaults.items():
        if isinstance(default, dict) and isinstance(merged.get(key), dict):
            merged[key] = with_defaults(merged[key], default)
        elif key not in merged:
            merged[key] = default
    return merged
