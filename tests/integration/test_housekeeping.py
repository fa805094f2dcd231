from __future__ import annotations

import time

from sqlalchemy import Engine, func, insert, select

from service.store.housekeeping import RECEIPT_RETENTION_SECONDS, prune_receipts
from service.store.tables import receipts


def test_receipts_older_than_a_week_are_pruned_and_newer_ones_kept(engine: Engine) -> None:
    now = time.time()
    with engine.begin() as conn:
        conn.execute(
            insert(receipts),
            [
                {
                    "source": "shopify",
                    "delivery_id": "old",
                    "received_at": now - RECEIPT_RETENTION_SECONDS - 1,
                },
                {"source": "shopify", "delivery_id": "new", "received_at": now - 60},
            ],
        )
    assert prune_receipts(engine, now=now) == 1
    with engine.connect() as conn:
        left = conn.execute(select(receipts.c.delivery_id)).scalars().all()
        assert left == ["new"]
        assert conn.execute(select(func.count()).select_from(receipts)).scalar_one() == 1
