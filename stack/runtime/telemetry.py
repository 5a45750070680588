"""verify's telemetry checks: the rules load and evaluate, and a service's metrics in Prometheus are what its
rules and dashboards are built on.

- Every scrape target is up; each verified service that is scraped has its target (job = its name), and one
  that pushes by OTLP has none (a scrape of an app without /metrics would be down and fire TargetDown).
- Every rule group loaded, no rule in error, no evaluation failure counted.

- The latency histogram's bucket edges: the `le` values Prometheus holds for `<duration>_bucket{service}` must be
  the buckets stack.yaml declares for the service (its own, else its convention's default, else the global
  list): the latency thresholds and the latency fault are edges of the declared list, so a histogram with other
  edges makes the p95 alert interpolate between edges it does not have. Prometheus 3 writes an integer `le` as
  "1.0" and an SDK may write "1": the values are compared as numbers; `+Inf` is every histogram's and left out.
- A service that pushes its metrics by OTLP has no scrape target: its presence is its requests metric arriving
  through the collector's remote write, with its `service` label.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from stack.runtime.promapi import PromClient, Waited, wait_until
from stack.settings import Service

Check = Callable[[], tuple[bool, str]]
TOLERANCE = 1e-9  # relative: "0.1" and 0.1 from the settings are the same edge


def bucket_selector(service: Service) -> str:
    return f'{service.http_names.duration}_bucket{{service="{service.name}"}}'


def bucket_query(service: Service) -> str:
    """One series per `le` value the service's latency histogram has in Prometheus."""
    return f"count by (le) ({bucket_selector(service)})"


def edges_of(result: Iterable[dict[str, Any]]) -> tuple[float, ...]:
    """The finite `le` values of a `count by (le)` result, sorted; values that are no number are left out."""
    found = set()
    for series in result:
        try:
            edge = float(series["metric"]["le"])
        except (KeyError, ValueError):
            continue
        if math.isfinite(edge):
            found.add(edge)
    return tuple(sorted(found))


def only_in(first: Iterable[float], second: Iterable[float]) -> list[float]:
    """The edges of `first` that `second` lacks, compared as numbers."""
    others = list(second)
    return [edge for edge in first if not any(math.isclose(edge, o, rel_tol=TOLERANCE) for o in others)]


def edges_text(edges: Iterable[float]) -> str:
    return "[" + ", ".join(f"{edge:g}" for edge in edges) + "]"


def compare_edges(service: Service, declared: tuple[float, ...], actual: tuple[float, ...]) -> tuple[bool, str]:
    """(same, detail): the detail names both lists when they differ, and which edges only one has."""
    extra, missing = only_in(actual, declared), only_in(declared, actual)
    if not extra and not missing:
        return True, f"{len(actual)} edges {edges_text(actual)} as declared"
    return False, (
        f"{bucket_selector(service)} has le {edges_text(actual)}, stack.yaml declares {edges_text(declared)} "
        f"(only in Prometheus: {edges_text(extra)}, only declared: {edges_text(missing)}); set the service's "
        "latency_buckets to the edges it really has (`obsstack init --probe` reads them)"
    )


def check_buckets(prom: PromClient, service: Service, declared: tuple[float, ...], timeout: float) -> Waited:
    """Waits (bounded) until the histogram has series, then compares its edges once: ok, or not with both lists
    (a timeout says no series came)."""
    seen: list[tuple[float, ...]] = []

    def has_series() -> tuple[bool, str]:
        seen.append(edges_of(prom.query(bucket_query(service))))
        return bool(seen[-1]), f"timed out: no series for {bucket_selector(service)}"

    waited = wait_until(has_series, timeout)
    if not waited.ok:
        return waited
    same, detail = compare_edges(service, declared, seen[-1])
    return Waited(same, waited.seconds, detail)


def pushed_selector(service: Service) -> str:
    return f'{service.http_names.requests}{{service="{service.name}"}}'


def pushed_arrives(prom: PromClient, service: Service) -> Check:
    """A service that pushes by OTLP: its requests metric is in Prometheus with its `service` label."""

    def check() -> tuple[bool, str]:
        found = prom.query(pushed_selector(service))
        return bool(found), f"{len(found)} series of {pushed_selector(service)} (pushed by OTLP, remote-written)"

    return check


def rules_healthy(prom: PromClient) -> tuple[bool, str]:
    """Rule groups are loaded, none of their rules is in error, and Prometheus counted no evaluation failure."""
    groups = prom.rule_groups()
    bad = [f"{g['name']}/{r.get('name')}: {r.get('lastError')}" for g in groups for r in g["rules"]
           if r.get("health") == "err"]  # fmt: skip
    failures = prom.query("sum(prometheus_rule_evaluation_failures_total)")
    failed = float(failures[0]["value"][1]) if failures else 0.0
    if not groups:
        return False, "no rule groups loaded"
    ok = not bad and failed == 0
    return ok, "; ".join(bad) or f"{len(groups)} groups, {failed:g} evaluation failures"


def targets_verdict(targets: Iterable[dict[str, Any]], services: Sequence[Service],
                    judged: Callable[[str], bool]) -> tuple[bool, str]:  # fmt: skip
    """(ok, detail) of Prometheus' active targets: every judged one (by job) is up, each scraped service of
    `services` has a target, and no service that pushes by OTLP has one."""
    targets = list(targets)
    jobs = {t["labels"].get("job", "") for t in targets}
    problems = [
        f"{t['labels'].get('job')} {t['scrapeUrl']}: {t.get('lastError') or t['health']}"
        for t in targets
        if t["health"] != "up" and judged(t["labels"].get("job", ""))
    ]
    problems += [f"{s.name}: no scrape target (job {s.name})" for s in services if s.scraped and s.name not in jobs]
    problems += [f"{s.name}: scraped, but metrics_source is otlp (it pushes; expected no scrape job)"
                 for s in services if not s.scraped and s.name in jobs]  # fmt: skip
    pushed = [s.name for s in services if not s.scraped]
    fine = "all up" + (f"; pushed by OTLP, not scraped: {', '.join(pushed)}" if pushed else "")
    return not problems, "; ".join(problems) or fine
