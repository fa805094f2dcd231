"""PostgreSQL's way of storing an order: each statement is a round trip, so as few as
possible. Receipts and the order go in one statement (data-modifying CTEs), every record
in another; both are compiled once (see `prepared`)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    String,
    Text,
    bindparam,
    column,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from service.domain import RecordKind, RecordState
from service.store.prepared import Prepared
from service.store.tables import orders, receipts, records
from service.store.version_rule import (
    ORDER_COLUMNS,
    RECORD_COLUMNS,
    IngestStatus,
    OrderWrite,
    advance_order,
    advance_records,
)


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
        now,
        bindparam("number", None, type_=String),
    ).where(receipts_written == bindparam("receipt_count", None, type_=Integer))
    advanced_order = advance_order(
        postgresql.insert(orders).from_select(list(ORDER_COLUMNS), order_row)
    ).cte("advanced_order")
    orders_written = select(func.count()).select_from(advanced_order).scalar_subquery()
    return select(receipts_written.label("receipts"), orders_written.label("orders"))


def _build_records_from_json(_dialect: str) -> Any:
    """Every record of the order in one upsert; the varying columns arrive as one JSON
    array of {kind, key, position, properties, from_key, to_key} (cheaper to send than
    text arrays of JSON).

    The same statement sends the order's stored lines that this version lacks at quantity
    0 (see `ingest._with_removed_lines`, SQLite's way): their canonical JSON holds
    `"quantity":"<digits>"` exactly once, unescaped, so a text replace keeps it canonical."""
    lines = (
        func.json_to_recordset(bindparam("lines", None, type_=postgresql.JSON))
        .table_valued(
            column("kind", String),
            column("key", String),
            column("position", Integer),
            column("properties", Text),
            column("from_key", String),
            column("to_key", String),
        )
        .render_derived(with_types=True)
    )
    source = bindparam("source", None, type_=String)
    store = bindparam("store", None, type_=String)
    order_id = bindparam("order_id", None, type_=String)
    version = bindparam("source_version", None, type_=BigInteger)
    now = bindparam("now", None, type_=Float)

    def new_row(kind: Any, key: Any, position: Any, properties: Any, ends: Any) -> Any:
        return select(
            kind,
            key,
            source,
            store,
            order_id,
            position,
            properties,
            *ends,
            version,
            literal(1),
            literal(0),
            literal(RecordState.PENDING.value),
            literal(0),
            now,
            now,
            now,
        )

    line_item = RecordKind.LINE_ITEM.value
    stored = records.alias("stored")
    zeroed = func.regexp_replace(stored.c.properties, '"quantity":"[0-9]+"', '"quantity":"0"')
    present = select(lines.c.key).where(lines.c.kind == line_item).scalar_subquery()
    removed = new_row(
        stored.c.kind, stored.c.key, stored.c.position, zeroed, (stored.c.from_key, stored.c.to_key)
    ).where(
        stored.c.kind == line_item,
        stored.c.source == source,
        stored.c.store == store,
        stored.c.order_id == order_id,
        stored.c.source_version < version,
        stored.c.key.not_in(present),
    )
    rows = union_all(
        new_row(
            lines.c.kind,
            lines.c.key,
            lines.c.position,
            lines.c.properties,
            (lines.c.from_key, lines.c.to_key),
        ),
        removed,
    )
    return advance_records(postgresql.insert(records).from_select(list(RECORD_COLUMNS), rows))


_RECEIVE = Prepared(_build_receive)
_RECORDS_FROM_JSON = Prepared(_build_records_from_json)


def receive(conn: Connection, write: OrderWrite) -> IngestStatus:
    values = write.order_values()
    values.update(delivery_ids=write.delivery_ids, receipt_count=len(write.delivery_ids))
    [(receipts_written, orders_written)] = _RECEIVE.execute(conn, values)
    if receipts_written < len(write.delivery_ids):
        return IngestStatus.DUPLICATE  # seen before; the caller rolls back
    return IngestStatus.ACCEPTED if orders_written else IngestStatus.STALE


def upsert_records(conn: Connection, write: OrderWrite) -> None:
    # One row per (kind, key), the first, as row-by-row upserts keep it (a later row of the
    # same key carries the same version, which the version rule ignores).
    first: dict[tuple[str, str], int] = {}
    for index, row in enumerate(write.rows):
        first.setdefault((row.kind, row.key), index)
    lines = [
        write.rows[index].values()
        # (kind, key) order, as the worker's updates lock rows: the two never deadlock.
        for _, index in sorted(first.items())
    ]
    values = write.order_values()
    values["lines"] = json.dumps(lines, ensure_ascii=False, separators=(",", ":"))
    _RECORDS_FROM_JSON.execute(conn, values)
