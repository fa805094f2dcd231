"""Reconciliation against the shop emulators and the HubSpot emulator, all real HTTP
servers, on SQLite and PostgreSQL: what the shops failed to deliver reaches HubSpot
through the webhook's own path, once, at its newest version, one worker at a time."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from emulators.hubspot import Emulator as HubSpot
from emulators.hubspot import EmulatorConfig as HubSpotConfig
from service import samples
from service.config import Config
from service.domain import Source
from service.reconcile import LEASE_SECONDS, Reconciler, feed
from service.shops import access
from service.shops.listing import Fetched, Page, Window
from service.shops.shopify import seconds_of
from service.store.engine import make_engine
from service.store.ingest import to_micros
from service.store.tables import orders, records, shop_syncs
from tests.conftest import API_KEY, SHOPIFY_SECRET
from tests.integration import shopify_support, woocommerce_support
from tests.integration.reconcile_support import (
    SHOP,
    SITE,
    expected_line_items,
    with_shops,
)
from tests.integration.whole_order_support import relay_for
from tests.integration.worker_support import emulated_properties, make_worker, worker_config
from tests.processes import free_port

ALL_ORDERS = {"read_orders", "read_all_orders"}


@pytest.fixture
def hubspot() -> Iterator[HubSpot]:
    with HubSpot(HubSpotConfig(seed=13)) as running:
        yield running


def reconciler(config: Config, engine: Engine, owner: str, **kwargs: Any) -> Reconciler:
    return Reconciler(config, engine, owner=owner, **kwargs)


def stored_orders(engine: Engine) -> dict[tuple[str, str], int]:
    """(source, order id) -> the stored version (microseconds)."""
    with engine.connect() as conn:
        rows = conn.execute(select(orders.c.source, orders.c.order_id, orders.c.source_version))
        return {(r.source, r.order_id): r.source_version for r in rows}


def change_some(save: Any, bodies: list[dict[str, Any]], **where: str) -> None:
    """Pay every third order and refund a unit of every sixth: newer versions."""
    for index, body in enumerate(bodies):
        if index % 3 == 0:
            save({"id": body["id"]}, action="pay", **where)
        if index % 6 == 0:
            save({"id": body["id"]}, action="refund", **where)


def test_after_an_outage_one_pass_brings_all_100_orders_into_hubspot_each_line_once_at_its_newest(
    config: Config,
    engine: Engine,
    hubspot: HubSpot,
    start_shopify: shopify_support.Start,
    start_woo: woocommerce_support.Start,
) -> None:
    shopify = start_shopify(shopify_support.shop())
    woo = start_woo(woocommerce_support.site(), failures_to_disable=5)
    relay_config = with_shops(
        worker_config(config, hubspot), shopify.emulator.url, woo.emulator.url
    )
    relay = relay_for(relay_config, engine, hubspot)
    before = reconciler(relay_config, engine, "worker-before")
    for client in access.clients(relay_config):
        assert before.reconcile(client).finished  # a checkpoint from before the outage
    down = f"http://127.0.0.1:{free_port()}"  # the relay is down: nothing listens
    for topic in ("orders/create", "orders/updated", "orders/paid"):
        shopify.subscribe(topic, down + "/webhooks/shopify")
    for topic in ("order.created", "order.updated"):
        woo.hook(topic, down + "/webhooks/woocommerce")

    made = [shopify.emulator.save_order({})["order"] for _ in range(50)]
    change_some(shopify.emulator.save_order, made)
    made = [woo.emulator.save_order({})["order"] for _ in range(50)]
    change_some(woo.emulator.save_order, made)
    woo.emulator.settle(timeout=10)
    # A change in a second that already had one is dated a second later: wait until the
    # shop's clock has passed them all, as a real shop's would have.
    time.sleep(max(0.0, _latest_woo_change(woo) - time.time() + 1))
    hooks = woo.get("/webhooks").json()
    assert {hook["status"] for hook in hooks} == {"disabled"}  # WooCommerce gave up
    failed = [d for d in shopify.emulator.deliveries() if not d.get("ok")]
    assert len(failed) >= 50 and stored_orders(engine) == {}

    after = reconciler(relay_config, engine, "worker-after-restart")
    results = [after.reconcile(client) for client in access.clients(relay_config)]
    relay.deliver()

    assert [(r.source, r.finished, r.changed, r.rejected) for r in results] == [
        ("shopify", True, 50, 0),
        ("woocommerce", True, 50, 0),
    ]
    expected = expected_line_items(relay_config, "shopify", shopify.emulator.orders())
    expected |= expected_line_items(relay_config, "woocommerce", woo.emulator.orders())
    in_hubspot = emulated_properties(hubspot)
    assert set(in_hubspot) == set(expected)  # every line, and each one once (a unique key)
    assert all(expected[key].items() <= in_hubspot[key].items() for key in expected)
    assert len(hubspot.records("orders")) == 100
    newest = {("shopify", str(o["id"])): o["updated_at"] for o in shopify.emulator.orders()}
    newest |= {
        ("woocommerce", str(o["id"])): o["date_modified_gmt"] + "+00:00"
        for o in woo.emulator.orders()
    }
    assert stored_orders(engine) == {
        key: int(seconds_of(value) * 1_000_000) for key, value in newest.items()
    }


def _latest_woo_change(woo: woocommerce_support.Woo) -> float:
    from service.shops.woocommerce import seconds_of_gmt

    return max(seconds_of_gmt(o["date_modified_gmt"]) for o in woo.emulator.orders())


def fetched(body: dict[str, Any]) -> Fetched:
    return Fetched(json.dumps(body).encode(), str(body["id"]), seconds_of(body["updated_at"]))


def test_a_pass_and_a_webhook_for_the_same_order_at_the_same_time_end_in_one_record(
    config: Config, engine: Engine, start_shopify: shopify_support.Start
) -> None:
    shopify = start_shopify(shopify_support.shop(orders=0))
    first = [shopify.emulator.save_order({})["order"] for _ in range(12)]
    for body in first:
        shopify.emulator.save_order({"id": body["id"]}, action="pay")
    newer = {o["id"]: o for o in shopify.emulator.orders()}
    relay = relay_for(config, engine, None)  # type: ignore[arg-type]

    def race(api_body: dict[str, Any], hook_body: dict[str, Any]) -> None:
        gate = threading.Barrier(2)
        answers: list[object] = []
        order = fetched(api_body)

        def by_api() -> None:
            gate.wait()
            answers.append(feed(engine, config, Source.SHOPIFY, SHOP, order, now=time.time()))

        def by_webhook() -> None:
            body, headers = samples.shopify_request(hook_body, SHOPIFY_SECRET, shop=SHOP)
            client = relay.client.application.test_client()
            gate.wait()
            answers.append(client.post("/webhooks/shopify", data=body, headers=headers).status_code)

        threads = [threading.Thread(target=by_api), threading.Thread(target=by_webhook)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        # The newer version is taken whichever lands first; the older only if it was first.
        newer_by_api = api_body["updated_at"] > hook_body["updated_at"]
        assert ("changed" if newer_by_api else 202) in answers and len(answers) == 2
        assert set(answers) <= {"changed", "unchanged", 200, 202}

    for index, old in enumerate(first):
        new = newer[old["id"]]
        race(old, new) if index % 2 else race(new, old)

    assert stored_orders(engine) == {
        ("shopify", str(i)): to_micros_of(o["updated_at"]) for i, o in newer.items()
    }
    expected = expected_line_items(config, "shopify", list(newer.values()))
    with engine.connect() as conn:
        lines = conn.execute(
            select(records.c.key, func.count())
            .where(records.c.kind == "line_item")
            .group_by(records.c.key)
        ).all()
    assert {key: count for key, count in lines} == dict.fromkeys(expected, 1)


def to_micros_of(text: str) -> int:
    from datetime import datetime

    return to_micros(datetime.fromisoformat(text))


class Watched:
    """A client whose passes are timed, to see whether two ever ran at once."""

    def __init__(self, client: Any, spans: list[tuple[float, float]], lock: threading.Lock) -> None:
        self.client, self.source, self.store = client, client.source, client.store
        self.spans, self.lock = spans, lock

    def pages(self, window: Window) -> Iterator[Page]:
        began = time.monotonic()
        for page in self.client.pages(window):
            time.sleep(0.05)  # a slow shop: a second pass would have time to overlap
            yield page
        with self.lock:
            self.spans.append((began, time.monotonic()))

    def count(self, window: Window) -> int | None:
        return None


def test_two_workers_never_run_one_stores_pass_at_once(
    config: Config, store_url: str, start_woo: woocommerce_support.Start
) -> None:
    woo = start_woo(woocommerce_support.site(orders=0))
    for _ in range(30):
        woo.emulator.save_order({})
    relay_config = with_shops(config, None, woo.emulator.url, reconcile_seconds=3600.0)
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()
    engines = [make_engine(store_url) for _ in range(4)]
    ran: list[bool] = []

    def worker(number: int, due_only: bool, gate: threading.Barrier) -> None:
        shop = access.clients(relay_config)[0]
        shop.page_size = 10
        client = Watched(shop, spans, lock)
        gate.wait()
        result = reconciler(relay_config, engines[number], f"worker-{number}").reconcile(
            client, due_only=due_only
        )
        with lock:
            ran.append(result.ran and result.finished)

    try:
        for due_only in (True, True, False):
            gate = threading.Barrier(4)
            threads = [threading.Thread(target=worker, args=(n, due_only, gate)) for n in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
    finally:
        for each in engines:
            each.dispose()

    # Due: one worker of four ran the store's pass, and none in the second round (it ran
    # less than RELAY_RECONCILE_SECONDS ago). Asked for at once: one at a time, as the
    # lease allows (a thread the machine held back may start after the first ended).
    assert ran[:4].count(True) == 1 and ran[4:8].count(True) == 0 and True in ran[8:]
    spans.sort()
    assert len(spans) == ran.count(True)
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans))


class Killed(BaseException):
    """The worker process dies: nothing after it runs, no lease is given back."""


class DiesAfter:
    def __init__(self, client: Any, pages: int) -> None:
        self.client, self.source, self.store, self.left = client, client.source, client.store, pages

    def pages(self, window: Window) -> Iterator[Page]:
        for page in self.client.pages(window):
            if self.left == 0:
                raise Killed
            self.left -= 1
            yield page

    def count(self, window: Window) -> int | None:
        return None


def sixty_orders(start: shopify_support.Start, config: Config, *, page_size: int) -> Any:
    """A shop of 60 orders, the relay's config to read it, and its client paging by
    `page_size`."""
    shopify = start(shopify_support.shop(orders=60, scopes=ALL_ORDERS))
    relay_config = with_shops(config, shopify.emulator.url, None)
    client = access.clients(relay_config)[0]
    client.page_size = page_size
    return shopify, relay_config, client


def test_a_pass_killed_midway_resumes_from_its_checkpoint_once_its_lease_runs_out(
    config: Config, engine: Engine, start_shopify: shopify_support.Start
) -> None:
    shopify, relay_config, client = sixty_orders(start_shopify, config, page_size=25)
    listing = shopify.emulator.orders()

    with pytest.raises(Killed):
        reconciler(relay_config, engine, "killed").reconcile(DiesAfter(client, 2), since=0.0)

    with engine.connect() as conn:
        row = conn.execute(select(shop_syncs)).one()
    assert row.lease_owner == "killed"
    assert row.checkpoint == seconds_of(listing[49]["updated_at"])  # the end of page 2
    assert len(stored_orders(engine)) == 50
    now = time.time()
    assert not reconciler(relay_config, engine, "next").reconcile(client).ran  # still leased

    later = reconciler(relay_config, engine, "next", clock=lambda: now + LEASE_SECONDS + 1)
    result = later.reconcile(client)

    assert result.finished and result.window is not None
    assert result.window.after == row.checkpoint - relay_config.reconcile_overlap_seconds
    changed_lately = sum(
        seconds_of(o["updated_at"]) >= row.checkpoint - relay_config.reconcile_overlap_seconds
        for o in listing
    )
    assert result.seen == changed_lately < 60  # the rest and the overlap, not all again
    assert result.changed == 10 and len(stored_orders(engine)) == 60


def test_every_pass_is_visible_in_readyz_status_and_metrics_and_a_refusal_degrades_readyz(
    config: Config, engine: Engine, start_woo: woocommerce_support.Start
) -> None:
    woo = start_woo(woocommerce_support.site(orders=5))
    good = with_shops(config, None, woo.emulator.url)
    relay = relay_for(good, engine, None)  # type: ignore[arg-type]
    reconciler(good, engine, "w").reconcile(access.clients(good)[0], since=0.0)

    ready = relay.client.get("/readyz").json
    assert ready["status"] == "ready"
    facts = ready["checks"]["reconcile"][f"woocommerce:{SITE}"]
    assert facts["orders_seen"] == 5 and facts["orders_new_or_changed"] == 5
    assert facts["orders_rejected"] == 0 and facts["error"] is None
    assert facts["last_finished"] is not None and facts["running"] is False
    page = relay.client.get("/metrics").get_data(as_text=True)
    labels = f'job="reconcile",source="woocommerce",store="{SITE}"'
    assert f"relay_reconcile_orders_changed{{{labels}}} 5.0" in page
    assert f"relay_reconcile_failing{{{labels}}} 0.0" in page

    bad = good.replace(woocommerce_api_keys={SITE: (woocommerce_support.KEY, "cs_not_the_secret")})
    result = reconciler(bad, engine, "w").reconcile(access.clients(bad)[0])
    assert result.status == 401 and not result.finished

    answer = relay.client.get("/readyz")
    assert answer.status_code == 200 and answer.json["status"] == "degraded"
    error = answer.json["checks"]["reconcile"][f"woocommerce:{SITE}"]["error"]
    assert "HTTP 401" in error and SITE in error
    assert any(p.startswith(f"reconcile woocommerce:{SITE}") for p in answer.json["problems"])
    assert "cs_not_the_secret" not in answer.get_data(as_text=True)
    assert f"relay_reconcile_failing{{{labels}}} 1.0" in relay.client.get("/metrics").get_data(
        as_text=True
    )


def test_an_order_the_mapping_cannot_take_is_kept_as_rejected_once_however_often_it_is_read(
    config: Config, engine: Engine, start_shopify: shopify_support.Start
) -> None:
    shopify = start_shopify(shopify_support.shop(orders=0))
    shopify.emulator.save_order({"line_items": [{"quantity": -2}]})
    shopify.emulator.save_order({})
    relay_config = with_shops(config, shopify.emulator.url, None)
    client = access.clients(relay_config)[0]

    results = [reconciler(relay_config, engine, "w").reconcile(client) for _ in range(2)]

    assert [(r.seen, r.changed, r.rejected) for r in results] == [(2, 1, 1), (2, 0, 1)]
    relay = relay_for(relay_config, engine, None)  # type: ignore[arg-type]
    listed = relay.client.get("/v1/rejected", headers={"Authorization": f"Bearer {API_KEY}"}).json
    assert [(e["source"], e["store"], e["reason"]) for e in listed["items"]] == [
        ("shopify", SHOP, "invalid_order")
    ]


def test_the_worker_runs_each_stores_pass_beside_delivery(
    config: Config, engine: Engine, hubspot: HubSpot, start_woo: woocommerce_support.Start
) -> None:
    woo = start_woo(woocommerce_support.site(orders=0))
    for _ in range(3):
        woo.emulator.save_order({})
    relay_config = with_shops(worker_config(config, hubspot), None, woo.emulator.url)
    worker = make_worker(relay_config, engine)
    running = threading.Thread(target=worker.run_forever)
    running.start()
    try:
        deadline = time.monotonic() + 20
        while len(hubspot.records("orders")) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()
        running.join(timeout=20)
    assert len(hubspot.records("orders")) == 3
    with engine.connect() as conn:
        jobs = {row.job: row for row in conn.execute(select(shop_syncs))}
    assert (jobs["reconcile"].orders_changed, jobs["reconcile"].lease_owner) == (3, None)
    assert jobs["check"].last_error == "missing order.created, order.updated"  # none yet


def windows_of(config: Config, engine: Engine, client: Any, *times: float) -> list[Window]:
    """The window of a pass run at each of `times` (POSIX seconds)."""
    found = []
    for at in times:
        result = reconciler(config, engine, f"at-{at}", clock=lambda at=at: at).reconcile(client)
        assert result.finished and result.window is not None
        found.append(result.window)
    return found


def test_a_pass_starts_at_its_checkpoint_less_the_overlap_and_once_a_day_a_day_back(
    config: Config, engine: Engine, start_woo: woocommerce_support.Start
) -> None:
    woo = start_woo(woocommerce_support.site(orders=0))
    relay_config = with_shops(config, None, woo.emulator.url, reconcile_overlap_seconds=120.0)
    client = access.clients(relay_config)[0]
    day, now = 86_400.0, time.time()

    first, second, third, next_day = windows_of(
        relay_config, engine, client, now, now + 900, now + 1800, now + day + 10
    )

    assert (first.after, first.before) == (now - day, now)  # no checkpoint: the last day
    assert (second.after, second.before) == (now - 120, now + 900)  # swept a moment ago
    assert third.after == now + 900 - 120
    assert next_day.after == now + 10  # the trailing-day sweep: a day back from its start


def test_a_pass_since_a_time_after_the_checkpoint_leaves_the_gap_for_the_next_pass(
    config: Config, engine: Engine, start_woo: woocommerce_support.Start
) -> None:
    woo = start_woo(woocommerce_support.site(orders=0))
    relay_config = with_shops(config, None, woo.emulator.url)
    client = access.clients(relay_config)[0]
    now = time.time()
    windows_of(relay_config, engine, client, now - 7200)
    with engine.connect() as conn:
        before = conn.execute(select(shop_syncs.c.checkpoint)).scalar_one()

    later = reconciler(relay_config, engine, "manual").reconcile(client, since=now - 60)

    assert later.finished
    with engine.connect() as conn:
        assert conn.execute(select(shop_syncs.c.checkpoint)).scalar_one() == before


def test_a_backfill_killed_midway_resumes_its_range_from_its_checkpoint(
    config: Config, engine: Engine, start_shopify: shopify_support.Start
) -> None:
    shopify, relay_config, client = sixty_orders(start_shopify, config, page_size=20)
    since = time.time() - 100 * 86_400
    with pytest.raises(Killed):
        reconciler(relay_config, engine, "killed").backfill(
            DiesAfter(client, 1), since=since, until=None
        )
    now = time.time()  # after the kill: its lease was renewed as its first page ended
    later = reconciler(relay_config, engine, "again", clock=lambda: now + LEASE_SECONDS + 1)

    resumed = later.backfill(client, since=since, until=None)

    assert resumed.finished and resumed.window is not None
    first_page_end = seconds_of(shopify.emulator.orders()[19]["updated_at"])
    assert resumed.window.after == first_page_end
    assert 40 <= resumed.seen < 60 and len(stored_orders(engine)) == 60
    another = later.backfill(client, since=since + 1, until=None)  # a new range: afresh
    assert another.window is not None and another.window.after == since + 1
    assert another.seen == 60


class AfterFirstPage:
    """A client that runs `then` as it hands over its second page."""

    def __init__(self, client: Any, then: Any) -> None:
        self.client, self.source, self.store, self.then = client, client.source, client.store, then

    def pages(self, window: Window) -> Iterator[Page]:
        for number, page in enumerate(self.client.pages(window)):
            if number == 1:
                self.then()
            yield page

    def count(self, window: Window) -> int | None:
        return None


def test_a_worker_stopping_mid_pass_gives_its_lease_back_and_keeps_its_checkpoint(
    config: Config, engine: Engine, start_shopify: shopify_support.Start
) -> None:
    shopify, relay_config, client = sixty_orders(start_shopify, config, page_size=20)
    stopping = threading.Event()
    stopped = reconciler(relay_config, engine, "w", stopping=stopping)

    result = stopped.reconcile(AfterFirstPage(client, stopping.set), since=0.0)

    assert result.error == "stopped before the end of its window" and not result.finished
    assert result.seen == 40  # the page it was feeding when told to stop, then no more
    with engine.connect() as conn:
        row = conn.execute(select(shop_syncs)).one()
    assert row.lease_owner is None
    assert row.checkpoint == seconds_of(shopify.emulator.orders()[39]["updated_at"])


def test_a_pass_whose_lease_another_worker_took_stops_at_its_next_page(
    config: Config, engine: Engine, start_shopify: shopify_support.Start
) -> None:
    _shopify, relay_config, client = sixty_orders(start_shopify, config, page_size=20)

    def taken() -> None:
        with engine.begin() as conn:
            conn.execute(shop_syncs.update().values(lease_owner="another"))

    result = reconciler(relay_config, engine, "w").reconcile(
        AfterFirstPage(client, taken), since=0.0
    )

    assert result.error == "lost the store's lease to another worker"
    assert result.seen == 40 and not result.finished
    with engine.connect() as conn:
        assert conn.execute(select(shop_syncs.c.lease_owner)).scalar_one() == "another"


def test_no_token_or_key_reaches_a_log_line_of_a_pass_or_a_check(
    config: Config,
    engine: Engine,
    start_shopify: shopify_support.Start,
    start_woo: woocommerce_support.Start,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from service.shop_checks import run_check

    shopify = start_shopify(shopify_support.shop(orders=2))
    woo = start_woo(woocommerce_support.site(orders=2))
    good = with_shops(config, shopify.emulator.url, woo.emulator.url)
    bad = good.replace(
        shopify_admin_tokens={SHOP: "shpat_leak_me_not"},
        woocommerce_api_keys={SITE: ("ck_leak_me_not", "cs_leak_me_not")},
    )
    caplog.set_level("DEBUG")
    for each in (good, bad):
        worker = reconciler(each, engine, "w")
        for client in access.clients(each):
            worker.reconcile(client, since=0.0)
            run_check(each, engine, client, worker, fix=False)

    logged = "\n".join(json.dumps(vars(r), default=str) for r in caplog.records)
    assert "reconcile_pass_failed" in logged and "shops_check" in logged
    for secret in (shopify_support.TOKEN, woocommerce_support.SECRET, "leak_me_not"):
        assert secret not in logged
