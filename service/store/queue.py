"""The delivery queue over the line_items state table: claim due rows, apply outcomes.

A claim sets a lease (owner token + expiry) on up to `limit` due rows in one statement;
on PostgreSQL the candidate rows are locked with FOR UPDATE SKIP LOCKED so concurrent
workers never claim the same row. A crashed worker's lease simply expires. Every outcome
is applied only while the caller still owns the lease.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Engine,
    Float,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from service.domain import LineItemState
from service.store.engine import is_postgres
from service.store.tables import line_items

PENDING = LineItemState.PENDING.value


@dataclass(frozen=True)
class Claimed:
    """A leased line item: the version being sent and its properties."""

    key: str
    version: int
    properties: dict[str, str]
    attempts: int
    pending_since: float | None
    next_attempt_at: float


@dataclass(frozen=True)
class DeliveredItem:
    key: str
    version: int
    hubspot_id: str
    new: bool


@dataclass(frozen=True)
class RetryItem:
    key: str
    next_attempt_at: float
    error: str


@dataclass(frozen=True)
class DeadItem:
    key: str
    version: int  # the version that failed; a newer one stored meanwhile stays pending
    error: str


def _due(now: float) -> ColumnElement[bool]:
    c = line_items.c
    return and_(
        c.state == PENDING,
        c.next_attempt_at <= now,
        or_(c.lease_owner.is_(None), c.lease_expires_at < now),
    )


def claim(
    engine: Engine,
    *,
    owner: str,
    now: float,
    limit: int,
    lease_seconds: float,
    linger_seconds: float = 0.0,
) -> list[Claimed]:
    """Lease up to `limit` due rows; a partial batch waits until its oldest row lingered."""
    c = line_items.c
    with engine.begin() as conn:
        candidates = select(c.key).where(_due(now)).order_by(c.next_attempt_at).limit(limit)
        if is_postgres(conn):
            candidates = candidates.with_for_update(skip_locked=True)
        stmt = (
            update(line_items)
            .where(c.key.in_(candidates.scalar_subquery()))
            .values(lease_owner=owner, lease_expires_at=now + lease_seconds)
            .returning(
                c.key, c.version, c.properties, c.attempts, c.pending_since, c.next_attempt_at
            )
        )
        rows = conn.execute(stmt).all()
        if not rows:
            return []
        if len(rows) < limit and min(r.next_attempt_at for r in rows) > now - linger_seconds:
            conn.rollback()  # too few and too fresh: let more arrive to fill the batch
            return []
    return [
        Claimed(
            key=r.key,
            version=r.version,
            properties=json.loads(r.properties),
            attempts=r.attempts,
            pending_since=r.pending_since,
            next_attempt_at=r.next_attempt_at,
        )
        for r in sorted(rows, key=lambda r: (r.next_attempt_at, r.key))
    ]


def _owned(owner: str, keys: Sequence[str]) -> ColumnElement[bool]:
    return and_(line_items.c.lease_owner == owner, line_items.c.key.in_(keys))


# The outcome updates: one statement with bind parameters, run for every item in one
# driver executemany (one round trip on PostgreSQL), instead of a statement built, cached
# and sent per item. Each applies only while the caller still owns the lease.
_c = line_items.c
_OWNED_ITEM = and_(_c.key == bindparam("b_key"), _c.lease_owner == bindparam("b_owner"))
_NEWER_WAITING = _c.version > bindparam("b_version", type_=Integer)
_MARK_DELIVERED = (
    update(line_items)
    .where(_OWNED_ITEM)
    .values(
        delivered_version=bindparam("b_version", type_=Integer),
        hubspot_id=bindparam("b_hubspot_id", type_=String),
        hubspot_new=case(
            (_c.hubspot_id.is_(None), bindparam("b_new", type_=Boolean)), else_=_c.hubspot_new
        ),
        state=case((_NEWER_WAITING, PENDING), else_=LineItemState.DELIVERED.value),
        pending_since=case((_NEWER_WAITING, _c.pending_since), else_=None),
        delivered_at=bindparam("b_now", type_=Float),
        attempts=0,
        last_error=None,
        lease_owner=None,
        lease_expires_at=None,
        updated_at=bindparam("b_now", type_=Float),
    )
)
_MARK_RETRY = (
    update(line_items)
    .where(_OWNED_ITEM)
    .values(
        attempts=_c.attempts + 1,
        next_attempt_at=bindparam("b_next_attempt_at", type_=Float),
        last_error=bindparam("b_error", type_=Text),
        lease_owner=None,
        lease_expires_at=None,
        updated_at=bindparam("b_now", type_=Float),
    )
)
_MARK_DEAD = (
    update(line_items)
    .where(_OWNED_ITEM)
    .values(
        # A corrected version that arrived while the failed one was in flight is not
        # buried with it: it stays pending, its attempts start over.
        state=case((_NEWER_WAITING, PENDING), else_=LineItemState.DEAD.value),
        attempts=case((_NEWER_WAITING, 0), else_=_c.attempts + 1),
        next_attempt_at=case(
            (_NEWER_WAITING, bindparam("b_now", type_=Float)), else_=_c.next_attempt_at
        ),
        last_error=bindparam("b_error", type_=Text),
        dead_at=case((_NEWER_WAITING, None), else_=bindparam("b_now", type_=Float)),
        lease_owner=None,
        lease_expires_at=None,
        updated_at=bindparam("b_now", type_=Float),
    )
)


def _update_each(engine: Engine, stmt: Any, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0  # nothing to change: no transaction (on SQLite, no write lock) either
    # Rows are locked in key order, as ingest locks them, so the two never deadlock.
    rows.sort(key=lambda row: str(row["b_key"]))
    with engine.begin() as conn:
        return conn.execute(stmt, rows).rowcount


def mark_delivered(
    engine: Engine, *, owner: str, items: Sequence[DeliveredItem], now: float
) -> int:
    """Record HubSpot's confirmation of `version`; a newer version stays pending."""
    rows = [
        {
            "b_key": item.key,
            "b_owner": owner,
            "b_version": item.version,
            "b_hubspot_id": item.hubspot_id,
            "b_new": item.new,
            "b_now": now,
        }
        for item in items
    ]
    return _update_each(engine, _MARK_DELIVERED, rows)


def mark_retry(engine: Engine, *, owner: str, items: Sequence[RetryItem], now: float) -> int:
    """Release the lease and schedule another attempt, keeping the reason."""
    rows = [
        {
            "b_key": item.key,
            "b_owner": owner,
            "b_next_attempt_at": item.next_attempt_at,
            "b_error": item.error[:2000],
            "b_now": now,
        }
        for item in items
    ]
    return _update_each(engine, _MARK_RETRY, rows)


def mark_dead(engine: Engine, *, owner: str, items: Sequence[DeadItem], now: float) -> int:
    """Dead-letter inputs that cannot succeed as they are; an operator replays them."""
    rows = [
        {
            "b_key": item.key,
            "b_owner": owner,
            "b_version": item.version,
            "b_error": item.error[:2000],
            "b_now": now,
        }
        for item in items
    ]
    return _update_each(engine, _MARK_DEAD, rows)


def renew(
    engine: Engine, *, owner: str, keys: Sequence[str], now: float, lease_seconds: float
) -> set[str]:
    """Extend the lease on `keys` just before sending them; the keys still ours.

    A key whose lease another worker took after it expired is dropped from the send, so
    no line item is ever in two requests at once."""
    if not keys:
        return set()
    with engine.begin() as conn:
        stmt = (
            update(line_items)
            .where(_owned(owner, sorted(keys)))
            .values(lease_expires_at=now + lease_seconds)
            .returning(line_items.c.key)
        )
        return set(conn.execute(stmt).scalars())


def release(engine: Engine, *, owner: str, keys: Sequence[str], now: float) -> int:
    """Give a claim back untouched (shutdown, auth failure, a pause): due again at once."""
    if not keys:
        return 0
    with engine.begin() as conn:
        stmt = (
            update(line_items)
            .where(_owned(owner, keys))
            .values(lease_owner=None, lease_expires_at=None, updated_at=now)
        )
        return conn.execute(stmt).rowcount


def queue_depth(conn: Connection, now: float) -> dict[str, float | int | None]:
    """Counts for /readyz, /metrics and `relay status`: pending, dead, oldest pending age."""
    c = line_items.c
    pending, oldest = conn.execute(
        select(func.count(), func.min(c.pending_since)).where(c.state == PENDING)
    ).one()
    dead = conn.execute(
        select(func.count()).where(c.state == LineItemState.DEAD.value)
    ).scalar_one()
    return {
        "pending": pending,
        "dead": dead,
        "oldest_pending_age_seconds": (now - oldest) if oldest is not None else None,
    }
