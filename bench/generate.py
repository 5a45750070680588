"""Speed of the generator, as ratios to Python's own start-up measured side by side in the same run.

Run ``python -m bench.generate``. Each command is a fresh process (what a user or CI waits for), run in
round-robin order over the rounds so all see the same machine conditions; the table gives the median wall
time, the quartiles, and the ratio to the baseline (``python -c pass`` with the same interpreter). The
projects are copies of this repository's stack.yaml with its first service repeated N times (unique
names and ports). Targets: ``obsstack --help`` under 0.3 s, ``generate`` for 100 services under 1 s.
Results go to ``bench-generate.json``; the exit code is 0 whatever the numbers (a benchmark, not a test).
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OBSSTACK = str(Path(sys.executable).parent / "obsstack")
FIRST_PORT = 20000
TARGETS = {"obsstack --help": 0.3, "generate, 100 services": 1.0}


def project(directory: Path, services: int) -> Path:
    """A project whose stack.yaml repeats the repository's first service `services` times."""
    data = yaml.safe_load((ROOT / "stack.yaml").read_text(encoding="utf-8"))
    template = data["services"][0]
    data["services"] = [
        {**copy.deepcopy(template), "name": f"svc{i}", "port": FIRST_PORT + i} for i in range(services)
    ]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "stack.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return directory


def commands(work: Path, sizes: list[int]) -> dict[str, tuple[list[str], Path]]:
    found = {
        "python -c pass (baseline)": ([sys.executable, "-c", "pass"], work),
        "obsstack --help": ([OBSSTACK, "--help"], work),
    }
    for size in sizes:
        where = project(work / f"services-{size}", size)
        found[f"generate, {size} service{'s' if size > 1 else ''}"] = ([OBSSTACK, "generate"], where)
    return found


def timed(argv: list[str], cwd: Path, timeout: float) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True, timeout=timeout)
    return time.perf_counter() - started


def measure(todo: dict[str, tuple[list[str], Path]], rounds: int, timeout: float) -> dict[str, list[float]]:
    for argv, cwd in todo.values():  # warm-up: first generate writes the files, caches fill
        timed(argv, cwd, timeout)
    samples: dict[str, list[float]] = {name: [] for name in todo}
    for _ in range(rounds):
        for name, (argv, cwd) in todo.items():
            samples[name].append(timed(argv, cwd, timeout))
    return samples


def report(samples: dict[str, list[float]]) -> list[dict[str, object]]:
    baseline = statistics.median(next(iter(samples.values())))
    rows = []
    for name, values in samples.items():
        q1, median, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else (values[0],) * 3
        target = TARGETS.get(name)
        rows.append({"command": name, "median_s": median, "q1_s": q1, "q3_s": q3, "ratio": median / baseline,
                     "target_s": target, "met": None if target is None else median < target})  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 200])
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per command before giving up")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="obsstack-bench-") as temp:
        rows = report(measure(commands(Path(temp), args.sizes), args.rounds, args.timeout))
    print(f"{'command':<28} {'median':>8} {'q1-q3':>15} {'x start-up':>10}  target")
    for row in rows:
        spread = f"{row['q1_s']:.3f}-{row['q3_s']:.3f}"
        target = "" if row["target_s"] is None else f"< {row['target_s']} s: {'met' if row['met'] else 'MISSED'}"
        print(f"{row['command']:<28} {row['median_s']:>7.3f}s {spread:>15} {row['ratio']:>9.1f}x  {target}")
    Path("bench-generate.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
