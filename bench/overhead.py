"""Per-request cost of instrumentation, in-process (direct ASGI calls, no network).

Run ``python -m bench.overhead`` (or ``python bench/overhead.py``). Each variant runs in its own child
process (Sentry and OpenTelemetry keep process-wide state); the parent asks them for batches in
round-robin order, so all variants see the same machine conditions, and reports the median per-request
time of each (with quartiles and extremes over the rounds) as a ratio to the bare app, and the CPU time
per request of each child with all its threads: background exports cost CPU even off the request path.
Logs of the textbook recipe and ours go to the same sink: a discarding stream by default (``--sink
/dev/null`` adds the write syscall of every line). Two more variants send real OTLP exports to a loopback
collector that accepts and never answers, and to one that refuses: a dead collector must not add latency.
Results go to ``bench-results.json``.
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
import socket
import statistics
import sys
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # ``python bench/overhead.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.variants import DEAD_COLLECTOR_ENV, EXPORT_MODES, REFUSED_COLLECTOR_ENV, VARIANTS

BATCH_TIMEOUT_SECONDS = 300
NULL_SINK = "null"
# (variant, reference): the variant's per-request time at most the reference's. Ours, every pillar on in the
# library's defaults with real OTLP encoding, at or below prometheus-fastapi-instrumentator alone; a collector that
# never answers, or refuses, costs no more than a live one (ours)
TARGETS = (("ours", "instrumentator"), ("ours+dead-collector", "ours"), ("ours+refused", "ours"))


@contextlib.contextmanager
def collectors() -> Iterator[None]:
    """Two loopback OTLP endpoints for the children: one accepts and never answers, one refuses."""
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead.listen(1024)  # never accepted: the kernel completes handshakes, nobody ever reads or answers
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused_port = closed.getsockname()[1]
    closed.close()
    os.environ[DEAD_COLLECTOR_ENV] = f"http://127.0.0.1:{dead.getsockname()[1]}"
    os.environ[REFUSED_COLLECTOR_ENV] = f"http://127.0.0.1:{refused_port}"
    try:
        yield
    finally:
        dead.close()


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
    # the sink stays open until the process ends: export threads may still log while it exits
    sink = NullStream() if sink_path == NULL_SINK else open(sink_path, "a", encoding="utf-8")  # noqa: SIM115
    app = VARIANTS[name](sink, export)
    loop = asyncio.new_event_loop()
    while True:
        command, n = conn.recv()
        if command == "stop":
            break
        if command == "cpu":  # CPU seconds of the whole child, background threads included
            conn.send(time.process_time())
            continue
        conn.send(loop.run_until_complete(_batch(app, n)))


def _ask(conn: Connection, command: str, n: int = 0) -> float:
    """Send a command to a child; its answer. A child that dies or hangs fails the run."""
    conn.send((command, n))
    if not conn.poll(BATCH_TIMEOUT_SECONDS):
        raise RuntimeError(f"a benchmark child gave no answer within {BATCH_TIMEOUT_SECONDS} s")
    answer: float = conn.recv()
    return answer


def _start(sink: str, export: str, names: list[str]) -> tuple[dict[str, Connection], list[Any]]:
    ctx = mp.get_context("spawn")
    pipes: dict[str, Connection] = {}
    procs = []
    for name in names:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_child, args=(name, sink, export, child), daemon=True)
        proc.start()
        pipes[name] = parent
        procs.append(proc)
    return pipes, procs


def _stop(pipes: dict[str, Connection], procs: list[Any]) -> None:
    for conn in pipes.values():
        with contextlib.suppress(OSError):
            conn.send(("stop", 0))
    for proc in procs:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()


Timings = dict[str, list[float]]


def _rounds(pipes: dict[str, Connection], rounds: int, requests: int) -> tuple[Timings, dict[str, float]]:
    """Rotating round-robin batches; per-request seconds per round, and CPU seconds per request overall."""
    per_request: dict[str, list[float]] = {name: [] for name in pipes}
    cpu_start = {name: _ask(conn, "cpu") for name, conn in pipes.items()}
    names = list(pipes)
    for round_no in range(rounds):
        # rotate the order, so no variant always runs right after a heavy one (whose background threads
        # keep working for a while after its batch)
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            per_request[name].append(_ask(pipes[name], "run", requests) / requests)
    time.sleep(1.0)  # let background exports of the last round finish, so their CPU is counted
    cpu = {name: (_ask(conn, "cpu") - cpu_start[name]) / (rounds * requests) for name, conn in pipes.items()}
    return per_request, cpu


def run(rounds: int, requests: int, warmup: int, sink: str, export: str,
        names: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    """Start one child per variant (all, or `names` with bare), warm each up, then time ``rounds`` round-robin
    batches."""
    chosen = list(VARIANTS) if not names else ["bare", *(n for n in VARIANTS if n in names and n != "bare")]
    with collectors():
        pipes, procs = _start(sink, export, chosen)
        try:
            for conn in pipes.values():
                _ask(conn, "run", warmup)
            per_request, cpu = _rounds(pipes, rounds, requests)
        finally:
            _stop(pipes, procs)
    summary = _summary(per_request, cpu, rounds, requests)
    return {**summary, "targets": targets(per_request), "export": export, "sink": sink}


def _row(times: list[float], cpu: float, bare: float, bare_cpu: float) -> dict[str, Any]:
    quartiles = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    return {
        "median_us": round(statistics.median(times) * 1e6, 2),
        "ratio_to_bare": round(statistics.median(times) / bare, 2),
        "q1_us": round(quartiles[0] * 1e6, 2),
        "q3_us": round(quartiles[2] * 1e6, 2),
        "min_us": round(min(times) * 1e6, 2),
        "max_us": round(max(times) * 1e6, 2),
        "cpu_us": round(cpu * 1e6, 2),
        "cpu_ratio_to_bare": round(cpu / bare_cpu, 2),
        "rounds_us": [round(t * 1e6, 2) for t in times],
    }


def _summary(per_request: Timings, cpu: dict[str, float], rounds: int, requests: int) -> dict[str, Any]:
    bare = statistics.median(per_request["bare"])
    variants = {name: _row(times, cpu[name], bare, cpu["bare"]) for name, times in per_request.items()}
    return {
        "method": "direct ASGI calls in-process, one child process per variant, rotating round-robin; "
        "median and quartiles of the per-round means; cpu = all threads of the child over all rounds",
        "rounds": rounds,
        "requests_per_round": requests,
        "python": platform.python_version(),
        "machine": f"{platform.machine()} x{os.cpu_count()}",
        "variants": variants,
    }


def _print(result: dict[str, Any]) -> None:
    print(f"{'variant':<21}{'median µs':>10}{'x bare':>8}{'q1–q3 µs':>16}{'min–max µs':>16}{'cpu µs':>9}{'x bare':>8}")
    for name, row in result["variants"].items():
        print(
            f"{name:<21}{row['median_us']:>10.1f}{row['ratio_to_bare']:>8.2f}"
            f"{row['q1_us']:>8.1f}–{row['q3_us']:<7.1f}{row['min_us']:>8.1f}–{row['max_us']:<7.1f}"
            f"{row['cpu_us']:>9.1f}{row['cpu_ratio_to_bare']:>8.2f}"
        )
    print()
    print(f"{'target (per-round ratio, same round)':<40}{'median':>8}{'q1–q3':>14}  {'met':<5}quartiles")
    for target in result["targets"]:
        print(f"{target['name']:<40}{target['median']:>8.3f}{target['q1']:>7.3f}–{target['q3']:<6.3f}  "
              f"{'yes' if target['met'] else 'NO':<5}{'below the line' if target['clear'] else 'cross the line'}")


def targets(per_request: Timings) -> list[dict[str, Any]]:
    """Each target as the ratio of its variant to its reference, round by round (both ran in the same round):
    met when the median ratio is at most 1; its quartiles are clear of the line when the third one is too."""
    rows = []
    for variant, reference in TARGETS:
        if variant not in per_request or reference not in per_request:
            continue
        ratios = [v / r for v, r in zip(per_request[variant], per_request[reference], strict=True)]
        q1, median, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
        median = statistics.median(ratios)
        rows.append({"name": f"{variant} <= {reference}", "median": round(median, 3), "q1": round(q1, 3),
                     "q3": round(q3, 3), "met": median <= 1.0, "clear": q3 <= 1.0})  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 21 rounds: with 11, the median of the per-round ratios moved by 0.1 or more between runs minutes apart
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--requests", type=int, default=2000, help="requests per round and variant")
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument(
        "--sink", default=NULL_SINK,
        help="where textbook and ours write their logs: 'null' (a discarding stream) or a file, e.g. /dev/null",
    )  # fmt: skip
    parser.add_argument(
        "--export", choices=EXPORT_MODES, default="encode",
        help="span/log exporters of textbook and ours: encode (each one's real OTLP protobuf encoding, no network) "
        "or drop (null)",
    )  # fmt: skip
    parser.add_argument("--output", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--variants", nargs="*", choices=list(VARIANTS), help="only these (and bare); default all")
    args = parser.parse_args(argv)
    result = run(args.rounds, args.requests, args.warmup, args.sink, args.export, args.variants)
    _print(result)
    args.output.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
