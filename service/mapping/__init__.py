"""A canonical order into every HubSpot record it wants, under one set of keys.

`to_records(order, settings)` gives the line items (`line_items`), and with the whole
order on, the order record (`orders`: HubSpot's Orders object or a deal), the buyer's
contact (`contacts`) and the associations between them: line item -> order record and
order record -> contact. Every property is a string, as HubSpot stores them; an unknown
property makes HubSpot reject the whole input, so only properties HubSpot defines are set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from service.domain import Order, OrderObject, RecordInput, RecordKind
from service.mapping.contacts import contact_properties, usable_email
from service.mapping.line_items import line_item_key, to_inputs
from service.mapping.orders import deal_properties, order_key, order_properties

__all__ = ["MappingSettings", "OrderObject", "line_item_key", "to_inputs", "to_records"]

# The association kinds of each order object: (line item -> parent, parent -> contact).
_ASSOCIATIONS = {
    OrderObject.ORDERS: (RecordKind.LINE_ITEM_TO_ORDER, RecordKind.ORDER_TO_CONTACT),
    OrderObject.DEALS: (RecordKind.LINE_ITEM_TO_DEAL, RecordKind.DEAL_TO_CONTACT),
}


@dataclass(frozen=True)
class MappingSettings:
    """What of the whole order goes to HubSpot (HUBSPOT_ORDER_OBJECT, HUBSPOT_SYNC_CONTACTS)."""

    order_object: OrderObject = OrderObject.ORDERS
    sync_contacts: bool = True


# HubSpot's limit on a text property's value, as commonly cited (UNCONFIRMED in its
# documentation): a longer value is cut to it, ending in an ellipsis, rather than sent to
# fail its whole batch.
MAX_VALUE_CHARS = 65_536


def fit(properties: Mapping[str, str]) -> Mapping[str, str]:
    """`properties`, any value over MAX_VALUE_CHARS cut to it (the same mapping when none is)."""
    if all(len(value) <= MAX_VALUE_CHARS for value in properties.values()):
        return properties
    return {
        name: value if len(value) <= MAX_VALUE_CHARS else value[: MAX_VALUE_CHARS - 1] + "…"
        for name, value in properties.items()
    }


def to_records(order: Order, settings: MappingSettings) -> list[RecordInput]:
    """Every record `order` wants in HubSpot: line items first, in the order's line order."""
    records = _records(order, settings)
    for index, record in enumerate(records):
        fitted = fit(record.properties)
        if fitted is not record.properties:
            records[index] = replace(record, properties=fitted)
    return records


def _records(order: Order, settings: MappingSettings) -> list[RecordInput]:
    lines = [
        RecordInput(RecordKind.LINE_ITEM, item.key, item.properties, position)
        for position, item in enumerate(to_inputs(order))
    ]
    if settings.order_object is OrderObject.NONE:
        return lines
    parent = order_key(order)
    if settings.order_object is OrderObject.ORDERS:
        record = RecordInput(RecordKind.ORDER, parent, order_properties(order))
    else:
        record = RecordInput(RecordKind.DEAL, parent, deal_properties(order))
    to_parent, to_contact = _ASSOCIATIONS[settings.order_object]
    wanted = [*lines, record]
    wanted += [
        RecordInput(to_parent, f"{line.key}>{parent}", {}, from_key=line.key, to_key=parent)
        for line in lines
    ]
    email = usable_email(order) if settings.sync_contacts else None
    if email is not None:
        wanted.append(RecordInput(RecordKind.CONTACT, email, contact_properties(order, email)))
        wanted.append(
            RecordInput(to_contact, f"{parent}>{email}", {}, from_key=parent, to_key=email)
        )
    return wanted
