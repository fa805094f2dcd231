"""The CRM object types the emulator holds, each addressed by name or objectTypeId:
line_items (0-8), orders (0-123), deals (0-3), contacts (0-1).

An `ObjectType` is data: its default properties (`catalogues`), which of them are
read-only, unique, required on create or pipeline fields, what a read returns without
`properties`, and the scopes its endpoints need (per the OpenAPI files in
shared/reference/hubspot-openapi). Every type goes through the same store code.

UNCONFIRMED choices: a contact's `email` keys upserts and reads without being listed with
`hasUniqueValue` (HubSpot special-cases it; what its property definition says is not on
record); the group names of orders' and line items' properties; which properties a read
of an order or a line item returns without `properties`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from emulators.hubspot import catalogues
from emulators.hubspot.catalogues import Definition


@dataclass(frozen=True)
class ObjectType:
    name: str  # as in the path: "line_items"
    type_id: str  # "0-8"
    label: str  # HubSpot's word in "Could not get some LINE_ITEM objects"
    singular: str  # "line_item", as in the association type name "line_item_to_order"
    group: str  # groupName of its default properties
    first_id: int  # HubSpot ids are large integers; each type has its own range
    properties: Mapping[str, Definition]
    read_only: frozenset[str]
    unique: frozenset[str] = frozenset()
    required: tuple[str, ...] = ()  # required when a record is created
    pipeline: tuple[str, str] | None = None  # (pipeline property, stage property)
    email_key: bool = False  # contacts: `email` keys upserts, trimmed and lower-cased
    created: str = "createdate"
    modified: str = "hs_lastmodifieddate"
    default_read: tuple[str, ...] = ()  # properties a read returns without `properties`
    options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    extra_scopes: frozenset[str] = frozenset()  # accepted for reads and writes alike

    @property
    def words(self) -> str:
        return self.singular.replace("_", " ")

    @property
    def system(self) -> tuple[str, ...]:
        """Properties every read returns, asked for or not."""
        return (self.created, self.modified, "hs_object_id")

    @property
    def read_scopes(self) -> frozenset[str]:
        return frozenset({f"crm.objects.{self.name}.read"}) | self.extra_scopes

    @property
    def write_scopes(self) -> frozenset[str]:
        return frozenset({f"crm.objects.{self.name}.write"}) | self.extra_scopes

    @property
    def known(self) -> frozenset[str]:
        """Default writable property names."""
        return frozenset(self.properties) - self.read_only


LINE_ITEMS = ObjectType(
    name="line_items",
    type_id="0-8",
    label="LINE_ITEM",
    singular="line_item",
    group="lineiteminformation",
    first_id=37_000_000_001,
    properties=catalogues.LINE_ITEMS,
    read_only=frozenset({"amount", "hs_object_id", "createdate", "hs_lastmodifieddate"}),
    unique=frozenset({"external_line_item_id"}),
    default_read=("name", "price", "quantity", "amount", "hs_sku"),
    options={"recurringbillingfrequency": catalogues.FREQUENCIES},
    extra_scopes=frozenset({"e-commerce"}),  # line items accept it; orders do not
)
ORDERS = ObjectType(
    name="orders",
    type_id="0-123",
    label="ORDER",
    singular="order",
    group="orderinformation",
    first_id=42_000_000_001,
    properties=catalogues.ORDERS,
    read_only=frozenset({"hs_object_id", "hs_createdate", "hs_lastmodifieddate"}),
    unique=frozenset({"external_order_key"}),
    required=("hs_order_name",),
    pipeline=("hs_pipeline", "hs_pipeline_stage"),
    created="hs_createdate",
    default_read=("hs_order_name", "hs_currency_code", "hs_total_price", "hs_pipeline_stage"),
    options={"hs_currency_code": catalogues.CURRENCIES},
)
DEALS = ObjectType(
    name="deals",
    type_id="0-3",
    label="DEAL",
    singular="deal",
    group="dealinformation",
    first_id=18_000_000_001,
    properties=catalogues.DEALS,
    read_only=frozenset({"hs_object_id", "createdate", "hs_lastmodifieddate"}),
    unique=frozenset({"external_order_key"}),
    required=("dealname", "dealstage", "pipeline"),
    pipeline=("pipeline", "dealstage"),
    default_read=("dealname", "amount", "closedate", "dealstage", "pipeline"),
    options={"deal_currency_code": catalogues.CURRENCIES},
)
CONTACTS = ObjectType(
    name="contacts",
    type_id="0-1",
    label="CONTACT",
    singular="contact",
    group="contactinformation",
    first_id=91_000_000_001,
    properties=catalogues.CONTACTS,
    read_only=frozenset({"hs_object_id", "createdate", "lastmodifieddate"}),
    email_key=True,
    modified="lastmodifieddate",
    default_read=("email", "firstname", "lastname"),
)

TYPES: tuple[ObjectType, ...] = (LINE_ITEMS, ORDERS, DEALS, CONTACTS)
_BY_NAME = {t.name: t for t in TYPES} | {t.type_id: t for t in TYPES}


def object_type(name_or_id: str) -> ObjectType | None:
    """The type a path segment names ("orders" or "0-123"), or None."""
    return _BY_NAME.get(name_or_id)


def all_scopes() -> set[str]:
    """Every scope some emulated endpoint accepts: the default grant."""
    scopes = {"oauth", "crm.pipelines.orders.read"}
    for kind in TYPES:
        scopes |= kind.read_scopes | kind.write_scopes
    return scopes
