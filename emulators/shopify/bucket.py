"""Shopify's REST rate limit: a leaky bucket per shop and app. Every request pours in 1,
the bucket drains `leak_rate` per second, and a request that finds it full is refused
with 429 (shared/reference/shop-apis.md §1: bucket 40, 2 requests/s on Standard)."""

from __future__ import annotations

import math


class LeakyBucket:
    """Not thread-safe on its own: the emulator's state lock guards it."""

    def __init__(self) -> None:
        self._level = 0.0
        self._at: float | None = None

    def pour(self, now: float, size: int, leak_rate: float) -> bool:
        """Add one request if it fits; False when the bucket is full."""
        self._drain(now, leak_rate)
        if self._level + 1 > size + 1e-9:
            return False
        self._level += 1
        return True

    def used(self, now: float, leak_rate: float) -> int:
        """The `used` of `X-Shopify-Shop-Api-Call-Limit: used/size`."""
        self._drain(now, leak_rate)
        return math.ceil(self._level - 1e-9)

    def _drain(self, now: float, leak_rate: float) -> None:
        if self._at is not None:
            self._level = max(0.0, self._level - (now - self._at) * leak_rate)
        self._at = now
