"""WooCommerce order webhooks (order.created, order.updated, ...) into canonical orders.

The body is the REST API order (`/wc/v3/orders/<id>`). Per line item, `subtotal` is the
line before coupons and `total` after, both for all units and excluding tax; so the unit
price is `subtotal / quantity` and the unit discount `(subtotal - total) / quantity`
(a total edited above its subtotal prices the line at the total, with no discount).
Names arrive HTML-escaped ("&ndash;"). Dates ending in `_gmt` are UTC without a suffix;
the others are in the site's time zone and are not used.

The order's `total` is before refunds; `refunds[]` carry each refund's total as a negative
decimal string ("-10.00"; some versions name the key `refund`), so the relay's total is
`total` less what was refunded. Statuses and payment words are put in the canonical
vocabulary (`status_of`) and in Shopify's (`payment_status_of`), so that HubSpot reports
line up across shops.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from service.domain import Address, Buyer, LineItem, Order, OrderStatus, Source, Totals
from service.money import divide, quantize
from service.sources import (
    NULLABLE,
    Currency,
    ExactId,
    Money,
    Quantity,
    SignedMoney,
    SourceSchema,
    Text,
    join_text,
    reject_duplicate_ids,
)
from service.sources.flat import Flat, OrderLoader

# What nothing known looks like: such a buyer or address is None instead.
_NOBODY = Buyer()
_NOWHERE = Address()

# WooCommerce's order statuses in the canonical vocabulary; any other is open (pending,
# on-hold, failed, checkout-draft, trash, a plugin's own).
_STATUS = {
    "cancelled": OrderStatus.CANCELLED,
    "completed": OrderStatus.SHIPPED,
    "processing": OrderStatus.PROCESSED,
    "refunded": OrderStatus.PROCESSED,  # what was refunded is in the amounts
}
_GUEST = "0"  # the customer_id of an order placed without an account


class WooCommerceLineItemSchema(SourceSchema):
    """A line item of a WooCommerce order."""

    id = ExactId(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1))
    quantity = Quantity(required=True)
    subtotal = Money(required=True)
    total = Money(required=True)
    price = Money(allow_none=True, load_default=None)
    sku = fields.String(allow_none=True, load_default=None)


class WooCommerceAddressSchema(SourceSchema):
    """The billing or shipping address; only billing has an email, shipping a phone since
    WooCommerce 5.6."""

    first_name = fields.String(**NULLABLE)
    last_name = fields.String(**NULLABLE)
    company = fields.String(**NULLABLE)
    address_1 = fields.String(**NULLABLE)
    address_2 = fields.String(**NULLABLE)
    city = fields.String(**NULLABLE)
    state = fields.String(**NULLABLE)
    postcode = Text(**NULLABLE)
    country = fields.String(**NULLABLE)
    email = fields.String(**NULLABLE)
    phone = Text(**NULLABLE)


class WooCommerceRefundSchema(SourceSchema):
    """A refund in the order body: its total, negative ("-10.00")."""

    total = SignedMoney(**NULLABLE)
    refund = SignedMoney(**NULLABLE)  # the same total, as some versions name it


class WooCommerceOrderDetailsSchema(SourceSchema):
    """What the relay reads of a WooCommerce order beyond its line items; all optional."""

    number = Text(**NULLABLE)
    status = fields.String(**NULLABLE)
    date_paid_gmt = fields.String(**NULLABLE)  # only whether it is set matters
    customer_id = ExactId(**NULLABLE)
    discount_total = Money(**NULLABLE)
    shipping_total = Money(**NULLABLE)
    total_tax = Money(**NULLABLE)
    total = Money(**NULLABLE)
    refunds = fields.List(Flat(WooCommerceRefundSchema), **NULLABLE)
    billing = Flat(WooCommerceAddressSchema)
    shipping = Flat(WooCommerceAddressSchema)


class WooCommerceOrderSchema(WooCommerceOrderDetailsSchema):
    """A WooCommerce order, reduced to what the relay reads."""

    id = ExactId(required=True)
    currency = Currency(required=True)
    # Naive on the wire but UTC by definition; an explicit offset is honoured.
    date_modified_gmt = fields.AwareDateTime(
        default_timezone=UTC, allow_none=True, load_default=None
    )
    date_created_gmt = fields.AwareDateTime(
        default_timezone=UTC, allow_none=True, load_default=None
    )
    line_items = fields.List(fields.Nested(WooCommerceLineItemSchema), required=True)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _has_a_date(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        # Checked on the raw body so that a malformed date reports only its own error.
        if not isinstance(original, Mapping):
            return  # marshmallow has reported the body's type already
        if original.get("date_modified_gmt") is None and original.get("date_created_gmt") is None:
            raise ValidationError(
                "Missing data for required field (date_modified_gmt or date_created_gmt).",
                "date_modified_gmt",
            )

    @validates_schema
    def _line_ids_are_unique(self, data: dict[str, Any], **kwargs: Any) -> None:
        reject_duplicate_ids(data["line_items"])


# Built once: instantiating the schemas (and their nested ones) cost more than loading.
_LOADER = OrderLoader(WooCommerceOrderSchema, WooCommerceOrderDetailsSchema)


def to_order(payload: object, store: str) -> Order:
    """Load a WooCommerce order body; raise `ValidationError` naming the fields at fault."""
    data = _LOADER.load(payload)
    currency: str = data["currency"]
    totals = _totals(data, currency)
    status: str | None = data["status"]
    return Order(
        source=Source.WOOCOMMERCE.value,
        store=store,
        order_id=data["id"],
        currency=currency,
        updated_at=data["date_modified_gmt"] or data["date_created_gmt"],
        line_items=tuple(_line_item(item, currency) for item in data["line_items"]),
        name=f"#{data['number'] or data['id']}",
        created_at=data["date_created_gmt"],
        status=status_of(status),
        payment_status=payment_status_of(status, totals.refunded, data["date_paid_gmt"]),
        fulfillment_status="fulfilled" if status == "completed" else "unfulfilled",
        totals=totals,
        buyer=_buyer(data),
        billing=_address(data["billing"]),
        shipping=_address(data["shipping"]),
    )


def status_of(status: str | None) -> OrderStatus:
    """The canonical status of a WooCommerce order status (README, "Order status")."""
    return _STATUS.get(status or "", OrderStatus.OPEN)


def payment_status_of(status: str | None, refunded: Decimal | None, paid_at: str | None) -> str:
    """The payment's state in Shopify's words (financial_status), for HubSpot's reports."""
    if status == "refunded":
        return "refunded"
    if refunded is not None and refunded > 0:
        return "partially_refunded"
    return "paid" if paid_at else "pending"


def _totals(data: Mapping[str, Any], currency: str) -> Totals:
    def amount(name: str) -> Decimal | None:
        value: Decimal | None = data[name]
        return None if value is None else quantize(value, currency)

    refunded = _refunded(data["refunds"], currency)
    total = amount("total")
    if total is not None and refunded is not None:
        total -= refunded
    lines = sum((item["total"] for item in data["line_items"]), Decimal(0))
    return Totals(
        subtotal=quantize(lines, currency),  # after coupons, before tax
        discounts=amount("discount_total"),
        tax=amount("total_tax"),
        shipping=amount("shipping_total"),
        total=total,
        refunded=refunded,
    )


def _refunded(refunds: list[dict[str, Any] | None] | None, currency: str) -> Decimal | None:
    """What the refunds gave back (their totals are negative); None when not said."""
    if refunds is None:
        return None
    totals = (
        refund["total"] if refund["total"] is not None else refund["refund"]
        for refund in refunds
        if refund
    )
    return quantize(-sum((t for t in totals if t is not None), Decimal(0)), currency)


def _buyer(data: Mapping[str, Any]) -> Buyer | None:
    billing: Mapping[str, Any] = data["billing"] or {}
    customer_id: str | None = data["customer_id"]
    buyer = Buyer(
        email=billing.get("email") or None,
        first_name=billing.get("first_name") or None,
        last_name=billing.get("last_name") or None,
        phone=billing.get("phone") or None,
        customer_id=None if customer_id == _GUEST else customer_id,
    )
    return None if buyer == _NOBODY else buyer


def _address(raw: Mapping[str, Any] | None) -> Address | None:
    if raw is None:
        return None
    address = Address(
        name=join_text(" ", raw["first_name"], raw["last_name"]),
        first_name=raw["first_name"] or None,
        last_name=raw["last_name"] or None,
        company=raw["company"] or None,
        street=join_text(", ", raw["address_1"], raw["address_2"]),
        city=raw["city"] or None,
        state=raw["state"] or None,
        postal_code=raw["postcode"] or None,
        country=raw["country"] or None,
        phone=raw["phone"] or None,
        email=raw["email"] or None,
    )
    return None if address == _NOWHERE else address


def _line_item(item: dict[str, Any], currency: str) -> LineItem:
    quantity: int = item["quantity"]
    if quantity:
        # Coupons only lower a line, but a shop manager can edit a line's total above its
        # subtotal; pricing from the larger keeps HubSpot's amount equal to the total
        # without a negative discount.
        before_discount = max(item["subtotal"], item["total"])
        unit_price = divide(before_discount, quantity, currency)
        unit_discount = divide(before_discount - item["total"], quantity, currency)
    else:
        # No unit to divide over: WooCommerce's own `price` is the best unit price left.
        unit_price = quantize(item["price"] or Decimal(0), currency)
        unit_discount = quantize(Decimal(0), currency)
    return LineItem(
        id=item["id"],
        name=html.unescape(item["name"]),
        quantity=quantity,
        unit_price=unit_price,
        unit_discount=unit_discount,
        sku=item["sku"] or None,
    )
