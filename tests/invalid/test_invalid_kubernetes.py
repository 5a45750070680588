"""Bad input for the Kubernetes target: what Kubernetes would refuse is one line, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from stack.cli import app
from tests.support import assert_refused

VALID = """\
project: demo
services:
  - name: orders
    port: 8000
    labels: {team: checkout}
"""
ON = "kubernetes: {enabled: true}\n"

CASES = {
    "service_name_with_underscore": (
        VALID.replace("name: orders", "name: orders_api") + ON,
        ["services[0].name", "'orders_api'", "RFC 1123 label"],
    ),
    "service_label_with_space": (
        VALID.replace("team: checkout", "team: check out") + ON,
        ["services[0].labels.team", "'check out'", "label value"],
    ),
    "selector_label_value_with_space": (
        VALID + "kubernetes: {enabled: true, selector_labels: {release: kube prometheus}}\n",
        ["kubernetes.selector_labels", "'kube prometheus'", "label value"],
    ),
    "selector_label_key_invalid": (
        VALID + "kubernetes: {enabled: true, selector_labels: {'-release': x}}\n",
        ["kubernetes.selector_labels", "'-release'", "label key"],
    ),
    "namespace_uppercase": (
        VALID + "kubernetes: {enabled: true, namespace: Monitoring}\n",
        ["kubernetes.namespace", "'Monitoring'", "RFC 1123 label"],
    ),
    "services_namespace_too_long": (
        VALID + f"kubernetes: {{enabled: true, services_namespace: {'a' * 64}}}\n",
        ["kubernetes.services_namespace", "at most 63"],
    ),
    "metrics_port_too_long": (
        VALID + "kubernetes: {enabled: true, metrics_port: http-metrics-port}\n",
        ["kubernetes.metrics_port", "'http-metrics-port'", "IANA service name"],
    ),
    "token_secret_uppercase": (
        VALID + "kubernetes: {enabled: true, metrics_token_secret: Tokens}\n",
        ["kubernetes.metrics_token_secret", "'Tokens'", "RFC 1123 subdomain"],
    ),
    "unknown_monitor_kind": (
        VALID + "kubernetes: {enabled: true, monitor_kind: Probe}\n",
        ["kubernetes.monitor_kind", "Probe"],
    ),
    "chart_version_range": (
        VALID + "kubernetes: {enabled: true, charts: {loki: '18.*'}}\n",
        ["kubernetes.charts.loki", "'18.*'", "X.Y.Z"],
    ),
}


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    """A project whose outputs (the Kubernetes target among them) were generated from a valid stack.yaml."""
    (tmp_path / "stack.yaml").write_text(VALID + ON, encoding="utf-8")
    result = CliRunner().invoke(app, ["generate", "--config", str(tmp_path / "stack.yaml")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "kubernetes" / "base" / "kustomization.yaml").is_file()
    return tmp_path


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_kubernetes_input_is_one_line_and_exit_2(case: str, generated: Path) -> None:
    """A name, namespace or label Kubernetes would refuse: exit 2, one line naming field, value, expectation."""
    text, expected = CASES[case]
    assert_refused(generated, text, expected)


def test_kubernetes_names_are_only_checked_when_the_target_is_on(tmp_path: Path) -> None:
    """A service named orders_api is fine while the Kubernetes target is off."""
    config = tmp_path / "stack.yaml"
    config.write_text(VALID.replace("name: orders", "name: orders_api"), encoding="utf-8")
    result = CliRunner().invoke(app, ["generate", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "kubernetes").exists()
