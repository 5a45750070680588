"""Instructions per request of each variant, counted by valgrind's callgrind: a figure the machine's other load
does not move, beside bench.overhead's times.

``python -m bench.instructions`` runs each variant twice under callgrind in a fresh process: once up to its
warm-up only and once with ``--requests`` more, each followed by a pause for its export threads to finish
(their work is counted: callgrind runs every thread); the difference divided by the requests is the cost of
one request, background exports included. Needs valgrind (Debian's package).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # ``python bench/instructions.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.overhead import NullStream, _batch
from bench.variants import VARIANTS

DEFAULT = ("bare", "instrumentator", "ours", "ours+otlp-logs")
WARMUP = 300
SETTLE_S = 3.0  # under callgrind the export thread needs this long to drain what the requests queued
COLLECTED = re.compile(r"Collected : (\d+)")


def _child(name: str, requests: int) -> None:
    """The variant's app, warmed up, then `requests` more; a pause after each for the export threads."""
    app = VARIANTS[name](NullStream(), "encode")
    loop = asyncio.new_event_loop()
    loop.run_until_complete(_batch(app, WARMUP))
    time.sleep(SETTLE_S)
    if requests:
        loop.run_until_complete(_batch(app, requests))
    time.sleep(SETTLE_S)


def _count(valgrind: str, name: str, requests: int) -> int:
    argv = [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-m", "bench.instructions",
            "--child", name, "--requests", str(requests)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=1800, check=False,
                          cwd=Path(__file__).resolve().parent.parent)  # fmt: skip
    found = COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind run of {name} failed: {done.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="*", choices=list(VARIANTS), default=list(DEFAULT))
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--child", choices=list(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.requests)
        return 0
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("valgrind not found; install it (apt-get install valgrind)", file=sys.stderr)
        return 2
    per_request = {}
    for name in args.variants:
        per_request[name] = (_count(valgrind, name, args.requests) - _count(valgrind, name, 0)) / args.requests
    base = per_request.get("instrumentator")
    print(f"{'variant':<21}{'instructions/request':>22}{'x instrumentator':>18}")
    for name, count in per_request.items():
        print(f"{name:<21}{count:>22,.0f}{count / base if base else float('nan'):>18.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
