"""The builders on services as users have them (tests/golden/stack.yaml): `inventory` pushes OpenTelemetry
metrics by OTLP (metrics_source otlp, otel convention, labels {team: stock}); `payments` has hand-written
metrics of its own names and labels (custom: payments_requests_total, payments_request_seconds; endpoint,
verb, code; no in-progress gauge) on its own port 9464; `orders` and `billing` are instrumentator-shaped."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from stack import conventions as c
from stack.builders.alertmanager import build_alertmanager
from stack.builders.backends import trace_metric_queries
from stack.builders.charts import ClusterUrls, k8s_monitoring
from stack.builders.compose import build_compose
from stack.builders.dashboards import build_dashboards
from stack.builders.kubernetes import build_objects
from stack.builders.otelcol import build_otelcol
from stack.builders.prometheus import build_prometheus
from stack.builders.rule_tests import build_rule_tests
from stack.builders.rules import build_rule_files
from stack.config import load_settings
from stack.models import kubernetes as k
from stack.settings import StackSettings

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "stack.yaml"
HISTOGRAM_COUNT = "http_server_request_duration_seconds_count{"
# a default metric name (not a recording rule's, which keep theirs: service:http_requests:rate5m) or label
DEFAULTS = re.compile(r"(?<![:\w])(http_requests_total|http_request_duration_seconds)|\b(handler|status|method)\b")


@pytest.fixture(scope="module")
def golden() -> StackSettings:
    return load_settings(GOLDEN)


def _exprs(settings: StackSettings, service: str) -> list[str]:
    rule_file = build_rule_files(settings)[c.rules_file(service)]
    return [rule.expr for group in rule_file.groups for rule in group.rules]


def _alerts(settings: StackSettings, service: str) -> set[str]:
    rule_file = build_rule_files(settings)[c.rules_file(service)]
    return {getattr(rule, "alert", None) or "" for group in rule_file.groups for rule in group.rules} - {""}


def _panels(settings: StackSettings, service: str) -> dict[str, list[str]]:
    """Panel title -> its query expressions, in the service's dashboard."""
    board = build_dashboards(settings)[c.dashboard_name(service)]
    return {p["title"]: [t.get("expr", "") for t in p.get("targets", [])] for p in board["panels"]}


def _variables(settings: StackSettings, service: str) -> dict[str, Any]:
    board = build_dashboards(settings)[c.dashboard_name(service)]
    return {v["name"]: v.get("query") for v in board["templating"]["list"]}


def test_custom_service_rules_read_only_its_own_names_and_labels(golden: StackSettings) -> None:
    """Every rule of payments selects its own metrics and groups by its own route label; none reads a default
    name or label."""
    exprs = _exprs(golden, "payments")
    text = "\n".join(exprs)
    assert 'payments_requests_total{service="payments",code=~"5.."}' in text
    assert "sum by (service, endpoint, le) (rate(payments_request_seconds_bucket" in text
    assert "absent(payments_requests_total{" in text
    assert not DEFAULTS.search(text), DEFAULTS.search(text)


def test_custom_service_dashboard_queries_its_own_labels(golden: StackSettings) -> None:
    """payments' per-route panels and variables use endpoint and code; no query reads a default name."""
    panels, variables = _panels(golden, "payments"), _variables(golden, "payments")
    assert panels["Requests/s by route"] == [
        'sum by (endpoint) (rate(payments_requests_total{service="$service",instance=~"$instance",'
        'endpoint=~"$route"}[$__rate_interval]))'
    ]
    assert '"code", "(.).*")' in panels["Requests/s by status class"][0]
    assert 'code=~"5.."' in panels["5xx errors/s by route"][0]
    assert variables["route"] == 'label_values(payments_requests_total{service="$service"}, endpoint)'
    every = "\n".join(e for exprs in panels.values() for e in exprs) + json.dumps(variables)
    assert not DEFAULTS.search(every), DEFAULTS.search(every)


def test_optional_metrics_panels_and_alerts_are_left_out(golden: StackSettings) -> None:
    """No in-flight panel without an in-progress gauge (payments); no process panels and no ServiceRestarting
    (rules and generated tests) without process_* (inventory, the otel convention)."""
    payments, inventory = _panels(golden, "payments"), _panels(golden, "inventory")
    assert "In-flight requests" not in payments
    assert {"Process CPU", "Process memory (RSS)", "Restarts (15m)"} <= set(payments)
    assert inventory["In-flight requests"] == [
        'sum by (instance) (http_server_active_requests{service="$service",instance=~"$instance"})'
    ]
    assert not {"Process CPU", "Process memory (RSS)", "Restarts (15m)"} & set(inventory)
    assert c.ALERT_RESTARTS not in _alerts(golden, "inventory")
    assert c.ALERT_RESTARTS in _alerts(golden, "payments")
    tested = build_rule_tests(golden)[c.rules_test_file(c.rules_file("inventory"))].to_data()
    assert c.ALERT_RESTARTS not in json.dumps(tested)
    assert "process_" not in json.dumps(tested)


def test_overview_in_flight_reads_the_gauges_services_have(golden: StackSettings) -> None:
    """The overview's in-flight panel reads exactly the services' in-progress gauges; none: no panel."""
    overview = build_dashboards(golden)[c.OVERVIEW_DASHBOARD]
    exprs = {p["title"]: p["targets"][0]["expr"] for p in overview["panels"] if p.get("targets")}
    assert '__name__=~"http_requests_inprogress|http_server_active_requests"' in exprs["In-flight requests"]
    only_payments = golden.model_copy(update={"services": tuple(s for s in golden.services if s.name == "payments")})
    titles = [p["title"] for p in build_dashboards(only_payments)[c.OVERVIEW_DASHBOARD]["panels"]]
    assert "In-flight requests" not in titles


def test_pushed_service_is_listed_without_up(golden: StackSettings) -> None:
    """The service variable lists services from `up` and from the request-rate recording rule, so a pushed
    service (no `up`) is listed too."""
    query = _variables(golden, "inventory")["service"]
    assert query == 'label_values({__name__=~"up|service:http_requests:rate5m"}, service)'


def test_pushed_service_has_no_scrape_job_anywhere(golden: StackSettings) -> None:
    """inventory has no job in prometheus.yml (containers and local), no ServiceMonitor/PodMonitor; the
    scraped services keep theirs."""
    jobs = {job.job_name for job in build_prometheus(golden).scrape_configs}
    assert {"orders", "billing", "payments"} <= jobs
    assert "inventory" not in jobs
    local = c.Placement(local=True, running=("prometheus", "orders", "payments", "inventory"), project_root="/p")
    assert [j.job_name for j in build_prometheus(golden, local).scrape_configs] == ["prometheus", "orders", "payments"]
    objects = build_objects(golden)
    assert not [name for name in objects if "monitor-inventory" in name]
    assert "servicemonitor-payments.yaml" in objects


def test_scrape_targets_use_the_metrics_port(golden: StackSettings) -> None:
    """payments is scraped on its metrics_port 9464, not its port 8003: in compose, locally and in a cluster
    (ServiceMonitor targetPort, PodMonitor portNumber)."""
    jobs = {job.job_name: job for job in build_prometheus(golden).scrape_configs}
    assert jobs["payments"].static_configs[0].targets == (f"{c.HOST_GATEWAY}:9464",)
    assert jobs["billing"].static_configs[0].targets == (f"{c.HOST_GATEWAY}:8001",)
    local = c.Placement(local=True, running=("payments",), project_root="/p")
    assert build_prometheus(golden, local).scrape_configs[0].static_configs[0].targets == ("127.0.0.1:9464",)
    monitor = build_objects(golden)["servicemonitor-payments.yaml"]
    assert isinstance(monitor, k.ServiceMonitor)
    endpoint = monitor.spec.endpoints[0]
    assert (endpoint.port, endpoint.targetPort, endpoint.portNumber) == (None, 9464, None)
    pods = golden.model_copy(update={"kubernetes": golden.kubernetes.model_copy(update={"monitor_kind": "PodMonitor"})})
    pod = build_objects(pods)["podmonitor-payments.yaml"]
    assert isinstance(pod, k.PodMonitor)
    assert (pod.spec.podMetricsEndpoints[0].port, pod.spec.podMetricsEndpoints[0].portNumber) == (None, 9464)


def test_pushed_service_no_data_alert_reads_no_up(golden: StackSettings) -> None:
    """inventory's ServiceMetricsAbsent and TrafficDrop read only its request series (it has no `up`); a
    scraped service's TrafficDrop keeps its `up` guard."""
    alerts = {rule.alert: rule.expr for rule in build_rule_files(golden)[c.rules_file("inventory")].groups[2].rules}
    assert alerts[c.ALERT_ABSENT] == 'absent(http_server_request_duration_seconds_count{service="inventory"})'
    assert not re.search(r"\bup\b", alerts[c.ALERT_TRAFFIC_DROP])
    tests = build_rule_tests(golden)[c.rules_test_file(c.rules_file("inventory"))].to_data()
    assert not [s for group in tests["tests"] for s in group["input_series"] if s["series"].startswith("up{")]
    orders = {rule.alert: rule.expr for rule in build_rule_files(golden)[c.rules_file("orders")].groups[2].rules}
    assert 'sum by (service) (up{service="orders"}) > 0' in orders[c.ALERT_TRAFFIC_DROP]


def test_collector_labels_only_the_pushed_services_metrics(golden: StackSettings) -> None:
    """The collector's metrics pipeline (and only it) sets `service` and the stack.yaml labels on the resource
    of inventory's metrics, matched by service.name; remote write turns resource attributes into labels."""
    config = build_otelcol(golden)
    pipelines = config.service.pipelines
    assert pipelines.metrics.processors == ("memory_limiter", "resource", "transform/pushed", "batch")
    assert "transform/pushed" not in pipelines.traces.processors + pipelines.logs.processors
    transform = config.processors.transform_pushed
    assert transform is not None
    assert [group.to_data() for group in transform.metric_statements] == [
        {
            "context": "resource",
            "conditions": ['attributes["service.name"] == "inventory"'],
            "statements": ['set(attributes["service"], "inventory")', 'set(attributes["team"], "stock")'],
        }
    ]
    assert config.exporters.prometheusremotewrite.resource_to_telemetry_conversion.enabled
    scraped = golden.model_copy(update={"services": golden.services[:2]})
    assert "transform/pushed" not in build_otelcol(scraped).to_data()["processors"]


def test_collector_down_silences_pushed_services_absent_alert(golden: StackSettings) -> None:
    """TargetDown of the collector inhibits ServiceMetricsAbsent of the pushed services (their metrics come
    through it); a service's own TargetDown still inhibits its own."""
    rules = [r.to_data() for r in build_alertmanager(golden).inhibit_rules]
    assert {
        "source_matchers": [f'alertname="{c.ALERT_TARGET_DOWN}"', 'service="otelcol"'],
        "target_matchers": [f'alertname="{c.ALERT_ABSENT}"', 'service=~"inventory"'],
    } in rules
    assert {
        "source_matchers": [f'alertname="{c.ALERT_TARGET_DOWN}"'],
        "target_matchers": [f'alertname="{c.ALERT_ABSENT}"'],
        "equal": ["service"],
    } in rules


def test_trace_to_metrics_links_read_the_services_names(golden: StackSettings) -> None:
    """The trace-to-metrics queries match the request and histogram names of the stack's services."""
    rate, latency = (q.query for q in trace_metric_queries(golden))
    names = "http_requests_total|http_server_request_duration_seconds_count|payments_requests_total"
    assert f'{{__name__=~"{names}",$$__tags}}' in rate
    buckets = (
        "http_request_duration_seconds_bucket|http_server_request_duration_seconds_bucket|payments_request_seconds_bucket"
    )
    assert f'{{__name__=~"{buckets}",$$__tags}}' in latency


COMPOSED = """project: demo
services:
  - {name: pusher, image: "example/pusher:1", port: 8000, metrics_source: otlp, metrics_convention: otel}
  - name: counter
    image: "example/counter:1"
    port: 8001
    metrics_port: 9464
    metrics_convention: custom
    metric_names: {requests: app_requests_total, duration: app_request_seconds}
    metric_labels: {route: endpoint}
"""


def test_compose_passes_export_interval_and_semconv_and_metrics_port(make_project) -> None:
    """Compose's services get the profile's scrape interval as their OTLP export interval, the stable HTTP
    semconv for otel, and their metrics port published beside their port."""
    settings = load_settings(make_project(COMPOSED))
    services = build_compose(settings).services
    interval = str(settings.timing.scrape_interval.ms)
    pusher, counter = services["pusher"], services["counter"]
    assert pusher.environment is not None
    assert counter.environment is not None
    assert pusher.environment[c.EXPORT_INTERVAL_ENV] == interval
    assert pusher.environment[c.SEMCONV_OPT_IN_ENV] == "http"
    assert "OTEL_METRICS_EXPORTER" not in pusher.environment
    assert counter.environment[c.EXPORT_INTERVAL_ENV] == interval
    assert c.SEMCONV_OPT_IN_ENV not in counter.environment
    assert counter.ports == ("127.0.0.1:8001:8001", "127.0.0.1:9464:9464")
    assert pusher.ports == ("127.0.0.1:8000:8000",)


def test_kubernetes_instrumentation_lets_pushed_services_send_metrics(golden: StackSettings) -> None:
    """The shared Instrumentation turns the agent's metrics off (scraped services); a pushed service has its
    own, which pushes them as that service at the scrape interval in the stable HTTP semconv."""
    objects = build_objects(golden)
    shared, own = objects["instrumentation.yaml"], objects["instrumentation-inventory.yaml"]
    assert isinstance(shared, k.Instrumentation)
    assert isinstance(own, k.Instrumentation)
    shared_env = {e.name: e.value for e in shared.spec.python.env or ()}
    own_env = {e.name: e.value for e in own.spec.python.env or ()}
    assert shared_env["OTEL_METRICS_EXPORTER"] == "none"
    assert "OTEL_METRICS_EXPORTER" not in own_env
    assert own_env["OTEL_SERVICE_NAME"] == "inventory"
    assert own_env[c.EXPORT_INTERVAL_ENV] == str(golden.timing.scrape_interval.ms)
    assert own_env[c.SEMCONV_OPT_IN_ENV] == "http"
    assert own.metadata.name == "obsstack-python-inventory"


def test_cluster_receiver_labels_only_the_pushed_services_metrics(golden: StackSettings) -> None:
    """In a cluster, k8s-monitoring's OTLP receiver sets `service` and the stack.yaml labels on the datapoints
    of inventory's metrics (matched by service.name) before they go to Mimir; without a pushed service it
    transforms nothing."""
    values = k8s_monitoring(golden, ClusterUrls(golden.kubernetes.namespace)).to_data()
    assert values["applicationObservability"]["metrics"] == {"transforms": {"datapoint": [
        'set(attributes["service"], "inventory") where resource.attributes["service.name"] == "inventory"',
        'set(attributes["team"], "stock") where resource.attributes["service.name"] == "inventory"',
    ]}}  # fmt: skip
    scraped = golden.model_copy(update={"services": golden.services[:2]})
    assert "metrics" not in k8s_monitoring(scraped, ClusterUrls(golden.kubernetes.namespace)).to_data()[
        "applicationObservability"]  # fmt: skip


def test_pushed_service_traffic_drop_is_tested_with_pushes_that_stop(golden: StackSettings) -> None:
    """inventory's generated TrafficDrop tests replace "the target is down" with pushes that stop: its request
    counters have missing samples (`_xN`) and no test feeds it an `up` series."""
    tests = build_rule_tests(golden)[c.rules_test_file(c.rules_file("inventory"))].to_data()
    series = [s for group in tests["tests"] for s in group["input_series"]]
    assert any(" _x" in s["values"] and s["series"].startswith(HISTOGRAM_COUNT) for s in series)
    assert not [s for s in series if s["series"].startswith("up{")]


def test_platform_tests_take_a_scraped_target_when_the_first_service_pushes(golden: StackSettings) -> None:
    """TargetDown is tested on the first scraped service's target: a pushed service has none."""
    pushed_first = golden.model_copy(update={"services": (golden.services[2], golden.services[3])})
    tests = build_rule_tests(pushed_first)[c.rules_test_file(c.PLATFORM_RULES_FILE)].to_data()
    (up,) = tests["tests"][0]["input_series"]
    assert up["series"] == 'up{job="payments", instance="127.0.0.1:9464", service="payments"}'
