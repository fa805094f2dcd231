"""The WooCommerce emulator over real HTTP: consumer-key auth per site and its refusals,
a host's 429 and scripted faults, the control API's order changes, and the shape of its
orders as the relay's own parser reads them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from emulators.woocommerce import Emulator, EmulatorConfig
from service.sources import parse_json
from service.sources.woocommerce import to_order
from tests.conftest import require_shared
from tests.integration.woocommerce_support import (
    KEY,
    OTHER,
    OTHER_KEY,
    OTHER_SECRET,
    SECRET,
    SITE,
    Start,
    site,
    starting,
)

DAY = 86_400


@pytest.fixture
def start() -> Iterator[Start]:
    yield from starting()


def test_basic_auth_and_query_parameters_each_identify_the_site(start: Start) -> None:
    woo = start(site(orders=3), site(OTHER, OTHER_KEY, OTHER_SECRET, orders=4))

    mine = woo.get("/orders")
    theirs = woo.get("/orders", None, consumer_key=OTHER_KEY, consumer_secret=OTHER_SECRET)

    assert (len(mine.json()), len(theirs.json())) == (3, 4)
    hosts = {o["_links"]["self"][0]["href"].split("/")[2] for o in mine.json()}
    assert hosts == {"test-site.example"}
    assert {o["_links"]["self"][0]["href"].split("/")[2] for o in theirs.json()} == {
        "other-site.example"
    }


@pytest.mark.parametrize("auth", [None, ("ck_nobody", SECRET)])
def test_no_credentials_or_an_unknown_key_are_refused_by_the_endpoint(
    start: Start, auth: tuple[str, str] | None
) -> None:
    woo = start()

    listing, one, create = (
        woo.get("/orders", auth),
        woo.get("/orders/1", auth),
        woo.http.post(woo.emulator.url + "/wp-json/wc/v3/webhooks", json={}, auth=auth, timeout=5),
    )

    assert listing.status_code == one.status_code == create.status_code == 401
    assert listing.json() == {
        "code": "woocommerce_rest_cannot_view",
        "message": "Sorry, you cannot list resources.",
        "data": {"status": 401},
    }
    assert one.json()["message"] == "Sorry, you cannot view this resource."
    assert create.json()["code"] == "woocommerce_rest_cannot_create"


def test_a_known_key_with_a_wrong_secret_answers_consumer_secret_is_invalid(start: Start) -> None:
    response = start().get("/orders", (KEY, "cs_wrong"))

    assert response.status_code == 401
    assert response.json()["code"] == "woocommerce_rest_authentication_error"
    assert response.json()["message"] == "Consumer secret is invalid."
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="WooCommerce API.')


def test_a_read_only_key_reads_but_cannot_write(start: Start) -> None:
    woo = start(site(permissions="read"))

    reading = woo.get("/orders")
    writing = woo.send(
        "POST", "/webhooks", {"topic": "order.updated", "delivery_url": "https://x.example"}
    )

    assert reading.status_code == 200
    assert writing.status_code == 401
    assert writing.json()["message"] == "The API key provided does not have write permissions."


def test_there_is_no_rate_limit_by_default_and_a_configured_one_answers_429(start: Start) -> None:
    woo = start()
    assert {woo.get("/orders").status_code for _ in range(30)} == {200}

    woo.emulator.configure(rate_limit=2, rate_window=60.0, retry_after=3)
    answers = [woo.get("/orders") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["Retry-After"] == "3"


def test_scripted_faults_answer_the_next_calls_of_their_site_then_pass(start: Start) -> None:
    woo = start(site(), site(OTHER, OTHER_KEY, OTHER_SECRET))
    woo.emulator.fail_next("500", "503", calls="orders", site=SITE)

    other = woo.get("/orders", (OTHER_KEY, OTHER_SECRET))
    answers = [woo.get("/orders") for _ in range(3)]

    assert other.status_code == 200
    assert [a.status_code for a in answers] == [500, 503, 200]
    assert answers[0].json()["data"] == {"status": 500}


def test_a_drop_fault_closes_the_connection_unanswered(start: Start) -> None:
    woo = start()
    woo.emulator.fail_next("drop")

    with pytest.raises(requests.ConnectionError):
        woo.get("/orders")


def test_seeded_orders_load_through_the_relays_woocommerce_parser(start: Start) -> None:
    woo = start(site(orders=30))

    response = woo.get("/orders", per_page=100)
    orders = [to_order(item, SITE) for item in parse_json(response.content)]

    assert len(orders) == 30
    statuses = {o["status"] for o in response.json()}
    assert {"pending", "processing", "completed", "refunded", "cancelled", "on-hold"} <= statuses
    assert any(order.totals.refunded for order in orders)
    assert any(o["customer_id"] == 0 for o in response.json())
    assert {len(order.line_items) for order in orders} <= {1, 2, 3, 4}


def test_seeded_orders_carry_every_field_of_the_docs_order_example(start: Start) -> None:
    example = require_shared(
        "fixtures", "woocommerce", "order.rest-api-docs.v3.retrieve-example.json"
    )
    theirs = json.loads(example.read_text())
    ours = start(site(orders=10)).emulator.orders()

    assert set(theirs) - set(ours[0]) == set()
    assert set(theirs["line_items"][0]) - set(ours[0]["line_items"][0]) == set()


def test_the_same_seed_and_clock_seed_the_same_orders() -> None:
    def seeded(seed: int) -> list[dict[str, Any]]:
        config = EmulatorConfig(sites=[site(orders=10)], seed=seed)
        return Emulator(config, clock=lambda: 1_790_000_000.0).orders()

    assert seeded(3) == seeded(3)
    assert seeded(3) != seeded(4)


def test_the_control_api_saves_orders_and_answers_each_new_version(start: Start) -> None:
    woo = start()
    control = woo.emulator.url + "/_emulator/orders"

    created = woo.http.post(control, json={"order": {}}, timeout=5).json()
    paid = woo.http.post(
        control, json={"order": {"id": created["order"]["id"]}, "action": "pay"}, timeout=5
    )

    assert (created["version"], created["topics"]) == (1, ["order.created", "order.updated"])
    assert (paid.json()["version"], paid.json()["topics"]) == (2, ["order.updated"])
    assert paid.json()["order"]["status"] == "processing"
    assert paid.json()["order"]["date_modified_gmt"] > created["order"]["date_modified_gmt"]
    versions = woo.http.get(control, timeout=5).json()["versions"]
    assert versions == {str(created["order"]["id"]): 2}


@pytest.mark.parametrize(
    ("body", "status"), [({"action": "refund"}, 400), ({"site": "nowhere"}, 404)]
)
def test_a_control_change_that_does_not_fit_answers_its_error(
    start: Start, body: dict[str, Any], status: int
) -> None:
    woo = start()
    made = woo.emulator.save_order()["order"]

    response = woo.http.post(
        woo.emulator.url + "/_emulator/orders",
        json={**body, "order": {"id": made["id"]}},
        timeout=5,
    )

    assert response.status_code == status


def test_refunds_are_listed_negative_and_the_last_refunds_the_order(start: Start) -> None:
    woo = start()
    made = woo.emulator.save_order(
        {"line_items": [{"quantity": 1, "subtotal": "20.00"}]}, action="pay"
    )

    once = woo.emulator.save_order({"id": made["order"]["id"]}, action="refund")["order"]
    twice = woo.emulator.save_order({"id": made["order"]["id"]}, action="refund")["order"]

    assert Decimal(once["refunds"][0]["total"]) < 0
    assert (once["status"], twice["status"]) == ("processing", "refunded")
    order = to_order(parse_json(json.dumps(twice).encode()), SITE)
    assert order.totals.total == 0 and order.totals.refunded == Decimal(made["order"]["total"])


def test_reset_reseeds_and_forgets_webhooks_deliveries_and_faults(start: Start) -> None:
    woo = start(site(orders=5))
    seeded = [(o["id"], o["total"]) for o in woo.emulator.orders()]  # times move on
    woo.send(
        "POST", "/webhooks", {"topic": "order.updated", "delivery_url": "http://127.0.0.1:9/h"}
    )
    woo.emulator.save_order()
    woo.emulator.fail_next("500")

    reset = woo.http.post(woo.emulator.url + "/_emulator/reset", timeout=5)

    assert reset.json() == {"ok": True}
    assert [(o["id"], o["total"]) for o in woo.emulator.orders()] == seeded
    assert woo.emulator.webhooks() == [] and woo.emulator.deliveries() == []
    assert woo.get("/orders").status_code == 200  # the fault is gone


def test_a_body_that_is_not_json_answers_rest_invalid_json(start: Start) -> None:
    woo = start()
    url = woo.emulator.url + "/wp-json/wc/v3/webhooks"

    response = woo.http.post(url, data=b"topic=order.updated", auth=(KEY, SECRET), timeout=5)

    assert (response.status_code, response.json()["code"]) == (400, "rest_invalid_json")
