"""Where Loki and Tempo run: one request's log line and trace are found by its trace_id.

verify sends a request with its own W3C `traceparent`, so it knows the trace id, then asks Loki (logs
arrive by OTLP: stream label `service_name`, `trace_id` as structured metadata) and Tempo for it.
A component that is not running is reported as skipped, never as passed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx

from stack.runtime.promapi import Unavailable, Waited, wait_until


@dataclass(frozen=True)
class Lookup:
    name: str
    status: str  # "ok", "failed" or "skipped"
    detail: str = ""


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/ready", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def new_trace() -> tuple[str, str]:
    """(trace id, traceparent header) for a sampled trace."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, f"00-{trace_id}-{span_id}-01"


def loki_has(loki: str, service: str, trace_id: str) -> tuple[bool, str]:
    query = f'{{service_name="{service}"}} | trace_id="{trace_id}"'
    try:
        response = httpx.get(f"{loki}/loki/api/v1/query_range", params={"query": query, "limit": "10"}, timeout=5)
    except httpx.HTTPError as exc:
        raise Unavailable(f"Loki: {exc}") from exc
    if response.status_code != 200:
        return False, f"Loki HTTP {response.status_code}: {response.text[:200]}"
    streams = response.json().get("data", {}).get("result", [])
    found = sum(len(s.get("values", [])) for s in streams)
    return found > 0, f"{found} log lines for {query}"


def tempo_has(tempo: str, trace_id: str) -> tuple[bool, str]:
    try:
        response = httpx.get(f"{tempo}/api/traces/{trace_id}", timeout=5)
    except httpx.HTTPError as exc:
        raise Unavailable(f"Tempo: {exc}") from exc
    if response.status_code != 200:
        return False, f"Tempo HTTP {response.status_code} for trace {trace_id}"
    body = response.json()
    spans = body.get("batches") or body.get("resourceSpans") or []
    return bool(spans), f"trace {trace_id} has {len(spans)} resource span groups"


def correlate(app: str, loki: str, tempo: str, service: str, timeout: float, path: str = "/") -> list[Lookup]:
    """Send one traced request, then look for its log line in Loki and its trace in Tempo."""
    loki_up, tempo_up = _ready(loki), _ready(tempo)
    if not (loki_up or tempo_up):
        return [Lookup("log line by trace_id in Loki", "skipped", f"Loki not running at {loki}"),
                Lookup("trace by trace_id in Tempo", "skipped", f"Tempo not running at {tempo}")]  # fmt: skip
    trace_id, traceparent = new_trace()
    try:
        httpx.get(f"{app}{path}", headers={"traceparent": traceparent}, timeout=10)
    except httpx.HTTPError as exc:
        return [Lookup("traced request", "failed", f"app did not answer: {exc}")]
    results = []
    for name, up, where, check in (
        ("log line by trace_id in Loki", loki_up, loki, lambda: loki_has(loki, service, trace_id)),
        ("trace by trace_id in Tempo", tempo_up, tempo, lambda: tempo_has(tempo, trace_id)),
    ):
        if not up:
            results.append(Lookup(name, "skipped", f"not running at {where}"))
            continue
        waited: Waited = wait_until(check, timeout, interval=1.0)
        results.append(Lookup(name, "ok" if waited.ok else "failed", waited.last))
    return results
