"""Reconciliation and backfill state per store and job (`shop_syncs`): claim a job under
a lease, record a pass's progress and end, and read every job's last results.

The lease is one conditional UPDATE, so of several workers exactly one gets it, on
SQLite (one writer at a time) and PostgreSQL (the row lock, then the condition checked
again) alike. Only the lease holder writes a job's row, so it may keep the checkpoint in
memory between writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.engine import Connection

from service.store.engine import insert_for
from service.store.tables import shop_syncs

t = shop_syncs.c
RECONCILE, BACKFILL = "reconcile", "backfill"


@dataclass(frozen=True)
class SyncKey:
    source: str
    store: str
    job: str = RECONCILE

    def where(self) -> Any:
        return and_(t.source == self.source, t.store == self.store, t.job == self.job)


@dataclass(frozen=True)
class Claimed:
    """A job as its row stood when this worker took its lease."""

    key: SyncKey
    owner: str
    checkpoint: float | None
    window_after: float | None
    window_before: float | None
    created_after: float | None
    created_before: float | None
    started_at: float | None
    finished_at: float | None
    swept_at: float | None

    @property
    def unfinished(self) -> bool:
        """Its last pass started and never read its whole window (a crash, a failure)."""
        return self.started_at is not None and (
            self.finished_at is None or self.finished_at < self.started_at
        )


def claim(
    engine: Engine,
    key: SyncKey,
    *,
    owner: str,
    now: float,
    lease_seconds: float,
    started_before: float | None = None,
) -> Claimed | None:
    """Take the job's lease when nobody holds it (and, with `started_before`, when its
    last pass started before then: it is due); None when another worker has it."""
    with engine.begin() as conn:
        new = {"source": key.source, "store": key.store, "job": key.job, "updated_at": now}
        blank = {"orders_seen": 0, "orders_changed": 0, "orders_rejected": 0}
        conn.execute(insert_for(conn, shop_syncs).values(**new, **blank).on_conflict_do_nothing())
        free = or_(t.lease_owner.is_(None), t.lease_expires_at < now)
        condition = and_(key.where(), free)
        if started_before is not None:
            condition = and_(condition, or_(t.started_at.is_(None), t.started_at < started_before))
        taken = conn.execute(
            update(shop_syncs)
            .where(condition)
            .values(lease_owner=owner, lease_expires_at=now + lease_seconds, updated_at=now)
        ).rowcount
        if taken != 1:
            return None
        row = conn.execute(select(shop_syncs).where(key.where())).one()
    return Claimed(
        key,
        owner,
        row.checkpoint,
        row.window_after,
        row.window_before,
        row.created_after,
        row.created_before,
        row.started_at,
        row.finished_at,
        row.swept_at,
    )


def _held(engine: Engine, job: Claimed, values: dict[str, Any]) -> bool:
    """Write `values` to the job's row if this worker still holds its lease."""
    with engine.begin() as conn:
        held = and_(job.key.where(), t.lease_owner == job.owner)
        return conn.execute(update(shop_syncs).where(held).values(**values)).rowcount == 1


def start(
    engine: Engine,
    job: Claimed,
    *,
    after: float,
    before: float,
    created: tuple[float | None, float | None],
    now: float,
) -> bool:
    """Begin a pass over (after, before): its counts start at 0."""
    values = {
        "window_after": after,
        "window_before": before,
        "created_after": created[0],
        "created_before": created[1],
        "started_at": now,
        "orders_seen": 0,
        "orders_changed": 0,
        "orders_rejected": 0,
        "updated_at": now,
    }
    return _held(engine, job, values)


def progress(
    engine: Engine,
    job: Claimed,
    *,
    checkpoint: float | None,
    counts: tuple[int, int, int],
    now: float,
    lease_seconds: float,
) -> bool:
    """A page done: the checkpoint moves, the lease is renewed; False when it was lost."""
    seen, changed, rejected = counts
    values = {
        "checkpoint": checkpoint,
        "orders_seen": seen,
        "orders_changed": changed,
        "orders_rejected": rejected,
        "lease_expires_at": now + lease_seconds,
        "updated_at": now,
    }
    return _held(engine, job, values)


def finish(engine: Engine, job: Claimed, *, checkpoint: float, swept: bool, now: float) -> bool:
    """The whole window read: record it and give the lease back."""
    values: dict[str, Any] = {
        "checkpoint": checkpoint,
        "finished_at": now,
        "last_error": None,
        "failed_at": None,
        "lease_owner": None,
        "lease_expires_at": None,
        "updated_at": now,
    }
    if swept:
        values["swept_at"] = now
    return _held(engine, job, values)


def fail(engine: Engine, job: Claimed, *, error: str, now: float) -> bool:
    """The pass stopped on `error`: keep it, and give the lease back (the checkpoint holds
    what was done, so the next pass resumes there)."""
    values = {
        "last_error": error[:1000],
        "failed_at": now,
        "lease_owner": None,
        "lease_expires_at": None,
        "updated_at": now,
    }
    return _held(engine, job, values)


def release(engine: Engine, job: Claimed, *, now: float) -> None:
    """Give the lease back without a verdict (a worker stopping mid-pass)."""
    _held(engine, job, {"lease_owner": None, "lease_expires_at": None, "updated_at": now})


def listed(conn: Connection) -> list[dict[str, Any]]:
    """Every job's row, by source, store and job."""
    rows = conn.execute(select(shop_syncs).order_by(t.source, t.store, t.job)).mappings().all()
    return [dict(row) for row in rows]


def holder(engine: Engine, key: SyncKey) -> str | None:
    """Who holds the job's lease now, if anyone."""
    with engine.connect() as conn:
        row = conn.execute(select(t.lease_owner).where(key.where())).first()
    return None if row is None else row.lease_owner


def drop_lease(engine: Engine, key: SyncKey, owner: str, *, now: float) -> bool:
    """Free a lease `owner` can no longer hold (its process is gone)."""
    with engine.begin() as conn:
        held = and_(key.where(), t.lease_owner == owner)
        free = {"lease_owner": None, "lease_expires_at": None, "updated_at": now}
        return conn.execute(update(shop_syncs).where(held).values(**free)).rowcount == 1
