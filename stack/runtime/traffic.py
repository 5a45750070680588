"""Background traffic for verify: a few threads calling the app's business routes at a bounded rate."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

import httpx

from stack.service_settings import Request

BASELINE_RATE = 30.0  # requests/s to each service between faults
KEEP_SAMPLES = 200_000  # (time, status, seconds) of the latest requests, for windows of the run


@dataclass(frozen=True)
class Window:
    """The requests sent in one span of time: how many, how many failed, and their latency."""

    requests: int
    errors: int
    p95_s: float
    max_s: float

    def text(self) -> str:
        return f"{self.requests} requests, {self.errors} errors, p95 {self.p95_s * 1000:.0f} ms"


@dataclass
class Traffic:
    """Requests to one service, cycling through the service's `traffic` list of stack.yaml."""

    base_url: str
    routes: tuple[Request, ...] = (Request(path="/"),)
    rate: float = BASELINE_RATE
    workers: int = 6
    max_seconds: float = 1800.0
    statuses: Counter[str] = field(default_factory=Counter)
    samples: deque[tuple[float, str, float]] = field(default_factory=lambda: deque(maxlen=KEEP_SAMPLES))
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        for index in range(self.workers):
            thread = threading.Thread(target=self._run, args=(index,), name=f"traffic-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def set_rate(self, rate: float) -> None:
        self.rate = rate

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _run(self, index: int) -> None:
        deadline = time.monotonic() + self.max_seconds
        with httpx.Client(base_url=self.base_url, timeout=5.0) as client:
            count = index
            while not self._stop.is_set() and time.monotonic() < deadline:
                started = time.monotonic()
                route = self.routes[count % len(self.routes)]
                count += 1
                try:
                    answer = client.request(route.method, route.path, json=route.json_body)
                    status = f"{answer.status_code // 100}xx"
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                with self._lock:
                    self.statuses[status] += 1
                    self.samples.append((time.time(), status, time.monotonic() - started))
                pause = self.workers / max(self.rate, 0.1) - (time.monotonic() - started)
                if pause > 0:
                    self._stop.wait(pause)

    def window(self, start: float, end: float) -> Window:
        """The requests that started in [start, end] (wall-clock seconds); errors are 5xx and transport errors."""
        with self._lock:
            picked = [(status, took) for when, status, took in self.samples if start <= when - took <= end]
        latencies = sorted(took for _, took in picked)
        errors = sum(1 for status, _ in picked if not status.endswith("xx") or status == "5xx")
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else 0.0
        return Window(len(picked), errors, p95, latencies[-1] if latencies else 0.0)
