"""What marking an object does to the associations it is an end of (`marks` calls these
in its transactions).

- A HubSpot id that replaced another (the record was deleted in HubSpot and the upsert
  made a new one): its delivered or dead associations are sent again (`touch`).
- A dead letter without a HubSpot id: the associations waiting for it become dead
  letters too, naming it (`bury_waiting`); replaying it replays them (`reads.replay`).

Statements run in kind order, as ingest writes rows (`around`): associations whose kind
sorts before the object's, then the object, then the others, so a worker and a webhook
never lock rows in opposite orders. Associations are found through the order they belong
to (ix_records_order), except by their contact, whose associations span orders (a partial
index of to_key per kind).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import and_, exists, tuple_, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from service.domain import RecordKind, RecordState
from service.store.tables import records

PENDING = RecordState.PENDING.value
ASSOCIATIONS = tuple(kind for kind in RecordKind if kind.is_association)
_c = records.c


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


def around(kind: RecordKind, *, before: bool) -> list[RecordKind]:
    return [
        association
        for association in ASSOCIATIONS
        if kind in association.ends and (association.value < kind.value) == before
    ]


def touch(
    conn: Connection,
    association: RecordKind,
    end: RecordKind,
    moved: Sequence[End],
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


def bury_waiting(
    conn: Connection, association: RecordKind, end: RecordKind, items: Sequence[End], now: float
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
