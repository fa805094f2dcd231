"""WooCommerce order webhooks (order.created, order.updated, ...) into canonical orders.

The body is the REST API order (`/wc/v3/orders/<id>`). Per line item, `subtotal` is the
line before coupons and `total` after, both for all units and excluding tax; so the unit
price is `subtotal / quantity` and the unit discount `(subtotal - total) / quantity`
(a total edited above its subtotal prices the line at the total, with no discount).
Names arrive HTML-escaped ("&ndash;"). Dates ending in `_gmt` are UTC without a suffix;
the others are in the site's time zone and are not used.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from service.domain import LineItem, Order, Source
from service.money import divide, quantize
from service.sources import (
    Currency,
    ExactId,
    Money,
    Quantity,
    SourceSchema,
    load_payload,
    reject_duplicate_ids,
)


class WooCommerceLineItemSchema(SourceSchema):
    """A line item of a WooCommerce order."""

    id = ExactId(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1))
    quantity = Quantity(required=True)
    subtotal = Money(required=True)
    total = Money(required=True)
    price = Money(allow_none=True, load_default=None)
    sku = fields.String(allow_none=True, load_default=None)


class WooCommerceOrderSchema(SourceSchema):
    """A WooCommerce order, reduced to what line items need."""

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


# Built once: instantiating the schema (and its nested ones) cost more than loading.
_SCHEMA = WooCommerceOrderSchema()


def to_order(payload: object, store: str) -> Order:
    """Load a WooCommerce order body; raise `ValidationError` naming the fields at fault."""
    data = load_payload(_SCHEMA, payload)
    currency: str = data["currency"]
    return Order(
        source=Source.WOOCOMMERCE.value,
        store=store,
        order_id=data["id"],
        currency=currency,
        updated_at=data["date_modified_gmt"] or data["date_created_gmt"],
        line_items=tuple(_line_item(item, currency) for item in data["line_items"]),
    )


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
