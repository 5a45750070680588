"""The collector's own counters as verify reads them, on the pinned collector build: a span posted over OTLP shows
as one more accepted span on its metrics port (its 0.165 endpoint names counters without `_total`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from support import collector_binary, free_port

from stack.config import load_settings
from stack.runtime.outages import collector_accepted
from stack.runtime.promapi import wait_until

pytestmark = pytest.mark.e2e

CONFIG = """\
receivers:
  otlp:
    protocols:
      http: {{endpoint: "127.0.0.1:{otlp}"}}
exporters:
  otlp/tempo:
    endpoint: "127.0.0.1:{nowhere}"
    tls: {{insecure: true}}
service:
  telemetry:
    metrics:
      readers:
        - pull: {{exporter: {{prometheus: {{host: 127.0.0.1, port: {metrics}}}}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlp/tempo]}}
"""
SPAN = {"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [{
    "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331", "name": "probe", "kind": 2,
    "startTimeUnixNano": "1", "endTimeUnixNano": "2"}]}]}]}  # fmt: skip


def test_an_accepted_span_shows_on_the_collectors_metrics_port(tmp_path: Path, make_project) -> None:
    """Before any span the counter reads 0; one span posted over OTLP/HTTP makes it 1 (exported or not: the
    exporter's Tempo is not there, which is what a stack without Tempo looks like)."""
    otlp, metrics = free_port(), free_port()
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(otlp=otlp, nowhere=free_port(), metrics=metrics), encoding="utf-8")
    url = f"http://127.0.0.1:{metrics}/metrics"
    log = (tmp_path / "collector.log").open("w")
    binary = collector_binary(load_settings(make_project()))
    proc = subprocess.Popen([binary, f"--config={config}"], stdout=log, stderr=log)
    try:
        up = wait_until(lambda: (collector_accepted(url) is not None, "no answer"), 30, 0.2)
        assert up.ok, (tmp_path / "collector.log").read_text()
        assert collector_accepted(url) == 0
        answer = httpx.post(f"http://127.0.0.1:{otlp}/v1/traces", json=SPAN, timeout=5)
        assert answer.status_code == 200, answer.text
        grown = wait_until(lambda: (collector_accepted(url) == 1, f"accepted {collector_accepted(url)}"), 15, 0.2)
        assert grown.ok, grown.last
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
