"""Orders posted by internal systems to `POST /v1/orders`, in the relay's own canonical
shape: unit prices and unit discounts already computed, money as decimal strings.
Unlike the shops' payloads, unknown fields are refused: this contract is ours."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import RAISE, ValidationError, fields, validate, validates, validates_schema

from service.domain import LineItem, Order, Source
from service.money import quantize
from service.sources import (
    Currency,
    ExactId,
    Money,
    Quantity,
    SourceSchema,
    load_payload,
    reject_duplicate_ids,
)

SOURCE_NAME = validate.Regexp(r"^[a-z][a-z0-9_-]{0,31}$", error="Use 1-32 of a-z, 0-9, _ and -.")
STORE_NAME = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$", error="Not a store name.")


class InternalLineItemSchema(SourceSchema):
    class Meta:
        unknown = RAISE

    id = ExactId(required=True, metadata={"description": "Line item id, unique in the order."})
    name = fields.String(required=True, validate=validate.Length(1, 500))
    sku = fields.String(allow_none=True, load_default=None, validate=validate.Length(0, 200))
    quantity = Quantity(required=True)
    unit_price = Money(required=True, metadata={"description": "Price of one unit, pre-discount."})
    discount = Money(metadata={"description": "Discount on one unit; 0 when left out."})


class InternalOrderSchema(SourceSchema):
    class Meta:
        unknown = RAISE

    source = fields.String(
        required=True,
        validate=SOURCE_NAME,
        metadata={
            "description": "The calling system's name, e.g. 'erp'; not a shop's name.",
            "example": "erp",
            "not": {"enum": [s.value for s in Source]},
        },
    )
    store = fields.String(required=True, validate=STORE_NAME, metadata={"example": "eu-store"})
    order_id = ExactId(required=True, metadata={"example": "SO-10042"})
    currency = Currency(required=True, metadata={"example": "EUR"})
    updated_at = fields.AwareDateTime(
        required=True, metadata={"description": "Orders versions of one order; older is ignored."}
    )
    line_items = fields.List(fields.Nested(InternalLineItemSchema), required=True)

    @validates("source")
    def _not_a_shop(self, value: str, **kwargs: Any) -> None:
        # Shop keys come only from signed webhooks; an internal caller must not overwrite them.
        if value in {s.value for s in Source}:
            raise ValidationError(f"'{value}' is reserved for the {value} webhook receiver.")

    @validates_schema
    def _unique_ids(self, data: dict[str, Any], **kwargs: Any) -> None:
        reject_duplicate_ids(data["line_items"])


# Built once: instantiating the schema (and its nested ones) cost more than loading.
_SCHEMA = InternalOrderSchema()


def to_order(payload: object) -> Order:
    """Load an internal order body; raise `ValidationError` naming the fields at fault."""
    data = load_payload(_SCHEMA, payload)
    currency: str = data["currency"]
    return Order(
        source=data["source"],
        store=data["store"],
        order_id=data["order_id"],
        currency=currency,
        updated_at=data["updated_at"],
        line_items=tuple(
            LineItem(
                id=item["id"],
                name=item["name"],
                quantity=item["quantity"],
                unit_price=quantize(item["unit_price"], currency),
                unit_discount=quantize(item.get("discount", Decimal(0)), currency),
                sku=item["sku"] or None,
            )
            for item in data["line_items"]
        ),
    )
