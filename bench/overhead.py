"""Per-request cost of instrumentation, in-process (direct ASGI calls, no network).

Run ``python -m bench.overhead`` (or ``python bench/overhead.py``). Each variant runs in its own child
process (Sentry and OpenTelemetry keep process-wide state); the parent asks them for batches in
round-robin order, so all variants see the same machine conditions, and reports the median per-request
time of each as a ratio to the bare app. Logs of the textbook recipe and ours go to the same sink: a
discarding stream by default (``--sink /dev/null`` adds the write syscall of every line, which on this
VM costs far more than the rendering). Results go to ``bench-results.json``. Medians are the headline; the best
round of each variant is printed too, since a busy machine inflates heavier variants more.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # ``python bench/overhead.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.variants import EXPORT_MODES, VARIANTS

TARGET_RATIO = 2.0
BATCH_TIMEOUT_SECONDS = 120
NULL_SINK = "null"


def _scope(order_id: int) -> dict[str, Any]:
    path = f"/orders/{order_id}"
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"bench"), (b"user-agent", b"bench/1"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip


async def _batch(app: Any, n: int) -> float:
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    start = time.perf_counter()
    for i in range(n):
        await app(_scope(i % 1000 + 1), receive, send)
    elapsed = time.perf_counter() - start
    if statuses.count(200) != n:
        raise RuntimeError(f"expected {n} responses 200, got {sorted(set(statuses))}")
    return elapsed


class NullStream(io.TextIOBase):
    """A stream that discards what is written: log rendering is measured, the write syscall is not."""

    def write(self, text: str) -> int:
        return len(text)


def _child(name: str, sink_path: str, export: str, conn: Connection) -> None:
    with NullStream() if sink_path == NULL_SINK else open(sink_path, "a", encoding="utf-8") as sink:
        app = VARIANTS[name](sink, export)
        loop = asyncio.new_event_loop()
        while True:
            command, n = conn.recv()
            if command == "stop":
                break
            conn.send(loop.run_until_complete(_batch(app, n)))


def _ask(conn: Connection, n: int) -> float:
    """Have a child run ``n`` requests; its seconds. A child that dies or hangs fails the run."""
    conn.send(("run", n))
    if not conn.poll(BATCH_TIMEOUT_SECONDS):
        raise RuntimeError(f"a benchmark child gave no answer within {BATCH_TIMEOUT_SECONDS} s")
    seconds: float = conn.recv()
    return seconds


def run(rounds: int, requests: int, warmup: int, sink: str, export: str) -> dict[str, Any]:
    """Start one child per variant, warm each up, then time ``rounds`` round-robin batches."""
    ctx = mp.get_context("spawn")
    pipes: dict[str, Connection] = {}
    procs = []
    for name in VARIANTS:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_child, args=(name, sink, export, child), daemon=True)
        proc.start()
        pipes[name], _ = parent, procs.append(proc)
    try:
        for conn in pipes.values():
            _ask(conn, warmup)
        per_request: dict[str, list[float]] = {name: [] for name in pipes}
        names = list(pipes)
        for round_no in range(rounds):
            # rotate the order, so no variant always runs right after the heavy one (whose background
            # threads, e.g. Sentry's transport, keep working for a while after its batch)
            shift = round_no % len(names)
            for name in names[shift:] + names[:shift]:
                per_request[name].append(_ask(pipes[name], requests) / requests)
    finally:
        for conn in pipes.values():
            with contextlib.suppress(OSError):
                conn.send(("stop", 0))
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
    return {**_summary(per_request, rounds, requests), "export": export, "sink": sink}


def _summary(per_request: dict[str, list[float]], rounds: int, requests: int) -> dict[str, Any]:
    bare = statistics.median(per_request["bare"])
    bare_best = min(per_request["bare"])
    variants = {
        name: {
            "median_us": round(statistics.median(times) * 1e6, 2),
            "ratio_to_bare": round(statistics.median(times) / bare, 2),
            "best_us": round(min(times) * 1e6, 2),
            "best_ratio_to_bare": round(min(times) / bare_best, 2),
            "rounds_us": [round(t * 1e6, 2) for t in times],
        }
        for name, times in per_request.items()
    }
    return {
        "method": "direct ASGI calls in-process, one child process per variant, rotating round-robin, medians",
        "rounds": rounds,
        "requests_per_round": requests,
        "target_ours_ratio": TARGET_RATIO,
        "python": platform.python_version(),
        "machine": f"{platform.machine()} x{os.cpu_count()}",
        "variants": variants,
    }


def _print(result: dict[str, Any]) -> None:
    print(f"{'variant':<16}{'median µs/req':>14}{'x bare':>9}{'best µs/req':>13}{'x bare':>9}")
    for name, row in result["variants"].items():
        print(
            f"{name:<16}{row['median_us']:>14.1f}{row['ratio_to_bare']:>9.2f}"
            f"{row['best_us']:>13.1f}{row['best_ratio_to_bare']:>9.2f}"
        )
    ours = result["variants"]["ours"]["ratio_to_bare"]
    verdict = "meets" if ours <= TARGET_RATIO else "misses"
    print(f"ours {verdict} the target of {TARGET_RATIO:.1f}x bare ({ours:.2f}x)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--requests", type=int, default=1000, help="requests per round and variant")
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument(
        "--sink", default=NULL_SINK,
        help="where textbook and ours write their logs: 'null' (a discarding stream) or a file, e.g. /dev/null",
    )  # fmt: skip
    parser.add_argument(
        "--export", choices=EXPORT_MODES, default="drop",
        help="span/log exporters of textbook and ours: drop (null) or encode (OTLP protobuf, no network)",
    )  # fmt: skip
    parser.add_argument("--output", type=Path, default=Path("bench-results.json"))
    args = parser.parse_args(argv)
    result = run(args.rounds, args.requests, args.warmup, args.sink, args.export)
    _print(result)
    args.output.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
