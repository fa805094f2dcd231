"""One order's write and the version rule, shared by the SQLite and PostgreSQL ways of
storing it (service.store.ingest and service.store.ingest_postgres).

The rule: an order row or a record (line item, order record, contact, association)
changes only when the incoming order version (its `updated_at`) is newer than the stored
one, and a record's `version` counter moves, making it pending again, only when its
properties actually changed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, literal
from sqlalchemy.dialects import postgresql, sqlite

from service.domain import RecordState
from service.store.tables import orders, records


class IngestStatus(enum.StrEnum):
    ACCEPTED = "accepted"  # stored; new or changed line items are pending
    DUPLICATE = "duplicate"  # a delivery id seen before; nothing changed
    STALE = "stale"  # older than (or as old as) the stored order version; nothing changed


@dataclass(frozen=True)
class RecordRow:
    """One record of an order's write: what varies from row to row."""

    kind: str
    key: str
    position: int
    properties: str  # canonical JSON
    from_key: str | None = None
    to_key: str | None = None

    def values(self) -> dict[str, Any]:
        """The row's columns (plain, not `dataclasses.asdict`: this runs per record)."""
        return {
            "kind": self.kind,
            "key": self.key,
            "position": self.position,
            "properties": self.properties,
            "from_key": self.from_key,
            "to_key": self.to_key,
        }


@dataclass(frozen=True)
class OrderWrite:
    """One order's write, computed before the transaction (which holds the write lock)."""

    source: str
    store: str
    order_id: str
    currency: str
    version: int
    now: float
    delivery_ids: list[str]
    rows: list[RecordRow]  # every record of the order, line items in the order's line order
    number: str | None = None  # what the shop calls the order (Order.name)

    def order_values(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "store": self.store,
            "order_id": self.order_id,
            "currency": self.currency,
            "source_version": self.version,
            "now": self.now,
            "number": self.number,
        }


RECORD_COLUMNS = (
    "kind",
    "key",
    "source",
    "store",
    "order_id",
    "position",
    "properties",
    "from_key",
    "to_key",
    "source_version",
    "version",
    "delivered_version",
    "state",
    "attempts",
    "next_attempt_at",
    "pending_since",
    "updated_at",
)
ORDER_COLUMNS = (
    "source",
    "store",
    "order_id",
    "currency",
    "source_version",
    "received_at",
    "first_received_at",
    "number",
)


def dialect_insert(dialect: str, table: Any) -> Any:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def advance_order(stmt: Any) -> Any:
    """Insert the order, or advance it when the incoming version is newer; RETURNING a row
    only when it was written."""
    return stmt.on_conflict_do_update(
        index_elements=[orders.c.source, orders.c.store, orders.c.order_id],
        set_={
            "currency": stmt.excluded.currency,
            "source_version": stmt.excluded.source_version,
            "received_at": stmt.excluded.received_at,
            "number": stmt.excluded.number,
        },
        where=stmt.excluded.source_version > orders.c.source_version,
    ).returning(orders.c.first_received_at)


def advance_records(stmt: Any) -> Any:
    """The version rule: a newer order version replaces the row's properties; the row's
    `version` moves, and it becomes pending again, only when the properties changed."""
    new, old = stmt.excluded, records.c
    changed = new.properties != old.properties

    def if_changed(then: object, otherwise: object) -> object:
        return case((changed, then), else_=otherwise)

    becomes_pending = and_(changed, old.state != RecordState.PENDING.value)
    return stmt.on_conflict_do_update(
        index_elements=[old.key, old.kind],
        set_={
            "source_version": new.source_version,
            "position": new.position,
            "properties": new.properties,
            "version": if_changed(old.version + 1, old.version),
            "state": if_changed(literal(RecordState.PENDING.value), old.state),
            "attempts": if_changed(0, old.attempts),
            "next_attempt_at": if_changed(new.next_attempt_at, old.next_attempt_at),
            "pending_since": case((becomes_pending, new.pending_since), else_=old.pending_since),
            "last_error": if_changed(None, old.last_error),
            "dead_at": if_changed(None, old.dead_at),
            "updated_at": new.updated_at,
        },
        where=new.source_version > old.source_version,
    )
