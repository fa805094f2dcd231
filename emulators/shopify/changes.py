"""What can happen to a Shopify order, as the control API and the seed make it happen:
an action (`pay`, `fulfill`, `deliver`, `refund`, `cancel`, `close`) or fields set over
the body, and which webhook topics the change fires (`topics`).

- `refund` gives back one unit of the first line that has one, with its tax.
- `cancel` refunds what is left when the order was paid (financial status `refunded`),
  else voids it; every line's `current_quantity` drops to 0 and `cancelled_at` is set.
  `closed_at` stays null, as in Shopify's own cancelled fixture.
- Fields replace top-level values; `line_items` given are merged over generated lines
  (or over the lines with their ids), after which the totals are recomputed, and any
  total given explicitly still wins.

An action that does not fit the order (paying a paid order, refunding an unpaid one)
raises ValueError: the control API answers it 400.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from emulators.common.catalogue import PRODUCTS
from emulators.common.formats import cents, money
from emulators.shopify.orders import Ids, line_item
from emulators.shopify.totals import TAX_RATE, money_set, recompute

Body = dict[str, Any]
_PAID = ("paid", "partially_refunded")
_CARRIERS = (("UPS", "1Z999AA1"), ("USPS", "9400111"), ("DHL Express", "JD0146"))


def apply_action(body: Body, action: str, ids: Ids, at: str) -> None:
    """Apply one action to the body; `at` is the change's time in the shop's format."""
    step = ACTIONS.get(action)
    if step is None:
        raise ValueError(f"unknown action {action!r}; known: {sorted(ACTIONS)}")
    step(body, ids, at)
    recompute(body)


def apply_fields(body: Body, fields: Mapping[str, Any], ids: Ids, rng: random.Random) -> None:
    lines = fields.get("line_items")
    if lines is not None:
        if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
            raise ValueError("line_items must be a list of objects")
        known = {line["id"]: line for line in body["line_items"]}
        body["line_items"] = [_merged_line(known, line, ids, rng, body) for line in lines]
    if {"line_items", "shipping_lines", "refunds", "financial_status"} & set(fields):
        body.update({k: v for k, v in fields.items() if k in ("shipping_lines", "refunds")})
        body["financial_status"] = fields.get("financial_status", body["financial_status"])
        recompute(body)
    body.update({k: v for k, v in fields.items() if k not in ("id", "line_items")})


def topics(before: Body | None, after: Body) -> list[str]:
    """The topics a change fires: orders/create for a new order, orders/updated for any
    change, and orders/paid, orders/cancelled, orders/fulfilled when the order becomes
    so (a new order that is paid already fires orders/paid too). Which changes fire which
    topics beyond create and updated is this emulator's reading of the topic names
    (UNCONFIRMED); Shopify does not promise the order they arrive in."""

    def became(name: str, holds: Callable[[Any], bool]) -> bool:
        return holds(after[name]) and not (before is not None and holds(before[name]))

    fired = ["orders/create"] if before is None else ["orders/updated"]
    if became("financial_status", lambda status: status == "paid"):
        fired.append("orders/paid")
    if became("cancelled_at", bool):
        fired.append("orders/cancelled")
    if became("fulfillment_status", lambda status: status == "fulfilled"):
        fired.append("orders/fulfilled")
    return fired


def _pay(body: Body, ids: Ids, at: str) -> None:
    if body["financial_status"] not in ("pending", "authorized", "partially_paid"):
        raise ValueError(f"cannot pay an order that is {body['financial_status']}")
    _not_cancelled(body)
    body["financial_status"] = "paid"


def _fulfill(body: Body, ids: Ids, at: str) -> None:
    _not_cancelled(body)
    if body["fulfillment_status"] == "fulfilled":
        raise ValueError("the order is fulfilled already")
    carrier, prefix = _CARRIERS[len(body["fulfillments"]) % len(_CARRIERS)]
    fulfillment_id = ids.take("fulfillment")
    tracking = f"{prefix}{fulfillment_id % 10**10:010d}"
    shipped = [line for line in body["line_items"] if line["fulfillable_quantity"] > 0]
    body["fulfillments"].append(
        {
            "id": fulfillment_id,
            "admin_graphql_api_id": f"gid://shopify/Fulfillment/{fulfillment_id}",
            "created_at": at,
            "location_id": 655441491,
            "name": f"{body['name']}.{len(body['fulfillments']) + 1}",
            "order_id": body["id"],
            "origin_address": {},
            "receipt": {},
            "service": "manual",
            "shipment_status": "in_transit",
            "status": "success",
            "tracking_company": carrier,
            "tracking_number": tracking,
            "tracking_numbers": [tracking],
            "tracking_url": f"https://track.example/{tracking}",
            "tracking_urls": [f"https://track.example/{tracking}"],
            "updated_at": at,
            "line_items": [
                {"id": line["id"], "quantity": line["fulfillable_quantity"], "sku": line["sku"]}
                for line in shipped
            ],
        }
    )
    for line in shipped:
        line["fulfillable_quantity"], line["fulfillment_status"] = 0, "fulfilled"
    body["fulfillment_status"] = "fulfilled"


def _deliver(body: Body, ids: Ids, at: str) -> None:
    if not body["fulfillments"]:
        raise ValueError("nothing was shipped to deliver")
    for fulfillment in body["fulfillments"]:
        fulfillment["shipment_status"], fulfillment["updated_at"] = "delivered", at


def _refund(body: Body, ids: Ids, at: str) -> None:
    if body["financial_status"] not in _PAID:
        raise ValueError(f"cannot refund an order that is {body['financial_status']}")
    line = next((line for line in body["line_items"] if line["current_quantity"] > 0), None)
    if line is None:
        raise ValueError("no unit is left to refund")
    _give_back(body, ids, at, {line["id"]: 1}, shipping=Decimal(0), note="Customer return")
    left = any(line["current_quantity"] > 0 for line in body["line_items"])
    body["financial_status"] = "partially_refunded" if left else "refunded"


def _cancel(body: Body, ids: Ids, at: str) -> None:
    _not_cancelled(body)
    if body["financial_status"] in _PAID:
        units = {line["id"]: line["current_quantity"] for line in body["line_items"]}
        shipping = Decimal(body["total_shipping_price_set"]["shop_money"]["amount"])
        _give_back(body, ids, at, units, shipping=shipping, note="Order canceled")
        body["financial_status"] = "refunded"
    else:
        body["financial_status"] = "voided"
    for line in body["line_items"]:
        line["current_quantity"] = line["fulfillable_quantity"] = 0
    body["cancelled_at"], body["cancel_reason"] = at, "customer"


def _close(body: Body, ids: Ids, at: str) -> None:
    body["closed_at"] = at


ACTIONS: dict[str, Callable[[Body, Ids, str], None]] = {
    "pay": _pay,
    "fulfill": _fulfill,
    "deliver": _deliver,
    "refund": _refund,
    "cancel": _cancel,
    "close": _close,
}


def _give_back(
    body: Body, ids: Ids, at: str, units: dict[int, int], shipping: Decimal, note: str
) -> None:
    """Record a refund of these units (line id -> count) and shipping, paid back in one
    successful refund transaction."""
    currency, refund_id = body["currency"], ids.take("refund")
    refund_lines, amount = [], shipping
    for line in body["line_items"]:
        count = units.get(line["id"], 0)
        if count <= 0:
            continue
        allocated = sum((Decimal(a["amount"]) for a in line["discount_allocations"]), Decimal(0))
        subtotal = cents((Decimal(line["price"]) - allocated / line["quantity"]) * count)
        tax = cents(subtotal * TAX_RATE)
        amount += subtotal + tax
        refund_lines.append(
            {
                "id": ids.take("refund"),
                "line_item_id": line["id"],
                "location_id": None,
                "quantity": count,
                "restock_type": "return",
                "subtotal": float(subtotal),  # a JSON number here, as in Shopify's fixture
                "subtotal_set": money_set(subtotal, currency),
                "total_tax": float(tax),
                "total_tax_set": money_set(tax, currency),
            }
        )
        line["current_quantity"] -= count
        line["fulfillable_quantity"] = max(0, line["fulfillable_quantity"] - count)
    adjustments = []
    if shipping:
        adjustments.append(
            {
                "id": ids.take("refund"),
                "amount": money(-shipping),
                "amount_set": money_set(-shipping, currency),
                "kind": "shipping_refund",
                "order_id": body["id"],
                "reason": "Shipping refund",
                "refund_id": refund_id,
                "tax_amount": "0.00",
            }
        )
    transaction_id = ids.take("transaction")
    body["refunds"].append(
        {
            "id": refund_id,
            "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
            "created_at": at,
            "note": note,
            "order_id": body["id"],
            "processed_at": at,
            "restock": True,
            "user_id": None,
            "additional_fees": [],
            "duties": [],
            "total_additional_fees_set": money_set("0", currency),
            "total_duties_set": money_set("0", currency),
            "order_adjustments": adjustments,
            "refund_line_items": refund_lines,
            "transactions": [
                {
                    "id": transaction_id,
                    "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{transaction_id}",
                    "amount": money(amount),
                    "currency": currency,
                    "created_at": at,
                    "gateway": "shopify_payments",
                    "kind": "refund",
                    "order_id": body["id"],
                    "processed_at": at,
                    "status": "success",
                    "test": False,
                }
            ],
        }
    )


def _merged_line(
    known: dict[int, Body], given: Body, ids: Ids, rng: random.Random, body: Body
) -> Body:
    base = known.get(given.get("id", -1))
    if base is None:
        base = line_item(ids, rng.choice(PRODUCTS), 1, body["currency"])
    merged = {**base, **given}
    if "quantity" in given and "current_quantity" not in given:
        merged["current_quantity"] = merged["fulfillable_quantity"] = given["quantity"]
    return merged


def _not_cancelled(body: Body) -> None:
    if body["cancelled_at"]:
        raise ValueError("the order is cancelled")
