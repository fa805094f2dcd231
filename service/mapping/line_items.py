"""A canonical order into HubSpot line-item inputs, one per line item.

Every property is sent as a string, as HubSpot stores them. Only properties HubSpot has
by default are set: an unknown property makes HubSpot reject the whole input.
"""

from __future__ import annotations

from service.domain import LineItem, LineItemInput, Order, Source
from service.money import format_amount

SHOP_SOURCES = frozenset(source.value for source in Source)


def line_item_key(source: str, store: str, line_id: str, order_id: str | None = None) -> str:
    """Return the `idProperty` value of a line item.

    Shops number line items uniquely per store: "{source}:{store}:{line id}" (the store is
    part of it because WooCommerce ids restart on every site). An internal system's line
    ids need only be unique within the order, so its keys carry the order id too:
    "{source}:{store}:{order id}:{line id}".
    """
    if order_id is None or source in SHOP_SOURCES:
        return f"{source}:{store}:{line_id}"
    return f"{source}:{store}:{order_id}:{line_id}"


def to_inputs(order: Order) -> list[LineItemInput]:
    """Return the HubSpot inputs for `order`'s line items, in the order's line order."""
    order_key = (order.source, order.store, order.order_id)
    return [
        LineItemInput(
            key=line_item_key(order.source, order.store, line.id, order.order_id),
            order_key=order_key,
            properties=_properties(line, order.currency),
        )
        for line in order.line_items
    ]


def _properties(line: LineItem, currency: str) -> dict[str, str]:
    properties = {
        "name": line.name,
        "quantity": str(line.quantity),
        # Plain notation with the currency's minor digits ("199.00", never "1.99E+2").
        "price": format_amount(line.unit_price, currency),
        "discount": format_amount(line.unit_discount, currency),
        "hs_line_item_currency_code": currency,
    }
    if line.sku:
        properties["hs_sku"] = line.sku
    return properties
