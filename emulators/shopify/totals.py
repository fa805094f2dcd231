"""The figures of a Shopify order, derived from its lines, shipping lines and refunds so
that they always agree: `subtotal_price` is the lines after discounts, `total_price` adds
shipping and tax, and the `current_*` figures count only `current_quantity` (the units
neither refunded nor removed) and take off refunded shipping. Tax is 8% of each line
after its discount; shipping is untaxed. Every amount also comes as a `*_set` in shop
and presentment money (the same currency here).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from emulators.common.formats import cents, money

TAX_RATE = Decimal("0.08")


def money_set(amount: Decimal | str, currency: str) -> dict[str, Any]:
    one = {"amount": money(amount), "currency_code": currency}
    return {"shop_money": one, "presentment_money": dict(one)}


def recompute(body: dict[str, Any]) -> None:
    """Set every total of the order from its lines, shipping lines and refunds."""
    currency = body["currency"]
    gross = discounts = tax = Decimal(0)
    now_gross = now_discounts = now_tax = Decimal(0)
    for line in body["line_items"]:
        ordered, current = line["quantity"], line.get("current_quantity", line["quantity"])
        line_gross = Decimal(line["price"]) * ordered
        allocated = sum((Decimal(a["amount"]) for a in line["discount_allocations"]), Decimal(0))
        line_tax = cents((line_gross - allocated) * TAX_RATE)
        line["tax_lines"] = [_tax_line(line_tax, currency)] if line_tax else []
        share = Decimal(current) / ordered if ordered else Decimal(0)
        gross, discounts, tax = gross + line_gross, discounts + allocated, tax + line_tax
        now_gross += Decimal(line["price"]) * current
        now_discounts += cents(allocated * share)
        now_tax += cents(line_tax * share)
    shipping = sum((Decimal(s["price"]) for s in body["shipping_lines"]), Decimal(0))
    shipping_back = sum(
        (
            -Decimal(adjustment["amount"])
            for refund in body["refunds"]
            for adjustment in refund["order_adjustments"]
            if adjustment["kind"] == "shipping_refund"
        ),
        Decimal(0),
    )
    subtotal, now_subtotal = gross - discounts, now_gross - now_discounts
    figures = {
        "total_line_items_price": gross,
        "subtotal_price": subtotal,
        "total_discounts": discounts,
        "total_tax": tax,
        "total_price": subtotal + shipping + tax,
        "current_subtotal_price": now_subtotal,
        "current_total_discounts": now_discounts,
        "current_total_tax": now_tax,
        "current_total_price": now_subtotal + shipping - shipping_back + now_tax,
    }
    for name, amount in figures.items():
        body[name] = money(amount)
        body[f"{name}_set"] = money_set(amount, currency)
    body["total_shipping_price_set"] = money_set(shipping, currency)
    body["tax_lines"] = [_tax_line(tax, currency)] if tax else []
    unpaid = body["financial_status"] in ("pending", "authorized", "partially_paid")
    body["total_outstanding"] = body["total_price"] if unpaid else "0.00"
    body["total_tip_received"] = "0.00"
    body["total_weight"] = sum(line["grams"] * line["quantity"] for line in body["line_items"])


def _tax_line(amount: Decimal, currency: str) -> dict[str, Any]:
    return {
        "price": money(amount),
        "rate": float(TAX_RATE),
        "title": "Tax",
        "price_set": money_set(amount, currency),
        "channel_liable": False,
    }
