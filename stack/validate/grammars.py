"""`obsstack validate` parses every LogQL and TraceQL query obsstack writes with Grafana's own lezer
grammars (@grafana/lezer-logql, @grafana/lezer-traceql; stack/checkers/lezer/, installed into the component cache
by `obsstack components build lezer`). Lezer recovers from errors, so any error node is a finding.

Queries: dashboard targets on the Loki (`expr`) and Tempo (`query`, TraceQL) data sources, in the
dashboards directory and in the Kubernetes dashboard ConfigMaps; the Loki derived fields' internal links
(their `url` is the query run on the linked data source; the matcher regex is not LogQL); Tempo's
trace-to-logs custom query; correlations' target queries. Grafana's macros and template variables are
replaced by plausible values first (`$$` in provisioning files is Grafana's escape of a literal `$`).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stack.dashlint import MACRO_STAND_IN, VARIABLE_STAND_IN, fill_template, iter_panels
from stack.settings import StackSettings
from stack.tools import TOOL_TIMEOUT, CheckResult, cache_root, find_tool, in_ci, missing
from stack.validate.provisioning import (
    DASHBOARD_LABEL,
    Provisioned,
    configmaps,
    datasource_sets,
    provisioned,
    source_types,
)

Json = dict[str, Any]
NAME = "LogQL/TraceQL grammars"
LEZER_SOURCE = Path(__file__).resolve().parents[1] / "checkers" / "lezer"
LEZER_FILES = ("package.json", "package-lock.json", "check.mjs")
SAMPLE_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SAMPLE_SPAN_ID = "00f067aa0ba902b7"
# Grafana's data-link macros (dotted names fill_template does not read), as a link would fill them
DOTTED = re.compile(r"\$\{(__[A-Za-z_][\w.]*)(?::\w+)?\}")
MACRO_VALUES = {
    "__trace.traceId": SAMPLE_TRACE_ID,
    "__span.spanId": SAMPLE_SPAN_ID,
    "__value.raw": SAMPLE_TRACE_ID,
    "__value.text": SAMPLE_TRACE_ID,
}
TRACE_ID = re.compile(r"[0-9a-fA-F]{16,32}")
LANGUAGE = {"loki": "logql", "tempo": "traceql", "victoriametrics-logs-datasource": "logsql", "jaeger": "jaeger-search"}
# No published grammar: LogsQL (VictoriaLogs publishes none) and Jaeger's search (a form, not a language).
# Their queries are counted here, never parsed; the runtime's no-data doctor executes each against the store.
UNPARSED = frozenset({"logsql", "jaeger-search"})
QUERY_KEY = {"loki": "expr", "victoriametrics-logs-datasource": "expr", "jaeger": "service"}
QUERY_TYPES = (None, "range", "instant", "traceql", "search")  # Loki's and VictoriaLogs' query types, Tempo's
# TraceQL (not its builders), Jaeger's search


@dataclass(frozen=True)
class Query:
    """A query and where it is written, for messages."""

    where: str
    language: str  # logql | traceql
    text: str  # as written
    concrete: str  # macros and variables replaced


# --- the checker in the component cache -----------------------------------------------------------------
def lezer_version(source: Path = LEZER_SOURCE) -> str:
    """The cache key of the checker: a digest of its package files and script (a change installs anew)."""
    digest = hashlib.sha256()
    for name in LEZER_FILES:
        digest.update(name.encode() + b"\0" + (source / name).read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def lezer_dir(source: Path = LEZER_SOURCE) -> Path:
    return cache_root() / "components" / f"lezer-{lezer_version(source)}"


def installed_checker() -> Path | None:
    """check.mjs of the installed checker, when `obsstack components build lezer` made it."""
    if not LEZER_SOURCE.is_dir():
        return None
    script = lezer_dir() / "check.mjs"
    return script if script.is_file() and (lezer_dir() / "node_modules").is_dir() else None


# --- substitution ---------------------------------------------------------------------------------------
def concrete(text: str, variables: Mapping[str, str], tags: str = "") -> str:
    """The query as Grafana would run it: data-link macros, `${__tags}`, interval macros, then template
    variables (their current value, else a stand-in) replaced."""
    values = {**MACRO_VALUES, "__tags": tags or f'service_name="{VARIABLE_STAND_IN}"'}
    text = DOTTED.sub(lambda found: values.get(found.group(1), VARIABLE_STAND_IN), text)
    return fill_template(text, MACRO_STAND_IN, {**variables, "__tags": values["__tags"]}, VARIABLE_STAND_IN)


def unescape(text: str) -> str:
    """A provisioning value as Grafana reads it: `$$` is a literal `$`."""
    return text.replace("$$", "$")


# --- dashboards -----------------------------------------------------------------------------------------
def board_variables(board: Json) -> tuple[dict[str, str], dict[str, str]]:
    """(variable -> plausible value, datasource variable -> plugin type) of a dashboard."""
    values, plugins = {}, {}
    for var in board.get("templating", {}).get("list", []):
        current = str((var.get("current") or {}).get("value") or "")
        if re.fullmatch(r"[\w.-]+", current):
            values[var.get("name", "")] = current
        if var.get("type") == "datasource":
            plugins[var.get("name", "")] = str(var.get("query", ""))
    return values, plugins


def source_type(source: Any, uid_types: Mapping[str, str], plugins: Mapping[str, str]) -> str | None:
    """The data source type a panel or target reference means: its type, else by provisioned UID or name,
    else the plugin of the datasource variable it names."""
    if isinstance(source, str):
        return uid_types.get(source)
    if not isinstance(source, dict):
        return None
    uid = str(source.get("uid", ""))
    variable = re.fullmatch(r"\$\{?(\w+)\}?", uid)
    return source.get("type") or uid_types.get(uid) or (plugins.get(variable.group(1)) if variable else None)


def board_queries(name: str, board: Json, uid_types: Mapping[str, str]) -> Iterator[Query]:
    """The LogQL and TraceQL targets of one dashboard."""
    values, plugins = board_variables(board)
    for panel in iter_panels(board):
        for target in panel.get("targets") or []:
            kind = source_type(target.get("datasource") or panel.get("datasource"), uid_types, plugins)
            text = target.get(QUERY_KEY.get(kind or "", "query"))
            if kind not in LANGUAGE or not isinstance(text, str) or target.get("queryType") not in QUERY_TYPES:
                continue
            where = f"dashboard {name} panel {panel.get('title', '')!r} target {target.get('refId', '')}"
            yield Query(where, LANGUAGE[kind], text, concrete(text, values))


def dashboards(stage: Path, settings: StackSettings) -> dict[str, dict[str, Json]]:
    """target name -> {dashboard name -> dashboard} for compose (the dashboards dir) and Kubernetes."""
    folder = stage / settings.output.dashboards_dir
    compose = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}
    kubernetes = {
        f"{file} data.{key}": json.loads(text) for file, key, text in configmaps(stage, settings, DASHBOARD_LABEL)
    }
    return {name: boards for name, boards in (("compose", compose), ("kubernetes", kubernetes)) if boards}


# --- provisioning ---------------------------------------------------------------------------------------
def link_query(where: str, kind: str | None, text: str, tags: str = "") -> Iterator[Query]:
    if kind in LANGUAGE:
        yield Query(where, LANGUAGE[kind], text, concrete(unescape(text), {}, tags))


def parsed(queries: list[Query]) -> list[Query]:
    """The queries a published grammar can parse (LogQL, TraceQL)."""
    return [q for q in queries if q.language not in UNPARSED]


def tag_filter(tags: list[Any]) -> str:
    """`${__tags}` as trace to logs fills it: each mapped tag as `label="value"`."""
    names = [re.sub(r"\W", "_", tag.value or tag.key) for tag in tags]
    return ", ".join(f'{label}="{VARIABLE_STAND_IN}"' for label in names)


def datasource_queries(item: Provisioned, uid_types: Mapping[str, str]) -> Iterator[Query]:
    """The LogQL/TraceQL of one data source's links: derived fields, trace to logs, correlations."""
    data, where = item.json_data, f"{item.where}: {item.source.name}"
    for i, field in enumerate(getattr(data, "derivedFields", ())):
        if field.datasourceUid:
            kind = uid_types.get(field.datasourceUid)
            yield from link_query(f"{where} derivedFields[{i}].url", kind, field.url)
    logs = getattr(data, "tracesToLogsV2", None)
    if logs is not None and logs.customQuery and logs.query:
        kind = uid_types.get(logs.datasourceUid)
        yield from link_query(f"{where} tracesToLogsV2.query", kind, logs.query, tag_filter(logs.tags))
    for i, correlation in enumerate(item.source.correlations):
        kind = uid_types.get(correlation.targetUID)
        text = correlation.config.target.get("expr" if kind == "loki" else "query")
        if isinstance(text, str):
            yield from link_query(f"{where} correlations[{i}].config.target", kind, text)


def linked_promql(stage: Path, settings: StackSettings) -> list[tuple[str, str]]:
    """(where, PromQL) of Tempo's trace-to-metrics queries, `$$` unescaped and `$__tags` filled from the
    tag mapping: for promtool, which parses PromQL (the dashboards' own PromQL is read elsewhere)."""
    found = []
    for docs in datasource_sets(stage, settings).values():
        for item in provisioned(docs):
            metrics = getattr(item.json_data, "tracesToMetrics", None)
            if metrics is None:
                continue
            for i, query in enumerate(metrics.queries):
                text = concrete(unescape(query.query), {}, tag_filter(metrics.tags))
                found.append((f"{item.where}: {item.source.name} tracesToMetrics.queries[{i}]", text))
    return found


def all_queries(stage: Path, settings: StackSettings) -> list[Query]:
    """Every LogQL/TraceQL query of every target; UIDs resolve within the target's own provisioning."""
    sets = datasource_sets(stage, settings)
    found: list[Query] = []
    for target, boards in dashboards(stage, settings).items():
        uid_types = source_types(provisioned(sets.get(target, [])))
        found += [q for name, board in boards.items() for q in board_queries(name, board, uid_types)]
    for docs in sets.values():
        sources = provisioned(docs)
        found += [q for item in sources for q in datasource_queries(item, source_types(sources))]
    return found


# --- running the grammars -------------------------------------------------------------------------------
def finding(query: Query, error: Json) -> str:
    return (
        f"{query.where}: {query.language} syntax error at line {error['line']} column {error['column']} "
        f"near {error['near']!r} in {query.concrete!r}"
    )


def parse(node: str, script: Path, queries: list[Query]) -> list[str]:
    """One line per error node the grammars find; trace IDs given as a Tempo link's query are not TraceQL."""
    todo = [q for q in queries if not (q.language == "traceql" and TRACE_ID.fullmatch(q.concrete.strip()))]
    items = [{"id": str(i), "language": q.language, "query": q.concrete} for i, q in enumerate(todo)]
    done = subprocess.run(
        [node, script.name], cwd=script.parent, input=json.dumps(items), capture_output=True, text=True,
        timeout=TOOL_TIMEOUT, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return [f"{script} exited {done.returncode}: {done.stderr.strip()[-2000:]}"]
    answers = json.loads(done.stdout)
    return [finding(todo[int(a["id"])], error) for a in answers for error in a["errors"]]


def check_grammars(stage: Path, settings: StackSettings) -> list[CheckResult]:
    node = find_tool("node")
    if node is None:
        fix = "node not found; install Node.js >= 20 (Debian: apt-get install nodejs npm)"
        return [CheckResult(NAME, "failed" if in_ci() else "skipped", fix)]
    script = installed_checker()
    if script is None:
        return [missing(NAME, "lezer")]
    found = all_queries(stage, settings)
    queries = parsed(found)
    errors = parse(node, script, queries)
    ids = sum(q.language == "traceql" and bool(TRACE_ID.fullmatch(q.concrete.strip())) for q in queries)
    logql = sum(q.language == "logql" for q in queries)
    counts = f"parsed {logql} LogQL and {len(queries) - logql - ids} TraceQL queries; {ids} trace-id links"
    counts += unparsed_note(found)
    shown = "; ".join(errors[:20]) + (f"; ... {len(errors) - 20} more" if len(errors) > 20 else "")
    return [CheckResult(NAME, "failed" if errors else "ok", shown or counts)]


def unparsed_note(found: list[Query]) -> str:
    """What was not parsed, said so: LogsQL and Jaeger searches have no published grammar."""
    logsql = sum(q.language == "logsql" for q in found)
    jaeger = sum(q.language == "jaeger-search" for q in found)
    if not logsql and not jaeger:
        return ""
    return (f"; not parsed (no published grammar): {logsql} LogsQL queries, {jaeger} Jaeger searches, "
            "executed by the runtime's no-data doctor instead")  # fmt: skip
