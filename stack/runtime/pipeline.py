"""End to end through the real collector, Loki and Tempo: one request verify traces itself, followed into every
backend, plus the derived signals (span metrics, service graph, exemplars) and the collector's own counters.

verify sends the request with its own W3C `traceparent`, so it knows the trace id; then, each wait bounded:
- Loki: the request's log line by `trace_id` (LogQL over the OTLP stream `service_name`);
- Tempo: the trace by id, and by a TraceQL search for that id;
- Prometheus: Tempo's span-metrics and service-graph series for the service (remote write);
- Prometheus: an exemplar on the service's latency histogram whose trace id Tempo returns;
- the collector's own metrics: spans and log records accepted, none refused, none failed to send.
A backend that is not running is "skipped" (the report says so; `verify --strict` fails on it).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from stack.runtime.procs import http_ok
from stack.runtime.promapi import PromClient, Unavailable, wait_until

Check = Callable[[], tuple[bool, str]]


@dataclass(frozen=True)
class Lookup:
    name: str
    status: str  # "ok", "failed" or "skipped"
    detail: str = ""


def new_trace() -> tuple[str, str]:
    """(trace id, traceparent header) for a sampled trace."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, f"00-{trace_id}-{span_id}-01"


def backend_json(url: str, params: dict[str, str], what: str, timeout: float = 10) -> Any:
    """The JSON answer of a Loki or Tempo API call; Unavailable (a wait's "not yet") on any failure."""
    try:
        response = httpx.get(url, params=params, timeout=timeout)
    except httpx.HTTPError as exc:
        raise Unavailable(f"{what}: {exc}") from exc
    if response.status_code != 200:
        raise Unavailable(f"{what} HTTP {response.status_code}: {response.text[:200]}")
    return response.json()


def loki_entries(loki: str, query: str, limit: int, start: float | None = None, end: float | None = None) -> int:
    """How many log lines (or samples) a LogQL range query returns, in [start, end] when given."""
    params = {"query": query, "limit": str(limit)}
    if start is not None and end is not None:
        params |= {"start": f"{int(start)}000000000", "end": f"{int(end) + 1}000000000"}
    result = backend_json(f"{loki}/loki/api/v1/query_range", params, "Loki").get("data", {}).get("result", [])
    return sum(len(r.get("values", [])) for r in result)


def tempo_traces(tempo: str, query: str, start: float, end: float, limit: int, **extra: str) -> list[dict[str, Any]]:
    """The traces a TraceQL search finds among those that started in [start, end]."""
    params = {"q": query, "start": str(int(start)), "end": str(int(end) + 1), "limit": str(limit), **extra}
    traces: list[dict[str, Any]] = backend_json(f"{tempo}/api/search", params, "Tempo search").get("traces", [])
    return traces


def loki_has(loki: str, service: str, trace_id: str) -> tuple[bool, str]:
    query = f'{{service_name="{service}"}} | trace_id="{trace_id}"'
    found = loki_entries(loki, query, limit=10)
    return found > 0, f"{found} log lines for {query}"


def tempo_has(tempo: str, trace_id: str) -> tuple[bool, str]:
    body = backend_json(f"{tempo}/api/traces/{trace_id}", {}, f"Tempo, trace {trace_id}", timeout=5)
    spans = body.get("batches") or body.get("resourceSpans") or []
    return bool(spans), f"trace {trace_id} has {len(spans)} resource span groups"


@dataclass(frozen=True)
class Backends:
    prometheus: str
    loki: str
    tempo: str
    collector_job: str = "otelcol"


def ready(url: str) -> bool:
    """Loki or Tempo answers its readiness endpoint."""
    return http_ok(f"{url}/ready", timeout=3)


def tempo_search(tempo: str, trace_id: str, since: float) -> tuple[bool, str]:
    """TraceQL `{ trace:id = "..." }` over Tempo's search API finds the trace.

    Tempo (2.9) matches `trace:id` against the id without its leading zeros, as it writes ids in answers:
    the full id of a trace starting with "0" (1 in 16) finds nothing."""
    query = f'{{ trace:id = "{trace_id.lstrip("0")}" }}'
    traces = tempo_traces(tempo, query, since - 60, time.time() + 60, limit=20)
    found = [t.get("traceID", "").rjust(32, "0") for t in traces]
    return trace_id in found, f"TraceQL {query}: {len(found)} traces"


def series(prom: PromClient, expr: str) -> Check:
    def check() -> tuple[bool, str]:
        result = prom.query(expr)
        return bool(result), f"{len(result)} series for {expr}"

    return check


def exemplar_in_tempo(prom: PromClient, tempo: str, metric: str, service: str, since: float) -> Check:
    """An exemplar of `metric{service}` carries a trace id, and Tempo returns that trace."""

    def check() -> tuple[bool, str]:
        selector = f'{metric}{{service="{service}"}}'
        groups = prom.exemplars(selector, since - 60, time.time())
        ids = [e["labels"].get("trace_id") or e["labels"].get("traceID") for g in groups for e in g["exemplars"]]
        ids = [i for i in ids if i]
        if not ids:
            return False, f"no exemplar with a trace id on {selector}"
        found, detail = tempo_has(tempo, ids[-1])
        return found, f"{len(ids)} exemplars on {selector}; newest: {detail}"

    return check


def collector_clean(prom: PromClient, job: str) -> Check:
    """The collector accepted spans and log records and refused or failed none (its own metrics, scraped)."""
    counters = {
        "accepted spans": f'sum(otelcol_receiver_accepted_spans_total{{job="{job}"}})',
        "accepted log records": f'sum(otelcol_receiver_accepted_log_records_total{{job="{job}"}})',
        "refused spans": f'sum(otelcol_receiver_refused_spans_total{{job="{job}"}})',
        "refused log records": f'sum(otelcol_receiver_refused_log_records_total{{job="{job}"}})',
        "failed spans": f'sum(otelcol_exporter_send_failed_spans_total{{job="{job}"}})',
        "failed log records": f'sum(otelcol_exporter_send_failed_log_records_total{{job="{job}"}})',
    }

    def check() -> tuple[bool, str]:
        values = {name: _scalar(prom.query(expr)) for name, expr in counters.items()}
        accepted = values["accepted spans"] > 0 and values["accepted log records"] > 0
        lost = {name: v for name, v in values.items() if not name.startswith("accepted") and v > 0}
        return accepted and not lost, ", ".join(f"{n} {v:g}" for n, v in values.items())

    return check


def _scalar(result: list[dict[str, Any]]) -> float:
    return float(result[0]["value"][1]) if result else 0.0


def follow_request(
    app: str, path: str, service: str, ends: Backends, histogram: str, timeout: float
) -> list[Lookup]:
    """Send one traced request and follow it through every backend that runs."""
    prom = PromClient(ends.prometheus)
    loki_up, tempo_up = ready(ends.loki), ready(ends.tempo)
    trace_id, traceparent = new_trace()
    since = time.time()
    try:
        httpx.get(f"{app}{path}", headers={"traceparent": traceparent}, timeout=10)
    except httpx.HTTPError as exc:
        return [Lookup("traced request", "failed", f"{app}{path} did not answer: {exc}")]
    checks: list[tuple[str, bool, str, Check]] = [
        ("log line by trace_id in Loki (LogQL)", loki_up, ends.loki, lambda: loki_has(ends.loki, service, trace_id)),
        ("trace by id in Tempo", tempo_up, ends.tempo, lambda: tempo_has(ends.tempo, trace_id)),
        ("trace by TraceQL search in Tempo", tempo_up, ends.tempo, lambda: tempo_search(ends.tempo, trace_id, since)),
        ("Tempo span metrics in Prometheus", tempo_up, ends.tempo,
         series(prom, f'traces_spanmetrics_calls_total{{service="{service}"}}')),
        ("Tempo service graph in Prometheus", tempo_up, ends.tempo,
         series(prom, f'traces_service_graph_request_total{{server="{service}"}}')),
        ("exemplar trace id found in Tempo", tempo_up, ends.tempo,
         exemplar_in_tempo(prom, ends.tempo, histogram, service, since)),
        ("collector: nothing refused or failed", loki_up and tempo_up, "Loki and Tempo",
         collector_clean(prom, ends.collector_job)),
    ]  # fmt: skip
    results = []
    for name, up, where, check in checks:
        if not up:
            results.append(Lookup(name, "skipped", f"not running at {where}"))
            continue
        waited = wait_until(check, timeout, interval=2.0)
        results.append(Lookup(name, "ok" if waited.ok else "failed", waited.last))
    return results


def logql_has_data(loki: str, query: str, start: float, end: float) -> tuple[bool, str]:
    """A dashboard's LogQL returns log lines (or samples) in [start, end]."""
    found = loki_entries(loki, query, limit=5, start=start, end=end)
    return found > 0, f"{found} entries for {query}"


def traceql_has_data(tempo: str, query: str, start: float, end: float) -> tuple[bool, str]:
    """A dashboard's TraceQL search finds traces in [start, end]."""
    found = len(tempo_traces(tempo, query, start, end, limit=5))
    return found > 0, f"{found} traces for {query}"
