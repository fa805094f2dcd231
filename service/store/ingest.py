"""Write an accepted order: receipt, order and its records in ONE transaction.

The records are every HubSpot record the order wants: its line items and, with the
whole order on, its order record (order or deal), its buyer's contact and the
associations between them, all rows of the one keyed state table.

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

from service.domain import Order, RecordInput, RecordKind, RecordState
from service.errors import StoreUnavailable
from service.store import ingest_postgres
from service.store.engine import failure_reason
from service.store.prepared import Prepared
from service.store.tables import orders, receipts, records
from service.store.version_rule import (
    ORDER_COLUMNS,
    RECORD_COLUMNS,
    IngestStatus,
    OrderWrite,
    RecordRow,
    advance_order,
    advance_records,
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
    inputs: Sequence[RecordInput],
    *,
    delivery_ids: Sequence[str],
    now: float,
) -> IngestResult:
    """Store an order and its records atomically; raise StoreUnavailable on failure.

    A redelivery (any delivery id seen before) stores nothing; an order version that is
    not newer than the stored one keeps only its delivery ids."""
    version = to_micros(order.updated_at)
    rows = [
        RecordRow(
            kind=item.kind.value,
            key=item.key,
            position=item.position,
            # An association's are always {}: no need to encode them.
            properties=canonical_properties(item.properties) if item.properties else "{}",
            from_key=item.from_key,
            to_key=item.to_key,
        )
        for item in inputs
    ]
    write = OrderWrite(
        source=order.source,
        store=order.store,
        order_id=order.order_id,
        currency=order.currency,
        version=version,
        now=now,
        delivery_ids=[delivery_id[:255] for delivery_id in delivery_ids],
        rows=rows,
        number=order.name[:64] if order.name else None,
    )
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                status, new = ingest_postgres.receive(conn, write), False
            else:
                status, new = _receive_step_by_step(conn, write)
            if status is IngestStatus.DUPLICATE:
                conn.rollback()
            elif status is IngestStatus.ACCEPTED:
                _upsert_records(conn, write, new=new)
    except DBAPIError as exc:
        raise StoreUnavailable(f"could not store order: {failure_reason(exc)}") from exc
    lines = sum(1 for item in inputs if item.kind is RecordKind.LINE_ITEM)
    return IngestResult(status, lines if status is IngestStatus.ACCEPTED else 0)


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
                name: bindparam("now" if name.endswith("received_at") else name, None)
                for name in ORDER_COLUMNS
            }
        )
    )
)
_RECORD_UPSERT = Prepared(
    lambda dialect: advance_records(
        dialect_insert(dialect, records).values(
            {name: bindparam(name, None) for name in RECORD_COLUMNS}
        )
    )
)


def _receive_step_by_step(conn: Connection, write: OrderWrite) -> tuple[IngestStatus, bool]:
    """Receipts, then the order: DUPLICATE, STALE, or ACCEPTED (records to write), and
    whether this write created the order."""
    ids = write.delivery_ids
    if ids:
        statement = _RECEIPTS.get(len(ids)) or _receipts_statement(len(ids))
        values: dict[str, object] = {"source": write.source, "now": write.now}
        values.update((f"delivery_id_{n}", delivery_id) for n, delivery_id in enumerate(ids))
        if len(statement.execute(conn, values)) < len(ids):
            return IngestStatus.DUPLICATE, False  # seen before; the caller rolls back
    written = _ORDER_UPSERT.execute(conn, write.order_values())
    if not written:
        return IngestStatus.STALE, False
    [(first_received_at,)] = written
    return IngestStatus.ACCEPTED, first_received_at == write.now


# The order's stored line items that an accepted (newer) version may have dropped.
_OLDER_LINES = Prepared(
    lambda _dialect: select(records.c.key, records.c.position, records.c.properties).where(
        and_(
            records.c.kind == RecordKind.LINE_ITEM.value,
            records.c.source == bindparam("source", None),
            records.c.store == bindparam("store", None),
            records.c.order_id == bindparam("order_id", None),
            records.c.source_version < bindparam("source_version", None),
        )
    )
)


def _with_removed_lines(conn: Connection, write: OrderWrite) -> OrderWrite:
    """`write` plus, at quantity 0, each line an earlier version had and this one lacks
    (SQLite's way; PostgreSQL's record statement does the same in one round trip).

    Every webhook and internal post carries the whole order, so a missing line was removed
    (WooCommerce drops it; Shopify keeps it at current_quantity 0, which maps the same).
    HubSpot keeps the record, now worth nothing, rather than a quantity no longer sold; its
    association with the order stays as it was."""
    present = {row.key for row in write.rows if row.kind == RecordKind.LINE_ITEM.value}
    removed = [
        RecordRow(
            kind=RecordKind.LINE_ITEM.value,
            key=key,
            position=position,
            properties=canonical_properties({**json.loads(properties), "quantity": "0"}),
        )
        for key, position, properties in _OLDER_LINES.execute(conn, write.order_values())
        if key not in present
    ]
    if not removed:
        return write
    return replace(write, rows=[*write.rows, *removed])


def _upsert_records(conn: Connection, write: OrderWrite, *, new: bool) -> None:
    """Every record of an accepted order, under the version rule, in its transaction.
    A new order has no older lines to zero: the lookup is saved on most webhooks."""
    if conn.dialect.name == "postgresql":
        ingest_postgres.upsert_records(conn, write)  # removed lines included
        return
    if not new:
        write = _with_removed_lines(conn, write)
    if not write.rows:
        return
    common = {
        "source": write.source,
        "store": write.store,
        "order_id": write.order_id,
        "source_version": write.version,
        "version": 1,
        "delivered_version": 0,
        "state": RecordState.PENDING.value,
        "attempts": 0,
        "next_attempt_at": write.now,
        "pending_since": write.now,
        "updated_at": write.now,
    }
    rows = [
        {**common, **row.values()}
        # In (kind, key) order, as the worker's updates lock rows: the two never deadlock.
        for row in sorted(write.rows, key=lambda row: (row.kind, row.key))
    ]
    _RECORD_UPSERT.execute_many(conn, rows)
