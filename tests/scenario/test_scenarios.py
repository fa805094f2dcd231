"""Scenarios over the real processes: the HubSpot emulator, `relay db upgrade`, gunicorn
with two workers, and several `relay worker` processes, fed by a driver that signs and
posts Shopify webhooks as Shopify does (bounded concurrency, retrying 503s and dropped
connections). Each scenario ends when HubSpot (the emulator) holds exactly the whole
order of the newest version of every order sent (line items, order records, contacts
and associations; HUBSPOT_ORDER_OBJECT keeps its default, orders), and prints a FIGURES
line.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine

from service.config import normalize_database_url
from service.signatures import sign
from service.store.engine import make_engine
from tests.scenario.conftest import store_of
from tests.scenario.expectation import (
    SHOP,
    Buyer,
    Expectation,
    Line,
    OrderVersion,
)
from tests.scenario.harness import (
    SHOPIFY_SECRET,
    Answer,
    Delivery,
    Driver,
    Stack,
    assert_all_accepted,
    shopify_delivery,
    store_counts,
    wait_until,
)
from tests.scenario.private_postgres import PrivatePostgres
from tests.scenario.timeline import (
    SUCCESS,
    association_resends,
    busy_at,
    faults_by_kind,
    max_in_flight,
    overlapping_sends,
)

pytestmark = pytest.mark.scenario

FIRST_ORDER = 5_900_000_000_000
EST = timezone(timedelta(hours=-5))
BASE_TIME = datetime(2026, 11, 27, 9, 0, tzinfo=EST)
ZONES = (EST, UTC, timezone(timedelta(hours=9, minutes=30)), timezone(timedelta(hours=-8)))


def price(rng: random.Random) -> str:
    cents = rng.randint(50, 99_999)
    return f"{cents // 100}.{cents % 100:02d}"


NAMES = (("Ann", "Lee"), ("Bo", "Nakamura"), ("Chidi", "Okafor"), ("Dana", "Weiss"))
NAMES += (("Emil", "Berg"), ("Fatima", "Haddad"), ("Gus", "Moreau"), ("Hana", "Novak"))


def buyer_of(index: int, people: int) -> Buyer | None:
    """Order `index`'s buyer: every seventh order a guest without an email; the others by
    one of `people` buyers, so several orders share one contact, the email in whichever
    case the buyer typed it that time."""
    if index % 7 == 3:
        return None
    person = index % people
    first, last = NAMES[person % len(NAMES)]
    email = f"{first}.{last}.{person}@example.com"
    typed = email.upper() if (index // people) % 2 else email.lower()
    return Buyer(typed, first, last, f"+1613555{person:04d}")


def lifecycle(order: OrderVersion, index: int, version: int) -> OrderVersion:
    """Order `index` at `version` of its life: placed (unpaid or paid), shipped, then
    delivered, cancelled with a full refund, or partly refunded, in turn by index."""
    if version == 0:
        return dataclasses.replace(order, financial_status="paid" if index % 2 else "pending")
    shipped = dataclasses.replace(order, fulfillment_status="fulfilled")
    if version == 1:
        return shipped
    ending = index % 3
    if ending == 0:
        return dataclasses.replace(shipped, delivered=True)
    if ending == 1:
        return dataclasses.replace(
            order,
            financial_status="refunded",
            cancelled_at=order.updated_at,
            refunds=(order.body["total_price"],),
        )
    return dataclasses.replace(shipped, financial_status="partially_refunded", refunds=("5.00",))


def make_order(
    rng: random.Random,
    index: int,
    lines: int,
    version: int = 0,
    zone: timezone = EST,
    *,
    people: int = 40,
) -> OrderVersion:
    """Order `index` at `version`: fresh quantities and prices chosen by `rng`, the buyer
    of `buyer_of`, the status and refunds of `lifecycle`."""
    order_id = FIRST_ORDER + index
    moment = (BASE_TIME + timedelta(minutes=version, microseconds=index)).astimezone(zone)
    placed = OrderVersion(
        order_id,
        moment.isoformat(),
        tuple(
            Line(
                order_id * 10 + k,
                f"Item {index}-{k} v{version}",
                rng.randint(1, 9),
                price(rng),
                sku=f"SKU-{index}-{k}" if k < lines else None,
            )
            for k in range(1, lines + 1)
        ),
        buyer=buyer_of(index, people),
    )
    return lifecycle(placed, index, version)


def engine_for(database_url: str) -> Engine:
    return make_engine(normalize_database_url(database_url))


def assert_store_settled(
    database_url: str, expected_counts: Mapping[str, int], timeout: float = 60
) -> None:
    """The relay's own record comes to agree: every record of every kind delivered, none
    pending or dead. (A worker killed after HubSpot answered records it only after its
    lease ends.)"""
    engine = engine_for(database_url)
    try:
        expected = {kind: {"delivered": count} for kind, count in expected_counts.items()}
        deadline = time.monotonic() + timeout
        while (counts := store_counts(engine)) != expected and time.monotonic() < deadline:
            time.sleep(0.5)
        assert counts == expected
    finally:
        engine.dispose()


def send_in_background(
    driver: Driver, deliveries: list[Delivery]
) -> tuple[threading.Thread, list[Answer]]:
    answers: list[Answer] = []

    def send() -> None:
        answers.extend(driver.send_all(deliveries))

    thread = threading.Thread(target=send, name="driver", daemon=True)
    thread.start()
    return thread, answers


# --- 1. throughput: many workers, one record in one batch at a time, within budget --------

THROUGHPUT = {"postgres": (1_000, 5), "sqlite": (700, 5)}  # orders x line items
# HubSpot's batch limits: 100 objects an upsert, 2,000 pairs an association create.
BATCH_LIMITS = {"upsert": 100, "associations": 2_000}
# Below what the workers could send (nine batches in flight, ~10 requests a second), so the
# shared budget binds; the emulator enforces the same limit and would answer 429.
RATE_LIMIT = 30


@pytest.mark.timeout(300)
def test_three_workers_deliver_every_line_item_without_overlap_within_the_budget(
    database_url: str, tmp_path: Path
) -> None:
    store = store_of(database_url)
    orders, per_order = THROUGHPUT[store]
    rng = random.Random(1)
    with Stack(f"throughput-{store}", database_url, tmp_path / "procs") as stack:
        stack.start_emulator(rate_limit=RATE_LIMIT, latency=0.1)
        stack.db_upgrade()
        stack.start_web()
        # The test's read of the pipelines must leave the window the relay fills alone.
        stack.wait_rate_window_clear()
        stack.start_workers(3, HUBSPOT_RATE_LIMIT=str(RATE_LIMIT))
        expectation = Expectation()
        deliveries = []
        for index in range(orders):
            order = make_order(rng, index, per_order, people=300)
            expectation.sent(order)
            deliveries.append(shopify_delivery(order))
        driver = Driver(f"{stack.web_url}/webhooks/shopify", concurrency=8)

        assert_all_accepted(driver.send_all(deliveries))
        stack.wait_delivered(expectation, timeout=150)

        stats, timeline = stack.emulator("stats"), stack.emulator("timeline")
        stack.figures(orders * per_order, driver, max_in_flight=max_in_flight(timeline))
        assert stats["rate_limited"] == 0, stats
        assert stats["max_in_window"] <= RATE_LIMIT, stats
        assert overlapping_sends(timeline) == []
        for entry in timeline:
            assert entry["status"] in SUCCESS, entry
            limit = BATCH_LIMITS[entry["kind"].partition(":")[0]]
            assert len(entry["ids"]) == len(set(entry["ids"])) <= limit, entry["kind"]
        assert_store_settled(database_url, expectation.record_counts())
        stack.assert_running()


# --- 2. workers killed at random while HubSpot misbehaves on every call kind --------------

CHAOS = {"postgres": (90, 3), "sqlite": (60, 3)}  # orders x line items, three versions each
# Drawn for every write call: the upserts of each type and the association writes alike.
# 429s are scripted, one per call kind, not drawn: each pauses every worker for HubSpot's
# 10 s window, and a few drawn ones would take the scenario past its time; so would a
# higher rate of 5xx, whose retries back off exponentially.
FAULTS = {"500": 0.05, "502": 0.03, "503": 0.03, "timeout": 0.03, "423": 0.02}
CALL_KINDS = (
    "upsert:contacts",
    "upsert:orders",
    "upsert:line_items",
    "associations:line_items/orders",
    "associations:orders/contacts",
)
FIVE_XX = frozenset({"500", "502", "503", "504"})
READ_TIMEOUT = 2.0  # the workers' RELAY_HUBSPOT_TIMEOUT_SECONDS (Stack.start_workers)
KILLS = 8


class Chaos(threading.Thread):
    """SIGKILLs a random worker at random moments (0.5 s to `spacing` apart) and starts it
    again, `kills` times."""

    def __init__(self, stack: Stack, rng: random.Random, kills: int, spacing: float) -> None:
        super().__init__(name="chaos", daemon=True)
        self.stack, self.rng, self.kills, self.spacing = stack, rng, kills, spacing
        self.done = 0
        self.kill_times: list[float] = []  # epoch seconds, the emulator's clock
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for _ in range(self.kills):
                time.sleep(self.rng.uniform(0.5, self.spacing))
                victim = self.rng.randrange(len(self.stack.workers))
                self.kill_times.append(time.time())
                self.stack.kill_worker(victim)
                time.sleep(self.rng.uniform(0.1, 1.5))
                self.stack.restart_worker(victim)
                self.done += 1
        except BaseException as exc:  # reported by the test thread
            self.error = exc


def chaos_orders(rng: random.Random, orders: int, per_order: int) -> list[OrderVersion]:
    """Every order placed, shipped, then delivered, cancelled or refunded; a third as many
    buyers as orders, and every seventh order a guest."""
    return [
        make_order(rng, index, per_order, version, people=max(1, orders // 3))
        for index in range(orders)
        for version in (0, 1, 2)
    ]


@pytest.mark.timeout(360)
def test_workers_killed_at_random_under_hubspot_faults_deliver_the_exact_final_state(
    database_url: str, tmp_path: Path
) -> None:
    """Three workers SIGKILLed at random and restarted while HubSpot answers 5xx and 429
    to every kind of write call: HubSpot ends with exactly the whole newest order of each
    (stage, totals, buyer, lines, associations), the store with every record delivered,
    and no association pair that HubSpot confirmed to a live worker is sent again."""
    store = store_of(database_url)
    orders, per_order = CHAOS[store]
    rng = random.Random(20261127)
    with Stack(f"chaos-{store}", database_url, tmp_path / "procs") as stack:
        stack.start_emulator(rate_limit=100, latency=0.05)
        stack.configure_emulator(
            fault_rates=FAULTS, fault_calls=["upsert", "associations"], timeout_seconds=2.2, seed=7
        )
        # Each call kind a 429 and a 5xx, whatever the draws: the 429 first, so the kinds
        # that start together share one pause. Then every other fault at least once.
        for kind in CALL_KINDS:
            stack.script_faults("429", "503", calls=kind)
        stack.script_faults("500", "timeout", "423", "502")
        stack.db_upgrade()
        stack.start_web()
        stack.start_workers(3)
        expectation = Expectation()
        deliveries = []
        for order in chaos_orders(rng, orders, per_order):  # sent in any order
            expectation.sent(order)
            deliveries.append(shopify_delivery(order))
        rng.shuffle(deliveries)
        driver = Driver(f"{stack.web_url}/webhooks/shopify", concurrency=6)
        # Spread over the delivery, which the 429 pauses stretch to most of a minute.
        chaos = Chaos(stack, random.Random(99), kills=KILLS, spacing=6.0)

        chaos.start()
        answers = driver.send_all(deliveries)
        assert_all_accepted(answers)
        stack.wait_delivered(expectation, timeout=180)
        reached = time.monotonic() - stack.started
        chaos.join(timeout=60)
        assert chaos.error is None and chaos.done == KILLS

        counts = expectation.record_counts()
        assert_store_settled(database_url, counts)
        stack.assert_holds(expectation)  # no retry of an older version landed after
        timeline, stats = stack.emulator("timeline"), stack.emulator("stats")
        faulted = faults_by_kind(timeline)
        resends = association_resends(timeline, chaos.kill_times, read_timeout=READ_TIMEOUT)
        stack.figures(
            orders * per_order,
            driver,
            records=sum(counts.values()),
            kills=chaos.done,
            kills_mid_batch=busy_at(timeline, chaos.kill_times),
            hubspot_reached_s=f"{reached:.1f}",
            faults_by_kind=json.dumps(faulted, separators=(",", ":")),
            association_resends_after_a_kill=len(resends),
            overlapping=len(overlapping_sends(timeline)),
        )
        injected = {s for s in stats["by_status"] if s not in ("200", "201", "207")}
        assert {"423", "429", "500", "502", "503", "504"} <= injected, stats
        for kind in CALL_KINDS:
            met = set(faulted.get(kind, {}))
            assert "429" in met and met & FIVE_XX, (kind, faulted)
        # Both ends of every pair existed when it was sent: no association was refused.
        partial = [
            e for e in timeline if e["kind"].startswith("associations") and e["status"] == 207
        ]
        assert partial == []
        # A killed worker's batch waits out its lease; a timed-out one its backoff: never
        # is a record or a pair in two requests HubSpot is answering at once.
        assert overlapping_sends(timeline) == []
        # A pair goes again only when its confirmation died with the worker.
        assert [resend for resend in resends if resend.lost is None] == []
        stack.assert_running()


@pytest.mark.timeout(120)
def test_a_rate_limit_pause_longer_than_the_lease_puts_no_line_item_in_two_batches(
    database_url: str, tmp_path: Path
) -> None:
    """A 429 pauses every worker for HubSpot's 10 s window, twice the lease here. No claim
    may be held through the pause, where its lease runs out and another thread takes the
    rows too: both would send them at once when the pause ends, and the older version
    could land after the newer one."""
    store = store_of(database_url)
    rng = random.Random(5)
    with Stack(f"pause-over-lease-{store}", database_url, tmp_path / "procs") as stack:
        stack.start_emulator(rate_limit=100, latency=0.1)
        stack.script_faults("429")
        stack.db_upgrade()
        stack.start_web()
        stack.start_workers(1, RELAY_LEASE_SECONDS="4")
        driver = Driver(f"{stack.web_url}/webhooks/shopify", concurrency=1)
        expectation = Expectation()
        first, second = (make_order(rng, 0, 5, version) for version in (0, 1))

        expectation.sent(first)
        assert driver.post(shopify_delivery(first)).status == 202
        wait_until(lambda: stack.emulator("stats")["rate_limited"] == 1, 10, what="the 429")
        time.sleep(1.0)  # the pause has begun; the first version is still unsent
        expectation.sent(second)
        assert driver.post(shopify_delivery(second)).status == 202
        stack.wait_delivered(expectation, timeout=40)

        timeline = stack.emulator("timeline")
        stack.figures(5, driver, overlapping=len(overlapping_sends(timeline)))
        assert overlapping_sends(timeline) == []
        assert_store_settled(database_url, expectation.record_counts())


# --- 3. PostgreSQL restarted while webhooks arrive -----------------------------------------


@pytest.mark.timeout(240)
def test_a_postgres_restart_while_webhooks_arrive_loses_none(tmp_path: Path) -> None:
    reason = PrivatePostgres.unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must run the PostgreSQL restart scenario)")
        pytest.skip(reason)
    server = PrivatePostgres()
    try:
        server.init().start()
        rng = random.Random(3)
        orders, per_order = 300, 2
        with Stack("postgres-restart", server.url, tmp_path / "procs") as stack:
            stack.start_emulator(rate_limit=100, latency=0.05)
            stack.db_upgrade()
            web = stack.start_web()
            stack.start_workers(2)
            stack.wait_workers_started()
            expectation = Expectation()
            deliveries = []
            for index in range(orders):
                order = make_order(rng, index, per_order)
                expectation.sent(order)
                deliveries.append(shopify_delivery(order))
            driver = Driver(f"{stack.web_url}/webhooks/shopify", concurrency=4)

            thread, answers = send_in_background(driver, deliveries)
            wait_until(lambda: driver.requests >= orders // 4, 60, 0.02, "a quarter sent")
            server.stop("fast")
            down = time.monotonic()
            # A worker that boots while the store is down (a deploy during the restart)
            # waits for it like the others, rather than exiting.
            stack.start_workers(1)
            late = stack.workers[-1]
            wait_until(
                lambda: not late.alive() or '"worker_started"' in late.output(), 30, what="boot"
            )
            time.sleep(max(0.0, 3 - (time.monotonic() - down)))
            server.start()
            outage = time.monotonic() - down
            thread.join(timeout=120)
            assert not thread.is_alive()

            assert_all_accepted(answers)
            # Every request was answered: stored (2xx) or "retry, nothing kept" (503).
            assert set(driver.statuses) <= {200, 202, 503}, driver.statuses
            assert driver.statuses[503] > 0, "the outage was not seen by any request"
            stack.wait_delivered(expectation, timeout=120)
            # The workers met the outage too (their loop logs and carries on).
            failures = sum(w.output().count('"worker_iteration_failed"') for w in stack.workers)
            stack.figures(
                orders * per_order,
                driver,
                status_503=driver.statuses[503],
                worker_store_errors=failures,
                outage=f"{outage:.1f}s",
            )
            assert failures > 0
            assert_store_settled(server.url, expectation.record_counts())
            stack.assert_running()
            assert web.starts == 1 and all(w.starts == 1 for w in stack.workers)
    finally:
        server.destroy()


# --- 4. redelivered and out of order --------------------------------------------------------


@pytest.mark.timeout(180)
def test_an_order_delivered_three_times_out_of_order_ends_at_its_newest_version(
    database_url: str, tmp_path: Path
) -> None:
    store = store_of(database_url)
    rng = random.Random(4)
    orders, per_order, versions, copies = 20, 3, 5, 3
    with Stack(f"out-of-order-{store}", database_url, tmp_path / "procs") as stack:
        stack.start_emulator(rate_limit=100, latency=0.05)
        stack.db_upgrade()
        stack.start_web()
        stack.start_workers(2)
        expectation = Expectation()
        deliveries = []
        newest: dict[int, str] = {}
        for index in range(orders):
            for version in range(versions):
                # The same instants written in several zones: the newest instant wins.
                order = make_order(rng, index, per_order, version, rng.choice(ZONES))
                expectation.sent(order)
                delivery = shopify_delivery(order)
                deliveries += [delivery] * copies  # a redelivery: same bytes, same ids
                newest[order.order_id] = delivery.label
        rng.shuffle(deliveries)
        driver = Driver(f"{stack.web_url}/webhooks/shopify", concurrency=6)

        answers = driver.send_all(deliveries)

        assert_all_accepted(answers)
        outcomes: dict[str, Counter[str]] = defaultdict(Counter)
        for answer in answers:
            outcomes[answer.delivery.label][json.loads(answer.body)["status"]] += 1
        for label, seen in outcomes.items():
            assert seen["duplicate"] == copies - 1, (label, seen)
            if label in newest.values():
                assert seen["accepted"] == 1, (label, seen)
        stack.wait_delivered(expectation, timeout=90)
        stack.figures(orders * per_order, driver, versions=versions, copies=copies)
        assert_store_settled(database_url, expectation.record_counts())


# --- 5. an order edit changes quantities ------------------------------------------------------


def order_edit_body(order: OrderVersion, edited: OrderVersion) -> dict[str, object]:
    """Shopify's orders/edited body: an OrderEdit saying what changed, not the order."""
    additions, removals = [], []
    for before, after in zip(order.lines, edited.lines, strict=True):
        old = before.quantity if before.current_quantity is None else before.current_quantity
        new = after.quantity if after.current_quantity is None else after.current_quantity
        if new > old:
            additions.append({"id": after.id, "delta": new - old})
        elif new < old:
            removals.append({"id": after.id, "delta": old - new})
    return {
        "order_edit": {
            "id": 78_912_328,
            "app_id": None,
            "created_at": edited.updated_at,
            "committed_at": edited.updated_at,
            "notify_customer": False,
            "order_id": edited.order_id,
            "staff_note": "",
            "user_id": None,
            "line_items": {"additions": additions, "removals": removals},
            "discounts": {"line_item": {"additions": [], "removals": []}},
            "shipping_lines": {"additions": [], "removals": []},
        }
    }


@pytest.mark.timeout(120)
def test_an_order_edit_that_changes_quantities_reaches_hubspot(
    database_url: str, tmp_path: Path
) -> None:
    store = store_of(database_url)
    order_id = FIRST_ORDER + 777
    created = OrderVersion(
        order_id,
        "2026-11-27T09:15:00-05:00",
        (
            Line(order_id * 10 + 1, "Merino Beanie - Charcoal", 2, "24.50", sku="MB-CH"),
            Line(order_id * 10 + 2, "Trail Socks - L", 5, "12.00", sku="TS-L"),
            Line(order_id * 10 + 3, "Gift wrap", 1, "4.00"),
            Line(order_id * 10 + 4, "Water Bottle", 2, "18.00", sku="WB"),
        ),
    )
    # Two more beanies added; two pairs of socks and both bottles removed (Shopify keeps
    # the ordered `quantity` and lowers `current_quantity`); the gift wrap is untouched.
    edited = OrderVersion(
        order_id,
        "2026-11-27T16:40:00+01:00",
        (
            Line(order_id * 10 + 1, "Merino Beanie - Charcoal", 4, "24.50", sku="MB-CH"),
            Line(order_id * 10 + 2, "Trail Socks - L", 5, "12.00", sku="TS-L", current_quantity=3),
            Line(order_id * 10 + 3, "Gift wrap", 1, "4.00"),
            Line(order_id * 10 + 4, "Water Bottle", 2, "18.00", sku="WB", current_quantity=0),
        ),
    )
    with Stack(f"order-edit-{store}", database_url, tmp_path / "procs") as stack:
        stack.start_emulator(rate_limit=100)
        stack.db_upgrade()
        stack.start_web()
        stack.start_workers(1)
        driver = Driver(f"{stack.web_url}/webhooks/shopify", concurrency=1)
        expectation = Expectation()

        expectation.sent(created)
        first = driver.post(shopify_delivery(created, topic="orders/create"))
        assert first.status == 202, first.body
        stack.wait_delivered(expectation, timeout=30)

        # Shopify sends orders/edited (what changed) and orders/updated (the whole order).
        body = json.dumps(order_edit_body(created, edited)).encode()
        edit = Delivery(
            body, {**shopify_delivery(edited).headers, "X-Shopify-Topic": "orders/edited"}
        )
        edit.headers["X-Shopify-Hmac-Sha256"] = sign(SHOPIFY_SECRET, body)
        answer = driver.post(edit)
        assert answer.status == 200, answer.body
        expectation.sent(edited)
        update = driver.post(shopify_delivery(edited, topic="orders/updated"))
        assert update.status == 202, update.body
        stack.wait_delivered(expectation, timeout=30)

        quantities = {k.rsplit(":", 1)[1]: p["quantity"] for k, p in stack.records().items()}
        assert quantities == {
            f"{order_id}1": "4",
            f"{order_id}2": "3",
            f"{order_id}3": "1",
            f"{order_id}4": "0",
        }
        assert all(k.startswith(f"shopify:{SHOP}:") for k in stack.records())
        stack.figures(len(edited.lines), driver)
