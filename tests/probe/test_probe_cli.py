"""`obsstack init --probe URL` and `--probe-otlp` through the CLI: the entry written (and accepted by
`obsstack generate`), appended to an existing stack.yaml with its comments kept, and each refusal as one
line with exit 2 and nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from typer.testing import CliRunner, Result

from stack import conventions as c
from stack.cli import app
from stack.config import load_settings
from stack.runtime.promapi import wait_until
from tests.support import free_port

BUCKETS = (0.05, 0.1, 0.3, 0.6, 1.2, 2.5)
Serve = Callable[[CollectorRegistry], str]  # serve(registry) -> its /metrics URL
Instrumented = Callable[..., int]  # start(http_port, stable=...) -> the instrumented app's port


def obsstack(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def refused(result: Result, *fragments: str) -> str:
    """Exit 2 with one error line holding every fragment, no traceback; returns the line."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1, lines
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def textbook(registry: CollectorRegistry) -> None:
    requests = Counter("http_requests_total", "Requests.", ("method", "endpoint", "code"), registry=registry)
    latency = Histogram("http_request_duration_seconds", "Latency.", ("method", "endpoint"), buckets=BUCKETS,
                        registry=registry)  # fmt: skip
    for code in ("200", "503"):
        requests.labels("POST", "/pay", code).inc()
        latency.labels("POST", "/pay").observe(0.2)


@pytest.fixture
def serve() -> Iterator[Callable[[CollectorRegistry], str]]:
    """serve(registry) -> the URL of its /metrics on a free loopback port (prometheus_client's own server)."""
    servers: list[Any] = []

    def start(registry: CollectorRegistry) -> str:
        port = free_port()
        servers.append(start_http_server(port, addr="127.0.0.1", registry=registry)[0])
        return f"http://127.0.0.1:{port}/metrics"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def payments_url(serve: Serve) -> str:
    registry = CollectorRegistry()
    textbook(registry)
    return serve(registry)


def test_probe_writes_a_stack_yaml_that_generate_accepts(tmp_path: Path, payments_url: str) -> None:
    """No stack.yaml: the whole file (template plus the probed entry) and .gitignore; the loader reads the
    custom names and labels, the scrape port from the URL, the exposed buckets; `obsstack generate` passes."""
    traffic = free_port()
    result = obsstack("init", str(tmp_path), "--probe", payments_url, "--service", "payments", "--port", str(traffic))
    assert result.exit_code == 0, result.output
    assert "custom convention" in result.stdout
    assert (tmp_path / ".gitignore").exists()
    service = load_settings(tmp_path / "stack.yaml").services[0]
    assert service.name == "payments"
    assert service.http_names == c.HttpNames("http_requests_total", "http_request_duration_seconds", None,
                                             "endpoint", "method", "code")  # fmt: skip
    assert (service.port, service.scrape_port) == (traffic, int(payments_url.split(":")[2].split("/")[0]))
    assert service.latency_buckets == BUCKETS
    assert (service.latency.warning, service.latency.critical) == (0.3, 0.6)
    assert service.has_process_metrics is False
    generated = obsstack("generate", "--config", str(tmp_path / "stack.yaml"))
    assert generated.exit_code == 0, generated.output


def test_probe_appends_to_an_existing_stack_yaml_keeping_its_comments(tmp_path: Path, payments_url: str) -> None:
    """An existing stack.yaml (the template, plus a comment of the user's): the entry goes at the end of
    services, every other byte stays, and generate passes."""
    assert obsstack("init", str(tmp_path), "--service", "api", "--port", str(free_port())).exit_code == 0
    config = tmp_path / "stack.yaml"
    before = "# my team's stack\n" + config.read_text(encoding="utf-8")
    config.write_text(before, encoding="utf-8")
    result = obsstack("init", str(tmp_path), "--probe", payments_url, "--service", "payments")
    assert result.exit_code == 0, result.output
    after = config.read_text(encoding="utf-8")
    head, _, tail = before.partition("\nalerting:")
    assert after.startswith(head + "  - name: payments\n")
    assert after.endswith("\nalerting:" + tail)
    assert [s.name for s in load_settings(config).services] == ["api", "payments"]
    assert obsstack("generate", "--config", str(config)).exit_code == 0


def test_probe_appends_to_an_indentless_services_list(tmp_path: Path, payments_url: str) -> None:
    """`services:` with indentless items and a column-0 comment after them: the entry is indented like the
    file's items and goes before that comment."""
    config = tmp_path / "stack.yaml"
    config.write_text(
        "services:\n- name: api   # the API\n  port: 8000\n  # db_pool: {}\n\n# the rest is defaults\nprofile: fast\n",
        encoding="utf-8",
    )
    result = obsstack("init", str(tmp_path), "--probe", payments_url, "--service", "payments", "--port", "8001")
    assert result.exit_code == 0, result.output
    text = config.read_text(encoding="utf-8")
    assert text.startswith("services:\n- name: api   # the API\n  port: 8000\n  # db_pool: {}\n- name: payments\n  #")
    assert text.endswith("\n\n# the rest is defaults\nprofile: fast\n")
    assert [s.name for s in load_settings(config).services] == ["api", "payments"]


def test_a_name_already_present_is_refused_before_probing(tmp_path: Path) -> None:
    """--service naming an existing service: one line, exit 2, stack.yaml unchanged (the URL is not even
    read: it is unreachable here)."""
    assert obsstack("init", str(tmp_path), "--service", "payments").exit_code == 0
    before = (tmp_path / "stack.yaml").read_bytes()
    url = f"http://127.0.0.1:{free_port()}/metrics"
    refused(obsstack("init", str(tmp_path), "--probe", url, "--service", "payments"), "already has a service named")
    assert (tmp_path / "stack.yaml").read_bytes() == before


def test_init_without_probe_still_refuses_to_overwrite(tmp_path: Path) -> None:
    """Plain `obsstack init` keeps refusing an existing stack.yaml."""
    assert obsstack("init", str(tmp_path)).exit_code == 0
    refused(obsstack("init", str(tmp_path)), "already exists")


def test_no_http_metrics_is_exit_2(tmp_path: Path, serve: Serve) -> None:
    """An exposition without HTTP server metrics: one line saying what was looked for; nothing written."""
    registry = CollectorRegistry()
    Counter("jobs_total", "Jobs.", registry=registry).inc()
    refused(obsstack("init", str(tmp_path), "--probe", serve(registry)), "no HTTP server metrics", "jobs_total")
    assert list(tmp_path.iterdir()) == []


def test_old_semconv_exposition_is_exit_2(tmp_path: Path, serve: Serve) -> None:
    """http_server_duration_milliseconds: one line with OTEL_SEMCONV_STABILITY_OPT_IN=http; nothing written."""
    registry = CollectorRegistry()
    old = Histogram("http_server_duration_milliseconds", "Old.", ("http_method",), buckets=(5, 50), registry=registry)
    old.labels("GET").observe(3)
    refused(obsstack("init", str(tmp_path), "--probe", serve(registry)), "OTEL_SEMCONV_STABILITY_OPT_IN=http")
    assert list(tmp_path.iterdir()) == []


def test_unreachable_url_is_exit_2(tmp_path: Path) -> None:
    """Nothing listens at the URL: one line naming it."""
    url = f"http://127.0.0.1:{free_port()}/metrics"
    refused(obsstack("init", str(tmp_path), "--probe", url), f"--probe {url}: cannot read it")
    assert list(tmp_path.iterdir()) == []


def test_otlp_port_in_use_is_exit_2(tmp_path: Path, payments_url: str) -> None:
    """--probe-otlp on a port something already listens on: one line naming it; nothing written."""
    busy = int(payments_url.split(":")[2].split("/")[0])
    result = obsstack("init", str(tmp_path), "--probe-otlp", "--grpc-port", str(free_port()),
                      "--http-port", str(busy), "--seconds", "1")  # fmt: skip
    refused(result, f"127.0.0.1:{busy} (OTLP HTTP) is in use")
    assert list(tmp_path.iterdir()) == []


def test_otlp_nothing_received_is_exit_2(tmp_path: Path) -> None:
    """--probe-otlp where nothing pushes: after --seconds, one line; nothing written."""
    ports = ("--grpc-port", str(free_port()), "--http-port", str(free_port()))
    refused(obsstack("init", str(tmp_path), "--probe-otlp", *ports, "--seconds", "1"), "no metrics arrived in 1 s")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def instrumented(tmp_path: Path) -> Iterator[Instrumented]:
    """start(http_port, stable) -> a FastAPI app under `opentelemetry-instrument` (OTLP/HTTP to http_port, metrics
    every 0.5 s, service.name inventory) that has answered a 200 and a 503."""
    procs: list[subprocess.Popen[bytes]] = []
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "inventory.py").write_text(
        "from fastapi import FastAPI, HTTPException\napp = FastAPI()\n\n"
        "@app.get('/items/{item}')\ndef item(item: int) -> dict[str, int]:\n"
        "    if item == 0:\n        raise HTTPException(503)\n    return {'item': item}\n",
        encoding="utf-8",
    )
    bin_dir = Path(sys.executable).parent

    def start(http_port: int, stable: bool) -> int:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env |= {"OTEL_SERVICE_NAME": "inventory", "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{http_port}",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_METRIC_EXPORT_INTERVAL": "500"}  # fmt: skip
        env |= {"OTEL_SEMCONV_STABILITY_OPT_IN": "http"} if stable else {}
        command = [str(bin_dir / "opentelemetry-instrument"), str(bin_dir / "uvicorn"), "inventory:app",
                   "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
        procs.append(subprocess.Popen(command, cwd=tmp_path / "app", env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))  # fmt: skip
        base = f"http://127.0.0.1:{port}/items"

        def answers() -> tuple[bool, str]:
            try:
                return httpx.get(f"{base}/1", timeout=1).status_code == 200, "not yet"
            except httpx.HTTPError as exc:
                return False, str(exc)

        assert wait_until(answers, 30, 0.2).ok, "the instrumented app did not start"
        assert httpx.get(f"{base}/0", timeout=5).status_code == 503
        return port

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=15)


def test_probe_otlp_reads_a_real_opentelemetry_instrument_service(tmp_path: Path, instrumented: Instrumented) -> None:
    """A FastAPI app under opentelemetry-instrument with the stable conventions: the otel convention, pushed
    (metrics_source otlp), named by --service; generate passes on the entry."""
    project, grpc_port, http_port = tmp_path / "project", free_port(), free_port()
    port = instrumented(http_port, stable=True)
    result = obsstack("init", str(project), "--probe-otlp", "--service", "inventory", "--port", str(port),
                      "--grpc-port", str(grpc_port), "--http-port", str(http_port), "--seconds", "30")  # fmt: skip
    assert result.exit_code == 0, result.output
    service = load_settings(project / "stack.yaml").services[0]
    assert (service.name, service.port, service.metrics_source) == ("inventory", port, "otlp")
    assert service.metrics_convention == "otel"
    assert service.latency_buckets is None  # the semantic conventions' default buckets
    assert obsstack("generate", "--config", str(project / "stack.yaml")).exit_code == 0


def test_probe_otlp_refuses_old_conventions_and_another_service_name(
    tmp_path: Path, instrumented: Instrumented
) -> None:
    """opentelemetry-instrument without OTEL_SEMCONV_STABILITY_OPT_IN: exit 2 with the opt-in; and a --service
    other than the export's service.name: exit 2 naming both. Nothing written."""
    grpc_port, http_port = free_port(), free_port()
    instrumented(http_port, stable=False)
    common = ("--grpc-port", str(grpc_port), "--http-port", str(http_port), "--seconds", "30")
    refused(obsstack("init", str(tmp_path), "--probe-otlp", *common), "OTEL_SEMCONV_STABILITY_OPT_IN=http")
    refused(obsstack("init", str(tmp_path), "--probe-otlp", "--service", "shop", *common),
            "service.name is 'inventory', expected 'shop'")  # fmt: skip
    assert [p.name for p in tmp_path.iterdir()] == ["app"]
