"""The WooCommerce emulator's webhooks and deliveries over real HTTP: CRUD as the v3 API
answers it, deliveries signed as WooCommerce signs (checked with the relay's own HMAC),
the unsigned ping, no retries, and disabling after consecutive failures, which a
re-activation does not forgive."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from emulators.woocommerce.delivery import sign
from service.signatures import is_valid
from service.sources import parse_json
from service.sources.woocommerce import to_order
from tests.conftest import require_shared
from tests.integration.webhook_receiver import Receiver, receiving
from tests.integration.woocommerce_support import SITE, SITE_URL, Start, Woo, starting

ESCAPED_SECRET, SIGNING_KEY = "wc-test-secret&amp;two", "wc-test-secret&two"


@pytest.fixture
def start() -> Iterator[Start]:
    yield from starting()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def hooked(woo: Woo, receiver: Receiver, topic: str = "order.updated") -> int:
    """An order made before the webhook (so its own topics go nowhere), the webhook's
    ping answered; returns the order's id."""
    order_id: int = woo.emulator.save_order()["order"]["id"]
    woo.hook(topic, receiver.url)
    assert woo.emulator.settle()
    return order_id


def test_webhooks_are_created_listed_by_status_updated_and_deleted(start: Start) -> None:
    woo = start()
    made = woo.send(
        "POST",
        "/webhooks",
        {
            "name": "relay",
            "topic": "order.updated",
            "delivery_url": "https://relay.example/w",
            "secret": "s3",
        },
    )
    hook = made.json()
    paused = woo.send("PUT", f"/webhooks/{hook['id']}", {"status": "paused"})

    active = woo.get("/webhooks", status="active").json()
    listed = woo.get("/webhooks", status="paused")
    unforced = woo.send("DELETE", f"/webhooks/{hook['id']}")
    deleted = woo.send("DELETE", f"/webhooks/{hook['id']}", force="true")

    assert made.status_code == 201
    assert made.headers["Location"] == f"{SITE_URL}/wp-json/wc/v3/webhooks/{hook['id']}"
    assert (hook["status"], hook["secret"], hook["resource"], hook["event"]) == (
        "active",
        "s3",
        "order",
        "updated",
    )
    assert paused.json()["status"] == "paused" and active == []
    assert [w["id"] for w in listed.json()] == [hook["id"]] and "secret" not in listed.json()[0]
    assert listed.headers["X-WP-Total"] == "1"
    assert (unforced.status_code, unforced.json()["code"]) == (
        501,
        "woocommerce_rest_trash_not_supported",
    )
    assert deleted.status_code == 200
    assert woo.get(f"/webhooks/{hook['id']}").json()["message"] == "ID is invalid."


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"topic": "order.teleported", "delivery_url": "https://x.example"},
            "woocommerce_rest_shop_webhook_invalid_topic",
        ),
        (
            {"topic": "order.updated", "delivery_url": "ftp://x.example"},
            "woocommerce_rest_shop_webhook_invalid_delivery_url",
        ),
        (
            {"topic": "order.updated", "delivery_url": "https://x.example", "status": "asleep"},
            "woocommerce_rest_shop_webhook_invalid_status",
        ),
    ],
)
def test_create_checks_the_topic_url_and_status(
    start: Start, body: dict[str, str], code: str
) -> None:
    response = start().send("POST", "/webhooks", body)

    assert (response.status_code, response.json()["code"]) == (400, code)


def test_create_makes_an_active_webhook_whatever_status_it_is_given(start: Start) -> None:
    woo = start()

    made = woo.hook("order.updated", "https://relay.example/w", status="paused")

    assert made["status"] == "active"
    assert len(woo.hook("order.created", "https://relay.example/w", secret="")["secret"]) == 50


def test_creating_a_webhook_sends_an_unsigned_ping(start: Start, receiver: Receiver) -> None:
    woo = start()

    made = woo.hook("order.updated", receiver.url)
    assert woo.emulator.settle()

    [ping] = receiver.received
    assert ping.body == f"webhook_id={made['id']}".encode()
    assert not [name for name in ping.headers if name.startswith("x-wc-")]
    assert woo.emulator.deliveries(topic="ping")[0]["ok"] is True


def test_a_change_is_delivered_signed_as_woocommerce_signs_it(
    start: Start, receiver: Receiver
) -> None:
    woo = start()
    woo.hook("order.created", receiver.url, secret=ESCAPED_SECRET)
    woo.hook("order.updated", receiver.url, secret=ESCAPED_SECRET)
    assert woo.emulator.settle()

    made = woo.emulator.save_order()
    assert woo.emulator.settle()

    deliveries = [r for r in receiver.received if "x-wc-webhook-topic" in r.headers]
    assert sorted(r.headers["x-wc-webhook-topic"] for r in deliveries) == [
        "order.created",
        "order.updated",
    ]
    for delivery in deliveries:
        headers, body = delivery.headers, delivery.body
        assert is_valid(body, headers["x-wc-webhook-signature"], [SIGNING_KEY])
        assert not is_valid(body, headers["x-wc-webhook-signature"], [ESCAPED_SECRET])
        assert headers["x-wc-webhook-source"] == SITE_URL + "/"
        assert headers["x-wc-webhook-resource"] == "order"
        assert headers["x-wc-webhook-event"] == headers["x-wc-webhook-topic"].split(".")[1]
        assert re.fullmatch(r"[0-9a-f]{32}", headers["x-wc-webhook-delivery-id"])
        assert b"https:\\/\\/test-site.example" in body  # wp_json_encode escapes slashes
        assert to_order(parse_json(body), SITE).order_id == str(made["order"]["id"])
    assert {d.headers["x-wc-webhook-id"] for d in deliveries} == {"1", "2"}


def test_paused_and_disabled_webhooks_get_nothing(start: Start, receiver: Receiver) -> None:
    woo = start()
    order_id = hooked(woo, receiver)
    for status in ("paused", "disabled"):
        woo.send("PUT", "/webhooks/1", {"status": status})

        answer = woo.emulator.save_order({"id": order_id})

        assert answer["deliveries"] == 0
    assert len(receiver.received) == 1  # the ping


def test_woocommerce_never_retries_a_failed_delivery(start: Start, receiver: Receiver) -> None:
    woo = start()
    order_id = hooked(woo, receiver)
    receiver.answer_next(500)

    woo.emulator.save_order({"id": order_id})
    assert woo.emulator.settle()

    [attempt] = woo.emulator.deliveries(topic="order.updated")
    assert (attempt["status"], attempt["ok"], attempt["failure_count"]) == (500, False, 1)


@pytest.mark.parametrize("threshold", [5, 7])
def test_consecutive_failures_disable_the_webhook_at_the_threshold(
    start: Start, receiver: Receiver, threshold: int
) -> None:
    woo = start(failures_to_disable=threshold)
    order_id = hooked(woo, receiver)
    receiver.answer_next(*[503] * threshold)

    for _ in range(threshold - 1):
        woo.emulator.save_order({"id": order_id})
        assert woo.emulator.settle()
    still_active = woo.emulator.webhooks()[0]
    woo.emulator.save_order({"id": order_id})
    assert woo.emulator.settle()

    assert (still_active["status"], still_active["failure_count"]) == ("active", threshold - 1)
    assert woo.get("/webhooks/1").json()["status"] == "disabled"
    assert [w["id"] for w in woo.get("/webhooks", status="disabled").json()] == [1]
    assert woo.emulator.save_order({"id": order_id})["deliveries"] == 0


def test_a_reactivated_webhook_is_disabled_again_by_its_next_single_failure(
    start: Start, receiver: Receiver
) -> None:
    woo = start()
    order_id = hooked(woo, receiver)
    receiver.answer_next(*[500] * 6)
    for _ in range(5):
        woo.emulator.save_order({"id": order_id})
        assert woo.emulator.settle()

    reactivated = woo.send("PUT", "/webhooks/1", {"status": "active"})
    woo.emulator.save_order({"id": order_id})
    assert woo.emulator.settle()

    assert reactivated.json()["status"] == "active"
    assert woo.emulator.webhooks()[0]["status"] == "disabled"
    assert woo.emulator.deliveries()[-1]["webhook_status"] == "disabled"


def test_a_success_resets_the_failure_count(start: Start, receiver: Receiver) -> None:
    woo = start()
    order_id = hooked(woo, receiver)
    receiver.answer_next(500, 500, 302)  # 200-302 is success: the redirect is not followed

    for _ in range(3):
        woo.emulator.save_order({"id": order_id})
        assert woo.emulator.settle()

    counts = [d["failure_count"] for d in woo.emulator.deliveries(topic="order.updated")]
    assert counts == [1, 2, 0]
    assert woo.emulator.webhooks()[0]["status"] == "active"


def test_webhooks_over_http_show_what_the_api_hides(start: Start, receiver: Receiver) -> None:
    woo = start()
    order_id = hooked(woo, receiver)
    receiver.answer_next(500)
    woo.emulator.save_order({"id": order_id})
    assert woo.emulator.settle()

    listed = woo.http.get(woo.emulator.url + "/_emulator/webhooks", timeout=5).json()["webhooks"]
    api = woo.get("/webhooks").json()

    assert (listed[0]["failure_count"], listed[0]["secret"]) == (1, "hook-secret")
    assert "failure_count" not in api[0] and "secret" not in api[0]


def test_the_emulator_signs_woocommerces_own_test_vector() -> None:
    vectors = json.loads(require_shared("fixtures", "hmac-test-vectors.json").read_text())
    vector = next(v for v in vectors if v["platform"] == "woocommerce")

    assert sign(vector["secret"], vector["body"].encode()) == vector["expected"]
