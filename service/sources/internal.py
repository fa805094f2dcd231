"""Orders posted by internal systems to `POST /v1/orders`, in the relay's own canonical
shape: unit prices and unit discounts already computed, money as decimal strings.
Unlike the shops' payloads, unknown fields are refused: this contract is ours.

Beyond its lines an order may say its name, dates, status (the canonical `OrderStatus`),
payment and fulfillment words, totals, buyer and addresses; each is optional and may be
null, and an empty string means the same as a value left out."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

from marshmallow import RAISE, ValidationError, fields, validate, validates, validates_schema

from service.domain import Address, Buyer, LineItem, Order, OrderStatus, Source, Totals
from service.money import quantize
from service.sources import (
    NULLABLE,
    Currency,
    ExactId,
    Money,
    Quantity,
    SourceSchema,
    Text,
    load_payload,
    reject_duplicate_ids,
)

SOURCE_NAME = validate.Regexp(r"^[a-z][a-z0-9_-]{0,31}$", error="Use 1-32 of a-z, 0-9, _ and -.")
STORE_NAME = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$", error="Not a store name.")
_Part = TypeVar("_Part", Buyer, Address)


def _text(most: int, description: str) -> fields.String:
    """An optional text field of at most `most` characters."""
    return fields.String(
        **NULLABLE, validate=validate.Length(max=most), metadata={"description": description}
    )


def _digits(most: int, description: str) -> Text:
    """An optional phone number or postal code; a JSON number is taken as its digits."""
    return Text(
        **NULLABLE, validate=validate.Length(max=most), metadata={"description": description}
    )


def _money(description: str) -> Money:
    return Money(**NULLABLE, metadata={"description": description})


class InternalSchema(SourceSchema):
    """Base of the internal contract's schemas: an unknown field is an error."""

    class Meta:
        unknown = RAISE


class InternalTotalsSchema(InternalSchema):
    subtotal = _money("The lines after line discounts, before tax and shipping.")
    discounts = _money("Every discount on the order.")
    tax = _money("Tax on the order.")
    shipping = _money("Shipping charged.")
    total = _money("What the buyer pays, after refunds.")
    refunded = _money("What was given back.")


class InternalBuyerSchema(InternalSchema):
    email = _text(254, "The buyer's email address.")
    first_name = _text(200, "The buyer's first name.")
    last_name = _text(200, "The buyer's last name.")
    phone = _digits(50, "The buyer's phone number.")
    customer_id = ExactId(
        **NULLABLE, metadata={"description": "The calling system's customer id; null for a guest."}
    )


class InternalAddressSchema(InternalSchema):
    name = _text(200, "The addressee's full name.")
    first_name = _text(200, "The addressee's first name.")
    last_name = _text(200, "The addressee's last name.")
    company = _text(200, "Company name.")
    street = _text(500, "The street lines, joined by ', '.")
    city = _text(200, "City.")
    state = _text(200, "State, province or region.")
    postal_code = _digits(32, "Postal or ZIP code.")
    country = _text(200, "Country, by name or ISO 3166 code.")
    phone = _digits(50, "Phone number at the address.")
    email = _text(254, "Email address for the address.")


class InternalLineItemSchema(InternalSchema):
    id = ExactId(required=True, metadata={"description": "Line item id, unique in the order."})
    name = fields.String(required=True, validate=validate.Length(1, 500))
    sku = fields.String(allow_none=True, load_default=None, validate=validate.Length(0, 200))
    quantity = Quantity(required=True)
    unit_price = Money(required=True, metadata={"description": "Price of one unit, pre-discount."})
    discount = Money(metadata={"description": "Discount on one unit; 0 when left out."})


class InternalOrderSchema(InternalSchema):
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
    name = _text(200, "What people call the order, e.g. '#1001'.")
    created_at = fields.AwareDateTime(**NULLABLE, metadata={"description": "When it was placed."})
    status = fields.Enum(
        OrderStatus,
        by_value=fields.String,
        **NULLABLE,
        metadata={"description": "Where the order stands; open when left out."},
    )
    payment_status = _text(50, "The payment's state, e.g. 'paid', 'partially_refunded'.")
    fulfillment_status = _text(50, "The fulfillment's state, e.g. 'unfulfilled', 'fulfilled'.")
    totals = fields.Nested(
        InternalTotalsSchema, **NULLABLE, metadata={"description": "In the order's currency."}
    )
    buyer = fields.Nested(
        InternalBuyerSchema, **NULLABLE, metadata={"description": "Who placed the order."}
    )
    billing_address = fields.Nested(
        InternalAddressSchema, **NULLABLE, metadata={"description": "Where the bill goes."}
    )
    shipping_address = fields.Nested(
        InternalAddressSchema, **NULLABLE, metadata={"description": "Where the goods go."}
    )

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
        name=data["name"] or None,
        created_at=data["created_at"],
        status=data["status"] or OrderStatus.OPEN,
        payment_status=data["payment_status"] or None,
        fulfillment_status=data["fulfillment_status"] or None,
        totals=_totals(data["totals"], currency),
        buyer=_known(Buyer, data["buyer"]),
        billing=_known(Address, data["billing_address"]),
        shipping=_known(Address, data["shipping_address"]),
    )


def _totals(totals: Mapping[str, Decimal | None] | None, currency: str) -> Totals:
    amounts = {
        name: quantize(amount, currency)
        for name, amount in (totals or {}).items()
        if amount is not None
    }
    return Totals(**amounts)


def _known(kind: type[_Part], values: Mapping[str, str | None] | None) -> _Part | None:
    """`kind` from the values given (the schema's keys are its fields), or None if none is."""
    known = {name: value for name, value in (values or {}).items() if value}
    return kind(**known) if known else None
