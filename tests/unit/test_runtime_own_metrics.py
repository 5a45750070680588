"""Local mode and verify for services as users have them: metrics pushed by OTLP (no /metrics, no scrape target),
metrics on their own port, a convention's own names and buckets."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support import free_port

from stack import conventions as c
from stack.config import load_settings
from stack.render import render_all
from stack.runtime import doctor, procs, telemetry
from stack.runtime.local import services_outside
from stack.runtime.programs import Layout, Readiness, metrics_route, programs, readiness, service_program
from stack.settings import StackSettings
from stack.write import write_plan

STACK = """\
project: shop
profile: fast
services:
  - name: inventory
    command: [python, -m, inventory]
    port: {inventory}
    metrics_source: otlp
    metrics_convention: otel
    traffic: [{{method: POST, path: /stock, json_body: {{sku: a}}}}]
  - name: payments
    command: [python, -m, payments]
    port: {payments}
    metrics_port: {payments_metrics}
    metrics_convention: custom
    metric_names: {{requests: http_requests_total, duration: http_request_duration_seconds}}
    metric_labels: {{route: endpoint, method: method, status: status}}
    env: {{OTEL_METRIC_EXPORT_INTERVAL: "1000"}}
  - name: orders
    command: [python, -m, sample_app]
    port: {orders}
    health_path: /healthz
"""


def settings_of(make_project: Callable[[str], Path], **ports: int) -> StackSettings:
    given = {"inventory": 18101, "payments": 18102, "payments_metrics": 19464, "orders": 18103} | ports
    return load_settings(make_project(STACK.format(**given)))


def test_readiness_follows_how_the_service_exposes_its_metrics(make_project) -> None:
    """A health path wins; a scraped service is ready when its metrics path answers on its scrape port (its
    metrics_port); a service that pushes by OTLP has no /metrics, so its first traffic route answering at all
    (a POST route answers 405 to a GET) says it is up."""
    services = {s.name: s for s in settings_of(make_project).services}
    assert readiness(services["orders"]) == Readiness(18103, "/healthz")
    payments = readiness(services["payments"])
    assert (payments.port, payments.path, payments.any_status) == (19464, "/metrics", False)
    inventory = readiness(services["inventory"])
    assert (inventory.port, inventory.path, inventory.any_status) == (18101, "/stock", True)


def test_the_collector_is_required_when_a_service_pushes_its_metrics(make_project) -> None:
    """Metrics pushed by OTLP reach Prometheus only through the collector: local mode must start it then; without
    such a service it stays optional."""
    collector = next(p for p in programs(settings_of(make_project)) if p.name == "otelcol")
    assert collector.required
    scraped = STACK.format(inventory=18101, payments=18102, payments_metrics=19464, orders=18103).replace(
        "    metrics_source: otlp\n", "")
    collector = next(p for p in programs(load_settings(make_project(scraped))) if p.name == "otelcol")
    assert not collector.required


def test_status_says_how_each_service_s_metrics_reach_prometheus(make_project) -> None:
    """Scraped services name the URL Prometheus scrapes (on metrics_port when set); a pushed one says OTLP."""
    services = {s.name: s for s in settings_of(make_project).services}
    assert metrics_route(services["payments"]) == "scraped at http://127.0.0.1:19464/metrics"
    assert metrics_route(services["orders"]) == "scraped at http://127.0.0.1:18103/metrics"
    assert metrics_route(services["inventory"]).startswith(f"pushed by OTLP to the collector (port {c.OTLP_GRPC_PORT})")


def test_started_services_push_as_often_as_prometheus_scrapes(make_project, tmp_path: Path) -> None:
    """The services obsstack starts get the profile's scrape interval as their OTLP export interval, the collector's
    gRPC endpoint with the protocol said (an SDK defaulting to http/protobuf would send to a gRPC port), and an
    otel-convention service the stable HTTP semantic conventions; stack.yaml's env wins over all of it."""
    settings = settings_of(make_project)
    layout = Layout(tmp_path, tmp_path / ".obsstack")
    env = {s.name: service_program(s, otlp=True)[0].env(layout, settings) for s in settings.services}
    interval = str(round(settings.timing.scrape_interval.seconds * 1000))
    assert env["inventory"][c.EXPORT_INTERVAL_ENV] == interval
    assert env["inventory"][c.SEMCONV_OPT_IN_ENV] == "http"
    assert env["inventory"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://127.0.0.1:{c.OTLP_GRPC_PORT}"
    assert env["inventory"]["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc"
    assert env["payments"][c.EXPORT_INTERVAL_ENV] == "1000"  # its own env
    assert c.SEMCONV_OPT_IN_ENV not in env["payments"]
    assert c.SEMCONV_OPT_IN_ENV not in env["orders"]


def test_an_endpoint_from_stack_yaml_keeps_its_own_protocol(make_project, tmp_path: Path) -> None:
    """A service whose env sets the OTLP endpoint (e.g. OTLP/HTTP on 4318) is not told to speak gRPC."""
    text = STACK.format(inventory=18101, payments=18102, payments_metrics=19464, orders=18103)
    text = text.replace("    metrics_source: otlp\n", '    metrics_source: otlp\n    env: {OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318"}\n')
    settings = load_settings(make_project(text))
    inventory = next(s for s in settings.services if s.name == "inventory")
    env = service_program(inventory, otlp=True)[0].env(Layout(tmp_path, tmp_path / ".obsstack"), settings)
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    assert "OTEL_EXPORTER_OTLP_PROTOCOL" not in env


class _NotFound(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404 if self.path != "/metrics" else 200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serving() -> Iterator[int]:
    """A loopback HTTP server answering 404 everywhere but /metrics (as an app without that route answers)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def app_without_metrics() -> Iterator[int]:
    with serving() as port:
        yield port


def test_any_answer_counts_only_when_asked(app_without_metrics: int) -> None:
    """A 404 is not healthy, except for a readiness that only asks whether the app answers; nothing listening
    is never healthy."""
    url = f"http://127.0.0.1:{app_without_metrics}/stock"
    assert not procs.http_ok(url)
    assert procs.http_ok(url, any_status=True)
    assert not procs.http_ok(f"http://127.0.0.1:{free_port()}/stock", any_status=True)


def test_external_services_are_judged_where_their_metrics_are(make_project, tmp_path: Path,
                                                              app_without_metrics: int) -> None:  # fmt: skip
    """An external pushed service is up when its route answers (a 404 too); an external scraped one with its own
    metrics port is judged on that port's /metrics, not on its traffic port."""
    nothing = free_port()
    with serving() as metrics:
        text = STACK.format(inventory=app_without_metrics, payments=nothing, payments_metrics=metrics, orders=18103)
        text = text.replace("command: [python, -m, inventory]", "external: true")
        text = text.replace("command: [python, -m, payments]", "external: true").replace(
            '    env: {OTEL_METRIC_EXPORT_INTERVAL: "1000"}\n', "")
        settings = load_settings(make_project(text))
        lines: list[str] = []
        found = {r.name: r for r in services_outside(settings, tmp_path, lines.append)}
    assert found["inventory"].any_status
    assert found["inventory"].health_url == f"http://127.0.0.1:{app_without_metrics}/stock"
    assert found["payments"].health_url == f"http://127.0.0.1:{metrics}/metrics"
    assert found["payments"].url == f"http://127.0.0.1:{nothing}"
    assert all(line.startswith("ready:") for line in lines), lines


def test_le_values_are_compared_as_numbers_without_inf(make_project) -> None:
    """Remote write keeps an SDK's "1", a scrape by Prometheus 3 writes "1.0": both are the edge 1; +Inf and a
    label that is no number are left out."""
    result = [{"metric": {"le": le}} for le in ("0.5", "1", "1.0", "+Inf", "10", "x")] + [{"metric": {}}]
    assert telemetry.edges_of(result) == (0.5, 1.0, 10.0)
    inventory = settings_of(make_project).services[0]
    ok, detail = telemetry.compare_edges(inventory, (0.5, 1.0, 10.0), (0.5, 1.0, 10.0))
    assert ok
    assert detail == "3 edges [0.5, 1, 10] as declared"


def test_other_edges_fail_naming_both_lists(make_project) -> None:
    """A histogram with other edges than declared fails with both lists and what only each has."""
    settings = settings_of(make_project)
    inventory = settings.services[0]
    declared = settings.buckets(inventory)
    ok, detail = telemetry.compare_edges(inventory, declared, (0.005, 0.2, 10.0))
    assert not ok
    assert 'http_server_request_duration_seconds_bucket{service="inventory"} has le [0.005, 0.2, 10]' in detail
    assert f"stack.yaml declares [{', '.join(f'{b:g}' for b in declared)}]" in detail
    assert "only in Prometheus: [0.2]" in detail
    assert "only declared: [0.01, 0.025," in detail


def target(job: str, health: str = "up") -> dict[str, object]:
    return {"labels": {"job": job}, "scrapeUrl": f"http://127.0.0.1:1/{job}", "health": health, "lastError": ""}


def test_a_pushed_service_has_no_scrape_target(make_project) -> None:
    """Scraped services need their target; a service that pushes by OTLP needs none and must not have one (an
    app without /metrics would be a target down and fire TargetDown); components' targets must be up."""
    services = tuple(settings_of(make_project).services)
    judged = {"inventory", "payments", "orders", "prometheus"}.__contains__
    ok, detail = telemetry.targets_verdict([target("prometheus"), target("payments"), target("orders")], services,
                                           judged)  # fmt: skip
    assert ok
    assert detail == "all up; pushed by OTLP, not scraped: inventory"
    ok, detail = telemetry.targets_verdict([target("prometheus"), target("inventory", "down"), target("orders")],
                                           services, judged)  # fmt: skip
    assert not ok
    assert "inventory http://127.0.0.1:1/inventory: down" in detail
    assert "payments: no scrape target (job payments)" in detail
    assert "inventory: scraped, but metrics_source is otlp (it pushes; expected no scrape job)" in detail


def test_the_doctor_checks_the_overview_once_as_it_opens(make_project, tmp_path: Path) -> None:
    """A service's panels are checked with `$service` set to it, its own dashboard only; the overview, shared by
    every service, once with every service selected: its in-flight panel reads the gauge only some services have,
    and is not empty for the service without one."""
    settings, root = settings_of(make_project), tmp_path  # make_project writes tmp_path/stack.yaml
    write_plan(root, render_all(settings))
    payments = next(s for s in settings.services if s.name == "payments")
    own = doctor.queries(root, settings, payments, 60)
    assert own
    assert all("Overview" not in name for name, _ in own)
    assert any('service="payments"' in expr for _, expr in own)
    overview = dict(doctor.queries(root, settings, None, 60))
    in_flight = next(expr for name, expr in overview.items() if "In-flight" in name)
    assert 'service=~".+"' in in_flight
    assert doctor.scope_name(None) == "all services"
