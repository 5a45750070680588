"""A simulated in-process payment provider: takes a few milliseconds and fails at a settable rate.

The failure rate is 0 unless the fault API sets ``payment_failure_rate``; the random source is seedable
(``APP_PAYMENTS_SEED``) so tests and demos are reproducible.
"""

from __future__ import annotations

import asyncio
import random

MIN_SECONDS = 0.002
MAX_SECONDS = 0.008


class PaymentDeclined(Exception):
    """The (simulated) provider refused the payment."""


class Payments:
    """Charge an order; ``failure_rate`` (0..1) is the share of charges that are declined."""

    def __init__(self, seed: int | None = None, min_seconds: float = MIN_SECONDS,
                 max_seconds: float = MAX_SECONDS) -> None:  # fmt: skip
        self._random = random.Random(seed)  # noqa: S311 - simulation, not cryptography
        self._min = min_seconds
        self._max = max_seconds
        self.failure_rate = 0.0

    def get_failure_rate(self) -> float:
        return self.failure_rate

    def set_failure_rate(self, rate: float) -> None:
        """The share of charges declined from now on (the ``payment_failure_rate`` fault toggle)."""
        self.failure_rate = rate

    async def charge(self, payment_method: str, currency: str) -> None:
        """Wait the provider's processing time, then raise `PaymentDeclined` at the failure rate."""
        await asyncio.sleep(self._random.uniform(self._min, self._max))
        if self.failure_rate > 0 and self._random.random() < self.failure_rate:
            raise PaymentDeclined(f"{payment_method} payment in {currency} declined")
