"""Settings of what a service really exposes (issue 23): conventions, their buckets, custom names, push."""

from __future__ import annotations

import prometheus_client

from stack import conventions as c
from stack.settings import StackSettings

CUSTOM = {
    "name": "payments",
    "metrics_convention": "custom",
    "metric_names": {"requests": "pay_requests_total", "duration": "pay_request_duration_seconds"},
    "metric_labels": {"route": "endpoint", "status": "code"},
    "metrics_port": 9464,
    "port": 8102,
}


def one(**service: object) -> StackSettings:
    return StackSettings(services=[{"name": "svc", **service}])


def test_each_convention_has_the_buckets_its_library_really_uses() -> None:
    """otel: the semantic conventions' advice for http.server.request.duration; custom: prometheus_client's
    Histogram defaults (read from the library, not copied); instrumentator: the global list obsstack passes."""
    plain = one()
    assert plain.buckets(plain.services[0]) == plain.metrics.latency_buckets
    otel = one(metrics_convention="otel")
    assert otel.buckets(otel.services[0]) == c.OTEL_SEMCONV_BUCKETS
    assert 0.2 not in c.OTEL_SEMCONV_BUCKETS
    assert 0.25 in c.OTEL_SEMCONV_BUCKETS
    custom = StackSettings(services=[CUSTOM])
    library = tuple(b for b in prometheus_client.Histogram.DEFAULT_BUCKETS if b != float("inf"))
    assert custom.buckets(custom.services[0]) == library


def test_thresholds_default_to_the_real_edges_nearest_above_200_and_500_ms() -> None:
    """Without `latency`, an otel service warns at 0.25 s (its buckets have no 0.2 edge) and pages at 0.5 s; a
    service with its own buckets gets its own edges; the global buckets keep 0.2 and 0.5."""
    otel = one(metrics_convention="otel").services[0]
    assert (otel.latency.warning, otel.latency.critical) == (0.25, 0.5)
    own = one(latency_buckets=[0.05, 0.3, 0.6, 0.9, 2]).services[0]
    assert (own.latency.warning, own.latency.critical) == (0.3, 0.6)
    plain = one().services[0]
    assert (plain.latency.warning, plain.latency.critical) == (0.2, 0.5)
    given = one(metrics_convention="otel", latency={"warning": 0.1, "critical": 1.0}).services[0]
    assert (given.latency.warning, given.latency.critical) == (0.1, 1.0)


def test_custom_names_and_labels_are_the_services_http_names() -> None:
    """A custom service's own metric and label names are what every query uses; no in-progress gauge is None."""
    service = StackSettings(services=[CUSTOM]).services[0]
    names = service.http_names
    assert (names.requests, names.duration, names.inprogress) == (
        "pay_requests_total", "pay_request_duration_seconds", None,
    )  # fmt: skip
    assert (names.route, names.method, names.status) == ("endpoint", "method", "code")
    assert service.scraped
    assert service.scrape_port == 9464
    assert service.port == 8102
    assert service.has_process_metrics


def test_a_pushed_otel_service_is_not_scraped_and_has_no_process_metrics() -> None:
    """metrics_source otlp: no scrape; OpenTelemetry's SDK exposes no process_* unless stack.yaml says so."""
    service = one(metrics_source="otlp", metrics_convention="otel").services[0]
    assert not service.scraped
    assert not service.has_process_metrics
    assert service.http_names == c.CONVENTIONS["otel"]
    assert one(metrics_convention="otel", process_metrics=True).services[0].has_process_metrics


def test_services_obsstack_starts_get_the_export_interval_and_stable_semconv() -> None:
    """service_env: an OTLP service pushes metrics every `export_interval_ms` (the profile's scrape interval),
    and an otel one is asked for the stable HTTP semantic conventions (the otel convention's names)."""
    env = c.service_env("inv", (0.1, 1.0), None, None, "http://127.0.0.1:4317", "local",
                        export_interval_ms=1000, stable_semconv=True)  # fmt: skip
    assert env[c.EXPORT_INTERVAL_ENV] == "1000"
    assert env[c.SEMCONV_OPT_IN_ENV] == "http"
    assert env[c.LOG_AUTO_INSTRUMENTATION_ENV] == "true"  # the zero-code agent's logs reach the log store
    plain = c.service_env("inv", (0.1, 1.0), None, None, None, "local", export_interval_ms=1000)
    assert c.EXPORT_INTERVAL_ENV not in plain
    assert c.SEMCONV_OPT_IN_ENV not in plain
