"""Shopify order bodies into canonical orders and HubSpot inputs; parsing JSON bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from marshmallow import ValidationError

from service.domain import Address, Buyer, LineItemInput, OrderStatus, Totals
from service.mapping import to_inputs
from service.sources import parse_json
from service.sources.shopify import to_order
from tests.conftest import require_shared

STORE = "acme.myshopify.com"
EDT = timezone(timedelta(hours=-4))
CDT = timezone(timedelta(hours=-5))


def load_fixture(name: str) -> object:
    """A saved Shopify body, read in place from ../shared (skips where it is absent)."""
    return parse_json(require_shared("fixtures", "shopify", name).read_bytes())


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


def test_ids_above_2_to_the_53_are_kept_exact() -> None:
    order = to_order(load_fixture("orders-create.shopify-test-notification.kanvas.json"), STORE)

    assert order.order_id == "820982911946154508"
    assert [line.id for line in order.line_items] == ["866550311766439020", "141249953214522974"]
    # The ids do not survive a trip through a float, so the check above means something.
    assert int(float(820982911946154508)) != 820982911946154508


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


# --- the order beyond its lines: the saved samples ------------------------------------------

PARTIALLY_REFUNDED = "order.rest-fixture.shopify-app-js.2026-07.test_8.partially-refunded.json"
BOB_NORMAN_ADDRESS = Address(
    name="Bob Norman",
    first_name="Bob",
    last_name="Norman",
    street="Chestnut Street 92",
    city="Louisville",
    state="Kentucky",
    postal_code="40202",
    country="United States",
    phone="+1(502)-459-2181",
)


def test_the_partially_refunded_sample_has_net_totals_and_the_refund() -> None:
    order = to_order(load_fixture(PARTIALLY_REFUNDED), STORE)

    # current_* (net of the refund), not the gross 597.00 / 10.00 / 11.94 / 598.94.
    assert order.totals == Totals(
        subtotal=Decimal("195.67"),
        discounts=Decimal("3.33"),
        tax=Decimal("3.98"),
        shipping=Decimal("0.00"),
        total=Decimal("199.65"),
        refunded=Decimal("209.00"),
    )
    assert (order.status, order.payment_status) == (OrderStatus.PROCESSED, "partially_refunded")


def test_the_partially_refunded_sample_has_its_name_date_buyer_and_addresses() -> None:
    order = to_order(load_fixture(PARTIALLY_REFUNDED), STORE)

    assert order.name == "#1001"
    assert order.created_at == datetime(2008, 1, 10, 11, 0, 0, tzinfo=CDT)
    assert order.fulfillment_status == "unfulfilled"  # null in the body
    assert order.buyer == Buyer(
        email="bob.norman@mail.example.com",
        first_name="Bob",
        last_name="Norman",
        phone="+16136120707",  # the customer's, before the order's +557734881234
        customer_id="207119551",
    )
    assert order.billing == BOB_NORMAN_ADDRESS  # address2 "" and company null left out
    assert order.shipping == BOB_NORMAN_ADDRESS


def test_the_cancelled_sample_is_cancelled_although_partially_refunded() -> None:
    order = to_order(
        load_fixture("order.rest-fixture.shopify-app-js.2026-07.test_13.cancelled.json"), STORE
    )

    assert order.status is OrderStatus.CANCELLED
    assert order.payment_status == "partially_refunded"
    assert order.totals.refunded == Decimal("209.00")


def test_the_custom_line_items_sample_without_customer_or_email_loads_without_a_buyer() -> None:
    order = to_order(
        load_fixture("order.rest-fixture.shopify-app-js.2026-07.test_24.custom-line-items.json"),
        STORE,
    )

    # customer null, email "", no addresses: nothing is known of the buyer.
    assert (order.buyer, order.billing, order.shipping) == (None, None, None)
    assert order.status is OrderStatus.PROCESSED  # paid, not fulfilled
    assert order.totals == Totals(
        subtotal=Decimal("255.92"),
        discounts=Decimal("0.00"),
        tax=Decimal("14.45"),
        shipping=Decimal("0.00"),
        total=Decimal("270.37"),
        refunded=Decimal("0.00"),  # refunds: []
    )


def test_the_test_notification_keeps_its_pending_fulfillment_status_and_is_cancelled() -> None:
    order = to_order(load_fixture("orders-create.shopify-test-notification.kanvas.json"), STORE)

    assert (order.fulfillment_status, order.payment_status) == ("pending", "voided")
    assert order.status is OrderStatus.CANCELLED
    assert order.totals.shipping == Decimal("10.00")
    assert order.buyer is not None
    # The order's own email wins over the customer record's john@example.com.
    assert (order.buyer.email, order.buyer.customer_id) == ("jon@example.com", "115310627314723954")


# --- status: one test per row of HubSpot's Shopify-sync table ------------------------------


def fulfillment(status: str = "success", shipment_status: str | None = None) -> dict[str, Any]:
    return {"id": 1, "status": status, "shipment_status": shipment_status}


def status_of(**overrides: Any) -> OrderStatus:
    return to_order(make_order(**overrides), STORE).status


def test_a_cancelled_order_is_cancelled_even_when_paid_fulfilled_and_delivered() -> None:
    assert (
        status_of(
            cancelled_at="2026-11-27T10:00:00-05:00",
            financial_status="paid",
            fulfillment_status="fulfilled",
            fulfillments=[fulfillment(shipment_status="delivered")],
        )
        is OrderStatus.CANCELLED
    )


def test_a_fulfilled_order_whose_successful_fulfillments_were_all_delivered_is_delivered() -> None:
    fulfillments = [
        fulfillment(shipment_status="delivered"),
        fulfillment(status="cancelled", shipment_status=None),  # not a successful one
        fulfillment(shipment_status="delivered"),
    ]

    assert (
        status_of(fulfillment_status="fulfilled", fulfillments=fulfillments)
        is OrderStatus.DELIVERED
    )


def test_a_fulfilled_order_with_a_shipment_still_on_its_way_is_shipped() -> None:
    fulfillments = [fulfillment(shipment_status="delivered"), fulfillment("success", "in_transit")]

    assert status_of(fulfillment_status="fulfilled", fulfillments=fulfillments) is (
        OrderStatus.SHIPPED
    )


@pytest.mark.parametrize(
    "fulfillments",
    [None, [], [fulfillment(status="failure", shipment_status="delivered")]],
    ids=["absent", "none", "only-failed"],
)
def test_a_fulfilled_order_without_a_successful_fulfillment_is_shipped(
    fulfillments: list[dict[str, Any]] | None,
) -> None:
    assert status_of(fulfillment_status="fulfilled", fulfillments=fulfillments) is (
        OrderStatus.SHIPPED
    )


@pytest.mark.parametrize("financial_status", ["paid", "partially_refunded", "refunded"])
def test_a_paid_or_refunded_order_not_fulfilled_is_processed(financial_status: str) -> None:
    assert (
        status_of(financial_status=financial_status, fulfillment_status="partial")
        is OrderStatus.PROCESSED
    )


@pytest.mark.parametrize(
    "financial_status", ["pending", "authorized", "partially_paid", "voided", "expired", None]
)
def test_an_order_neither_cancelled_fulfilled_nor_paid_is_open(
    financial_status: str | None,
) -> None:
    assert status_of(financial_status=financial_status) is OrderStatus.OPEN


def test_an_unknown_fulfillment_status_is_kept_as_sent_and_does_not_count_as_fulfilled() -> None:
    order = to_order(make_order(fulfillment_status="pending", financial_status="paid"), STORE)

    assert (order.fulfillment_status, order.status) == ("pending", OrderStatus.PROCESSED)


# --- the other order values ----------------------------------------------------------------


def test_an_order_with_only_what_line_items_need_loads_with_nothing_else_known() -> None:
    order = to_order(make_order(), STORE)

    assert (order.name, order.created_at, order.payment_status) == (None, None, None)
    assert (order.status, order.fulfillment_status) == (OrderStatus.OPEN, "unfulfilled")
    assert order.totals == Totals()
    assert (order.buyer, order.billing, order.shipping) == (None, None, None)


# Every body field the relay reads beyond line items: each optional and nullable.
NEW_ORDER_FIELDS = [
    "name",
    "created_at",
    "cancelled_at",
    "financial_status",
    "fulfillment_status",
    "email",
    "contact_email",
    "phone",
    "customer",
    "billing_address",
    "shipping_address",
    "subtotal_price",
    "current_subtotal_price",
    "total_discounts",
    "current_total_discounts",
    "total_tax",
    "current_total_tax",
    "total_price",
    "current_total_price",
    "total_shipping_price_set",
    "shipping_lines",
    "fulfillments",
    "refunds",
]


def test_every_new_field_may_be_null() -> None:
    nulls = dict.fromkeys(NEW_ORDER_FIELDS)

    order = to_order(make_order(**nulls), STORE)

    assert order.totals == Totals()
    assert (order.buyer, order.billing, order.status) == (None, None, OrderStatus.OPEN)


def test_the_payment_status_is_shopifys_financial_status() -> None:
    assert to_order(make_order(financial_status="authorized"), STORE).payment_status == (
        "authorized"
    )


def test_created_at_keeps_its_offset() -> None:
    order = to_order(make_order(created_at="2026-11-27T09:15:00+09:00"), STORE)

    assert order.created_at == datetime(2026, 11, 27, 0, 15, tzinfo=UTC)
    assert order.created_at is not None
    assert order.created_at.utcoffset() == timedelta(hours=9)


# --- totals --------------------------------------------------------------------------------

NET_AND_GROSS = {
    "current_subtotal_price": "90.00",
    "subtotal_price": "100.00",
    "current_total_discounts": "4.00",
    "total_discounts": "5.00",
    "current_total_tax": "9.00",
    "total_tax": "10.00",
    "current_total_price": "99.00",
    "total_price": "110.00",
}


def totals_of(**overrides: Any) -> Totals:
    return to_order(make_order(**overrides), STORE).totals


def test_totals_are_the_current_figures_net_of_refunds() -> None:
    totals = totals_of(**NET_AND_GROSS)

    assert (totals.subtotal, totals.discounts, totals.tax, totals.total) == (
        Decimal("90.00"),
        Decimal("4.00"),
        Decimal("9.00"),
        Decimal("99.00"),
    )


@pytest.mark.parametrize("missing", ["absent", "null"])
def test_totals_fall_back_to_the_plain_figures_without_current_ones(missing: str) -> None:
    body = {k: v for k, v in NET_AND_GROSS.items() if not k.startswith("current_")}
    if missing == "null":
        body |= {k: None for k in NET_AND_GROSS if k.startswith("current_")}

    totals = totals_of(**body)

    assert (totals.subtotal, totals.discounts, totals.tax, totals.total) == (
        Decimal("100.00"),
        Decimal("5.00"),
        Decimal("10.00"),
        Decimal("110.00"),
    )


def test_totals_round_to_the_currencys_minor_unit() -> None:
    totals = totals_of(currency="JPY", current_total_price="1500.50", total_tax="120.5")

    assert (totals.total, totals.tax) == (Decimal("1500"), Decimal("120"))  # half to even


def test_shipping_is_the_shop_money_of_the_shipping_price_set() -> None:
    price_set = {
        "shop_money": {"amount": "7.50", "currency_code": "USD"},
        "presentment_money": {"amount": "6.90", "currency_code": "EUR"},
    }

    totals = totals_of(total_shipping_price_set=price_set, shipping_lines=[{"price": "1.00"}])

    assert totals.shipping == Decimal("7.50")


def test_shipping_falls_back_to_the_sum_of_the_shipping_lines() -> None:
    lines = [{"price": "4.00"}, {"price": "2.5"}]

    for price_set in (None, {"shop_money": None}, {"shop_money": {"amount": None}}):
        assert totals_of(total_shipping_price_set=price_set, shipping_lines=lines).shipping == (
            Decimal("6.50")
        )
    assert totals_of(shipping_lines=[]).shipping == Decimal("0.00")
    assert totals_of().shipping is None


def refund(*transactions: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "id": 1,
        "transactions": [
            {"kind": kind, "status": status, "amount": amount}
            for kind, status, amount in transactions
        ],
    }


def test_refunded_sums_the_successful_refund_transactions_only() -> None:
    refunds = [
        refund(("refund", "success", "10.00"), ("refund", "failure", "99.00")),
        refund(("sale", "success", "50.00"), ("refund", "success", "2.50")),
        {"id": 3, "transactions": []},
    ]

    assert totals_of(refunds=refunds).refunded == Decimal("12.50")


def test_refunded_is_zero_for_no_refunds_and_unknown_when_shopify_does_not_say() -> None:
    assert totals_of(refunds=[]).refunded == Decimal("0.00")
    assert totals_of(refunds=None).refunded is None
    assert totals_of().refunded is None


# --- buyer ---------------------------------------------------------------------------------

CUSTOMER = {
    "id": 207119551,
    "email": "customer@example.com",
    "first_name": "Bob",
    "last_name": "Norman",
    "phone": "+16136120707",
}
BILLING = {
    "first_name": "Robert",
    "last_name": "Normand",
    "name": "Robert Normand",
    "address1": "Chestnut Street 92",
    "address2": "Apt 3",
    "city": "Louisville",
    "province": "Kentucky",
    "zip": "40202",
    "country": "United States",
    "country_code": "US",
    "phone": "+1(502)-459-2181",
}


def buyer_of(**overrides: Any) -> Buyer | None:
    return to_order(make_order(**overrides), STORE).buyer


@pytest.mark.parametrize(
    ("email", "contact_email", "customer_email", "expected"),
    [
        ("order@example.com", "contact@example.com", "customer@example.com", "order@example.com"),
        ("", "contact@example.com", "customer@example.com", "contact@example.com"),
        (None, None, "customer@example.com", "customer@example.com"),
        ("", "", "", None),
    ],
    ids=["order", "contact", "customer", "none"],
)
def test_the_buyer_email_is_the_first_non_empty_of_order_contact_and_customer_email(
    email: str | None, contact_email: str | None, customer_email: str, expected: str | None
) -> None:
    buyer = buyer_of(
        email=email, contact_email=contact_email, customer=CUSTOMER | {"email": customer_email}
    )

    assert buyer is not None
    assert buyer.email == expected


def test_the_buyer_name_and_phone_come_from_the_customer_first() -> None:
    buyer = buyer_of(customer=CUSTOMER, billing_address=BILLING, phone="+557734881234")

    assert buyer == Buyer(
        email="customer@example.com",
        first_name="Bob",
        last_name="Norman",
        phone="+16136120707",
        customer_id="207119551",
    )


def test_without_a_customer_the_buyer_comes_from_the_order_and_its_billing_address() -> None:
    buyer = buyer_of(email="", customer=None, billing_address=BILLING, phone="+557734881234")

    assert buyer == Buyer(first_name="Robert", last_name="Normand", phone="+557734881234")


def test_the_billing_phone_is_the_last_resort_for_the_buyer_phone() -> None:
    buyer = buyer_of(customer=CUSTOMER | {"phone": None}, billing_address=BILLING)

    assert buyer is not None
    assert buyer.phone == "+1(502)-459-2181"


def test_a_customer_without_a_name_takes_both_names_from_the_billing_address() -> None:
    buyer = buyer_of(
        customer=CUSTOMER | {"first_name": "", "last_name": None}, billing_address=BILLING
    )

    assert buyer is not None
    assert (buyer.first_name, buyer.last_name) == ("Robert", "Normand")


def test_the_customer_id_is_kept_exact_as_text() -> None:
    buyer = buyer_of(customer={"id": 115310627314723954})

    assert buyer == Buyer(customer_id="115310627314723954")


# --- addresses -----------------------------------------------------------------------------


def test_the_billing_and_shipping_addresses_are_mapped_field_by_field() -> None:
    shipping = BILLING | {"company": "Acme", "address2": None, "country": None, "zip": 40202}

    order = to_order(make_order(billing_address=BILLING, shipping_address=shipping), STORE)

    assert order.billing == Address(
        name="Robert Normand",
        first_name="Robert",
        last_name="Normand",
        street="Chestnut Street 92, Apt 3",
        city="Louisville",
        state="Kentucky",
        postal_code="40202",
        country="United States",
        phone="+1(502)-459-2181",
    )
    assert order.shipping is not None
    assert (order.shipping.company, order.shipping.street) == ("Acme", "Chestnut Street 92")
    assert (order.shipping.country, order.shipping.postal_code) == ("US", "40202")


def test_a_street_joins_only_the_address_lines_that_are_there() -> None:
    for lines, street in [(("", "Unit 5"), "Unit 5"), (("", ""), None), ((None, None), None)]:
        address = BILLING | {"address1": lines[0], "address2": lines[1]}

        shipping = to_order(make_order(shipping_address=address), STORE).shipping

        assert shipping is not None
        assert shipping.street == street


def test_a_phone_or_zip_sent_as_a_number_is_kept_as_its_digits() -> None:
    address = BILLING | {"zip": 40202, "phone": 5024592181}

    billing = to_order(make_order(billing_address=address), STORE).billing

    assert billing is not None
    assert (billing.postal_code, billing.phone) == ("40202", "5024592181")


def test_a_null_or_empty_address_is_no_address() -> None:
    order = to_order(make_order(billing_address=None, shipping_address={}), STORE)

    assert (order.billing, order.shipping) == (None, None)


# --- the new fields' bad types, named by path ----------------------------------------------


@pytest.mark.parametrize("field", NEW_ORDER_FIELDS)
def test_a_new_order_field_of_the_wrong_type_is_rejected_by_name(field: str) -> None:
    assert list(load_errors(make_order(**{field: True}))) == [field]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"email": 5}, {"email": ["Not a valid string."]}),
        ({"created_at": "2026-11-27T09:15:00"}, {"created_at": ["Not a valid aware datetime."]}),
        ({"total_price": "-1.00"}, {"total_price": ["Must not be negative."]}),
        (
            {"current_total_price": 0.1},
            {"current_total_price": ["Not a valid amount: expected a decimal string or number."]},
        ),
        ({"customer": "bob"}, {"customer": ["Invalid type."]}),
        (
            {"customer": {"id": "a:b"}},
            {"customer": {"id": ["Not a valid id: expected an integer or an id string."]}},
        ),
        ({"billing_address": {"zip": True}}, {"billing_address": {"zip": ["Not a valid string."]}}),
        (
            {"shipping_address": {"address1": ["x"], "city": 7}},
            {
                "shipping_address": {
                    "address1": ["Not a valid string."],
                    "city": ["Not a valid string."],
                }
            },
        ),
        (
            {"total_shipping_price_set": {"shop_money": {"amount": "free"}}},
            {
                "total_shipping_price_set": {
                    "shop_money": {
                        "amount": ["Not a valid amount: expected a decimal string or number."]
                    }
                }
            },
        ),
        (
            {"shipping_lines": [{"price": "1.00"}, {"price": "-1"}]},
            {"shipping_lines": {1: {"price": ["Must not be negative."]}}},
        ),
        (
            {"fulfillments": [{"status": 1}]},
            {"fulfillments": {0: {"status": ["Not a valid string."]}}},
        ),
        (
            {"refunds": [{"transactions": [{"kind": "refund", "amount": "1e20"}]}]},
            {"refunds": {0: {"transactions": {0: {"amount": ["Amount too large."]}}}}},
        ),
        (
            {"refunds": [{"transactions": "none"}]},
            {"refunds": {0: {"transactions": ["Not a valid list."]}}},
        ),
    ],
)
def test_a_bad_nested_value_is_rejected_naming_its_path(
    overrides: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert load_errors(make_order(**overrides)) == expected


def test_bad_new_fields_are_reported_together_with_bad_line_fields() -> None:
    payload = make_order(line_items=[make_line(price="x")], email=1, customer={"phone": False})

    assert set(load_errors(payload)) == {"line_items", "email", "customer"}
