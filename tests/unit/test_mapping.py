"""Mapping a canonical order into HubSpot line-item inputs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from service.domain import LineItem, LineItemInput, Order
from service.mapping import line_item_key, to_inputs


def make_line(**overrides: Any) -> LineItem:
    values: dict[str, Any] = {
        "id": "315",
        "name": "Woo Single #1",
        "quantity": 2,
        "unit_price": Decimal("3.00"),
        "unit_discount": Decimal("0.50"),
        "sku": "WOO-1",
    }
    return LineItem(**(values | overrides))


def make_order(**overrides: Any) -> Order:
    values: dict[str, Any] = {
        "source": "woocommerce",
        "store": "shop.example.com",
        "order_id": "727",
        "currency": "USD",
        "updated_at": datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC),
        "line_items": (make_line(),),
    }
    return Order(**(values | overrides))


def test_line_item_key_joins_source_store_and_line_id() -> None:
    key = line_item_key("shopify", "acme.myshopify.com", "866550311766439020")

    assert key == "shopify:acme.myshopify.com:866550311766439020"


def test_an_order_maps_to_one_input_per_line_with_every_property_a_string() -> None:
    inputs = to_inputs(make_order())

    assert inputs == [
        LineItemInput(
            key="woocommerce:shop.example.com:315",
            order_key=("woocommerce", "shop.example.com", "727"),
            properties={
                "name": "Woo Single #1",
                "quantity": "2",
                "price": "3.00",
                "discount": "0.50",
                "hs_sku": "WOO-1",
                "hs_line_item_currency_code": "USD",
            },
        )
    ]


def test_inputs_keep_the_order_of_the_lines() -> None:
    lines = (make_line(id="3"), make_line(id="1"), make_line(id="2"))

    inputs = to_inputs(make_order(line_items=lines))

    assert [item.key for item in inputs] == [
        "woocommerce:shop.example.com:3",
        "woocommerce:shop.example.com:1",
        "woocommerce:shop.example.com:2",
    ]


def test_an_order_without_lines_maps_to_no_inputs() -> None:
    assert to_inputs(make_order(line_items=())) == []


def test_the_same_line_id_in_two_stores_gets_two_keys() -> None:
    first = to_inputs(make_order(store="one.example.com"))[0]
    second = to_inputs(make_order(store="two.example.com"))[0]

    assert first.key == "woocommerce:one.example.com:315"
    assert second.key == "woocommerce:two.example.com:315"


def test_sku_is_left_out_when_the_line_has_none() -> None:
    for sku in (None, ""):
        properties = to_inputs(make_order(line_items=(make_line(sku=sku),)))[0].properties

        assert "hs_sku" not in properties


def test_amounts_are_rendered_with_the_currency_minor_digits_in_plain_notation() -> None:
    line = make_line(unit_price=Decimal("1.99E+2"), unit_discount=Decimal("0"))

    properties = to_inputs(make_order(line_items=(line,)))[0].properties

    assert properties["price"] == "199.00"
    assert properties["discount"] == "0.00"


def test_amounts_in_a_zero_decimal_currency_have_no_fraction() -> None:
    line = make_line(unit_price=Decimal("1000"), unit_discount=Decimal("333"))

    properties = to_inputs(make_order(currency="JPY", line_items=(line,)))[0].properties

    assert properties["price"] == "1000"
    assert properties["discount"] == "333"
    assert properties["hs_line_item_currency_code"] == "JPY"


def test_amounts_in_a_three_decimal_currency_have_three_digits() -> None:
    line = make_line(unit_price=Decimal("3.5"), unit_discount=Decimal("3.333"))

    properties = to_inputs(make_order(currency="KWD", line_items=(line,)))[0].properties

    assert properties["price"] == "3.500"
    assert properties["discount"] == "3.333"


def test_an_amount_with_more_digits_than_the_currency_is_rounded_half_to_even() -> None:
    line = make_line(unit_price=Decimal("0.125"), unit_discount=Decimal("0.135"))

    properties = to_inputs(make_order(line_items=(line,)))[0].properties

    assert properties["price"] == "0.12"
    assert properties["discount"] == "0.14"


def test_only_default_hubspot_properties_are_sent() -> None:
    properties = to_inputs(make_order())[0].properties

    assert set(properties) == {
        "name",
        "quantity",
        "price",
        "discount",
        "hs_sku",
        "hs_line_item_currency_code",
    }
