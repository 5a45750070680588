"""Where the time of one variant goes: cProfile over direct ASGI calls in this process.

``python -m bench.profile ours --requests 20000`` prints the functions by own time (main thread only:
background exports are not in it; `bench.overhead` reports their CPU as ``cpu µs/req``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys

from bench.overhead import NullStream, _batch
from bench.variants import VARIANTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", choices=sorted(VARIANTS))
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--export", default="drop")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args(argv)
    app = VARIANTS[args.variant](NullStream(), args.export)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(_batch(app, 1000))
    profiler = cProfile.Profile()
    profiler.enable()
    loop.run_until_complete(_batch(app, args.requests))
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
