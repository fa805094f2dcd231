"""The internal /v1 API, health, metrics and the OpenAPI document, over the test client."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import Engine, func, select, update

from service.app import create_app
from service.config import Config
from service.store.tables import records
from tests.conftest import API_KEY

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def order(order_id: str = "SO-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "erp",
        "store": "eu-store",
        "order_id": order_id,
        "currency": "EUR",
        "updated_at": "2026-11-27T10:00:00+01:00",
        "line_items": [
            {
                "id": f"{order_id}-1",
                "name": "Desk lamp",
                "sku": "DL-1",
                "quantity": 2,
                "unit_price": "39.90",
                "discount": "4.00",
            },
            {"id": f"{order_id}-2", "name": "Bulb", "quantity": 4, "unit_price": "3.5"},
        ],
    }
    body.update(overrides)
    return body


def line_item_count(engine: Engine) -> int:
    with engine.connect() as conn:
        query = select(func.count()).where(records.c.kind == "line_item")
        return int(conn.execute(query).scalar_one())


def bury(engine: Engine, keys: list[str] | None = None) -> None:
    """Make stored line items dead letters, as the worker would."""
    stmt = (
        update(records)
        .where(records.c.kind == "line_item")
        .values(state="dead", dead_at=time.time(), last_error="400 VALIDATION_ERROR")
    )
    if keys is not None:
        stmt = stmt.where(records.c.key.in_(keys))
    with engine.begin() as conn:
        conn.execute(stmt)


# -- auth -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({}, ""),
        ({"Authorization": "Bearer wrong-key"}, ""),
        ({"Authorization": f"Basic {API_KEY}"}, ""),
        ({"Authorization": "Bearer "}, ""),
        ({}, f"?api_key={API_KEY}"),
        (AUTH, f"?access_token={API_KEY}"),
    ],
)
def test_v1_refuses_requests_without_a_valid_bearer_key_in_the_header(
    client: FlaskClient, engine: Engine, headers: dict[str, str], query: str
) -> None:
    answer = client.post(f"/v1/orders{query}", json=order(), headers=headers)
    assert answer.status_code == 401
    assert answer.mimetype == "application/problem+json"
    assert API_KEY not in answer.get_data(as_text=True)
    assert client.get(f"/v1/dead-letters{query}", headers=headers).status_code == 401
    assert line_item_count(engine) == 0


def test_v1_refuses_everything_when_no_key_is_configured(config: Config, engine: Engine) -> None:
    app = create_app(config.replace(relay_api_keys=()), engine)
    answer = app.test_client().post("/v1/orders", json=order(), headers=AUTH)
    assert answer.status_code == 503
    assert answer.json["type"].endswith("not-configured")


def test_any_of_several_keys_is_accepted_during_rotation(config: Config, engine: Engine) -> None:
    app = create_app(config.replace(relay_api_keys=("new-key-1", API_KEY)), engine)
    for key in ("new-key-1", API_KEY):
        answer = app.test_client().get(
            "/v1/dead-letters", headers={"Authorization": f"Bearer {key}"}
        )
        assert answer.status_code == 200


# -- POST /v1/orders -----------------------------------------------------------------------


def test_an_internal_order_is_stored_and_readable_with_its_line_item_state(
    client: FlaskClient,
) -> None:
    answer = client.post("/v1/orders", json=order(), headers=AUTH)
    assert answer.status_code == 202
    assert answer.json == {"status": "accepted", "line_items": 2}
    view = client.get("/v1/orders/erp/eu-store/SO-1", headers=AUTH)
    assert view.status_code == 200
    assert view.json["currency"] == "EUR"
    assert view.json["updated_at"] == "2026-11-27T09:00:00Z"
    first, second = view.json["line_items"]
    assert first["key"] == "erp:eu-store:SO-1:SO-1-1"
    assert first["properties"] == {
        "name": "Desk lamp",
        "quantity": "2",
        "price": "39.90",
        "discount": "4.00",
        "hs_sku": "DL-1",
        "hs_line_item_currency_code": "EUR",
    }
    assert second["properties"]["price"] == "3.50"
    assert "hs_sku" not in second["properties"]
    for item in (first, second):
        assert item["state"] == "pending"
        assert (item["version"], item["delivered_version"], item["attempts"]) == (1, 0, 0)
        assert item["hubspot_id"] is None
        assert item["next_attempt_at"].endswith("Z")


def test_an_idempotency_key_makes_a_retried_post_harmless(client: FlaskClient) -> None:
    headers = {**AUTH, "Idempotency-Key": "req-77"}
    assert client.post("/v1/orders", json=order(), headers=headers).status_code == 202
    changed = order(updated_at="2026-11-27T11:00:00+01:00")
    again = client.post("/v1/orders", json=changed, headers=headers)
    assert again.status_code == 200
    assert again.json["status"] == "duplicate"
    view = client.get("/v1/orders/erp/eu-store/SO-1", headers=AUTH).json
    assert {item["version"] for item in view["line_items"]} == {1}


def test_an_older_version_of_an_order_changes_nothing(client: FlaskClient) -> None:
    client.post("/v1/orders", json=order(), headers=AUTH)
    older = order(updated_at="2026-11-27T08:00:00+01:00")
    older["line_items"][0]["quantity"] = 9
    answer = client.post("/v1/orders", json=older, headers=AUTH)
    assert (answer.status_code, answer.json["status"]) == (200, "stale")
    view = client.get("/v1/orders/erp/eu-store/SO-1", headers=AUTH).json
    assert view["line_items"][0]["properties"]["quantity"] == "2"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (order(currency="EURO"), "currency"),
        (order(source="shopify"), "source"),
        (order(updated_at="yesterday"), "updated_at"),
        (order(updated_at="2026-11-27T10:00:00"), "updated_at"),
        (order(unexpected="x"), "unexpected"),
        ({k: v for k, v in order().items() if k != "store"}, "store"),
    ],
)
def test_an_invalid_internal_order_is_refused_naming_the_field(
    client: FlaskClient, engine: Engine, body: dict[str, Any], field: str
) -> None:
    answer = client.post("/v1/orders", json=body, headers=AUTH)
    assert answer.status_code == 422
    assert field in answer.json["errors"]
    assert line_item_count(engine) == 0


# The optional fields of an internal order, each with a value (unit tests check the values).
DETAILS: dict[str, Any] = {
    "name": "SO-1",
    "created_at": "2026-11-26T08:30:00+01:00",
    "status": "processed",
    "payment_status": "paid",
    "fulfillment_status": "unfulfilled",
    "totals": {"subtotal": "93.80", "tax": "17.82", "shipping": "4.90", "total": "116.52"},
    "buyer": {"email": "ada@example.com", "first_name": "Ada", "customer_id": 1815},
    "billing_address": {"street": "12 St James's Square", "city": "London", "postal_code": "SW1Y"},
    "shipping_address": None,
}


def test_an_internal_order_with_its_status_totals_buyer_and_addresses_is_stored(
    client: FlaskClient, engine: Engine
) -> None:
    answer = client.post("/v1/orders", json=order(**DETAILS), headers=AUTH)
    assert answer.status_code == 202
    assert answer.json == {"status": "accepted", "line_items": 2}
    assert line_item_count(engine) == 2


@pytest.mark.parametrize(
    ("details", "path"),
    [
        ({"status": "paid"}, ["status"]),
        ({"totals": {"total": "-1.00"}}, ["totals", "total"]),
        ({"totals": {"grand_total": "1.00"}}, ["totals", "grand_total"]),
        ({"buyer": {"email": 42}}, ["buyer", "email"]),
        ({"billing_address": {"zip": "SW1Y"}}, ["billing_address", "zip"]),
        ({"shipping_address": {"city": "L" * 201}}, ["shipping_address", "city"]),
    ],
)
def test_a_bad_optional_field_is_refused_naming_its_path(
    client: FlaskClient, engine: Engine, details: dict[str, Any], path: list[str]
) -> None:
    answer = client.post("/v1/orders", json=order(**(DETAILS | details)), headers=AUTH)
    assert answer.status_code == 422
    errors = answer.json["errors"]
    for key in path:
        errors = errors[key]
    assert isinstance(errors, list)
    assert errors
    assert line_item_count(engine) == 0


def test_a_bad_line_item_is_named_by_its_index(client: FlaskClient, engine: Engine) -> None:
    body = order()
    body["line_items"][1]["quantity"] = "four"
    body["line_items"][0]["unit_price"] = "-1"
    answer = client.post("/v1/orders", json=body, headers=AUTH)
    assert answer.status_code == 422
    assert set(answer.json["errors"]["line_items"]["1"]) == {"quantity"}
    assert set(answer.json["errors"]["line_items"]["0"]) == {"unit_price"}
    assert line_item_count(engine) == 0


def test_a_body_that_is_not_json_is_refused(client: FlaskClient, engine: Engine) -> None:
    answer = client.post(
        "/v1/orders", data="{not json", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert "body" in answer.json["errors"]
    other = client.post("/v1/orders", data="a=b", headers={**AUTH, "Content-Type": "text/plain"})
    assert other.status_code == 415
    assert line_item_count(engine) == 0


def test_an_unknown_order_is_a_404_problem(client: FlaskClient) -> None:
    answer = client.get("/v1/orders/erp/eu-store/nope", headers=AUTH)
    assert answer.status_code == 404
    assert answer.mimetype == "application/problem+json"


# -- dead letters --------------------------------------------------------------------------


def test_dead_letters_are_listed_with_filters_and_a_cursor(
    client: FlaskClient, engine: Engine
) -> None:
    for n in range(5):
        client.post("/v1/orders", json=order(f"SO-{n}"), headers=AUTH)
    client.post("/v1/orders", json=order("X-1", store="us-store"), headers=AUTH)
    bury(engine)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = "limit=4" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/v1/dead-letters?store=eu-store&{query}", headers=AUTH).json
        pages += 1
        seen += [item["key"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 10
    assert all(key.startswith("erp:eu-store:") for key in seen)
    item = client.get("/v1/dead-letters?order_id=X-1", headers=AUTH).json["items"][0]
    assert (item["store"], item["state"], item["last_error"]) == (
        "us-store",
        "dead",
        "400 VALIDATION_ERROR",
    )
    assert client.get("/v1/dead-letters?limit=0", headers=AUTH).status_code == 422
    assert client.get("/v1/dead-letters?colour=red", headers=AUTH).status_code == 422


def test_replay_by_keys_by_filter_and_all(client: FlaskClient, engine: Engine) -> None:
    for n in range(3):
        client.post("/v1/orders", json=order(f"SO-{n}"), headers=AUTH)
    bury(engine)
    by_keys = client.post(
        "/v1/dead-letters/replay", json={"keys": ["erp:eu-store:SO-0:SO-0-1"]}, headers=AUTH
    )
    assert by_keys.json == {"replayed": 1}
    by_filter = client.post(
        "/v1/dead-letters/replay", json={"filter": {"order_id": "SO-1"}}, headers=AUTH
    )
    assert by_filter.json == {"replayed": 2}
    rest = client.post("/v1/dead-letters/replay", json={"all": True}, headers=AUTH)
    assert rest.json == {"replayed": 3}
    view = client.get("/v1/orders/erp/eu-store/SO-2", headers=AUTH).json
    assert {(i["state"], i["attempts"]) for i in view["line_items"]} == {("pending", 0)}


@pytest.mark.parametrize(
    "body", [{}, {"keys": ["a"], "all": True}, {"filter": {"colour": "red"}}, {"all": False}, []]
)
def test_replay_needs_exactly_one_selection(client: FlaskClient, body: dict[str, Any]) -> None:
    answer = client.post("/v1/dead-letters/replay", json=body, headers=AUTH)
    assert answer.status_code == 422


# -- health, metrics, OpenAPI ------------------------------------------------------------------


def test_healthz_and_readyz_answer_without_auth(client: FlaskClient) -> None:
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"] == {
        "store": "ok",
        "migrations": "current",
        "hubspot": "sandbox",
        "held_back": {},
    }
    assert ready.json["status"] == "ready"
    assert ready.json["sandbox"] is True


def test_readyz_is_not_ready_without_credentials_outside_the_sandbox(
    config: Config, engine: Engine
) -> None:
    app = create_app(config.replace(sandbox=False, hubspot_access_token=None), engine)
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["hubspot"] == "no credentials configured"


def test_readyz_is_not_ready_when_the_store_is_unreachable(config: Config) -> None:
    from service.store.engine import make_engine

    dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    app: Flask = create_app(config, dead)
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["store"].startswith("unreachable")


def test_metrics_report_queue_depth_and_webhook_counts(client: FlaskClient) -> None:
    client.post("/v1/orders", json=order(), headers=AUTH)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'relay_records_pending{kind="line_item"} 2.0' in text
    assert 'relay_records_pending{kind="order"} 1.0' in text
    assert 'relay_records_pending{kind="line_item>order"} 2.0' in text
    assert 'relay_records_dead{kind="line_item"} 0.0' in text
    assert 'relay_webhooks_total{outcome="accepted",source="internal",topic="erp"}' in text


def test_the_openapi_document_is_valid_and_covers_every_endpoint(
    app: Flask, client: FlaskClient
) -> None:
    document = client.get("/openapi.json").json
    validate_openapi(document)
    documented = {
        (path.replace("{", "<").replace("}", ">"), method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    served = {
        (re.sub(r"<\w+:", "<", rule.rule), method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
        and rule.endpoint != "static"
        # The console's pages are HTML for people, not a part of the API.
        and not rule.endpoint.startswith("console.")
    }
    assert served == documented


def test_the_openapi_document_describes_the_internal_orders_optional_fields(
    client: FlaskClient,
) -> None:
    schemas = client.get("/openapi.json").json["components"]["schemas"]
    internal = schemas["InternalOrder"]
    properties = internal["properties"]
    optional = set(DETAILS)
    assert optional <= set(properties)
    assert not optional & set(internal["required"])
    assert properties["status"]["enum"] == [
        "open",
        "processed",
        "shipped",
        "delivered",
        "cancelled",
        None,
    ]
    for name in optional - {"totals", "buyer", "billing_address", "shipping_address"}:
        assert properties[name]["nullable"] is True
        assert properties[name]["description"]
    for name, component in [
        ("totals", "InternalTotals"),
        ("buyer", "InternalBuyer"),
        ("billing_address", "InternalAddress"),
        ("shipping_address", "InternalAddress"),
    ]:
        assert properties[name]["anyOf"][0] == {"$ref": f"#/components/schemas/{component}"}
        assert schemas[component]["additionalProperties"] is False
        assert all(field["description"] for field in schemas[component]["properties"].values())
    assert set(schemas["InternalTotals"]["properties"]) == {
        "subtotal",
        "discounts",
        "tax",
        "shipping",
        "total",
        "refunded",
    }
    assert schemas["InternalTotals"]["properties"]["total"]["format"] == "decimal"
    assert set(schemas["InternalBuyer"]["properties"]) == {
        "email",
        "first_name",
        "last_name",
        "phone",
        "customer_id",
    }
    address = schemas["InternalAddress"]["properties"]
    assert address["street"]["maxLength"] == 500
    assert address["postal_code"] == {
        "type": "string",
        "default": None,
        "maxLength": 32,
        "description": "Postal or ZIP code.",
        "nullable": True,
    }
    # A WooCommerce refund's total is negative; the document says so.
    refund_total = schemas["WooCommerceRefund"]["properties"]["total"]
    assert refund_total["pattern"].startswith("^-?")


def test_two_internal_orders_may_reuse_line_ids_without_touching_each_other(
    client: FlaskClient,
) -> None:
    first = order(
        "SO-1", line_items=[{"id": "1", "name": "Lamp", "quantity": 1, "unit_price": "5"}]
    )
    second = order(
        "SO-2",
        updated_at="2026-11-27T12:00:00+01:00",
        line_items=[{"id": "1", "name": "Desk", "quantity": 3, "unit_price": "80"}],
    )
    assert client.post("/v1/orders", json=first, headers=AUTH).status_code == 202
    assert client.post("/v1/orders", json=second, headers=AUTH).status_code == 202
    one = client.get("/v1/orders/erp/eu-store/SO-1", headers=AUTH).json["line_items"]
    two = client.get("/v1/orders/erp/eu-store/SO-2", headers=AUTH).json["line_items"]
    assert [(i["key"], i["properties"]["name"]) for i in one] == [("erp:eu-store:SO-1:1", "Lamp")]
    assert [(i["key"], i["properties"]["name"]) for i in two] == [("erp:eu-store:SO-2:1", "Desk")]
