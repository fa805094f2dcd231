"""Applying HubSpot's outcomes to claimed records: delivered, retry later, dead letter.

Each update runs as one statement with bind parameters for every item, in one driver
`executemany` (one round trip on PostgreSQL), and applies only while the caller still
owns the lease. Rows are locked in key order, as ingest locks them, so the two never
deadlock.

When an object's HubSpot id replaces another (the record was deleted in HubSpot and the
upsert made a new one), the associations it is an end of are sent again, in the same
transaction. When an object becomes a dead letter, the associations waiting for it
become dead letters too, naming it: they could never be sent, and an operator sees why
on the order (replaying the object replays them, `reads.replay`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

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
    exists,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from service.domain import RecordKind, RecordState
from service.store.tables import records

PENDING = RecordState.PENDING.value
ASSOCIATIONS = tuple(kind for kind in RecordKind if kind.is_association)


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
        for association in _associations_of(kind, before=True):
            _touch(conn, association, kind, moved, now)
        count = _update_each(conn, _MARK_DELIVERED, rows)
        for association in _associations_of(kind, before=False):
            _touch(conn, association, kind, moved, now)
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


def _associations_of(kind: RecordKind, *, before: bool) -> list[RecordKind]:
    return [
        association
        for association in ASSOCIATIONS
        if kind in association.ends and (association.value < kind.value) == before
    ]


def _touch(
    conn: Connection,
    association: RecordKind,
    end: RecordKind,
    moved: list[DeliveredItem],
    now: float,
) -> None:
    """Associations of `association` kind whose `end`'s HubSpot id replaced another: sent
    and dead ones go again. (A first id needs nothing: waiting associations are due once
    both ends have ids; and it does not revive one buried for its other end.)"""
    if not moved:
        return

    settled = _c.state.in_([RecordState.DELIVERED.value, RecordState.DEAD.value])
    conn.execute(
        update(records)
        .where(associations_of(association, end, moved), settled)
        .values(
            state=PENDING,
            version=_c.version + 1,
            attempts=0,
            next_attempt_at=now,
            pending_since=now,
            dead_at=None,
            last_error=None,
            updated_at=now,
        )
    )


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
    return _apply(engine, _MARK_RETRY, rows)


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
        for association in _associations_of(kind, before=True):
            _bury_waiting(conn, association, kind, items, now)
        count = _update_each(conn, _MARK_DEAD, rows)
        for association in _associations_of(kind, before=False):
            _bury_waiting(conn, association, kind, items, now)
    return count


def _bury_waiting(
    conn: Connection, association: RecordKind, end: RecordKind, items: list[DeadItem], now: float
) -> None:
    """Pending associations whose `end` among `items` is a dead letter without a HubSpot
    id: they become dead letters too. (A dead end that has an id from an earlier version
    still anchors its associations, which go on.)"""
    from_kind, _ = association.ends
    column = _c.from_key if end is from_kind else _c.to_key
    ends = records.alias("dead_end")
    dead_end = exists().where(
        ends.c.kind == end.value,
        ends.c.key == column,
        ends.c.state == RecordState.DEAD.value,
        ends.c.hubspot_id.is_(None),
    )
    conn.execute(
        update(records)
        .where(
            associations_of(association, end, items),
            _c.state == PENDING,
            _c.lease_owner.is_(None),
            dead_end,
        )
        .values(
            state=RecordState.DEAD.value,
            dead_at=now,
            last_error=f"its {end.value} is a dead letter; replaying it replays this",
            updated_at=now,
        )
    )


class End(Protocol):
    """A record as an association's end: its key and the order it belongs to."""

    @property
    def key(self) -> str: ...

    @property
    def order(self) -> tuple[str, str, str]: ...


def associations_of(
    association: RecordKind, end: RecordKind, items: Sequence[End]
) -> ColumnElement[bool]:
    """The `association` rows one of whose ends, of kind `end`, is among `items`. Found
    through the orders they belong to (ix_records_order), except by their contact, whose
    associations span orders (found by to_key, a partial index per kind)."""
    from_kind, to_kind = association.ends
    assert end in (from_kind, to_kind)
    column = _c.from_key if end is from_kind else _c.to_key
    keys = sorted({item.key for item in items})
    if end is RecordKind.CONTACT:
        return and_(_c.kind == association.value, column.in_(keys))
    orders = sorted({item.order for item in items})
    return and_(
        tuple_(_c.source, _c.store, _c.order_id).in_(orders),
        _c.kind == association.value,
        column.in_(keys),
    )


def _apply(engine: Engine, stmt: Any, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0  # nothing to change: no transaction (on SQLite, no write lock) either
    with engine.begin() as conn:
        return _update_each(conn, stmt, rows)
