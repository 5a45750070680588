"""PURE: the families a probe saw -> the service's convention, metric and label names, buckets, status codes
grouped or raw, optional metrics and latency thresholds on real edges (`Inference`), or one line saying
what was looked for."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from stack import conventions as c
from stack.probe.observed import Family, Observed, ProbeError

Convention = Literal["instrumentator", "otel", "custom"]
# Label names that say what a label holds, in the order they are preferred when a metric has several
ROUTE_LABELS = ("http_route", "route", "handler", "endpoint", "url_rule", "path_template", "template", "view",
                "path", "uri", "url")  # fmt: skip
METHOD_LABELS = ("method", "http_request_method", "http_method", "request_method", "verb")
STATUS_LABELS = ("status", "code", "status_code", "http_status", "http_status_code", "response_code",
                 "status_class", "http_response_status_code", "response_status")  # fmt: skip
STATUS_VALUE = re.compile(r"[1-5](?:[0-9]{2}|xx|XX)")
INPROGRESS_HINTS = ("inprogress", "in_progress", "in_flight", "inflight", "active_requests", "requests_active",
                    "concurrent_requests")  # fmt: skip
PROCESS_METRICS = (c.PROCESS_CPU, c.PROCESS_RSS, c.PROCESS_START)
OLD_SEMCONV = "http_server_duration"  # OpenTelemetry's old http.server.duration (milliseconds)
WARNING_FROM, CRITICAL_FROM = 0.2, 0.5  # the latency thresholds: the smallest edges at or above these


@dataclass(frozen=True)
class Inference:
    """What the service's stack.yaml entry says about its metrics, and why (for the entry's comments)."""

    convention: Convention
    names: c.HttpNames
    requests_labels: frozenset[str]
    duration_labels: frozenset[str]
    buckets: tuple[float, ...]
    statuses: tuple[str, ...]  # the status label's values seen
    process: bool  # exposes process_cpu_seconds_total, process_resident_memory_bytes, process_start_time_seconds
    latency: tuple[float, float]  # warning, critical: edges of the buckets, never the last
    latency_fallback: bool  # the buckets have no edges >= 0.2 s and >= 0.5 s below the last

    @property
    def default_buckets(self) -> bool:
        """The buckets are the convention's default (then the entry need not list them)."""
        return self.buckets == c.CONVENTION_BUCKETS[self.convention]

    @property
    def status_style(self) -> Literal["grouped", "raw", "mixed"]:
        if self.statuses and all(re.fullmatch(r"[1-5]xx", s, re.IGNORECASE) for s in self.statuses):
            return "grouped"
        return "raw" if self.statuses and all(s.isdigit() for s in self.statuses) else "mixed"


def infer(observed: Observed) -> Inference:
    """The inference for `observed`, or a ProbeError naming what was found and what was looked for."""
    _refuse_old_semconv(observed)
    names, convention = _known(observed) or _search(observed)
    duration = _family(observed, names.duration)
    requests = duration if names.requests == f"{names.duration}_count" else _family(observed, names.requests)
    buckets = duration.edges
    warning, critical, fallback = thresholds(buckets, observed.where)
    return Inference(
        convention=convention, names=names, requests_labels=requests.labels, duration_labels=duration.labels,
        buckets=buckets, statuses=requests.values_of(names.status),
        process=all(observed.get(name) is not None for name in PROCESS_METRICS),
        latency=(warning, critical), latency_fallback=fallback,
    )  # fmt: skip


def thresholds(buckets: tuple[float, ...], where: str) -> tuple[float, float, bool]:
    """(warning, critical, fallback): the smallest edges >= 0.2 s and >= 0.5 s above it, never the last edge;
    without those, the two highest edges below the last (fallback)."""
    edges = buckets[:-1]
    warning = next((e for e in edges if e >= WARNING_FROM), None)
    critical = next((e for e in edges if warning is not None and e >= CRITICAL_FROM and e > warning), None)
    if warning is not None and critical is not None:
        return warning, critical, False
    if len(edges) >= 2:
        return edges[-2], edges[-1], True
    raise ProbeError(
        f"{where}: the latency histogram has {len(buckets)} bucket edges ({_list(buckets)}), expected at least 3 "
        "(two latency thresholds below the last edge)"
    )


def _refuse_old_semconv(observed: Observed) -> None:
    if observed.get(c.CONVENTIONS["otel"].duration) is not None:
        return
    old = next((f for f in observed.families if f.name.startswith(OLD_SEMCONV)), None)
    if old is not None:
        raise ProbeError(
            f"{observed.where}: found OpenTelemetry's old HTTP semantic conventions ({_shape(old)}, milliseconds), "
            "expected http_server_request_duration_seconds: run the service with OTEL_SEMCONV_STABILITY_OPT_IN=http "
            "and probe again"
        )


def _known(observed: Observed) -> tuple[c.HttpNames, Convention] | None:
    """A built-in convention whose names and labels are all there; `custom` with its names when only its
    in-progress gauge is missing (so the in-flight panel is left out instead of drawn empty)."""
    for convention, names in c.CONVENTIONS.items():
        if not _fits(observed, names):
            continue
        gauge = observed.get(names.inprogress or "")
        if gauge is not None and gauge.kind == "gauge":
            return names, "otel" if convention == "otel" else "instrumentator"
        return _evolve(names, inprogress=None), "custom"
    return None


def _fits(observed: Observed, names: c.HttpNames) -> bool:
    duration = observed.get(names.duration)
    if duration is None or duration.kind != "histogram" or not {names.route, names.method} <= duration.labels:
        return False
    if names.requests == f"{names.duration}_count":
        return names.status in duration.labels
    requests = observed.get(names.requests)
    wanted = {names.route, names.method, names.status}
    return requests is not None and requests.kind == "counter" and wanted <= requests.labels


def _search(observed: Observed) -> tuple[c.HttpNames, Convention]:
    """A custom convention: the latency histogram in seconds with a route label, the request counter with a
    status label (else the histogram's _count when it has one), an in-progress gauge if any."""
    duration = _best(f for f in observed.families if f.kind == "histogram" and f.name.endswith("_seconds")
                     and _label(f.labels, ROUTE_LABELS))  # fmt: skip
    if duration is None:
        raise ProbeError(_nothing(observed))
    route = _label(duration.labels, ROUTE_LABELS) or ""
    counters = [f for f in observed.families if f.kind == "counter" and f.name.endswith(c.COUNTER_SUFFIX)
                and _status_label(f)]  # fmt: skip
    requests = _best(counters, prefer=route) or (duration if _status_label(duration) else None)
    if requests is None:
        raise ProbeError(
            f"{observed.where}: found the latency histogram {_shape(duration)} but no request counter: looked for "
            f"a *_total counter with a status label ({', '.join(STATUS_LABELS)}, or any label whose values are "
            "all status codes such as 200 or 5xx), or such a label on the histogram"
        )
    gauge = _best(f for f in observed.families if f.kind == "gauge" and any(h in f.name for h in INPROGRESS_HINTS))
    names = c.HttpNames(
        requests=requests.name if requests is not duration else f"{duration.name}_count",
        duration=duration.name, inprogress=gauge.name if gauge else None, route=route,
        method=_label(duration.labels | requests.labels, METHOD_LABELS) or "method",
        status=_status_label(requests) or "",
    )  # fmt: skip
    return names, "custom"


def _status_label(family: Family) -> str | None:
    """The family's status label: a known name, else the first label (by name) whose values seen are all
    HTTP status codes, raw (503) or grouped (5xx)."""
    known = _label(family.labels, STATUS_LABELS)
    if known:
        return known
    codes = [label for label, seen in family.values if seen and all(STATUS_VALUE.fullmatch(v) for v in seen)]
    return codes[0] if codes else None


def _best(families: Iterable[Family], prefer: str = "") -> Family | None:
    """The most HTTP-request-like family: with the preferred label, then 'request', 'http', 'duration' or
    'latency' in its name, then by name (deterministic)."""

    def rank(f: Family) -> tuple[bool, bool, bool, bool, str]:
        timing = "duration" in f.name or "latency" in f.name
        return (prefer not in f.labels, "request" not in f.name, "http" not in f.name, not timing, f.name)

    return min(families, key=rank, default=None)


def _label(labels: Iterable[str], preferred: tuple[str, ...]) -> str | None:
    present = set(labels)
    return next((label for label in preferred if label in present), None)


def _family(observed: Observed, name: str) -> Family:
    family = observed.get(name)
    assert family is not None, name  # _known and _search only name families they found
    return family


def _nothing(observed: Observed) -> str:
    """No HTTP server metrics: what was looked for, and what is there instead."""
    declared = [n for n in observed.empty if "request" in n or "http" in n]
    if declared:
        return (
            f"{observed.where}: {', '.join(declared[:4])} declared but no samples yet: send the service a few "
            "requests, then probe again"
        )
    seen = sorted(f.name for f in observed.families)
    found = f"{len(seen)} other metrics ({_list(seen[:6])}{', ...' if len(seen) > 6 else ''})" if seen else "none"
    return (
        f"{observed.where}: no HTTP server metrics: looked for http_server_request_duration_seconds (OpenTelemetry), "
        f"http_requests_total + http_request_duration_seconds (instrumentator), or a *_seconds histogram with a "
        f"route label ({', '.join(ROUTE_LABELS[:6])} ...) and a *_total counter with a status label "
        f"({', '.join(STATUS_LABELS[:4])} ...); found {found}"
    )


def _shape(family: Family) -> str:
    return f"{family.name}{{{','.join(sorted(family.labels))}}}"


def _list(values: Iterable[object]) -> str:
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def _evolve(names: c.HttpNames, inprogress: str | None) -> c.HttpNames:
    return c.HttpNames(names.requests, names.duration, inprogress, names.route, names.method, names.status)
