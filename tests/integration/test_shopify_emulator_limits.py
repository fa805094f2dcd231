"""The Shopify emulator's leaky bucket, scripted faults and run-time config over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from tests.integration.shopify_support import OTHER, OTHER_TOKEN, Start, shop, starting

LIMIT = "X-Shopify-Shop-Api-Call-Limit"


@pytest.fixture
def start() -> Iterator[Start]:
    yield from starting()


def test_every_answer_carries_the_call_limit_and_a_full_bucket_answers_429(start: Start) -> None:
    shopify = start(bucket_size=3, leak_rate=0.001)

    answers = [shopify.get("/orders.json") for _ in range(4)]

    assert [a.headers[LIMIT] for a in answers] == ["1/3", "2/3", "3/3", "3/3"]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[3].headers["Retry-After"] == "2.0"
    assert "Exceeded 2 calls per second" in answers[3].json()["errors"]
    statuses = [entry["status"] for entry in shopify.emulator.requests_log()]
    assert statuses == [200, 200, 200, 429]


def test_the_bucket_drains_at_its_leak_rate(start: Start) -> None:
    shopify = start(bucket_size=2, leak_rate=5.0)
    assert [shopify.get("/orders.json").status_code for _ in range(3)] == [200, 200, 429]

    time.sleep(0.5)  # 5/s drains more than two requests

    again = shopify.get("/orders.json")
    assert again.status_code == 200
    assert again.headers[LIMIT] == "1/2"


def test_each_shop_has_a_bucket_of_its_own(start: Start) -> None:
    shopify = start(shop(), shop(OTHER, OTHER_TOKEN), bucket_size=2, leak_rate=0.001)
    for _ in range(3):
        shopify.get("/orders.json")

    other = shopify.get("/orders.json", OTHER_TOKEN)

    assert other.status_code == 200
    assert other.headers[LIMIT] == "1/2"


def test_scripted_faults_answer_the_next_calls_of_their_kind_then_pass(start: Start) -> None:
    shopify = start()
    shopify.emulator.fail_next("500", "503", calls="orders")

    webhooks = shopify.get("/webhooks.json")
    answers = [shopify.get("/orders.json").status_code for _ in range(3)]

    assert webhooks.status_code == 200
    assert answers == [500, 503, 200]


def test_faults_set_over_http_hit_only_their_shop(start: Start) -> None:
    shopify = start(shop(), shop(OTHER, OTHER_TOKEN))
    body = {"faults": ["429"], "shop": OTHER}
    assert shopify.http.post(shopify.emulator.url + "/_emulator/faults", json=body, timeout=5).ok

    mine, theirs = shopify.get("/orders.json"), shopify.get("/orders.json", OTHER_TOKEN)

    assert mine.status_code == 200
    assert theirs.status_code == 429
    assert theirs.headers["Retry-After"] == "2.0"


def test_a_drop_fault_closes_the_connection_unanswered(start: Start) -> None:
    shopify = start()
    shopify.emulator.fail_next("drop")

    with pytest.raises(requests.ConnectionError):
        shopify.get("/orders.json")
    assert shopify.get("/orders.json").status_code == 200


def test_config_changes_at_run_time_and_bad_values_change_nothing(start: Start) -> None:
    shopify = start()
    url = shopify.emulator.url + "/_emulator/config"

    bad = [
        shopify.http.post(url, json=change, timeout=5)
        for change in (
            {"bucket_size": 0},
            {"leak_rate": "fast"},
            {"shops": {"nowhere.myshopify.com": {"scopes": []}}},
            {"bucket_size": 5, "shops": {OTHER: {}}},  # all or nothing
            {"colour": "blue"},
        )
    ]
    good = shopify.http.post(url, json={"bucket_size": 1, "retry_after": 0.5}, timeout=5)

    assert [response.status_code for response in bad] == [400] * 5
    assert good.json()["bucket_size"] == 1
    shopify.get("/orders.json")
    refused = shopify.get("/orders.json")
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "0.5")
