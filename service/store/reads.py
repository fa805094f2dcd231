"""Read models for the internal API and the CLI: an order's line items, dead letters."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, select, update
from sqlalchemy.engine import Connection, Row

from service.domain import LineItemState
from service.store.tables import line_items, orders

DEAD = LineItemState.DEAD.value


@dataclass(frozen=True)
class DeadLetterFilter:
    source: str | None = None
    store: str | None = None
    order_id: str | None = None
    keys: Sequence[str] | None = None

    def clause(self) -> Any:
        c = line_items.c
        parts = [c.state == DEAD]
        if self.source:
            parts.append(c.source == self.source)
        if self.store:
            parts.append(c.store == self.store)
        if self.order_id:
            parts.append(c.order_id == self.order_id)
        if self.keys is not None:
            parts.append(c.key.in_(list(self.keys)))
        return and_(*parts)


def iso(timestamp: float | None) -> str | None:
    """Epoch seconds as an ISO 8601 UTC time for people and JSON."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def iso_micros(micros: int) -> str:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    return moment.isoformat().replace("+00:00", "Z")


def line_item_view(row: Row[Any]) -> dict[str, Any]:
    """One stored line item as the API and CLI show it."""
    return {
        "key": row.key,
        "state": row.state,
        "version": row.version,
        "delivered_version": row.delivered_version,
        "hubspot_id": row.hubspot_id,
        "attempts": row.attempts,
        "next_attempt_at": iso(row.next_attempt_at) if row.state == "pending" else None,
        "last_error": row.last_error,
        "dead_at": iso(row.dead_at),
        "delivered_at": iso(row.delivered_at),
        "properties": json.loads(row.properties),
    }


def order_view(conn: Connection, source: str, store: str, order_id: str) -> dict[str, Any] | None:
    order = conn.execute(
        select(orders).where(
            orders.c.source == source, orders.c.store == store, orders.c.order_id == order_id
        )
    ).first()
    if order is None:
        return None
    rows = conn.execute(
        select(line_items)
        .where(
            line_items.c.source == source,
            line_items.c.store == store,
            line_items.c.order_id == order_id,
        )
        .order_by(line_items.c.position, line_items.c.key)
    ).all()
    return {
        "source": source,
        "store": store,
        "order_id": order_id,
        "currency": order.currency,
        "updated_at": iso_micros(order.source_version),
        "line_items": [line_item_view(row) for row in rows],
    }


def dead_letters(
    conn: Connection, where: DeadLetterFilter, *, after: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of dead letters ordered by key; the cursor is the last key of the page."""
    stmt = select(line_items).where(where.clause()).order_by(line_items.c.key).limit(limit + 1)
    if after is not None:
        stmt = stmt.where(line_items.c.key > after)
    rows = conn.execute(stmt).all()
    page = rows[:limit]
    cursor = page[-1].key if len(rows) > limit else None
    items = [
        {**line_item_view(r), "source": r.source, "store": r.store, "order_id": r.order_id}
        for r in page
    ]
    return items, cursor


def replay(engine: Engine, where: DeadLetterFilter, *, now: float) -> int:
    """Put dead letters back to pending with attempts reset; the number replayed."""
    with engine.begin() as conn:
        stmt = (
            update(line_items)
            .where(where.clause())
            .values(
                state=LineItemState.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                pending_since=now,
                dead_at=None,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=now,
            )
        )
        return conn.execute(stmt).rowcount
