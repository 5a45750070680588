"""End to end through the real collector, Loki and Tempo: one request verify traces itself, followed into every
backend, plus the derived signals (span metrics, service graph, exemplars) and the collector's own counters.

verify sends the request with its own W3C `traceparent`, so it knows the trace id; then, each wait bounded:
- the collector's own metrics: more spans and log records accepted since the request, none refused, none failed
  to send to a backend of the stack;
- Prometheus: an exemplar with a trace id on the service's latency histogram;
- Loki: the request's log line by `trace_id` (LogQL over the OTLP stream `service_name`);
- Tempo: the trace by id, and by a TraceQL search for that id; the newest exemplar's trace;
- Prometheus: Tempo's span-metrics and service-graph series for the service (remote write).
A lookup needing a component that is not part of the running stack is "n/a"; one needing a component of the
stack that does not answer is "skipped" (`verify --strict`: failed). See presence.py.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from stack.runtime.presence import Presence, Status
from stack.runtime.promapi import PromClient, Unavailable, wait_until

Check = Callable[[], tuple[bool, str]]
# the generated collector config's exporter ids (the `exporter` label of its own metrics), by backend
EXPORTERS = {"prometheus": "prometheusremotewrite", "loki": "otlphttp/loki", "tempo": "otlp/tempo"}


@dataclass(frozen=True)
class Lookup:
    name: str
    status: Status
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
    presence: Presence
    collector_job: str = "otelcol"
    collector_metrics: str = ""  # the collector's own /metrics, read directly (local mode)

    def exporters(self) -> tuple[str, ...]:
        """The collector's exporters to backends of the stack: their send failures are losses; an exporter to a
        backend that is not part of the stack fails by design and is not counted."""
        ours = [backend for backend in EXPORTERS if backend == "prometheus" or self.presence.expected(backend)]
        return tuple(EXPORTERS[backend] for backend in ours)


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


def exemplar_ids(prom: PromClient, metric: str, service: str, since: float) -> tuple[list[str], str]:
    """The trace ids of the exemplars on `metric{service}` since `since` (Prometheus only), and the selector."""
    selector = f'{metric}{{service="{service}"}}'
    groups = prom.exemplars(selector, since - 60, time.time())
    ids = [e["labels"].get("trace_id") or e["labels"].get("traceID") for g in groups for e in g["exemplars"]]
    return [i for i in ids if i], selector


def exemplar_has_trace(prom: PromClient, metric: str, service: str, since: float) -> Check:
    """The latency histogram carries exemplars with a trace id, in Prometheus (`/api/v1/query_exemplars`)."""

    def check() -> tuple[bool, str]:
        ids, selector = exemplar_ids(prom, metric, service, since)
        return bool(ids), f"{len(ids)} exemplars with a trace id on {selector}" + (f", newest {ids[-1]}" if ids else "")

    return check


def exemplar_in_tempo(prom: PromClient, tempo: str, metric: str, service: str, since: float) -> Check:
    """Tempo returns the trace of the newest exemplar on `metric{service}`."""

    def check() -> tuple[bool, str]:
        ids, selector = exemplar_ids(prom, metric, service, since)
        if not ids:
            return False, f"no exemplar with a trace id on {selector}"
        found, detail = tempo_has(tempo, ids[-1])
        return found, f"{len(ids)} exemplars on {selector}; newest: {detail}"

    return check


def counter(name: str, matchers: str) -> str:
    """The sum of one of the collector's own counters. Its Prometheus endpoint names counters without `_total`
    (0.165: `otelcol_receiver_accepted_spans`), earlier releases with it: either is matched."""
    return f'sum({{__name__=~"{name}(_total)?",{matchers}}})'


def collector_counters(prom: PromClient, job: str, exporters: tuple[str, ...]) -> dict[str, float]:
    """The collector's own counters as Prometheus scraped them: accepted and refused by its receiver, failed to
    send by `exporters` (those whose backend is part of the stack)."""
    ours, scope = f'job="{job}"', f'job="{job}",exporter=~"{"|".join(exporters)}"'
    exprs = {
        "accepted spans": counter("otelcol_receiver_accepted_spans", ours),
        "accepted log records": counter("otelcol_receiver_accepted_log_records", ours),
        "refused spans": counter("otelcol_receiver_refused_spans", ours),
        "refused log records": counter("otelcol_receiver_refused_log_records", ours),
        "failed spans": counter("otelcol_exporter_send_failed_spans", scope),
        "failed log records": counter("otelcol_exporter_send_failed_log_records", scope),
        "failed metric points": counter("otelcol_exporter_send_failed_metric_points", scope),
    }
    return {name: _scalar(prom.query(expr)) for name, expr in exprs.items()}


def collector_received(prom: PromClient, ends: Backends, before: dict[str, float]) -> Check:
    """Since the traced request was sent, the collector accepted more spans and log records; it refused none,
    and sent everything to the backends of the stack (its own counters)."""
    exporters = ends.exporters()

    def check() -> tuple[bool, str]:
        values = collector_counters(prom, ends.collector_job, exporters)
        grew = all(values[k] > before.get(k, 0.0) for k in ("accepted spans", "accepted log records"))
        lost = {name: v for name, v in values.items() if not name.startswith("accepted") and v > 0}
        sent_to = ", ".join(exporters)
        return grew and not lost, ", ".join(f"{n} {v:g}" for n, v in values.items()) + f" (exporters {sent_to})"

    return check


def _scalar(result: list[dict[str, Any]]) -> float:
    return float(result[0]["value"][1]) if result else 0.0


Needs = tuple[str, ...]


def _lookups(service: str, trace_id: str, since: float, ends: Backends, histogram: str,
             before: dict[str, float]) -> list[tuple[str, Needs, Check]]:  # fmt: skip
    """Each lookup of the traced request, with the components it needs beside Prometheus and the app."""
    prom, loki, tempo = PromClient(ends.prometheus), ends.loki, ends.tempo
    return [
        ("collector accepted the request's spans and log records, lost none (its own counters)", ("otelcol",),
         collector_received(prom, ends, before)),
        (f"exemplar with a trace id on {histogram} in Prometheus", (),
         exemplar_has_trace(prom, histogram, service, since)),
        ("log line by trace_id in Loki (LogQL)", ("otelcol", "loki"), lambda: loki_has(loki, service, trace_id)),
        ("trace by id in Tempo", ("otelcol", "tempo"), lambda: tempo_has(tempo, trace_id)),
        ("trace by TraceQL search in Tempo", ("otelcol", "tempo"), lambda: tempo_search(tempo, trace_id, since)),
        ("Tempo span metrics in Prometheus", ("otelcol", "tempo"),
         series(prom, f'traces_spanmetrics_calls_total{{service="{service}"}}')),
        ("Tempo service graph in Prometheus", ("otelcol", "tempo"),
         series(prom, f'traces_service_graph_request_total{{server="{service}"}}')),
        ("exemplar's trace found in Tempo", ("otelcol", "tempo"),
         exemplar_in_tempo(prom, tempo, histogram, service, since)),
    ]  # fmt: skip


def follow_request(app: str, path: str, service: str, ends: Backends, histogram: str, timeout: float) -> list[Lookup]:
    """Send one traced request and follow it into every backend; a lookup needing a component that does not
    answer is "n/a" (not part of this stack), "skipped" or "failed" (--strict) as `ends.presence` says."""
    trace_id, traceparent = new_trace()
    since = time.time()
    try:
        before = collector_counters(PromClient(ends.prometheus), ends.collector_job, ends.exporters())
    except Unavailable:
        before = {}
    try:
        httpx.get(f"{app}{path}", headers={"traceparent": traceparent}, timeout=10)
    except httpx.HTTPError as exc:
        return [Lookup("traced request", "failed", f"{app}{path} did not answer: {exc}")]
    results = []
    for name, needs, check in _lookups(service, trace_id, since, ends, histogram, before):
        gate = ends.presence.gate(needs)
        if gate is not None:
            results.append(Lookup(name, *gate))
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
