"""POST /webhooks/woocommerce end to end through the Flask app, on SQLite and PostgreSQL.

Each test that takes `client` or `engine` runs once per store (the `store_url` fixture).
WooCommerce signs `trim(wp_json_encode($payload))` with the webhook secret; the
activation ping is an unsigned form body `webhook_id=N` that must get exactly 200.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import Engine
from werkzeug.test import TestResponse

import service.store.ingest
from service import samples, signatures
from service.app import create_app
from service.config import Config
from service.store.engine import make_engine
from service.store.ingest import canonical_properties
from service.store.tables import orders
from tests.conftest import SHOPIFY_SECRET, WOO_SECRET, require_shared
from tests.integration.ingest_support import (
    assert_problem,
    assert_rejected,
    dump_line_items,
    empty_counts,
    kept_rejected,
    only_rejected,
    row_counts,
    stored_properties,
)

PATH = "/webhooks/woocommerce"
SITE = "https://shop.example.com/"
STORE = "shop.example.com"


# --- helpers -----------------------------------------------------------------------


def woo_headers(
    body: bytes,
    *,
    secret: str = WOO_SECRET,
    topic: str = "order.updated",
    site: str = SITE,
    delivery_id: str | None = None,
) -> dict[str, str]:
    """The headers WooCommerce's WC_Webhook::deliver() sends with `body`."""
    resource, _, event = topic.partition(".")
    return {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/9.4.0 Hookshot (WordPress/6.7)",
        "X-WC-Webhook-Source": site,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": signatures.sign(secret, body),
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": delivery_id or uuid.uuid4().hex,
    }


def wp_json(payload: object) -> bytes:
    """Compact JSON like PHP's json_encode defaults: `/` as `\\/`, non-ASCII as \\uXXXX."""
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode("ascii")


def post_order(client: FlaskClient, payload: dict[str, Any], **options: Any) -> TestResponse:
    body = wp_json(payload)
    return client.post(PATH, data=body, headers=woo_headers(body, **options))


def sample_order(order_id: int = 1207, **options: Any) -> dict[str, Any]:
    return samples.woocommerce_order(order_id, **options)


def one_line_order(modified_gmt: str, quantity: int, line_id: int = 501) -> dict[str, Any]:
    payload = sample_order(modified_gmt=modified_gmt)
    payload["line_items"] = [
        {
            "id": line_id,
            "name": "Coffee Beans 1kg",
            "quantity": quantity,
            "subtotal": f"{21.90 * quantity:.2f}",
            "total": f"{21.90 * quantity:.2f}",
            "sku": "CB-1K",
            "price": 21.9,
        }
    ]
    return payload


# --- signatures ----------------------------------------------------------------------


def woo_vector() -> dict[str, Any]:
    path = require_shared("fixtures", "hmac-test-vectors.json")
    (vector,) = [v for v in json.loads(path.read_text()) if v["platform"] == "woocommerce"]
    return vector


def test_the_woocommerce_signature_vector_verifies_with_the_signature_module() -> None:
    vector = woo_vector()
    body = vector["body"].encode()

    assert signatures.sign(vector["secret"], body) == vector["expected"]
    assert signatures.is_valid(body, vector["expected"], [vector["secret"]])
    assert not signatures.is_valid(body, vector["expected"], [WOO_SECRET])
    assert not signatures.is_valid(body + b"\n", vector["expected"], [vector["secret"]])


def test_the_woocommerce_vector_passes_the_endpoint_signature_check(
    config: Config, engine: Engine
) -> None:
    vector = woo_vector()
    # The vector's secret is empty, which Config.from_env refuses; built directly here.
    app = create_app(config.replace(woocommerce_webhook_secrets=(vector["secret"],)), engine)
    headers = woo_headers(b"", topic="order.created") | {
        "X-WC-Webhook-Signature": vector["expected"]
    }

    response = app.test_client().post(PATH, data=vector["body"].encode(), headers=headers)

    # The body `secret` is no JSON: past the signature check it is kept as rejected, not
    # refused as unauthorised, and nothing else is stored.
    answer = assert_rejected(response, "invalid_json")
    assert list(answer["errors"]) == ["body"]
    assert row_counts(engine) == only_rejected()


def _flip_body(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    index = body.index(b"Espresso")
    return body[:index] + b"e" + body[index + 1 :], headers


def _flip_signature(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    signature = headers["X-WC-Webhook-Signature"]
    changed = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    return body, headers | {"X-WC-Webhook-Signature": changed}


def _drop_signature(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    return body, {k: v for k, v in headers.items() if k != "X-WC-Webhook-Signature"}


def _shopify_secret(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    return body, headers | {"X-WC-Webhook-Signature": signatures.sign(SHOPIFY_SECRET, body)}


@pytest.mark.parametrize(
    "tamper",
    [_flip_body, _flip_signature, _drop_signature, _shopify_secret],
    ids=["one-body-byte", "one-signature-byte", "no-signature", "other-source"],
)
def test_a_body_or_signature_that_does_not_match_is_refused_with_401_and_nothing_stored(
    client: FlaskClient, engine: Engine, tamper: Any
) -> None:
    body, headers = samples.woocommerce_request(sample_order(), WOO_SECRET)
    body, headers = tamper(body, headers)

    response = client.post(PATH, data=body, headers=headers)

    problem = assert_problem(response, 401)
    assert problem["type"].endswith("invalid-signature")
    assert row_counts(engine) == empty_counts()


def test_a_ping_shaped_body_with_a_wrong_signature_is_not_taken_for_a_ping(
    client: FlaskClient, engine: Engine
) -> None:
    headers = {"X-WC-Webhook-Signature": signatures.sign("guess", b"webhook_id=12")}

    response = client.post(PATH, data=b"webhook_id=12", headers=headers)

    assert_problem(response, 401)
    assert row_counts(engine) == empty_counts()


# --- raw bytes, not re-serialised JSON -----------------------------------------------

NAME = "Crème brûlée \u2013 Größe M"  # with an en dash


def _unicode_order() -> dict[str, Any]:
    payload = sample_order(1300)
    payload["line_items"] = [
        {"id": 77, "name": NAME, "quantity": 1, "subtotal": "7.50", "total": "7.50"},
        {"id": 78, "name": "Tea &amp; Coffee / <Cups>", "quantity": 2, "subtotal": "6.00"}
        | {"total": "6.00", "sku": "T/C"},
    ]
    return payload


@pytest.mark.parametrize("encoding", ["php-escaped", "raw-utf8"])
def test_a_body_that_reserialising_would_change_still_verifies_and_is_stored(
    client: FlaskClient, engine: Engine, encoding: str
) -> None:
    if encoding == "php-escaped":
        body = wp_json(_unicode_order()).replace(b"<", b"\\u003c").replace(b">", b"\\u003e")
        assert b"\\u2013" in body and b"T\\/C" in body
    else:
        body = json.dumps(_unicode_order(), ensure_ascii=False, indent=1).encode()
    assert json.dumps(json.loads(body), separators=(",", ":")).encode() != body

    response = client.post(PATH, data=body, headers=woo_headers(body))

    assert response.status_code == 202, response.get_data(as_text=True)
    stored = stored_properties(engine)
    assert stored[f"woocommerce:{STORE}:77"]["name"] == NAME
    assert stored[f"woocommerce:{STORE}:78"]["name"] == "Tea & Coffee / <Cups>"
    assert stored[f"woocommerce:{STORE}:78"]["hs_sku"] == "T/C"


# --- the activation ping -------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/x-www-form-urlencoded"},
        {},
        {"User-Agent": "WooCommerce/9.4.0 Hookshot (WordPress/6.7)"},
    ],
    ids=["form", "no-content-type", "hookshot"],
)
def test_the_unsigned_activation_ping_gets_200_and_stores_nothing(
    client: FlaskClient, engine: Engine, headers: dict[str, str]
) -> None:
    response = client.post(PATH, data=b"webhook_id=12", headers=headers)

    assert response.status_code == 200
    assert response.get_json() == {"status": "pong"}
    assert row_counts(engine) == empty_counts()


def test_the_ping_without_a_configured_secret_is_503(config: Config, engine: Engine) -> None:
    app = create_app(config.replace(woocommerce_webhook_secrets=()), engine)

    response = app.test_client().post(PATH, data=b"webhook_id=12")

    problem = assert_problem(response, 503)
    assert problem["type"].endswith("not-configured")
    assert row_counts(engine) == empty_counts()


# --- store, topics -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "store"),
    [
        ("https://shop.example.com/", "shop.example.com"),
        ("http://Shop.Example.com", "shop.example.com"),
        ("https://example.com:8443/de/", "example.com:8443/de"),
    ],
)
def test_the_store_comes_from_the_webhook_source_header(
    client: FlaskClient, engine: Engine, source: str, store: str
) -> None:
    response = post_order(client, sample_order(), site=source)

    assert response.status_code == 202, response.get_data(as_text=True)
    assert sorted(stored_properties(engine)) == [
        f"woocommerce:{store}:12071",
        f"woocommerce:{store}:12072",
    ]


def test_the_same_line_item_id_on_two_sites_stays_two_rows(
    client: FlaskClient, engine: Engine
) -> None:
    # WooCommerce ids restart on every site: order 727 line 315 exists on both.
    for site, quantity in (("https://a.example/", 1), ("https://b.example/", 4)):
        response = post_order(
            client, one_line_order("2026-11-27T14:15:00", quantity, 315), site=site
        )
        assert response.status_code == 202

    stored = stored_properties(engine)
    assert {key: props["quantity"] for key, props in stored.items()} == {
        "woocommerce:a.example:315": "1",
        "woocommerce:b.example:315": "4",
    }
    assert row_counts(engine)["orders"] == 2


def test_a_missing_webhook_source_header_is_kept_as_rejected_naming_it(
    client: FlaskClient, engine: Engine
) -> None:
    body = wp_json(sample_order())
    headers = woo_headers(body)
    del headers["X-WC-Webhook-Source"]

    response = client.post(PATH, data=body, headers=headers)

    # The header is not under the HMAC, but the body is signed: kept, not refused.
    answer = assert_rejected(response, "invalid_store")
    assert list(answer["errors"]) == ["X-WC-Webhook-Source"]
    assert row_counts(engine) == only_rejected()


@pytest.mark.parametrize("topic", ["order.created", "order.updated"])
def test_order_created_and_updated_are_stored(
    client: FlaskClient, engine: Engine, topic: str
) -> None:
    response = post_order(client, sample_order(), topic=topic)

    assert response.status_code == 202
    assert response.get_json() == {"status": "accepted", "line_items": 2}
    counts = row_counts(engine)
    assert (counts["receipts"], counts["orders"], counts["line_item"]) == (0, 1, 2)


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("order.deleted", {"id": 1207}),
        ("order.restored", None),
        ("product.updated", None),
        ("action.woocommerce_order_status_changed", {"action": "x", "arg": 1207}),
    ],
)
def test_other_topics_are_answered_ignored_and_nothing_is_stored(
    client: FlaskClient, engine: Engine, topic: str, payload: dict[str, Any] | None
) -> None:
    response = post_order(client, payload or sample_order(), topic=topic)

    assert response.status_code == 200
    assert response.get_json() == {"status": "ignored", "topic": topic}
    assert row_counts(engine) == empty_counts()


def test_either_configured_secret_verifies_during_rotation(config: Config, engine: Engine) -> None:
    app = create_app(config.replace(woocommerce_webhook_secrets=("next&;", WOO_SECRET)), engine)
    client = app.test_client()

    for order_id, secret in ((1, "next&;"), (2, WOO_SECRET)):
        assert post_order(client, sample_order(order_id), secret=secret).status_code == 202
    assert row_counts(engine)["orders"] == 2


# --- redelivery and versions ---------------------------------------------------------


def test_a_redelivered_body_answers_stale_and_leaves_the_store_unchanged(
    client: FlaskClient, engine: Engine
) -> None:
    body, headers = samples.woocommerce_request(sample_order(), WOO_SECRET)
    assert client.post(PATH, data=body, headers=headers).status_code == 202
    before, counts = dump_line_items(engine), row_counts(engine)

    again = client.post(PATH, data=body, headers=headers)

    assert again.status_code == 200
    assert again.get_json() == {"status": "stale", "line_items": 0}
    assert dump_line_items(engine) == before
    assert row_counts(engine) == counts


def test_two_orders_sent_in_the_same_second_share_a_delivery_id_and_both_are_stored(
    client: FlaskClient, engine: Engine
) -> None:
    # WooCommerce's delivery id is wp_hash(webhook id . current second): not an event id.
    same_second = "b1946ac92492d2347c6235b4d2611184"
    for order_id in (1207, 1208):
        response = post_order(client, sample_order(order_id), delivery_id=same_second)
        assert response.status_code == 202
    assert row_counts(engine)["orders"] == 2


def test_an_older_update_after_a_newer_one_answers_stale_and_keeps_the_newer(
    client: FlaskClient, engine: Engine
) -> None:
    assert post_order(client, one_line_order("2026-11-27T14:20:00", 5)).status_code == 202
    before = dump_line_items(engine)

    older = post_order(client, one_line_order("2026-11-27T14:19:59", 2))

    assert older.status_code == 200
    assert older.get_json() == {"status": "stale", "line_items": 0}
    assert dump_line_items(engine) == before
    assert stored_properties(engine)[f"woocommerce:{STORE}:501"]["quantity"] == "5"


def test_a_newer_update_with_identical_content_keeps_the_version_counter(
    client: FlaskClient, engine: Engine
) -> None:
    assert post_order(client, one_line_order("2026-11-27T14:20:00", 2)).status_code == 202
    (before,) = dump_line_items(engine)

    response = post_order(client, one_line_order("2026-11-27T15:00:00", 2))

    assert response.status_code == 202
    (after,) = dump_line_items(engine)
    assert after["version"] == before["version"] == 1
    assert after["properties"] == before["properties"]
    assert after["source_version"] > before["source_version"]


def test_a_line_removed_by_an_edit_goes_to_quantity_0_and_comes_back_if_re_added(
    client: FlaskClient, engine: Engine
) -> None:
    both = sample_order(modified_gmt="2026-11-27T14:15:00")
    assert post_order(client, both).status_code == 202
    cup, beans = f"woocommerce:{STORE}:12071", f"woocommerce:{STORE}:12072"
    before = {row["key"]: row for row in dump_line_items(engine)}

    # The shop's edit drops the beans: WooCommerce sends the order without that line.
    edited = sample_order(modified_gmt="2026-11-27T14:30:00")
    edited["line_items"] = edited["line_items"][:1]
    response = post_order(client, edited)

    assert response.get_json() == {"status": "accepted", "line_items": 1}
    after = {row["key"]: row for row in dump_line_items(engine)}
    properties = stored_properties(engine)
    assert properties[beans] == {**json.loads(before[beans]["properties"]), "quantity": "0"}
    assert (after[beans]["version"], after[beans]["state"]) == (2, "pending")
    # Still canonical JSON, so a later identical version compares equal and is not resent.
    assert after[beans]["properties"] == canonical_properties(properties[beans])
    assert after[cup]["version"] == 1  # unchanged: not sent again
    assert properties[cup]["quantity"] == "2"

    # An older delivery that still has the beans changes nothing.
    stale = post_order(client, sample_order(modified_gmt="2026-11-27T14:20:00"))
    assert stale.get_json() == {"status": "stale", "line_items": 0}
    assert stored_properties(engine)[beans]["quantity"] == "0"

    # Re-added by a later edit, the line is worth its quantity again.
    assert post_order(client, sample_order(modified_gmt="2026-11-27T15:00:00")).status_code == 202
    assert stored_properties(engine)[beans]["quantity"] == "1"
    assert {row["key"]: row["version"] for row in dump_line_items(engine)}[beans] == 3

    # An edit that leaves no line at all takes every line to 0.
    emptied = sample_order(modified_gmt="2026-11-27T16:00:00")
    emptied["line_items"] = []
    assert post_order(client, emptied).get_json() == {"status": "accepted", "line_items": 0}
    assert {key: p["quantity"] for key, p in stored_properties(engine).items()} == {
        cup: "0",
        beans: "0",
    }


# --- invalid requests ----------------------------------------------------------------


@pytest.mark.parametrize("body", [b'{"id": 1207, "line_items": [', b"\xc3\x28", b"[1, 2"])
def test_a_signed_body_that_is_not_json_is_kept_as_rejected_naming_the_body(
    client: FlaskClient, engine: Engine, body: bytes
) -> None:
    response = client.post(PATH, data=body, headers=woo_headers(body))

    answer = assert_rejected(response, "invalid_json")
    assert list(answer["errors"]) == ["body"]
    assert row_counts(engine) == only_rejected()
    assert [row["body"] for row in kept_rejected(engine)] == [body]  # the bytes, as sent


@pytest.mark.parametrize(("field", "value"), [("quantity", "abc"), ("subtotal", True)])
def test_a_wrongly_typed_line_item_field_is_kept_as_rejected_naming_its_path(
    client: FlaskClient, engine: Engine, field: str, value: object
) -> None:
    payload = sample_order()
    payload["line_items"][1][field] = value

    response = post_order(client, payload)

    answer = assert_rejected(response, "invalid_order")
    assert answer["errors"]["line_items"]["1"][field]
    assert list(answer["errors"]["line_items"]) == ["1"]
    assert row_counts(engine) == only_rejected()


def test_a_missing_currency_is_kept_as_rejected_naming_currency(
    client: FlaskClient, engine: Engine
) -> None:
    payload = sample_order()
    del payload["currency"]

    response = post_order(client, payload)

    answer = assert_rejected(response, "invalid_order")
    assert list(answer["errors"]) == ["currency"]
    assert row_counts(engine) == only_rejected()


def test_a_rest_error_object_as_payload_is_kept_as_rejected(
    client: FlaskClient, engine: Engine
) -> None:
    # What WooCommerce sends when the webhook's user may not read orders (woocommerce#26682).
    payload = {
        "code": "woocommerce_rest_cannot_view",
        "message": "Sorry, you cannot view this resource.",
        "data": {"status": 401},
    }

    response = post_order(client, payload, topic="order.created")

    answer = assert_rejected(response, "invalid_order")
    assert {"id", "currency", "line_items"} <= answer["errors"].keys()
    assert row_counts(engine) == only_rejected()


def test_a_body_over_the_size_limit_is_413(client: FlaskClient, engine: Engine) -> None:
    payload = sample_order()
    payload["customer_note"] = "x" * (2 * 1024 * 1024)
    body = wp_json(payload)

    response = client.post(PATH, data=body, headers=woo_headers(body))

    assert_problem(response, 413)
    assert row_counts(engine) == empty_counts()


# --- the mapping reaches the store ---------------------------------------------------


def test_a_sample_order_is_stored_with_the_mapped_properties_pending_at_version_1(
    client: FlaskClient, engine: Engine
) -> None:
    response = post_order(client, sample_order(1207, modified_gmt="2026-11-27T14:15:00"))

    assert response.status_code == 202
    rows = dump_line_items(engine)
    assert {row["key"]: json.loads(row["properties"]) for row in rows} == {
        f"woocommerce:{STORE}:12071": {
            "name": "Espresso Cup \u2013 Set of 2",
            "quantity": "2",
            "price": "15.00",  # subtotal 30.00 / 2
            "discount": "1.50",  # (30.00 - 27.00) / 2
            "hs_sku": "EC-2",
            "hs_line_item_currency_code": "EUR",
        },
        f"woocommerce:{STORE}:12072": {
            "name": "Coffee Beans 1kg",
            "quantity": "1",
            "price": "21.90",
            "discount": "0.00",
            "hs_line_item_currency_code": "EUR",
        },
    }
    for row in rows:
        assert (row["state"], row["version"], row["delivered_version"]) == ("pending", 1, 0)
        assert row["source_version"] == 1_795_788_900_000_000  # 2026-11-27T14:15:00Z
        assert (row["source"], row["store"], row["order_id"]) == ("woocommerce", STORE, "1207")


def test_the_rest_api_docs_order_is_stored_with_the_mapped_properties(
    client: FlaskClient, engine: Engine
) -> None:
    path: Path = require_shared(
        "fixtures", "woocommerce", "order.rest-api-docs.v3.retrieve-example.json"
    )
    body = path.read_bytes()  # pretty-printed as in the docs; signed as is

    response = client.post(PATH, data=body, headers=woo_headers(body, topic="order.created"))

    assert response.status_code == 202, response.get_data(as_text=True)
    assert stored_properties(engine) == {
        f"woocommerce:{STORE}:315": {
            "name": "Woo Single #1",
            "quantity": "2",
            "price": "3.00",
            "discount": "0.00",
            "hs_line_item_currency_code": "USD",
        },
        f"woocommerce:{STORE}:316": {
            "name": "Ship Your Idea \u2013 Color: Black, Size: M Test",
            "quantity": "1",
            "price": "12.00",
            "discount": "0.00",
            "hs_sku": "Bar3",
            "hs_line_item_currency_code": "USD",
        },
    }


# --- fail closed without a secret ----------------------------------------------------


@pytest.mark.parametrize("kind", ["signed", "unsigned", "ignored-topic", "ping"])
def test_without_a_secret_every_request_is_refused_with_503(
    config: Config, engine: Engine, kind: str
) -> None:
    app = create_app(config.replace(woocommerce_webhook_secrets=()), engine)
    body = wp_json(sample_order())
    headers = woo_headers(
        body, topic="product.updated" if kind == "ignored-topic" else "order.created"
    )
    if kind == "unsigned":
        del headers["X-WC-Webhook-Signature"]
    if kind == "ping":
        body, headers = b"webhook_id=12", {}

    response = app.test_client().post(PATH, data=body, headers=headers)

    problem = assert_problem(response, 503)
    assert problem["type"].endswith("not-configured")
    assert row_counts(engine) == empty_counts()


def test_readyz_lists_every_source_without_a_secret(config: Config, engine: Engine) -> None:
    app = create_app(config.replace(woocommerce_webhook_secrets=()), engine)
    assert app.test_client().get("/readyz").get_json()["sources_without_secret"] == ["woocommerce"]

    bare = create_app(
        config.replace(woocommerce_webhook_secrets=(), shopify_webhook_secrets=()), engine
    )
    assert bare.test_client().get("/readyz").get_json()["sources_without_secret"] == [
        "shopify",
        "woocommerce",
    ]


# --- the store down ------------------------------------------------------------------


@pytest.fixture(params=["postgres-refused", "sqlite-unopenable"])
def unreachable_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgres-refused":
        url = "postgresql+psycopg://postgres@127.0.0.1:1/x"  # nothing listens on port 1
    else:
        url = f"sqlite:///{tmp_path}"  # a folder: SQLite cannot open it as a database
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_an_unreachable_store_answers_503_with_retry_after(
    config: Config, unreachable_engine: Engine
) -> None:
    app = create_app(config, unreachable_engine)
    body, headers = samples.woocommerce_request(sample_order(), WOO_SECRET)

    response = app.test_client().post(PATH, data=body, headers=headers)

    problem = assert_problem(response, 503)
    assert problem["type"].endswith("store-unavailable")
    assert int(response.headers["Retry-After"]) > 0


def test_a_failure_inside_the_transaction_answers_503_and_keeps_no_receipt_or_order(
    client: FlaskClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise sa.exc.OperationalError("INSERT INTO line_items", {}, Exception("disk I/O error"))

    monkeypatch.setattr(service.store.ingest, "_upsert_records", explode)
    body, headers = samples.woocommerce_request(sample_order(), WOO_SECRET)

    response = client.post(PATH, data=body, headers=headers)

    assert_problem(response, 503)
    assert "Retry-After" in response.headers
    assert row_counts(engine) == empty_counts()
    with engine.connect() as conn:
        assert conn.execute(sa.select(orders)).first() is None


def test_a_secret_configured_in_its_html_escaped_form_still_verifies(
    config: Config, engine: Engine
) -> None:
    # WooCommerce keys the HMAC with wp_specialchars_decode(secret); an operator may have
    # copied the stored form "wc-test-secret&amp;two" instead of "wc-test-secret&two".
    escaped = create_app(config.replace(woocommerce_webhook_secrets=("s&amp;t;x",)), engine)
    body = wp_json(sample_order())
    response = escaped.test_client().post(
        PATH, data=body, headers=woo_headers(body, secret="s&t;x")
    )
    assert response.status_code == 202
