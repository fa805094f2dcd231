"""WooCommerce order bodies into canonical orders and HubSpot inputs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from marshmallow import ValidationError

from service.domain import LineItemInput
from service.mapping import to_inputs
from service.sources import parse_json
from service.sources.woocommerce import to_order

STORE = "shop.example.com"
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FIXTURES = SHARED / "fixtures" / "woocommerce"
needs_fixtures = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason="../shared/fixtures is not beside this clone; CI has it"
)


def make_line(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": 315,
        "name": "Woo Single #1",
        "product_id": 93,
        "quantity": 2,
        "subtotal": "6.00",
        "total": "6.00",
        "sku": "WOO-1",
        "price": 3,
    }
    return values | overrides


def make_order(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": 727,
        "currency": "USD",
        "date_created_gmt": "2017-03-22T19:28:02",
        "date_modified_gmt": "2017-03-22T19:28:08",
        "line_items": [make_line()],
    }
    return values | overrides


def properties_of(payload: dict[str, Any]) -> dict[str, str]:
    """Map a one-line order and return its line's HubSpot properties."""
    (single,) = to_inputs(to_order(payload, STORE))
    return dict(single.properties)


def load_errors(payload: object) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        to_order(payload, STORE)
    messages = caught.value.messages
    assert isinstance(messages, dict)
    return messages


# --- the saved sample, expected values worked out by hand from the file --------------------


@needs_fixtures
def test_the_sample_order_maps_to_the_expected_inputs() -> None:
    body = (FIXTURES / "order.rest-api-docs.v3.retrieve-example.json").read_bytes()

    order = to_order(parse_json(body), STORE)

    assert (order.source, order.store, order.order_id) == ("woocommerce", STORE, "727")
    assert order.currency == "USD"
    assert order.updated_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert to_inputs(order) == [
        LineItemInput(
            key="woocommerce:shop.example.com:315",
            order_key=("woocommerce", "shop.example.com", "727"),
            properties={
                "name": "Woo Single #1",
                "quantity": "2",
                "price": "3.00",
                "discount": "0.00",
                "hs_line_item_currency_code": "USD",
            },
        ),
        LineItemInput(
            key="woocommerce:shop.example.com:316",
            order_key=("woocommerce", "shop.example.com", "727"),
            properties={
                "name": "Ship Your Idea \u2013 Color: Black, Size: M Test",
                "quantity": "1",
                "price": "12.00",
                "discount": "0.00",
                "hs_sku": "Bar3",
                "hs_line_item_currency_code": "USD",
            },
        ),
    ]


# --- line values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("escaped", "decoded"),
    [
        ("Ship Your Idea &ndash; Black", "Ship Your Idea \u2013 Black"),
        ("Salt &amp; Pepper", "Salt & Pepper"),
        ("Kid&#039;s &quot;Tee&quot;", 'Kid\'s "Tee"'),
        ("Plain & simple", "Plain & simple"),
    ],
)
def test_html_entities_in_the_name_are_decoded(escaped: str, decoded: str) -> None:
    assert properties_of(make_order(line_items=[make_line(name=escaped)]))["name"] == decoded


def test_the_unit_price_is_the_subtotal_over_the_quantity() -> None:
    line = make_line(quantity=3, subtotal="10.00", total="10.00")

    assert properties_of(make_order(line_items=[line]))["price"] == "3.33"


def test_the_unit_discount_is_subtotal_less_total_over_the_quantity() -> None:
    line = make_line(quantity=3, subtotal="30.00", total="20.00")

    properties = properties_of(make_order(line_items=[line]))

    assert (properties["price"], properties["discount"]) == ("10.00", "3.33")


def test_a_zero_decimal_currency_rounds_to_whole_units() -> None:
    line = make_line(quantity=3, subtotal="2000", total="1000")

    properties = properties_of(make_order(currency="JPY", line_items=[line]))

    assert (properties["price"], properties["discount"]) == ("667", "333")


def test_a_three_decimal_currency_rounds_to_thousandths() -> None:
    line = make_line(quantity=3, subtotal="10.000", total="9.000")

    properties = properties_of(make_order(currency="KWD", line_items=[line]))

    assert (properties["price"], properties["discount"]) == ("3.333", "0.333")


@pytest.mark.parametrize(
    ("subtotal", "total", "price", "discount"),
    [("0.25", "0.00", "0.12", "0.12"), ("0.27", "0.00", "0.14", "0.14")],
)
def test_unit_amounts_round_half_to_even(
    subtotal: str, total: str, price: str, discount: str
) -> None:
    line = make_line(quantity=2, subtotal=subtotal, total=total)

    properties = properties_of(make_order(line_items=[line]))

    assert (properties["price"], properties["discount"]) == (price, discount)


def test_a_line_of_quantity_zero_takes_its_price_field_and_no_discount() -> None:
    line = make_line(quantity=0, subtotal="0.00", total="0.00", price=12)

    properties = properties_of(make_order(line_items=[line]))

    assert (properties["quantity"], properties["price"], properties["discount"]) == (
        "0",
        "12.00",
        "0.00",
    )


def test_a_line_of_quantity_zero_without_a_price_field_is_priced_zero() -> None:
    for price in (None, "absent"):
        line = make_line(quantity=0, subtotal="0.00", total="0.00", price=price)
        if price == "absent":
            del line["price"]

        assert properties_of(make_order(line_items=[line]))["price"] == "0.00"


def test_money_may_arrive_as_json_numbers_and_stays_decimal() -> None:
    line = make_line(quantity=2, subtotal=Decimal("6.5"), total=6)

    order = to_order(make_order(line_items=[line]), STORE)

    assert type(order.line_items[0].unit_price) is Decimal
    assert (order.line_items[0].unit_price, order.line_items[0].unit_discount) == (
        Decimal("3.25"),
        Decimal("0.25"),
    )


def test_a_json_float_in_the_body_maps_exactly() -> None:
    body = json.dumps(make_order()).replace('"subtotal": "6.00"', '"subtotal": 0.2').encode()
    body = body.replace(b'"total": "6.00"', b'"total": 0.2')

    order = to_order(parse_json(body), STORE)

    assert type(order.line_items[0].unit_price) is Decimal
    assert to_inputs(order)[0].properties["price"] == "0.10"


def test_sku_is_left_out_when_empty_null_or_absent() -> None:
    absent = make_line()
    del absent["sku"]

    for line in (make_line(sku=""), make_line(sku=None), absent):
        assert "hs_sku" not in properties_of(make_order(line_items=[line]))


# --- dates ---------------------------------------------------------------------------------


def test_updated_at_is_date_modified_gmt_read_as_utc() -> None:
    order = to_order(make_order(date_modified_gmt="2017-03-22T19:28:08"), STORE)

    assert order.updated_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert order.updated_at.utcoffset() == timedelta(0)


def test_updated_at_falls_back_to_date_created_gmt() -> None:
    absent = make_order()
    del absent["date_modified_gmt"]

    for payload in (make_order(date_modified_gmt=None), absent):
        order = to_order(payload, STORE)

        assert order.updated_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)


def test_an_order_without_either_gmt_date_is_rejected_on_date_modified_gmt() -> None:
    payload = make_order(date_modified_gmt=None)
    del payload["date_created_gmt"]

    assert load_errors(payload) == {
        "date_modified_gmt": [
            "Missing data for required field (date_modified_gmt or date_created_gmt)."
        ]
    }


def test_a_date_with_an_explicit_offset_keeps_it() -> None:
    order = to_order(make_order(date_modified_gmt="2017-03-22T19:28:08+02:00"), STORE)

    assert order.updated_at == datetime(2017, 3, 22, 17, 28, 8, tzinfo=UTC)


def test_a_malformed_date_is_reported_alone() -> None:
    assert load_errors(make_order(date_modified_gmt="22/03/2017")) == {
        "date_modified_gmt": ["Not a valid datetime."]
    }


# --- bad bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["id", "currency", "line_items"])
def test_a_missing_order_field_is_reported_by_name(field: str) -> None:
    payload = make_order()
    del payload[field]

    assert load_errors(payload) == {field: ["Missing data for required field."]}


@pytest.mark.parametrize("field", ["id", "name", "quantity", "subtotal", "total"])
def test_a_missing_line_field_is_reported_by_name_and_index(field: str) -> None:
    line = make_line()
    del line[field]

    messages = load_errors(make_order(line_items=[line]))

    assert messages == {"line_items": {0: {field: ["Missing data for required field."]}}}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantity": "abc"}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"subtotal": True}, "subtotal"),
        ({"subtotal": "-6.00"}, "subtotal"),
        ({"total": "six"}, "total"),
        ({"price": -3}, "price"),
        ({"price": 3.0}, "price"),
        ({"name": ""}, "name"),
        ({"id": False}, "id"),
        ({"id": Decimal("315")}, "id"),
    ],
)
def test_a_line_field_of_the_wrong_type_or_range_is_rejected_by_name(
    overrides: dict[str, Any], field: str
) -> None:
    messages = load_errors(make_order(line_items=[make_line(**overrides)]))

    assert list(messages) == ["line_items"]
    assert list(messages["line_items"][0]) == [field]


def test_a_line_total_edited_above_its_subtotal_is_priced_at_the_total_without_discount() -> None:
    line = make_line(quantity=2, subtotal="6.00", total="7.00")

    properties = properties_of(make_order(line_items=[line]))

    assert (properties["price"], properties["discount"]) == ("3.50", "0.00")


def test_two_lines_with_one_id_are_rejected() -> None:
    payload = make_order(line_items=[make_line(id=315), make_line(id=315)])

    assert load_errors(payload) == {"line_items": {1: {"id": ["Duplicate line item id."]}}}


def test_unknown_fields_are_ignored() -> None:
    line = make_line(meta_data=[{"id": 1, "key": "size", "value": "M"}], taxes=[])
    payload = make_order(line_items=[line], billing={"first_name": "John"}, _links={})

    assert properties_of(payload)["name"] == "Woo Single #1"


def test_ids_may_arrive_as_strings() -> None:
    order = to_order(make_order(id="727", line_items=[make_line(id="315")]), STORE)

    assert (order.order_id, order.line_items[0].id) == ("727", "315")


def test_a_rest_error_body_is_rejected_naming_the_missing_order_fields() -> None:
    # What WooCommerce sends when the webhook's user may not read the order.
    body = {"code": "woocommerce_rest_cannot_view", "message": "Sorry.", "data": {"status": 401}}

    assert set(load_errors(body)) == {"id", "currency", "line_items", "date_modified_gmt"}
