"""POST /webhooks/shopify end to end through the Flask app, on SQLite and PostgreSQL.

Each test that takes `client` or `engine` runs once per store (the `store_url` fixture).
The signature is checked over the raw bytes before anything is parsed; nothing is
stored for a refused request; the store is a keyed state table with a version rule.
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
from service.logs import JsonFormatter
from service.store.engine import make_engine
from service.store.tables import orders, records
from tests.conftest import SHOPIFY_SECRET, require_shared
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

PATH = "/webhooks/shopify"
SHOP = "acme.myshopify.com"
OLD_SECRET = "old-rotated-secret"  # the first secret of the `config` fixture
ORDER_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "orders/edited",
)


# --- helpers -----------------------------------------------------------------------


def shopify_headers(
    body: bytes,
    *,
    secret: str = SHOPIFY_SECRET,
    topic: str = "orders/updated",
    shop: str = SHOP,
    webhook_id: str | None = None,
) -> dict[str, str]:
    """The headers Shopify sends with `body` (X-Shopify-* family)."""
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signatures.sign(secret, body),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-07",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
    }


def post_order(client: FlaskClient, payload: dict[str, Any], **options: Any) -> TestResponse:
    body = json.dumps(payload).encode()
    return client.post(PATH, data=body, headers=shopify_headers(body, **options))


def sample_order(order_id: int = 5_840_000_000_001, **options: Any) -> dict[str, Any]:
    return samples.shopify_order(order_id, **options)


# --- signatures ----------------------------------------------------------------------


def load_vectors(platform: str) -> list[dict[str, Any]]:
    path = require_shared("fixtures", "hmac-test-vectors.json")
    vectors = json.loads(path.read_text(encoding="utf-8"))
    return [vector for vector in vectors if vector["platform"] == platform]


def vector_body(vector: dict[str, Any]) -> bytes:
    if "body_file" in vector:
        return require_shared("fixtures", vector["body_file"]).read_bytes()
    return str(vector["body"]).encode("utf-8")


def test_the_shopify_signature_vectors_verify_with_the_signature_module() -> None:
    vectors = load_vectors("shopify")
    assert len(vectors) == 2  # the published one and the one derived over the saved sample
    for vector in vectors:
        body = vector_body(vector)
        assert signatures.sign(vector["secret"], body) == vector["expected"]
        assert signatures.is_valid(body, vector["expected"], [vector["secret"]])
        assert not signatures.is_valid(body, vector["expected"], ["another-secret"])
        assert not signatures.is_valid(body + b" ", vector["expected"], [vector["secret"]])


def test_the_published_shopify_vector_passes_the_endpoint_signature_check(
    config: Config, engine: Engine
) -> None:
    (vector,) = [v for v in load_vectors("shopify") if not v.get("derived")]
    app = create_app(config.replace(shopify_webhook_secrets=(vector["secret"],)), engine)
    headers = shopify_headers(b"", topic="orders/create") | {
        "X-Shopify-Hmac-Sha256": vector["expected"]
    }

    response = app.test_client().post(PATH, data=vector_body(vector), headers=headers)

    # {"foo": "bar"} is no order: past the signature check it is kept as rejected, not
    # refused as unauthorised, and nothing else is stored.
    body = assert_rejected(response, "invalid_order")
    assert "line_items" in body["errors"]
    assert row_counts(engine) == only_rejected()


def test_the_saved_shopify_sample_signed_by_the_derived_vector_is_stored(
    config: Config, engine: Engine
) -> None:
    (vector,) = [v for v in load_vectors("shopify") if v.get("derived")]
    app = create_app(config.replace(shopify_webhook_secrets=(vector["secret"],)), engine)
    headers = shopify_headers(b"", topic="orders/create") | {
        "X-Shopify-Hmac-Sha256": vector["expected"]
    }

    response = app.test_client().post(PATH, data=vector_body(vector), headers=headers)

    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.get_json() == {"status": "accepted", "line_items": 2}
    # The ids exceed 2**53: they must be kept exact, not rounded through a float.
    assert stored_properties(engine) == {
        f"shopify:{SHOP}:866550311766439020": {
            "name": "The Videographer Snowboard",
            "quantity": "1",
            "price": "885.95",
            "discount": "0.00",
            "hs_line_item_currency_code": "USD",
        },
        f"shopify:{SHOP}:141249953214522974": {
            "name": "The Complete Snowboard",
            "quantity": "1",
            "price": "699.95",
            "discount": "0.00",
            "hs_line_item_currency_code": "USD",
        },
    }


def _flip_body(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    index = body.index(b"Merino")
    return body[:index] + b"N" + body[index + 1 :], headers


def _flip_signature(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    signature = headers["X-Shopify-Hmac-Sha256"]
    changed = ("B" if signature[0] == "A" else "A") + signature[1:]
    return body, headers | {"X-Shopify-Hmac-Sha256": changed}


def _drop_signature(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    return body, {k: v for k, v in headers.items() if k != "X-Shopify-Hmac-Sha256"}


def _unknown_secret(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    return body, headers | {"X-Shopify-Hmac-Sha256": signatures.sign("not-configured", body)}


@pytest.mark.parametrize(
    "tamper",
    [_flip_body, _flip_signature, _drop_signature, _unknown_secret],
    ids=["one-body-byte", "one-signature-byte", "no-signature", "unknown-secret"],
)
def test_a_body_or_signature_that_does_not_match_is_refused_with_401_and_nothing_stored(
    client: FlaskClient, engine: Engine, tamper: Any
) -> None:
    body, headers = samples.shopify_request(sample_order(), SHOPIFY_SECRET, shop=SHOP)
    body, headers = tamper(body, headers)

    response = client.post(PATH, data=body, headers=headers)

    problem = assert_problem(response, 401)
    assert problem["type"].endswith("invalid-signature")
    assert row_counts(engine) == empty_counts()


# --- raw bytes, not re-serialised JSON -----------------------------------------------

NAME = "Crème brûlée \u2013 Größe M"  # with an en dash
ESCAPED_BODY = (
    '{"id":5840000000777,"currency":"EUR","updated_at":"2026-11-27T09:15:00+01:00",'
    '"note":"see https:\\/\\/acme.example\\/a?b=1\\u0026c=\\u003ctag\\u003e",'
    '"line_items":[{"id":77,"name":"Cr\\u00e8me br\\u00fbl\\u00e9e \\u2013 Gr\\u00f6\\u00dfe M",'
    '"sku":"CB\\/M","quantity":1,"price":"7.50","discount_allocations":[]},'
    '{"id":78,"name":"Tea \\/ Coffee \\u0026 \\u003cCups\\u003e","sku":null,"quantity":2,'
    '"price":"3.00","discount_allocations":[]}]}'
).encode("ascii")
RAW_UTF8_BODY = (
    '{"id": 5840000000777, "currency": "EUR", "updated_at": "2026-11-27T09:15:00+01:00",\n'
    '  "line_items": [{"id": 77, "name": "' + NAME + '", "sku": "CB/M",'
    ' "quantity": 1, "price": "7.50"},\n  {"id": 78, "name": "Tea / Coffee & <Cups>",'
    ' "sku": null, "quantity": 2, "price": "3.00"}]}'
).encode()


@pytest.mark.parametrize("body", [ESCAPED_BODY, RAW_UTF8_BODY], ids=["escaped", "raw-utf8"])
def test_a_body_that_reserialising_would_change_still_verifies_and_is_stored(
    client: FlaskClient, engine: Engine, body: bytes
) -> None:
    # The premise: parsing and dumping again would give other bytes, so another signature.
    reserialised = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert reserialised != body
    assert json.dumps(json.loads(body)).encode() != body

    response = client.post(PATH, data=body, headers=shopify_headers(body))

    assert response.status_code == 202, response.get_data(as_text=True)
    stored = stored_properties(engine)
    assert stored[f"shopify:{SHOP}:77"]["name"] == NAME
    assert stored[f"shopify:{SHOP}:77"]["hs_sku"] == "CB/M"
    assert stored[f"shopify:{SHOP}:78"]["name"] == "Tea / Coffee & <Cups>"


# --- headers, secrets and topics -----------------------------------------------------


def unprefixed(headers: dict[str, str]) -> dict[str, str]:
    """The same headers in the newer family: lower case, `shopify-*` without `X-`."""
    return {
        (name[2:].lower() if name.startswith("X-Shopify-") else name): value
        for name, value in headers.items()
    }


@pytest.mark.parametrize("family", ["X-Shopify-*", "shopify-*"])
def test_both_shopify_header_families_are_accepted_and_deduplicated(
    client: FlaskClient, engine: Engine, family: str
) -> None:
    body, headers = samples.shopify_request(sample_order(), SHOPIFY_SECRET, shop=SHOP)
    if family == "shopify-*":
        headers = unprefixed(headers)
        assert "shopify-hmac-sha256" in headers and "shopify-webhook-id" in headers
        assert not any(name.startswith("X-") for name in headers)

    first = client.post(PATH, data=body, headers=headers)
    assert first.status_code == 202, first.get_data(as_text=True)
    assert first.get_json() == {"status": "accepted", "line_items": 3}
    stored = dump_line_items(engine)
    assert [row["key"] for row in stored] == [
        f"shopify:{SHOP}:58400000000011",
        f"shopify:{SHOP}:58400000000012",
        f"shopify:{SHOP}:58400000000013",
    ]

    again = client.post(PATH, data=body, headers=headers)
    assert again.status_code == 200
    assert again.get_json()["status"] == "duplicate"
    assert dump_line_items(engine) == stored


@pytest.mark.parametrize("secret", [OLD_SECRET, SHOPIFY_SECRET], ids=["old", "new"])
def test_either_configured_secret_verifies_during_rotation(
    client: FlaskClient, engine: Engine, secret: str
) -> None:
    response = post_order(client, sample_order(), secret=secret)

    assert response.status_code == 202, response.get_data(as_text=True)
    assert row_counts(engine)["line_item"] == 3


@pytest.mark.parametrize("topic", ORDER_TOPICS)
def test_order_topics_are_stored(client: FlaskClient, engine: Engine, topic: str) -> None:
    response = post_order(client, sample_order(), topic=topic)

    assert response.status_code == 202, response.get_data(as_text=True)
    counts = row_counts(engine)
    assert (counts["orders"], counts["line_item"]) == (1, 3)
    # The whole order: its order record, and each line attached to it.
    assert (counts["order"], counts["line_item>order"]) == (1, 3)


@pytest.mark.parametrize("topic", ["products/update", "refunds/create", "app/uninstalled"])
def test_other_topics_are_answered_ignored_and_nothing_is_stored(
    client: FlaskClient, engine: Engine, topic: str
) -> None:
    # Even an order-shaped body is not stored under another topic.
    response = post_order(client, sample_order(), topic=topic)

    assert response.status_code == 200
    assert response.get_json() == {"status": "ignored", "topic": topic}
    assert row_counts(engine) == empty_counts()


# --- redelivery and versions ---------------------------------------------------------


def test_a_redelivered_webhook_id_answers_duplicate_and_leaves_the_store_unchanged(
    client: FlaskClient, engine: Engine
) -> None:
    webhook_id = str(uuid.uuid4())
    assert post_order(client, sample_order(), webhook_id=webhook_id).status_code == 202
    before = dump_line_items(engine)
    counts = row_counts(engine)

    same = post_order(client, sample_order(), webhook_id=webhook_id)
    # A redelivery with the same id is the same event, whatever the body now says.
    changed = sample_order(updated_at="2026-11-28T10:00:00-05:00", currency="EUR")
    other_body = post_order(client, changed, webhook_id=webhook_id)

    for response in (same, other_body):
        assert response.status_code == 200
        assert response.get_json() == {"status": "duplicate", "line_items": 0}
    assert dump_line_items(engine) == before
    assert row_counts(engine) == counts


def _order_with_quantity(updated_at: str, quantity: str) -> dict[str, Any]:
    line = samples.shopify_line_item(901, "Merino Beanie - Charcoal", quantity, "24.50")
    return sample_order(updated_at=updated_at, line_items=[line])


@pytest.mark.parametrize(
    "late_updated_at",
    ["2026-11-27T08:59:59.999999-05:00", "2026-11-27T10:00:00-04:00"],
    ids=["one-microsecond-older", "same-instant-other-offset"],
)
def test_an_update_not_newer_than_the_stored_one_answers_stale_and_keeps_the_newer(
    client: FlaskClient, engine: Engine, late_updated_at: str
) -> None:
    newer = post_order(client, _order_with_quantity("2026-11-27T09:00:00-05:00", "5"))
    assert newer.status_code == 202
    before = dump_line_items(engine)

    older = post_order(client, _order_with_quantity(late_updated_at, "2"))

    assert older.status_code == 200
    assert older.get_json() == {"status": "stale", "line_items": 0}
    assert dump_line_items(engine) == before
    assert stored_properties(engine)[f"shopify:{SHOP}:901"]["quantity"] == "5"


def _mark_delivered(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(records).values(
                state="delivered", delivered_version=records.c.version, hubspot_id="1"
            )
        )


def test_a_newer_update_with_identical_content_keeps_the_version_and_the_state(
    client: FlaskClient, engine: Engine
) -> None:
    assert post_order(client, sample_order()).status_code == 202
    _mark_delivered(engine)
    before = {row["key"]: row for row in dump_line_items(engine)}

    response = post_order(client, sample_order(updated_at="2026-11-28T09:15:00-05:00"))

    assert response.status_code == 202
    after = {row["key"]: row for row in dump_line_items(engine)}
    assert after.keys() == before.keys()
    for key, row in after.items():
        assert row["version"] == before[key]["version"] == 1
        assert row["state"] == "delivered"  # nothing to resend
        assert row["properties"] == before[key]["properties"]
        assert row["source_version"] > before[key]["source_version"]


def test_a_newer_update_with_changed_content_bumps_the_version_and_is_pending_again(
    client: FlaskClient, engine: Engine
) -> None:
    first = post_order(client, _order_with_quantity("2026-11-27T09:00:00-05:00", "2"))
    assert first.status_code == 202
    _mark_delivered(engine)

    response = post_order(client, _order_with_quantity("2026-11-27T09:05:00-05:00", "3"))

    assert response.status_code == 202
    (row,) = dump_line_items(engine)
    assert (row["version"], row["delivered_version"], row["state"]) == (2, 1, "pending")
    assert json.loads(row["properties"])["quantity"] == "3"


# --- invalid requests ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [b'{"id": 1, "line_items": [', b"\xff\xfe{}", b'{"price": NaN}', b""]
)
def test_a_signed_body_that_is_not_json_is_kept_as_rejected_naming_the_body(
    client: FlaskClient, engine: Engine, body: bytes
) -> None:
    response = client.post(PATH, data=body, headers=shopify_headers(body))

    answer = assert_rejected(response, "invalid_json")
    assert list(answer["errors"]) == ["body"]
    assert row_counts(engine) == only_rejected()
    assert [row["body"] for row in kept_rejected(engine)] == [body]  # the bytes, as sent


@pytest.mark.parametrize(("field", "value"), [("quantity", "abc"), ("price", True)])
def test_a_wrongly_typed_line_item_field_is_kept_as_rejected_naming_its_path(
    client: FlaskClient, engine: Engine, field: str, value: object
) -> None:
    payload = sample_order()
    payload["line_items"][0][field] = value

    response = post_order(client, payload)

    answer = assert_rejected(response, "invalid_order")
    assert answer["errors"]["line_items"]["0"][field]
    assert list(answer["errors"]["line_items"]) == ["0"]
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


@pytest.mark.parametrize("shop", [None, "", "not a shop/../x"], ids=["absent", "empty", "bad"])
def test_a_missing_or_invalid_shop_domain_header_is_kept_as_rejected_naming_the_header(
    client: FlaskClient, engine: Engine, shop: str | None
) -> None:
    body = json.dumps(sample_order()).encode()
    headers = shopify_headers(body)
    if shop is None:
        del headers["X-Shopify-Shop-Domain"]
    else:
        headers["X-Shopify-Shop-Domain"] = shop

    response = client.post(PATH, data=body, headers=headers)

    # The header is not under the HMAC, but the body is signed: kept, not refused.
    answer = assert_rejected(response, "invalid_store")
    assert list(answer["errors"]) == ["X-Shopify-Shop-Domain"]
    assert row_counts(engine) == only_rejected()
    assert [row["store"] for row in kept_rejected(engine)] == [None]


def test_a_body_over_the_size_limit_is_413(client: FlaskClient, engine: Engine) -> None:
    payload = sample_order()
    payload["note"] = "x" * (2 * 1024 * 1024)
    body = json.dumps(payload).encode()

    response = client.post(PATH, data=body, headers=shopify_headers(body))

    assert_problem(response, 413)
    assert row_counts(engine) == empty_counts()


def test_an_order_id_longer_than_the_store_keeps_is_kept_as_rejected_naming_the_id(
    client: FlaskClient, engine: Engine
) -> None:
    payload = sample_order()
    payload["id"] = "A" * 100

    response = post_order(client, payload)

    answer = assert_rejected(response, "invalid_order")
    assert "id" in answer["errors"]
    assert row_counts(engine) == only_rejected()


# --- the mapping reaches the store ---------------------------------------------------


def test_a_sample_order_is_stored_with_the_mapped_properties_pending_at_version_1(
    client: FlaskClient, engine: Engine
) -> None:
    lines = [
        samples.shopify_line_item(11, "Merino Beanie - Charcoal", "2", "24.50", sku="MB-CH"),
        samples.shopify_line_item(12, "Trail Socks - L", "3", "12.00", sku="TS-L", discount="5.00"),
        samples.shopify_line_item(13, "Gift wrap", "1", "4.00", sku=None),
    ]
    payload = sample_order(1001, updated_at="2026-11-27T09:15:00-05:00", line_items=lines)

    response = post_order(client, payload)

    assert response.status_code == 202
    assert response.get_json() == {"status": "accepted", "line_items": 3}
    rows = dump_line_items(engine)
    assert [json.loads(row["properties"]) for row in rows] == [
        {
            "name": "Merino Beanie - Charcoal",
            "quantity": "2",
            "price": "24.50",
            "discount": "0.00",
            "hs_sku": "MB-CH",
            "hs_line_item_currency_code": "USD",
        },
        {
            "name": "Trail Socks - L",
            "quantity": "3",
            "price": "12.00",
            "discount": "1.67",  # 5.00 / 3, half-even to cents
            "hs_sku": "TS-L",
            "hs_line_item_currency_code": "USD",
        },
        {
            "name": "Gift wrap",
            "quantity": "1",
            "price": "4.00",
            "discount": "0.00",
            "hs_line_item_currency_code": "USD",
        },
    ]
    version = 1_795_788_900_000_000  # 2026-11-27T14:15:00Z in microseconds
    for position, row in enumerate(rows):
        assert row["key"] == f"shopify:{SHOP}:{11 + position}"
        assert (row["source"], row["store"], row["order_id"]) == ("shopify", SHOP, "1001")
        assert row["position"] == position
        assert (row["state"], row["version"], row["delivered_version"]) == ("pending", 1, 0)
        assert row["source_version"] == version
        assert row["hubspot_id"] is None and row["attempts"] == 0
    with engine.connect() as conn:
        (order,) = conn.execute(sa.select(orders)).mappings()
    assert (order["store"], order["order_id"], order["currency"]) == (SHOP, "1001", "USD")
    assert order["source_version"] == version


# --- fail closed without a secret ----------------------------------------------------


@pytest.mark.parametrize("kind", ["signed", "unsigned", "ignored-topic"])
def test_without_a_secret_every_request_is_refused_with_503(
    config: Config, engine: Engine, kind: str
) -> None:
    app = create_app(config.replace(shopify_webhook_secrets=()), engine)
    body = json.dumps(sample_order()).encode()
    headers = shopify_headers(
        body, topic="products/update" if kind == "ignored-topic" else "orders/create"
    )
    if kind == "unsigned":
        del headers["X-Shopify-Hmac-Sha256"]

    response = app.test_client().post(PATH, data=body, headers=headers)

    problem = assert_problem(response, 503)
    assert problem["type"].endswith("not-configured")
    assert row_counts(engine) == empty_counts()


def test_readyz_lists_shopify_without_a_secret(config: Config, engine: Engine) -> None:
    app = create_app(config.replace(shopify_webhook_secrets=()), engine)

    body = app.test_client().get("/readyz").get_json()

    assert body["sources_without_secret"] == ["shopify"]


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
    body, headers = samples.shopify_request(sample_order(), SHOPIFY_SECRET, shop=SHOP)

    response = app.test_client().post(PATH, data=body, headers=headers)

    problem = assert_problem(response, 503)
    assert problem["type"].endswith("store-unavailable")
    assert int(response.headers["Retry-After"]) > 0


def _fail_inside_the_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise sa.exc.OperationalError("INSERT INTO line_items", {}, Exception("disk I/O error"))

    monkeypatch.setattr(service.store.ingest, "_upsert_records", explode)


def test_a_failure_inside_the_transaction_answers_503_and_keeps_no_receipt_or_order(
    client: FlaskClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    body, headers = samples.shopify_request(sample_order(), SHOPIFY_SECRET, shop=SHOP)
    _fail_inside_the_transaction(monkeypatch)

    response = client.post(PATH, data=body, headers=headers)

    assert_problem(response, 503)
    assert "Retry-After" in response.headers
    assert row_counts(engine) == empty_counts()

    # The shop retries the same delivery: it is stored, not taken for a duplicate.
    monkeypatch.undo()
    retry = client.post(PATH, data=body, headers=headers)
    assert retry.status_code == 202
    assert row_counts(engine)["line_item"] == 3


@pytest.fixture
def refusing_store(engine: Engine) -> Iterator[Engine]:
    """The database itself fails every line-item write, as a full disk would."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'no space left on device'; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON records "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
        else:
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON records "
                "BEGIN SELECT RAISE(ABORT, 'no space left on device'); END"
            )
    yield engine
    with engine.begin() as conn:  # the PostgreSQL database outlives the test
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP FUNCTION refuse() CASCADE")  # and its trigger
        else:
            conn.exec_driver_sql("DROP TRIGGER refuse")


def test_a_database_error_inside_the_transaction_answers_503_logs_no_values_and_stores_nothing(
    client: FlaskClient, refusing_store: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    order = sample_order()
    body, headers = samples.shopify_request(order, SHOPIFY_SECRET, shop=SHOP)

    response = client.post(PATH, data=body, headers=headers)

    problem = assert_problem(response, 503)
    assert problem["type"].endswith("store-unavailable")
    assert "no space" not in response.get_data(as_text=True)
    assert row_counts(refusing_store) == empty_counts()
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert "no space left on device" in logged  # the on-call engineer sees why...
    assert order["line_items"][0]["name"] not in logged  # ...but no stored value,
    assert "INSERT" not in logged  # nor the statement


def test_a_failed_update_leaves_the_previous_version_untouched(
    client: FlaskClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = post_order(client, _order_with_quantity("2026-11-27T09:00:00-05:00", "2"))
    assert first.status_code == 202
    counts, before = row_counts(engine), dump_line_items(engine)
    with engine.connect() as conn:
        order_before = conn.execute(sa.select(orders)).mappings().all()
    _fail_inside_the_transaction(monkeypatch)

    response = post_order(client, _order_with_quantity("2026-11-27T09:05:00-05:00", "3"))

    assert_problem(response, 503)
    assert row_counts(engine) == counts
    assert dump_line_items(engine) == before
    with engine.connect() as conn:
        assert conn.execute(sa.select(orders)).mappings().all() == order_before
