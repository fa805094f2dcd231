"""Read models for the internal API, the CLI and metrics: an order's records, dead
letters and their replay, the queue's depth by kind."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, case, func, or_, select, update
from sqlalchemy.engine import Connection, Row

from service.domain import RecordKind, RecordState
from service.store.association_marks import associations_of
from service.store.tables import orders, records

DEAD = RecordState.DEAD.value
PENDING = RecordState.PENDING.value
c = records.c


@dataclass(frozen=True)
class DeadLetterFilter:
    source: str | None = None
    store: str | None = None
    order_id: str | None = None
    kind: str | None = None
    reason: str | None = None  # a part of the last error, as HubSpot or the relay gave it
    keys: Sequence[str] | None = None

    def clause(self) -> Any:
        parts = [c.state == DEAD]
        if self.reason:
            parts.append(c.last_error.like(f"%{like_literal(self.reason)}%", escape="\\"))
        for column, value in (
            (c.source, self.source),
            (c.store, self.store),
            (c.order_id, self.order_id),
            (c.kind, self.kind),
        ):
            if value:
                parts.append(column == value)
        if self.keys is not None:
            parts.append(c.key.in_(list(self.keys)))
        return and_(*parts)


def like_literal(text: str) -> str:
    """`text` as a LIKE pattern that matches it literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def iso(timestamp: float | None) -> str | None:
    """Epoch seconds as an ISO 8601 UTC time for people and JSON."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def iso_micros(micros: int) -> str:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    return moment.isoformat().replace("+00:00", "Z")


def record_view(row: Row[Any]) -> dict[str, Any]:
    """One stored record as the API and CLI show it."""
    view: dict[str, Any] = {
        "kind": row.kind,
        "key": row.key,
        "state": row.state,
        "version": row.version,
        "delivered_version": row.delivered_version,
        "hubspot_id": row.hubspot_id,
        "attempts": row.attempts,
        "next_attempt_at": iso(row.next_attempt_at) if row.state == PENDING else None,
        "last_error": row.last_error,
        "dead_at": iso(row.dead_at),
        "delivered_at": iso(row.delivered_at),
        "properties": json.loads(row.properties),
    }
    if row.from_key is not None:
        view["from_key"], view["to_key"] = row.from_key, row.to_key
    return view


def order_view(conn: Connection, source: str, store: str, order_id: str) -> dict[str, Any] | None:
    """An order and every record the relay keeps for it, each with its HubSpot state."""
    order = conn.execute(
        select(orders).where(
            orders.c.source == source, orders.c.store == store, orders.c.order_id == order_id
        )
    ).first()
    if order is None:
        return None
    rows = conn.execute(
        select(records)
        .where(
            c.source == source,
            c.store == store,
            c.order_id == order_id,
            c.kind != RecordKind.CONTACT.value,
        )
        .order_by(c.kind, c.position, c.key)
    ).all()
    # A contact row belongs to whichever order wrote it first: find this order's by its
    # associations, whoever wrote them.
    buyers = {row.to_key for row in rows if row.kind.endswith(">contact")}
    contacts = _contacts(conn, buyers)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for row in [*rows, *contacts]:
        by_kind.setdefault(row.kind, []).append(record_view(row))
    parents = by_kind.get(RecordKind.ORDER.value, []) + by_kind.get(RecordKind.DEAL.value, [])
    return {
        "source": source,
        "store": store,
        "order_id": order_id,
        "currency": order.currency,
        "updated_at": iso_micros(order.source_version),
        "order_record": parents[0] if parents else None,
        "contacts": by_kind.get(RecordKind.CONTACT.value, []),
        "line_items": by_kind.get(RecordKind.LINE_ITEM.value, []),
        "associations": [
            view
            for kind in RecordKind
            if kind.is_association
            for view in by_kind.get(kind.value, [])
        ],
    }


def _contacts(conn: Connection, emails: set[str]) -> list[Row[Any]]:
    if not emails:
        return []
    query = select(records).where(c.kind == RecordKind.CONTACT.value, c.key.in_(sorted(emails)))
    return list(conn.execute(query.order_by(c.key)).all())


def dead_letters(
    conn: Connection, where: DeadLetterFilter, *, after: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of dead letters ordered by kind and key; the cursor is "<kind>:<key>" of the
    page's last one."""
    stmt = select(records).where(where.clause()).order_by(c.kind, c.key).limit(limit + 1)
    if after is not None:
        kind, _, key = after.partition(":")
        stmt = stmt.where(or_(c.kind > kind, and_(c.kind == kind, c.key > key)))
    rows = conn.execute(stmt).all()
    page = rows[:limit]
    cursor = f"{page[-1].kind}:{page[-1].key}" if len(rows) > limit else None
    items = [
        {**record_view(r), "source": r.source, "store": r.store, "order_id": r.order_id}
        for r in page
    ]
    return items, cursor


def count_dead(conn: Connection, where: DeadLetterFilter) -> int:
    """How many dead letters `where` selects: what a replay of them would send again."""
    return int(conn.execute(select(func.count()).where(where.clause())).scalar_one())


@dataclass(frozen=True)
class Replayed:
    key: str
    order: tuple[str, str, str]


_REPLAYED = {
    "state": PENDING,
    "attempts": 0,
    "dead_at": None,
    "lease_owner": None,
    "lease_expires_at": None,
}


def replay(engine: Engine, where: DeadLetterFilter, *, now: float) -> int:
    """Put dead letters back to pending with attempts reset; the number replayed.

    An association buried because its end was dead comes back with the end (it waits for
    the end's HubSpot id as any association does)."""
    times = {"next_attempt_at": now, "pending_since": now, "updated_at": now}
    with engine.begin() as conn:
        replayed = conn.execute(
            update(records)
            .where(where.clause())
            .values(**_REPLAYED, **times)
            .returning(c.kind, c.key, c.source, c.store, c.order_id)
        ).all()
        by_kind: dict[str, list[Replayed]] = {}
        for kind, key, source, store, order_id in replayed:
            by_kind.setdefault(kind, []).append(Replayed(key, (source, store, order_id)))
        followers = [
            associations_of(association, end, by_kind[end.value])
            for association in RecordKind
            if association.is_association
            for end in association.ends
            if end.value in by_kind
        ]
        if followers:
            conn.execute(
                update(records).where(c.state == DEAD, or_(*followers)).values(**_REPLAYED, **times)
            )
    return len(replayed)


def queue_depth(conn: Connection, now: float) -> dict[str, Any]:
    """Counts for /readyz, /metrics and `relay status`: pending and dead records, by kind
    and in all, and the age of the oldest pending one."""
    counts = conn.execute(
        select(
            c.kind,
            func.sum(case((c.state == PENDING, 1), else_=0)),
            func.sum(case((c.state == DEAD, 1), else_=0)),
            func.min(case((c.state == PENDING, c.pending_since), else_=None)),
        )
        .where(or_(c.state == PENDING, c.state == DEAD))
        .group_by(c.kind)
    ).all()
    by_kind = {kind.value: {"pending": 0, "dead": 0} for kind in RecordKind}
    oldest: float | None = None
    for kind, pending, dead, since in counts:
        by_kind[kind] = {"pending": int(pending or 0), "dead": int(dead or 0)}
        if since is not None and (oldest is None or since < oldest):
            oldest = since
    return {
        "pending": sum(k["pending"] for k in by_kind.values()),
        "dead": sum(k["dead"] for k in by_kind.values()),
        "oldest_pending_age_seconds": (now - oldest) if oldest is not None else None,
        "by_kind": by_kind,
    }
