"""The Shopify emulator's webhook subscriptions and deliveries over real HTTP: CRUD as
the API answers it, deliveries signed as Shopify signs (checked with the relay's own
HMAC), the topics a change fires, retries and the removal of a failing subscription."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest

from emulators.shopify.delivery import RETRIES, RETRY_DELAYS, sign
from service.signatures import is_valid
from service.sources import parse_json
from service.sources.shopify import to_order
from tests.conftest import require_shared
from tests.integration.shopify_support import DOMAIN, NOTIFY_KEY, SECRET, Start, starting
from tests.integration.webhook_receiver import Receiver, receiving

FAST = 1e-5  # 4 h of retries in about 0.15 s


@pytest.fixture
def start() -> Iterator[Start]:
    yield from starting()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def test_subscriptions_are_created_listed_by_topic_and_address_updated_and_deleted(
    start: Start,
) -> None:
    shopify = start()
    made = shopify.subscribe("orders/create", "https://relay.example/a")
    shopify.subscribe("orders/updated", "https://relay.example/a")
    shopify.subscribe("orders/updated", "https://relay.example/b")

    by_topic = shopify.get("/webhooks.json", topic="orders/updated").json()["webhooks"]
    by_address = shopify.get("/webhooks.json", address="https://relay.example/a").json()
    moved = shopify.send(
        "PUT", f"/webhooks/{made['id']}.json", {"webhook": {"address": "https://relay.example/c"}}
    )
    deleted = shopify.send("DELETE", f"/webhooks/{made['id']}.json", None)

    assert made["format"] == "json" and made["api_version"] == "2026-07"
    assert [w["address"] for w in by_topic] == [
        "https://relay.example/a",
        "https://relay.example/b",
    ]
    assert len(by_address["webhooks"]) == 2
    assert moved.json()["webhook"]["address"] == "https://relay.example/c"
    assert (deleted.status_code, deleted.json()) == (200, {})
    assert shopify.get(f"/webhooks/{made['id']}.json").status_code == 404
    assert shopify.get("/webhooks/count.json").json() == {"count": 2}


@pytest.mark.parametrize(
    ("webhook", "field"),
    [
        ({"topic": "orders/create", "address": "https://relay.example/a"}, "address"),  # taken
        ({"topic": "orders/teleported", "address": "https://relay.example/z"}, "topic"),
        ({"topic": "orders/create"}, "address"),
        (
            {"topic": "orders/create", "address": "https://relay.example/x", "format": "xml"},
            "format",
        ),
    ],
)
def test_a_duplicate_or_invalid_subscription_answers_422_naming_the_field(
    start: Start, webhook: dict[str, str], field: str
) -> None:
    shopify = start()
    shopify.subscribe("orders/create", "https://relay.example/a")

    response = shopify.send("POST", "/webhooks.json", {"webhook": webhook})

    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]


def test_a_create_without_a_webhook_object_answers_400(start: Start) -> None:
    response = start().send("POST", "/webhooks.json", {"topic": "orders/create"})

    assert response.status_code == 400
    assert response.json() == {"errors": {"webhook": "Required parameter missing or invalid"}}


def test_a_new_order_is_delivered_signed_as_shopify_signs_it(
    start: Start, receiver: Receiver
) -> None:
    shopify = start()
    made_with = shopify.send(
        "POST",
        "/webhooks.json",
        {"webhook": {"topic": "orders/create", "address": receiver.url, "api_version": "2025-10"}},
    )
    shopify.subscribe("orders/updated", receiver.url)

    created = shopify.emulator.save_order()
    assert shopify.emulator.settle()

    [delivery] = receiver.received
    headers = delivery.headers
    assert made_with.status_code == 201 and created["deliveries"] == 1
    assert headers["x-shopify-topic"] == "orders/create"
    assert is_valid(delivery.body, headers["x-shopify-hmac-sha256"], [SECRET])
    assert headers["x-shopify-shop-domain"] == DOMAIN
    assert headers["x-shopify-api-version"] == "2025-10"
    uuid.UUID(headers["x-shopify-webhook-id"])
    uuid.UUID(headers["x-shopify-event-id"])
    datetime.fromisoformat(headers["x-shopify-triggered-at"])
    assert b"gid:\\/\\/shopify\\/Order\\/" in delivery.body  # escaped as Shopify's bodies are
    order = to_order(parse_json(delivery.body), DOMAIN)
    assert order.order_id == str(created["order"]["id"])


def test_paying_and_cancelling_fire_paid_and_cancelled_beside_updated(
    start: Start, receiver: Receiver
) -> None:
    shopify = start()
    for topic in ("orders/updated", "orders/paid", "orders/cancelled"):
        shopify.subscribe(topic, receiver.url)
    made = shopify.emulator.save_order()["order"]

    paid = shopify.emulator.save_order({"id": made["id"]}, action="pay")
    cancelled = shopify.emulator.save_order({"id": made["id"]}, action="cancel")
    assert shopify.emulator.settle()

    assert paid["topics"] == ["orders/updated", "orders/paid"]
    assert cancelled["topics"] == ["orders/updated", "orders/cancelled"]
    got = sorted(d.headers["x-shopify-topic"] for d in receiver.received)
    assert got == sorted(["orders/updated", "orders/paid", "orders/updated", "orders/cancelled"])
    assert len({d.headers["x-shopify-event-id"] for d in receiver.received}) == 4


def test_a_failing_delivery_is_retried_eight_times_then_its_subscription_is_removed(
    start: Start, receiver: Receiver
) -> None:
    shopify = start(retry_time_factor=FAST)
    made = shopify.subscribe("orders/create", receiver.url)
    receiver.answer_next(*[500] * (RETRIES + 1))

    shopify.emulator.save_order()
    assert shopify.emulator.settle()

    attempts = shopify.emulator.deliveries()
    assert [a["attempt"] for a in attempts] == list(range(RETRIES + 1))
    waits = [a["retry_in"] for a in attempts[:-1]]
    assert waits == pytest.approx([delay * FAST for delay in RETRY_DELAYS])
    assert sum(RETRY_DELAYS) == pytest.approx(4 * 3600)
    assert attempts[-1]["removed_subscription"] is True
    assert len({d.headers["x-shopify-webhook-id"] for d in receiver.received}) == 1
    assert len({d.body for d in receiver.received}) == 1  # the original payload each time
    assert shopify.get(f"/webhooks/{made['id']}.json").status_code == 404


def test_a_delivery_that_succeeds_on_a_retry_keeps_its_subscription(
    start: Start, receiver: Receiver
) -> None:
    shopify = start(retry_time_factor=FAST)
    shopify.subscribe("orders/create", receiver.url)
    receiver.answer_next(503, 301)  # a redirect is a failure too

    shopify.emulator.save_order()
    assert shopify.emulator.settle()

    assert [(a["status"], a["ok"]) for a in shopify.emulator.deliveries()] == [
        (503, False),
        (301, False),
        (200, True),
    ]
    assert len(shopify.get("/webhooks.json").json()["webhooks"]) == 1


def test_an_unreachable_address_fails_every_attempt_and_loses_its_subscription(
    start: Start,
) -> None:
    shopify = start(retry_time_factor=FAST, delivery_timeout=0.5)
    shopify.subscribe("orders/create", "http://127.0.0.1:9/hooks")  # the discard port

    shopify.emulator.save_order()
    assert shopify.emulator.settle(10)

    attempts = shopify.emulator.deliveries()
    assert len(attempts) == RETRIES + 1
    assert all(a["status"] is None and a["error"] for a in attempts)
    assert shopify.get("/webhooks.json").json() == {"webhooks": []}


def test_admin_made_subscriptions_are_unlisted_signed_with_the_notification_key_and_kept(
    start: Start, receiver: Receiver
) -> None:
    shopify = start(retry_time_factor=FAST)
    admin = shopify.emulator.add_subscription("orders/create", receiver.url, admin=True)
    receiver.answer_next(*[500] * (RETRIES + 1))

    shopify.emulator.save_order()
    assert shopify.emulator.settle()

    assert shopify.get("/webhooks.json").json() == {"webhooks": []}
    assert shopify.get(f"/webhooks/{admin['id']}.json").status_code == 404
    body, signature = (
        receiver.received[0].body,
        receiver.received[0].headers["x-shopify-hmac-sha256"],
    )
    assert is_valid(body, signature, [NOTIFY_KEY]) and not is_valid(body, signature, [SECRET])
    assert [s["id"] for s in shopify.emulator.subscriptions()] == [admin["id"]]
    assert shopify.emulator.deliveries()[-1]["removed_subscription"] is False


def test_a_subscription_with_fields_gets_only_those_keys(start: Start, receiver: Receiver) -> None:
    shopify = start()
    shopify.send(
        "POST",
        "/webhooks.json",
        {"webhook": {"topic": "orders/create", "address": receiver.url, "fields": ["id", "note"]}},
    )

    shopify.emulator.save_order({"note": "gift"})
    assert shopify.emulator.settle()

    [delivery] = receiver.received
    assert set(json.loads(delivery.body)) == {"id", "note"}
    assert is_valid(delivery.body, delivery.headers["x-shopify-hmac-sha256"], [SECRET])


def test_deliveries_are_listed_over_http_for_tests_in_other_processes(
    start: Start, receiver: Receiver
) -> None:
    shopify = start()
    shopify.subscribe("orders/create", receiver.url)
    shopify.emulator.save_order()
    settled = shopify.http.post(shopify.emulator.url + "/_emulator/settle", json={}, timeout=10)

    listed = shopify.http.get(
        shopify.emulator.url + "/_emulator/deliveries", params={"topic": "orders/create"}, timeout=5
    )

    assert settled.json() == {"idle": True}
    [attempt] = listed.json()["deliveries"]
    assert (attempt["status"], attempt["ok"], attempt["shop"]) == (200, True, DOMAIN)


def test_the_emulator_signs_shopifys_own_test_vector() -> None:
    vectors = json.loads(require_shared("fixtures", "hmac-test-vectors.json").read_text())
    vector = next(v for v in vectors if v["platform"] == "shopify" and "body" in v)

    assert sign(vector["secret"], vector["body"].encode()) == vector["expected"]
