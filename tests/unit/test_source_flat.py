"""service.sources.flat: Flat, FlatLoader and OrderLoader load what marshmallow would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from marshmallow import ValidationError, fields

from service import samples
from service.sources import NULLABLE, SignedMoney, SourceSchema, Text, parse_json
from service.sources.flat import Flat, OrderLoader
from service.sources.shopify import ShopifyOrderDetailsSchema, ShopifyOrderSchema
from service.sources.woocommerce import WooCommerceOrderDetailsSchema, WooCommerceOrderSchema
from tests.conftest import require_shared


class PointSchema(SourceSchema):
    label = Text(**NULLABLE)
    delta = SignedMoney(**NULLABLE)
    tags = fields.List(fields.String(), **NULLABLE)


class HolderSchema(SourceSchema):
    point = Flat(PointSchema)


HOLDER = HolderSchema()


def load(point: Any) -> Any:
    return HOLDER.load({"point": point})["point"]


def test_flat_loads_absent_and_null_keys_as_none_and_ignores_unknown_ones() -> None:
    assert load({"label": None, "extra": object()}) == {"label": None, "delta": None, "tags": None}


def test_flat_loads_what_a_plain_nested_schema_loads() -> None:
    point = {"label": 7, "delta": "-1.5", "tags": ["a", "b"]}

    assert load(point) == PointSchema().load(point)


def test_flat_reports_every_bad_key_under_its_name() -> None:
    with pytest.raises(ValidationError) as caught:
        load({"label": False, "tags": [1]})

    assert caught.value.messages == {
        "point": {"label": ["Not a valid string."], "tags": {0: ["Not a valid string."]}}
    }


def test_flat_refuses_a_value_that_is_not_an_object_and_takes_null() -> None:
    with pytest.raises(ValidationError) as caught:
        load(["label"])

    assert caught.value.messages == {"point": ["Invalid type."]}
    assert load(None) is None
    assert HOLDER.load({}) == {"point": None}


@pytest.mark.parametrize(
    "field",
    [fields.String(required=True), fields.String(), fields.String(allow_none=True, validate=len)],
    ids=["required", "not-nullable", "validated"],
)
def test_flat_refuses_a_schema_whose_fields_it_could_not_load_faithfully(
    field: fields.Field[Any],
) -> None:
    schema = SourceSchema.from_dict({"name": field})
    holder = SourceSchema.from_dict({"inner": Flat(schema)})()

    with pytest.raises(TypeError, match="optional and nullable"):
        holder.load({"inner": {"name": "x"}})


# --- OrderLoader: the core through marshmallow, the details flat ---------------------------

SHOPIFY = OrderLoader(ShopifyOrderSchema, ShopifyOrderDetailsSchema)
WOOCOMMERCE = OrderLoader(WooCommerceOrderSchema, WooCommerceOrderDetailsSchema)


def body(payload: object) -> object:
    """`payload` as a webhook brings it: through JSON, numbers exact."""
    return parse_json(json.dumps(payload).encode())


def outcome(load: Any, payload: object) -> tuple[str, Any]:
    try:
        return "loaded", load(payload)
    except ValidationError as exc:
        return "refused", exc.messages


def shopify_bodies() -> list[object]:
    sample = samples.shopify_order(refunds=["1.00"], fulfillments=[{"status": "success"}])
    return [
        body(sample),
        body(samples.shopify_order(email="", customer=None)),
        body(sample | {"customer": {"id": "a:b"}, "line_items": [{"id": 1}], "phone": True}),
        body(sample | {"refunds": [{"transactions": [{"amount": "x"}]}], "currency": None}),
        body(sample | {"billing_address": [], "total_shipping_price_set": {"shop_money": 1}}),
        body({"customer": None}),
        body([sample]),
    ]


@pytest.mark.parametrize("payload", shopify_bodies())
def test_a_shopify_order_loads_or_fails_exactly_as_through_marshmallow_alone(
    payload: object,
) -> None:
    assert outcome(SHOPIFY.load, payload) == outcome(ShopifyOrderSchema().load, payload)


@pytest.mark.parametrize(
    "payload",
    [
        body(samples.woocommerce_order(refunds=["2.50"])),
        body(samples.woocommerce_order() | {"refunds": [{"total": "x"}], "line_items": None}),
        body(samples.woocommerce_order() | {"billing": {"postcode": False}, "total": -1}),
        body({"date_created_gmt": "2017-03-22T19:28:02", "shipping": "x"}),
        body("order"),
    ],
)
def test_a_woocommerce_order_loads_or_fails_exactly_as_through_marshmallow_alone(
    payload: object,
) -> None:
    assert outcome(WOOCOMMERCE.load, payload) == outcome(WooCommerceOrderSchema().load, payload)


@pytest.mark.parametrize(
    "name",
    [
        "order.rest-fixture.shopify-app-js.2026-07.test_8.partially-refunded.json",
        "order.rest-fixture.shopify-app-js.2026-07.test_13.cancelled.json",
        "order.rest-fixture.shopify-app-js.2026-07.test_24.custom-line-items.json",
        "orders-create.shopify-test-notification.kanvas.json",
    ],
)
def test_the_saved_shopify_orders_load_as_through_marshmallow_alone(name: str) -> None:
    payload = parse_json(require_shared("fixtures", "shopify", name).read_bytes())

    assert SHOPIFY.load(payload) == ShopifyOrderSchema().load(payload)


def test_an_order_loader_needs_a_schema_that_inherits_its_details() -> None:
    with pytest.raises(TypeError, match="must inherit its details"):
        OrderLoader(WooCommerceOrderSchema, ShopifyOrderDetailsSchema)
