"""What can happen to a WooCommerce order, as the control API and the seed make it
happen: an action or fields set over the body, and the topics the change fires.

    pay       pending, on-hold or failed -> processing, `date_paid` set
    complete  -> completed, `date_completed` set (and paid, if it was not)
    hold      pending -> on-hold            fail      pending -> failed
    cancel    -> cancelled (WooCommerce refunds nothing by itself)
    refund    a refund of one unit of the next line (the last one gives back what is
              left, and the order becomes `refunded`), listed with a negative total

Fields replace top-level values; `line_items` given are merged over generated lines (or
over the lines with their ids), after which the totals are recomputed, and any total
given explicitly still wins. An action that does not fit the order raises ValueError.

Topics: `order.created` for a new order, and `order.updated` for every change and, with
`updated_on_create`, for a new order too (WooCommerce fires it then, woocommerce#43019);
refunds fire `order.updated` (hook `woocommerce_order_refunded`, webhooks.md §2).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from emulators.common.catalogue import PRODUCTS
from emulators.common.formats import money
from emulators.woocommerce.orders import Ids, line_item, recompute, stamp

Body = dict[str, Any]
Step = Callable[[Body, Ids, float, int], None]  # body, ids, now, the site's offset
_PAID = ("processing", "completed")


def apply_action(body: Body, action: str, ids: Ids, now: float, offset: int) -> None:
    step = ACTIONS.get(action)
    if step is None:
        raise ValueError(f"unknown action {action!r}; known: {sorted(ACTIONS)}")
    step(body, ids, now, offset)


def apply_fields(
    body: Body, fields: Mapping[str, Any], ids: Ids, rng: random.Random, tax_percent: int
) -> None:
    lines = fields.get("line_items")
    if lines is not None:
        if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
            raise ValueError("line_items must be a list of objects")
        known = {line["id"]: line for line in body["line_items"]}
        body["line_items"] = [_merged_line(known, line, ids, rng) for line in lines]
    if {"line_items", "shipping_lines"} & set(fields):
        body.update({k: v for k, v in fields.items() if k == "shipping_lines"})
        recompute(body, tax_percent)
    body.update({k: v for k, v in fields.items() if k not in ("id", "line_items")})


def topics(created: bool, updated_on_create: bool) -> list[str]:
    if not created:
        return ["order.updated"]
    return ["order.created", "order.updated"] if updated_on_create else ["order.created"]


def _pay(body: Body, ids: Ids, now: float, offset: int) -> None:
    if body["status"] not in ("pending", "on-hold", "failed"):
        raise ValueError(f"cannot pay an order that is {body['status']}")
    body["status"], body["transaction_id"] = "processing", f"ch_{body['order_key'][-12:]}"
    body["needs_payment"] = False
    stamp(body, "date_paid", now, offset)


def _complete(body: Body, ids: Ids, now: float, offset: int) -> None:
    if body["status"] in ("completed", "cancelled", "refunded", "failed"):
        raise ValueError(f"cannot complete an order that is {body['status']}")
    if body["date_paid"] is None:
        stamp(body, "date_paid", now, offset)
    body["status"], body["needs_payment"], body["needs_processing"] = "completed", False, False
    stamp(body, "date_completed", now, offset)


def _hold(body: Body, ids: Ids, now: float, offset: int) -> None:
    _from_pending(body, "on-hold")


def _fail(body: Body, ids: Ids, now: float, offset: int) -> None:
    _from_pending(body, "failed")


def _cancel(body: Body, ids: Ids, now: float, offset: int) -> None:
    if body["status"] in ("cancelled", "refunded"):
        raise ValueError(f"cannot cancel an order that is {body['status']}")
    body["status"], body["is_editable"] = "cancelled", False


def _refund(body: Body, ids: Ids, now: float, offset: int) -> None:
    if body["status"] not in _PAID:
        raise ValueError(f"cannot refund an order that is {body['status']}")
    refunded = -sum((Decimal(r["total"]) for r in body["refunds"]), Decimal(0))
    left = Decimal(body["total"]) - refunded
    line = body["line_items"][len(body["refunds"]) % len(body["line_items"])]
    unit = (Decimal(line["total"]) + Decimal(line["total_tax"])) / max(1, line["quantity"])
    amount = min(left, unit.quantize(Decimal("0.01")))
    body["refunds"].append(
        {"id": ids.take("order"), "reason": "Customer return", "total": money(-amount)}
    )
    if amount >= left:
        body["status"] = "refunded"


def _from_pending(body: Body, status: str) -> None:
    if body["status"] != "pending":
        raise ValueError(f"only a pending order can become {status}, not a {body['status']} one")
    body["status"] = status


ACTIONS: dict[str, Step] = {
    "pay": _pay,
    "complete": _complete,
    "hold": _hold,
    "fail": _fail,
    "cancel": _cancel,
    "refund": _refund,
}


def _merged_line(known: dict[int, Body], given: Body, ids: Ids, rng: random.Random) -> Body:
    base = known.get(given.get("id", -1)) or line_item(ids, rng.choice(PRODUCTS), 1)
    merged = {**base, **given}
    if "total" not in given and ("subtotal" in given or "quantity" in given):
        merged["total"] = merged["subtotal"]
    return merged
