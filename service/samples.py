"""Realistic sample orders, signed as the shops sign them: for `relay send-sample`, the
benchmark and the tests. Shapes follow the shops' documented payloads (only the fields
the relay reads, plus a few that real payloads always carry).

An order's totals are computed from its lines (line totals after discounts, tax at
`TAX_RATE` on them, a flat shipping price), so they agree with each other; a refund lowers
only what the buyer pays in the end (Shopify's `current_total_price`). Keyword overrides
set the buyer's email ("" as a draft order may send it), the customer (None: a guest),
the statuses, fulfillments and refunds; the line items depend only on the lines given.
"""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from service.money import format_amount, quantize
from service.signatures import sign

TAX_RATE = Decimal("0.08")
SHIPPING = Decimal("4.90")
EMAIL = "jane.doe@example.com"


class _Default(enum.Enum):
    """A keyword's default when None is a value of its own (no customer at all)."""

    CUSTOMER = enum.auto()


def shopify_order(
    order_id: int = 5_840_000_000_001,
    *,
    updated_at: str = "2026-11-27T09:15:00-05:00",
    currency: str = "USD",
    line_items: list[dict[str, Any]] | None = None,
    email: str = EMAIL,
    customer: dict[str, Any] | _Default | None = _Default.CUSTOMER,
    financial_status: str = "paid",
    fulfillment_status: str | None = None,
    cancelled_at: str | None = None,
    fulfillments: list[dict[str, Any]] | None = None,
    refunds: Sequence[str] = (),
) -> dict[str, Any]:
    """A Shopify order body; `refunds` are the amounts of successful refund transactions,
    `fulfillments` the bodies' own objects (status, shipment_status)."""
    if line_items is None:
        line_items = [
            shopify_line_item(
                order_id * 10 + 1, "Merino Beanie - Charcoal", "2", "24.50", sku="MB-CH"
            ),
            shopify_line_item(order_id * 10 + 2, "Trail Socks - L", "3", "12.00", sku="TS-L"),
            shopify_line_item(order_id * 10 + 3, "Gift wrap", "1", "4.00", sku=None),
        ]
    if customer is _Default.CUSTOMER:
        customer = _shopify_customer(order_id, email)
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{order_id % 100_000}",
        "currency": currency,
        "created_at": updated_at,
        "updated_at": updated_at,
        "cancelled_at": cancelled_at,
        "cancel_reason": "customer" if cancelled_at else None,
        "financial_status": financial_status,
        "fulfillment_status": fulfillment_status,
        "email": email,
        "contact_email": email or None,
        "phone": None,
        "customer": customer,
        "billing_address": _shopify_address("1 Harbour Way", "Suite 4"),
        "shipping_address": _shopify_address("22 Orchard Lane", ""),
        **_shopify_totals(order_id, line_items, currency, refunds),
        "fulfillments": fulfillments or [],
        "refunds": [_shopify_refund(order_id, n, amount) for n, amount in enumerate(refunds)],
        "line_items": line_items,
    }


def _shopify_totals(
    order_id: int, line_items: list[dict[str, Any]], currency: str, refunds: Sequence[str]
) -> dict[str, Any]:
    """The order's money fields, gross and current, and its shipping line."""
    allocations = (a for line in line_items for a in line.get("discount_allocations") or ())
    discounts = sum((Decimal(a["amount"]) for a in allocations), Decimal(0))
    gross = sum((Decimal(line["price"]) * line["quantity"] for line in line_items), Decimal(0))
    subtotal = quantize(gross - discounts, currency)
    tax = quantize(subtotal * TAX_RATE, currency)
    shipping = format_amount(SHIPPING, currency)
    total = subtotal + tax + Decimal(shipping)
    refunded = sum((Decimal(amount) for amount in refunds), Decimal(0))
    money = {
        "subtotal_price": subtotal,
        "total_discounts": discounts,
        "total_tax": tax,
        "total_price": total,
    }
    return {
        **{name: format_amount(amount, currency) for name, amount in money.items()},
        **{f"current_{name}": format_amount(amount, currency) for name, amount in money.items()},
        "current_total_price": format_amount(total - refunded, currency),
        "total_shipping_price_set": {
            "shop_money": {"amount": shipping, "currency_code": currency},
            "presentment_money": {"amount": shipping, "currency_code": currency},
        },
        "shipping_lines": [{"id": order_id * 10, "title": "Standard", "price": shipping}],
    }


def _shopify_customer(order_id: int, email: str) -> dict[str, Any]:
    return {
        "id": order_id + 7_000_000,
        "email": email,
        "first_name": "Jane",
        "last_name": "Doe",
        "phone": "+16135550123",
        "state": "enabled",
        "verified_email": True,
    }


def _shopify_address(address1: str, address2: str) -> dict[str, Any]:
    return {
        "first_name": "Jane",
        "last_name": "Doe",
        "name": "Jane Doe",
        "company": None,
        "address1": address1,
        "address2": address2,
        "city": "Portland",
        "province": "Maine",
        "province_code": "ME",
        "zip": "04101",
        "country": "United States",
        "country_code": "US",
        "phone": "+1 207-555-0188",
    }


def _shopify_refund(order_id: int, n: int, amount: str) -> dict[str, Any]:
    refund_id = order_id * 100 + n
    return {
        "id": refund_id,
        "order_id": order_id,
        "note": "Returned",
        "refund_line_items": [],
        "transactions": [
            {"id": refund_id, "kind": "refund", "status": "success", "amount": amount}
        ],
    }


def shopify_line_item(
    line_id: int,
    name: str,
    quantity: str,
    price: str,
    *,
    sku: str | None = None,
    discount: str | None = None,
) -> dict[str, Any]:
    allocations = [{"amount": discount, "discount_application_index": 0}] if discount else []
    return {
        "id": line_id,
        "title": name.split(" - ")[0],
        "name": name,
        "sku": sku,
        "quantity": int(quantity),
        "current_quantity": int(quantity),
        "price": price,
        "total_discount": "0.00",
        "discount_allocations": allocations,
    }


# WooCommerce statuses after a payment (its `date_paid` is set then).
_WOO_PAID = frozenset({"processing", "completed", "refunded"})


def woocommerce_order(
    order_id: int = 1207,
    *,
    modified_gmt: str = "2026-11-27T14:15:00",
    currency: str = "EUR",
    status: str = "processing",
    email: str = EMAIL,
    customer_id: int = 31,
    refunds: Sequence[str] = (),
) -> dict[str, Any]:
    """A WooCommerce order body; `customer_id` 0 is a guest, `refunds` are amounts (the body
    carries them as negative totals, as WooCommerce does)."""
    return {
        "id": order_id,
        "number": str(order_id),
        "status": status,
        "currency": currency,
        "date_created_gmt": modified_gmt,
        "date_modified_gmt": modified_gmt,
        "date_paid_gmt": modified_gmt if status in _WOO_PAID else None,
        **_woocommerce_totals(order_id, currency),
        "customer_id": customer_id,
        "billing": {**_woocommerce_address(), "email": email, "phone": "+49 30 5550188"},
        "shipping": {**_woocommerce_address(), "phone": ""},
        "payment_method": "stripe",
        "line_items": _woocommerce_lines(order_id),
        "refunds": [
            {"id": order_id * 100 + n, "reason": "", "total": f"-{amount}"}
            for n, amount in enumerate(refunds)
        ],
    }


def _woocommerce_lines(order_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": order_id * 10 + 1,
            "name": "Espresso Cup &ndash; Set of 2",
            "quantity": 2,
            "subtotal": "30.00",
            "total": "27.00",
            "sku": "EC-2",
            "price": 13.5,
        },
        {
            "id": order_id * 10 + 2,
            "name": "Coffee Beans 1kg",
            "quantity": 1,
            "subtotal": "21.90",
            "total": "21.90",
            "sku": "",
            "price": 21.9,
        },
    ]


def _woocommerce_totals(order_id: int, currency: str) -> dict[str, Any]:
    """The order's money fields (before refunds, as WooCommerce reports them) and its
    shipping line."""
    lines = _woocommerce_lines(order_id)
    lines_total = sum((Decimal(line["total"]) for line in lines), Decimal(0))
    discount = sum((Decimal(line["subtotal"]) for line in lines), Decimal(0)) - lines_total
    tax = quantize(lines_total * TAX_RATE, currency)
    shipping = quantize(SHIPPING, currency)
    return {
        "discount_total": format_amount(discount, currency),
        "shipping_total": format_amount(shipping, currency),
        "total_tax": format_amount(tax, currency),
        "total": format_amount(lines_total + tax + shipping, currency),
        "shipping_lines": [
            {
                "id": order_id * 10,
                "method_id": "flat_rate",
                "total": format_amount(shipping, currency),
            }
        ],
    }


def _woocommerce_address() -> dict[str, str]:
    return {
        "first_name": "Jane",
        "last_name": "Doe",
        "company": "",
        "address_1": "Kastanienallee 12",
        "address_2": "",
        "city": "Berlin",
        "state": "BE",
        "postcode": "10435",
        "country": "DE",
    }


def shopify_request(
    payload: dict[str, Any],
    secret: str,
    *,
    shop: str = "sample-shop.myshopify.com",
    topic: str = "orders/updated",
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(secret, body),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-07",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
    }
    return body, headers


def woocommerce_request(
    payload: dict[str, Any],
    secret: str,
    *,
    site: str = "https://shop.example.com/",
    topic: str = "order.updated",
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload, separators=(",", ":")).encode()
    resource, event = topic.split(".")
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": site,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": sign(secret, body),
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
    }
    return body, headers
