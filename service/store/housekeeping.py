"""Keep the store from growing without bound: receipts are needed only while a shop
might still redeliver (Shopify retries for up to 48 hours; keep a week)."""

from __future__ import annotations

from sqlalchemy import Engine, delete

from service.store.tables import receipts

RECEIPT_RETENTION_SECONDS = 7 * 24 * 3600.0


def prune_receipts(engine: Engine, *, now: float, keep: float = RECEIPT_RETENTION_SECONDS) -> int:
    """Delete receipts older than `keep` seconds; the number deleted."""
    with engine.begin() as conn:
        return conn.execute(delete(receipts).where(receipts.c.received_at < now - keep)).rowcount
