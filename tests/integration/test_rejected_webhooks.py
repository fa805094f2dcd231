"""A signed body is never refused for its content: on both shops and both stores, what
does not fit is answered 200 and kept as a rejected webhook, with nothing else stored and
nothing delivered; forged bodies stay 401; only a store that cannot keep it answers 503;
text the store cannot hold is cleaned; a version too far ahead is kept aside, so the real
update after it still counts."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import Engine

import service.store.rejected
from service.app import create_app
from service.config import Config
from service.logs import JsonFormatter
from service.store.engine import make_engine
from service.text import REPLACEMENT
from tests.integration.ingest_support import (
    assert_problem,
    assert_rejected,
    empty_counts,
    kept_rejected,
    only_rejected,
    row_counts,
    stored_properties,
)
from tests.integration.rejected_support import (
    AUTH,
    SHOPIFY,
    SHOPS,
    WOOCOMMERCE,
    Shop,
    delivered,
    emulator,
    relay,
)
from tests.integration.whole_order_support import Relay

__all__ = ["emulator", "relay"]  # the fixtures, imported for the tests to take
TEN_YEARS = timedelta(days=3653)


def _wrong_type(shop: Shop) -> tuple[dict[str, Any], str, Callable[[Any], object]]:
    order = shop.order()
    order["line_items"][0]["quantity"] = "two"
    return order, "invalid_order", lambda errors: errors["line_items"]["0"]["quantity"]


def _missing_fields(shop: Shop) -> tuple[dict[str, Any], str, Callable[[Any], object]]:
    order = shop.order()
    del order["currency"], order["id"]
    return order, "invalid_order", lambda errors: {"currency", "id"} <= errors.keys()


def _negative_quantity(shop: Shop) -> tuple[dict[str, Any], str, Callable[[Any], object]]:
    order = shop.order()
    order["line_items"][1]["quantity"] = -1
    return order, "invalid_order", lambda errors: errors["line_items"]["1"]["quantity"]


def _ten_years_ahead(shop: Shop) -> tuple[dict[str, Any], str, Callable[[Any], object]]:
    order = shop.order(at=datetime.now(UTC) + TEN_YEARS)
    return order, "future_version", lambda errors: list(errors) == [shop.version_field]


CASES = {
    "wrong-type": _wrong_type,
    "missing-fields": _missing_fields,
    "negative-quantity": _negative_quantity,
    "ten-years-ahead": _ten_years_ahead,
}


@pytest.mark.parametrize("shop", SHOPS)
@pytest.mark.parametrize("case", [*CASES, "bad-json", "no-store-header"])
def test_a_signed_body_that_does_not_fit_is_kept_as_rejected_and_nothing_is_delivered(
    relay: Relay, engine: Engine, shop: Shop, case: str
) -> None:
    changes: dict[str, str | None] = {}
    if case == "bad-json":
        body, reason, names_it = b'{"id": 1, "line_items": [', "invalid_json", None
    elif case == "no-store-header":
        body, reason, names_it = json.dumps(shop.order()).encode(), "invalid_store", None
        changes[shop.store_header] = None
    else:
        payload, reason, names_it = CASES[case](shop)
        body = json.dumps(payload).encode()
    headers = shop.headers(body, changes)

    response = relay.client.post(shop.path, data=body, headers=headers)

    answer = assert_rejected(response, reason)
    if names_it is not None:
        assert names_it(answer["errors"]), answer["errors"]
    assert row_counts(engine) == only_rejected()
    (kept,) = kept_rejected(engine)
    assert kept["id"] == answer["rejected_id"]
    assert (kept["source"], kept["topic"], kept["reason"]) == (
        shop.source,
        headers[shop.topic_header],
        reason,
    )
    assert kept["store"] == (None if case == "no-store-header" else shop.store)
    shopify_id = headers.get("X-Shopify-Webhook-Id")
    assert kept["delivery_id"] == (shopify_id if shop.source == "shopify" else None)
    assert json.loads(kept["errors"]) == answer["errors"]
    assert bytes(kept["body"]) == body  # the raw bytes, whatever they were
    assert (kept["attempts"], kept["last_replayed_at"]) == (1, None)
    assert abs(kept["received_at"] - time.time()) < 60
    assert relay.worker.run_once() == 0
    assert delivered(relay.emulator) == {"orders": {}, "line_items": {}, "contacts": {}}


@pytest.mark.parametrize("shop", SHOPS)
@pytest.mark.parametrize("forgery", ["wrong-secret", "no-signature"])
def test_an_unfit_body_with_a_forged_signature_is_401_and_kept_nowhere(
    client: FlaskClient, engine: Engine, shop: Shop, forgery: str
) -> None:
    body = b'{"id": 1, "line_items": ['
    headers = shop.headers(body)
    if forgery == "no-signature":
        del headers[shop.signature_header]
    else:
        headers[shop.signature_header] = shop.headers(body + b" ")[shop.signature_header]

    response = client.post(shop.path, data=body, headers=headers)

    assert_problem(response, 401)
    assert row_counts(engine) == empty_counts()


def test_a_redelivered_shopify_delivery_is_kept_once(client: FlaskClient, engine: Engine) -> None:
    shop, body = SHOPIFY, b"not json"
    headers = shop.headers(body)

    first, again = (client.post(shop.path, data=body, headers=headers) for _ in range(2))

    kept = assert_rejected(first, "invalid_json")
    assert assert_rejected(again, "invalid_json") == kept
    assert row_counts(engine) == only_rejected(1)
    # Another delivery of the same bytes (another webhook id) is another entry.
    other = client.post(shop.path, data=body, headers=shop.headers(body))
    assert assert_rejected(other, "invalid_json")["rejected_id"] != kept["rejected_id"]
    assert row_counts(engine) == only_rejected(2)


@pytest.fixture(params=["postgres-refused", "sqlite-unopenable"])
def unreachable_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgres-refused":
        url = "postgresql+psycopg://postgres@127.0.0.1:1/x"  # nothing listens on port 1
    else:
        url = f"sqlite:///{tmp_path}"  # a folder: SQLite cannot open it as a database
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("shop", SHOPS)
def test_an_unfit_body_for_an_unreachable_store_is_503_so_the_shop_retries(
    config: Config, unreachable_engine: Engine, shop: Shop
) -> None:
    app = create_app(config, unreachable_engine)

    response = shop.post(app.test_client(), b"not json")

    problem = assert_problem(response, 503)
    assert problem["type"].endswith("store-unavailable")
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize("shop", SHOPS)
def test_a_failure_while_keeping_answers_503_leaves_nothing_and_the_retry_is_kept(
    client: FlaskClient, engine: Engine, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> int:
        raise sa.exc.OperationalError("INSERT INTO rejected", {}, Exception("disk I/O error"))

    monkeypatch.setattr(service.store.rejected, "_insert_once", explode)
    body = b"not json"
    headers = shop.headers(body)

    response = client.post(shop.path, data=body, headers=headers)

    assert_problem(response, 503)
    assert row_counts(engine) == empty_counts()
    monkeypatch.undo()
    assert_rejected(client.post(shop.path, data=body, headers=headers), "invalid_json")
    assert row_counts(engine) == only_rejected()


@pytest.mark.parametrize("shop", SHOPS)
def test_a_lone_surrogate_and_a_nul_reach_the_store_and_hubspot_cleaned(
    relay: Relay, engine: Engine, shop: Shop
) -> None:
    order = shop.order()
    order["line_items"][0]["name"] = "Beanie \ud800 Charcoal"
    order["line_items"][1]["name"] = "Socks\x00 L"
    if shop.source == "shopify":
        order["email"] = order["customer"]["email"] = "ja\x00ne@example.com"
    else:
        order["billing"]["email"] = "ja\x00ne@example.com"
    body = json.dumps(order).encode()  # ASCII: "\ud800" and "\u0000" as JSON escapes
    assert b"\\ud800" in body and b"\\u0000" in body

    response = shop.post(relay.client, body)

    assert response.status_code == 202, response.get_data(as_text=True)
    names = sorted(p["name"] for p in stored_properties(engine).values())
    assert f"Beanie {REPLACEMENT} Charcoal" in names and "Socks L" in names
    relay.deliver()
    held = delivered(relay.emulator)
    assert f"Beanie {REPLACEMENT} Charcoal" in {
        r["properties"]["name"] for r in held["line_items"].values()
    }
    assert list(held["contacts"]) == ["jane@example.com"]
    assert len(held["orders"]) == 1


@pytest.mark.parametrize("shop", SHOPS)
def test_a_real_update_after_a_far_future_one_is_accepted_and_delivered(
    relay: Relay, engine: Engine, shop: Shop
) -> None:
    future = shop.order(at=datetime.now(UTC) + TEN_YEARS)
    future["line_items"][0]["quantity"] = 9
    assert_rejected(shop.post(relay.client, future), "future_version")

    real = shop.order(at=datetime.now(UTC) - timedelta(minutes=5))
    response = shop.post(relay.client, real)

    assert response.status_code == 202, response.get_data(as_text=True)
    relay.deliver()
    quantities = {
        r["properties"]["quantity"] for r in delivered(relay.emulator)["line_items"].values()
    }
    assert "9" not in quantities
    assert row_counts(engine)["rejected_webhooks"] == 1


def test_an_internal_order_dated_past_the_skew_is_422_naming_updated_at(
    client: FlaskClient, engine: Engine
) -> None:
    def order(at: datetime) -> dict[str, Any]:
        line = {"id": "1", "name": "Lamp", "quantity": 1, "unit_price": "5.00"}
        return {"source": "erp", "store": "eu", "order_id": "SO-1", "currency": "EUR"} | {
            "updated_at": at.isoformat(),
            "line_items": [line],
        }

    ahead = client.post("/v1/orders", json=order(datetime.now(UTC) + TEN_YEARS), headers=AUTH)

    problem = assert_problem(ahead, 422)
    assert list(problem["errors"]) == ["updated_at"]
    assert row_counts(engine) == empty_counts()  # its caller fixes it: nothing is kept
    soon = client.post(
        "/v1/orders", json=order(datetime.now(UTC) + timedelta(hours=1)), headers=AUTH
    )
    assert soon.status_code == 202


def _sample(text: str, name: str, labels: dict[str, str]) -> float:
    pattern = re.escape(name) + r"\{([^}]*)\} ([0-9.e+]+)"
    for found in re.finditer(pattern, text):
        given = dict(re.findall(r'(\w+)="([^"]*)"', found.group(1)))
        if given == labels:
            return float(found.group(2))
    return 0.0


def test_rejected_webhooks_are_counted_by_reason_and_the_kept_ones_gauged(
    client: FlaskClient,
) -> None:
    labels = {"source": "woocommerce", "reason": "invalid_json"}
    before = _sample(
        client.get("/metrics").get_data(as_text=True), "relay_webhooks_rejected_total", labels
    )
    for shop in (SHOPIFY, WOOCOMMERCE, WOOCOMMERCE):
        assert_rejected(shop.post(client, b"not json"), "invalid_json")

    text = client.get("/metrics").get_data(as_text=True)

    assert _sample(text, "relay_webhooks_rejected_total", labels) == before + 2
    assert _sample(text, "relay_rejected_webhooks", labels) == 2
    assert _sample(text, "relay_rejected_webhooks", {**labels, "source": "shopify"}) == 1
    assert _sample(text, "relay_rejected_webhooks", {**labels, "reason": "future_version"}) == 0
    outcome = {"outcome": "rejected", "source": "woocommerce", "topic": "order.updated"}
    assert _sample(text, "relay_webhooks_total", outcome) >= 2


@pytest.mark.parametrize("shop", SHOPS)
def test_no_value_of_a_rejected_body_is_logged(
    client: FlaskClient, shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    order = shop.order()
    order["line_items"][0]["name"] = "Secret Surprise Gift for Ada"
    order["line_items"][0]["quantity"] = "two"

    assert_rejected(shop.post(client, order), "invalid_order")

    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert '"event": "webhook_rejected"' in logged and "invalid_order" in logged
    assert "Secret Surprise" not in logged and "jane.doe" not in logged
