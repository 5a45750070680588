"""End to end through the real collector and the chosen stores: one request verify traces itself, followed into
every store of the stack, plus the derived signals (span metrics, service graph, exemplars) and the collector's
own counters. Which store answers which lookup, and in what language, is its entry of stores.py.

verify sends the request with its own W3C `traceparent`, so it knows the trace id; then, each wait bounded:
- the collector's own metrics: more spans and log records accepted since the request, none refused, none failed
  to send to a store of the stack;
- Prometheus: an exemplar with a trace id on the service's latency histogram;
- the log store: the request's log line by `trace_id` (LogQL in Loki, LogsQL in VictoriaLogs);
- the trace store: the trace by id, and found by a search (TraceQL in Tempo; service and time in Jaeger); the
  newest exemplar's trace;
- Prometheus: the span-metrics and service-graph series of the service (Tempo's metrics generator, or the
  collector's connectors for Jaeger).
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
from stack.runtime.stores import LOG_APIS, TRACE_APIS, LogApi, TraceApi, log_api, span_metric_series, trace_api
from stack.settings import StackSettings

Check = Callable[[], tuple[bool, str]]
REMOTE_WRITE = "prometheusremotewrite"  # the collector's exporter to Prometheus (span metrics, service graph)


@dataclass(frozen=True)
class Lookup:
    name: str
    status: Status
    detail: str = ""


def new_trace() -> tuple[str, str]:
    """(trace id, traceparent header) for a sampled trace."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, f"00-{trace_id}-{span_id}-01"


@dataclass(frozen=True)
class Backends:
    """Where verify reads telemetry: Prometheus, the chosen log and trace stores (base URLs and catalogue
    entries), the collector's own metrics, and which components are part of the stack."""

    prometheus: str
    logs: str
    traces: str
    presence: Presence
    log_store: LogApi = LOG_APIS["loki"]
    trace_store: TraceApi = TRACE_APIS["tempo"]
    collector_job: str = "otelcol"
    collector_metrics: str = ""  # the collector's own /metrics, read directly (local mode)
    span_series: Callable[[str], tuple[str, str]] = lambda service: ("", "")  # service -> its derived series
    # the services whose log lines the collector reads from their log file when the stack runs as local processes
    # (where the pipeline faults run): a collector outage must lose none of their lines
    file_logs: frozenset[str] = frozenset()

    @classmethod
    def of(cls, settings: StackSettings, urls: tuple[str, str, str], presence: Presence, collector: str) -> Backends:
        """`urls`: Prometheus, the log store, the trace store; `collector`: the collector's own metrics."""
        return cls(*urls, presence, log_api(settings), trace_api(settings), collector_metrics=collector,
                   span_series=lambda service: span_metric_series(settings, service),
                   file_logs=frozenset(s.name for s in settings.services if s.logs_by_file(local=True)))  # fmt: skip

    def exporters(self) -> tuple[str, ...]:
        """The collector's exporters to stores of the stack: their send failures are losses; an exporter to a
        store that is not part of the stack fails by design and is not counted."""
        stores = (self.log_store, self.trace_store)
        return (REMOTE_WRITE, *(s.exporter for s in stores if self.presence.expected(s.name)))


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


def exemplar_in_store(prom: PromClient, ends: Backends, metric: str, service: str, since: float) -> Check:
    """The trace store returns the trace of the newest exemplar on `metric{service}`."""

    def check() -> tuple[bool, str]:
        ids, selector = exemplar_ids(prom, metric, service, since)
        if not ids:
            return False, f"no exemplar with a trace id on {selector}"
        found, detail = ends.trace_store.has(ends.traces, ids[-1])
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
    """Each lookup of the traced request, with the components it needs beside Prometheus and the app, named
    after the chosen stores."""
    prom, logs, traces = PromClient(ends.prometheus), ends.log_store, ends.trace_store
    calls, graph = ends.span_series(service)
    on_logs, on_traces = ("otelcol", logs.name), ("otelcol", traces.name)
    return [
        ("collector accepted the request's spans and log records, lost none (its own counters)", ("otelcol",),
         collector_received(prom, ends, before)),
        (f"exemplar with a trace id on {histogram} in Prometheus", (),
         exemplar_has_trace(prom, histogram, service, since)),
        (f"log line by trace_id in {logs.title} ({logs.language})", on_logs,
         lambda: logs.has(ends.logs, service, trace_id)),
        (f"trace by id in {traces.title}", on_traces, lambda: traces.has(ends.traces, trace_id)),
        (f"trace by {traces.search} in {traces.title}", on_traces,
         lambda: traces.find(ends.traces, service, trace_id, since)),
        (f"span metrics in Prometheus ({traces.derived_by})", traces.derived_needs, series(prom, calls)),
        (f"service graph in Prometheus ({traces.derived_by})", traces.derived_needs, series(prom, graph)),
        (f"exemplar's trace found in {traces.title}", on_traces,
         exemplar_in_store(prom, ends, histogram, service, since)),
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
