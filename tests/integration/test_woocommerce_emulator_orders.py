"""The WooCommerce emulator's orders over real HTTP: paging with X-WP-Total and Link,
the date filters in site time and GMT and their edges, WordPress's argument checks,
consumer-key auth per site, a host's 429 and scripted faults, and the shape of its
orders as the relay's own parser reads them."""

from __future__ import annotations

import json
import time
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
    gmt,
    ids,
    local,
    site,
    starting,
)

DAY = 86_400


@pytest.fixture
def start() -> Iterator[Start]:
    yield from starting()


def test_paging_by_modified_date_returns_each_order_once_with_the_totals(start: Start) -> None:
    woo = start(site(orders=23))
    expected = ids(woo.emulator.orders())  # by modified date, then id

    pages = woo.pages(per_page=5, orderby="modified", order="asc", dates_are_gmt="true")

    assert [len(page.json()) for page in pages] == [5, 5, 5, 5, 3]
    assert {(p.headers["X-WP-Total"], p.headers["X-WP-TotalPages"]) for p in pages} == {("23", "5")}
    assert [order["id"] for page in pages for order in page.json()] == expected
    assert "prev" in pages[-1].links and "prev" not in pages[0].links


def test_the_default_is_newest_created_first_and_date_ties_break_by_id(start: Start) -> None:
    woo = start()
    moment = gmt(time.time() - DAY)
    made = [woo.emulator.save_order({"date_created_gmt": moment})["order"]["id"] for _ in range(3)]

    newest_first = ids(woo.get("/orders").json())
    oldest_first = ids(woo.get("/orders", order="asc").json())

    assert newest_first == sorted(made, reverse=True)
    assert oldest_first == sorted(made)


def test_modified_after_reads_the_sites_time_unless_dates_are_gmt(start: Start) -> None:
    woo = start()
    changed = time.time() - DAY
    woo.emulator.save_order({"date_modified_gmt": gmt(changed)})
    hour_before = changed - 3600

    def found(**params: str) -> int:
        return len(woo.get("/orders", **params).json())

    assert found(modified_after=gmt(hour_before), dates_are_gmt="true") == 1
    # The same digits read as the site's time (UTC-5) are five hours later: past it.
    assert found(modified_after=gmt(hour_before)) == 0
    assert found(modified_after=local(hour_before)) == 1
    assert found(modified_after=gmt(hour_before) + "Z") == 1  # an offset says which zone


def test_modified_bounds_are_exclusive(start: Start) -> None:
    woo = start()
    changed = int(time.time()) - DAY
    woo.emulator.save_order({"date_modified_gmt": gmt(changed)})

    def found(name: str, ts: float) -> int:
        return len(woo.get("/orders", dates_are_gmt="true", **{name: gmt(ts)}).json())

    assert (found("modified_after", changed - 1), found("modified_after", changed)) == (1, 0)
    assert (found("modified_before", changed + 1), found("modified_before", changed)) == (1, 0)


def test_after_and_before_pick_orders_by_creation(start: Start) -> None:
    woo = start()
    now = time.time()
    old = woo.emulator.save_order({"date_created_gmt": gmt(now - 3 * DAY)})["order"]["id"]
    new = woo.emulator.save_order({"date_created_gmt": gmt(now - DAY)})["order"]["id"]
    woo.emulator.save_order({"id": old, "customer_note": "touched today"})

    after = woo.get("/orders", after=gmt(now - 2 * DAY), dates_are_gmt="true").json()
    before = woo.get("/orders", before=gmt(now - 2 * DAY), dates_are_gmt="true").json()

    assert (ids(after), ids(before)) == ([new], [old])


def test_status_defaults_to_any_and_takes_a_list(start: Start) -> None:
    woo = start()
    made = {}
    for action in ("pay", "complete", "cancel"):
        made[action] = woo.emulator.save_order(action=action)["order"]["id"]

    listed = set(ids(woo.get("/orders").json()))
    chosen = set(ids(woo.get("/orders", status="processing,completed").json()))

    assert listed == set(made.values())
    assert chosen == {made["pay"], made["complete"]}


@pytest.mark.parametrize(
    ("params", "name", "message"),
    [
        (
            {"per_page": "101"},
            "per_page",
            "per_page must be between 1 (inclusive) and 100 (inclusive)",
        ),
        ({"per_page": "ten"}, "per_page", "per_page is not of type integer."),
        ({"page": "0"}, "page", "page must be greater than or equal to 1"),
        ({"order": "up"}, "order", "order is not one of asc, desc."),
        ({"orderby": "colour"}, "orderby", None),
        ({"modified_after": "yesterday"}, "modified_after", "Invalid date."),
        ({"dates_are_gmt": "maybe"}, "dates_are_gmt", "dates_are_gmt is not of type boolean."),
        ({"status": "lost"}, "status[0]", None),
    ],
)
def test_a_bad_argument_answers_rest_invalid_param_naming_it(
    start: Start, params: dict[str, str], name: str, message: str | None
) -> None:
    response = start().get("/orders", **params)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "rest_invalid_param"
    assert body["message"] == f"Invalid parameter(s): {name}"
    assert list(body["data"]["params"]) == [name]
    if message is not None:
        assert body["data"]["params"][name] == message


def test_a_page_past_the_end_is_empty_and_points_back_to_the_last(start: Start) -> None:
    woo = start(site(orders=7))

    response = woo.get("/orders", per_page=5, page=9)

    assert response.json() == []
    assert (response.headers["X-WP-Total"], response.headers["X-WP-TotalPages"]) == ("7", "2")
    assert "page=2" in response.links["prev"]["url"] and "next" not in response.links


def test_links_keep_the_query_so_query_string_credentials_still_work(start: Start) -> None:
    woo = start(site(orders=4))
    params = {"per_page": 2, "consumer_key": KEY, "consumer_secret": SECRET}

    first = woo.get("/orders", None, **params)
    second = woo.get(first.links["next"]["url"], None)

    assert second.status_code == 200
    assert "consumer_key=" in first.links["next"]["url"]
    assert not set(ids(first.json())) & set(ids(second.json()))


def test_include_and_orderby_include_keep_the_order_asked_for(start: Start) -> None:
    woo = start(site(orders=5))
    wanted = list(reversed(ids(woo.emulator.orders())[:3]))
    include = ",".join(map(str, wanted))

    response = woo.get("/orders", include=include, orderby="include", order="asc")

    assert ids(response.json()) == wanted


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


def test_one_order_is_read_by_id_and_an_unknown_route_is_rest_no_route(start: Start) -> None:
    woo = start()
    made = woo.emulator.save_order()["order"]

    assert woo.get(f"/orders/{made['id']}").json() == made
    assert woo.get("/orders/1").json()["code"] == "woocommerce_rest_shop_order_invalid_id"
    assert woo.get("/products").json()["code"] == "rest_no_route"


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
    time.sleep(1.05)  # dates have whole seconds
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
