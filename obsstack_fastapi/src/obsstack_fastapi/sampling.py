"""Access-log sampling: which request lines are written, decided in a few comparisons per request.

Policy, in order: a failed (status >= 400) or slow request (at least ``APP_SLOW_REQUEST_SECONDS``) is
always logged; a successful request on an excluded route (health, readiness, metrics by default) is not;
one on a sampled route is logged with its route's probability; anything else is logged. Every line
not written is counted in ``log_lines_sampled_out_total``, so nothing disappears silently.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter

RandomSource = Callable[[], float]
_ALWAYS = 1.0


class LogSampler:
    """``keep(route, status, seconds)`` says whether the access line is written; counts the others."""

    def __init__(  # the policy's parts, given once by `instrument`
        self, registry: CollectorRegistry, excluded: Iterable[str], rates: Mapping[str, float],
        slow_seconds: float, random_source: RandomSource | None = None,
    ) -> None:  # fmt: skip
        self.sampled_out = Counter(
            "log_lines_sampled_out_total", "Access-log lines not written (excluded route or sampled out).",
            registry=registry,
        )  # fmt: skip
        self._rates = {route: 0.0 for route in excluded}
        self._rates.update({route: rate for route, rate in rates.items() if route not in self._rates})
        self._slow = slow_seconds
        self._random = random_source or random.Random().random  # noqa: S311 - sampling, not cryptography

    def keep(self, route: str, status: int, seconds: float) -> bool:
        """True when the line is written; False (and counted) when it is excluded or sampled out."""
        if status >= 400 or seconds >= self._slow:
            return True
        rate = self._rates.get(route, _ALWAYS)
        if rate >= _ALWAYS or (rate > 0.0 and self._random() < rate):
            return True
        self.sampled_out.inc()
        return False
