"""verify's Loki/Tempo lookups by trace_id, against the real sample app and FAKE Loki and Tempo servers.

Loki and Tempo cannot run on these machines; FakeLoki and FakeTempo below answer the two HTTP calls
verify makes, searching the log lines the real app wrote to stdout for the trace id.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from support import free_port, running_app

from stack.runtime.correlation import correlate


class AppLogs:
    """The real app's stdout JSON lines, read as they come."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[dict[str, Any]] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        for raw in stream:
            try:
                self.lines.append(json.loads(raw))
            except ValueError:
                continue

    def with_trace(self, trace_id: str) -> list[dict[str, Any]]:
        return [line for line in list(self.lines) if line.get("trace_id") == trace_id]


def fake_server(logs: AppLogs, queries: list[str], find: bool = True) -> tuple[ThreadingHTTPServer, str]:
    """FakeLoki and FakeTempo in one: /ready, Loki's query_range and Tempo's trace by id."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/ready":
                return self._json({})
            if url.path == "/loki/api/v1/query_range":
                query = parse_qs(url.query)["query"][0]
                queries.append(query)
                trace_id = query.split('trace_id="')[1].split('"')[0]
                values = [["0", json.dumps(line)] for line in logs.with_trace(trace_id)] if find else []
                return self._json({"status": "success", "data": {"result": [{"values": values}] if values else []}})
            if url.path.startswith("/api/traces/"):
                trace_id = url.path.rsplit("/", 1)[1]
                queries.append(trace_id)
                if find and logs.with_trace(trace_id):
                    return self._json({"batches": [{"resource": {}, "scopeSpans": []}]})
                return self._json({}, 404)
            return self._json({}, 404)

        def _json(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[str, AppLogs]]:
    """The real sample app with JSON logs on stdout."""
    with running_app(tmp_path, stdout=subprocess.PIPE, APP_ENVIRONMENT="production") as (base, proc):
        yield base, AppLogs(proc.stdout)


def test_log_and_trace_found_by_trace_id(app: tuple[str, AppLogs]) -> None:
    """A request sent with verify's traceparent is found in (fake) Loki and (fake) Tempo by its trace id."""
    base, logs = app
    queries: list[str] = []
    server, url = fake_server(logs, queries)
    try:
        results = correlate(base, url, url, "orders", timeout=10)
    finally:
        server.shutdown()
    assert [(r.name, r.status) for r in results] == [
        ("log line by trace_id in Loki", "ok"), ("trace by trace_id in Tempo", "ok"),
    ]  # fmt: skip
    assert queries[0].startswith('{service_name="orders"} | trace_id="')
    assert len(queries[-1]) == 32


def test_missing_log_line_fails_after_the_timeout(app: tuple[str, AppLogs]) -> None:
    """If Loki and Tempo never return the trace, both lookups fail; nothing is claimed."""
    base, logs = app
    server, url = fake_server(logs, [], find=False)
    try:
        results = correlate(base, url, url, "orders", timeout=1.5)
    finally:
        server.shutdown()
    assert [r.status for r in results] == ["failed", "failed"]


def test_not_running_is_skipped_not_passed(app: tuple[str, AppLogs]) -> None:
    """With no Loki or Tempo listening, both lookups say skipped and name the address."""
    base, _ = app
    closed = f"http://127.0.0.1:{free_port()}"
    results = correlate(base, closed, closed, "orders", timeout=1)
    assert [r.status for r in results] == ["skipped", "skipped"]
    assert all(closed in r.detail for r in results)
