"""What the console reads beyond the API's views (service.store.reads): records counted
by kind and state, the rate budget in use, and orders found by id, number, store or the
buyer's email. Each is one indexed query or a bounded page, so pages stay fast with a
large store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.engine import Connection

from service.domain import RecordKind, RecordState
from service.store.tables import hubspot_requests, orders, records

c = records.c
o = orders.c


def record_counts(conn: Connection, depth: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Records of every kind by state: pending and dead from the queue's depth
    (`reads.queue_depth`), delivered counted here (ix_records_delivered)."""
    delivered = RecordState.DELIVERED.value
    # The state written into the SQL, not bound: only then may SQLite use the partial index.
    is_delivered = c.state == literal(delivered, literal_execute=True)
    rows = conn.execute(select(c.kind, func.count()).where(is_delivered).group_by(c.kind)).all()
    counts = {
        kind: {"pending": by_state["pending"], delivered: 0, "dead": by_state["dead"]}
        for kind, by_state in depth["by_kind"].items()
    }
    for kind, number in rows:
        counts.setdefault(kind, {"pending": 0, delivered: 0, "dead": 0})[delivered] = int(number)
    return counts


def requests_in_window(conn: Connection, *, now: float, window: float) -> int:
    """HubSpot requests counted against the shared budget in the last `window` seconds
    (slots still in flight included: they are dated ahead until answered)."""
    query = select(func.count()).where(hubspot_requests.c.sent_at > now - window)
    return int(conn.execute(query).scalar_one())


@dataclass(frozen=True)
class FoundOrder:
    source: str
    store: str
    order_id: str
    received_at: float


_FOUND = (o.source, o.store, o.order_id, o.received_at)


def find_orders(conn: Connection, query: str, *, limit: int = 50) -> list[FoundOrder]:
    """Orders whose id, number (`#1001` or `1001`), store or buyer email is `query`,
    newest first. Each way is one indexed query of at most `limit` orders."""
    query = query.strip()
    if not query:
        return []
    if "@" in query:
        keys = _by_email(conn, query.lower(), limit)
        found = _orders_of(conn, keys, limit) if keys else []
    else:
        newest = o.received_at.desc()
        by_id = select(*_FOUND).where(o.order_id == query).order_by(newest).limit(limit)
        by_store = select(*_FOUND).where(o.store == query.lower()).order_by(newest).limit(limit)
        by_number = _by_number(query, limit)
        found = [*conn.execute(by_id), *conn.execute(by_store), *conn.execute(by_number)]
    unique = {(r.source, r.store, r.order_id): r for r in found}
    newest_first = sorted(unique.values(), key=lambda r: r.received_at, reverse=True)
    return [FoundOrder(r.source, r.store, r.order_id, r.received_at) for r in newest_first[:limit]]


def recent_orders(conn: Connection, *, limit: int = 20) -> list[FoundOrder]:
    rows = conn.execute(select(*_FOUND).order_by(o.received_at.desc()).limit(limit)).all()
    return [FoundOrder(r.source, r.store, r.order_id, r.received_at) for r in rows]


def _orders_of(conn: Connection, keys: set[tuple[str, str, str]], limit: int) -> list[Any]:
    if not keys:
        return []
    wanted = or_(
        *(and_(o.source == s, o.store == st, o.order_id == i) for s, st, i in sorted(keys))
    )
    return list(conn.execute(select(*_FOUND).where(wanted).limit(limit)))


def _by_number(query: str, limit: int) -> Any:
    """The orders the shop calls `query`, with or without its `#` (Shopify's have one,
    WooCommerce's do not)."""
    bare = query.removeprefix("#")
    newest = o.received_at.desc()
    return select(*_FOUND).where(o.number.in_([bare, f"#{bare}"])).order_by(newest).limit(limit)


def _by_email(conn: Connection, email: str, limit: int) -> set[tuple[str, str, str]]:
    # The buyer's contact is keyed by email; the orders it belongs to are the ones whose
    # association names it (indexed by to_key), and the order that wrote the contact.
    # One query per kind: each partial index covers one kind.
    found: set[tuple[str, str, str]] = set()
    for kind, column in (
        (RecordKind.ORDER_TO_CONTACT, c.to_key),
        (RecordKind.DEAL_TO_CONTACT, c.to_key),
        (RecordKind.CONTACT, c.key),
    ):
        stmt = select(c.source, c.store, c.order_id).where(c.kind == kind.value, column == email)
        found |= {(r.source, r.store, r.order_id) for r in conn.execute(stmt.limit(limit))}
    return found


def order_received(conn: Connection, source: str, store: str, order_id: str) -> Any:
    """When the order's latest version was stored, and its first."""
    return conn.execute(
        select(o.received_at, o.first_received_at).where(
            o.source == source, o.store == store, o.order_id == order_id
        )
    ).first()
