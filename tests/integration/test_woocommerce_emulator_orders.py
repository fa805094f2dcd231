"""The WooCommerce emulator's orders listing over real HTTP: paging with X-WP-Total and
Link, the date filters in site time and GMT and their edges, the sort, and WordPress's
argument checks."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.integration.woocommerce_support import (
    KEY,
    SECRET,
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


def test_one_order_is_read_by_id_and_an_unknown_route_is_rest_no_route(start: Start) -> None:
    woo = start()
    made = woo.emulator.save_order()["order"]

    assert woo.get(f"/orders/{made['id']}").json() == made
    assert woo.get("/orders/1").json()["code"] == "woocommerce_rest_shop_order_invalid_id"
    assert woo.get("/products").json()["code"] == "rest_no_route"
