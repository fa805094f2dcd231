"""The service's own values: a canonical order and the HubSpot input it maps to.

Every source (Shopify, WooCommerce, an internal system) is loaded into an `Order`;
`service.mapping` turns an `Order` into HubSpot inputs. Money is `Decimal` throughout.
An order's optional parts (totals, buyer, addresses) are `None` or hold `None` where the
source did not say; the mapping sends only what is known.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


class Source(enum.StrEnum):
    """The shop platforms with a webhook receiver."""

    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"


class RecordKind(enum.StrEnum):
    """What a stored record stands for in HubSpot: an object, or an association of two.

    An association kind is named "<from kind>><to kind>"; both ends are records of the
    same order's write, and it is sent only once both ends have HubSpot ids.
    """

    CONTACT = "contact"
    ORDER = "order"  # HubSpot's commerce Orders object (0-123)
    DEAL = "deal"  # one deal per order, when HUBSPOT_ORDER_OBJECT=deals
    LINE_ITEM = "line_item"
    LINE_ITEM_TO_ORDER = "line_item>order"
    ORDER_TO_CONTACT = "order>contact"
    LINE_ITEM_TO_DEAL = "line_item>deal"
    DEAL_TO_CONTACT = "deal>contact"

    @property
    def is_association(self) -> bool:
        return ">" in self.value

    @property
    def ends(self) -> tuple[RecordKind, RecordKind]:
        """The kinds of an association's from and to records."""
        start, _, end = self.value.partition(">")
        return RecordKind(start), RecordKind(end)


class RecordState(enum.StrEnum):
    """Where a stored record stands with HubSpot."""

    PENDING = "pending"  # its desired version is not yet delivered
    DELIVERED = "delivered"  # HubSpot has its latest version
    DEAD = "dead"  # failed for good; an operator must replay it


class RejectionReason(enum.StrEnum):
    """Why a signed webhook was kept as rejected instead of stored (service.intake)."""

    INVALID_STORE = "invalid_store"  # the store header (not signed) is missing or no shop's
    INVALID_JSON = "invalid_json"  # the body is not UTF-8 JSON
    INVALID_ORDER = "invalid_order"  # JSON that does not load as an order; errors name fields
    FUTURE_VERSION = "future_version"  # dated more than RELAY_MAX_FUTURE_SKEW_SECONDS ahead


class OrderObject(enum.StrEnum):
    """HUBSPOT_ORDER_OBJECT: what an order becomes in HubSpot beside its line items."""

    ORDERS = "orders"  # HubSpot's commerce Orders object, as its own Shopify sync uses
    DEALS = "deals"  # one deal per order
    NONE = "none"  # line items only


class OrderStatus(enum.StrEnum):
    """Where an order stands, one vocabulary for every source (README, "Order status").

    Decided as HubSpot's own Shopify sync decides its stage: cancelled wins; then
    fulfilled with every shipment delivered; then fulfilled; then paid, partially
    refunded or refunded; else open.
    """

    OPEN = "open"
    PROCESSED = "processed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Totals:
    """The order's money, in its currency, rounded to the minor unit; net of refunds.

    `subtotal` is the lines after line discounts and before tax and shipping; `total` is
    what the buyer pays after refunds; `refunded` is what was given back.
    """

    subtotal: Decimal | None = None
    discounts: Decimal | None = None
    tax: Decimal | None = None
    shipping: Decimal | None = None
    total: Decimal | None = None
    refunded: Decimal | None = None


@dataclass(frozen=True)
class Buyer:
    """Who placed the order, as the shop gave it (`email` untrimmed; may be empty)."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    customer_id: str | None = None  # the shop's customer id; None for a guest


@dataclass(frozen=True)
class Address:
    """A billing or shipping address; `street` joins the address lines with ", "."""

    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    street: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class LineItem:
    """One line of an order, already in canonical units.

    `unit_price` is the pre-discount price of one unit; `unit_discount` is the
    discount on one unit, both rounded to the currency's minor unit.
    """

    id: str  # the source's line item id, exact (ids can exceed 2**53)
    name: str
    quantity: int
    unit_price: Decimal
    unit_discount: Decimal = Decimal("0")
    sku: str | None = None


@dataclass(frozen=True)
class Order:
    """A canonical order from any source."""

    source: str  # "shopify", "woocommerce", or an internal system's name
    store: str  # shop domain or site host; line item ids are unique only per store
    order_id: str
    currency: str  # ISO 4217, upper case
    updated_at: datetime  # timezone-aware; orders the versions of one order
    line_items: tuple[LineItem, ...] = field(default_factory=tuple)
    name: str | None = None  # what people call it: Shopify "#1001", WooCommerce number
    created_at: datetime | None = None  # timezone-aware
    status: OrderStatus = OrderStatus.OPEN
    payment_status: str | None = None  # the shop's own word (Shopify financial_status)
    fulfillment_status: str | None = None  # the shop's own word, "unfulfilled" when none
    totals: Totals = field(default_factory=Totals)
    buyer: Buyer | None = None
    billing: Address | None = None
    shipping: Address | None = None


@dataclass(frozen=True)
class LineItemInput:
    """One line item's HubSpot input: the `idProperty` value and the properties."""

    key: str  # "{source}:{store}:{line item id}", the idProperty value
    order_key: tuple[str, str, str]  # (source, store, order_id)
    properties: Mapping[str, str]


@dataclass(frozen=True)
class RecordInput:
    """One record an order wants in HubSpot, keyed as HubSpot will know it.

    An object's `key` is its `idProperty` value ("{source}:{store}:{line item id}", an
    order's "{source}:{store}:{order id}", a contact's email); an association's key is
    "{from key}>{to key}", with `from_key` and `to_key` naming its ends.
    """

    kind: RecordKind
    key: str
    properties: Mapping[str, str]
    position: int = 0  # the line's place in the order; 0 for the others
    from_key: str | None = None
    to_key: str | None = None
