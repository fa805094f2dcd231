"""The Shopify emulator's orders listing over real HTTP: paging by page_info (over a set
that changes meanwhile too), the filters and their edges, limit, fields and count."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from emulators.shopify import Emulator
from tests.integration.shopify_support import (
    DOMAIN,
    OTHER,
    OTHER_TOKEN,
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


def listing_order(emulator: Emulator, domain: str = DOMAIN) -> list[int]:
    """The ids in (updated_at, id) order, from the emulator's own records."""
    return ids(emulator.orders(domain))


def test_paging_through_more_orders_than_a_page_returns_each_order_once_in_update_order(
    start: Start,
) -> None:
    shopify = start(shop(orders=23, scopes=ALL_ORDERS))

    pages = shopify.pages(status="any", limit=5)

    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    seen = [order["id"] for page in pages for order in page]
    assert seen == listing_order(shopify.emulator)
    assert len(set(seen)) == 23


def test_previous_links_walk_back_over_the_same_pages(start: Start) -> None:
    shopify = start(shop(orders=12, scopes=ALL_ORDERS))
    first = shopify.get("/orders.json", status="any", limit=4)
    second = shopify.get(first.links["next"]["url"])
    third = shopify.get(second.links["next"]["url"])
    assert "previous" not in first.links and "next" not in third.links

    back = shopify.get(third.links["previous"]["url"])
    start_again = shopify.get(back.links["previous"]["url"])

    assert ids(back.json()["orders"]) == ids(second.json()["orders"])
    assert ids(start_again.json()["orders"]) == ids(first.json()["orders"])
    assert "previous" not in start_again.links


def test_an_order_updated_mid_scan_is_met_again_and_none_is_skipped(start: Start) -> None:
    shopify = start(shop(orders=15, scopes=ALL_ORDERS))
    everyone = set(listing_order(shopify.emulator))
    first = shopify.get("/orders.json", status="any", limit=5)
    moved = first.json()["orders"][0]["id"]

    shopify.emulator.save_order({"id": moved, "note": "changed while the scan ran"})
    seen = ids(first.json()["orders"])
    response = shopify.get(first.links["next"]["url"])
    while True:
        seen += ids(response.json()["orders"])
        if "next" not in response.links:
            break
        response = shopify.get(response.links["next"]["url"])

    assert set(seen) == everyone
    assert seen.count(moved) == 2
    assert seen[-1] == moved


@pytest.mark.parametrize("extra", [{"created_at_min": "2026-01-01T00:00:00Z"}, {"status": "any"}])
def test_page_info_with_any_other_filter_answers_400(start: Start, extra: dict[str, str]) -> None:
    shopify = start(shop(orders=6, scopes=ALL_ORDERS))
    following = shopify.get("/orders.json", status="any", limit=2).links["next"]["url"]

    response = shopify.get(following, **extra)

    assert response.status_code == 400
    [name] = extra
    assert response.json()["errors"] == f"{name} cannot be passed when page_info is present"


def test_a_garbled_page_info_or_another_shops_answers_400(start: Start) -> None:
    shopify = start(shop(orders=4), shop(OTHER, OTHER_TOKEN, orders=4, scopes=ALL_ORDERS))
    theirs = shopify.get("/orders.json", OTHER_TOKEN, status="any", limit=1).links["next"]["url"]
    page_info = theirs.split("page_info=")[1]

    assert shopify.get("/orders.json", page_info=page_info).status_code == 400
    assert shopify.get("/orders.json", page_info="not-a-cursor").status_code == 400


def test_updated_at_bounds_are_inclusive_to_the_second(start: Start) -> None:
    shopify = start()
    moment = int(time.time()) - DAY
    for offset in (-1, 0, 1):
        shopify.emulator.save_order({"updated_at": at(moment + offset), "note": str(offset)})

    def notes(**params: Any) -> list[str]:
        return [o["note"] for o in shopify.get("/orders.json", **params).json()["orders"]]

    assert notes(updated_at_min=at(moment)) == ["0", "1"]
    assert notes(updated_at_max=at(moment)) == ["-1", "0"]
    assert notes(updated_at_min=at(moment), updated_at_max=at(moment)) == ["0"]
    utc = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
    assert notes(updated_at_min=utc) == ["0", "1"]  # the same instant, written in UTC


def test_created_at_filters_pick_orders_by_creation_not_by_update(start: Start) -> None:
    shopify = start()
    now = int(time.time())
    old = shopify.emulator.save_order({"created_at": at(now - 3 * DAY), "note": "old"})
    shopify.emulator.save_order({"created_at": at(now - DAY), "note": "new"})
    shopify.emulator.save_order({"id": old["order"]["id"], "note": "old, updated"})

    recent = shopify.get("/orders.json", created_at_min=at(now - 2 * DAY)).json()["orders"]
    earlier = shopify.get("/orders.json", created_at_max=at(now - 2 * DAY)).json()["orders"]

    assert [o["note"] for o in recent] == ["new"]
    assert [o["note"] for o in earlier] == ["old, updated"]


def test_status_defaults_to_open_and_picks_closed_cancelled_or_any(start: Start) -> None:
    shopify = start()
    made = {
        name: shopify.emulator.save_order({"note": name})["order"]["id"]
        for name in ("open", "cancelled", "closed")
    }
    shopify.emulator.save_order({"id": made["cancelled"]}, action="cancel")
    shopify.emulator.save_order({"id": made["closed"]}, action="close")

    def listed(**params: str) -> set[int]:
        return set(ids(shopify.get("/orders.json", **params).json()["orders"]))

    assert listed() == {made["open"]}
    assert listed(status="cancelled") == {made["cancelled"]}
    assert listed(status="closed") == {made["closed"]}
    assert listed(status="any") == set(made.values())
    assert shopify.get("/orders.json", status="archived").status_code == 400


def test_limit_defaults_to_50_is_served_at_most_250_and_must_be_a_positive_integer(
    start: Start,
) -> None:
    shopify = start(shop(orders=260, scopes=ALL_ORDERS))

    assert len(shopify.get("/orders.json", status="any").json()["orders"]) == 50
    assert len(shopify.get("/orders.json", status="any", limit=300).json()["orders"]) == 250
    assert shopify.get("/orders.json", limit=0).status_code == 400
    assert shopify.get("/orders.json", limit="ten").status_code == 400


def test_fields_keeps_only_the_named_keys_on_every_page(start: Start) -> None:
    shopify = start(shop(orders=4, scopes=ALL_ORDERS))
    first = shopify.get("/orders.json", status="any", limit=2, fields="id,updated_at")
    second = shopify.get(first.links["next"]["url"])

    for page in (first, second):
        assert [set(order) for order in page.json()["orders"]] == [{"id", "updated_at"}] * 2


def test_one_order_is_read_by_id_and_counted_by_the_filters(start: Start) -> None:
    shopify = start()
    made = shopify.emulator.save_order({"note": "one"})["order"]
    shopify.emulator.save_order({"note": "two"})

    one = shopify.get(f"/orders/{made['id']}.json", fields="id,note")

    assert one.json() == {"order": {"id": made["id"], "note": "one"}}
    assert shopify.get("/orders/1.json").status_code == 404
    assert shopify.get("/orders/count.json").json() == {"count": 2}
    assert shopify.get("/orders/count.json", status="cancelled").json() == {"count": 0}
