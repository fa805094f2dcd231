"""How the worker's rounds meet a failing HubSpot: a failed read of the portal is asked
again in seconds (and never taken for an answer), a batch that failed whole comes back
whole, and a worker that lost its lease leaves the associations alone."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, update

import service.worker
from emulators.hubspot import Emulator, EmulatorConfig
from service import samples
from service.config import Config
from service.domain import RecordKind
from service.store import marks
from service.store.tables import records
from tests.integration.whole_order_support import relay_for
from tests.integration.worker_support import make_worker, props, store_items, worker_config

SHOP = "acme.myshopify.com"
ORDER = 5_840_000_000_001
KEY = f"shopify:{SHOP}:{ORDER}"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(seed=12)) as running:
        yield running


@pytest.fixture
def quick_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service.worker, "PORTAL_RETRY_SECONDS", 0.2)


def test_a_failed_read_of_the_property_is_asked_again_not_taken_for_not_unique(
    config: Config, engine: Engine, emulator: Emulator, quick_retry: None
) -> None:
    emulator.configure(unique_properties={"orders": ["external_order_key", "hs_external_order_id"]})
    emulator.script("503", calls="properties:orders")
    relay = relay_for(worker_config(config, emulator), engine, emulator)
    assert relay.shopify(samples.shopify_order(ORDER)) == 202

    deadline = time.monotonic() + 10
    while KEY not in emulator.records("orders"):
        assert time.monotonic() < deadline, "the order never went"
        relay.worker.run_once() or time.sleep(0.05)

    # Unique in this portal: namespaced, so two stores' order 1 cannot collide.
    assert emulator.records("orders")[KEY]["properties"]["hs_external_order_id"] == KEY
    assert emulator.stats()["by_kind"]["properties:orders"] == 2


def test_a_failed_read_of_the_pipelines_holds_orders_back_for_seconds_not_a_minute(
    config: Config, engine: Engine, emulator: Emulator, quick_retry: None
) -> None:
    emulator.script("503", calls="pipelines:orders")
    relay = relay_for(worker_config(config, emulator), engine, emulator)
    assert relay.shopify(samples.shopify_order(ORDER)) == 202
    started = time.monotonic()

    while KEY not in emulator.records("orders"):
        assert time.monotonic() - started < 10, "the order was held back too long"
        relay.worker.run_once() or time.sleep(0.05)

    assert len(emulator.records("line_items")) == 3
    # A passing failure is not a misconfiguration: /readyz never named it.
    assert relay.client.get("/readyz").json["checks"]["held_back"] == {}


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_a_batch_that_failed_whole_is_retried_whole_whatever_the_jitter(
    config: Config, engine: Engine, emulator: Emulator
) -> None:
    store_items(engine, {str(n): props(f"Item {n}") for n in range(40)})
    clock = Clock()
    relay = worker_config(config, emulator)
    worker = make_worker(relay, engine, clock=clock, jitter=random.Random(7).random)
    emulator.script("500")

    assert worker.run_once() == 40  # answered 500: all forty wait
    clock.now += 60  # past any backoff
    assert worker.run_once() == 40  # and come back in one request

    sizes = [len(entry["inputs"]) for entry in emulator.requests_log()]
    assert sizes == [40, 40]


def test_a_worker_that_lost_its_lease_does_not_reopen_the_associations(
    engine: Engine,
) -> None:
    now = time.time()
    order = ("shopify", SHOP, str(ORDER))
    line, link = f"shopify:{SHOP}:1", f"shopify:{SHOP}:1>{KEY}"
    base = {
        "source": order[0], "store": order[1], "order_id": order[2], "position": 0,
        "properties": "{}", "source_version": 1, "version": 1, "delivered_version": 1,
        "state": "delivered", "attempts": 0, "next_attempt_at": now, "updated_at": now,
        "lease_owner": None, "lease_expires_at": None, "from_key": None, "to_key": None,
    }  # fmt: skip
    with engine.begin() as conn:
        conn.execute(
            records.insert(),
            [
                {**base, "kind": "line_item", "key": line, "hubspot_id": "old",
                 "state": "pending", "version": 2, "lease_owner": "someone-else",
                 "lease_expires_at": now + 60},
                {**base, "kind": "line_item>order", "key": link, "from_key": line,
                 "to_key": KEY, "hubspot_id": "old>9"},
            ],
        )  # fmt: skip

    item = marks.DeliveredItem(line, 2, "new", True, previous_id="old", order=order)
    assert (
        marks.mark_delivered(engine, RecordKind.LINE_ITEM, owner="me", items=[item], now=now) == 0
    )

    with engine.connect() as conn:
        state, version = conn.execute(
            select(records.c.state, records.c.version).where(records.c.key == link)
        ).one()
    assert (state, version) == ("delivered", 1)  # the owner of the lease decides

    # The owner, who does hold the lease, reopens it: the line item's id changed.
    with engine.begin() as conn:
        conn.execute(update(records).where(records.c.key == line).values(lease_owner="me"))
    assert (
        marks.mark_delivered(engine, RecordKind.LINE_ITEM, owner="me", items=[item], now=now) == 1
    )
    with engine.connect() as conn:
        state, version = conn.execute(
            select(records.c.state, records.c.version).where(records.c.key == link)
        ).one()
    assert (state, version) == ("pending", 2)
