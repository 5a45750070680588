"""Bad metric settings (issue 23): custom names and labels, push versus scrape, thresholds off the buckets the
service really has. Each is one line naming the field, the value and what was expected; exit 2; nothing
written or removed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import assert_refused, generated_project

VALID = """\
project: demo
services:
  - name: orders
    port: 8000
"""
CUSTOM = VALID + "    metrics_convention: custom\n"
NAMES = "    metric_names: {requests: shop_requests_total, duration: shop_request_duration_seconds}\n"

CASES = {
    "route_label_is_the_status_label": (
        CUSTOM + NAMES + "    metric_labels: {route: code, status: code}\n",
        ["services[0].metric_labels", "route and status are both 'code'", "two different label names"],
    ),
    "method_label_is_the_route_label": (
        CUSTOM + NAMES + "    metric_labels: {route: path, method: path}\n",
        ["services[0].metric_labels", "route and method are both 'path'"],
    ),
    "counter_without_total": (
        CUSTOM + "    metric_names: {requests: shop_requests, duration: shop_request_duration_seconds}\n"
        "    metric_labels: {route: endpoint}\n",
        ["services[0].metric_names", "'shop_requests' is a counter", "ending in _total"],
    ),
    "histogram_named_as_its_buckets": (
        CUSTOM + "    metric_names: {requests: shop_requests_total, duration: shop_request_duration_seconds_bucket}\n"
        "    metric_labels: {route: endpoint}\n",
        ["services[0].metric_names", "ends in _bucket", "is a histogram", "without it"],
    ),
    "gauge_named_as_a_counter": (
        CUSTOM + "    metric_names: {requests: shop_requests_total, duration: shop_request_duration_seconds,"
        " inprogress: shop_in_flight_total}\n    metric_labels: {route: endpoint}\n",
        ["services[0].metric_names.inprogress in", "'shop_in_flight_total' ends in _total", "a gauge"],
    ),
    "metric_name_with_a_space": (
        CUSTOM + "    metric_names: {requests: 'shop requests_total', duration: shop_request_duration_seconds}\n"
        "    metric_labels: {route: endpoint}\n",
        ["services[0].metric_names.requests", "Prometheus metric name", "'shop requests_total'"],
    ),
    "metric_name_injection": (
        CUSTOM + "    metric_names: {requests: 'x_total{a=\"b\"} or vector(1)', duration: d_seconds}\n"
        "    metric_labels: {route: endpoint}\n",
        ["services[0].metric_names.requests", "Prometheus metric name", "vector(1)"],
    ),
    "label_name_with_a_dash": (
        CUSTOM + NAMES + "    metric_labels: {route: http-route}\n",
        ["services[0].metric_labels.route", "Prometheus label name", "'http-route'"],
    ),
    "reserved_route_label": (
        CUSTOM + NAMES + "    metric_labels: {route: service}\n",
        ["services[0].metric_labels.route", "'service' is a label obsstack sets itself"],
    ),
    "custom_without_names": (
        CUSTOM + "    metric_labels: {route: endpoint}\n",
        ["services[0].metric_names in", "metrics_convention custom needs metric_names"],
    ),
    "custom_without_labels": (CUSTOM + NAMES, ["services[0]", "metrics_convention custom needs metric_labels"]),
    "names_without_custom": (
        VALID + NAMES,
        ["services[0].metric_names in", "is for metrics_convention custom", "got metrics_convention instrumentator"],
    ),
    "unknown_convention": (
        VALID + "    metrics_convention: micrometer\n",
        ["services[0].metrics_convention", "'instrumentator', 'otel' or 'custom'", "'micrometer'"],
    ),
    "unknown_metrics_source": (
        VALID + "    metrics_source: pull\n",
        ["services[0].metrics_source", "'scrape' or 'otlp'", "'pull'"],
    ),
    "pushed_service_with_a_scrape_port": (
        VALID + "    metrics_source: otlp\n    metrics_port: 9464\n",
        ["services[0]", "metrics_port", "pushes its metrics and is not scraped"],
    ),
    "pushed_service_with_a_metrics_path": (
        VALID + "    metrics_source: otlp\n    metrics_path: /prom\n",
        ["services[0]", "metrics_path", "not scraped"],
    ),
    "pushed_service_without_otlp": (
        VALID + "    metrics_source: otlp\n    otlp: false\n",
        ["services[0].metrics_source in", "otlp pushes", "needs otlp: true"],
    ),
    "metrics_port_of_another_service": (
        VALID + "    metrics_port: 8001\n  - {name: billing, port: 8001}\n",
        ["services[1] (billing).port", "127.0.0.1:8001", "services[0] (orders)"],
    ),
    "metrics_port_on_a_component_port": (
        VALID + "    metrics_port: 9093\n",
        ["services[0] (orders).metrics_port", "127.0.0.1:9093", "components.alertmanager"],
    ),
    "otel_threshold_not_a_semconv_edge": (
        VALID + "    metrics_convention: otel\n    latency: {warning: 0.2, critical: 0.5}\n",
        ["services[0].latency.warning", "0.2 is not an edge", "the otel convention's default", "0.1 and 0.25"],
    ),
    "custom_threshold_not_a_default_edge": (
        CUSTOM + NAMES + "    metric_labels: {route: endpoint}\n    latency: {warning: 0.25, critical: 0.6}\n",
        ["services[0].latency.critical", "0.6 is not an edge", "the custom convention's default", "0.5 and 0.75"],
    ),
    "threshold_is_the_last_edge": (
        VALID + "    latency_buckets: [0.1, 0.25, 0.5]\n    latency: {warning: 0.25, critical: 0.5}\n",
        ["services[0].latency.critical", "0.5 is not an edge", "other than the last"],
    ),
    "one_bucket_edge_only": (
        VALID + "    latency_buckets: [1]\n",
        ["services[0].latency.warning", "its latency_buckets: 1", "there is none: declare more latency_buckets"],
    ),
    "buckets_not_increasing": (
        VALID + "    latency_buckets: [0.5, 0.1]\n",
        ["services[0].latency_buckets", "strictly increasing", "[0.5, 0.1]"],
    ),
    "process_metrics_not_a_bool": (
        VALID + "    process_metrics: sometimes\n",
        ["services[0].process_metrics", "'sometimes'"],
    ),
}


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    """A project whose outputs were generated from a valid stack.yaml."""
    return generated_project(tmp_path, VALID)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_metric_settings_are_one_clear_line_and_exit_2(case: str, generated: Path) -> None:
    """Each bad metric setting gives exit code 2, one line naming field, file and value, nothing written."""
    text, expected = CASES[case]
    assert_refused(generated, text, expected)
