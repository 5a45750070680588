"""Contract: every metric and label a generated rule or dashboard query uses is exposed by the real app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support import running_app

from stack.builders.dashboards import dashboard_queries
from stack.builders.rules import build_rule_files
from stack.config import load_settings

REPO = Path(__file__).resolve().parents[2]
ADDED_BY_PROMETHEUS = {"service", "job", "instance", "team", "le", "__name__"}
BUILT_IN = {"up", "ALERTS", "ALERTS_FOR_STATE", "vector", "scalar", "time"}
PROMQL_WORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "topk",
    "bottomk",
    "quantile",
    "stddev",
    "count_values",
    "group",
    "rate",
    "irate",
    "increase",
    "delta",
    "idelta",
    "deriv",
    "histogram_quantile",
    "absent",
    "absent_over_time",
    "present_over_time",
    "avg_over_time",
    "max_over_time",
    "min_over_time",
    "sum_over_time",
    "last_over_time",
    "count_over_time",
    "clamp_min",
    "clamp_max",
    "clamp",
    "label_replace",
    "label_join",
    "sort",
    "sort_desc",
    "round",
    "abs",
    "ceil",
    "floor",
    "time",
    "timestamp",
    "changes",
    "resets",
    "vector",
    "scalar",
    "inf",
    "nan",
}
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}")
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"')
IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
NAMELESS = re.compile(r'\{__name__=~"([^"]+)",?([^}]*)\}')  # one of several names (metric conventions)
OFFSET = re.compile(r"\boffset\s+[0-9a-z]+")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")


def used(expr: str) -> dict[str, set[str]]:
    """Raw metric names in a PromQL expression, with the label names matched on each."""
    found: dict[str, set[str]] = {}
    for names, inner in NAMELESS.findall(expr):
        found.setdefault(names, set()).update(MATCHER.findall(inner))
    expr = OFFSET.sub(" ", NAMELESS.sub(" ", expr))
    for name, inner in SELECTOR.findall(expr):
        found.setdefault(name, set()).update(MATCHER.findall(inner))
    bare = re.sub(r'"[^"]*"', "", GROUPING.sub("", SELECTOR.sub(" ", expr)))
    bare = re.sub(r"\[[^\]]*\]", "", bare)
    for name in IDENT.findall(bare):
        if name not in PROMQL_WORDS and not re.fullmatch(r"[0-9.e]+", name):
            found.setdefault(name, set())
    return {n: labels for n, labels in found.items() if ":" not in n and n not in BUILT_IN and not n.startswith("$")}


@pytest.fixture(scope="module")
def exposition(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Run the real sample app as a process, drive each kind of request, scrape /metrics."""
    settings = load_settings(REPO / "stack.yaml")
    buckets = ",".join(f"{b:g}" for b in settings.metrics.latency_buckets)
    env = {"OBS_FAULTS_ENABLED": "true", "OBS_FAULTS_TOKEN": "t0k", "OBS_LATENCY_BUCKETS": buckets}
    with (
        running_app(tmp_path_factory.mktemp("app"), **env) as (base, _),
        httpx.Client(base_url=base, timeout=5) as client,
    ):
        client.get("/orders")
        client.post("/orders", json={"sku": "SKU-1", "quantity": 1, "payment_method": "card", "currency": "EUR"})
        client.post("/login", json={"username": "nobody", "password": "wrong"})
        client.get("/no/such/path")
        auth = {"Authorization": "Bearer t0k"}
        client.put("/admin/faults", json={"error_rate": 1.0}, headers=auth)
        client.get("/orders")
        client.delete("/admin/faults", headers=auth)
        yield client.get("/metrics").text


def exposed(text: str) -> dict[str, set[str]]:
    samples: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, set()).update(sample.labels)
    return samples


def all_queries() -> list[tuple[str, str]]:
    settings = load_settings(REPO / "stack.yaml")
    rules = [
        (f"rule {getattr(r, 'record', None) or getattr(r, 'alert', '')}", r.expr)
        for f in build_rule_files(settings).values()
        for r in (*f.records(), *f.alerts())
    ]
    return rules + [(f"panel {title}", expr) for title, expr in dashboard_queries(settings)]


def test_parser_finds_metrics_and_labels() -> None:
    """The expression scanner sees selectors, bare names and matched labels, and skips rule names."""
    expr = (
        'sum by (service) (rate(http_requests_total{service="a",status="5xx"}[5m])) / x:y:z + process_cpu_seconds_total'
    )
    assert used(expr) == {"http_requests_total": {"service", "status"}, "process_cpu_seconds_total": set()}
    either = 'sum(rate({__name__=~"a_total|b_count",service="x"}[1m] offset 5m))'
    assert used(either) == {"a_total|b_count": {"service"}}


def test_every_queried_metric_and_label_is_exposed(exposition: str) -> None:
    """Each metric and label used by a generated rule or dashboard query exists in the app's /metrics."""
    samples = exposed(exposition)
    missing = []
    for where, expr in all_queries():
        for names, labels in used(expr).items():
            metric = next((n for n in names.split("|") if n in samples), None)  # a|b: either convention
            if metric is None:
                missing.append(f"{where}: metric {names} not exposed")
                continue
            for label in labels - ADDED_BY_PROMETHEUS - samples[metric]:
                missing.append(f"{where}: label {label} of {metric} not exposed")
    assert not missing, "\n".join(sorted(set(missing)))


def test_latency_thresholds_are_bucket_edges_in_the_app(exposition: str) -> None:
    """The app's histogram has a bucket edge at every configured latency threshold."""
    settings = load_settings(REPO / "stack.yaml")
    edges = {
        float(labels_le)
        for labels_le in re.findall(r'http_request_duration_seconds_bucket\{[^}]*le="([^"+]+)"', exposition)
    }
    for service in settings.services:
        assert {service.latency.warning, service.latency.critical} <= edges


def test_untemplated_paths_share_one_handler_label(exposition: str) -> None:
    """The 404 for a random path is counted under handler="none", not its raw path."""
    assert 'handler="/no/such/path"' not in exposition
    assert 'handler="none"' in exposition
