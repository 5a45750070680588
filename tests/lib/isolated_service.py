"""Run by test_isolation.py in a fresh interpreter: a user's bare FastAPI app, instrumented with one call.

Prints one JSON object: the modules imported, and what came out (metrics, log lines, spans, Sentry events).
Only the environment configures it (``OTEL_SERVICE_NAME``, ``OBS_*``, ``SENTRY_DSN``), as for a user.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
from typing import Any

import httpx
import sentry_sdk
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from obsstack_fastapi import get_logger, instrument


class Capturing(Transport):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.events.extend(i.payload.json for i in envelope.items if i.type == "event" and i.payload.json)


def build() -> tuple[FastAPI, Any, InMemorySpanExporter, io.StringIO, Capturing]:
    app = FastAPI()
    log = get_logger("user")

    @app.get("/items/{item_id}")
    async def get_item(item_id: int) -> dict[str, int]:
        log.info("item read", item_id=item_id)
        return {"id": item_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom for isolation test")

    spans, logs, transport = InMemorySpanExporter(), io.StringIO(), Capturing()
    obs = instrument(app, span_exporter=spans, log_stream=logs, sentry_transport=transport)
    return app, obs, spans, logs, transport


async def drive(app: FastAPI) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        item = await client.get("/items/7", headers={"x-request-id": "req-7"})
        boom = await client.get("/boom")
        metrics = await client.get("/metrics")
        health = await client.get("/healthz")
        ready = await client.get("/ready")
    return {"item": item.status_code, "boom": boom.status_code, "metrics": metrics.text,
            "health": health.status_code, "ready": ready.status_code}  # fmt: skip


def main() -> None:
    app, obs, spans, logs, transport = build()
    result = asyncio.run(drive(app))
    obs.telemetry.tracer_provider.force_flush()
    sentry_sdk.flush(timeout=2)
    result["modules"] = sorted(name for name in sys.modules if name.split(".")[0] in {"sample_app", "stack"})
    result["logs"] = [json.loads(line) for line in logs.getvalue().splitlines() if line.strip()]
    result["spans"] = [
        {"name": s.name, "trace_id": f"{s.context.trace_id:032x}", "service": s.resource.attributes["service.name"]}
        for s in spans.get_finished_spans()
    ]
    result["sentry"] = [
        {"tags": e.get("tags", {}), "type": e["exception"]["values"][0]["type"]} for e in transport.events
    ]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
