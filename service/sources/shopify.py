"""Shopify order webhooks (orders/create, orders/updated, ...) into canonical orders.

The body is the bare REST Order resource. Money fields are in the shop currency (order
`currency`), as decimal strings. Per line item: `current_quantity` counts the units
still on the order (refunded and removed units excluded), `quantity` the units ordered;
`discount_allocations` hold the line's discounts, including those on units refunded
since, so the unit discount divides by the ordered quantity. `total_discount` is not used:
Shopify reports it as "0.00" on lines whose allocations carry the discount.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validates_schema

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


class ShopifyDiscountAllocationSchema(SourceSchema):
    """One discount's share of a line item, in the shop currency."""

    amount = Money(required=True)


class ShopifyLineItemSchema(SourceSchema):
    """A line item of a Shopify order."""

    id = ExactId(required=True)
    name = fields.String(allow_none=True, load_default=None)
    title = fields.String(allow_none=True, load_default=None)
    quantity = Quantity(required=True)
    current_quantity = Quantity(allow_none=True, load_default=None)
    price = Money(required=True)
    sku = fields.String(allow_none=True, load_default=None)
    discount_allocations = fields.List(
        fields.Nested(ShopifyDiscountAllocationSchema), allow_none=True, load_default=list
    )

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _has_a_name(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        # Checked on the raw item so that a malformed name reports only its own error.
        if not isinstance(original, Mapping):
            return  # marshmallow has reported the item's type already
        if not (original.get("name") or original.get("title")):
            raise ValidationError("Missing data for required field (name or title).", "name")


class ShopifyOrderSchema(SourceSchema):
    """A Shopify order, reduced to what line items need."""

    id = ExactId(required=True)
    currency = Currency(required=True)
    updated_at = fields.AwareDateTime(required=True)
    line_items = fields.List(fields.Nested(ShopifyLineItemSchema), required=True)

    @validates_schema
    def _line_ids_are_unique(self, data: dict[str, Any], **kwargs: Any) -> None:
        reject_duplicate_ids(data["line_items"])


# Built once: instantiating the schema (and its nested ones) cost more than loading.
_SCHEMA = ShopifyOrderSchema()


def to_order(payload: object, store: str) -> Order:
    """Load a Shopify order body; raise `ValidationError` naming the fields at fault."""
    data = load_payload(_SCHEMA, payload)
    currency: str = data["currency"]
    return Order(
        source=Source.SHOPIFY.value,
        store=store,
        order_id=data["id"],
        currency=currency,
        updated_at=data["updated_at"],
        line_items=tuple(_line_item(item, currency) for item in data["line_items"]),
    )


def _line_item(item: dict[str, Any], currency: str) -> LineItem:
    ordered: int = item["quantity"]
    current: int | None = item["current_quantity"]
    allocations = item["discount_allocations"] or []
    discount = sum((allocation["amount"] for allocation in allocations), Decimal(0))
    # Nothing was ordered, so there is no unit to carry a discount.
    unit_discount = divide(discount, ordered, currency) if ordered else Decimal(0)
    return LineItem(
        id=item["id"],
        name=item["name"] or item["title"],
        quantity=ordered if current is None else current,
        unit_price=quantize(item["price"], currency),
        unit_discount=quantize(unit_discount, currency),
        sku=item["sku"] or None,
    )
