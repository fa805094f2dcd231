"""WooCommerce order bodies into canonical orders and HubSpot inputs."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from marshmallow import ValidationError

from service.domain import Address, Buyer, LineItemInput, OrderStatus, Totals
from service.mapping import to_inputs
from service.sources import parse_json
from service.sources.woocommerce import to_order
from tests.conftest import require_shared

STORE = "shop.example.com"
SAMPLE = ("fixtures", "woocommerce", "order.rest-api-docs.v3.retrieve-example.json")


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


def test_the_sample_order_maps_to_the_expected_inputs() -> None:
    body = require_shared(*SAMPLE).read_bytes()

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


# --- the order beyond its lines ------------------------------------------------------------

JOHN_DOE = {
    "first_name": "John",
    "last_name": "Doe",
    "company": "",
    "address_1": "969 Market",
    "address_2": "",
    "city": "San Francisco",
    "state": "CA",
    "postcode": "94103",
    "country": "US",
}


def test_the_sample_order_has_its_name_status_totals_buyer_and_addresses() -> None:
    order = to_order(parse_json(require_shared(*SAMPLE).read_bytes()), STORE)

    assert (order.name, order.created_at) == ("#727", datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC))
    assert (order.status, order.payment_status, order.fulfillment_status) == (
        OrderStatus.PROCESSED,
        "paid",  # date_paid_gmt is set
        "unfulfilled",
    )
    assert order.totals == Totals(
        subtotal=Decimal("18.00"),  # 6.00 + 12.00, the lines after coupons
        discounts=Decimal("0.00"),
        tax=Decimal("1.35"),
        shipping=Decimal("10.00"),
        total=Decimal("29.35"),
        refunded=Decimal("0.00"),  # refunds: []
    )
    # customer_id 0: a guest, known only by the billing details.
    assert order.buyer == Buyer(
        email="john.doe@example.com", first_name="John", last_name="Doe", phone="(555) 555-5555"
    )
    address = Address(
        name="John Doe",
        first_name="John",
        last_name="Doe",
        street="969 Market",
        city="San Francisco",
        state="CA",
        postal_code="94103",
        country="US",
    )
    assert order.billing == replace(address, email="john.doe@example.com", phone="(555) 555-5555")
    assert order.shipping == address


def test_an_order_with_only_what_line_items_need_loads_with_nothing_else_known() -> None:
    order = to_order(make_order(), STORE)

    assert (order.name, order.status, order.payment_status) == ("#727", OrderStatus.OPEN, "pending")
    assert order.totals == Totals(subtotal=Decimal("6.00"))
    assert (order.buyer, order.billing, order.shipping) == (None, None, None)


def test_every_new_field_may_be_null() -> None:
    nulls = dict.fromkeys(NEW_ORDER_FIELDS)

    order = to_order(make_order(**nulls), STORE)

    assert order.totals == Totals(subtotal=Decimal("6.00"))
    assert (order.name, order.buyer, order.billing) == ("#727", None, None)


def test_the_name_is_the_order_number_or_else_the_id() -> None:
    assert to_order(make_order(number="WC-2024-0042"), STORE).name == "#WC-2024-0042"
    assert to_order(make_order(number=1042), STORE).name == "#1042"
    assert to_order(make_order(number=""), STORE).name == "#727"


# --- status: one test per row of the table -------------------------------------------------


def loaded(**overrides: Any) -> Any:
    return to_order(make_order(**overrides), STORE)


def test_a_cancelled_order_is_cancelled() -> None:
    assert loaded(status="cancelled").status is OrderStatus.CANCELLED


def test_a_completed_order_is_shipped_and_fulfilled() -> None:
    order = loaded(status="completed")

    assert (order.status, order.fulfillment_status) == (OrderStatus.SHIPPED, "fulfilled")


def test_a_processing_order_is_processed_and_unfulfilled() -> None:
    order = loaded(status="processing")

    assert (order.status, order.fulfillment_status) == (OrderStatus.PROCESSED, "unfulfilled")


def test_a_refunded_order_is_processed_with_the_refund_in_its_amounts() -> None:
    order = loaded(status="refunded", total="29.35", refunds=[{"id": 1, "total": "-29.35"}])

    assert (order.status, order.payment_status) == (OrderStatus.PROCESSED, "refunded")
    assert (order.totals.total, order.totals.refunded) == (Decimal("0.00"), Decimal("29.35"))


@pytest.mark.parametrize(
    "status", ["pending", "on-hold", "failed", "checkout-draft", "trash", "shipped-by-plugin", None]
)
def test_any_other_status_is_open(status: str | None) -> None:
    assert loaded(status=status).status is OrderStatus.OPEN


# --- payment status, in Shopify's words ----------------------------------------------------


def test_the_payment_status_of_a_refunded_order_is_refunded() -> None:
    assert loaded(status="refunded", date_paid_gmt="2017-03-22T19:28:08").payment_status == (
        "refunded"
    )


def test_an_order_with_a_refund_is_partially_refunded() -> None:
    order = loaded(status="processing", refunds=[{"id": 1, "total": "-1.00"}])

    assert order.payment_status == "partially_refunded"


def test_an_order_with_a_payment_date_is_paid_and_one_without_is_pending() -> None:
    assert loaded(date_paid_gmt="2017-03-22T19:28:08", refunds=[]).payment_status == "paid"
    assert loaded(date_paid_gmt=None).payment_status == "pending"


# --- totals --------------------------------------------------------------------------------


def test_the_subtotal_sums_the_line_totals_after_coupons() -> None:
    lines = [make_line(id=1, subtotal="10.00", total="8.00"), make_line(id=2, total="5.555")]

    assert loaded(line_items=lines).totals.subtotal == Decimal("13.56")  # 13.555, half-even


def test_the_order_amounts_are_read_and_rounded_to_the_minor_unit() -> None:
    totals = loaded(
        currency="JPY",
        discount_total="100",
        total_tax=Decimal("80.5"),
        shipping_total=500,
        total="3480.5",
        line_items=[make_line(subtotal="3000", total="2900")],
    ).totals

    assert (totals.discounts, totals.tax, totals.shipping, totals.total) == (
        Decimal("100"),
        Decimal("80"),
        Decimal("500"),
        Decimal("3480"),
    )


def test_refunds_arrive_as_negative_totals_and_lower_the_total() -> None:
    refunds = [{"id": 1, "reason": "", "total": "-10.00"}, {"id": 2, "total": "-2.5"}]

    totals = loaded(total="29.35", refunds=refunds).totals

    assert (totals.refunded, totals.total) == (Decimal("12.50"), Decimal("16.85"))


def test_a_refund_total_under_the_key_refund_counts_too() -> None:
    refunds = [{"id": 1, "refund": "-4.00"}, {"id": 2, "total": "-1.00", "refund": "-9.00"}]

    assert loaded(refunds=refunds).totals.refunded == Decimal("5.00")


def test_refunded_is_zero_without_refunds_and_unknown_when_the_body_does_not_say() -> None:
    assert loaded(refunds=[]).totals.refunded == Decimal("0.00")
    absent = loaded(total="29.35").totals

    assert (absent.refunded, absent.total) == (None, Decimal("29.35"))


# --- buyer and addresses -------------------------------------------------------------------


def test_the_buyer_comes_from_the_billing_address_and_the_customer_id() -> None:
    billing = JOHN_DOE | {"email": "john.doe@example.com", "phone": "(555) 555-5555"}

    buyer = loaded(customer_id=26, billing=billing).buyer

    assert buyer == Buyer(
        email="john.doe@example.com",
        first_name="John",
        last_name="Doe",
        phone="(555) 555-5555",
        customer_id="26",
    )


def test_a_guest_has_no_customer_id() -> None:
    assert loaded(customer_id=0, billing=JOHN_DOE).buyer == Buyer(
        first_name="John", last_name="Doe"
    )
    assert loaded(customer_id=0).buyer is None


def test_an_address_joins_its_lines_and_names_and_leaves_empty_values_out() -> None:
    shipping = JOHN_DOE | {
        "first_name": "",
        "address_2": "Floor 2",
        "company": "Acme",
        "phone": "+1 555",
    }

    address = loaded(shipping=shipping).shipping

    assert address == Address(
        name="Doe",
        last_name="Doe",
        company="Acme",
        street="969 Market, Floor 2",
        city="San Francisco",
        state="CA",
        postal_code="94103",
        country="US",
        phone="+1 555",
    )


def test_a_postcode_or_phone_sent_as_a_number_is_kept_as_its_digits() -> None:
    billing = loaded(billing=JOHN_DOE | {"postcode": 94103, "phone": 5555555555}).billing

    assert billing is not None
    assert (billing.postal_code, billing.phone) == ("94103", "5555555555")


def test_a_null_or_empty_address_is_no_address() -> None:
    order = loaded(billing=None, shipping=dict.fromkeys(JOHN_DOE, ""))

    assert (order.billing, order.shipping) == (None, None)


# --- the new fields' bad types, named by path ----------------------------------------------

# Every body field the relay reads beyond line items: each optional and nullable.
NEW_ORDER_FIELDS = [
    "number",
    "status",
    "date_paid_gmt",
    "customer_id",
    "discount_total",
    "shipping_total",
    "total_tax",
    "total",
    "refunds",
    "billing",
    "shipping",
]


@pytest.mark.parametrize("field", NEW_ORDER_FIELDS)
def test_a_new_order_field_of_the_wrong_type_is_rejected_by_name(field: str) -> None:
    assert list(load_errors(make_order(**{field: True}))) == [field]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"total": "-1.00"}, {"total": ["Must not be negative."]}),
        (
            {"customer_id": -1},
            {"customer_id": ["Not a valid id: expected an integer or an id string."]},
        ),
        ({"billing": "John"}, {"billing": ["Invalid type."]}),
        ({"billing": {"email": 7}}, {"billing": {"email": ["Not a valid string."]}}),
        ({"shipping": {"postcode": [94103]}}, {"shipping": {"postcode": ["Not a valid string."]}}),
        (
            {"refunds": [{"total": "-1.00"}, {"total": "minus ten"}]},
            {
                "refunds": {
                    1: {"total": ["Not a valid amount: expected a decimal string or number."]}
                }
            },
        ),
        ({"refunds": [{"refund": "-1e15"}]}, {"refunds": {0: {"refund": ["Amount too large."]}}}),
        ({"refunds": {"total": "-1.00"}}, {"refunds": ["Not a valid list."]}),
    ],
)
def test_a_bad_nested_value_is_rejected_naming_its_path(
    overrides: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert load_errors(make_order(**overrides)) == expected
