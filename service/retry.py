"""Retry policy: pure functions of the attempt count and the clock, with jitter injected."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

BASE_SECONDS = 2.0
CAP_SECONDS = 300.0
LOCKED_SECONDS = 2.0  # HubSpot: "include a delay of at least 2 seconds" after a 423


def backoff_delay(attempts: int, jitter: Callable[[], float] = random.random) -> float:
    """Exponential backoff with full jitter, capped: 2 s, 4 s, 8 s ... up to 5 min.

    The delay is never below half the exponential step, so a retry storm still spreads
    out while the first retries stay quick.
    """
    step = min(CAP_SECONDS, BASE_SECONDS * 2.0 ** min(attempts, 20))
    return float(step / 2 + step / 2 * jitter())


MIN_ATTEMPTS_BEFORE_GIVING_UP = 8


def next_attempt(
    attempts: int,
    now: float,
    pending_since: float | None,
    max_age_seconds: float,
    jitter: Callable[[], float] = random.random,
) -> float | None:
    """When to try again after a transient failure; None once the item is too old to retry.

    Giving up takes both the age and several failed attempts, so a version that waited
    out a long pause (daily limit, revoked token) is not buried by its first failure."""
    too_old = pending_since is not None and now - pending_since >= max_age_seconds
    if too_old and attempts + 1 >= MIN_ATTEMPTS_BEFORE_GIVING_UP:
        return None
    return now + backoff_delay(attempts, jitter)


DAILY_PROBE_SECONDS = 3600.0


def next_daily_reset(now: float) -> float:
    """When to try again after a DAILY 429.

    HubSpot resets the daily limit at midnight in the account's time zone, which the API
    does not tell. So: the next UTC midnight, but never more than an hour away; a probe
    that meets another 429 pauses again, and the pause ends within an hour of the reset
    whatever the zone."""
    moment = datetime.fromtimestamp(now, UTC)
    midnight = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return min(midnight.timestamp(), now + DAILY_PROBE_SECONDS)
