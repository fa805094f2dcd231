"""The replay of rejected webhooks: each kept body runs through `intake.receive` again,
as today's parsing and mapping take it, with its original headers and delivery ids.

Taken (accepted, stale, or a duplicate of what was stored since) it leaves the rejected
list; rejected again it stays, with its new reason and errors and one attempt more. The
store write and the removal are two transactions: a crash between them leaves the entry,
and replaying it again is harmless (a duplicate, by its receipts, or stale).
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from service.config import Config
from service.domain import Source
from service.intake import Delivery, Rejection, receive
from service.store import rejected
from service.store.engine import reading
from service.store.rejected import RejectedFilter

log = logging.getLogger("service.replay")
OUTCOMES = ("accepted", "duplicate", "stale", "rejected")
PAGE = 100  # ids per read; bodies are read one at a time (up to RELAY_MAX_BODY_BYTES each)


def replay(engine: Engine, config: Config, where: RejectedFilter, *, now: float) -> dict[str, int]:
    """Replay the selected rejected webhooks in the order they arrived; how many ended in
    each outcome (`OUTCOMES`). Raise StoreUnavailable if the store cannot take an order."""
    counts = dict.fromkeys(OUTCOMES, 0)
    after = 0
    while True:
        with reading(engine) as conn:
            ids = rejected.kept_ids(conn, where, after=after, limit=PAGE)
        if not ids:
            break
        for rejected_id in ids:
            outcome = _replay_one(engine, config, rejected_id, now=now)
            if outcome is not None:
                counts[outcome] += 1
        after = ids[-1]
    log.info("rejected_replayed", extra={"event": "rejected_replayed", **counts})
    return counts


def _replay_one(engine: Engine, config: Config, rejected_id: int, *, now: float) -> str | None:
    with reading(engine) as conn:
        entry = rejected.kept(conn, rejected_id)
    if entry is None:
        return None  # purged meanwhile
    delivery = Delivery(Source(entry.source), entry.topic, entry.headers, entry.body)
    outcome = receive(engine, config, delivery, now=now)
    if isinstance(outcome, Rejection):
        errors = outcome.errors
        rejected.still_rejected(
            engine, entry.id, reason=outcome.reason.value, errors=errors, now=now
        )
        return "rejected"
    rejected.remove(engine, entry.id)
    return outcome.status.value
