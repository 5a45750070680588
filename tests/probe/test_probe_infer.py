"""The inference on real expositions: what prometheus_client, prometheus-fastapi-instrumentator and
obsstack_fastapi really expose, parsed and read as `obsstack init --probe` reads them."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from stack import conventions as c
from stack.probe.entry import Target, service_entry
from stack.probe.exposition import parse_exposition
from stack.probe.infer import Inference, infer, thresholds
from stack.probe.observed import ProbeError

URL = "http://127.0.0.1:8102/metrics"
TEXTBOOK_BUCKETS = (0.05, 0.1, 0.3, 0.6, 1.2, 2.5)


def textbook_registry() -> CollectorRegistry:
    """The textbook recipe: own label names, own buckets, raw status codes, no in-progress gauge, an own
    registry (so no process collector)."""
    registry = CollectorRegistry()
    requests = Counter("http_requests_total", "Requests.", ("method", "endpoint", "code"), registry=registry)
    latency = Histogram("http_request_duration_seconds", "Latency.", ("method", "endpoint"),
                        buckets=TEXTBOOK_BUCKETS, registry=registry)  # fmt: skip
    for code in ("200", "200", "503"):
        requests.labels("GET", "/pay", code).inc()
        latency.labels("GET", "/pay").observe(0.12)
    Counter("payments_total", "Business.", ("currency",), registry=registry).labels("eur").inc()
    return registry


def probed(registry: CollectorRegistry) -> Inference:
    return infer(parse_exposition(generate_latest(registry).decode(), "text/plain; version=0.0.4", URL))


def test_textbook_metrics_are_a_custom_convention_with_their_own_labels_and_buckets() -> None:
    """Hand-written prometheus_client metrics: custom names and labels, raw status codes, the exposed buckets,
    no in-progress gauge nor process metrics, thresholds on the smallest edges >= 0.2 s and >= 0.5 s."""
    found = probed(textbook_registry())
    assert found.convention == "custom"
    assert found.names == c.HttpNames(
        requests="http_requests_total", duration="http_request_duration_seconds", inprogress=None,
        route="endpoint", method="method", status="code",
    )  # fmt: skip
    assert found.buckets == TEXTBOOK_BUCKETS
    assert not found.default_buckets
    assert (found.status_style, found.statuses) == ("raw", ("200", "503"))
    assert found.process is False
    assert found.latency == (0.3, 0.6)
    assert not found.latency_fallback


def test_openmetrics_exposition_reads_the_same() -> None:
    """The same registry in the OpenMetrics format gives the same inference."""
    text = generate_openmetrics(textbook_registry()).decode()
    assert infer(parse_exposition(text, OPENMETRICS, URL)) == probed(textbook_registry())


def test_a_counter_without_status_uses_the_histogram_count_when_the_histogram_has_one() -> None:
    """No request counter with a status label, but a histogram with one: requests are its _count; the
    in-progress gauge is found by its name."""
    registry = CollectorRegistry()
    latency = Histogram("api_latency_seconds", "Latency.", ("route", "verb", "status_code"), registry=registry)
    latency.labels("/a", "POST", "201").observe(0.3)
    Gauge("api_requests_in_flight", "In flight.", registry=registry).set(1)
    found = probed(registry)
    assert found.names == c.HttpNames(
        requests="api_latency_seconds_count", duration="api_latency_seconds", inprogress="api_requests_in_flight",
        route="route", method="verb", status="status_code",
    )  # fmt: skip
    assert found.default_buckets  # prometheus_client's defaults are the custom convention's
    assert found.latency == (0.25, 0.5)


def instrumentator_text(**options: bool) -> tuple[str, str]:
    """prometheus-fastapi-instrumentator on a FastAPI app (own registry), after a 200 and a 500."""
    from prometheus_fastapi_instrumentator import Instrumentator

    app = FastAPI()

    @app.get("/items/{item}")
    def item(item: int) -> dict[str, int]:
        if item == 0:
            raise HTTPException(500)
        return {"item": item}

    Instrumentator(registry=CollectorRegistry(), **options).instrument(app).expose(app)
    with TestClient(app) as client:
        assert client.get("/items/1").status_code == 200
        assert client.get("/items/0").status_code == 500
        response = client.get("/metrics")
    return response.text, response.headers["content-type"]


def test_instrumentator_by_default_is_custom_with_its_names_and_no_gauge() -> None:
    """prometheus-fastapi-instrumentator's defaults have no in-progress gauge (and with one, it goes to the
    global registry): custom with its names, so the in-flight panel is left out instead of drawn empty;
    grouped status codes; its own buckets (0.1, 0.5, 1) with thresholds on the two edges below the last."""
    found = infer(parse_exposition(*instrumentator_text(), URL))
    assert found.convention == "custom"
    assert found.names == c.HttpNames(
        requests="http_requests_total", duration="http_request_duration_seconds", inprogress=None,
        route="handler", method="method", status="status",
    )  # fmt: skip
    assert (found.status_style, found.statuses) == ("grouped", ("2xx", "5xx"))
    assert found.buckets == (0.1, 0.5, 1.0)
    assert (found.latency, found.latency_fallback) == ((0.1, 0.5), True)
    entry = service_entry(found, Target(service="shop", port=8000, source="scrape", where=URL))
    assert "# (the instrumentator convention's names without its in-progress gauge http_requests_inprogress)" in entry


def test_instrumentator_with_raw_status_codes_says_raw() -> None:
    """should_group_status_codes=False: the status label holds 200 and 500, read as raw codes."""
    found = infer(parse_exposition(*instrumentator_text(should_group_status_codes=False), URL))
    assert (found.status_style, found.statuses) == ("raw", ("200", "500"))


@pytest.mark.parametrize("convention", ["instrumentator", "otel"])
def test_obsstack_fastapi_is_recognised_in_both_conventions(convention: str) -> None:
    """obsstack_fastapi's two conventions are read as themselves, with the buckets it was given."""
    from obsstack_fastapi.settings import ObsSettings

    from obsstack_fastapi import instrument

    app = FastAPI()

    @app.get("/ping")
    def ping() -> str:
        return "pong"

    buckets = (0.05, 0.2, 0.5, 1.0)
    settings = ObsSettings(service_name="shop", metrics_convention=convention, latency_buckets=buckets)
    instrument(app, settings, registry=CollectorRegistry(), logs=False, traces=False, sentry=False)
    with TestClient(app) as client:
        client.get("/ping")
        response = client.get("/metrics")
    found = infer(parse_exposition(response.text, response.headers["content-type"], URL))
    assert found.convention == convention
    assert found.names == c.CONVENTIONS[convention]
    assert found.buckets == buckets
    assert found.latency == (0.2, 0.5)


def test_old_semantic_conventions_are_refused_with_the_opt_in() -> None:
    """http_server_duration_milliseconds (OpenTelemetry's old HTTP conventions): one line naming what was
    found and OTEL_SEMCONV_STABILITY_OPT_IN=http."""
    registry = CollectorRegistry()
    old = Histogram("http_server_duration_milliseconds", "Old.", ("http_method", "http_status_code"),
                    buckets=(5, 10, 100), registry=registry)  # fmt: skip
    old.labels("GET", "200").observe(7)
    with pytest.raises(ProbeError) as caught:
        probed(registry)
    message = str(caught.value)
    assert "\n" not in message
    assert "http_server_duration_milliseconds{http_method,http_status_code}" in message
    assert "OTEL_SEMCONV_STABILITY_OPT_IN=http" in message


def test_no_http_metrics_says_what_was_looked_for() -> None:
    """Only business metrics: one line naming the names and labels looked for, and what is there."""
    registry = CollectorRegistry()
    Counter("orders_total", "Orders.", ("kind",), registry=registry).labels("a").inc()
    with pytest.raises(ProbeError) as caught:
        probed(registry)
    message = str(caught.value)
    assert "no HTTP server metrics" in message
    assert "http_server_request_duration_seconds" in message
    assert "endpoint" in message
    assert "status" in message
    assert "orders_total" in message


def test_declared_metrics_without_samples_ask_for_requests() -> None:
    """Labelled metrics no request has touched expose no sample: the probe asks for traffic first."""
    registry = CollectorRegistry()
    Counter("http_requests_total", "Requests.", ("endpoint", "status"), registry=registry)
    Histogram("http_request_duration_seconds", "Latency.", ("endpoint",), registry=registry)
    with pytest.raises(ProbeError, match="no samples yet: send the service a few requests"):
        probed(registry)


def test_a_histogram_without_a_request_counter_is_refused() -> None:
    """A latency histogram with a route but no status anywhere: one line naming the status labels wanted."""
    registry = CollectorRegistry()
    Histogram("job_duration_seconds", "Jobs.", ("handler",), registry=registry).labels("x").observe(1)
    with pytest.raises(ProbeError, match=r"job_duration_seconds\{handler\} but no request counter"):
        probed(registry)


def test_a_status_label_of_an_unknown_name_is_found_by_its_values() -> None:
    """A counter whose status label has a name of its own (http_code) is the request counter because its
    values are all HTTP status codes; a label of other values (verb: GET) never is."""
    registry = CollectorRegistry()
    requests = Counter("api_requests_total", "Requests.", ("verb", "route", "http_code"), registry=registry)
    latency = Histogram("api_request_latency_seconds", "Latency.", ("verb", "route"), registry=registry,
                        buckets=(0.01, 0.1, 0.3, 1, 3))  # fmt: skip
    requests.labels("GET", "/x/{i}", "200").inc()
    requests.labels("GET", "/x/{i}", "503").inc()
    latency.labels("GET", "/x/{i}").observe(0.02)
    inference = probed(registry)
    assert (inference.names.requests, inference.names.status) == ("api_requests_total", "http_code")
    assert (inference.names.route, inference.names.method) == ("route", "verb")
    assert inference.status_style == "raw"


@pytest.mark.parametrize(
    ("buckets", "expected"),
    [
        (c.OTEL_SEMCONV_BUCKETS, (0.25, 0.5, False)),
        ((0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0), (0.2, 0.5, False)),
        ((0.1, 0.2, 0.5), (0.1, 0.2, True)),  # 0.5 is the last edge: never a threshold
        ((0.3, 0.4, 0.5, 10.0), (0.3, 0.5, False)),
    ],
)
def test_thresholds_are_real_edges_never_the_last(buckets: tuple[float, ...], expected: tuple[float, ...]) -> None:
    """Warning: the smallest edge >= 0.2 s; critical: the smallest >= 0.5 s above it; never the last edge."""
    assert thresholds(buckets, URL) == expected


def test_too_few_buckets_for_two_thresholds_are_refused() -> None:
    """Two edges leave no two thresholds below the last: one line saying so."""
    with pytest.raises(ProbeError, match="expected at least 3"):
        thresholds((0.5, 1.0), URL)


def test_entry_has_a_comment_per_decision() -> None:
    """The entry says the convention with its names and labels, the raw status codes, the buckets, the
    missing process metrics, and the scrape port that differs from the traffic port."""
    target = Target(service="payments", port=8101, source="scrape", where=URL, metrics_port=8102)
    text = service_entry(probed(textbook_registry()), target)
    assert text.startswith("  - name: payments\n")
    for line in (
        "    # convention custom: http_requests_total{code,endpoint,method} and "
        "http_request_duration_seconds{endpoint,method} (no in-progress gauge)",
        "    metric_labels: {route: endpoint, method: method, status: code}",
        "    # status codes raw (200, 503): the error rate counts 5.. either way",
        "    # buckets as exposed: 0.05, 0.1, 0.3, 0.6, 1.2, 2.5",
        "    latency_buckets: [0.05, 0.1, 0.3, 0.6, 1.2, 2.5]",
        "    process_metrics: false",
        "    latency: {warning: 0.3, critical: 0.6}",
        "    port: 8101",
    ):
        assert line in text.splitlines(), (line, text)
    assert "metrics_port: 8102" in text
