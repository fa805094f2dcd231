"""What a listing of changed orders is asked for and what it gives, for either shop."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """Orders changed from `after` (POSIX seconds, inclusive) up to `before` (fixed when a
    pass starts, so a pass ends however busy the shop), optionally only those created
    within `created_after`..`created_before` (a backfill's history)."""

    after: float
    before: float
    created_after: float | None = None
    created_before: float | None = None


@dataclass(frozen=True)
class Fetched:
    """One order as the shop sent it: its raw JSON, its id, and its version (POSIX
    seconds of its last change; None when the body does not say, which the webhook path
    will reject and explain)."""

    body: bytes
    order_id: str
    version: float | None


@dataclass(frozen=True)
class Page:
    orders: list[Fetched]

    @property
    def newest(self) -> float | None:
        versions = [order.version for order in self.orders if order.version is not None]
        return max(versions) if versions else None
