"""The worker's activity by minute (table `activity`): records delivered and attempts
failed, counted in the transaction that marks them, and the queue's depth, sampled once a
minute. The console's charts read the last hour of it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, delete, select
from sqlalchemy.engine import Connection

from service.store.engine import insert_for
from service.store.tables import activity

KEEP_SECONDS = 24 * 3600.0
a = activity.c


def minute_of(moment: float) -> int:
    return int(moment // 60)


def count(conn: Connection, now: float, *, delivered: int = 0, failed: int = 0) -> None:
    """Add to this minute's counts, inside the caller's transaction (last: the row is a
    lock every worker shares for that minute, held until the commit)."""
    if not (delivered or failed):
        return
    stmt = insert_for(conn, activity).values(
        minute=minute_of(now), delivered=delivered, failed=failed
    )
    excluded = stmt.excluded
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[a.minute],
            set_={
                "delivered": a.delivered + excluded.delivered,
                "failed": a.failed + excluded.failed,
            },
        )
    )


def sample_depth(engine: Engine, now: float, *, pending: int, dead: int) -> None:
    """Keep the queue's depth for this minute (the latest sample in a minute wins)."""
    with engine.begin() as conn:
        stmt = insert_for(conn, activity).values(
            minute=minute_of(now), delivered=0, failed=0, pending=pending, dead=dead
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[a.minute], set_={"pending": pending, "dead": dead}
            )
        )


@dataclass(frozen=True)
class Minute:
    minute: int
    delivered: int
    failed: int
    pending: int | None
    dead: int | None


def last_hour(conn: Connection, now: float, minutes: int = 60) -> list[Minute]:
    """One entry per minute of the last `minutes`, oldest first; minutes with nothing
    stored are zero counts without a depth sample."""
    first = minute_of(now) - minutes + 1
    rows = conn.execute(select(activity).where(a.minute >= first)).all()
    stored = {row.minute: row for row in rows}
    hour = []
    for minute in range(first, first + minutes):
        row = stored.get(minute)
        if row is None:
            hour.append(Minute(minute, 0, 0, None, None))
        else:
            hour.append(Minute(minute, row.delivered, row.failed, row.pending, row.dead))
    return hour


def prune(engine: Engine, *, now: float, keep: float = KEEP_SECONDS) -> int:
    with engine.begin() as conn:
        return int(conn.execute(delete(activity).where(a.minute < minute_of(now - keep))).rowcount)
