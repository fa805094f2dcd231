"""Shopify order webhooks (orders/create, orders/updated, ...) into canonical orders.

The body is the bare REST Order resource. Money fields are in the shop currency (order
`currency`), as decimal strings. Per line item: `current_quantity` counts the units
still on the order (refunded and removed units excluded), `quantity` the units ordered;
`discount_allocations` hold the line's discounts, including those on units refunded
since, so the unit discount divides by the ordered quantity. `total_discount` is not used:
Shopify reports it as "0.00" on lines whose allocations carry the discount.

The order's totals are the `current_*` figures, net of refunds, where present (the plain
ones are gross), rounded to the currency's minor unit. Its status is decided as HubSpot's
own Shopify sync decides it (`status_of`). `customer` may be null and `email` may be ""
(a draft or custom order, a deleted customer): the buyer is then built from what is left.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from service.domain import Address, Buyer, LineItem, Order, OrderStatus, Source, Totals
from service.money import divide, quantize
from service.sources import (
    NULLABLE,
    Currency,
    ExactId,
    Money,
    Quantity,
    SourceSchema,
    Text,
    first_text,
    join_text,
    reject_duplicate_ids,
)
from service.sources.flat import Flat, OrderLoader

# What nothing known looks like: such a buyer or address is None instead.
_NOBODY = Buyer()
_NOWHERE = Address()

# financial_status values that put an order past "open" (HubSpot's Shopify sync).
_PAID = frozenset({"paid", "partially_refunded", "refunded"})


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


class ShopifyCustomerSchema(SourceSchema):
    """The order's customer record (null for a guest or a deleted customer)."""

    id = ExactId(**NULLABLE)
    email = fields.String(**NULLABLE)
    first_name = fields.String(**NULLABLE)
    last_name = fields.String(**NULLABLE)
    phone = Text(**NULLABLE)


class ShopifyAddressSchema(SourceSchema):
    """A billing or shipping address."""

    name = fields.String(**NULLABLE)
    first_name = fields.String(**NULLABLE)
    last_name = fields.String(**NULLABLE)
    company = fields.String(**NULLABLE)
    address1 = fields.String(**NULLABLE)
    address2 = fields.String(**NULLABLE)
    city = fields.String(**NULLABLE)
    province = fields.String(**NULLABLE)
    zip = Text(**NULLABLE)
    country = fields.String(**NULLABLE)
    country_code = fields.String(**NULLABLE)
    phone = Text(**NULLABLE)


class ShopifyMoneySchema(SourceSchema):
    """An amount in one currency, inside a `*_set`."""

    amount = Money(**NULLABLE)


class ShopifyPriceSetSchema(SourceSchema):
    """An amount in the shop's and in the buyer's currency; the relay reads the shop's."""

    shop_money = Flat(ShopifyMoneySchema)


class ShopifyShippingLineSchema(SourceSchema):
    """A shipping line: a method and its price."""

    price = Money(**NULLABLE)


class ShopifyFulfillmentSchema(SourceSchema):
    """A fulfillment: `status` is its own (success, failure, ...), `shipment_status` the
    carrier's (in_transit, delivered, ...)."""

    status = fields.String(**NULLABLE)
    shipment_status = fields.String(**NULLABLE)


class ShopifyTransactionSchema(SourceSchema):
    """A payment transaction of a refund."""

    kind = fields.String(**NULLABLE)
    status = fields.String(**NULLABLE)
    amount = Money(**NULLABLE)


class ShopifyRefundSchema(SourceSchema):
    """A refund on the order; what was given back is in its transactions."""

    transactions = fields.List(Flat(ShopifyTransactionSchema), **NULLABLE)


class ShopifyOrderDetailsSchema(SourceSchema):
    """What the relay reads of a Shopify order beyond its line items; all optional."""

    name = fields.String(**NULLABLE)
    created_at = fields.AwareDateTime(**NULLABLE)
    cancelled_at = fields.String(**NULLABLE)  # only whether it is set matters
    financial_status = fields.String(**NULLABLE)
    fulfillment_status = fields.String(**NULLABLE)
    email = fields.String(**NULLABLE)
    contact_email = fields.String(**NULLABLE)
    phone = Text(**NULLABLE)
    customer = Flat(ShopifyCustomerSchema)
    billing_address = Flat(ShopifyAddressSchema)
    shipping_address = Flat(ShopifyAddressSchema)
    subtotal_price = Money(**NULLABLE)
    current_subtotal_price = Money(**NULLABLE)
    total_discounts = Money(**NULLABLE)
    current_total_discounts = Money(**NULLABLE)
    total_tax = Money(**NULLABLE)
    current_total_tax = Money(**NULLABLE)
    total_price = Money(**NULLABLE)
    current_total_price = Money(**NULLABLE)
    total_shipping_price_set = Flat(ShopifyPriceSetSchema)
    shipping_lines = fields.List(Flat(ShopifyShippingLineSchema), **NULLABLE)
    fulfillments = fields.List(Flat(ShopifyFulfillmentSchema), **NULLABLE)
    refunds = fields.List(Flat(ShopifyRefundSchema), **NULLABLE)


class ShopifyOrderSchema(ShopifyOrderDetailsSchema):
    """A Shopify order, reduced to what the relay reads."""

    id = ExactId(required=True)
    currency = Currency(required=True)
    updated_at = fields.AwareDateTime(required=True)
    line_items = fields.List(fields.Nested(ShopifyLineItemSchema), required=True)

    @validates_schema
    def _line_ids_are_unique(self, data: dict[str, Any], **kwargs: Any) -> None:
        reject_duplicate_ids(data["line_items"])


# Built once: instantiating the schemas (and their nested ones) cost more than loading.
_LOADER = OrderLoader(ShopifyOrderSchema, ShopifyOrderDetailsSchema)


def to_order(payload: object, store: str) -> Order:
    """Load a Shopify order body; raise `ValidationError` naming the fields at fault."""
    data = _LOADER.load(payload)
    currency: str = data["currency"]
    return Order(
        source=Source.SHOPIFY.value,
        store=store,
        order_id=data["id"],
        currency=currency,
        updated_at=data["updated_at"],
        line_items=tuple(_line_item(item, currency) for item in data["line_items"]),
        name=data["name"] or None,
        created_at=data["created_at"],
        status=status_of(data),
        payment_status=data["financial_status"] or None,
        fulfillment_status=data["fulfillment_status"] or "unfulfilled",
        totals=_totals(data, currency),
        buyer=_buyer(data),
        billing=_address(data["billing_address"]),
        shipping=_address(data["shipping_address"]),
    )


def status_of(data: Mapping[str, Any]) -> OrderStatus:
    """The order's status as HubSpot's Shopify sync decides its stage (README, "Order
    status"): cancelled always wins; fulfilled with every successful fulfillment delivered
    is delivered; fulfilled is shipped; paid or (partially) refunded is processed."""
    if data["cancelled_at"]:
        return OrderStatus.CANCELLED
    if data["fulfillment_status"] == "fulfilled":
        shipments = [
            fulfillment["shipment_status"]
            for fulfillment in data["fulfillments"] or ()
            if fulfillment and fulfillment["status"] == "success"
        ]
        if shipments and all(shipment == "delivered" for shipment in shipments):
            return OrderStatus.DELIVERED
        return OrderStatus.SHIPPED
    if data["financial_status"] in _PAID:
        return OrderStatus.PROCESSED
    return OrderStatus.OPEN


def _totals(data: Mapping[str, Any], currency: str) -> Totals:
    def amount(current: str, plain: str) -> Decimal | None:
        value: Decimal | None = data[current] if data[current] is not None else data[plain]
        return None if value is None else quantize(value, currency)

    return Totals(
        subtotal=amount("current_subtotal_price", "subtotal_price"),
        discounts=amount("current_total_discounts", "total_discounts"),
        tax=amount("current_total_tax", "total_tax"),
        shipping=_shipping(data, currency),
        total=amount("current_total_price", "total_price"),
        refunded=_refunded(data["refunds"], currency),
    )


def _shipping(data: Mapping[str, Any], currency: str) -> Decimal | None:
    shop_money = (data["total_shipping_price_set"] or {}).get("shop_money") or {}
    if shop_money.get("amount") is not None:
        return quantize(shop_money["amount"], currency)
    lines = data["shipping_lines"]
    if lines is None:
        return None
    prices = (line["price"] for line in lines if line and line["price"] is not None)
    return quantize(sum(prices, Decimal(0)), currency)


def _refunded(refunds: list[dict[str, Any] | None] | None, currency: str) -> Decimal | None:
    """What the successful refund transactions gave back; None when Shopify did not say."""
    if refunds is None:
        return None
    given_back = (
        transaction["amount"]
        for refund in refunds
        if refund
        for transaction in refund["transactions"] or ()
        if transaction
        and transaction["kind"] == "refund"
        and transaction["status"] == "success"
        and transaction["amount"] is not None
    )
    return quantize(sum(given_back, Decimal(0)), currency)


def _buyer(data: Mapping[str, Any]) -> Buyer | None:
    customer: Mapping[str, Any] = data["customer"] or {}
    billing: Mapping[str, Any] = data["billing_address"] or {}
    # The name comes as a pair, so that a customer's first name never meets a billing
    # address's last name.
    named = customer if customer.get("first_name") or customer.get("last_name") else billing
    buyer = Buyer(
        email=first_text(data["email"], data["contact_email"], customer.get("email")),
        first_name=named.get("first_name") or None,
        last_name=named.get("last_name") or None,
        phone=first_text(customer.get("phone"), data["phone"], billing.get("phone")),
        customer_id=customer.get("id"),
    )
    return None if buyer == _NOBODY else buyer


def _address(raw: Mapping[str, Any] | None) -> Address | None:
    if raw is None:
        return None
    address = Address(
        name=raw["name"] or None,
        first_name=raw["first_name"] or None,
        last_name=raw["last_name"] or None,
        company=raw["company"] or None,
        street=join_text(", ", raw["address1"], raw["address2"]),
        city=raw["city"] or None,
        state=raw["province"] or None,
        postal_code=raw["zip"] or None,
        country=first_text(raw["country"], raw["country_code"]),
        phone=raw["phone"] or None,
    )
    return None if address == _NOWHERE else address


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
