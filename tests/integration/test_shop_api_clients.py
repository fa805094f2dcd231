"""The relay's clients of the shops' APIs against the shop emulators over real HTTP:
every changed order once, in the shape the webhook carries, paging and pacing as the
shops document, and failures that name the store but never a credential."""

from __future__ import annotations

import json
import time

import pytest
import requests

from service.shops.http import ShopApiError
from service.shops.listing import Window
from service.shops.shopify import API_VERSION, ShopifyApi, seconds_of
from service.shops.woocommerce import WooCommerceApi
from tests.integration import shopify_support, woocommerce_support
from tests.processes import free_port

ALL_ORDERS = {"read_orders", "read_all_orders"}
EVER = Window(after=0.0, before=time.time() + 3600)


def shopify_api(url: str, token: str = shopify_support.TOKEN, **http: object) -> ShopifyApi:
    return ShopifyApi(shopify_support.DOMAIN, token, url, requests.Session(), **http)  # type: ignore[arg-type]


def woo_api(url: str, secret: str = woocommerce_support.SECRET) -> WooCommerceApi:
    store = "test-site.example"
    return WooCommerceApi(store, woocommerce_support.KEY, secret, url, requests.Session())


def test_shopify_pages_give_every_order_once_oldest_change_first_in_the_webhook_shape(
    start_shopify: shopify_support.Start,
) -> None:
    shopify = start_shopify(shopify_support.shop(orders=520, scopes=ALL_ORDERS))
    api = shopify_api(shopify.emulator.url)

    pages = list(api.pages(EVER))

    assert [len(page.orders) for page in pages] == [250, 250, 20]
    fetched = [order for page in pages for order in page.orders]
    expected = shopify.emulator.orders()
    assert [o.order_id for o in fetched] == [str(o["id"]) for o in expected]
    assert [json.loads(o.body) for o in fetched] == expected
    versions = [o.version for o in fetched]
    assert versions == sorted(versions)
    assert api.count(EVER) == 520
    paths = {entry["path"] for entry in shopify.emulator.requests_log()}
    assert paths == {
        f"/admin/api/{API_VERSION}/orders.json",
        f"/admin/api/{API_VERSION}/orders/count.json",
    }


def test_a_shopify_window_keeps_the_orders_changed_at_or_after_its_start(
    start_shopify: shopify_support.Start,
) -> None:
    shopify = start_shopify(shopify_support.shop(orders=30, scopes=ALL_ORDERS))
    everything = shopify.emulator.orders()
    middle = seconds_of(everything[10]["updated_at"])
    end = seconds_of(everything[19]["updated_at"])  # no upper bound: keyset paging

    found = [
        o.order_id
        for p in shopify_api(shopify.emulator.url).pages(Window(middle, end))
        for o in p.orders
    ]

    assert found == [str(o["id"]) for o in everything[10:]]


def test_shopify_calls_are_paced_by_the_call_limit_header_and_wait_out_a_429(
    start_shopify: shopify_support.Start,
) -> None:
    shopify = start_shopify(
        shopify_support.shop(orders=3), bucket_size=4, leak_rate=2.0, retry_after=0.5
    )
    shopify.emulator.fail_next("429", calls="orders")
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    api = shopify_api(shopify.emulator.url, sleep=sleep)
    for _ in range(6):
        assert api.count(EVER) == 3

    statuses = [entry["status"] for entry in shopify.emulator.requests_log()]
    assert statuses.count(429) == 1 and statuses[0] == 429  # the scripted one, no other
    assert waits[0] == pytest.approx(0.5)  # the 429's Retry-After
    assert len(statuses) == 7 and api.http.rate_limited == 1
    assert sum(waits) > 1.0  # and the bucket's pace after it


def test_a_refused_shopify_token_is_an_error_naming_the_store_but_not_the_token(
    start_shopify: shopify_support.Start,
) -> None:
    shopify = start_shopify()
    api = shopify_api(shopify.emulator.url, token="shpat_wrong_secret")

    with pytest.raises(ShopApiError) as caught:
        list(api.pages(EVER))

    assert caught.value.status == 401
    assert "Invalid API key or access token" in str(caught.value)
    assert shopify_support.DOMAIN in str(caught.value)
    assert "shpat_wrong_secret" not in str(caught.value)
    assert len(shopify.emulator.requests_log()) == 1  # a refusal is not retried


def test_a_5xx_is_retried_and_a_shop_that_keeps_failing_is_an_error(
    start_shopify: shopify_support.Start,
) -> None:
    shopify = start_shopify(shopify_support.shop(orders=2))
    shopify.emulator.fail_next("500", "503", calls="orders")
    api = shopify_api(shopify.emulator.url, sleep=lambda _s: None)
    assert api.count(EVER) == 2

    shopify.emulator.fail_next("500", "500", "502", "500", calls="orders")
    with pytest.raises(ShopApiError) as caught:
        api.count(EVER)
    assert caught.value.status == 500
    assert [e["status"] for e in shopify.emulator.requests_log()] == [
        500,
        503,
        200,
        500,
        500,
        502,
        500,
    ]


def test_no_answer_is_an_error_without_the_address_query() -> None:
    api = shopify_api(f"http://127.0.0.1:{free_port()}", sleep=lambda _s: None)
    with pytest.raises(ShopApiError) as caught:
        api.count(EVER)
    assert caught.value.status is None
    assert "ConnectionError" in str(caught.value) and "updated_at_min" not in str(caught.value)


def test_woocommerce_pages_give_every_order_of_the_window_once_oldest_change_first(
    start_woo: woocommerce_support.Start,
) -> None:
    woo = start_woo(woocommerce_support.site(orders=230))
    api = woo_api(woo.emulator.url)

    fetched = [order for page in api.pages(EVER) for order in page.orders]

    expected = woo.emulator.orders()
    assert sorted({o.order_id for o in fetched}) == sorted(str(o["id"]) for o in expected)
    first = {}
    for order in fetched:
        first.setdefault(order.order_id, json.loads(order.body))
    assert all(first[str(o["id"])] == o for o in expected)
    versions = [o.version for o in fetched]
    assert versions == sorted(versions)
    assert api.count(EVER) == 230
    queries = [e["query"] for e in woo.emulator.requests_log()]
    assert all(q["dates_are_gmt"] == "true" and q["orderby"] == "modified" for q in queries)
    assert {q["per_page"] for q in queries} == {"100", "1"}
    assert {q["modified_before"] for q in queries} == {woocommerce_support.gmt(EVER.before + 1)}


def test_an_order_changed_mid_scan_skips_no_other_order(
    start_woo: woocommerce_support.Start,
) -> None:
    woo = start_woo(woocommerce_support.site(orders=250))
    window = Window(after=0.0, before=time.time())  # fixed: the change falls after it
    pages = woo_api(woo.emulator.url).pages(window)
    seen = {o.order_id for o in next(pages).orders}
    woo.emulator.save_order({"id": int(sorted(seen)[0]), "customer_note": "changed mid-scan"})

    seen |= {o.order_id for page in pages for o in page.orders}

    assert seen == {str(o["id"]) for o in woo.emulator.orders()}


def test_a_refused_woocommerce_key_is_an_error_without_the_secret(
    start_woo: woocommerce_support.Start,
) -> None:
    woo = start_woo()
    with pytest.raises(ShopApiError) as caught:
        list(woo_api(woo.emulator.url, secret="cs_wrong_secret").pages(EVER))
    assert caught.value.status == 401
    assert "cs_wrong_secret" not in str(caught.value)
    assert "test-site.example" in str(caught.value)
