"""A canonical order into its HubSpot order record: an Orders object (0-123) or a deal.

The record is keyed by HUBSPOT_ORDER_ID_PROPERTY = "{source}:{store}:{order id}". Its
pipeline stage cannot be known here: stage ids differ per portal and are resolved by
label by the worker (`service.hubspot.stages`). So the record carries the canonical
status under `STATUS`, a name HubSpot cannot have (property names are lower-case letters,
digits and underscores), which the worker replaces with the pipeline and stage
properties before sending. A status change therefore changes the stored properties, and
the version rule sends the record again.

Only what the order knows is sent: an unknown total or an absent address is left out,
never sent blank.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from service.domain import Address, Order
from service.money import format_amount

STATUS = "@status"


def order_key(order: Order) -> str:
    """The order record's idProperty value: one per order per store (ids restart per site)."""
    return f"{order.source}:{order.store}:{order.order_id}"


def hubspot_datetime(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, which HubSpot's datetime properties accept."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def display_name(order: Order) -> str:
    return order.name or f"#{order.order_id}"


def order_properties(order: Order) -> dict[str, str]:
    """The Orders object's properties (README, "Order mapping")."""
    totals = order.totals
    properties = {
        "hs_order_name": display_name(order),
        "hs_currency_code": order.currency,
        "hs_external_order_id": order.order_id,
        "hs_source_store": order.store,
        STATUS: order.status.value,
    }
    for name, amount in (
        ("hs_total_price", totals.total),
        ("hs_subtotal_price", totals.subtotal),
        ("hs_order_discount", totals.discounts),
        ("hs_tax", totals.tax),
        ("hs_shipping_cost", totals.shipping),
        ("hs_refund_amount", totals.refunded),
    ):
        if amount is not None:
            properties[name] = format_amount(amount, order.currency)
    if order.created_at is not None:
        properties["hs_external_created_date"] = hubspot_datetime(order.created_at)
    if order.payment_status:
        properties["hs_payment_status"] = order.payment_status
    if order.fulfillment_status:
        properties["hs_fulfillment_status"] = order.fulfillment_status
    billing = order.billing
    if billing is not None and not billing.email and order.buyer and order.buyer.email:
        # Shopify's addresses carry no email: the billing contact is the buyer.
        billing = replace(billing, email=order.buyer.email)
    properties.update(_address("hs_billing_address", billing, _BILLING))
    properties.update(_address("hs_shipping_address", order.shipping, _SHIPPING))
    return properties


# The address properties HubSpot's Orders object has (shared/reference/commerce.md §1).
_BILLING = ("name", "firstname", "lastname", "email", "phone")
_SHIPPING = ("name", "street", "city", "state", "postal_code", "country")


def _address(
    prefix: str, address: Address | None, wanted: tuple[str, ...]
) -> Iterator[tuple[str, str]]:
    if address is None:
        return
    values = {
        "name": address.name or _joined(address.first_name, address.last_name),
        "firstname": address.first_name,
        "lastname": address.last_name,
        "email": address.email,
        "phone": address.phone,
        "street": address.street,
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
        "country": address.country,
    }
    for part in wanted:
        value = (values[part] or "").strip()
        if value:
            yield f"{prefix}_{part}", value


def _joined(*parts: str | None) -> str | None:
    text = " ".join(p.strip() for p in parts if p and p.strip())
    return text or None


def deal_properties(order: Order) -> dict[str, str]:
    """One deal per order. HubSpot does not recompute a deal's amount from line items
    added through the API (commerce.md §4), so the amount is sent: the order's total, or
    the lines' net sum when the source gave no total."""
    total = order.totals.total
    if total is None:
        total = sum(
            (line.quantity * (line.unit_price - line.unit_discount) for line in order.line_items),
            Decimal(0),
        )
    closed = order.created_at or order.updated_at
    return {
        "dealname": f"Order {display_name(order)} ({order.store})",
        "amount": format_amount(total, order.currency),
        "deal_currency_code": order.currency,
        "closedate": hubspot_datetime(closed),
        STATUS: order.status.value,
    }
