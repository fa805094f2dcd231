"""Applying HubSpot's outcomes to claimed records: delivered, retry later, dead letter.

Each update runs as one statement with bind parameters for every item, in one driver
`executemany` (one round trip on PostgreSQL), and applies only while the caller still
owns the lease. Rows are locked in key order, as ingest locks them, so the two never
deadlock.

What that does to the associations a marked object is an end of, in the same
transaction, is `association_marks`'.
"""

from __future__ import annotations

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
    select,
    update,
)
from sqlalchemy.engine import Connection

from service.domain import RecordKind, RecordState
from service.store import activity, association_marks
from service.store.tables import records

PENDING = RecordState.PENDING.value


@dataclass(frozen=True)
class DeliveredItem:
    key: str
    version: int
    hubspot_id: str
    new: bool
    previous_id: str | None = None  # the HubSpot id stored when claimed
    order: tuple[str, str, str] = ("", "", "")  # (source, store, order id) it belongs to


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
    order: tuple[str, str, str] = ("", "", "")  # (source, store, order id) it belongs to


_c = records.c
_OWNED_ITEM = and_(
    _c.kind == bindparam("b_kind"),
    _c.key == bindparam("b_key"),
    _c.lease_owner == bindparam("b_owner"),
)
_NEWER_WAITING = _c.version > bindparam("b_version", type_=Integer)
_MARK_DELIVERED = (
    update(records)
    .where(_OWNED_ITEM)
    .values(
        delivered_version=bindparam("b_version", type_=Integer),
        hubspot_id=bindparam("b_hubspot_id", type_=String),
        hubspot_new=case(
            (_c.hubspot_id.is_(None), bindparam("b_new", type_=Boolean)), else_=_c.hubspot_new
        ),
        state=case((_NEWER_WAITING, PENDING), else_=RecordState.DELIVERED.value),
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
    update(records)
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
    update(records)
    .where(_OWNED_ITEM)
    .values(
        # A corrected version that arrived while the failed one was in flight is not
        # buried with it: it stays pending, its attempts start over.
        state=case((_NEWER_WAITING, PENDING), else_=RecordState.DEAD.value),
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


def _update_each(conn: Connection, stmt: Any, rows: list[dict[str, Any]]) -> int:
    rows.sort(key=lambda row: str(row["b_key"]))
    return conn.execute(stmt, rows).rowcount


def mark_delivered(
    engine: Engine,
    kind: RecordKind,
    *,
    owner: str,
    items: Sequence[DeliveredItem],
    now: float,
) -> int:
    """Record HubSpot's confirmation of `version`; a newer version stays pending."""
    if not items:
        return 0  # nothing to change: no transaction (on SQLite, no write lock) either
    rows = [
        {
            "b_kind": kind.value,
            "b_key": item.key,
            "b_owner": owner,
            "b_version": item.version,
            "b_hubspot_id": item.hubspot_id,
            "b_new": item.new,
            "b_now": now,
        }
        for item in items
    ]
    replaced = [i for i in items if i.previous_id is not None and i.hubspot_id != i.previous_id]
    with engine.begin() as conn:
        # Only what this worker still owns: one whose lease ran out is another's to mark.
        moved = _still_owned(conn, kind, owner, replaced)
        # Statements in kind order, as ingest writes rows: associations named before the
        # kind, the kind itself, associations named after it.
        for association in association_marks.around(kind, before=True):
            association_marks.touch(conn, association, kind, moved, now)
        count = _update_each(conn, _MARK_DELIVERED, rows)
        for association in association_marks.around(kind, before=False):
            association_marks.touch(conn, association, kind, moved, now)
        activity.count(conn, now, delivered=count)
    return count


def _still_owned(
    conn: Connection, kind: RecordKind, owner: str, items: list[DeliveredItem]
) -> list[DeliveredItem]:
    if not items:
        return []
    query = select(_c.key).where(
        _c.kind == kind.value, _c.lease_owner == owner, _c.key.in_(sorted(i.key for i in items))
    )
    # No row lock: it would be taken before the associations' rows, against ingest's
    # order; a lease lost between this read and the mark below is a window of a moment.
    owned = set(conn.execute(query).scalars())
    return [item for item in items if item.key in owned]


def mark_retry(
    engine: Engine, kind: RecordKind, *, owner: str, items: Sequence[RetryItem], now: float
) -> int:
    """Release the lease and schedule another attempt, keeping the reason."""
    rows = [
        {
            "b_kind": kind.value,
            "b_key": item.key,
            "b_owner": owner,
            "b_next_attempt_at": item.next_attempt_at,
            "b_error": item.error[:2000],
            "b_now": now,
        }
        for item in items
    ]
    if not rows:
        return 0  # nothing to change: no transaction (on SQLite, no write lock) either
    with engine.begin() as conn:
        count = _update_each(conn, _MARK_RETRY, rows)
        activity.count(conn, now, failed=count)
    return count


def mark_dead(
    engine: Engine, kind: RecordKind, *, owner: str, items: Sequence[DeadItem], now: float
) -> int:
    """Dead-letter inputs that cannot succeed as they are; an operator replays them."""
    rows = [
        {
            "b_kind": kind.value,
            "b_key": item.key,
            "b_owner": owner,
            "b_version": item.version,
            "b_error": item.error[:2000],
            "b_now": now,
        }
        for item in items
    ]
    if not rows:
        return 0
    with engine.begin() as conn:
        # Statements in kind order, as ingest writes rows (see mark_delivered).
        items = list(items)
        for association in association_marks.around(kind, before=True):
            association_marks.bury_waiting(conn, association, kind, items, now)
        count = _update_each(conn, _MARK_DEAD, rows)
        for association in association_marks.around(kind, before=False):
            association_marks.bury_waiting(conn, association, kind, items, now)
        activity.count(conn, now, failed=count)
    return count
