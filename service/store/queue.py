"""The delivery queue over the records state table: find due work, claim it, renew it.

A claim sets a lease (owner token + expiry) on up to `limit` due rows of one kind in one
statement; on PostgreSQL the candidate rows are locked with FOR UPDATE SKIP LOCKED so
concurrent workers never claim the same row. A crashed worker's lease simply expires.
An association is due only when both of its ends have HubSpot ids, which the claim
reads in the same transaction. Outcomes are applied by `service.store.marks`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, and_, exists, func, literal, or_, select, union_all, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from service.domain import RecordKind, RecordState
from service.store.engine import is_postgres, reading
from service.store.tables import records

PENDING = RecordState.PENDING.value
c = records.c


@dataclass(frozen=True)
class Claimed:
    """A leased record: the version being sent and what sending it needs."""

    key: str
    version: int
    properties: dict[str, str]
    attempts: int
    pending_since: float | None
    next_attempt_at: float
    hubspot_id: str | None = None  # as stored when claimed; a change moves associations
    from_id: str | None = None  # an association: its ends' HubSpot ids
    to_id: str | None = None
    order: tuple[str, str, str] = ("", "", "")  # (source, store, order id) it belongs to


@dataclass(frozen=True)
class Due:
    """Work of one kind: due rows (counted up to the batch limit), the oldest due row's
    time, and whether some are in flight (leased) now."""

    count: int
    oldest: float | None
    in_flight: bool = False


def _ends_ready(kind: RecordKind) -> ColumnElement[bool]:
    """An association's two ends both hold HubSpot ids."""
    from_kind, to_kind = kind.ends
    start, end = records.alias("from_end"), records.alias("to_end")
    return and_(
        exists().where(
            start.c.kind == from_kind.value,
            start.c.key == c.from_key,
            start.c.hubspot_id.is_not(None),
        ),
        exists().where(
            end.c.kind == to_kind.value, end.c.key == c.to_key, end.c.hubspot_id.is_not(None)
        ),
    )


def _due(kind: RecordKind, now: float) -> ColumnElement[bool]:
    clause = and_(
        c.kind == kind.value,
        c.state == PENDING,
        c.next_attempt_at <= now,
        or_(c.lease_owner.is_(None), c.lease_expires_at < now),
    )
    return and_(clause, _ends_ready(kind)) if kind.is_association else clause


def due_work(engine: Engine, *, now: float, limits: dict[RecordKind, int]) -> dict[RecordKind, Due]:
    """For each kind, its due rows (counted up to its limit) and whether it has rows in
    flight; one read, no write lock. Kinds with neither are left out."""
    parts = []
    for kind, limit in limits.items():
        due = (
            select(c.next_attempt_at)
            .where(_due(kind, now))
            .order_by(c.next_attempt_at)
            .limit(limit)
            .subquery()
        )
        # Served by the partial index of leased rows, which holds only what is in flight.
        leased = exists().where(
            c.kind == kind.value, c.lease_owner.is_not(None), c.lease_expires_at >= now
        )
        parts.append(
            select(
                literal(kind.value).label("kind"),
                func.count().label("rows"),
                func.min(due.c.next_attempt_at).label("oldest"),
                leased.label("in_flight"),
            ).select_from(due)
        )
    if not parts:
        return {}
    with reading(engine) as conn:
        rows = conn.execute(union_all(*parts)).all()
    return {
        RecordKind(row.kind): Due(row.rows, row.oldest, bool(row.in_flight))
        for row in rows
        if row.rows or row.in_flight
    }


def claim(
    engine: Engine,
    kind: RecordKind,
    *,
    owner: str,
    now: float,
    limit: int,
    lease_seconds: float,
    linger_seconds: float = 0.0,
) -> list[Claimed]:
    """Lease up to `limit` due rows; a partial batch waits until its oldest row lingered."""
    with engine.begin() as conn:
        candidates = (
            select(c.kind, c.key)
            .where(_due(kind, now))
            .order_by(c.next_attempt_at, c.key)
            .limit(limit)
        )
        stmt = update(records).values(lease_owner=owner, lease_expires_at=now + lease_seconds)
        if is_postgres(conn):
            # A CTE is run once: a LIMIT ... SKIP LOCKED subquery under IN may be re-run by
            # the planner and lease more rows than the limit (seen with the composite key).
            due = candidates.with_for_update(skip_locked=True).cte("due")
            stmt = stmt.where(c.kind == due.c.kind, c.key == due.c.key)
        else:
            keys = candidates.with_only_columns(c.key).scalar_subquery()
            stmt = stmt.where(c.kind == kind.value, c.key.in_(keys))
        stmt = stmt.returning(
            c.key,
            c.version,
            c.properties,
            c.attempts,
            c.pending_since,
            c.next_attempt_at,
            c.hubspot_id,
            c.from_key,
            c.to_key,
            c.source,
            c.store,
            c.order_id,
        )
        rows = conn.execute(stmt).all()
        if not rows:
            return []
        if len(rows) < limit and min(r.next_attempt_at for r in rows) > now - linger_seconds:
            conn.rollback()  # too few and too fresh: let more arrive to fill the batch
            return []
        ends = _end_ids(conn, kind, rows) if kind.is_association else {}
    start, end = kind.ends if kind.is_association else (kind, kind)
    return [
        Claimed(
            key=r.key,
            version=r.version,
            properties=json.loads(r.properties),
            attempts=r.attempts,
            pending_since=r.pending_since,
            next_attempt_at=r.next_attempt_at,
            hubspot_id=r.hubspot_id,
            from_id=ends.get((start.value, r.from_key)),
            to_id=ends.get((end.value, r.to_key)),
            order=(r.source, r.store, r.order_id),
        )
        for r in sorted(rows, key=lambda r: (r.next_attempt_at, r.key))
    ]


def _end_ids(
    conn: Connection, kind: RecordKind, rows: Sequence[object]
) -> dict[tuple[str, str], str]:
    """The HubSpot ids of the claimed associations' ends, by (kind, key)."""
    from_kind, to_kind = kind.ends
    wanted = or_(
        and_(c.kind == from_kind.value, c.key.in_({r.from_key for r in rows})),  # type: ignore[attr-defined]
        and_(c.kind == to_kind.value, c.key.in_({r.to_key for r in rows})),  # type: ignore[attr-defined]
    )
    found = conn.execute(select(c.kind, c.key, c.hubspot_id).where(wanted)).all()
    return {(row.kind, row.key): row.hubspot_id for row in found}


def _owned(kind: RecordKind, owner: str, keys: Sequence[str]) -> ColumnElement[bool]:
    return and_(c.kind == kind.value, c.lease_owner == owner, c.key.in_(keys))


def renew(
    engine: Engine,
    kind: RecordKind,
    *,
    owner: str,
    keys: Sequence[str],
    now: float,
    lease_seconds: float,
) -> set[str]:
    """Extend the lease on `keys` just before sending them; the keys still ours.

    A key whose lease another worker took after it expired is dropped from the send, so
    no record is ever in two requests at once."""
    if not keys:
        return set()
    with engine.begin() as conn:
        stmt = (
            update(records)
            .where(_owned(kind, owner, sorted(keys)))
            .values(lease_expires_at=now + lease_seconds)
            .returning(c.key)
        )
        return set(conn.execute(stmt).scalars())


def release(
    engine: Engine, kind: RecordKind, *, owner: str, keys: Sequence[str], now: float
) -> int:
    """Give a claim back untouched (shutdown, auth failure, a pause): due again at once."""
    if not keys:
        return 0
    with engine.begin() as conn:
        stmt = (
            update(records)
            .where(_owned(kind, owner, keys))
            .values(lease_owner=None, lease_expires_at=None, updated_at=now)
        )
        return conn.execute(stmt).rowcount
