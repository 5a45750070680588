"""Background traffic for verify: a few threads calling the app's business routes at a bounded rate."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from stack.service_settings import Request

BASELINE_RATE = 30.0  # requests/s to each service between faults


@dataclass
class Traffic:
    """Requests to one service, cycling through the service's `traffic` list of stack.yaml."""

    base_url: str
    routes: tuple[Request, ...] = (Request(path="/"),)
    rate: float = BASELINE_RATE
    workers: int = 6
    max_seconds: float = 1800.0
    statuses: Counter[str] = field(default_factory=Counter)
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
                pause = self.workers / max(self.rate, 0.1) - (time.monotonic() - started)
                if pause > 0:
                    self._stop.wait(pause)
