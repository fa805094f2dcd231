"""Property tests: whatever arrives at the webhook endpoints, the answer is never a 5xx; a
request without a valid signature never leaves a row in the store; and a signed body is
never refused for its content: it is answered 200 or 202 (413 only over the size limit),
stored as an order or kept as a rejected webhook, never both.

One app per store (a SQLite file, and the PostgreSQL test database) serves the whole
module (hypothesis runs many examples per test, and function-scoped fixtures would be
shared across them anyway). Names may hold lone surrogates and NUL, which neither store
can take as they are (the text rule, service.text).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from service import signatures
from service.app import create_app
from service.config import Config
from service.store import migrate
from service.store.engine import make_engine
from service.store.tables import metadata
from tests.conftest import SHOPIFY_SECRET, WOO_SECRET

FUZZ = settings(max_examples=150, deadline=None)
PROBLEM_JSON = "application/problem+json"
SECRETS = {"shopify": SHOPIFY_SECRET, "woocommerce": WOO_SECRET}
SIGNING = ("valid", "absent", "wrong-secret", "random")


@dataclass
class Relay:
    client: FlaskClient
    engine: Engine


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def relay(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Relay]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("fuzz") / "relay.sqlite3"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        migrate.upgrade(engine)
    else:
        url = request.getfixturevalue("postgres_database")  # migrated; shared, so counted by delta
        engine = make_engine(url)
    config = Config(
        database_url=url,
        shopify_webhook_secrets=(SHOPIFY_SECRET,),
        woocommerce_webhook_secrets=(WOO_SECRET,),
        hubspot_base_url="http://127.0.0.1:9",
        log_level="WARNING",
        log_json=True,
    )
    yield Relay(create_app(config, engine).test_client(), engine)
    engine.dispose()


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }


# --- strategies ----------------------------------------------------------------------

# Header values as they can reach a WSGI app: latin-1 text without control characters.
header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=80,
)
# Text no store holds as it is: lone surrogates (sent as JSON escapes) and NUL.
UNSTORABLE = ["\x00", "\ud800", "\udfff", "\ud83d"]
hostile_text = st.text(
    alphabet=st.characters(exclude_categories=()) | st.sampled_from(UNSTORABLE), max_size=20
)
# Text with at least one such character, after some that is not blank (so a name stays).
unstorable_text = st.builds(
    "".join,
    st.tuples(
        st.text(min_size=1, max_size=8).filter(str.strip),
        st.sampled_from(UNSTORABLE),
        st.text(max_size=8),
    ),
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | hostile_text
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def wrong(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value of a field, else any JSON value (wrong types included)."""
    return st.one_of(value, value, value, json_values)


moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.timezones()
)
# An order's version: mostly in the past, as real ones are, sometimes far ahead (those are
# kept as rejected, past RELAY_MAX_FUTURE_SKEW_SECONDS).
versions = st.one_of(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.timezones()
    ),
    moments,
)
amounts = st.decimals(min_value=0, max_value=10**9, places=2).map(str) | st.integers(0, 10**6)
text_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)
line_items = st.fixed_dictionaries(
    {
        "id": st.integers(min_value=0, max_value=2**63) | text_ids,
        "name": (st.text(min_size=1, max_size=40) | hostile_text).filter(str.strip),
        "quantity": st.integers(min_value=0, max_value=10**4),
        "price": amounts,
        "subtotal": amounts,
        "total": amounts,
    },
    optional={
        "sku": st.none() | st.text(max_size=12),
        "current_quantity": st.none() | st.integers(min_value=0, max_value=10**4),
        "discount_allocations": st.lists(st.fixed_dictionaries({"amount": amounts}), max_size=2),
    },
)
short_text = st.none() | st.text(max_size=12) | hostile_text
# An address of either shop (Shopify's and WooCommerce's keys), a customer, refunds of both.
addresses = st.none() | st.dictionaries(
    st.sampled_from(["name", "first_name", "address1", "address_1", "zip", "postcode", "phone"]),
    short_text | st.integers(0, 10**6),
    max_size=4,
)
transactions = st.fixed_dictionaries(
    {"kind": st.sampled_from(["refund", "sale"]), "status": short_text, "amount": amounts}
)
refunds = st.lists(
    st.fixed_dictionaries({}, optional={"total": amounts.map(lambda a: f"-{a}")})
    | st.fixed_dictionaries({"transactions": st.lists(transactions, max_size=2)}),
    max_size=2,
)
details = {
    "financial_status": st.sampled_from(["paid", "refunded", "pending"]) | short_text,
    "fulfillment_status": st.sampled_from(["fulfilled", "partial"]) | short_text,
    "status": st.sampled_from(["processing", "completed", "refunded"]) | short_text,
    "cancelled_at": st.none() | moments.map(datetime.isoformat),
    "email": short_text,
    "customer": st.none()
    | st.fixed_dictionaries({"id": st.integers(0, 2**63), "email": short_text}),
    "customer_id": st.integers(0, 10**6),
    "billing_address": addresses,
    "billing": addresses,
    "current_total_price": amounts,
    "total": amounts,
    "fulfillments": st.lists(
        st.fixed_dictionaries({"status": short_text, "shipment_status": short_text}), max_size=2
    ),
    "refunds": refunds,
}
valid_orders = st.fixed_dictionaries(
    {
        "id": st.integers(min_value=0, max_value=2**63) | text_ids,
        "currency": st.sampled_from(["USD", "eur", "JPY", "KWD"]),
        "updated_at": versions.map(datetime.isoformat),
        "date_modified_gmt": versions.map(lambda m: m.replace(tzinfo=None).isoformat()),
        "line_items": st.lists(line_items, max_size=4, unique_by=lambda line: str(line["id"])),
    },
    optional=details,
)
ORDER_KEYS = ("id", "currency", "updated_at", "date_modified_gmt", "line_items", *details)
LINE_KEYS = ("id", "name", "title", "quantity", "current_quantity", "price", "subtotal")
LINE_KEYS += ("total", "sku", "discount_allocations")


@st.composite
def orders(draw: st.DrawFn) -> dict[str, Any]:
    """A valid order with up to three fields replaced by any JSON value or removed."""
    order = draw(valid_orders)
    for _ in range(draw(st.sampled_from([0, 0, 1, 2, 3]))):
        target = order
        keys: tuple[str, ...] = ORDER_KEYS
        raw = order.get("line_items")
        lines = [line for line in raw if isinstance(line, dict)] if isinstance(raw, list) else []
        if lines and draw(st.booleans()):
            target = draw(st.sampled_from(lines))
            keys = LINE_KEYS
        key = draw(st.sampled_from(keys))
        if draw(st.integers(min_value=0, max_value=4)) == 0:
            target.pop(key, None)
        else:
            target[key] = draw(json_values)
    return order


@st.composite
def orders_with_unstorable_text(draw: st.DrawFn) -> dict[str, Any]:
    """A valid order whose names and buyer's email hold a lone surrogate or NUL."""
    order = draw(valid_orders)
    if not order["line_items"]:
        order["line_items"] = [draw(line_items)]
    for line in order["line_items"]:
        line["name"] = draw(unstorable_text)
    email = draw(unstorable_text) + "@example.com"
    order["email"] = email
    order["customer"] = {"id": 7, "email": email, "first_name": draw(unstorable_text)}
    order["billing"] = {"email": email, "first_name": draw(unstorable_text)}
    return order


@st.composite
def json_bodies(draw: st.DrawFn, values: st.SearchStrategy[Any]) -> bytes:
    value = draw(values)
    ascii_only = draw(st.booleans())
    text = json.dumps(value, ensure_ascii=ascii_only)
    if not ascii_only and any("\ud800" <= char <= "\udfff" for char in text):
        text = json.dumps(value)  # a lone surrogate reaches a body only as an escape
    if draw(st.booleans()):
        text = text.replace("/", "\\/")  # as PHP and Shopify escape it
    return text.encode()


# --- the request under test ----------------------------------------------------------


def signed_headers(source: str, body: bytes, signing: str, junk: str) -> dict[str, str]:
    name = "X-Shopify-Hmac-Sha256" if source == "shopify" else "X-WC-Webhook-Signature"
    if signing == "valid":
        return {name: signatures.sign(SECRETS[source], body)}
    if signing == "wrong-secret":
        return {name: signatures.sign(SECRETS[source] + "x", body)}
    if signing == "random":
        return {name: junk}
    return {}


def source_headers(source: str, topic: str, store: str, delivery: str) -> dict[str, str]:
    if source == "shopify":
        return {
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": store,
            "X-Shopify-Webhook-Id": delivery,
        }
    return {
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Source": store,
        "X-WC-Webhook-Delivery-ID": delivery,
    }


def check(
    relay: Relay, source: str, body: bytes, signing: str, headers: dict[str, str], junk: str = ""
) -> None:
    """Post and check the properties: no 5xx; no stored row without a valid signature; a
    signed body stored or kept as rejected, never refused for its content."""
    headers = headers | signed_headers(source, body, signing, junk)
    before = row_counts(relay.engine)

    response = relay.client.post(f"/webhooks/{source}", data=body, headers=headers)

    event(f"{signing} -> {response.status_code}")
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert response.mimetype == PROBLEM_JSON
        assert {"type", "title", "status"} <= response.get_json().keys()
    signed = signing == "valid" or (
        signing == "random" and signatures.is_valid(body, junk, [SECRETS[source]])
    )
    if not signed:
        assert row_counts(relay.engine) == before
        is_ping = source == "woocommerce" and signing == "absent" and response.status_code == 200
        assert response.status_code == 401 or is_ping, response.get_data(as_text=True)
        if is_ping:
            assert response.get_json() == {"status": "pong"}
        return
    # Signed, with the store up: never a 4xx but for the size limit.
    assert response.status_code in (200, 202, 413), response.get_data(as_text=True)
    answer = response.get_json() if response.status_code != 413 else {"status": "too large"}
    event(f"signed -> {answer['status']} {answer.get('reason', '')}".rstrip())
    after = row_counts(relay.engine)
    if answer["status"] == "rejected":
        # Kept (a redelivered Shopify delivery once), and nothing else stored.
        assert after["rejected_webhooks"] - before["rejected_webhooks"] in (0, 1)
        assert {k: v for k, v in after.items() if k != "rejected_webhooks"} == {
            k: v for k, v in before.items() if k != "rejected_webhooks"
        }
    elif answer["status"] == "stale":  # keeps only its delivery ids
        assert {k: v for k, v in after.items() if k != "receipts"} == {
            k: v for k, v in before.items() if k != "receipts"
        }
    elif answer["status"] != "accepted":
        assert after == before


TOPICS = {"shopify": ("orders/create", "orders/paid"), "woocommerce": ("order.created",)}
STORES = {"shopify": "acme.myshopify.com", "woocommerce": "https://shop.example.com/"}
sources = st.sampled_from(["shopify", "woocommerce"])
signings = st.sampled_from(SIGNING)
deliveries = st.uuids().map(str)


def order_headers(source: str, delivery: str) -> dict[str, str]:
    return source_headers(source, TOPICS[source][0], STORES[source], delivery)


@FUZZ
@given(source=sources, signing=signings, body=st.binary(max_size=2048), junk=header_text)
def test_arbitrary_bytes_never_cause_a_5xx_or_an_unsigned_row(
    relay: Relay, source: str, signing: str, body: bytes, junk: str
) -> None:
    check(relay, source, body, signing, order_headers(source, "bytes"), junk)


@FUZZ
@given(source=sources, signing=signings, body=json_bodies(json_values), delivery=deliveries)
def test_arbitrary_json_never_causes_a_5xx_or_an_unsigned_row(
    relay: Relay, source: str, signing: str, body: bytes, delivery: str
) -> None:
    check(relay, source, body, signing, order_headers(source, delivery))


@FUZZ
@given(source=sources, signing=signings, body=json_bodies(orders()), delivery=deliveries)
def test_order_shaped_bodies_with_random_field_types_never_cause_a_5xx_or_an_unsigned_row(
    relay: Relay, source: str, signing: str, body: bytes, delivery: str
) -> None:
    check(relay, source, body, signing, order_headers(source, delivery))


@FUZZ
@given(source=sources, body=json_bodies(orders_with_unstorable_text()), delivery=deliveries)
def test_signed_orders_with_text_no_store_holds_are_taken_never_a_5xx(
    relay: Relay, source: str, body: bytes, delivery: str
) -> None:
    assert b"\\u0000" in body or b"\\ud" in body
    check(relay, source, body, "valid", order_headers(source, delivery))


EXTRA_HEADERS = (
    *("X-Shopify-Event-Id", "shopify-topic", "shopify-shop-domain", "shopify-webhook-id"),
    *("X-WC-Webhook-ID", "X-WC-Webhook-Resource", "Content-Type", "X-Request-ID"),
)


@st.composite
def header_sets(draw: st.DrawFn, source: str) -> dict[str, str]:
    """The source's headers, each either a working value or random text."""
    topic = draw(st.sampled_from(TOPICS[source]) | header_text)
    store = draw(st.sampled_from([STORES[source], "Acme.MyShopify.com", "http://a.b/c/"]))
    store = draw(st.just(store) | header_text)
    headers = source_headers(source, topic, store, draw(deliveries | header_text))
    extra = st.sampled_from(EXTRA_HEADERS)
    return headers | draw(st.dictionaries(extra, header_text, max_size=3))


@FUZZ
@given(
    data=st.data(),
    source=sources,
    signing=signings | st.just("valid"),
    order_id=st.uuids().map(lambda value: value.int % 2**63),  # a new order each time
    name=st.just("A") | hostile_text.filter(str.strip),
)
def test_random_header_values_never_cause_a_5xx_or_an_unsigned_row(
    relay: Relay, data: st.DataObject, source: str, signing: str, order_id: int, name: str
) -> None:
    order = {
        "id": order_id,
        "currency": "USD",
        "updated_at": "2026-11-27T09:15:00-05:00",
        "date_modified_gmt": "2026-11-27T14:15:00",
        "line_items": [
            {"id": 1, "name": name, "quantity": 1, "price": "1.00", "subtotal": "1.00"}
            | {"total": "1.00"}
        ],
    }
    body = json.dumps(order).encode()
    check(relay, source, body, signing, data.draw(header_sets(source)))
