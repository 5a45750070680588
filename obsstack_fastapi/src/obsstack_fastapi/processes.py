"""prometheus_client multiprocess mode: directory preparation, dead-worker marking, process metrics.

In multiprocess mode every worker writes its samples to files in ``PROMETHEUS_MULTIPROC_DIR`` and a
scrape merges them. The standard process collector would only describe the worker that happens to
serve the scrape, so `LiveWorkersProcessCollector` reports ``process_cpu_seconds_total`` and
``process_resident_memory_bytes`` summed over the live workers found in that directory (Linux
``/proc``); a worker that dies takes its CPU seconds with it, which Prometheus sees as a counter reset.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import mark_process_dead
from prometheus_client.registry import Collector

_PID_IN_NAME = re.compile(r"_(\d+)\.db$")


def prepare_directory(path: Path) -> None:
    """Create the directory and delete the sample files of any previous run (call before workers start)."""
    path.mkdir(parents=True, exist_ok=True)
    for file in path.glob("*.db"):
        file.unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_pids(path: Path) -> set[int]:
    """Pids that own sample files in the directory."""
    pids = set()
    for file in path.glob("*.db"):
        match = _PID_IN_NAME.search(file.name)
        if match:
            pids.add(int(match.group(1)))
    return pids


def mark_dead_workers(path: Path) -> list[int]:
    """Mark every pid whose process is gone as dead (drops its live gauges); returns those pids."""
    dead = sorted(pid for pid in worker_pids(path) if pid != os.getpid() and not _pid_alive(pid))
    for pid in dead:
        mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]
    return dead


class LiveWorkersProcessCollector(Collector):
    """CPU seconds and resident memory summed over the live workers of the multiprocess directory."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def collect(self) -> Iterable[Metric]:
        cpu = 0.0
        rss = 0.0
        for pid in sorted(worker_pids(self._path)):
            if not _pid_alive(pid):
                continue
            for metric in ProcessCollector(pid=lambda p=pid: p, registry=None).collect():  # type: ignore[misc]
                if metric.name == "process_cpu_seconds":
                    cpu += sum(s.value for s in metric.samples)
                elif metric.name == "process_resident_memory_bytes":
                    rss += sum(s.value for s in metric.samples)
        yield CounterMetricFamily("process_cpu_seconds", "User and system CPU time of live workers.", cpu)
        yield GaugeMetricFamily("process_resident_memory_bytes", "Resident memory of live workers.", rss)
