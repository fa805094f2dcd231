from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, func, insert, select

from service.config import Config
from service.hubspot.factory import build_client
from service.store import rejected
from service.store.housekeeping import RECEIPT_RETENTION_SECONDS, prune_receipts
from service.store.tables import receipts, rejected_webhooks
from service.worker import Worker

DAY = 86400.0


def keep_rejected(engine: Engine, **received_days_ago: float) -> None:
    """A rejected webhook per name, received that many days ago."""
    for name, days in received_days_ago.items():
        entry = rejected.Rejected(
            source="shopify",
            topic="orders/create",
            headers={"X-Shopify-Webhook-Id": name},
            body=b"not json",
            reason="invalid_json",
            errors={"body": ["Expecting value"]},
            delivery_id=name,
        )
        rejected.keep(engine, entry, now=time.time() - days * DAY)


def kept_names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        query = select(rejected_webhooks.c.delivery_id).order_by(rejected_webhooks.c.id)
        return [str(name) for name in conn.execute(query).scalars()]


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
    run_until(worker, lambda: _receipts_left(engine) == 0)


def run_until(worker: Worker, done: Callable[[], bool]) -> None:
    """Run the worker until done() holds, up to 10 s. It prunes once it has started, and
    a busy machine (CI runs tests in parallel) may take longer than a fixed sleep."""
    runner = threading.Thread(target=worker.run_forever)
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while not done():
            assert time.monotonic() < deadline, "the running worker never pruned"
            time.sleep(0.05)
    finally:
        worker.stop()
        runner.join(timeout=10)


def _receipts_left(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(receipts)).scalar_one())


def test_rejected_webhooks_past_their_retention_are_deleted_and_newer_ones_kept(
    engine: Engine,
) -> None:
    keep_rejected(engine, ancient=400, old=30.01, recent=29.99, new=0)

    assert rejected.prune(engine, now=time.time(), keep_seconds=30 * DAY) == 2

    assert kept_names(engine) == ["recent", "new"]


def test_a_running_worker_deletes_rejected_webhooks_past_the_configured_retention(
    config: Config, engine: Engine
) -> None:
    keep_rejected(engine, eight_days=8, six_days=6)
    config = config.replace(batches_in_flight=1, rejected_retention_days=7)
    worker = Worker(config, engine, build_client(config, engine))
    run_until(worker, lambda: kept_names(engine) != ["eight_days", "six_days"])
    assert kept_names(engine) == ["six_days"]
