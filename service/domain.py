"""The service's own values: a canonical order and the HubSpot input it maps to.

Every source (Shopify, WooCommerce, an internal system) is loaded into an `Order`;
`service.mapping` turns an `Order` into `LineItemInput`s. Money is `Decimal` throughout.
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


class LineItemState(enum.StrEnum):
    """Where a stored line item stands with HubSpot."""

    PENDING = "pending"  # its desired version is not yet delivered
    DELIVERED = "delivered"  # HubSpot has its latest version
    DEAD = "dead"  # failed for good; an operator must replay it


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


@dataclass(frozen=True)
class LineItemInput:
    """One HubSpot batch-upsert input: the `idProperty` value and the properties."""

    key: str  # "{source}:{store}:{line item id}", the idProperty value
    order_key: tuple[str, str, str]  # (source, store, order_id)
    properties: Mapping[str, str]
