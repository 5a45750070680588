"""The licence-clean stores as local mode runs them: the pinned Jaeger and VictoriaLogs builds, fed by the pinned
collector through the exporters the generator writes (OTLP gRPC into Jaeger, OTLP/HTTP protobuf into VictoriaLogs
at /insert/opentelemetry/v1/logs); a request the sample app serves under verify's own traceparent is found in
both by its trace id, with the lookups verify uses (stack.runtime.stores)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from support import answers, free_port, running_app

from stack import conventions as c
from stack.config import load_settings
from stack.runtime.pipeline import new_trace
from stack.runtime.programs import programs
from stack.runtime.promapi import wait_until
from stack.runtime.stores import LOG_APIS, TRACE_APIS

pytestmark = pytest.mark.e2e

COLLECTOR = """\
receivers:
  otlp:
    protocols:
      http: {{endpoint: "127.0.0.1:{otlp}"}}
exporters:
  otlp/jaeger:
    endpoint: "127.0.0.1:{jaeger_otlp}"
    tls: {{insecure: true}}
  otlphttp/victorialogs:
    logs_endpoint: "http://127.0.0.1:{logs}{path}"
    encoding: proto
service:
  telemetry:
    metrics:
      readers:
        - pull: {{exporter: {{prometheus: {{host: 127.0.0.1, port: {metrics}}}}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlp/jaeger]}}
    logs: {{receivers: [otlp], exporters: [otlphttp/victorialogs]}}
"""
JAEGER = """\
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  telemetry:
    metrics:
      readers:
        - pull: {{exporter: {{prometheus: {{host: 127.0.0.1, port: {metrics}}}}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [jaeger_storage_exporter]}}
extensions:
  jaeger_storage: {{backends: {{memstore: {{memory: {{max_traces: 100000}}}}}}}}
  jaeger_query:
    storage: {{traces: memstore}}
    http: {{endpoint: "127.0.0.1:{query}"}}
    grpc: {{endpoint: "127.0.0.1:{query_grpc}"}}
  healthcheckv2: {{use_v2: true, http: {{endpoint: "127.0.0.1:{health}"}}}}
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{otlp}"}}
exporters:
  jaeger_storage_exporter: {{trace_storage: memstore}}
"""


def built(make_project, name: str) -> str:
    """The binary `up --local` would start for component `name` with the licence-clean stores chosen (the
    pinned build); under CI a missing one fails."""
    settings = load_settings(make_project(), {"backends": {"traces": "jaeger", "logs": "victorialogs"}})
    found = next(p for p in programs(settings) if p.name == name).find(settings)
    if found is None:
        message = f"{name} is not built; run `obsstack components build {name}`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@contextmanager
def process(argv: list[str], log: Path, ready: str) -> Iterator[None]:
    """`argv` running until the block ends, once `ready` answers 200 (its log in the assertion otherwise)."""
    with log.open("w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=out)
        try:
            up = wait_until(lambda: (answers(ready), f"no answer at {ready}"), 60, 0.3)
            assert up.ok, log.read_text()[-2000:]
            yield
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_a_traced_request_arrives_in_jaeger_and_victorialogs(tmp_path: Path, make_project) -> None:
    """The sample app, exporting through the collector, serves one request with our traceparent: Jaeger returns
    that trace by id and lists it in a search by service, VictoriaLogs returns its log records by trace_id."""
    jaeger_bin, logs_bin, collector_bin = (built(make_project, n) for n in ("jaeger", "victorialogs", "otelcol"))
    ports = {k: free_port() for k in ("otlp", "jaeger_otlp", "logs", "metrics", "query", "query_grpc", "health",
                                      "jaeger_metrics")}  # fmt: skip
    (tmp_path / "jaeger.yaml").write_text(JAEGER.format(
        metrics=ports["jaeger_metrics"], query=ports["query"], query_grpc=ports["query_grpc"],
        health=ports["health"], otlp=ports["jaeger_otlp"]))  # fmt: skip
    (tmp_path / "collector.yaml").write_text(COLLECTOR.format(path=c.VICTORIALOGS_OTLP_PATH, **ports))
    jaeger, logs = f"http://127.0.0.1:{ports['query']}", f"http://127.0.0.1:{ports['logs']}"
    logs_argv = [logs_bin, *c.victorialogs_flags(str(tmp_path / "vl-data"), "127.0.0.1", ports["logs"])]
    # its log lines by OTLP, as in compose (locally the collector reads them from the service's log file)
    env = {"OTEL_SERVICE_NAME": "orders", "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{ports['otlp']}",
           "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OBS_OTLP_LOGS": "true"}  # fmt: skip
    with ExitStack() as stack:
        stack.enter_context(process([jaeger_bin, f"--config={tmp_path / 'jaeger.yaml'}"], tmp_path / "jaeger.log",
                                    jaeger + TRACE_APIS["jaeger"].health_path))  # fmt: skip
        stack.enter_context(process(logs_argv, tmp_path / "vl.log", logs + LOG_APIS["victorialogs"].health_path))
        stack.enter_context(process([collector_bin, f"--config={tmp_path / 'collector.yaml'}"],
                                    tmp_path / "collector.log", f"http://127.0.0.1:{ports['metrics']}/metrics"))
        base, _ = stack.enter_context(running_app(tmp_path, **env))
        trace_id, traceparent = new_trace()
        since = time.time()
        assert httpx.get(f"{base}/orders", headers={"traceparent": traceparent}, timeout=10).status_code < 500
        by_id = wait_until(lambda: TRACE_APIS["jaeger"].has(jaeger, trace_id), 60, 1.0)
        assert by_id.ok, by_id.last
        found = wait_until(lambda: TRACE_APIS["jaeger"].find(jaeger, "orders", trace_id, since), 30, 1.0)
        assert found.ok, found.last
        records = wait_until(lambda: LOG_APIS["victorialogs"].has(logs, "orders", trace_id), 60, 1.0)
        assert records.ok, records.last
