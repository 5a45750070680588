"""The log and trace stores as verify reads them: one entry per name `backends.logs` / `backends.traces` may
choose, so every check (the traced request, the pipeline faults, the no-data doctor, presence) looks its store
up here and never branches on a backend.

Each entry knows its readiness URL, the collector exporter that feeds it, and how to ask it, in its own API:
- Loki: LogQL over /loki/api/v1 (the OTLP attribute `trace_id` is structured metadata);
- VictoriaLogs: LogsQL over /select/logsql/query (an OTLP record's trace id is its `trace_id` field, its
  resource attribute service.name the `service.name` field: app/vlinsert/opentelemetry, v1.52.2);
- Tempo: /api/traces/<id> and TraceQL over /api/search;
- Jaeger (v2, memory store): /api/traces/<id>, and /api/traces?service=&start=&end= (microseconds) to search.
Jaeger keeps traces in memory: a restart loses what it stored before (`restart_loses`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from stack import conventions as c
from stack.runtime.promapi import Unavailable
from stack.settings import StackSettings

Target = Mapping[str, Any]  # a dashboard panel's target, its template variables filled in
Found = tuple[bool, str]


def backend_json(url: str, params: dict[str, str], what: str, timeout: float = 10) -> Any:
    """The JSON answer of a store's API call; Unavailable (a wait's "not yet") on any failure."""
    return json.loads(backend_text(url, params, what, timeout))


def backend_text(url: str, params: dict[str, str], what: str, timeout: float = 10) -> str:
    try:
        response = httpx.get(url, params=params, timeout=timeout)
    except httpx.HTTPError as exc:
        raise Unavailable(f"{what}: {exc}") from exc
    if response.status_code != 200:
        raise Unavailable(f"{what} HTTP {response.status_code}: {response.text[:200]}")
    return response.text


# --- Loki (LogQL) -----------------------------------------------------------------------------------------
def loki_entries(loki: str, query: str, limit: int, start: float | None = None, end: float | None = None) -> int:
    """How many log lines (or samples) a LogQL range query returns, in [start, end] when given."""
    params = {"query": query, "limit": str(limit)}
    if start is not None and end is not None:
        params |= {"start": f"{int(start)}000000000", "end": f"{int(end) + 1}000000000"}
    result = backend_json(f"{loki}/loki/api/v1/query_range", params, "Loki").get("data", {}).get("result", [])
    return sum(len(r.get("values", [])) for r in result)


def loki_has(loki: str, service: str, trace_id: str) -> Found:
    query = f'{{service_name="{service}"}} | trace_id="{trace_id}"'
    found = loki_entries(loki, query, limit=10)
    return found > 0, f"{found} log lines for {query}"


def loki_access_lines(loki: str, service: str, start: float, end: float) -> int:
    """Access lines (the one record per request carrying the answer's status) stored for [start, end]."""
    seconds = max(1, round(end - start))
    query = f'sum(count_over_time({{service_name="{service}"}} | status=~".+" [{seconds}s]))'
    params = {"query": query, "time": f"{int(end)}000000000"}
    result = backend_json(f"{loki}/loki/api/v1/query", params, "Loki", timeout=15)["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


def loki_panel(loki: str, target: Target, start: float, end: float) -> Found:
    """A dashboard's LogQL returns log lines (or samples) in [start, end]."""
    found = loki_entries(loki, target["expr"], limit=5, start=start, end=end)
    return found > 0, f"{found} entries for {target['expr']}"


# --- VictoriaLogs (LogsQL) --------------------------------------------------------------------------------
def logsql(base: str, query: str, limit: int, start: float | None = None, end: float | None = None) -> list[Any]:
    """The records (JSON lines) a LogsQL query returns, in [start, end] (unix seconds) when given."""
    params = {"query": query, "limit": str(limit)}
    if start is not None and end is not None:
        params |= {"start": f"{start:.3f}", "end": f"{end:.3f}"}
    text = backend_text(base + c.VICTORIALOGS_QUERY_PATH, params, "VictoriaLogs", timeout=15)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def victorialogs_has(base: str, service: str, trace_id: str) -> Found:
    query = f'"service.name":="{service}" trace_id:="{trace_id}"'
    found = len(logsql(base, query, limit=10))
    return found > 0, f"{found} log records for {query}"


def victorialogs_access_lines(base: str, service: str, start: float, end: float) -> int:
    query = f'"service.name":="{service}" status:* | stats count() as records'
    rows = logsql(base, query, limit=1, start=start, end=end)
    return int(rows[0]["records"]) if rows else 0


def victorialogs_panel(base: str, target: Target, start: float, end: float) -> Found:
    """A dashboard's LogsQL returns records in [start, end]."""
    found = len(logsql(base, target["expr"], limit=5, start=start, end=end))
    return found > 0, f"{found} records for {target['expr']}"


# --- Tempo (TraceQL) --------------------------------------------------------------------------------------
def tempo_traces(tempo: str, query: str, start: float, end: float, limit: int, **extra: str) -> list[dict[str, Any]]:
    """The traces a TraceQL search finds among those that started in [start, end]."""
    params = {"q": query, "start": str(int(start)), "end": str(int(end) + 1), "limit": str(limit), **extra}
    traces: list[dict[str, Any]] = backend_json(f"{tempo}/api/search", params, "Tempo search").get("traces", [])
    return traces


def tempo_has(tempo: str, trace_id: str) -> Found:
    body = backend_json(f"{tempo}/api/traces/{trace_id}", {}, f"Tempo, trace {trace_id}", timeout=5)
    spans = body.get("batches") or body.get("resourceSpans") or []
    return bool(spans), f"trace {trace_id} has {len(spans)} resource span groups"


def tempo_search(tempo: str, service: str, trace_id: str, since: float) -> Found:
    """TraceQL `{ trace:id = "..." }` over Tempo's search API finds the trace.

    Tempo (2.9) matches `trace:id` against the id without its leading zeros, as it writes ids in answers:
    the full id of a trace starting with "0" (1 in 16) finds nothing."""
    query = f'{{ trace:id = "{trace_id.lstrip("0")}" }}'
    traces = tempo_traces(tempo, query, since - 60, time.time() + 60, limit=20)
    found = [t.get("traceID", "").rjust(32, "0") for t in traces]
    return trace_id in found, f"TraceQL {query}: {len(found)} traces"


def tempo_count(tempo: str, service: str, start: float, end: float) -> int:
    service_traces = f'{{ resource.service.name = "{service}" }}'
    traces = tempo_traces(tempo, service_traces, start, end, limit=5000, spss="1")
    return sum(1 for t in traces if start * 1e9 <= int(t.get("startTimeUnixNano", 0)) <= end * 1e9)


def tempo_panel(tempo: str, target: Target, start: float, end: float) -> Found:
    """A dashboard's TraceQL search finds traces in [start, end]."""
    found = len(tempo_traces(tempo, target["query"], start, end, limit=5))
    return found > 0, f"{found} traces for {target['query']}"


# --- Jaeger (its HTTP query API) --------------------------------------------------------------------------
def jaeger_search(base: str, service: str, start: float, end: float, limit: int, **extra: str) -> list[Any]:
    """The traces of `service` with a span starting in [start, end] (Jaeger's search, times in microseconds)."""
    params = {"service": service, "start": str(int(start * 1e6)), "end": str(int(end * 1e6)), "limit": str(limit)}
    found: list[Any] = backend_json(base + c.JAEGER_TRACES_API, params | extra, "Jaeger search", 15)["data"] or []
    return found


def jaeger_has(base: str, trace_id: str) -> Found:
    try:
        body = backend_json(f"{base}{c.JAEGER_TRACES_API}/{trace_id}", {}, f"Jaeger, trace {trace_id}", 5)
    except Unavailable as exc:
        return False, str(exc)  # 404 until the trace is stored
    spans = sum(len(t.get("spans", [])) for t in body.get("data") or [])
    return spans > 0, f"trace {trace_id} has {spans} spans"


def jaeger_find(base: str, service: str, trace_id: str, since: float) -> Found:
    """A search by service and time window (from the request until now) lists the trace."""
    found = [t.get("traceID", "").rjust(32, "0") for t in jaeger_search(base, service, since - 5, time.time(), 5000)]
    return trace_id in found, f"search service={service} since the request: {len(found)} traces"


def jaeger_count(base: str, service: str, start: float, end: float) -> int:
    """Traces whose first span started in [start, end]."""
    traces = jaeger_search(base, service, start, end, 20_000)
    starts = [min((s.get("startTime", 0) for s in t.get("spans", [])), default=0) for t in traces]
    return sum(1 for first in starts if start * 1e6 <= first <= end * 1e6)


def jaeger_panel(base: str, target: Target, start: float, end: float) -> Found:
    """A dashboard's Jaeger search (service, minimum duration, limit) lists traces in [start, end]."""
    extra = {"minDuration": target["minDuration"]} if target.get("minDuration") else {}
    found = len(jaeger_search(base, target["service"], start, end, int(target.get("limit", 20)), **extra))
    return found > 0, f"{found} traces for service={target['service']} {extra}".strip()


# --- the catalogue ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogApi:
    name: str  # backends.logs value and component name
    title: str
    language: str
    health_path: str
    exporter: str  # the collector's exporter id (the `exporter` label of its own metrics)
    panel_type: str  # the Grafana datasource type of its dashboard panels
    has: Callable[[str, str, str], Found]  # (base URL, service, trace id)
    access_lines: Callable[[str, str, float, float], int]  # (base URL, service, start, end)
    panel: Callable[[str, Target, float, float], Found]


@dataclass(frozen=True)
class TraceApi:
    name: str
    title: str
    search: str  # how `find` searches, for the check's name
    health_path: str
    exporter: str
    panel_type: str
    has: Callable[[str, str], Found]  # (base URL, trace id)
    find: Callable[[str, str, str, float], Found]  # (base URL, service, trace id, since)
    traces: Callable[[str, str, float, float], int]  # (base URL, service, start, end)
    panel: Callable[[str, Target, float, float], Found]
    derived_by: str  # who writes span metrics and the service graph to Prometheus
    derived_needs: tuple[str, ...]  # the components that takes
    restart_loses: bool = False  # a restart empties the store (memory storage)


LOG_APIS: dict[str, LogApi] = {
    "loki": LogApi("loki", "Loki", "LogQL", "/ready", "otlphttp/loki", "loki", loki_has, loki_access_lines,
                   loki_panel),
    "victorialogs": LogApi("victorialogs", "VictoriaLogs", "LogsQL", c.VICTORIALOGS_HEALTH_PATH,
                           "otlphttp/victorialogs", "victoriametrics-logs-datasource", victorialogs_has,
                           victorialogs_access_lines, victorialogs_panel),
}  # fmt: skip
TRACE_APIS: dict[str, TraceApi] = {
    "tempo": TraceApi("tempo", "Tempo", "TraceQL search", "/ready", "otlp/tempo", "tempo", tempo_has, tempo_search,
                      tempo_count, tempo_panel, "Tempo's metrics generator", ("otelcol", "tempo")),
    # the query API answers once the memory store serves it (the UI's own list of services)
    "jaeger": TraceApi("jaeger", "Jaeger", "search by service and time", "/api/services", "otlp/jaeger", "jaeger",
                       jaeger_has, jaeger_find, jaeger_count, jaeger_panel,
                       "the collector's connectors", ("otelcol",),
                       restart_loses=True),
}  # fmt: skip


def log_api(settings: StackSettings) -> LogApi:
    return LOG_APIS[settings.backends.logs]


def trace_api(settings: StackSettings) -> TraceApi:
    return TRACE_APIS[settings.backends.traces]


def base_url(settings: StackSettings, name: str) -> str:
    """Where a store answers on this host (local processes, or compose's published ports)."""
    return f"http://127.0.0.1:{getattr(settings.components, name).port}"


def health_urls(settings: StackSettings) -> dict[str, str]:
    """The readiness URL of every store of the catalogue, chosen or not."""
    apis: list[LogApi | TraceApi] = [*LOG_APIS.values(), *TRACE_APIS.values()]
    return {api.name: base_url(settings, api.name) + api.health_path for api in apis}


def pipeline(settings: StackSettings) -> tuple[str, ...]:
    """The components telemetry passes through after the app, in the order --pipeline-faults stops them: the
    collector, then the chosen log store, then the chosen trace store."""
    return ("otelcol", log_api(settings).name, trace_api(settings).name)


def span_metric_series(settings: StackSettings, service: str) -> tuple[str, str]:
    """The span-metrics and service-graph selectors of `service`, as the chosen trace store's setup writes them."""
    names = c.SPAN_METRICS[settings.backends.traces]
    return f'{names.calls}{{{names.service_label}="{service}"}}', f'{names.graph_requests}{{server="{service}"}}'
