from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, func, insert, select

from service.config import Config
from service.hubspot.factory import build_client
from service.store.housekeeping import RECEIPT_RETENTION_SECONDS, prune_receipts
from service.store.tables import receipts
from service.worker import Worker


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


def test_a_running_worker_prunes_old_receipts(config: Config, engine: Engine) -> None:
    now = time.time()
    with engine.begin() as conn:
        conn.execute(
            insert(receipts),
            [{"source": "shopify", "delivery_id": "ancient", "received_at": now - 30 * 86400}],
        )
    worker = Worker(config.replace(batches_in_flight=1), engine, build_client(config, engine))
    runner = threading.Thread(target=worker.run_forever)
    runner.start()
    time.sleep(0.8)
    worker.stop()
    runner.join(timeout=10)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(receipts)).scalar_one() == 0
