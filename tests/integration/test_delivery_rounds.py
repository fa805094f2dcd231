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
from service.store import marks, queue
from service.store.tables import records
from tests.integration.whole_order_support import relay_for
from tests.integration.worker_support import Clock, make_worker, props, store_items, worker_config

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


LINE, LATE, LINK = f"shopify:{SHOP}:1", f"shopify:{SHOP}:2", f"shopify:{SHOP}:1>{KEY}"


def _order_with_a_late_line(engine: Engine, now: float, *, link_since: float) -> None:
    """A delivered order and line item whose association is due (pending since
    `link_since`), and a second line item still pending."""
    base = {
        "source": "shopify", "store": SHOP, "order_id": str(ORDER), "position": 0,
        "properties": "{}", "source_version": 1, "version": 1, "delivered_version": 1,
        "state": "delivered", "attempts": 0, "next_attempt_at": now - 1, "updated_at": now - 1,
        "lease_owner": None, "lease_expires_at": None, "from_key": None, "to_key": None,
        "hubspot_id": None,
    }  # fmt: skip
    with engine.begin() as conn:
        conn.execute(
            records.insert(),
            [
                {**base, "kind": "order", "key": KEY, "hubspot_id": "9"},
                {**base, "kind": "line_item", "key": LINE, "hubspot_id": "1"},
                {**base, "kind": "line_item", "key": LATE, "state": "pending",
                 "delivered_version": 0, "properties": '{"name":"Late"}'},
                {**base, "kind": "line_item>order", "key": LINK, "from_key": LINE,
                 "to_key": KEY, "state": "pending", "delivered_version": 0,
                 "next_attempt_at": link_since, "updated_at": link_since},
            ],
        )  # fmt: skip


def _claim_the_late_line(engine: Engine, now: float) -> None:
    """Another worker's claim: the late line item is in flight from now on."""
    claimed = queue.claim(
        engine, RecordKind.LINE_ITEM, owner="other", now=now, limit=100, lease_seconds=60
    )
    assert [row.key for row in claimed] == [LATE]


def _link_state(engine: Engine) -> tuple[str, str | None]:
    with engine.connect() as conn:
        state, owner = conn.execute(
            select(records.c.state, records.c.lease_owner).where(records.c.key == LINK)
        ).one()
    return state, owner


def test_a_worker_beaten_to_the_line_items_looks_again_before_sending_associations(
    config: Config, engine: Engine, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the worker's read of what is ready and its claim, another worker claims the
    last line items: their associations must wait for them, not go as a partial batch."""
    _order_with_a_late_line(engine, time.time(), link_since=time.time() - 1)
    worker = make_worker(worker_config(config, emulator), engine)
    read_before = worker._ready

    def ready_then_beaten(at: float) -> list[RecordKind]:
        kinds = read_before(at)
        if RecordKind.LINE_ITEM in kinds:  # the other worker's claim lands now
            _claim_the_late_line(engine, at)
        return kinds

    monkeypatch.setattr(worker, "_ready", ready_then_beaten)
    assert worker.run_once() == 0  # the association waits for the line item in flight
    assert _link_state(engine) == ("pending", None)
    assert emulator.requests_log() == []


def test_associations_of_a_backlog_wait_for_their_ends_but_no_longer_than_the_hold(
    config: Config, engine: Engine, emulator: Emulator
) -> None:
    """Associations stored a minute ago (a backlog) still wait while their line items are
    in flight: the hold counts from when it began, up to ASSOCIATION_HOLD_SECONDS."""
    clock = Clock()
    _order_with_a_late_line(engine, clock.now, link_since=clock.now - 60)
    _claim_the_late_line(engine, clock.now)
    worker = make_worker(worker_config(config, emulator), engine, clock=clock)

    assert worker.run_once() == 0
    clock.now += service.worker.ASSOCIATION_HOLD_SECONDS - 0.1
    assert worker.run_once() == 0
    assert _link_state(engine) == ("pending", None)

    clock.now += 0.1  # a steady stream of line items cannot hold them back for good
    assert worker.run_once() == 1
    assert [entry["kind"] for entry in emulator.requests_log()] == [
        "associations:line_items/orders"
    ]
