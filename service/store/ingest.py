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
from typing import Any

from sqlalchemy import (
    BigInteger,
    Engine,
    Float,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    column,
    func,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from service.domain import LineItemInput, LineItemState, Order
from service.errors import StoreUnavailable
from service.store.prepared import Prepared
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
    """Store an order and its line-item inputs atomically; raise StoreUnavailable on failure.

    A redelivery (any delivery id seen before) stores nothing; an order version that is
    not newer than the stored one keeps only its delivery ids."""
    version = to_micros(order.updated_at)
    write = _Write(
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
                status = _receive_in_one_statement(conn, write)
            else:
                status = _receive_step_by_step(conn, write)
            if status is IngestStatus.DUPLICATE:
                conn.rollback()
            elif status is IngestStatus.ACCEPTED:
                _upsert_line_items(conn, write)
    except DBAPIError as exc:
        raise StoreUnavailable(f"could not store order: {type(exc.orig).__name__}") from exc
    return IngestResult(status, len(inputs) if status is IngestStatus.ACCEPTED else 0)


@dataclass(frozen=True)
class _Write:
    """One order's write, computed before the transaction (which holds the write lock)."""

    source: str
    store: str
    order_id: str
    currency: str
    version: int
    now: float
    delivery_ids: list[str]
    keys: list[str]  # line item keys, in the order's line order
    properties: list[str]  # canonical JSON, same order

    def order_values(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "store": self.store,
            "order_id": self.order_id,
            "currency": self.currency,
            "source_version": self.version,
            "now": self.now,
        }


# The statements below are built once per dialect and compiled once (see `prepared`):
# SQLAlchemy does not cache ON CONFLICT statements, and compiling them on every request
# took most of a webhook's time. The version rule is written once, in
# `_advance_order` and `_advance_line_items`, and used by both ways of writing.

_LINE_ITEM_COLUMNS = (
    "key",
    "source",
    "store",
    "order_id",
    "position",
    "properties",
    "source_version",
    "version",
    "delivered_version",
    "state",
    "attempts",
    "next_attempt_at",
    "pending_since",
    "updated_at",
)
_ORDER_COLUMNS = ("source", "store", "order_id", "currency", "source_version", "received_at")


def _dialect_insert(dialect: str, table: Any) -> Any:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def _advance_order(stmt: Any) -> Any:
    """Insert the order, or advance it when the incoming version is newer; RETURNING a row
    only when it was written."""
    return stmt.on_conflict_do_update(
        index_elements=[orders.c.source, orders.c.store, orders.c.order_id],
        set_={
            "currency": stmt.excluded.currency,
            "source_version": stmt.excluded.source_version,
            "received_at": stmt.excluded.received_at,
        },
        where=stmt.excluded.source_version > orders.c.source_version,
    ).returning(orders.c.order_id)


def _advance_line_items(stmt: Any) -> Any:
    """The version rule: a newer order version replaces the row's properties; the row's
    `version` moves, and it becomes pending again, only when the properties changed."""
    new, old = stmt.excluded, line_items.c
    changed = new.properties != old.properties

    def if_changed(then: object, otherwise: object) -> object:
        return case((changed, then), else_=otherwise)

    becomes_pending = and_(changed, old.state != LineItemState.PENDING.value)
    return stmt.on_conflict_do_update(
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
            _dialect_insert(dialect, receipts)
            .values(rows)
            .on_conflict_do_nothing()
            .returning(receipts.c.id)
        )

    return Prepared(build)


_RECEIPTS = {count: _receipts_statement(count) for count in range(1, 5)}
_ORDER_UPSERT = Prepared(
    lambda dialect: _advance_order(
        _dialect_insert(dialect, orders).values(
            {
                name: bindparam("now" if name == "received_at" else name, None)
                for name in _ORDER_COLUMNS
            }
        )
    )
)
_LINE_ITEM_UPSERT = Prepared(
    lambda dialect: _advance_line_items(
        _dialect_insert(dialect, line_items).values(
            {name: bindparam(name, None) for name in _LINE_ITEM_COLUMNS}
        )
    )
)


def _receive_step_by_step(conn: Connection, write: _Write) -> IngestStatus:
    """Receipts, then the order: DUPLICATE, STALE, or ACCEPTED (line items to write)."""
    ids = write.delivery_ids
    if ids:
        statement = _RECEIPTS.get(len(ids)) or _receipts_statement(len(ids))
        values: dict[str, object] = {"source": write.source, "now": write.now}
        values.update((f"delivery_id_{n}", delivery_id) for n, delivery_id in enumerate(ids))
        if len(statement.execute(conn, values).fetchall()) < len(ids):
            return IngestStatus.DUPLICATE  # seen before; the caller rolls back
    if _ORDER_UPSERT.execute(conn, write.order_values()).first() is None:
        return IngestStatus.STALE
    return IngestStatus.ACCEPTED


def _upsert_line_items(conn: Connection, write: _Write) -> None:
    """Every line item of an accepted order, under the version rule, in its transaction."""
    if not write.keys:
        return
    if conn.dialect.name == "postgresql":
        _upsert_line_items_in_one_statement(conn, write)
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


# --- PostgreSQL: a round trip per statement, so as few statements as possible --------------


def _build_receive(_dialect: str) -> Any:
    """Receipts then the order, as data-modifying CTEs: the order is written only when
    every delivery id was new, as in `_receive_step_by_step`. Selects both counts."""
    source = bindparam("source", None, type_=String)
    now = bindparam("now", None, type_=Float)
    ids = (
        func.unnest(bindparam("delivery_ids", None, type_=postgresql.ARRAY(String)))
        .table_valued("delivery_id")
        .render_derived()
    )
    new_receipts = (
        postgresql.insert(receipts)
        .from_select(
            ["source", "delivery_id", "received_at"], select(source, ids.c.delivery_id, now)
        )
        .on_conflict_do_nothing()
        .returning(receipts.c.id)
        .cte("new_receipts")
    )
    receipts_written = select(func.count()).select_from(new_receipts).scalar_subquery()
    order_row = select(
        source,
        bindparam("store", None, type_=String),
        bindparam("order_id", None, type_=String),
        bindparam("currency", None, type_=String),
        bindparam("source_version", None, type_=BigInteger),
        now,
    ).where(receipts_written == bindparam("receipt_count", None, type_=Integer))
    advanced_order = _advance_order(
        postgresql.insert(orders).from_select(list(_ORDER_COLUMNS), order_row)
    ).cte("advanced_order")
    orders_written = select(func.count()).select_from(advanced_order).scalar_subquery()
    return select(receipts_written.label("receipts"), orders_written.label("orders"))


def _build_line_items_from_json(_dialect: str) -> Any:
    """Every line item of the order in one upsert; the varying columns arrive as one JSON
    array of {key, position, properties} (cheaper to send than text arrays of JSON)."""
    lines = (
        func.json_to_recordset(bindparam("lines", None, type_=postgresql.JSON))
        .table_valued(
            column("key", String), column("position", Integer), column("properties", Text)
        )
        .render_derived(with_types=True)
    )
    now = bindparam("now", None, type_=Float)
    rows = select(
        lines.c.key,
        bindparam("source", None, type_=String),
        bindparam("store", None, type_=String),
        bindparam("order_id", None, type_=String),
        lines.c.position,
        lines.c.properties,
        bindparam("source_version", None, type_=BigInteger),
        literal(1),
        literal(0),
        literal(LineItemState.PENDING.value),
        literal(0),
        now,
        now,
        now,
    )
    return _advance_line_items(
        postgresql.insert(line_items).from_select(list(_LINE_ITEM_COLUMNS), rows)
    )


_RECEIVE = Prepared(_build_receive)
_LINE_ITEMS_FROM_JSON = Prepared(_build_line_items_from_json)


def _receive_in_one_statement(conn: Connection, write: _Write) -> IngestStatus:
    values = write.order_values()
    values.update(delivery_ids=write.delivery_ids, receipt_count=len(write.delivery_ids))
    counts = _RECEIVE.execute(conn, values).one()
    if counts.receipts < len(write.delivery_ids):
        return IngestStatus.DUPLICATE  # seen before; the caller rolls back
    return IngestStatus.ACCEPTED if counts.orders else IngestStatus.STALE


def _upsert_line_items_in_one_statement(conn: Connection, write: _Write) -> None:
    # One row per key, the first, as row-by-row upserts keep it (a later row of the same
    # key carries the same version, which the version rule ignores).
    first: dict[str, int] = {}
    for position, key in enumerate(write.keys):
        first.setdefault(key, position)
    lines = [
        {"key": key, "position": position, "properties": write.properties[position]}
        for key, position in sorted(first.items())  # key order, as the worker's updates lock
    ]
    values = write.order_values()
    values["lines"] = json.dumps(lines, ensure_ascii=False, separators=(",", ":"))
    _LINE_ITEMS_FROM_JSON.execute(conn, values)


def order_exists(conn: Connection, source: str, store: str, order_id: str) -> bool:
    stmt = select(orders.c.order_id).where(
        orders.c.source == source, orders.c.store == store, orders.c.order_id == order_id
    )
    return conn.execute(stmt).first() is not None
