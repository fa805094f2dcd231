"""The whole order into HubSpot records: one test per row of README's mapping tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from service.domain import (
    Address,
    Buyer,
    LineItem,
    Order,
    OrderObject,
    OrderStatus,
    RecordInput,
    RecordKind,
    Totals,
)
from service.mapping import MappingSettings, to_records
from service.mapping.contacts import contact_properties, usable_email
from service.mapping.orders import STATUS, deal_properties, order_properties

EDT = timezone(timedelta(hours=-4))


def make_order(**overrides: Any) -> Order:
    values: dict[str, Any] = {
        "source": "shopify",
        "store": "acme.myshopify.com",
        "order_id": "450789469",
        "currency": "USD",
        "updated_at": datetime(2026, 11, 27, 9, 15, tzinfo=EDT),
        "line_items": (
            LineItem("11", "Beanie", 2, Decimal("24.50"), sku="MB-1"),
            LineItem("12", "Socks", 1, Decimal("12.00"), Decimal("2.00")),
        ),
        "name": "#1001",
        "created_at": datetime(2026, 11, 27, 9, 0, 0, 250_000, tzinfo=EDT),
        "status": OrderStatus.PROCESSED,
        "payment_status": "paid",
        "fulfillment_status": "unfulfilled",
        "totals": Totals(
            subtotal=Decimal("59.00"),
            discounts=Decimal("2.00"),
            tax=Decimal("4.72"),
            shipping=Decimal("5.00"),
            total=Decimal("68.72"),
            refunded=Decimal("0.00"),
        ),
        "buyer": Buyer("  Bob.Norman@Mail.Example.COM ", "Bob", "Norman", "+1 502 459 2181", "207"),
        "billing": Address(
            name="Bob Norman",
            first_name="Bob",
            last_name="Norman",
            street="Chestnut Street 92",
            city="Louisville",
            state="Kentucky",
            postal_code="40202",
            country="United States",
            phone="+1 502 459 2181",
            email="bob.norman@mail.example.com",
        ),
        "shipping": Address(
            name="Bob Norman",
            street="Chestnut Street 92, Apt 3",
            city="Louisville",
            state="Kentucky",
            postal_code="40202",
            country="United States",
        ),
    }
    return Order(**(values | overrides))


ORDER_KEY = "shopify:acme.myshopify.com:450789469"

# README "Order mapping": HubSpot property -> the value for make_order().
ORDER_ROWS = [
    ("hs_order_name", "#1001"),
    ("hs_currency_code", "USD"),
    ("hs_total_price", "68.72"),
    ("hs_subtotal_price", "59.00"),
    ("hs_order_discount", "2.00"),
    ("hs_tax", "4.72"),
    ("hs_shipping_cost", "5.00"),
    ("hs_refund_amount", "0.00"),
    ("hs_external_order_id", "450789469"),
    ("hs_source_store", "acme.myshopify.com"),
    ("hs_external_created_date", "2026-11-27T13:00:00.250Z"),
    ("hs_payment_status", "paid"),
    ("hs_fulfillment_status", "unfulfilled"),
    ("hs_billing_address_name", "Bob Norman"),
    ("hs_billing_address_firstname", "Bob"),
    ("hs_billing_address_lastname", "Norman"),
    ("hs_billing_address_email", "bob.norman@mail.example.com"),
    ("hs_billing_address_phone", "+1 502 459 2181"),
    ("hs_shipping_address_name", "Bob Norman"),
    ("hs_shipping_address_street", "Chestnut Street 92, Apt 3"),
    ("hs_shipping_address_city", "Louisville"),
    ("hs_shipping_address_state", "Kentucky"),
    ("hs_shipping_address_postal_code", "40202"),
    ("hs_shipping_address_country", "United States"),
    (STATUS, "processed"),
]


@pytest.mark.parametrize(("name", "value"), ORDER_ROWS, ids=[row[0] for row in ORDER_ROWS])
def test_each_order_property_is_mapped_as_the_table_says(name: str, value: str) -> None:
    assert order_properties(make_order())[name] == value


def test_an_order_sends_no_other_property_than_the_table_names() -> None:
    assert set(order_properties(make_order())) == {name for name, _ in ORDER_ROWS}


def test_unknown_totals_and_absent_addresses_are_left_out_never_sent_blank() -> None:
    properties = order_properties(
        make_order(totals=Totals(total=Decimal("3")), billing=None, shipping=Address(city=" "))
    )
    assert properties["hs_total_price"] == "3.00"
    assert not [name for name in properties if "subtotal" in name or "address" in name]
    assert all(value != "" for value in properties.values())


def test_an_order_without_a_name_is_called_by_its_id() -> None:
    assert order_properties(make_order(name=None))["hs_order_name"] == "#450789469"


def test_amounts_keep_the_currencys_minor_digits() -> None:
    yen = order_properties(make_order(currency="JPY", totals=Totals(total=Decimal("1500"))))
    assert yen["hs_total_price"] == "1500"


DEAL_ROWS = [
    ("dealname", "Order #1001 (acme.myshopify.com)"),
    ("amount", "68.72"),
    ("deal_currency_code", "USD"),
    ("closedate", "2026-11-27T13:00:00.250Z"),
    (STATUS, "processed"),
]


@pytest.mark.parametrize(("name", "value"), DEAL_ROWS, ids=[row[0] for row in DEAL_ROWS])
def test_each_deal_property_is_mapped_as_the_table_says(name: str, value: str) -> None:
    assert deal_properties(make_order())[name] == value


def test_a_deal_without_a_known_total_is_worth_its_lines_net() -> None:
    # 2 x 24.50 + 1 x (12.00 - 2.00)
    assert deal_properties(make_order(totals=Totals()))["amount"] == "59.00"


def test_a_deal_closes_on_the_order_date_or_else_its_version() -> None:
    deal = deal_properties(make_order(created_at=None))
    assert deal["closedate"] == "2026-11-27T13:15:00.000Z"


CONTACT_ROWS = [
    ("email", "bob.norman@mail.example.com"),
    ("firstname", "Bob"),
    ("lastname", "Norman"),
    ("phone", "+1 502 459 2181"),
]


@pytest.mark.parametrize(("name", "value"), CONTACT_ROWS, ids=[row[0] for row in CONTACT_ROWS])
def test_each_contact_property_is_mapped_as_the_table_says(name: str, value: str) -> None:
    order = make_order()
    assert contact_properties(order, "bob.norman@mail.example.com")[name] == value


def test_blank_names_and_phone_are_not_sent_so_a_reps_entry_stays() -> None:
    order = make_order(buyer=Buyer("ann@example.com", " ", None, ""), billing=None)
    assert contact_properties(order, "ann@example.com") == {"email": "ann@example.com"}


@pytest.mark.parametrize(
    ("buyer", "billing", "expected"),
    [
        (Buyer(" Ann@Example.COM "), None, "ann@example.com"),
        (Buyer(""), Address(email="guest@example.com"), "guest@example.com"),
        (Buyer(""), None, None),
        (None, None, None),
        (Buyer("not an email"), None, None),
        (Buyer("two@@example.com"), None, None),
        (Buyer("no-domain@localhost"), None, None),
        (Buyer("x" * 250 + "@example.com"), None, None),
    ],
    ids=["trimmed-lower-cased", "billing", "empty", "guest", "no-at", "two-ats", "no-tld", "long"],
)
def test_a_usable_email_is_trimmed_and_lower_cased_or_there_is_none(
    buyer: Buyer | None, billing: Address | None, expected: str | None
) -> None:
    assert usable_email(make_order(buyer=buyer, billing=billing)) == expected


def kinds(records: list[RecordInput]) -> list[tuple[RecordKind, str]]:
    return [(r.kind, r.key) for r in records]


def test_the_whole_order_is_its_lines_its_record_its_buyer_and_their_associations() -> None:
    records = to_records(make_order(), MappingSettings())
    line1, line2 = "shopify:acme.myshopify.com:11", "shopify:acme.myshopify.com:12"
    email = "bob.norman@mail.example.com"
    assert kinds(records) == [
        (RecordKind.LINE_ITEM, line1),
        (RecordKind.LINE_ITEM, line2),
        (RecordKind.ORDER, ORDER_KEY),
        (RecordKind.LINE_ITEM_TO_ORDER, f"{line1}>{ORDER_KEY}"),
        (RecordKind.LINE_ITEM_TO_ORDER, f"{line2}>{ORDER_KEY}"),
        (RecordKind.CONTACT, email),
        (RecordKind.ORDER_TO_CONTACT, f"{ORDER_KEY}>{email}"),
    ]
    association = records[3]
    assert (association.from_key, association.to_key) == (line1, ORDER_KEY)
    assert [r.position for r in records[:2]] == [0, 1]


def test_deals_stand_in_for_orders_with_their_own_association_kinds() -> None:
    records = to_records(make_order(), MappingSettings(OrderObject.DEALS))
    assert [r.kind for r in records] == [
        RecordKind.LINE_ITEM,
        RecordKind.LINE_ITEM,
        RecordKind.DEAL,
        RecordKind.LINE_ITEM_TO_DEAL,
        RecordKind.LINE_ITEM_TO_DEAL,
        RecordKind.CONTACT,
        RecordKind.DEAL_TO_CONTACT,
    ]


def test_none_sends_the_line_items_alone_as_before() -> None:
    records = to_records(make_order(), MappingSettings(OrderObject.NONE))
    assert [r.kind for r in records] == [RecordKind.LINE_ITEM, RecordKind.LINE_ITEM]


def test_a_guest_without_email_gets_an_order_and_no_contact() -> None:
    records = to_records(make_order(buyer=None, billing=None), MappingSettings())
    assert RecordKind.ORDER in {r.kind for r in records}
    assert not {RecordKind.CONTACT, RecordKind.ORDER_TO_CONTACT} & {r.kind for r in records}


def test_contacts_can_be_turned_off() -> None:
    records = to_records(make_order(), MappingSettings(sync_contacts=False))
    assert RecordKind.CONTACT not in {r.kind for r in records}


def test_a_cancellation_changes_the_stored_status_so_the_record_is_sent_again() -> None:
    placed = order_properties(make_order())
    cancelled = order_properties(make_order(status=OrderStatus.CANCELLED))
    assert placed != cancelled
    assert cancelled[STATUS] == "cancelled"


def test_datetimes_are_sent_in_utc_with_milliseconds() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC)
    assert order_properties(make_order(created_at=moment))["hs_external_created_date"] == (
        "2026-01-02T03:04:05.678Z"
    )


def test_the_billing_email_is_the_buyers_when_the_address_has_none() -> None:
    order = make_order(billing=Address(name="Bob Norman"), buyer=Buyer("bob@example.com"))
    assert order_properties(order)["hs_billing_address_email"] == "bob@example.com"


def test_a_value_over_hubspots_text_limit_is_cut_to_it_and_marked() -> None:
    from service.mapping import MAX_VALUE_CHARS

    long_name = "x" * (MAX_VALUE_CHARS + 10)
    order = make_order(line_items=(LineItem("11", long_name, 1, Decimal("1.00")),))
    [line] = [r for r in to_records(order, MappingSettings()) if r.kind is RecordKind.LINE_ITEM]
    assert len(line.properties["name"]) == MAX_VALUE_CHARS
    assert line.properties["name"].endswith("…")
    assert line.properties["quantity"] == "1"  # the others untouched
