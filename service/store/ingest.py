"""Write an accepted order: receipt, order and line items in ONE transaction.

The version rule lives in the SQL: a line item row changes only when the incoming order
version (its `updated_at`) is newer than the stored one, and its `version` counter moves
only when the properties actually changed, so a no-op update never causes a resend.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, case, literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from service.domain import LineItemInput, LineItemState, Order
from service.errors import StoreUnavailable
from service.store.engine import insert_for
from service.store.tables import line_items, orders, receipts


class IngestStatus(enum.StrEnum):
    ACCEPTED = "accepted"  # stored; new or changed line items are pending
    DUPLICATE = "duplicate"  # a delivery id seen before; nothing changed
    STALE = "stale"  # older than (or as old as) the stored order version; nothing changed


@dataclass(frozen=True)
class IngestResult:
    status: IngestStatus
    line_items: int = 0


def to_micros(moment: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch (exact, sortable)."""
    delta = moment - datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    offset = moment.utcoffset()
    if offset is not None:
        delta -= offset
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def canonical_properties(properties: object) -> str:
    """Properties as canonical JSON, so equal property sets compare equal in SQL."""
    return json.dumps(properties, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_order(
    engine: Engine,
    order: Order,
    inputs: Sequence[LineItemInput],
    *,
    delivery_ids: Sequence[str],
    now: float,
) -> IngestResult:
    """Store an order and its line-item inputs atomically; raise StoreUnavailable on failure."""
    try:
        with engine.begin() as conn:
            if not _insert_receipts(conn, order.source, delivery_ids, now):
                conn.rollback()
                return IngestResult(IngestStatus.DUPLICATE)
            version = to_micros(order.updated_at)
            if not _upsert_order(conn, order, version, now):
                return IngestResult(IngestStatus.STALE)
            _upsert_line_items(conn, order, inputs, version, now)
            return IngestResult(IngestStatus.ACCEPTED, len(inputs))
    except DBAPIError as exc:
        raise StoreUnavailable(f"could not store order: {type(exc.orig).__name__}") from exc


def _insert_receipts(
    conn: Connection, source: str, delivery_ids: Sequence[str], now: float
) -> bool:
    """Insert each delivery id; False when any was seen before (a redelivery)."""
    for delivery_id in delivery_ids:
        stmt = (
            insert_for(conn, receipts)
            .values(source=source, delivery_id=delivery_id[:255], received_at=now)
            .on_conflict_do_nothing()
            .returning(receipts.c.id)
        )
        if conn.execute(stmt).first() is None:
            return False
    return True


def _upsert_order(conn: Connection, order: Order, version: int, now: float) -> bool:
    """Insert or advance the order row; False when the incoming version is not newer."""
    stmt = insert_for(conn, orders).values(
        source=order.source,
        store=order.store,
        order_id=order.order_id,
        currency=order.currency,
        source_version=version,
        received_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[orders.c.source, orders.c.store, orders.c.order_id],
        set_={
            "currency": stmt.excluded.currency,
            "source_version": stmt.excluded.source_version,
            "received_at": stmt.excluded.received_at,
        },
        where=stmt.excluded.source_version > orders.c.source_version,
    ).returning(orders.c.order_id)
    return conn.execute(stmt).first() is not None


def _upsert_line_items(
    conn: Connection, order: Order, inputs: Sequence[LineItemInput], version: int, now: float
) -> None:
    if not inputs:
        return
    rows = [
        {
            "key": item.key,
            "source": order.source,
            "store": order.store,
            "order_id": order.order_id,
            "position": position,
            "properties": canonical_properties(dict(item.properties)),
            "source_version": version,
            "version": 1,
            "delivered_version": 0,
            "state": LineItemState.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "pending_since": now,
            "updated_at": now,
        }
        for position, item in enumerate(inputs)
    ]
    stmt = insert_for(conn, line_items)
    new, old = stmt.excluded, line_items.c
    changed = new.properties != old.properties

    def if_changed(then: object, otherwise: object) -> object:
        return case((changed, then), else_=otherwise)

    becomes_pending = and_(changed, old.state != LineItemState.PENDING.value)
    stmt = stmt.on_conflict_do_update(
        index_elements=[old.key],
        set_={
            "source_version": new.source_version,
            "position": new.position,
            "properties": new.properties,
            "version": if_changed(old.version + 1, old.version),
            "state": if_changed(literal(LineItemState.PENDING.value), old.state),
            "attempts": if_changed(0, old.attempts),
            "next_attempt_at": if_changed(new.next_attempt_at, old.next_attempt_at),
            "pending_since": case((becomes_pending, new.pending_since), else_=old.pending_since),
            "last_error": if_changed(None, old.last_error),
            "dead_at": if_changed(None, old.dead_at),
            "updated_at": new.updated_at,
        },
        where=new.source_version > old.source_version,
    )
    conn.execute(stmt, rows)


def order_exists(conn: Connection, source: str, store: str, order_id: str) -> bool:
    stmt = select(orders.c.order_id).where(
        orders.c.source == source, orders.c.store == store, orders.c.order_id == order_id
    )
    return conn.execute(stmt).first() is not None
