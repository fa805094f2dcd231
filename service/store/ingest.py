"""Write an accepted order: receipt, order and line items in ONE transaction.

The version rule (service.store.version_rule) lives in the SQL, so a no-op update never
causes a resend and an older version never overwrites a newer one. SQLite runs the
statements here step by step (each is a call into the same process); PostgreSQL takes
the way in service.store.ingest_postgres, which saves round trips.

The statements are built once per dialect and compiled once (see `prepared`): SQLAlchemy
does not cache ON CONFLICT statements, and compiling them on every request took most of
a webhook's time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Engine,
    and_,
    bindparam,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from service.domain import LineItemInput, LineItemState, Order
from service.errors import StoreUnavailable
from service.store import ingest_postgres
from service.store.engine import failure_reason
from service.store.prepared import Prepared
from service.store.tables import line_items, orders, receipts
from service.store.version_rule import (
    LINE_ITEM_COLUMNS,
    ORDER_COLUMNS,
    IngestStatus,
    OrderWrite,
    advance_line_items,
    advance_order,
    dialect_insert,
)

__all__ = ["IngestResult", "IngestStatus", "record_order"]


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
    """Store an order and its line-item inputs atomically; raise StoreUnavailable on failure.

    A redelivery (any delivery id seen before) stores nothing; an order version that is
    not newer than the stored one keeps only its delivery ids."""
    version = to_micros(order.updated_at)
    write = OrderWrite(
        source=order.source,
        store=order.store,
        order_id=order.order_id,
        currency=order.currency,
        version=version,
        now=now,
        delivery_ids=[delivery_id[:255] for delivery_id in delivery_ids],
        keys=[item.key for item in inputs],
        properties=[canonical_properties(dict(item.properties)) for item in inputs],
    )
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                status = ingest_postgres.receive(conn, write)
            else:
                status = _receive_step_by_step(conn, write)
            if status is IngestStatus.DUPLICATE:
                conn.rollback()
            elif status is IngestStatus.ACCEPTED:
                _upsert_line_items(conn, write)
    except DBAPIError as exc:
        raise StoreUnavailable(f"could not store order: {failure_reason(exc)}") from exc
    return IngestResult(status, len(inputs) if status is IngestStatus.ACCEPTED else 0)


# --- step by step (SQLite: statements are calls into the same process) -------------------


def _receipts_statement(count: int) -> Prepared:
    """Insert `count` delivery ids in one statement, returning a row for each new one."""

    def build(dialect: str) -> Any:
        rows: list[dict[str, Any]] = [
            {
                "source": bindparam("source", None),
                "delivery_id": bindparam(f"delivery_id_{n}", None),
                "received_at": bindparam("now", None),
            }
            for n in range(count)
        ]
        return (
            dialect_insert(dialect, receipts)
            .values(rows)
            .on_conflict_do_nothing()
            .returning(receipts.c.id)
        )

    return Prepared(build)


_RECEIPTS = {count: _receipts_statement(count) for count in range(1, 5)}
_ORDER_UPSERT = Prepared(
    lambda dialect: advance_order(
        dialect_insert(dialect, orders).values(
            {
                name: bindparam("now" if name == "received_at" else name, None)
                for name in ORDER_COLUMNS
            }
        )
    )
)
_LINE_ITEM_UPSERT = Prepared(
    lambda dialect: advance_line_items(
        dialect_insert(dialect, line_items).values(
            {name: bindparam(name, None) for name in LINE_ITEM_COLUMNS}
        )
    )
)


def _receive_step_by_step(conn: Connection, write: OrderWrite) -> IngestStatus:
    """Receipts, then the order: DUPLICATE, STALE, or ACCEPTED (line items to write)."""
    ids = write.delivery_ids
    if ids:
        statement = _RECEIPTS.get(len(ids)) or _receipts_statement(len(ids))
        values: dict[str, object] = {"source": write.source, "now": write.now}
        values.update((f"delivery_id_{n}", delivery_id) for n, delivery_id in enumerate(ids))
        if len(statement.execute(conn, values)) < len(ids):
            return IngestStatus.DUPLICATE  # seen before; the caller rolls back
    if not _ORDER_UPSERT.execute(conn, write.order_values()):
        return IngestStatus.STALE
    return IngestStatus.ACCEPTED


# The order's stored line items that an accepted (newer) version may have dropped.
_OLDER_LINES = Prepared(
    lambda _dialect: select(line_items.c.key, line_items.c.properties).where(
        and_(
            line_items.c.source == bindparam("source", None),
            line_items.c.store == bindparam("store", None),
            line_items.c.order_id == bindparam("order_id", None),
            line_items.c.source_version < bindparam("source_version", None),
        )
    )
)


def _with_removed_lines(conn: Connection, write: OrderWrite) -> OrderWrite:
    """`write` plus, at quantity 0, each line an earlier version had and this one lacks
    (SQLite's way; PostgreSQL's line-item statement does the same in one round trip).

    Every webhook and internal post carries the whole order, so a missing line was removed
    (WooCommerce drops it; Shopify keeps it at current_quantity 0, which maps the same).
    HubSpot keeps the record, now worth nothing, rather than a quantity no longer sold."""
    present = set(write.keys)
    removed = [
        (key, canonical_properties({**json.loads(properties), "quantity": "0"}))
        for key, properties in _OLDER_LINES.execute(conn, write.order_values())
        if key not in present
    ]
    if not removed:
        return write
    return replace(
        write,
        keys=[*write.keys, *(key for key, _ in removed)],
        properties=[*write.properties, *(properties for _, properties in removed)],
    )


def _upsert_line_items(conn: Connection, write: OrderWrite) -> None:
    """Every line item of an accepted order, under the version rule, in its transaction."""
    if conn.dialect.name == "postgresql":
        ingest_postgres.upsert_line_items(conn, write)  # removed lines included
        return
    write = _with_removed_lines(conn, write)
    if not write.keys:
        return
    common = {
        "source": write.source,
        "store": write.store,
        "order_id": write.order_id,
        "source_version": write.version,
        "version": 1,
        "delivered_version": 0,
        "state": LineItemState.PENDING.value,
        "attempts": 0,
        "next_attempt_at": write.now,
        "pending_since": write.now,
        "updated_at": write.now,
    }
    rows = [
        {**common, "key": key, "position": position, "properties": properties}
        for position, (key, properties) in enumerate(zip(write.keys, write.properties, strict=True))
    ]
    _LINE_ITEM_UPSERT.execute_many(conn, rows)
