"""The export thread's CPU per span: server span -> ReadableSpan, then OTLP protobuf encoding by the SDK's
encoder (what the SDK's exporters run) and by obsstack_fastapi's; and obsstack_fastapi's encoding of the queued
server spans as they are (what its gRPC exporter runs), side by side.

``python -m bench.spans`` prints medians and quartiles over rounds of one batch each (the Batcher's batch size).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from obsstack_fastapi.otlp_spans import SpanEncoder
from obsstack_fastapi.spans import ServerSpans, readable_server_span
from obsstack_fastapi.tracing import build_resource
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import TracerProvider

from obsstack_fastapi import ObsSettings

BATCH = 512  # the Batcher's batch size


def _items(spans: ServerSpans, n: int) -> list[tuple[Any, int, int]]:
    """Finished server spans as the middleware queues them: (span, status, end time)."""
    routes = ("/orders", "/orders/{order_id}", "/login")
    return [(spans.start(f"GET {routes[i % 3]}", None, {"http.request.method": "GET", "http.route": routes[i % 3]}),
             500 if i % 50 == 0 else 200, time.time_ns()) for i in range(n)]  # fmt: skip


def run(rounds: int) -> dict[str, list[float]]:
    """µs per span of each step, one batch per round, the steps interleaved within a round."""
    resource = build_resource(ObsSettings(service_name="bench"))
    spans, encoder, direct = ServerSpans(TracerProvider(resource=resource), [], 1.0), SpanEncoder(), SpanEncoder()
    direct.server_spans(resource)
    steps: dict[str, Callable[[list[Any]], object]] = {
        "SDK encode_spans + serialize": lambda batch: encode_spans(batch).SerializeToString(),
        "obsstack SpanEncoder (gRPC request) + serialize": lambda batch: encoder.request(batch).SerializeToString(),
    }
    queued = "obsstack SpanEncoder, queued server spans as they are (no ReadableSpan)"
    times: dict[str, list[float]] = {"to ReadableSpan": [], **{name: [] for name in steps}, queued: []}
    for _ in range(rounds):
        items = _items(spans, BATCH)
        start = time.perf_counter()
        direct.request(items).SerializeToString()
        times[queued].append((time.perf_counter() - start) / BATCH * 1e6)
        start = time.perf_counter()
        batch = [readable_server_span(resource, item) for item in items]
        times["to ReadableSpan"].append((time.perf_counter() - start) / BATCH * 1e6)
        for name, step in steps.items():
            start = time.perf_counter()
            step(batch)
            times[name].append((time.perf_counter() - start) / BATCH * 1e6)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    args = parser.parse_args(argv)
    print(f"{'export-thread step':<75}{'µs/span':>9}{'q1–q3':>16}")
    for name, values in run(args.rounds).items():
        q1, _, q3 = statistics.quantiles(values, n=4)
        print(f"{name:<75}{statistics.median(values):>9.2f}{q1:>9.2f}–{q3:<6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
