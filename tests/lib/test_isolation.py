"""A user's bare FastAPI app, instrumented with one call in a fresh interpreter: everything comes out, and
nothing of the demo or the generator is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("isolated_service.py")


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    """Run the script with only OTEL_SERVICE_NAME and SENTRY_DSN set; `sample_app` and `stack` importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OBS_", "OTEL_", "APP_", "SENTRY_"))}
    env.update(OTEL_SERVICE_NAME="inventory", SENTRY_DSN="http://public@127.0.0.1:9/1", PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, str(SCRIPT)], env=env, cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    parsed: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return parsed


def test_no_demo_or_generator_module_is_imported(result: dict[str, Any]) -> None:
    """Instrumenting and serving imports no module of `sample_app` or `stack`, though both are importable."""
    assert result["modules"] == []


def test_routes_answer(result: dict[str, Any]) -> None:
    """The user's route answers 200, an unhandled error 500; /healthz, /ready and /metrics are mounted."""
    assert (result["item"], result["boom"], result["health"], result["ready"]) == (200, 500, 200, 200)


def test_metrics_come_out(result: dict[str, Any]) -> None:
    """The request counter carries the route template, the method and the status class."""
    assert 'http_requests_total{handler="/items/{item_id}",method="GET",status="2xx"} 1.0' in result["metrics"]
    assert 'http_requests_total{handler="/boom",method="GET",status="5xx"} 1.0' in result["metrics"]


def test_json_logs_carry_request_and_trace_ids(result: dict[str, Any]) -> None:
    """The user's own log line and the access line are JSON with request_id, trace_id and the route."""
    lines = [line for line in result["logs"] if line.get("request_id") == "req-7"]
    assert {line["event"] for line in lines} == {"item read", "request"}
    span = next(s for s in result["spans"] if s["name"] == "GET /items/{item_id}")
    assert all(line["trace_id"] == span["trace_id"] and line["route"] == "/items/{item_id}" for line in lines)


def test_spans_come_out_named_by_the_environment(result: dict[str, Any]) -> None:
    """One server span per request, with service.name from OTEL_SERVICE_NAME."""
    names = {s["name"] for s in result["spans"]}
    assert {"GET /items/{item_id}", "GET /boom"} <= names
    assert {s["service"] for s in result["spans"]} == {"inventory"}


def test_sentry_event_comes_out(result: dict[str, Any]) -> None:
    """The unhandled error reaches Sentry once, tagged with the request's trace id."""
    assert len(result["sentry"]) == 1
    event = result["sentry"][0]
    assert event["type"] == "RuntimeError"
    boom = next(s for s in result["spans"] if s["name"] == "GET /boom")
    assert event["tags"]["trace_id"] == boom["trace_id"]
