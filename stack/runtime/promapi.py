"""A small Prometheus HTTP API client for verify: bounded timeouts, errors as exceptions."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


class Unavailable(Exception):
    """Prometheus (or another HTTP peer) did not answer usefully; callers retry until a deadline."""


@dataclass
class PromClient:
    """Prometheus' (or Alertmanager's) API at `base_url`; `headers` go with every request (a Cortex ring's tenant),
    `ready_url` replaces `<base_url>/-/ready` (a Cortex ring has none under its API prefixes)."""

    base_url: str
    timeout: float = 5.0
    headers: dict[str, str] = field(default_factory=dict)
    ready_url: str = ""

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = httpx.get(f"{self.base_url}{path}", params=params, headers=self.headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise Unavailable(f"{self.base_url}{path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise Unavailable(f"{self.base_url}{path}: HTTP {response.status_code}: {response.text[:200]}")
        body = response.json()
        if body.get("status") != "success":
            raise Unavailable(f"{self.base_url}{path}: {body.get('error', body)}")
        return body["data"]

    def ready(self) -> bool:
        try:
            url = self.ready_url or f"{self.base_url}/-/ready"
            return httpx.get(url, headers=self.headers, timeout=self.timeout).status_code == 200
        except httpx.HTTPError:
            return False

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self._get("/api/v1/query", {"query": expr})
        result: list[dict[str, Any]] = data["result"] if data["resultType"] == "vector" else []
        return result

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        result: list[dict[str, Any]] = self._get("/api/v1/query_range", params)["result"]
        return result

    def exemplars(self, selector: str, start: float, end: float) -> list[dict[str, Any]]:
        """Exemplar groups ({seriesLabels, exemplars}) of the series `selector` picks in [start, end]."""
        params = {"query": selector, "start": f"{start:.3f}", "end": f"{end:.3f}"}
        groups: list[dict[str, Any]] = self._get("/api/v1/query_exemplars", params) or []
        return groups

    def alerts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = self._get("/api/v1/alerts")["alerts"]
        return alerts

    def firing(self) -> set[tuple[str, str]]:
        """(alertname, service) of every firing alert."""
        return self.active(("firing",))

    def active(self, states: tuple[str, ...]) -> set[tuple[str, str]]:
        """(alertname, service) of every alert in one of `states` (firing, pending)."""
        return {
            (a["labels"].get("alertname", ""), a["labels"].get("service", ""))
            for a in self.alerts()
            if a.get("state") in states
        }

    def targets(self) -> list[dict[str, Any]]:
        targets: list[dict[str, Any]] = self._get("/api/v1/targets", {"state": "active"})["activeTargets"]
        return targets

    def rule_groups(self) -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = self._get("/api/v1/rules")["groups"]
        return groups


@dataclass(frozen=True)
class Waited:
    ok: bool
    seconds: float
    last: str


def wait_until(check: Callable[[], tuple[bool, str]], timeout: float, interval: float = 1.0) -> Waited:
    """Poll `check` until it says True or `timeout` passes; errors count as 'not yet' and are reported."""
    start = time.monotonic()
    last = "not checked"
    while True:
        try:
            done, last = check()
        except Unavailable as exc:
            done, last = False, f"unavailable: {exc}"
        elapsed = time.monotonic() - start
        if done:
            return Waited(True, elapsed, last)
        if elapsed >= timeout:
            return Waited(False, elapsed, last)
        time.sleep(min(interval, max(0.0, timeout - elapsed)))
