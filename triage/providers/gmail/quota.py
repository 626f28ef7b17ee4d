"""Gmail's per-user quota, respected before Google has to refuse: a token bucket of units.

Google counts quota units per user per minute (15,000), each method its own price
(`UNITS`). The pacer spends a request's units before it leaves and waits when the
bucket is empty, so a big full sync slows down instead of meeting a wall of
429s. Other consoles share the same user's quota, so the budget stays below
Google's figure; a 429 that comes anyway is retried with backoff by the HTTP layer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

# Quota units per method (developers.google.com/gmail/api/reference/quota).
UNITS = {
    "getProfile": 1, "labels.list": 1, "labels.create": 5, "history.list": 2,
    "threads.list": 10, "threads.get": 10, "threads.modify": 10,
    "messages.list": 5, "messages.get": 5, "messages.insert": 25, "messages.send": 100,
}  # fmt: skip
PER_MINUTE = 12_000  # of Google's 15,000 per user per minute: room for colleagues' consoles


class QuotaPacer:
    """A token bucket refilled at `per_minute` units a minute, holding a minute's worth."""

    def __init__(
        self, per_minute: int = PER_MINUTE, *, monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:  # fmt: skip
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._monotonic = monotonic
        self._sleep = sleep
        self._level = self.capacity
        self._at = monotonic()
        self._lock = asyncio.Lock()
        self.waited = 0.0  # seconds spent waiting for units, in all

    async def spend(self, units: int) -> None:
        """Take `units` from the bucket, waiting for them to refill if need be."""
        async with self._lock:
            self._refill()
            if self._level < units:
                wait = (min(units, self.capacity) - self._level) / self.rate
                self.waited += wait
                await self._sleep(wait)
                self._refill()
            self._level = max(0.0, self._level - units)

    def _refill(self) -> None:
        now = self._monotonic()
        self._level = min(self.capacity, self._level + (now - self._at) * self.rate)
        self._at = now
