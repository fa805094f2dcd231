"""The sample orders: they load, their totals add up, and their overrides do what they say."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from service import samples
from service.domain import Buyer, Order, OrderStatus
from service.mapping import to_inputs
from service.sources import parse_json, shopify, woocommerce

SHOP = "sample-shop.myshopify.com"
SITE = "shop.example.com"


# Through JSON, as a webhook carries them (the WooCommerce sample's line prices are floats
# in Python and exact decimals once parsed).


def shopify_sample(**overrides: Any) -> Order:
    return shopify.to_order(
        parse_json(json.dumps(samples.shopify_order(**overrides)).encode()), SHOP
    )


def woocommerce_sample(**overrides: Any) -> Order:
    body = json.dumps(samples.woocommerce_order(**overrides)).encode()
    return woocommerce.to_order(parse_json(body), SITE)


def test_the_shopify_sample_keeps_its_three_line_items() -> None:
    lines = [
        (p["name"], p["quantity"], p["price"], p.get("hs_sku"))
        for p in (i.properties for i in to_inputs(shopify_sample()))
    ]

    assert lines == [
        ("Merino Beanie - Charcoal", "2", "24.50", "MB-CH"),
        ("Trail Socks - L", "3", "12.00", "TS-L"),
        ("Gift wrap", "1", "4.00", None),
    ]


def test_the_shopify_sample_totals_are_computed_from_its_lines() -> None:
    totals = shopify_sample().totals

    # 2 x 24.50 + 3 x 12.00 + 4.00 = 89.00; tax 8 % = 7.12; shipping 4.90.
    assert (totals.subtotal, totals.tax, totals.shipping) == (
        Decimal("89.00"),
        Decimal("7.12"),
        Decimal("4.90"),
    )
    assert totals.total == Decimal("101.02")
    assert (totals.discounts, totals.refunded) == (Decimal("0.00"), Decimal("0.00"))


def test_a_shopify_sample_with_discounted_lines_takes_the_discount_off_its_subtotal() -> None:
    lines = [samples.shopify_line_item(1, "Tea", "2", "5.00", discount="1.00")]

    totals = shopify_sample(line_items=lines).totals

    assert (totals.subtotal, totals.discounts, totals.total) == (
        Decimal("9.00"),
        Decimal("1.00"),
        Decimal("14.62"),  # 9.00 + 0.72 tax + 4.90 shipping
    )


def test_the_shopify_sample_has_a_buyer_and_both_addresses() -> None:
    order = shopify_sample()

    assert order.buyer is not None
    assert (order.buyer.email, order.buyer.first_name, order.buyer.last_name) == (
        samples.EMAIL,
        "Jane",
        "Doe",
    )
    assert order.billing is not None
    assert order.shipping is not None
    assert (order.billing.street, order.shipping.street) == (
        "1 Harbour Way, Suite 4",
        "22 Orchard Lane",
    )


def test_a_shopify_sample_without_customer_or_email_still_loads() -> None:
    order = shopify_sample(email="", customer=None)

    # Only the billing address is left to say who bought.
    assert order.buyer == Buyer(first_name="Jane", last_name="Doe", phone="+1 207-555-0188")


def test_shopify_sample_refunds_lower_what_the_buyer_pays() -> None:
    order = shopify_sample(financial_status="partially_refunded", refunds=["10.00", "1.02"])

    assert (order.totals.refunded, order.totals.total) == (Decimal("11.02"), Decimal("90.00"))
    assert order.payment_status == "partially_refunded"


def test_shopify_sample_statuses_follow_their_overrides() -> None:
    delivered = [{"id": 1, "status": "success", "shipment_status": "delivered"}]

    assert shopify_sample().status is OrderStatus.PROCESSED
    assert shopify_sample(financial_status="pending").status is OrderStatus.OPEN
    assert shopify_sample(fulfillment_status="fulfilled").status is OrderStatus.SHIPPED
    assert (
        shopify_sample(fulfillment_status="fulfilled", fulfillments=delivered).status
        is OrderStatus.DELIVERED
    )
    assert shopify_sample(cancelled_at="2026-11-28T10:00:00-05:00").status is OrderStatus.CANCELLED


def test_the_woocommerce_sample_keeps_its_two_line_items() -> None:
    lines = [
        (p["name"], p["quantity"], p["price"], p["discount"])
        for p in (i.properties for i in to_inputs(woocommerce_sample()))
    ]

    assert lines == [
        ("Espresso Cup \u2013 Set of 2", "2", "15.00", "1.50"),
        ("Coffee Beans 1kg", "1", "21.90", "0.00"),
    ]


def test_the_woocommerce_sample_totals_are_computed_from_its_lines() -> None:
    totals = woocommerce_sample().totals

    # 27.00 + 21.90 = 48.90 after the 3.00 coupon; tax 8 % = 3.91; shipping 4.90.
    assert (totals.subtotal, totals.discounts, totals.tax, totals.shipping) == (
        Decimal("48.90"),
        Decimal("3.00"),
        Decimal("3.91"),
        Decimal("4.90"),
    )
    assert (totals.total, totals.refunded) == (Decimal("57.71"), Decimal("0.00"))


def test_woocommerce_sample_overrides_set_status_refunds_and_a_guest() -> None:
    order = woocommerce_sample(status="refunded", refunds=["57.71"], customer_id=0, email="")

    assert (order.status, order.payment_status) == (OrderStatus.PROCESSED, "refunded")
    assert (order.totals.refunded, order.totals.total) == (Decimal("57.71"), Decimal("0.00"))
    assert order.buyer == Buyer(first_name="Jane", last_name="Doe", phone="+49 30 5550188")


def test_a_pending_woocommerce_sample_is_open_and_unpaid() -> None:
    order = woocommerce_sample(status="pending")

    assert (order.status, order.payment_status) == (OrderStatus.OPEN, "pending")
