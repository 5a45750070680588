"""Bad `backends` input: one clear line (what, where, value, expected), exit 2, nothing written."""

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
"""

CASES = {
    "unknown_trace_store": (VALID + "backends: {traces: zipkin}\n", ["backends.traces", "'zipkin'", "tempo", "jaeger"]),
    "unknown_log_store": (VALID + "backends: {logs: elastic}\n", ["backends.logs", "'elastic'", "victorialogs"]),
    "unknown_backend_key": (VALID + "backends: {metrics: mimir}\n", ["backends.metrics", "unknown key"]),
    "jaeger_image_unpinned": (
        VALID + "backends: {traces: jaeger}\ncomponents:\n  jaeger: {image: 'jaegertracing/jaeger:latest'}\n",
        ["components.jaeger.image", "pinned tag", "'jaegertracing/jaeger:latest'"],
    ),
    "victorialogs_image_without_tag": (
        VALID + "backends: {logs: victorialogs}\ncomponents:\n  victorialogs: {image: victoriametrics/victoria-logs}\n",
        ["components.victorialogs.image", "pinned tag"],
    ),
    "jaeger_pin_missing": (
        VALID + "backends: {traces: jaeger}\ncomponents: {jaeger: null}\n",
        ["components.jaeger", "valid dictionary", "None"],
    ),
    "jaeger_port_clash": (
        VALID + "backends: {traces: jaeger}\ncomponents:\n  grafana: {port: 16686}\n",
        ["components.jaeger.port", "127.0.0.1:16686", "components.grafana"],
    ),
    "service_on_a_jaeger_port": (
        VALID.replace("port: 8000", "port: 13134") + "backends: {traces: jaeger}\n",
        ["services[0] (orders).port", "127.0.0.1:13134", "components.jaeger health"],
    ),
    "victorialogs_port_clash": (
        VALID + "backends: {logs: victorialogs}\ncomponents:\n  victorialogs: {port: 9090}\n",
        ["components.victorialogs.port", "127.0.0.1:9090", "components.prometheus"],
    ),
}


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    """A project whose outputs were generated from a valid stack.yaml."""
    return generated_project(tmp_path, VALID)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_backend_input_is_one_clear_line_and_exit_2(case: str, generated: Path) -> None:
    """Each bad backends/components input gives exit 2 and one line naming the key, the value and the choices."""
    text, expected = CASES[case]
    assert_refused(generated, text, expected)


def test_a_store_not_chosen_may_share_a_port(generated: Path) -> None:
    """Jaeger's ports are only claimed when Jaeger is the chosen trace store."""
    config = generated / "stack.yaml"
    config.write_text(VALID.replace("port: 8000", "port: 13134"), encoding="utf-8")
    result = CliRunner().invoke(app, ["generate", "--config", str(config)])
    assert result.exit_code == 0, result.output
