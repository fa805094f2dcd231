"""The HubSpot request budget shared by every worker process, kept in the store.

A sliding-window log: each request is a row in `hubspot_requests`. A worker may send
when fewer than `limit` rows fall in the last `window` seconds and no pause is set. The
check and the insert are one transaction under a lock (a PostgreSQL advisory lock; SQLite
takes its single write lock at BEGIN IMMEDIATE), so two workers never both take the
last slot.

A row's time is the latest moment its request can have reached HubSpot, not the moment
the slot was taken: HubSpot counts arrivals, and a request may wait for the store or the
network after its slot is granted. So a slot is written `hold` seconds ahead (the request
timeout) and settled to the time the answer came back. Then any `window` seconds of
arrivals at HubSpot hold at most `limit` requests, however late each one was sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from sqlalchemy import Engine, delete, func, insert, select, text, update

from service.store.engine import is_postgres, reading
from service.store.state import PAUSED_UNTIL, read_number, set_state
from service.store.tables import hubspot_requests

_LOCK_ID = 7_140_915  # arbitrary, fixed: the advisory lock that serialises budget checks
WINDOW_MARGIN = 0.3  # seconds; workers on different hosts read slightly different clocks


class Slot(NamedTuple):
    """A granted request slot: its row, and the time it holds until settled."""

    id: int
    held_until: float


class Grant(NamedTuple):
    """The answer to a slot request: a slot to settle once sent, or how long to wait."""

    slot: Slot | None
    wait: float


def try_acquire(
    engine: Engine, *, limit: int, window: float, now: float, hold: float = 0.0
) -> Grant:
    """Take one request slot, held until `now + hold` unless settled earlier."""
    window += WINDOW_MARGIN
    with engine.begin() as conn:
        if is_postgres(conn):
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        paused_until = read_number(conn, PAUSED_UNTIL)
        if paused_until is not None and paused_until > now:
            return Grant(None, paused_until - now)
        conn.execute(delete(hubspot_requests).where(hubspot_requests.c.sent_at <= now - window))
        count, oldest = conn.execute(
            select(func.count(), func.min(hubspot_requests.c.sent_at)).where(
                hubspot_requests.c.sent_at > now - window
            )
        ).one()
        if count >= limit:
            # An unanswered slot may be dated far ahead; poll again within a window.
            later = window if oldest is None else float(oldest) + window - now
            return Grant(None, min(window, max(0.01, later)))
        held_until = now + hold
        slot = conn.execute(
            insert(hubspot_requests).values(sent_at=held_until).returning(hubspot_requests.c.id)
        ).scalar_one()
        return Grant(Slot(slot, held_until), 0.0)


def settle(engine: Engine, slot: Slot, *, at: float) -> None:
    """Date a slot by when its answer came back: its request reached HubSpot before then.

    A slot that outlived its hold was pruned (and on SQLite its id may be reused), so it is
    matched on its held time too, and counted anew when it is gone."""
    with engine.begin() as conn:
        moved = conn.execute(
            update(hubspot_requests)
            .where(hubspot_requests.c.id == slot.id, hubspot_requests.c.sent_at == slot.held_until)
            .values(sent_at=at)
        ).rowcount
        if not moved:
            conn.execute(insert(hubspot_requests).values(sent_at=at))


def cancel(engine: Engine, slot: Slot) -> None:
    """Give back a slot whose request was never sent."""
    with engine.begin() as conn:
        conn.execute(
            delete(hubspot_requests).where(
                hubspot_requests.c.id == slot.id, hubspot_requests.c.sent_at == slot.held_until
            )
        )


def paused_until(engine: Engine) -> float:
    """Until when every worker must hold off (0.0: no pause set)."""
    with reading(engine) as conn:
        return read_number(conn, PAUSED_UNTIL) or 0.0


def pause(engine: Engine, *, until: float, reason: str, now: float) -> None:
    """Stop every worker from sending until `until` (a 429, or headers saying none left)."""
    set_state(engine, PAUSED_UNTIL, reason[:500], number=until, now=now)


def effective_limit(configured: int, headers: Mapping[str, str]) -> int:
    """The smaller of the configured limit and HubSpot's `X-HubSpot-RateLimit-Max`, when
    that is a positive number (a Max of 0 once stopped every send until a restart)."""
    value = _header_int(headers, "x-hubspot-ratelimit-max")
    return min(configured, value) if value is not None and value > 0 else configured


def remaining(headers: Mapping[str, str]) -> int | None:
    """`X-HubSpot-RateLimit-Remaining`, floored at 0; None when absent or not a number."""
    value = _header_int(headers, "x-hubspot-ratelimit-remaining")
    return None if value is None else max(0, value)


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = {k.lower(): v for k, v in headers.items()}.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
