"""Bad stack.yaml: one clear line (what, where, value, expected), exit 2, nothing written or lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from stack.cli import app
from tests.support import assert_refused, generated_project

VALID = """\
project: demo
services:
  - name: orders
    port: 8000
    labels: {team: checkout}
"""

# nine levels of nine aliases each: 9**9 values once expanded, from a dozen lines of text
BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{key}: &{key} [{', '.join([f'*{previous}'] * 9)}]\n" for previous, key in zip("abcdefgh", "bcdefghi", strict=True)
)

CASES = {
    "malformed_yaml": ("services:\n  - name: orders\n    port: [8000\n", ["malformed YAML", "stack.yaml:"]),
    "unknown_key": (VALID + "    colour: blue\n", ["services[0].colour", "unknown key"]),
    "duplicate_service": (VALID + "  - name: orders\n", ["services[1].name", "duplicate", "'orders'"]),
    "duplicate_yaml_key": ("project: a\nproject: b\nservices: [{name: x}]\n", ["duplicate key 'project'"]),
    "duration_in_words": (
        VALID + "profiles:\n  production: {rate_window: 5 minutes}\n",
        ["profiles.production.rate_window", "'5 minutes'", "Prometheus duration"],
    ),
    "negative_threshold": (VALID + "    latency: {warning: -0.2}\n", ["services[0].latency.warning", "-0.2"]),
    "zero_threshold": (VALID + "    error_rate: {warning: 0}\n", ["services[0].error_rate.warning", "got 0"]),
    "slo_of_100_percent": (VALID + "    slo: {objective: 1.0}\n", ["services[0].slo.objective", "1.0"]),
    "slo_above_100_percent": (VALID + "    slo: {objective: 99.9}\n", ["services[0].slo.objective", "99.9"]),
    "scrape_longer_than_window": (
        VALID + "profiles:\n  production: {scrape_interval: 10m, rate_window: 5m}\n",
        ["profiles.production", "rate_window (5m)", "scrape_interval (10m)"],
    ),
    "promql_injection_in_name": (
        "services:\n  - name: 'api\"} or vector(1) #'\n",
        ["services[0].name", "vector(1)"],
    ),
    "yaml_injection_in_label": (
        VALID.replace("team: checkout", 'team: "x\\nseverity: none"'),
        ["services[0].labels", "label team"],
    ),
    "promql_injection_in_label": (
        VALID.replace("team: checkout", "team: 'a\"} or vector(1) #'"),
        ["services[0].labels", "vector(1)"],
    ),
    "output_outside_project": (VALID + "output: {alerts_dir: ../elsewhere}\n", ["output.alerts_dir", "../elsewhere"]),
    "absolute_output": (VALID + "output: {compose_dir: /etc}\n", ["output.compose_dir", "/etc"]),
    "threshold_not_a_bucket": (VALID + "    latency: {warning: 0.3}\n", ["latency.warning", "latency_buckets"]),
    "two_run_kinds": (
        VALID + "    external: true\n    image: acme/orders:1.2.0\n",
        ["services[0]", "exactly one of external, command, image, build", "external and image"],
    ),
    "image_without_tag": (VALID + "    image: acme/orders\n", ["services[0].image", "pinned tag", "'acme/orders'"]),
    "image_latest": (VALID + "    image: acme/orders:latest\n", ["services[0].image", "'acme/orders:latest'"]),
    "command_not_a_list": (
        VALID + "    command: uvicorn app:app\n",
        ["services[0].command", "list of arguments", "'uvicorn app:app'"],
    ),
    "two_services_one_port": (
        VALID + "  - {name: billing, port: 8000}\n",
        ["services[1] (billing).port", "127.0.0.1:8000", "services[0] (orders)"],
    ),
    "service_on_a_component_port": (
        VALID.replace("port: 8000", "port: 9090"),
        ["services[0] (orders).port", "127.0.0.1:9090", "components.prometheus"],
    ),
    "port_true": (VALID.replace("port: 8000", "port: true"), ["services[0].port", "True"]),
    "component_port_true": (
        VALID + "components:\n  grafana: {image: 'grafana/grafana:12.1.1', port: true}\n",
        ["components.grafana.port", "whole number, not a boolean", "True"],
    ),
    "two_components_one_port": (
        VALID + "components:\n  grafana: {port: 9090}\n",
        ["components.grafana.port", "127.0.0.1:9090", "components.prometheus"],
    ),
    "component_on_a_fixed_port": (
        VALID + "components:\n  prometheus: {port: 4317}\n",
        ["components.prometheus.port", "127.0.0.1:4317", "components.otelcol otlp grpc"],
    ),
    "service_on_the_alert_receiver_port": (
        VALID.replace("port: 8000", "port: 9095"),
        ["services[0] (orders).port", "127.0.0.1:9095", "alerting.webhook_url"],
    ),
    "alert_receiver_on_a_component_port": (
        VALID + "alerting: {webhook_url: 'http://localhost:9093/alerts'}\n",
        ["alerting.webhook_url", "127.0.0.1:9093", "components.alertmanager"],
    ),
    "yaml_alias_bomb": (
        BILLION_LAUGHS + VALID,
        ["YAML aliases expand the document to 490329077 values", "expected at most 10000"],
    ),
    "yaml_recursive_alias": (
        "services: &s [{name: orders, labels: {team: *s}}]\n",
        ["YAML aliases expand the document without end", "expected at most 10000"],
    ),
    "threshold_not_an_edge_of_own_buckets": (
        VALID + "    latency_buckets: [0.1, 0.5, 1]\n",
        ["services[0].latency.warning", "0.2 is not an edge", "its latency_buckets: 0.1, 0.5, 1", "nearest are 0.1 and 0.5"],  # noqa: E501
    ),
    "critical_below_warning": (VALID + "    latency: {warning: 0.5, critical: 0.2}\n", ["critical (0.2)"]),
    "business_counter_without_total": (
        VALID + "    business:\n      metrics: [{name: orders_created, type: counter, title: Orders}]\n",
        ["services[0].business.metrics[0]", "_total"],
    ),
    "business_alert_on_gauge": (
        VALID + "    business:\n      metrics: [{name: carts, type: gauge, title: Carts}]\n"
        "      alerts: [{name: CartsHigh, metric: carts, failure: {}, above: 0.5}]\n",
        ["services[0].business", "declared counter or histogram", "'carts'"],
    ),
    "business_alert_undeclared_value": (
        VALID + "    business:\n      metrics: [{name: pay_total, type: counter, title: Pay, "
        "labels: {outcome: [ok, failed]}}]\n"
        "      alerts: [{name: PayFails, metric: pay_total, failure: {outcome: failure}, above: 0.05}]\n",
        ["services[0].business", "outcome='failure'", "not a declared value"],
    ),
    "business_alert_name_clash": (
        VALID + "    business:\n      metrics: [{name: pay_total, type: counter, title: Pay, "
        "labels: {outcome: [ok, failed]}}]\n"
        "      alerts: [{name: HighErrorRate, metric: pay_total, failure: {outcome: failed}, above: 0.05}]\n",
        ["services[0].business", "'HighErrorRate' is already an alert name"],
    ),
    "business_label_value_injection": (
        VALID + "    business:\n      metrics: [{name: pay_total, type: counter, title: Pay, "
        "labels: {outcome: ['a\"} or vector(1)']}}]\n",
        ["services[0].business.metrics[0]", "plain text"],
    ),
    "unpinned_image": (
        VALID + "components:\n  prometheus: {image: 'prom/prometheus:latest', port: 9090}\n",
        ["components.prometheus.image", "pinned"],
    ),
}


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    """A project whose outputs were generated from a valid stack.yaml."""
    return generated_project(tmp_path, VALID)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_clear_line_and_exit_2(case: str, generated: Path) -> None:
    """Each bad input gives exit code 2, one error line naming field, file and value, no traceback."""
    text, expected = CASES[case]
    assert_refused(generated, text, expected)


def test_bad_environment_value_is_reported(generated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An invalid OBSSTACK_* value is rejected like a file value."""
    monkeypatch.setenv("OBSSTACK_PROFILE", "turbo")
    result = CliRunner().invoke(app, ["generate", "--config", str(generated / "stack.yaml")])
    assert result.exit_code == 2
    assert "profile" in result.stderr
    assert "'turbo'" in result.stderr


def test_missing_config_file(tmp_path: Path) -> None:
    """A missing stack.yaml is one line and exit 2."""
    result = CliRunner().invoke(app, ["generate", "--config", str(tmp_path / "absent.yaml")])
    assert result.exit_code == 2
    assert "file not found" in result.stderr
