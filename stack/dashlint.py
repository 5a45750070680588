"""A linter for Grafana dashboard JSON (pure: dashboard dicts in, findings out); validate runs it.

What the schema cannot see (dashcheck decodes the schema itself with the Grafana Foundation SDK). Rules, in
order: stable UID, unique panel ids, valid and non-overlapping grid positions (at most 24 columns), known
panel types, every panel has a query and a unit, every datasource UID is a provisioned datasource or a
defined datasource variable, every variable used in a query, title or link is defined, every dashboard link
resolves to a dashboard of the set or is an absolute URL, no hard-coded range window shorter than four scrape
intervals. PromQL parsing is left to promtool: each expression is a recording rule in a throw-away file for
`promtool check rules`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from stack import conventions as c
from stack.durations import Duration

Json = dict[str, Any]
GRID_WIDTH = 24
# Grafana's built-in panels: those the grafana-foundation-sdk has a schema for, and row, alertlist, traces,
# flamegraph. Angular panels (graph, singlestat, table-old) are gone from Grafana 11 on.
PANEL_TYPES = frozenset({
    "annolist", "barchart", "bargauge", "candlestick", "canvas", "dashlist", "datagrid", "debug", "gauge",
    "geomap", "heatmap", "histogram", "logs", "news", "nodeGraph", "piechart", "stat", "state-timeline",
    "status-history", "table", "text", "timeseries", "trend", "xychart", "row", "alertlist", "traces",
    "flamegraph",
})  # fmt: skip
# Grafana's global variables (https://grafana.com/docs/grafana/latest/dashboards/variables/add-template-variables/)
GLOBAL_VARIABLES = frozenset({
    "__dashboard", "__from", "__to", "__interval", "__interval_ms", "__name", "__org", "__user", "__range",
    "__range_s", "__range_ms", "__rate_interval", "__rate_interval_ms", "__timeFilter", "__timezone",
    "timeFilter", "__auto", "__all",
})  # fmt: skip
ABSOLUTE_URL = re.compile(r"https?://[^/\s]+")
DASHBOARD_PATH = re.compile(r"/d/([^/?#]+)")
USED_VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*)(?:[:.][^}]*)?\}|\$([A-Za-z_]\w*)|\[\[([A-Za-z_]\w*)(?::\w+)?\]\]")
UNITLESS_TYPES = frozenset({"row", "logs"})  # a row holds no data; log lines have no unit
MAX_UID = 40
RANGE = re.compile(r"\[\s*([^\]:\s]+)\s*(?::[^\]]*)?\]")
# `${name}` or `$name`: a closing brace belongs to the macro only when it opened one (`{a="b",$x}` keeps its own)
INTERVALS = r"(?:__rate_interval|__interval|__range|__auto)(?:_ms|_s)?"  # __auto: Loki's automatic step
MACROS = re.compile(rf"\$(?:\{{{INTERVALS}\}}|{INTERVALS}\b)")
VARIABLE = re.compile(r"\$(?:\{([A-Za-z_]\w*)(?::\w+)?\}|([A-Za-z_]\w*))")
MACRO_STAND_IN = "5m"
VARIABLE_STAND_IN = "placeholder"


@dataclass(frozen=True, order=True)
class Finding:
    """What is wrong where, and what was expected."""

    dashboard: str
    panel: str
    what: str
    expected: str

    def __str__(self) -> str:
        where = f"{self.dashboard} panel {self.panel}" if self.panel else self.dashboard
        return f"{where}: {self.what}, expected {self.expected}"


def iter_panels(board: Json) -> Iterator[Json]:
    """Every panel, including those nested in (collapsed) rows."""
    for panel in board.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def label(panel: Json) -> str:
    return f"#{panel.get('id')} {panel.get('title', '')!r}"


def datasource_type(panel: Json, target: Json) -> str | None:
    source = target.get("datasource") or panel.get("datasource")
    return source.get("type") if isinstance(source, dict) else None


# the key holding a target's query, by datasource type; a Jaeger search is a form whose subject is the service
QUERY_KEY = {"prometheus": "expr", "loki": "expr", "tempo": "query", "victoriametrics-logs-datasource": "expr",
             "jaeger": "service"}  # fmt: skip


def query_key(panel: Json, target: Json) -> str:
    return QUERY_KEY.get(datasource_type(panel, target) or "", "expr")


def promql_queries(board: Json) -> list[tuple[str, str]]:
    """(dashboard / panel title, expr) of every Prometheus target of the dashboard."""
    return panel_queries(board, "prometheus")


def panel_queries(board: Json, kind: str) -> list[tuple[str, str]]:
    """(dashboard / panel title, query) of every target of datasource type `kind` (prometheus, loki, tempo)."""
    key = QUERY_KEY[kind]
    return [
        (f"{board.get('title', '')} / {panel.get('title', '')}", target[key])
        for panel in iter_panels(board)
        for target in panel.get("targets", [])
        if datasource_type(panel, target) == kind and target.get(key)
    ]


# --- rules: (dashboard name, dashboard, scope) -> findings ------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a dashboard is checked against: the scrape interval, the UIDs of the provisioned datasources
    (validate reads them from the generated provisioning file) and of every dashboard of the set."""

    scrape_interval: Duration
    datasources: frozenset[str] = frozenset(c.DATASOURCE_UIDS.values())
    dashboards: frozenset[str] = frozenset()


Rule = Callable[[str, Json, Scope], Iterable[Finding]]


def check_uid(name: str, board: Json, scope: Scope) -> Iterable[Finding]:
    uid, expected = board.get("uid"), c.stable_uid(name)
    if uid != expected:
        yield Finding(name, "", f"uid is {uid!r}", f"{expected!r} derived from the name")
    if isinstance(uid, str) and len(uid) > MAX_UID:
        yield Finding(name, "", f"uid has {len(uid)} characters", f"at most {MAX_UID}")


def check_ids(name: str, board: Json, scope: Scope) -> Iterable[Finding]:
    seen: set[Any] = set()
    for panel in iter_panels(board):
        pid = panel.get("id")
        if not isinstance(pid, int):
            yield Finding(name, label(panel), f"id is {pid!r}", "an integer")
        elif pid in seen:
            yield Finding(name, label(panel), f"duplicate panel id {pid}", "unique panel ids")
        seen.add(pid)


def grid_problem(pos: Any) -> str | None:
    if not isinstance(pos, dict) or not all(isinstance(pos.get(k), int) for k in "hwxy"):
        return f"gridPos is {pos!r}"
    if pos["w"] < 1 or pos["h"] < 1 or pos["x"] < 0 or pos["y"] < 0 or pos["x"] + pos["w"] > GRID_WIDTH:
        return f"gridPos {pos} is outside the grid"
    return None


def overlap(a: Json, b: Json) -> bool:
    return bool(
        a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]
    )


def check_grid(name: str, board: Json, scope: Scope) -> Iterable[Finding]:
    placed: list[Json] = []
    for panel in board.get("panels", []):
        problem = grid_problem(panel.get("gridPos"))
        if problem:
            yield Finding(name, label(panel), problem, f"integers h, w >= 1, x, y >= 0, x + w <= {GRID_WIDTH}")
            continue
        for other in placed:
            if overlap(panel["gridPos"], other["gridPos"]):
                yield Finding(name, label(panel), f"overlaps panel {label(other)}", "no overlapping panels")
        placed.append(panel)


def check_types(name: str, board: Json, scope: Scope) -> Iterable[Finding]:
    for panel in iter_panels(board):
        if panel.get("type") not in PANEL_TYPES:
            yield Finding(name, label(panel), f"panel type {panel.get('type')!r}", "a built-in Grafana panel type")


def datasource_problem(source: Any, variables: set[str], provisioned: frozenset[str]) -> str | None:
    if not isinstance(source, dict) or not isinstance(source.get("uid"), str):
        return f"datasource is {source!r}"
    uid = source["uid"]
    match = re.fullmatch(r"\$\{?(\w+)\}?", uid)
    if (match and match.group(1) in variables) or uid in provisioned:
        return None
    return f"datasource uid {uid!r} is neither a datasource variable nor a provisioned datasource"


def check_panels(name: str, board: Json, scope: Scope) -> Iterable[Finding]:
    variables = variable_names(board, "datasource")
    expected_source = f"{{'uid': '${{<datasource variable>}}'}} or one of {sorted(scope.datasources)}"
    for panel in iter_panels(board):
        if panel.get("type") == "row":
            continue
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
        if panel.get("type") not in UNITLESS_TYPES and not unit:
            yield Finding(name, label(panel), "no unit", "fieldConfig.defaults.unit")
        tgts = panel.get("targets") or []
        if not any(t.get("expr") or t.get("query") or t.get(query_key(panel, t)) for t in tgts):
            yield Finding(name, label(panel), "no query", "at least one target with expr, query or (Jaeger) service")
        for source in [panel.get("datasource"), *(t.get("datasource") for t in tgts)]:
            problem = datasource_problem(source, variables, scope.datasources)
            if problem:
                yield Finding(name, label(panel), problem, expected_source)


def templates(board: Json) -> list[Json]:
    return list(board.get("templating", {}).get("list", []))


def variable_names(board: Json, kind: str | None = None) -> set[str]:
    """The names of the dashboard's variables (of type `kind` only, when given)."""
    return {str(t.get("name")) for t in templates(board) if kind is None or t.get("type") == kind}


def check_variable_sources(name: str, board: Json, scope: Scope) -> Iterable[Finding]:
    """A query variable's datasource, and a datasource variable's current value, resolve too."""
    variables = variable_names(board, "datasource")
    for var in templates(board):
        where = f"variable {var.get('name')!r}"
        if var.get("type") == "datasource":
            current = var.get("current", {}).get("value")
            if current and current not in scope.datasources:
                yield Finding(name, where, f"current value {current!r}", f"one of {sorted(scope.datasources)}")
        elif var.get("datasource") is not None:
            problem = datasource_problem(var["datasource"], variables, scope.datasources)
            if problem:
                yield Finding(name, where, problem, f"a datasource variable or one of {sorted(scope.datasources)}")


def used_texts(board: Json) -> Iterator[tuple[str, str]]:
    """(where, text) of every text Grafana interpolates variables in: titles, queries, legends, links."""
    for link in board.get("links", []):
        yield f"link {link.get('title', '')!r}", f"{link.get('title', '')} {link.get('url', '')}"
    for var in templates(board):
        yield f"variable {var.get('name')!r}", str(var.get("query") or "")
    for panel in iter_panels(board):
        texts = [panel.get("title", ""), *(link.get("url", "") for link in panel.get("links", []))]
        for target in panel.get("targets", []):
            texts += [target.get(k) or "" for k in ("expr", "query", "legendFormat")]
        yield label(panel), " ".join(texts)


def check_variables(name: str, board: Json, scope: Scope) -> Iterable[Finding]:
    names = variable_names(board)
    for where, text in used_texts(board):
        for found in USED_VARIABLE.finditer(text):
            used = next(g for g in found.groups() if g)
            if used not in names | GLOBAL_VARIABLES:
                yield Finding(name, where, f"variable ${used} is not defined", f"one of {sorted(names)} or a global")


def link_problem(url: str, dashboards: frozenset[str]) -> str | None:
    if ABSOLUTE_URL.match(url):
        return None
    target = DASHBOARD_PATH.match(url)
    if target is None:
        return f"link {url!r} is neither a dashboard path nor an absolute URL"
    return None if target.group(1) in dashboards else f"link {url!r} names dashboard uid {target.group(1)!r}"


def check_links(name: str, board: Json, scope: Scope) -> Iterable[Finding]:
    """Dashboard links (type link) and panel links resolve to a dashboard of the set or an absolute URL."""
    links = [("", link) for link in board.get("links", []) if link.get("type", "link") == "link"]
    links += [(label(p), link) for p in iter_panels(board) for link in p.get("links", [])]
    for where, link in links:
        problem = link_problem(str(link.get("url", "")), scope.dashboards)
        if problem:
            yield Finding(name, where, problem, f"/d/<uid> of one of {sorted(scope.dashboards)} or http(s)://...")


def check_windows(name: str, board: Json, scope: Scope) -> Iterable[Finding]:
    """A hard-coded window shorter than 4 scrape intervals (the issue's rule, and the same bound
    `Profile.rate_window` enforces) leaves rate() too few samples."""
    shortest = scope.scrape_interval * 4
    for title, expr in promql_queries(board):
        for text in RANGE.findall(expr):
            if text.startswith("$"):
                continue
            try:
                window = Duration.parse(text)
            except ValueError:
                continue  # not a duration; promtool reports it
            if window < shortest:
                yield Finding(name, title, f"range [{window}] in {expr}", f"$__rate_interval or >= {shortest}")


RULES: tuple[Rule, ...] = (
    check_uid, check_ids, check_grid, check_types, check_panels, check_variable_sources, check_variables,
    check_links, check_windows,
)  # fmt: skip


def lint(
    boards: Mapping[str, Json], scrape_interval: Duration, datasources: Iterable[str] | None = None
) -> list[Finding]:
    """Findings of every rule on every dashboard (name = file stem, from which the UID derives). `datasources`:
    the provisioned datasource UIDs (default: the UIDs obsstack provisions, conventions.DATASOURCE_UIDS)."""
    scope = Scope(
        scrape_interval,
        frozenset(c.DATASOURCE_UIDS.values() if datasources is None else datasources),
        frozenset(str(b.get("uid")) for b in boards.values()),
    )
    return [found for name, board in boards.items() for rule in RULES for found in rule(name, board, scope)]


# --- PromQL parse check via promtool -----------------------------------------------------------------


def fill_template(expr: str, window: str, variables: Mapping[str, str], default: str) -> str:
    """The expression as Grafana would run it: interval macros ($__rate_interval, $__range...) replaced by
    `window`, each template variable by its value in `variables`, or `default`. The one macro helper."""
    expr = MACROS.sub(window, expr)
    return VARIABLE.sub(lambda found: variables.get(found.group(1) or found.group(2), default), expr)


def concrete(expr: str) -> str:
    """The expression with Grafana macros and template variables replaced by stand-in values."""
    return fill_template(expr, MACRO_STAND_IN, {}, VARIABLE_STAND_IN)


def expression_rules(queries: Iterable[tuple[str, str]]) -> Json:
    """A rule file holding each expression as a recording rule, so `promtool check rules` parses it."""
    rules = [
        {"record": f"dashboard_query_{i}", "expr": concrete(expr), "labels": {"panel": title}}
        for i, (title, expr) in enumerate(queries)
    ]
    return {"groups": [{"name": "dashboard-queries", "rules": rules}]}
