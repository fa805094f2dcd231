"""The orders a scenario sends and the end state HubSpot must reach for them.

Per order, HubSpot must end with the newest version sent (by `updated_at`): its line
items, its order record, its buyer's contact, and the associations that hang the lines
and the buyer on the order (README: "The whole order in HubSpot", "Order mapping",
"Order status and stages"). The expectation is computed from the values the test chose
and the bodies it sent, never through `service.mapping`; the only thing it learns from
HubSpot is the order pipeline's stage ids, which differ per portal, read by label from
the emulator's own `GET /crm/v3/pipelines/orders`, as any client must.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any, NamedTuple

from service import samples

SHOP = "scenario-shop.myshopify.com"
CURRENCY = "USD"
ID_PROPERTY = "external_line_item_id"
ORDER_ID_PROPERTY = "external_order_key"
# HubSpot-defined association types (shared/reference/commerce.md §2).
LINE_ITEM_TO_ORDER = 514
ORDER_TO_CONTACT = 507
# Properties the emulator adds to records of some type; the rest must equal what was sent.
SYSTEM_PROPERTIES = frozenset(
    {"hs_object_id", "createdate", "hs_createdate", "hs_lastmodifieddate", "lastmodifieddate"}
)
# The order record's properties a scenario controls, so compares. The others (dates and
# addresses) come from the samples unchanged whatever the scenario does.
ORDER_PROPERTIES = (
    ORDER_ID_PROPERTY,
    "hs_order_name",
    "hs_currency_code",
    "hs_total_price",
    "hs_subtotal_price",
    "hs_tax",
    "hs_shipping_cost",
    "hs_refund_amount",
    "hs_external_order_id",
    "hs_source_store",
    "hs_payment_status",
    "hs_fulfillment_status",
    "hs_pipeline",
    "hs_pipeline_stage",
)
PAID = frozenset({"paid", "partially_refunded", "refunded"})


def line_key(shop: str, line_id: int) -> str:
    return f"shopify:{shop}:{line_id}"


def order_key(shop: str, order_id: int) -> str:
    return f"shopify:{shop}:{order_id}"


@dataclass(frozen=True)
class Line:
    """One order line as the test chose it."""

    id: int
    name: str
    quantity: int  # ordered
    price: str  # unit price, a decimal string with the currency's two digits
    sku: str | None = None
    current_quantity: int | None = None  # units still on the order after an edit

    def payload(self) -> dict[str, Any]:
        item = samples.shopify_line_item(
            self.id, self.name, str(self.quantity), self.price, sku=self.sku
        )
        if self.current_quantity is not None:
            item["current_quantity"] = self.current_quantity
        return item

    def expected(self, shop: str) -> dict[str, str]:
        """The HubSpot properties this line must end with (the contract's table)."""
        units = self.quantity if self.current_quantity is None else self.current_quantity
        properties = {
            "name": self.name,
            "quantity": str(units),
            "price": self.price,
            "discount": "0.00",
            "hs_line_item_currency_code": CURRENCY,
            ID_PROPERTY: line_key(shop, self.id),
        }
        if self.sku:
            properties["hs_sku"] = self.sku
        return properties


@dataclass(frozen=True)
class Buyer:
    """The order's customer as the test chose them; the email as the shop sends it."""

    email: str
    first_name: str
    last_name: str
    phone: str

    @property
    def key(self) -> str:
        """HubSpot keys contacts by email, which it stores trimmed and lower-cased."""
        return self.email.strip().lower()

    def customer(self, customer_id: int) -> dict[str, Any]:
        return {
            "id": customer_id,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "phone": self.phone,
            "state": "enabled",
            "verified_email": True,
        }

    def expected(self) -> dict[str, str]:
        return {
            "email": self.key,
            "firstname": self.first_name,
            "lastname": self.last_name,
            "phone": self.phone,
        }


# The samples' own buyer, which the line-item scenarios always had.
JANE = Buyer(samples.EMAIL, "Jane", "Doe", "+16135550123")


@dataclass(frozen=True)
class OrderPipeline:
    """The order pipeline as HubSpot's read API answers it: its id, stage ids by label."""

    id: str
    stages: Mapping[str, str]

    @classmethod
    def from_answer(cls, body: Mapping[str, Any]) -> OrderPipeline:
        """The default pipeline: the first in display order (README, "Order status")."""
        first = min(body["results"], key=lambda pipeline: pipeline["displayOrder"])
        return cls(str(first["id"]), {s["label"]: str(s["id"]) for s in first["stages"]})


@dataclass(frozen=True)
class OrderVersion:
    """One version of an order as Shopify sends it: its lines, buyer and lifecycle."""

    order_id: int
    updated_at: str  # ISO 8601 with an offset, as Shopify sends it
    lines: tuple[Line, ...]
    buyer: Buyer | None = JANE  # None: a guest checkout without an email
    financial_status: str = "paid"
    fulfillment_status: str | None = None
    delivered: bool = False  # its fulfillment's shipment reached the buyer
    cancelled_at: str | None = None
    refunds: tuple[str, ...] = ()  # amounts of successful refund transactions

    @cached_property
    def body(self) -> dict[str, Any]:
        """The order body, built once: the driver sends it and the expectation reads it."""
        fulfillments = None
        if self.fulfillment_status == "fulfilled":
            shipment = "delivered" if self.delivered else "in_transit"
            fulfillments = [
                {"id": self.order_id + 1, "status": "success", "shipment_status": shipment}
            ]
        return samples.shopify_order(
            self.order_id,
            updated_at=self.updated_at,
            currency=CURRENCY,
            line_items=[line.payload() for line in self.lines],
            email=self.buyer.email if self.buyer else "",
            customer=self.buyer.customer(self.order_id + 7_000_000) if self.buyer else None,
            financial_status=self.financial_status,
            fulfillment_status=self.fulfillment_status,
            cancelled_at=self.cancelled_at,
            fulfillments=fulfillments,
            refunds=self.refunds,
        )

    def payload(self) -> dict[str, Any]:
        return self.body

    @property
    def moment(self) -> datetime:
        return datetime.fromisoformat(self.updated_at)

    def stage_label(self) -> str:
        """The default stage label of the order's canonical status, as HubSpot's Shopify
        sync decides it (README, "Order status and stages")."""
        if self.cancelled_at:
            return "Cancelled"
        if self.fulfillment_status == "fulfilled":
            return "Delivered" if self.delivered else "Shipped"
        return "Processed" if self.financial_status in PAID else "Open"

    def expected_order(self, shop: str, pipeline: OrderPipeline) -> dict[str, str]:
        """The order record's properties the test controls (README, "Order mapping"): the
        totals as the body states them (net of refunds), the stage of its status."""
        body = self.body
        refunded = sum((Decimal(amount) for amount in self.refunds), Decimal(0))
        return {
            ORDER_ID_PROPERTY: order_key(shop, self.order_id),
            "hs_order_name": body["name"],
            "hs_currency_code": CURRENCY,
            "hs_total_price": body["current_total_price"],
            "hs_subtotal_price": body["current_subtotal_price"],
            "hs_tax": body["current_total_tax"],
            "hs_shipping_cost": body["total_shipping_price_set"]["shop_money"]["amount"],
            "hs_refund_amount": f"{refunded:.2f}",
            "hs_external_order_id": str(self.order_id),
            "hs_source_store": shop,
            "hs_payment_status": self.financial_status,
            "hs_fulfillment_status": self.fulfillment_status or "unfulfilled",
            "hs_pipeline": pipeline.id,
            "hs_pipeline_stage": pipeline.stages[self.stage_label()],
        }


class Link(NamedTuple):
    """One association in HubSpot, its ends named by their keys."""

    from_type: str
    from_key: str
    to_type: str
    to_key: str
    type_ids: tuple[int, ...]

    def __str__(self) -> str:
        types = ",".join(map(str, self.type_ids))
        return f"{self.from_type} {self.from_key} -> {self.to_type} {self.to_key} [{types}]"


@dataclass(frozen=True)
class CrmState:
    """HubSpot's records as the scenarios compare them: line items and contacts with every
    property but the system ones, order records with `ORDER_PROPERTIES`, associations."""

    line_items: dict[str, dict[str, str]] = field(default_factory=dict)
    orders: dict[str, dict[str, str]] = field(default_factory=dict)
    contacts: dict[str, dict[str, str]] = field(default_factory=dict)
    associations: frozenset[Link] = frozenset()

    @classmethod
    def from_emulator(
        cls,
        records: Mapping[str, Mapping[str, Mapping[str, Any]]],
        links: Iterable[Mapping[str, Any]],
    ) -> CrmState:
        """From the emulator's `/_emulator/records?type=T` by type and its associations;
        an association end that is no record shows as `?<HubSpot id>`."""
        keys = {
            (object_type, str(record["id"])): key
            for object_type, by_key in records.items()
            for key, record in by_key.items()
        }

        def key(object_type: str, hubspot_id: Any) -> str:
            return keys.get((object_type, str(hubspot_id)), f"?{hubspot_id}")

        def properties(object_type: str) -> dict[str, dict[str, str]]:
            return {
                k: {p: v for p, v in r["properties"].items() if p not in SYSTEM_PROPERTIES}
                for k, r in records.get(object_type, {}).items()
            }

        orders = {
            k: {p: props[p] for p in ORDER_PROPERTIES if p in props}
            for k, props in properties("orders").items()
        }
        associations = frozenset(
            Link(
                link["fromType"],
                key(link["fromType"], link["fromId"]),
                link["toType"],
                key(link["toType"], link["toId"]),
                tuple(sorted(link["typeIds"])),
            )
            for link in links
        )
        return cls(properties("line_items"), orders, properties("contacts"), associations)

    def difference(self, actual: CrmState) -> str:
        """What `actual` lacks or holds beyond this expected state, readably; "" if none."""
        sections = [
            describe_difference(self.line_items, actual.line_items, "line items"),
            describe_difference(self.orders, actual.orders, "order records"),
            describe_difference(self.contacts, actual.contacts, "contacts"),
            describe_links(self.associations, actual.associations),
        ]
        return "\n".join(section for section in sections if section)


def describe_difference(
    expected: Mapping[str, Mapping[str, str]],
    actual: Mapping[str, Mapping[str, str]],
    what: str = "line items",
) -> str:
    """One kind's records that are missing, unexpected or different; "" when equal."""
    if expected == actual:
        return ""
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    wrong = [k for k in sorted(set(expected) & set(actual)) if expected[k] != actual[k]]
    lines = [
        f"HubSpot does not hold the expected {what}: {len(expected)} expected, "
        f"{len(actual)} held, {len(missing)} missing, {len(extra)} unexpected, "
        f"{len(wrong)} with other properties"
    ]
    lines += [f"  missing {k}" for k in missing[:5]]
    lines += [f"  unexpected {k}: {actual[k]}" for k in extra[:5]]
    for k in wrong[:5]:
        names = sorted(set(expected[k]) | set(actual[k]))
        changes = {n: (expected[k].get(n), actual[k].get(n)) for n in names}
        shown = ", ".join(
            f"{n}: {want!r} held {got!r}" for n, (want, got) in changes.items() if want != got
        )
        lines.append(f"  {k}: expected {shown}")
    return "\n".join(lines)


def describe_links(expected: frozenset[Link], actual: frozenset[Link]) -> str:
    if expected == actual:
        return ""
    missing, extra = sorted(expected - actual), sorted(actual - expected)
    lines = [
        f"HubSpot does not hold the expected associations: {len(expected)} expected, "
        f"{len(actual)} held, {len(missing)} missing, {len(extra)} unexpected"
    ]
    lines += [f"  missing {link}" for link in missing[:5]]
    lines += [f"  unexpected {link}" for link in extra[:5]]
    return "\n".join(lines)


class Expectation:
    """The end state HubSpot must reach: per order, the newest version sent wins."""

    def __init__(self, shop: str = SHOP) -> None:
        self.shop = shop
        self._newest: dict[int, OrderVersion] = {}
        self._lines: dict[int, set[int]] = {}
        self._buyers: dict[int, str | None] = {}
        self._contacts: dict[str, dict[str, str]] = {}

    def sent(self, order: OrderVersion) -> None:
        lines = {line.id for line in order.lines}
        # Orders in these scenarios keep their line ids and their buyer across versions: a
        # dropped line, or the contact and association of a former email, would stay in
        # HubSpot as they were, which these scenarios do not exercise.
        assert self._lines.setdefault(order.order_id, lines) == lines, "line ids changed"
        buyer = order.buyer.key if order.buyer else None
        assert self._buyers.setdefault(order.order_id, buyer) == buyer, "the buyer changed"
        if order.buyer is not None:
            # One person per email: which order's names a shared contact ends with is
            # not what these scenarios are about.
            contact = order.buyer.expected()
            assert self._contacts.setdefault(buyer or "", contact) == contact, "two buyers"
        newest = self._newest.get(order.order_id)
        if newest is None or order.moment > newest.moment:
            self._newest[order.order_id] = order

    @property
    def orders(self) -> list[OrderVersion]:
        """The newest version of every order sent."""
        return list(self._newest.values())

    def line_items(self) -> dict[str, dict[str, str]]:
        return {
            line_key(self.shop, line.id): line.expected(self.shop)
            for order in self._newest.values()
            for line in order.lines
        }

    def expected(self, pipeline: OrderPipeline) -> CrmState:
        orders = self._newest.values()
        links = {
            Link(
                "line_items",
                line_key(self.shop, line.id),
                "orders",
                order_key(self.shop, o.order_id),
                (LINE_ITEM_TO_ORDER,),
            )
            for o in orders
            for line in o.lines
        }
        links |= {
            Link(
                "orders",
                order_key(self.shop, o.order_id),
                "contacts",
                o.buyer.key,
                (ORDER_TO_CONTACT,),
            )
            for o in orders
            if o.buyer is not None
        }
        return CrmState(
            line_items=self.line_items(),
            orders={
                order_key(self.shop, o.order_id): o.expected_order(self.shop, pipeline)
                for o in orders
            },
            contacts={o.buyer.key: o.buyer.expected() for o in orders if o.buyer is not None},
            associations=frozenset(links),
        )

    def record_counts(self) -> dict[str, int]:
        """The records of each kind the relay's store must keep for these orders."""
        orders = self._newest.values()
        lines = sum(len(o.lines) for o in orders)
        buyers = [o.buyer.key for o in orders if o.buyer is not None]
        counts = {
            "contact": len(set(buyers)),
            "order": len(orders),
            "line_item": lines,
            "line_item>order": lines,
            "order>contact": len(buyers),
        }
        return {kind: count for kind, count in counts.items() if count}
