"""Speed of the generator, as ratios to Python's own start-up measured side by side in the same run.

Run ``python -m bench.generate``. Each command is a fresh process (what a user or CI waits for), run in
round-robin order over the rounds so all see the same machine conditions; the table gives the median wall
time, the quartiles, and the ratio to the baseline (``python -c pass`` with the same interpreter). The
projects are copies of this repository's stack.yaml with its first service repeated N times (unique
names and ports; the repository's targets stay on). Targets, as ratios in the same run: ``obsstack --help`` at
most 6x ``python -c pass``, ``generate`` for 100 services at most 32x, 200 services at most twice 100 (linear
growth); with ``--sizes 1 100 200 5000``, 5,000 services under 60 s. Each generate is timed with its files
already written (the warm-up wrote them), as CI's ``generate --check`` and a re-run find them. The table also
gives each command's median CPU time (user + system) and its ratio: on a machine shared with other work the
wall times stretch, the CPU times much less.
Results go to ``bench-generate.json``; the exit code is 0 whatever the numbers (a benchmark, not a test).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
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
BASELINE = "python -c pass (baseline)"
# command -> (what its median is compared with, the most it may be, how the target reads)
TARGETS: dict[str, tuple[str, float, str]] = {
    "obsstack --help": (BASELINE, 6.0, "<= 6x start-up"),
    "generate, 100 services": (BASELINE, 32.0, "<= 32x start-up"),
    "generate, 200 services": ("generate, 100 services", 2.0, "<= 2x 100 services"),
    "generate, 5000 services": ("seconds", 60.0, "< 60 s"),
}


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
        BASELINE: ([sys.executable, "-c", "pass"], work),
        "obsstack --help": ([OBSSTACK, "--help"], work),
    }
    for size in sizes:
        where = project(work / f"services-{size}", size)
        found[f"generate, {size} service{'s' if size > 1 else ''}"] = ([OBSSTACK, "generate"], where)
    return found


# Python caches compiled modules as a user's Python does (a sandbox may set PYTHONDONTWRITEBYTECODE, which
# makes every run compile obsstack's own modules again): the warm-up run writes the cache.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
CPU: dict[str, list[float]] = {}  # command -> the CPU seconds (user + system) of each timed run


def timed(argv: list[str], cwd: Path, timeout: float) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run: the CPU time is less disturbed by other work on the machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=ENV, check=True, capture_output=True, timeout=timeout)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def measure(todo: dict[str, tuple[list[str], Path]], rounds: int, timeout: float) -> dict[str, list[float]]:
    for argv, cwd in todo.values():  # warm-up: first generate writes the files, caches fill
        timed(argv, cwd, timeout)
    samples: dict[str, list[float]] = {name: [] for name in todo}
    for index in range(rounds):
        for name, (argv, cwd) in todo.items():
            if name.endswith(" 5000 services") and index >= 3:
                continue  # the optional large size: three samples are enough for its absolute target
            wall, cpu = timed(argv, cwd, timeout)
            samples[name].append(wall)
            CPU.setdefault(name, []).append(cpu)
    return samples


def report(samples: dict[str, list[float]]) -> list[dict[str, object]]:
    medians = {name: statistics.median(values) for name, values in samples.items()}
    rows = []
    for name, values in samples.items():
        q1, median, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else (values[0],) * 3
        cpu = statistics.median(CPU[name]) if CPU.get(name) else float("nan")
        base_cpu = statistics.median(CPU[BASELINE]) if CPU.get(BASELINE) else float("nan")
        row: dict[str, object] = {"command": name, "median_s": median, "q1_s": q1, "q3_s": q3,
                                  "ratio": median / medians[BASELINE], "cpu_s": cpu, "cpu_ratio": cpu / base_cpu,
                                  "target": None, "met": None}  # fmt: skip
        if name in TARGETS and (TARGETS[name][0] in medians or TARGETS[name][0] == "seconds"):
            against, most, text = TARGETS[name]
            measured = median if against == "seconds" else median / medians[against]
            row |= {"target": text, "against": against, "measured": measured, "met": measured <= most}
        rows.append(row)
    return rows


def table(rows: list[dict[str, object]]) -> list[str]:
    lines = [f"{'command':<28} {'median':>8} {'q1-q3':>15} {'x start-up':>10} {'cpu':>8} {'cpu x':>6}  target"]
    for row in rows:
        spread = f"{row['q1_s']:.3f}-{row['q3_s']:.3f}"
        target = ""
        if row["target"] is not None:
            unit = "s" if row["against"] == "seconds" else "x"
            verdict = "met" if row["met"] else "NOT MET"
            target = f"{row['target']}: {row['measured']:.2f}{unit}, {verdict}"
        cpu = f"{row['cpu_s']:>7.3f}s {row['cpu_ratio']:>5.1f}x"
        wall = f"{row['median_s']:>7.3f}s {spread:>15} {row['ratio']:>9.1f}x"
        lines.append(f"{row['command']:<28} {wall} {cpu}  {target}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)  # 7 let a median move by a tenth between runs
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 200],
                        help="numbers of services (add 5000 for the large size)")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per command before giving up")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="obsstack-bench-") as temp:
        rows = report(measure(commands(Path(temp), args.sizes), args.rounds, args.timeout))
    print("\n".join(table(rows)))
    Path("bench-generate.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
