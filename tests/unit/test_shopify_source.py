"""Shopify order bodies into canonical orders and HubSpot inputs; parsing JSON bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from marshmallow import ValidationError

from service.domain import LineItemInput
from service.mapping import to_inputs
from service.sources import parse_json
from service.sources.shopify import to_order

STORE = "acme.myshopify.com"
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FIXTURES = SHARED / "fixtures" / "shopify"
needs_fixtures = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason="../shared/fixtures is not beside this clone; CI has it"
)
EDT = timezone(timedelta(hours=-4))
CDT = timezone(timedelta(hours=-5))


def load_fixture(name: str) -> object:
    return parse_json((FIXTURES / name).read_bytes())


def make_line(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": 1001,
        "name": "Snowboard - blue",
        "title": "Snowboard",
        "quantity": 1,
        "current_quantity": 1,
        "price": "100.00",
        "sku": "SB-BLUE",
        "discount_allocations": [],
    }
    return values | overrides


def make_order(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": 5001,
        "currency": "USD",
        "updated_at": "2024-06-26T12:33:21-04:00",
        "line_items": [make_line()],
    }
    return values | overrides


def properties_of(payload: dict[str, Any]) -> dict[str, str]:
    """Map a one-line order and return its line's HubSpot properties."""
    (single,) = to_inputs(to_order(payload, STORE))
    return dict(single.properties)


def allocations(*amounts: str) -> list[dict[str, Any]]:
    return [{"amount": amount, "discount_application_index": 0} for amount in amounts]


def load_errors(payload: object) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        to_order(payload, STORE)
    messages = caught.value.messages
    assert isinstance(messages, dict)
    return messages


# --- the saved samples, expected values worked out by hand from the files -----------------

# Order #1001 in both the partially refunded (test_8) and cancelled (test_13) fixtures:
# one 10.00 discount split 3.34/3.33/3.33 over three lines of quantity 1, two of them
# refunded (current_quantity 0).
ORDER_1001_INPUTS = [
    LineItemInput(
        key="shopify:acme.myshopify.com:466157049",
        order_key=("shopify", "acme.myshopify.com", "450789469"),
        properties={
            "name": "IPod Nano - 8gb - green",
            "quantity": "0",
            "price": "199.00",
            "discount": "3.34",
            "hs_sku": "IPOD2008GREEN",
            "hs_line_item_currency_code": "USD",
        },
    ),
    LineItemInput(
        key="shopify:acme.myshopify.com:518995019",
        order_key=("shopify", "acme.myshopify.com", "450789469"),
        properties={
            "name": "IPod Nano - 8gb - red",
            "quantity": "1",
            "price": "199.00",
            "discount": "3.33",
            "hs_sku": "IPOD2008RED",
            "hs_line_item_currency_code": "USD",
        },
    ),
    LineItemInput(
        key="shopify:acme.myshopify.com:703073504",
        order_key=("shopify", "acme.myshopify.com", "450789469"),
        properties={
            "name": "IPod Nano - 8gb - black",
            "quantity": "0",
            "price": "199.00",
            "discount": "3.33",
            "hs_sku": "IPOD2008BLACK",
            "hs_line_item_currency_code": "USD",
        },
    ),
]

SAMPLES = [
    pytest.param(
        "orders-create.shopify-test-notification.kanvas.json",
        "820982911946154508",
        datetime(2024, 6, 26, 12, 33, 21, tzinfo=EDT),
        [
            LineItemInput(
                key="shopify:acme.myshopify.com:866550311766439020",
                order_key=("shopify", "acme.myshopify.com", "820982911946154508"),
                properties={
                    "name": "The Videographer Snowboard",
                    "quantity": "1",
                    "price": "885.95",
                    "discount": "0.00",
                    "hs_line_item_currency_code": "USD",
                },
            ),
            LineItemInput(
                key="shopify:acme.myshopify.com:141249953214522974",
                order_key=("shopify", "acme.myshopify.com", "820982911946154508"),
                properties={
                    "name": "The Complete Snowboard",
                    "quantity": "1",
                    "price": "699.95",
                    "discount": "0.00",
                    "hs_line_item_currency_code": "USD",
                },
            ),
        ],
        id="test-notification",
    ),
    pytest.param(
        "order.rest-fixture.shopify-app-js.2026-07.test_8.partially-refunded.json",
        "450789469",
        datetime(2008, 1, 10, 11, 0, 0, tzinfo=CDT),
        ORDER_1001_INPUTS,
        id="partially-refunded",
    ),
    pytest.param(
        "order.rest-fixture.shopify-app-js.2026-07.test_13.cancelled.json",
        "450789469",
        datetime(2025, 4, 2, 11, 31, 25, tzinfo=CDT),
        ORDER_1001_INPUTS,
        id="cancelled",
    ),
    pytest.param(
        "order.rest-fixture.shopify-app-js.2026-07.test_24.custom-line-items.json",
        "1073459963",
        datetime(2025, 4, 2, 11, 30, 45, tzinfo=CDT),
        [
            LineItemInput(
                key="shopify:acme.myshopify.com:1071823173",
                order_key=("shopify", "acme.myshopify.com", "1073459963"),
                properties={
                    "name": "Red Leather Coat",
                    "quantity": "1",
                    "price": "129.99",
                    "discount": "0.00",
                    "hs_line_item_currency_code": "USD",
                },
            ),
            LineItemInput(
                key="shopify:acme.myshopify.com:1071823174",
                order_key=("shopify", "acme.myshopify.com", "1073459963"),
                properties={
                    "name": "Blue Suede Shoes",
                    "quantity": "1",
                    "price": "85.95",
                    "discount": "0.00",
                    "hs_line_item_currency_code": "USD",
                },
            ),
            LineItemInput(
                key="shopify:acme.myshopify.com:1071823175",
                order_key=("shopify", "acme.myshopify.com", "1073459963"),
                properties={
                    "name": "Raspberry Beret",
                    "quantity": "2",
                    "price": "19.99",
                    "discount": "0.00",
                    "hs_line_item_currency_code": "USD",
                },
            ),
        ],
        id="custom-line-items",
    ),
]


@needs_fixtures
@pytest.mark.parametrize(("name", "order_id", "updated_at", "expected"), SAMPLES)
def test_each_sample_order_maps_to_the_expected_inputs(
    name: str, order_id: str, updated_at: datetime, expected: list[LineItemInput]
) -> None:
    order = to_order(load_fixture(name), STORE)

    assert (order.source, order.store, order.order_id) == ("shopify", STORE, order_id)
    assert order.currency == "USD"
    assert order.updated_at == updated_at
    assert order.updated_at.utcoffset() == updated_at.utcoffset()
    assert to_inputs(order) == expected


@needs_fixtures
def test_ids_above_2_to_the_53_are_kept_exact() -> None:
    order = to_order(load_fixture("orders-create.shopify-test-notification.kanvas.json"), STORE)

    assert order.order_id == "820982911946154508"
    assert [line.id for line in order.line_items] == ["866550311766439020", "141249953214522974"]
    # The ids do not survive a trip through a float, so the check above means something.
    assert int(float(820982911946154508)) != 820982911946154508


@needs_fixtures
def test_the_refund_sample_is_not_an_order_and_is_rejected_naming_the_missing_fields() -> None:
    messages = load_errors(load_fixture("refund.rest-fixture.shopify-app-js.2026-07.test_2.json"))

    assert messages == {
        "currency": ["Missing data for required field."],
        "updated_at": ["Missing data for required field."],
        "line_items": ["Missing data for required field."],
    }


# --- line values ---------------------------------------------------------------------------


def test_the_name_falls_back_to_the_title() -> None:
    for name in (None, ""):
        payload = make_order(line_items=[make_line(name=name, title="Snowboard")])

        assert properties_of(payload)["name"] == "Snowboard"


def test_a_line_without_name_or_title_is_rejected_on_name() -> None:
    line = make_line()
    del line["name"], line["title"]

    messages = load_errors(make_order(line_items=[line]))

    assert messages == {
        "line_items": {0: {"name": ["Missing data for required field (name or title)."]}}
    }


def test_quantity_is_the_current_quantity_when_present() -> None:
    payload = make_order(line_items=[make_line(quantity=3, current_quantity=1)])

    assert properties_of(payload)["quantity"] == "1"


def test_quantity_is_the_ordered_quantity_when_current_quantity_is_absent_or_null() -> None:
    absent = make_line(quantity=3)
    del absent["current_quantity"]
    null = make_line(quantity=3, current_quantity=None)

    for line in (absent, null):
        assert properties_of(make_order(line_items=[line]))["quantity"] == "3"


def test_the_unit_discount_divides_the_allocations_by_the_ordered_quantity() -> None:
    line = make_line(quantity=3, current_quantity=1, discount_allocations=allocations("10.00"))

    assert properties_of(make_order(line_items=[line]))["discount"] == "3.33"


def test_the_unit_discount_sums_every_allocation() -> None:
    line = make_line(quantity=2, discount_allocations=allocations("1.00", "2.00"))

    assert properties_of(make_order(line_items=[line]))["discount"] == "1.50"


def test_a_line_without_discount_allocations_has_no_discount() -> None:
    empty: list[Any] | None
    for empty in ([], None):
        line = make_line(discount_allocations=empty)

        assert properties_of(make_order(line_items=[line]))["discount"] == "0.00"


def test_a_line_ordered_zero_times_has_no_unit_discount() -> None:
    line = make_line(quantity=0, current_quantity=0, discount_allocations=allocations("5.00"))

    properties = properties_of(make_order(line_items=[line]))

    assert (properties["quantity"], properties["discount"]) == ("0", "0.00")


def test_a_zero_decimal_currency_rounds_to_whole_units() -> None:
    line = make_line(quantity=3, price="1500", discount_allocations=allocations("1000"))

    properties = properties_of(make_order(currency="JPY", line_items=[line]))

    assert (properties["price"], properties["discount"]) == ("1500", "333")


def test_a_three_decimal_currency_rounds_to_thousandths() -> None:
    line = make_line(quantity=3, price="12.3456", discount_allocations=allocations("1.000"))

    properties = properties_of(make_order(currency="KWD", line_items=[line]))

    assert (properties["price"], properties["discount"]) == ("12.346", "0.333")


@pytest.mark.parametrize(
    ("amount", "quantity", "expected"),
    [("0.25", 2, "0.12"), ("0.27", 2, "0.14"), ("0.125", 1, "0.12"), ("0.135", 1, "0.14")],
)
def test_the_unit_discount_rounds_half_to_even(amount: str, quantity: int, expected: str) -> None:
    line = make_line(quantity=quantity, discount_allocations=allocations(amount))

    assert properties_of(make_order(line_items=[line]))["discount"] == expected


def test_sku_is_left_out_when_null_or_empty() -> None:
    for sku in (None, ""):
        properties = properties_of(make_order(line_items=[make_line(sku=sku)]))

        assert "hs_sku" not in properties


def test_ids_may_arrive_as_strings() -> None:
    order = to_order(make_order(id="5001", line_items=[make_line(id="1001")]), STORE)

    assert (order.order_id, order.line_items[0].id) == ("5001", "1001")


def test_the_currency_code_is_upper_cased() -> None:
    assert to_order(make_order(currency="usd"), STORE).currency == "USD"


def test_an_order_may_have_no_line_items() -> None:
    assert to_order(make_order(line_items=[]), STORE).line_items == ()


def test_updated_at_is_an_aware_datetime_with_the_sent_offset() -> None:
    order = to_order(make_order(updated_at="2024-06-26T12:33:21-04:00"), STORE)

    assert order.updated_at == datetime(2024, 6, 26, 16, 33, 21, tzinfo=UTC)
    assert order.updated_at.utcoffset() == timedelta(hours=-4)


def test_unknown_fields_are_ignored() -> None:
    line = make_line(vendor="Acme", tax_lines=[{"rate": Decimal("0.06")}], gift_card=False)
    payload = make_order(line_items=[line], test=True, customer={"id": 1}, note=None)

    assert properties_of(payload)["name"] == "Snowboard - blue"


# --- floats never enter --------------------------------------------------------------------


def test_a_json_float_price_arrives_as_a_decimal_and_maps_exactly() -> None:
    body = json.dumps(make_order()).replace('"price": "100.00"', '"price": 0.1').encode()

    order = to_order(parse_json(body), STORE)

    assert type(order.line_items[0].unit_price) is Decimal
    assert to_inputs(order)[0].properties["price"] == "0.10"


def test_a_python_float_price_is_rejected_rather_than_guessed() -> None:
    messages = load_errors(make_order(line_items=[make_line(price=0.1)]))

    assert messages == {
        "line_items": {0: {"price": ["Not a valid amount: expected a decimal string or number."]}}
    }


# --- bad bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["id", "currency", "updated_at", "line_items"])
def test_a_missing_order_field_is_reported_by_name(field: str) -> None:
    payload = make_order()
    del payload[field]

    assert load_errors(payload) == {field: ["Missing data for required field."]}


@pytest.mark.parametrize("field", ["id", "quantity", "price"])
def test_a_missing_line_field_is_reported_by_name_and_index(field: str) -> None:
    line = make_line()
    del line[field]

    messages = load_errors(make_order(line_items=[make_line(id=1), line]))

    assert messages == {"line_items": {1: {field: ["Missing data for required field."]}}}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantity": "abc"}, "quantity"),
        ({"quantity": "2"}, "quantity"),
        ({"quantity": Decimal("1.5")}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"current_quantity": -1}, "current_quantity"),
        ({"price": True}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": "NaN"}, "price"),
        ({"price": "-1.00"}, "price"),
        ({"price": "1e20"}, "price"),
        ({"id": True}, "id"),
        ({"id": Decimal("1001.0")}, "id"),
        ({"id": -5}, "id"),
        ({"id": ""}, "id"),
        ({"id": "a:b"}, "id"),
        ({"sku": 12}, "sku"),
        ({"discount_allocations": [{"amount": "-1.00"}]}, "discount_allocations"),
    ],
)
def test_a_line_field_of_the_wrong_type_or_range_is_rejected_by_name(
    overrides: dict[str, Any], field: str
) -> None:
    messages = load_errors(make_order(line_items=[make_line(**overrides)]))

    assert list(messages) == ["line_items"]
    assert list(messages["line_items"][0]) == [field]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"currency": "US"}, "currency"),
        ({"currency": "US1"}, "currency"),
        ({"currency": None}, "currency"),
        ({"updated_at": "2024-06-26T12:33:21"}, "updated_at"),
        ({"updated_at": "yesterday"}, "updated_at"),
        ({"id": 2**64}, "id"),
        ({"line_items": {"0": {}}}, "line_items"),
    ],
)
def test_an_order_field_of_the_wrong_type_is_rejected_by_name(
    overrides: dict[str, Any], field: str
) -> None:
    assert list(load_errors(make_order(**overrides))) == [field]


def test_two_lines_with_one_id_are_rejected() -> None:
    payload = make_order(line_items=[make_line(id=7), make_line(id=8), make_line(id=7)])

    assert load_errors(payload) == {"line_items": {2: {"id": ["Duplicate line item id."]}}}


@pytest.mark.parametrize("body", [b"[]", b'"order"', b"null", b"42"])
def test_a_body_that_is_not_a_json_object_is_rejected(body: bytes) -> None:
    assert load_errors(parse_json(body)) == {"_schema": ["Invalid input type."]}


# --- parse_json ----------------------------------------------------------------------------


def test_parse_json_keeps_large_integers_exact_and_fractions_as_decimals() -> None:
    parsed = parse_json(b'{"id": 820982911946154508, "price": 0.1, "rate": 1e2}')

    assert parsed == {"id": 820982911946154508, "price": Decimal("0.1"), "rate": Decimal("1E+2")}
    assert isinstance(parsed, dict)
    assert type(parsed["price"]) is Decimal


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b'{"a": 1,}', b"\xff\xfe{}", b'{"name": "caf\xe9"}', b'{"price": NaN}'],
    ids=["empty", "truncated", "trailing-comma", "utf-16-bom", "latin-1", "nan"],
)
def test_parse_json_raises_value_error_on_anything_but_utf8_json(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_json(body)


def test_parse_json_refuses_infinity() -> None:
    with pytest.raises(ValueError, match="Infinity"):
        parse_json(b'{"price": -Infinity}')
