"""What HubSpot calls each kind of record, and how many of them one request may carry.

Object types are the paths of `/crm/v3/objects/{type}`; association type ids are
HubSpot-defined (shared/reference/commerce.md §2: line item -> order 514, order ->
contact 507, line item -> deal 20, deal -> contact 3). Object batch endpoints take 100
inputs (commerce.md §1, official); association batch create takes 2,000 (§2).
"""

from __future__ import annotations

from service.config import Config
from service.domain import OrderObject, RecordKind

OBJECT_TYPES = {
    RecordKind.CONTACT: "contacts",
    RecordKind.ORDER: "orders",
    RecordKind.DEAL: "deals",
    RecordKind.LINE_ITEM: "line_items",
}
ASSOCIATION_TYPE_IDS = {
    RecordKind.LINE_ITEM_TO_ORDER: 514,
    RecordKind.ORDER_TO_CONTACT: 507,
    RecordKind.LINE_ITEM_TO_DEAL: 20,
    RecordKind.DEAL_TO_CONTACT: 3,
}
MAX_OBJECT_INPUTS = 100
MAX_ASSOCIATION_INPUTS = 2000
CONTACT_ID_PROPERTY = "email"

# Per round of due work: contacts, then order records, then line items, then
# associations (which also wait for both of their ends).
PRIORITY = (
    RecordKind.CONTACT,
    RecordKind.ORDER,
    RecordKind.DEAL,
    RecordKind.LINE_ITEM,
    RecordKind.LINE_ITEM_TO_ORDER,
    RecordKind.LINE_ITEM_TO_DEAL,
    RecordKind.ORDER_TO_CONTACT,
    RecordKind.DEAL_TO_CONTACT,
)


def object_type(kind: RecordKind) -> str:
    """The HubSpot object type of an object kind, or of an association's from end."""
    return OBJECT_TYPES[kind.ends[0] if kind.is_association else kind]


def id_property(config: Config, kind: RecordKind) -> str:
    if kind is RecordKind.LINE_ITEM:
        return config.hubspot_id_property
    if kind is RecordKind.CONTACT:
        return CONTACT_ID_PROPERTY
    return config.hubspot_order_id_property


def batch_limit(config: Config, kind: RecordKind) -> int:
    if kind.is_association:
        return MAX_ASSOCIATION_INPUTS
    return min(config.batch_size, MAX_OBJECT_INPUTS)


def active_kinds(config: Config) -> tuple[RecordKind, ...]:
    """The kinds this configuration delivers, in priority order."""
    wanted = {RecordKind.LINE_ITEM}
    if config.hubspot_order_object is OrderObject.ORDERS:
        wanted |= {RecordKind.ORDER, RecordKind.LINE_ITEM_TO_ORDER}
        if config.hubspot_sync_contacts:
            wanted |= {RecordKind.CONTACT, RecordKind.ORDER_TO_CONTACT}
    elif config.hubspot_order_object is OrderObject.DEALS:
        wanted |= {RecordKind.DEAL, RecordKind.LINE_ITEM_TO_DEAL}
        if config.hubspot_sync_contacts:
            wanted |= {RecordKind.CONTACT, RecordKind.DEAL_TO_CONTACT}
    return tuple(kind for kind in PRIORITY if kind in wanted)


def order_kind(config: Config) -> RecordKind | None:
    """The kind of the order record, if the configuration has one."""
    return {OrderObject.ORDERS: RecordKind.ORDER, OrderObject.DEALS: RecordKind.DEAL}.get(
        config.hubspot_order_object
    )
