"""Internal orders (POST /v1/orders bodies) into canonical orders: the fields beyond lines."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from marshmallow import ValidationError

from service.domain import Address, Buyer, OrderStatus, Totals
from service.sources.internal import to_order

ADDRESS = {
    "name": "Ada Lovelace",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company": "Analytical Engines Ltd",
    "street": "12 St James's Square, Floor 2",
    "city": "London",
    "state": "",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
    "phone": "+44 20 7946 0000",
    "email": "ada@example.com",
}


def make_order(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "source": "erp",
        "store": "eu-store",
        "order_id": "SO-1",
        "currency": "EUR",
        "updated_at": "2026-11-27T10:00:00+01:00",
        "line_items": [{"id": "1", "name": "Desk lamp", "quantity": 2, "unit_price": "39.90"}],
    }
    return values | overrides


def load_errors(payload: object) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        to_order(payload)
    messages = caught.value.messages
    assert isinstance(messages, dict)
    return messages


def test_an_order_with_every_optional_field_carries_them_all() -> None:
    order = to_order(
        make_order(
            name="SO-1",
            created_at="2026-11-26T08:30:00+01:00",
            status="shipped",
            payment_status="paid",
            fulfillment_status="fulfilled",
            totals={
                "subtotal": "79.80",
                "discounts": "0",
                "tax": "15.16",
                "shipping": "4.9",
                "total": "99.86",
                "refunded": "0.00",
            },
            buyer={
                "email": "ada@example.com",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "phone": "+44 20 7946 0000",
                "customer_id": "C-1815",
            },
            billing_address=ADDRESS,
            shipping_address=ADDRESS | {"company": None, "email": None},
        )
    )

    assert (order.name, order.status, order.payment_status, order.fulfillment_status) == (
        "SO-1",
        OrderStatus.SHIPPED,
        "paid",
        "fulfilled",
    )
    assert order.created_at == datetime(2026, 11, 26, 7, 30, tzinfo=UTC)
    # Rounded to the currency's minor unit, as every source's totals are.
    assert order.totals == Totals(
        subtotal=Decimal("79.80"),
        discounts=Decimal("0.00"),
        tax=Decimal("15.16"),
        shipping=Decimal("4.90"),
        total=Decimal("99.86"),
        refunded=Decimal("0.00"),
    )
    assert order.buyer == Buyer(
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        phone="+44 20 7946 0000",
        customer_id="C-1815",
    )
    expected = Address(**(ADDRESS | {"state": None}))  # "" is no value
    assert order.billing == expected
    assert order.shipping == Address(**(ADDRESS | {"state": None, "company": None, "email": None}))


def test_an_order_with_lines_only_is_open_and_knows_nothing_else() -> None:
    order = to_order(make_order())

    assert (order.name, order.created_at, order.status) == (None, None, OrderStatus.OPEN)
    assert (order.payment_status, order.fulfillment_status) == (None, None)
    assert order.totals == Totals()
    assert (order.buyer, order.billing, order.shipping) == (None, None, None)


@pytest.mark.parametrize(
    "field",
    [
        "name",
        "created_at",
        "status",
        "payment_status",
        "fulfillment_status",
        "totals",
        "buyer",
        "billing_address",
        "shipping_address",
    ],
)
def test_every_optional_field_may_be_null(field: str) -> None:
    order = to_order(make_order(**{field: None}))

    assert (order.status, order.totals, order.buyer) == (OrderStatus.OPEN, Totals(), None)


def test_totals_may_give_only_some_amounts() -> None:
    totals = to_order(make_order(totals={"total": "10", "tax": None})).totals

    assert totals == Totals(total=Decimal("10.00"))


def test_an_empty_buyer_or_address_is_none() -> None:
    order = to_order(make_order(buyer={"email": ""}, billing_address={}, shipping_address=None))

    assert (order.buyer, order.billing, order.shipping) == (None, None, None)


def test_a_postal_code_or_phone_sent_as_a_number_is_kept_as_its_digits() -> None:
    order = to_order(make_order(billing_address={"postal_code": 10115, "phone": 3055501}))

    assert order.billing == Address(postal_code="10115", phone="3055501")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"status": "paid"},
            {"status": ["Must be one of: open, processed, shipped, delivered, cancelled."]},
        ),
        ({"status": 1}, {"status": ["Not a valid string."]}),
        ({"name": "x" * 201}, {"name": ["Longer than maximum length 200."]}),
        ({"created_at": "2026-11-26T08:30:00"}, {"created_at": ["Not a valid aware datetime."]}),
        ({"totals": {"total": "-1"}}, {"totals": {"total": ["Must not be negative."]}}),
        (
            {"totals": {"total": 9.99}},
            {"totals": {"total": ["Not a valid amount: expected a decimal string or number."]}},
        ),
        ({"totals": {"grand_total": "1"}}, {"totals": {"grand_total": ["Unknown field."]}}),
        ({"totals": "99.86"}, {"totals": {"_schema": ["Invalid input type."]}}),
        ({"buyer": {"email": ["a@b.c"]}}, {"buyer": {"email": ["Not a valid string."]}}),
        (
            {"buyer": {"customer_id": "a b"}},
            {"buyer": {"customer_id": ["Not a valid id: expected an integer or an id string."]}},
        ),
        ({"buyer": {"nickname": "Ada"}}, {"buyer": {"nickname": ["Unknown field."]}}),
        (
            {"billing_address": {"street": "x" * 501}},
            {"billing_address": {"street": ["Longer than maximum length 500."]}},
        ),
        (
            {"shipping_address": {"postal_code": True}},
            {"shipping_address": {"postal_code": ["Not a valid string."]}},
        ),
        ({"shipping_address": {"zip": "10115"}}, {"shipping_address": {"zip": ["Unknown field."]}}),
    ],
)
def test_a_bad_optional_field_is_refused_naming_its_path(
    overrides: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert load_errors(make_order(**overrides)) == expected
