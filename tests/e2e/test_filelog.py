"""Logs by file through the pinned collector build: the filelog receiver obsstack generates reads a service's JSON
lines into OTLP records (body, severity, timestamp, trace context, attributes as the library's OTLP bridge sends
them) and, with its file_storage checkpoint, neither loses nor repeats a line over a collector restart. The
records are received by a real OTLP/HTTP endpoint on loopback (the collector's otlphttp exporter posts to it)."""

from __future__ import annotations

import gzip
import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from support import answers, collector_binary, free_port

from stack.builders.otelcol import filelog
from stack.config import load_settings
from stack.models.otelcol import FileStorage
from stack.runtime.promapi import wait_until

pytestmark = pytest.mark.e2e

WATCHING = "Started watching file"  # what the collector logs when its first poll opens the file
TRACE_ID, SPAN_ID = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"


class Records:
    """What the collector posted to /v1/logs: (resource attributes, record) pairs, in arrival order."""

    def __init__(self) -> None:
        self.items: list[tuple[dict[str, Any], Any]] = []
        self.lock = threading.Lock()

    def add(self, body: bytes) -> None:
        request = ExportLogsServiceRequest.FromString(body)
        with self.lock:
            for resource_logs in request.resource_logs:
                resource = {kv.key: kv.value.string_value for kv in resource_logs.resource.attributes}
                self.items += [(resource, r) for scope in resource_logs.scope_logs for r in scope.log_records]

    def bodies(self) -> list[str]:
        with self.lock:
            return [record.body.string_value for _, record in self.items]


@contextmanager
def receiver() -> Iterator[tuple[str, Records]]:
    records = Records()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            records.add(gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/logs", records
    finally:
        server.shutdown()
        server.server_close()


def config(tmp_path: Path, log_file: Path, endpoint: str, health: int) -> Path:
    """The generated receiver and checkpoint extension, with an exporter to the test's endpoint."""
    data = {
        "extensions": {"health_check": {"endpoint": f"127.0.0.1:{health}"},
                       "file_storage": FileStorage(directory=str(tmp_path / "storage")).to_data()},
        "receivers": {"filelog/orders": filelog("orders", str(log_file)).to_data()},
        "processors": {"batch": {"timeout": "200ms"}},
        "exporters": {"otlphttp": {"logs_endpoint": endpoint, "encoding": "proto"}},
        "service": {"extensions": ["health_check", "file_storage"], "telemetry": {"metrics": {"level": "none"}},
                    "pipelines": {"logs": {"receivers": ["filelog/orders"], "processors": ["batch"],
                                           "exporters": ["otlphttp"]}}},
    }  # fmt: skip
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@contextmanager
def collector(binary: str, path: Path, health: int, log: Path, first_run: bool = True) -> Iterator[None]:
    watched = log.read_text().count(WATCHING) if log.exists() else 0
    with log.open("a") as out:
        proc = subprocess.Popen([binary, f"--config={path}"], stdout=out, stderr=out)
        try:
            ready = wait_until(lambda: (answers(f"http://127.0.0.1:{health}/"), "no answer"), 30, 0.2)
            assert ready.ok, log.read_text()[-3000:]
            # its first poll of the file (200 ms after the start) places the reader: at the end of a new file's
            # earlier content, or at the checkpoint's offset
            if first_run:  # later runs read on from the checkpoint, whenever they poll
                polled = wait_until(lambda: (log.read_text().count(WATCHING) > watched, "not yet"), 30, 0.1)
                assert polled.ok, log.read_text()[-3000:]
            yield
        finally:
            proc.terminate()  # SIGTERM: a graceful shutdown, as `obsstack down` and verify's outage do
            proc.wait(timeout=30)


def line(event: str, **fields: Any) -> str:
    return json.dumps({"event": event, "level": "info", "timestamp": "2026-12-06T21:04:21.123Z", **fields}) + "\n"


def append(path: Path, *lines: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write("".join(lines))


def arrived(records: Records, count: int) -> Any:
    return wait_until(lambda: (len(records.bodies()) >= count, f"{records.bodies()}"), 30, 0.2)


def test_json_lines_become_records_like_the_otlp_bridges(tmp_path: Path, make_project: Any) -> None:
    """A line written before the collector first saw the file is not sent (earlier runs' lines); then: `event` is
    the body, `level` the severity (warning is WARN), `timestamp` the record's time, `trace_id`/`span_id` its trace
    context, the other fields its attributes, `service.name` its resource; a line that is not JSON arrives as
    it is."""
    log_file, health = tmp_path / "orders.log", free_port()
    append(log_file, line("from an earlier run"))
    binary = collector_binary(load_settings(make_project()))
    with receiver() as (endpoint, records):
        path = config(tmp_path, log_file, endpoint, health)
        with collector(binary, path, health, tmp_path / "collector.log"):
            request = line("request", status=200, route="/orders/{order_id}", trace_id=TRACE_ID, span_id=SPAN_ID)
            slow = line("slow", level="warning", duration_ms=250.5)
            append(log_file, request, slow, "Traceback (most recent call last):\n")
            assert arrived(records, 3).ok, records.bodies()
    assert records.bodies() == ["request", "slow", "Traceback (most recent call last):"]
    (resource, request), (_, slow), (_, raw) = records.items
    assert resource["service.name"] == "orders"
    assert (request.trace_id.hex(), request.span_id.hex()) == (TRACE_ID, SPAN_ID)
    assert request.time_unix_nano == 1796591061123000000  # 2026-12-06T21:04:21.123Z
    assert (request.severity_text, request.severity_number) == ("info", 9)
    attributes = {kv.key: kv.value for kv in request.attributes}
    assert sorted(attributes) == ["route", "status"]
    assert attributes["route"].string_value == "/orders/{order_id}"
    assert (slow.severity_text, slow.severity_number) == ("warning", 13)
    assert not raw.trace_id


def test_a_collector_restart_neither_loses_nor_repeats_a_line(tmp_path: Path, make_project: Any) -> None:
    """Lines written while the collector is stopped arrive once it is back (read from its checkpoint), and the
    lines it had sent before are not sent again."""
    log_file, health = tmp_path / "orders.log", free_port()
    append(log_file, line("from an earlier run"))
    binary = collector_binary(load_settings(make_project()))
    with receiver() as (endpoint, records):
        path = config(tmp_path, log_file, endpoint, health)
        with collector(binary, path, health, tmp_path / "collector.log"):
            append(log_file, *(line(f"before {i}") for i in range(50)))
            assert arrived(records, 50).ok, records.bodies()
        append(log_file, *(line(f"during {i}") for i in range(200)))
        with collector(binary, path, health, tmp_path / "collector.log", first_run=False):
            append(log_file, *(line(f"after {i}") for i in range(50)))
            assert arrived(records, 300).ok, len(records.bodies())
            wait_until(lambda: (False, ""), 1.0, 0.2)  # a repeat would arrive within a batch timeout or two
    expected = [f"{when} {i}" for when, n in (("before", 50), ("during", 200), ("after", 50)) for i in range(n)]
    assert records.bodies() == expected
