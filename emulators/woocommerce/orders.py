"""WooCommerce order bodies: the REST v3 order (`/wc/v3/orders/<id>`), which is also the
body of a v3 `order.*` webhook (shared/reference/shop-apis.md §2), modelled on the
documented example (shared/fixtures/woocommerce, webhooks.md §2).

Dates come in pairs: `date_created` in the site's time zone and `date_created_gmt` in
UTC, both without an offset. Money is decimal strings, except a line's `price`, a JSON
number as in the docs' example. Names are as WooCommerce stores them: a variation is
"Product &ndash; Variant" and an ampersand is `&amp;`.

`recompute` derives the totals from the lines and the shipping line: a line's
`subtotal` is its units before the coupon and `total` after, tax is the site's rate on
each, shipping is untaxed, and `total` is before refunds (refunds are listed apart, with
negative totals).
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from emulators.common.catalogue import PRODUCTS, Person, Product, person
from emulators.common.formats import cents, money, wall_clock

COUPON, COUPON_RATE = "welcome10", Decimal("0.10")  # WooCommerce keeps codes in lower case
SHIPPING = Decimal("5.00")
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


@dataclass(frozen=True)
class Site:
    """What a body needs to know of its site."""

    url: str
    currency: str
    offset: int  # minutes from UTC
    tax_percent: int


class Ids:
    """A site's post and item ids: increasing with gaps, as WordPress's are."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._next = {"order": 4000, "item": 700, "webhook": 0}

    def take(self, kind: str) -> int:
        self._next[kind] += 1 if kind == "webhook" else 1 + self._rng.randrange(9)
        return self._next[kind]


def stamp(body: dict[str, Any], name: str, ts: float | None, offset: int) -> None:
    """Set a date and its `_gmt` twin (None: both null)."""
    body[name] = None if ts is None else wall_clock(ts, offset)
    body[f"{name}_gmt"] = None if ts is None else wall_clock(ts, 0)


def new_order(
    rng: random.Random, site: Site, ids: Ids, buyer: Person | None, created: float
) -> dict[str, Any]:
    """A pending order of 1-4 lines, the coupon on some; `buyer` None is a guest."""
    order_id = ids.take("order")
    someone = buyer or person(rng, 10_000 + order_id)
    coupon = rng.random() < 0.25
    lines = [
        line_item(ids, product, rng.randint(1, 3))
        for product in rng.sample(PRODUCTS, rng.randint(1, 4))
    ]
    body: dict[str, Any] = {
        "id": order_id,
        "parent_id": 0,
        "status": "pending",
        "currency": site.currency,
        "version": "9.4.2",
        "prices_include_tax": False,
        "customer_id": 0 if buyer is None else 100 + buyer.number,
        "order_key": f"wc_order_{rng.getrandbits(64):013x}"[:22],
        "billing": {**_address(someone), "email": someone.email, "phone": someone.phone},
        "shipping": {**_address(someone), "phone": someone.phone},
        "payment_method": "stripe",
        "payment_method_title": "Credit Card (Stripe)",
        "transaction_id": "",
        "customer_ip_address": f"198.51.100.{rng.randrange(1, 255)}",
        "customer_user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
        "created_via": "checkout",
        "customer_note": "",
        "cart_hash": f"{rng.getrandbits(128):032x}",
        "number": str(order_id),
        "meta_data": [],
        "line_items": lines,
        "tax_lines": [],
        "shipping_lines": [_shipping_line(ids)],
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": [],
        "payment_url": f"{site.url}/checkout/order-pay/{order_id}/?pay_for_order=true",
        "is_editable": True,
        "needs_payment": True,
        "needs_processing": True,
        "currency_symbol": _SYMBOLS.get(site.currency, site.currency),
        "_links": _links(site, order_id, None if buyer is None else 100 + buyer.number),
    }
    for name in ("date_created", "date_modified"):
        stamp(body, name, created, site.offset)
    for name in ("date_completed", "date_paid"):
        stamp(body, name, None, site.offset)
    if coupon:
        for line in lines:
            line["total"] = money(Decimal(line["subtotal"]) * (1 - COUPON_RATE))
        body["coupon_lines"] = [
            {
                "id": ids.take("item"),
                "code": COUPON,
                "discount": "0.00",
                "discount_tax": "0.00",
                "meta_data": [],
            }
        ]
    recompute(body, site.tax_percent)
    return body


def line_item(ids: Ids, product: Product, quantity: int) -> dict[str, Any]:
    subtotal = product.price * quantity
    title = html.escape(product.title, quote=False)
    name = f"{title} &ndash; {product.variant}" if product.variant else title
    meta = []
    if product.variant:
        meta.append({"id": ids.take("item"), "key": "pa_option", "value": product.variant})
    return {
        "id": ids.take("item"),
        "name": name,
        "product_id": product.product_id,
        "variation_id": product.variant_id if product.variant else 0,
        "quantity": quantity,
        "tax_class": "",
        "subtotal": money(subtotal),
        "subtotal_tax": "0.00",
        "total": money(subtotal),
        "total_tax": "0.00",
        "taxes": [],
        "meta_data": meta,
        "sku": product.sku or "",
        "price": _number(product.price),
        "image": {"id": "", "src": ""},
        "parent_name": title if product.variant else None,
    }


def recompute(body: dict[str, Any], tax_percent: int) -> None:
    """Set the lines' taxes and the order's totals from the lines and the shipping line."""
    rate = Decimal(tax_percent) / 100
    discount = discount_tax = cart_tax = lines_total = Decimal(0)
    for line in body["line_items"]:
        subtotal, total = Decimal(line["subtotal"]), Decimal(line["total"])
        sub_tax, tax = cents(subtotal * rate), cents(total * rate)
        line.update(subtotal_tax=money(sub_tax), total_tax=money(tax))
        line["taxes"] = [{"id": 1, "total": money(tax), "subtotal": money(sub_tax)}] if rate else []
        line["price"] = _number(cents(total / line["quantity"])) if line["quantity"] else 0
        discount += subtotal - total
        discount_tax += sub_tax - tax
        cart_tax += tax
        lines_total += total
    shipping = sum((Decimal(s["total"]) for s in body["shipping_lines"]), Decimal(0))
    for coupon in body["coupon_lines"]:
        coupon.update(discount=money(discount), discount_tax=money(discount_tax))
    body.update(
        discount_total=money(discount),
        discount_tax=money(discount_tax),
        shipping_total=money(shipping),
        shipping_tax="0.00",
        cart_tax=money(cart_tax),
        total_tax=money(cart_tax),
        total=money(lines_total + shipping + cart_tax),
    )
    body["tax_lines"] = [_tax_line(cart_tax, tax_percent)] if rate else []


def _address(someone: Person) -> dict[str, Any]:
    place = someone.place
    return {
        "first_name": someone.first_name,
        "last_name": someone.last_name,
        "company": someone.company or "",
        "address_1": someone.street,
        "address_2": someone.street2,
        "city": place.city,
        "state": place.province_code,
        "postcode": place.zip,
        "country": place.country_code,
    }


def _shipping_line(ids: Ids) -> dict[str, Any]:
    return {
        "id": ids.take("item"),
        "method_title": "Flat rate",
        "method_id": "flat_rate",
        "instance_id": "1",
        "total": money(SHIPPING),
        "total_tax": "0.00",
        "taxes": [],
        "meta_data": [],
    }


def _tax_line(amount: Decimal, tax_percent: int) -> dict[str, Any]:
    return {
        "id": 1,
        "rate_code": f"TAX-{tax_percent}",
        "rate_id": 1,
        "label": "Tax",
        "compound": False,
        "tax_total": money(amount),
        "shipping_tax_total": "0.00",
        "rate_percent": tax_percent,
        "meta_data": [],
    }


def _links(site: Site, order_id: int, customer_id: int | None) -> dict[str, Any]:
    api = f"{site.url}/wp-json/wc/v3"
    links: dict[str, Any] = {
        "self": [{"href": f"{api}/orders/{order_id}"}],
        "collection": [{"href": f"{api}/orders"}],
    }
    if customer_id is not None:
        links["customer"] = [{"href": f"{api}/customers/{customer_id}"}]
    return links


def _number(amount: Decimal) -> int | float:
    """A JSON number as WooCommerce writes a line's price: 12 or 24.5."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)
