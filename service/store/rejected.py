"""Rejected webhooks in the store: keep one, list and show them, take one for a replay,
count the replay's outcome, purge, and prune what is past its retention.

A list never carries a body (it holds personal data); `shown` gives one entry's body, for
an operator who asked for that entry.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, delete, func, select, true, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import DBAPIError

from service.errors import StoreUnavailable
from service.store.engine import failure_reason, insert_for
from service.store.reads import iso
from service.store.tables import rejected_webhooks

t = rejected_webhooks.c
# What a list shows of an entry: everything but the body, and the body's size.
_LISTED = (
    t.id,
    t.source,
    t.store,
    t.topic,
    t.delivery_id,
    t.received_at,
    t.reason,
    t.errors,
    t.attempts,
    t.last_replayed_at,
    func.length(t.body).label("body_bytes"),
)


@dataclass(frozen=True)
class RejectedFilter:
    """Which rejected webhooks: by ids, or by source, store and reason (None: any)."""

    ids: Sequence[int] | None = None
    source: str | None = None
    store: str | None = None
    reason: str | None = None

    def clause(self) -> Any:
        parts = [
            column == value
            for column, value in ((t.source, self.source), (t.store, self.store))
            if value
        ]
        if self.reason:
            parts.append(t.reason == self.reason)
        if self.ids is not None:
            parts.append(t.id.in_(list(self.ids)))
        return and_(true(), *parts)


@dataclass(frozen=True)
class Rejected:
    """A signed webhook the relay could not take, as received (headers: the unsigned ones
    the relay reads), with why."""

    source: str
    topic: str
    headers: Mapping[str, str]
    body: bytes
    reason: str
    errors: Mapping[str, Any]
    store: str | None = None  # the store the headers name, when valid
    delivery_id: str | None = None


@dataclass(frozen=True)
class Kept:
    """A kept rejected webhook, as a replay needs it."""

    id: int
    source: str
    topic: str
    headers: dict[str, str]
    body: bytes


def _json(value: object) -> str:
    # ASCII: the store takes any escaped text, even a lone surrogate's escape.
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def keep(engine: Engine, rejected: Rejected, *, now: float) -> int:
    """Keep `rejected` in one transaction; its id, or the id it was kept under before
    (the same Shopify delivery, redelivered). Raise StoreUnavailable on failure."""
    row = {
        "source": rejected.source,
        "store": rejected.store,
        "topic": rejected.topic,
        "delivery_id": rejected.delivery_id,
        "headers": _json(rejected.headers),
        "received_at": now,
        "reason": rejected.reason,
        "errors": _json(rejected.errors),
        "body": rejected.body,
        "attempts": 1,
    }
    try:
        with engine.begin() as conn:
            return _insert_once(conn, row)
    except DBAPIError as exc:
        raise StoreUnavailable(f"could not keep rejected webhook: {failure_reason(exc)}") from exc


def _insert_once(conn: Connection, row: dict[str, Any]) -> int:
    insert = insert_for(conn, rejected_webhooks).values(row).on_conflict_do_nothing()
    same = select(t.id).where(t.source == row["source"], t.delivery_id == row["delivery_id"])
    while True:  # twice at most: the earlier entry may be replayed away in between
        new = conn.execute(insert.returning(t.id)).scalar_one_or_none()
        found = new if new is not None else conn.execute(same).scalar_one_or_none()
        if found is not None:
            return int(found)


def listed(
    conn: Connection, where: RejectedFilter, *, after: int | None, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of rejected webhooks, oldest first, without their bodies; the cursor is the
    id of the page's last entry when more follow."""
    stmt = select(*_LISTED).where(where.clause()).order_by(t.id).limit(limit + 1)
    if after is not None:
        stmt = stmt.where(t.id > after)
    rows = conn.execute(stmt).all()
    page = rows[:limit]
    return [_view(row) for row in page], (page[-1].id if len(rows) > limit else None)


def _view(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "source": row.source,
        "store": row.store,
        "topic": row.topic,
        "delivery_id": row.delivery_id,
        "received_at": iso(row.received_at),
        "reason": row.reason,
        "errors": json.loads(row.errors),
        "attempts": row.attempts,
        "last_replayed_at": iso(row.last_replayed_at),
        "body_bytes": int(row.body_bytes),
    }


def count(conn: Connection, where: RejectedFilter) -> int:
    """How many kept entries `where` selects."""
    return int(conn.execute(select(func.count()).where(where.clause())).scalar_one())


def shown(conn: Connection, rejected_id: int) -> dict[str, Any] | None:
    """One entry with its headers and body: the body as text when it is UTF-8, else in
    base64 (`body_encoding` says which)."""
    row = conn.execute(select(*_LISTED, t.headers, t.body).where(t.id == rejected_id)).first()
    if row is None:
        return None
    body = bytes(row.body)
    try:
        text, encoding = body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(body).decode("ascii"), "base64"
    entry = _view(row) | {"headers": json.loads(row.headers), "body_encoding": encoding}
    return entry | {"body": text}


def kept_ids(conn: Connection, where: RejectedFilter, *, after: int, limit: int) -> list[int]:
    """Ids of the selected entries past `after`, in order: a replay's next page."""
    stmt = select(t.id).where(where.clause(), t.id > after).order_by(t.id).limit(limit)
    return [int(found) for found in conn.execute(stmt).scalars()]


def kept(conn: Connection, rejected_id: int) -> Kept | None:
    row = conn.execute(
        select(t.id, t.source, t.topic, t.headers, t.body).where(t.id == rejected_id)
    ).first()
    if row is None:
        return None
    return Kept(row.id, row.source, row.topic, json.loads(row.headers), bytes(row.body))


def still_rejected(
    engine: Engine, rejected_id: int, *, reason: str, errors: Mapping[str, Any], now: float
) -> None:
    """A replay that was rejected again: its new reason and errors, one attempt more."""
    with engine.begin() as conn:
        conn.execute(
            update(rejected_webhooks)
            .where(t.id == rejected_id)
            .values(
                reason=reason,
                errors=_json(errors),
                attempts=t.attempts + 1,
                last_replayed_at=now,
            )
        )


def remove(engine: Engine, rejected_id: int) -> None:
    """A replay that was taken (accepted, stale or a duplicate): no longer rejected."""
    with engine.begin() as conn:
        conn.execute(delete(rejected_webhooks).where(t.id == rejected_id))


def purge(engine: Engine, where: RejectedFilter) -> int:
    """Delete the selected entries; how many."""
    with engine.begin() as conn:
        return int(conn.execute(delete(rejected_webhooks).where(where.clause())).rowcount)


def prune(engine: Engine, *, now: float, keep_seconds: float) -> int:
    """Delete the entries received more than `keep_seconds` ago; how many."""
    with engine.begin() as conn:
        old = t.received_at < now - keep_seconds
        return int(conn.execute(delete(rejected_webhooks).where(old)).rowcount)


def counts(conn: Connection) -> dict[tuple[str, str], int]:
    """Kept entries by (source, reason), for /metrics and `relay status`."""
    query = select(t.source, t.reason, func.count()).group_by(t.source, t.reason)
    return {(source, reason): int(n) for source, reason, n in conn.execute(query)}
