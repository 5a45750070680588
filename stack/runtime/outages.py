"""Pipeline faults: under steady traffic, stop the collector, then the log store, then the trace store (those of
them `up` started; stores.pipeline), one at a time, and start each again. The service must answer every request
without errors or added latency (its exports are asynchronous), telemetry must resume once the component is
back, and the report says what was lost.

"Resumed": a new traced request reaches the collector (its own accepted-spans counter, read on its metrics
port, grows) and every store of the stack (its log line, its trace). "Lost" is measured, not assumed: the
requests sent during the outage against the access log lines the log store and the traces the trace store hold
for that window (when they are part of the stack), after the collector's retries had time to flush, plus the
collector's own counters of data it failed to send or could not queue to a store of the stack.

Jaeger (memory storage) loses what it stored before a restart: after its own outage it holds only what
arrived since, which includes the outage window the collector's queue delivers once it is back; that window
is what is counted, and the report says the earlier traces went with the restart.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from stack.runtime.pipeline import Backends, counter, new_trace
from stack.runtime.promapi import PromClient, Unavailable, wait_until
from stack.runtime.traffic import Traffic, Window

BASELINE_S = 10.0
OUTAGE_S = 15.0
RESUME_TIMEOUT = 120.0
# after telemetry resumed, the stores' counts for the outage window are read until each holds a record per request
# sent, or until they stop growing: the collector's queued retries back off up to 15s (RETRY.max_interval, with
# +-50 % jitter), so a count unchanged for STEADY_S gets nothing more; SETTLE_S bounds the whole wait
SETTLE_S, STEADY_S, POLL_S = 90.0, 25.0, 5.0
# a request that starts inside the window and logs after it (or the reverse) is counted on one side only: at
# 30 requests/s and ~80 ms each, two or three per window; a real loss (the queue's) is a tenth of the window
EDGE_SHARE, EDGE_MIN = 0.01, 2
LATENCY_SLACK_S = 0.025  # p95 during an outage may exceed the baseline's by 50 % plus this (2-core noise)
LOG_LINES = "access log lines"  # what the log store holds for an outage window, one per request
ARRIVAL_S = 8.0  # how long one probe request is looked for (the app exports spans every few seconds)
LOSS_COUNTERS = (
    "otelcol_exporter_send_failed_spans", "otelcol_exporter_send_failed_log_records",
    "otelcol_exporter_enqueue_failed_spans", "otelcol_exporter_enqueue_failed_log_records",
    "otelcol_exporter_send_failed_metric_points", "otelcol_exporter_enqueue_failed_metric_points",
)  # fmt: skip
ACCEPTED_SPANS = re.compile(r"otelcol_receiver_accepted_spans(_total)?[{ ]")  # a sample line, either name


@dataclass
class Outage:
    component: str
    baseline: Window | None = None
    during: Window | None = None
    resumed_s: float | None = None
    stored: dict[str, int] = field(default_factory=dict)  # log lines / traces stored for the outage window
    collector_lost: dict[str, float] = field(default_factory=dict)
    ok: bool = False
    detail: str = ""
    note: str = ""  # what the outage cost by design (a memory store's earlier data)

    def lost_text(self) -> str:
        sent = self.during.requests if self.during else 0
        stored = ", ".join(f"{v} {k}" for k, v in self.stored.items()) or "not measured (no log or trace store runs)"
        counters = ", ".join(f"{k} {v:g}" for k, v in self.collector_lost.items() if v) or "no collector drops"
        note = f"; {self.note}" if self.note else ""
        return f"{sent} requests sent during the outage; stored for that window: {stored}; {counters}{note}"


@dataclass(frozen=True)
class Switch:
    """How to stop and start one component of the running stack (local processes), and which it can."""

    stop: Callable[[str], None]
    start: Callable[[str], None]
    components: tuple[str, ...] = ()  # those of stores.pipeline(settings) this stack started, in that order


@dataclass(frozen=True)
class Target:
    """The service under steady traffic, and the route a traced probe request uses."""

    traffic: Traffic
    service: str
    path: str


def run_outages(switch: Switch, target: Target, ends: Backends, say: Callable[[str], None]) -> list[Outage]:
    """One outage per component the switch can stop, in its order (collector, log store, trace store)."""
    prom = PromClient(ends.prometheus)
    return [_one(name, switch, target, ends, prom, say) for name in switch.components]


def _one(name: str, switch: Switch, target: Target, ends: Backends, prom: PromClient,
         say: Callable[[str], None]) -> Outage:  # fmt: skip
    traffic, service = target.traffic, target.service
    outage = Outage(name)
    start = time.time()
    time.sleep(BASELINE_S)
    outage.baseline = traffic.window(start, time.time())
    before = _counters(prom, ends)
    say(f"...  pipeline fault: stopping {name} for {OUTAGE_S:.0f}s under traffic")
    switch.stop(name)
    down_at = time.time()
    try:
        time.sleep(OUTAGE_S)
    finally:
        up_at = time.time()
        switch.start(name)
    outage.during = traffic.window(down_at, up_at)
    probe = traffic.base_url + target.path
    resumed = wait_until(lambda: _traced_request_arrives(probe, service, ends), RESUME_TIMEOUT, 1.0)
    outage.resumed_s = round(resumed.seconds, 1) if resumed.ok else None
    outage.stored = _settled(ends, service, (down_at, up_at), outage.during.requests)
    after = _counters(prom, ends)
    # a restarted collector starts its counters at zero again
    outage.collector_lost = {k.removeprefix("otelcol_exporter_"): v - before[k] if v >= before[k] else v
                             for k, v in after.items()}  # fmt: skip
    if name == ends.trace_store.name and ends.trace_store.restart_loses:
        outage.note = (f"{ends.trace_store.title} keeps traces in memory: those stored before its restart are "
                       "gone (the outage window's arrive from the collector's queue)")  # fmt: skip
    outage.detail = _verdict(outage, resumed.last, _kept(name, service, ends, outage))
    outage.ok = not outage.detail
    say(f"{'ok  ' if outage.ok else 'FAIL'} pipeline fault {name}: {_summary(outage)}")
    return outage


def _kept(name: str, service: str, ends: Backends, outage: Outage) -> tuple[str, ...]:
    """What the outage of `name` must not lose, of what the stores hold for its window: everything, for a store's
    outage (the collector queues and retries what the store cannot take); the access log lines of a service whose
    log file the collector reads, for the collector's own outage (it reads on from its checkpoint once back). The
    traces a service sends while the collector is down are dropped by its exporter (the report counts them)."""
    if name in (ends.log_store.name, ends.trace_store.name):
        return tuple(outage.stored)
    if service in ends.file_logs:
        outage.note = "log lines read from the service's log file from the collector's checkpoint once it was back"
        return tuple(kind for kind in outage.stored if kind.startswith(LOG_LINES))
    return ()


def _verdict(outage: Outage, last: str, kept: tuple[str, ...] = ()) -> str:
    """What went wrong in one outage; of the records in `kept` (what the stores hold for its window, by kind) it
    must also lose nothing (edge records aside: requests straddling the window's edges, 1 %, at least 2)."""
    base, during = outage.baseline, outage.during
    assert base is not None
    assert during is not None
    problems = []
    if during.requests == 0:
        problems.append("no request was sent during the outage")
    if during.errors:
        problems.append(f"{during.errors} requests failed during the outage")
    if during.p95_s > base.p95_s * 1.5 + LATENCY_SLACK_S:
        problems.append(f"p95 rose from {base.p95_s * 1000:.0f} ms to {during.p95_s * 1000:.0f} ms")
    if outage.resumed_s is None:
        problems.append(f"telemetry did not resume within {RESUME_TIMEOUT:.0f}s: {last}")
    edge = max(EDGE_MIN, round(during.requests * EDGE_SHARE))
    lost = {kind: during.requests - n for kind, n in outage.stored.items() if during.requests - n > edge}
    lost = {kind: n for kind, n in lost.items() if kind in kept}
    if lost:
        problems.append(f"the {outage.component} outage lost " + ", ".join(f"{n} of {during.requests} {k}"
                                                                            for k, n in lost.items()))  # fmt: skip
    return "; ".join(problems)


def _summary(outage: Outage) -> str:
    assert outage.baseline is not None
    assert outage.during is not None
    head = f"during: {outage.during.text()} (baseline p95 {outage.baseline.p95_s * 1000:.0f} ms)"
    resumed = f"telemetry resumed after {outage.resumed_s}s" if outage.resumed_s is not None else "did not resume"
    return f"{head}; {resumed}; {outage.lost_text()}" + (f"; {outage.detail}" if outage.detail else "")


def _traced_request_arrives(url: str, service: str, ends: Backends) -> tuple[bool, str]:
    """A new traced request reaches the collector and each backend of the stack (each looked for a few seconds)."""
    trace_id, traceparent = new_trace()
    before = collector_accepted(ends.collector_metrics)
    try:
        httpx.get(url, headers={"traceparent": traceparent}, timeout=5)
    except httpx.HTTPError as exc:
        return False, f"app: {exc}"
    arrivals = {"collector": wait_until(lambda: _grew(ends.collector_metrics, before), ARRIVAL_S, 1.0)}
    logs, traces = ends.log_store, ends.trace_store
    if ends.presence.expected(logs.name):
        arrivals[logs.title] = wait_until(lambda: logs.has(ends.logs, service, trace_id), ARRIVAL_S, 1.0)
    if ends.presence.expected(traces.name):
        arrivals[traces.title] = wait_until(lambda: traces.has(ends.traces, trace_id), ARRIVAL_S, 1.0)
    return all(w.ok for w in arrivals.values()), "; ".join(f"{k}: {w.last}" for k, w in arrivals.items())


def collector_accepted(metrics_url: str) -> float | None:
    """The collector's accepted-spans counter, summed over its receivers, read on its metrics port; None
    when it does not answer."""
    try:
        text = httpx.get(metrics_url, timeout=3).text
    except httpx.HTTPError:
        return None
    values = [line.rsplit(" ", 1)[-1] for line in text.splitlines() if ACCEPTED_SPANS.match(line)]
    return sum(float(v) for v in values)


def _grew(metrics_url: str, before: float | None) -> tuple[bool, str]:
    now = collector_accepted(metrics_url)
    if now is None:
        return False, f"no answer at {metrics_url}"
    # a restarted collector counts from zero: any growth over what it had when the request was sent
    return now > (before or 0.0), f"accepted spans {before or 0:g} -> {now:g}"


def _counters(prom: PromClient, ends: Backends) -> dict[str, float]:
    scope = f'exporter=~"{"|".join(ends.exporters())}"'
    values: dict[str, float] = {}
    for name in LOSS_COUNTERS:
        try:
            result = prom.query(counter(name, scope))
        except Unavailable:
            result = []
        values[name] = float(result[0]["value"][1]) if result else 0.0
    return values


def _settled(ends: Backends, service: str, window: tuple[float, float], sent: int) -> dict[str, int]:
    """What the stores hold for `window` once every request has its record there, or once the counts stopped
    growing (what is still missing then is lost), bounded by SETTLE_S."""
    deadline = time.monotonic() + SETTLE_S
    last, changed = _stored(ends, service, *window), time.monotonic()
    while any(v < sent for v in last.values()) and time.monotonic() < deadline:
        time.sleep(POLL_S)
        now = _stored(ends, service, *window)
        if now != last:
            last, changed = now, time.monotonic()
        elif time.monotonic() - changed >= STEADY_S:
            break
    return last


def _stored(ends: Backends, service: str, start: float, end: float) -> dict[str, int]:
    """Access log lines in the log store and traces in the trace store whose time falls in [start, end] (0 where
    a store failed to answer), for the stores of the stack."""
    stored: dict[str, int] = {}
    logs, traces = ends.log_store, ends.trace_store
    if ends.presence.expected(logs.name):
        stored[f"{LOG_LINES} in {logs.title}"] = _count(lambda: logs.access_lines(ends.logs, service, start, end))
    if ends.presence.expected(traces.name):
        stored[f"traces in {traces.title}"] = _count(lambda: traces.traces(ends.traces, service, start, end))
    return stored


def _count(ask: Callable[[], int]) -> int:
    try:
        return ask()
    except Unavailable:
        return 0


def outage_table(outages: list[Outage]) -> list[str]:
    """The pipeline faults as a text table: per stopped component, the requests sent while it was down, how
    many failed, their p95 against the baseline's, what the stores hold for that window, and what was lost: per
    store the requests without a stored record (one access line, one trace each), then the collector's drops."""
    if not outages:
        return []
    rows = [("stopped", "requests", "errors", "p95 (base)", "stored for the window", "lost", "result")]
    for o in outages:
        assert o.during is not None
        assert o.baseline is not None
        stored = ", ".join(f"{v} {k}" for k, v in o.stored.items()) or "-"
        missing = [f"{max(0, o.during.requests - v)} {k.split(' in ')[0]}" for k, v in o.stored.items()]
        drops = [f"{k} {v:g}" for k, v in o.collector_lost.items() if v]
        lost = ", ".join(missing + drops) or "0"
        p95 = f"{o.during.p95_s * 1000:.0f} ms ({o.baseline.p95_s * 1000:.0f})"
        rows.append((o.component, str(o.during.requests), str(o.during.errors), p95, stored, lost,
                     "ok" if o.ok else f"FAILED: {o.detail}"))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]) for row in rows]
