"""The Shopify emulator over real HTTP: the 60-day horizon of read_all_orders, tokens
and scopes per shop, the API version, the control API's order changes, and the shape of
its orders as the relay's own parser reads them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from emulators.shopify import Emulator, EmulatorConfig
from service.sources import parse_json
from service.sources.shopify import to_order
from tests.conftest import require_shared
from tests.integration.shopify_support import (
    DOMAIN,
    OTHER,
    OTHER_TOKEN,
    TOKEN,
    Start,
    at,
    ids,
    shop,
    starting,
)

DAY = 86_400
ALL_ORDERS = {"read_orders", "read_all_orders"}


@pytest.fixture
def start() -> Iterator[Start]:
    yield from starting()


def created_at(order: dict[str, Any]) -> float:
    return datetime.fromisoformat(order["created_at"]).timestamp()


def test_orders_created_over_60_days_ago_need_read_all_orders(start: Start) -> None:
    shopify = start(shop(orders=40))
    horizon = time.time() - 60 * DAY
    everything = shopify.emulator.orders()
    old = [o["id"] for o in everything if created_at(o) < horizon]
    assert old, "the seed makes some orders older than 60 days"

    seen = {o["id"] for page in shopify.pages(status="any", limit=250) for o in page}
    asked = shopify.get("/orders.json", status="any", created_at_min=at(horizon - DAY))
    one_old = shopify.get(f"/orders/{old[0]}.json")

    assert seen == {o["id"] for o in everything} - set(old)
    assert (asked.status_code, one_old.status_code) == (403, 404)
    assert "read_all_orders" in asked.json()["errors"]
    shopify.emulator.configure(shops={DOMAIN: {"scopes": sorted(ALL_ORDERS)}})
    granted = shopify.get(
        "/orders.json", status="any", limit=250, created_at_min=at(horizon - 40 * DAY)
    )
    assert set(old) <= set(ids(granted.json()["orders"]))
    assert shopify.get(f"/orders/{old[0]}.json").status_code == 200


def test_a_missing_or_unknown_token_answers_401_with_shopifys_message(start: Start) -> None:
    shopify = start()
    message = "[API] Invalid API key or access token (unrecognized login or wrong password)"

    for token in (None, "shpat_nobody"):
        response = shopify.get("/orders.json", token)
        assert response.status_code == 401
        assert response.json() == {"errors": message}
        assert "X-Shopify-Shop-Api-Call-Limit" not in response.headers


def test_each_token_sees_its_own_shop_and_no_other(start: Start) -> None:
    shopify = start(
        shop(orders=3, scopes=ALL_ORDERS), shop(OTHER, OTHER_TOKEN, orders=5, scopes=ALL_ORDERS)
    )
    mine = set(ids(shopify.get("/orders.json", status="any").json()["orders"]))
    theirs = set(ids(shopify.get("/orders.json", OTHER_TOKEN, status="any").json()["orders"]))
    by_path = shopify.emulator.shop_url(OTHER) + "/admin/api/2026-07/orders.json"

    assert len(mine) == 3 and len(theirs) == 5 and not mine & theirs
    assert shopify.get(by_path, TOKEN).status_code == 401
    assert shopify.get(by_path, OTHER_TOKEN).status_code == 200
    by_host = {"X-Shopify-Access-Token": TOKEN, "Host": OTHER}
    url = shopify.emulator.url + "/admin/api/2026-07/orders.json"
    assert shopify.http.get(url, headers=by_host, timeout=5).status_code == 401


def test_a_token_without_read_orders_answers_403_on_orders_only(start: Start) -> None:
    shopify = start(shop(scopes=set()))

    refused = shopify.get("/orders.json")

    assert refused.status_code == 403
    assert refused.json() == {
        "errors": "[API] This action requires merchant approval for read_orders scope."
    }
    assert shopify.get("/webhooks.json").status_code == 200


def test_the_api_version_is_echoed_and_a_malformed_one_is_not_found(start: Start) -> None:
    shopify = start()
    url = shopify.emulator.url + "/admin/api/{}/orders.json"
    headers = {"X-Shopify-Access-Token": TOKEN}

    echoed = shopify.http.get(url.format("2025-10"), headers=headers, timeout=5)
    malformed = shopify.http.get(url.format("2025-1"), headers=headers, timeout=5)

    assert echoed.headers["X-Shopify-API-Version"] == "2025-10"
    assert malformed.status_code == 404


def test_seeded_orders_load_through_the_relays_shopify_parser(start: Start) -> None:
    shopify = start(shop(orders=40, scopes=ALL_ORDERS))

    response = shopify.get("/orders.json", status="any", limit=250)
    orders = [to_order(item, DOMAIN) for item in parse_json(response.content)["orders"]]

    assert len(orders) == 40
    assert {len(order.line_items) for order in orders} <= {1, 2, 3, 4}
    statuses = {o["financial_status"] for o in response.json()["orders"]}
    assert {"pending", "paid", "partially_refunded", "refunded"} <= statuses
    assert any(order.buyer is not None and order.buyer.customer_id is None for order in orders)
    assert any(order.totals.refunded for order in orders)


def test_seeded_orders_carry_every_field_of_shopifys_own_order_fixture(start: Start) -> None:
    fixture = require_shared(
        "fixtures",
        "shopify",
        "order.rest-fixture.shopify-app-js.2026-07.test_8.partially-refunded.json",
    )
    theirs = json.loads(fixture.read_text())
    shopify = start(shop(orders=30, scopes=ALL_ORDERS))
    ours = shopify.emulator.orders()
    refunded = next(o for o in ours if o["refunds"])

    assert set(theirs) - set().union(*ours) == set()
    assert set(theirs["line_items"][0]) - set(ours[0]["line_items"][0]) == set()
    assert set(theirs["refunds"][0]) - set(refunded["refunds"][0]) == set()


def test_the_same_seed_and_clock_seed_the_same_orders() -> None:
    def seeded(seed: int) -> list[dict[str, Any]]:
        config = EmulatorConfig(shops=[shop(orders=10)], seed=seed)
        return Emulator(config, clock=lambda: 1_790_000_000.0).orders()

    assert seeded(3) == seeded(3)
    assert ids(seeded(3)) != ids(seeded(4))


def test_the_control_api_saves_orders_and_answers_each_new_version(start: Start) -> None:
    shopify = start()
    control = shopify.emulator.url + "/_emulator/orders"

    created = shopify.http.post(control, json={"order": {"note": "hi"}}, timeout=5).json()
    paid = shopify.http.post(
        control, json={"order": {"id": created["order"]["id"]}, "action": "pay"}, timeout=5
    ).json()
    listed = shopify.http.get(control, timeout=5).json()

    assert (created["version"], created["created"], created["topics"]) == (
        1,
        True,
        ["orders/create"],
    )
    assert (paid["version"], paid["created"]) == (2, False)
    assert paid["topics"] == ["orders/updated", "orders/paid"]
    assert paid["order"]["updated_at"] > created["order"]["updated_at"]
    assert listed["versions"] == {str(created["order"]["id"]): 2}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"action": "refund"}, 400),  # nothing was paid
        ({"action": "teleport"}, 400),
        ({"order": {"id": -3}}, 400),
        ({"shop": "nowhere.myshopify.com"}, 404),
    ],
)
def test_a_control_change_that_does_not_fit_answers_its_error(
    start: Start, body: dict[str, Any], status: int
) -> None:
    shopify = start()
    made = shopify.emulator.save_order()["order"]
    if body.get("action"):
        body = {**body, "order": {"id": made["id"]}}

    response = shopify.http.post(shopify.emulator.url + "/_emulator/orders", json=body, timeout=5)

    assert response.status_code == status
    assert response.json()["errors"]


def test_a_refund_lowers_the_current_total_by_what_its_transaction_gave_back(start: Start) -> None:
    shopify = start()
    made = shopify.emulator.save_order({"financial_status": "paid"})["order"]

    refunded = shopify.emulator.save_order({"id": made["id"]}, action="refund")["order"]

    given_back = refunded["refunds"][0]["transactions"][0]["amount"]
    order = to_order(parse_json(json.dumps(refunded).encode()), DOMAIN)
    assert order.totals.refunded == Decimal(given_back) > 0
    assert Decimal(refunded["current_total_price"]) == Decimal(made["total_price"]) - Decimal(
        given_back
    )


def test_reset_reseeds_and_forgets_subscriptions_deliveries_and_faults(start: Start) -> None:
    shopify = start(shop(orders=5))
    seeded = [(o["id"], o["total_price"]) for o in shopify.emulator.orders()]  # times move on
    shopify.emulator.add_subscription("orders/create", "http://127.0.0.1:9/hooks")
    shopify.emulator.save_order()
    shopify.emulator.fail_next("500")

    reset = shopify.http.post(shopify.emulator.url + "/_emulator/reset", timeout=5)

    assert reset.json() == {"ok": True}
    assert [(o["id"], o["total_price"]) for o in shopify.emulator.orders()] == seeded
    assert shopify.emulator.subscriptions() == [] and shopify.emulator.deliveries() == []
    assert shopify.get("/orders/count.json").status_code == 200  # the fault is gone


def test_the_control_api_answers_bad_json_with_400(start: Start) -> None:
    shopify = start()

    response = shopify.http.post(shopify.emulator.url + "/_emulator/orders", data=b"{", timeout=5)

    assert response.status_code == 400
    assert response.json()["errors"]
