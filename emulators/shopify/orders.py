"""Shopify order bodies: the REST Order resource, the shape of an `orders/*` webhook body
and of each item of `GET orders.json` (shared/reference/shop-apis.md §1), modelled on the
documented fields (shared/reference/webhooks.md §1, "Order payload structure").

`new_order` builds a pending order of the shop's products, bought by one of its
customers or by a guest, with a discount code on some; `totals.recompute` sets its
figures from its lines.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from emulators.common.catalogue import PRODUCTS, Person, Product, person
from emulators.common.formats import cents, money, with_offset
from emulators.shopify.totals import money_set, recompute

DISCOUNT_CODE, DISCOUNT_RATE = "WELCOME10", Decimal("0.10")
SHIPPING = {"Standard": Decimal("6.90"), "Express": Decimal("14.90")}
_ID_BASES = {
    "order": 5_810_000_000_000,
    "line": 13_400_000_000_000,
    "customer": 7_300_000_000_000,
    "refund": 9_100_000_000_000,
    "transaction": 6_900_000_000_000,
    "fulfillment": 4_700_000_000_000,
    "shipping": 4_300_000_000_000,
    "webhook": 1_200_000_000_000,
}


class Ids:
    """A shop's ids per kind: increasing, with gaps as Shopify's have, fixed by the seed."""

    def __init__(self, rng: random.Random, shop_index: int) -> None:
        self._rng = rng
        self._next = {kind: base + shop_index * 10**11 for kind, base in _ID_BASES.items()}

    def take(self, kind: str) -> int:
        self._next[kind] += 1 + self._rng.randrange(4_000)
        return self._next[kind]


@dataclass(frozen=True)
class Shop:
    """What a body needs to know of its shop."""

    domain: str
    currency: str
    offset: int  # minutes from UTC


def new_order(
    rng: random.Random,
    shop: Shop,
    ids: Ids,
    number: int,
    buyer: Person | None,
    created: float,
) -> dict[str, Any]:
    """A pending order of 1-4 lines, a discount code on some; `buyer` None is a guest."""
    order_id, at = ids.take("order"), with_offset(created, shop.offset)
    discounted = rng.random() < 0.25
    lines = [
        line_item(ids, product, rng.randint(1, 3), shop.currency, discounted)
        for product in rng.sample(PRODUCTS, rng.randint(1, 4))
    ]
    method = "Express" if rng.random() < 0.25 else "Standard"
    someone = buyer or _guest(rng, number)
    token = f"{rng.getrandbits(128):032x}"
    body: dict[str, Any] = {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "app_id": 580111,
        "browser_ip": f"203.0.113.{rng.randrange(1, 255)}",
        "buyer_accepts_marketing": rng.random() < 0.4,
        "cancel_reason": None,
        "cancelled_at": None,
        "cart_token": f"{rng.getrandbits(96):024x}",
        "checkout_id": rng.randrange(10**12, 10**13),
        "checkout_token": f"{rng.getrandbits(128):032x}",
        "client_details": {
            "accept_language": "en-US,en;q=0.9",
            "browser_height": None,
            "browser_ip": f"203.0.113.{number % 250 + 1}",
            "browser_width": None,
            "session_hash": None,
            "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15",
        },
        "closed_at": None,
        "confirmation_number": f"{rng.getrandbits(40):010X}"[:9],
        "confirmed": True,
        "contact_email": someone.email,
        "created_at": at,
        "currency": shop.currency,
        "customer_locale": "en",
        "current_total_additional_fees_set": None,
        "current_total_duties_set": None,
        "device_id": None,
        "discount_codes": [],
        "duties_included": False,
        "email": someone.email,
        "estimated_taxes": False,
        "financial_status": "pending",
        "fulfillment_status": None,
        "landing_site": "/",
        "landing_site_ref": None,
        "location_id": None,
        "merchant_business_entity_id": "MTU0ODM4MDAwOQ",
        "merchant_of_record_app_id": None,
        "name": f"#{1000 + number}",
        "note": None,
        "note_attributes": [],
        "number": number,
        "order_number": 1000 + number,
        "original_total_additional_fees_set": None,
        "original_total_duties_set": None,
        "order_status_url": f"https://{shop.domain}/orders/{token}/authenticate?key={token[:16]}",
        "payment_gateway_names": ["shopify_payments"],
        "payment_terms": None,
        "phone": None,
        "presentment_currency": shop.currency,
        "po_number": None,
        "processed_at": at,
        "reference": None,
        "referring_site": None,
        "source_identifier": None,
        "source_name": "web",
        "source_url": None,
        "tags": "",
        "tax_exempt": False,
        "taxes_included": False,
        "test": False,
        "token": token,
        "total_cash_rounding_payment_adjustment_set": money_set("0", shop.currency),
        "total_cash_rounding_refund_adjustment_set": money_set("0", shop.currency),
        "updated_at": at,
        "user_id": None,
        "billing_address": address(someone),
        "customer": None if buyer is None else customer(buyer, at, shop.currency),
        "discount_applications": [],
        "fulfillments": [],
        "line_items": lines,
        "refunds": [],
        "shipping_address": address(someone),
        "shipping_lines": [_shipping_line(ids, method, shop.currency)],
    }
    if discounted:
        _add_discount(body)
    recompute(body)
    return body


def line_item(
    ids: Ids, product: Product, quantity: int, currency: str, discounted: bool = False
) -> dict[str, Any]:
    line_id = ids.take("line")
    gross = product.price * quantity
    allocations = []
    if discounted:
        amount = cents(gross * DISCOUNT_RATE)
        allocations.append(
            {
                "amount": money(amount),
                "amount_set": money_set(amount, currency),
                "discount_application_index": 0,
            }
        )
    name = product.title + (f" - {product.variant}" if product.variant else "")
    return {
        "id": line_id,
        "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
        "attributed_staffs": [],
        "current_quantity": quantity,
        "fulfillable_quantity": quantity,
        "fulfillment_service": "manual",
        "fulfillment_status": None,
        "gift_card": product.sku is None,
        "grams": product.grams,
        "name": name,
        "price": money(product.price),
        "price_set": money_set(product.price, currency),
        "product_exists": True,
        "product_id": product.product_id,
        "properties": [],
        "quantity": quantity,
        "requires_shipping": product.grams > 0,
        "sku": product.sku,
        "taxable": True,
        "title": product.title,
        "total_discount": "0.00",  # as Shopify reports it: the discount is in the allocations
        "total_discount_set": money_set("0", currency),
        "variant_id": product.variant_id,
        "variant_inventory_management": "shopify",
        "variant_title": product.variant,
        "vendor": product.vendor,
        "tax_lines": [],
        "duties": [],
        "discount_allocations": allocations,
    }


def customer(buyer: Person, at: str, currency: str) -> dict[str, Any]:
    customer_id = _ID_BASES["customer"] + buyer.number * 7919  # the same buyer, the same id
    default = {**address(buyer), "id": customer_id + 1, "customer_id": customer_id}
    return {
        "id": customer_id,
        "email": buyer.email,
        "created_at": at,
        "updated_at": at,
        "first_name": buyer.first_name,
        "last_name": buyer.last_name,
        "state": "enabled",
        "note": None,
        "verified_email": True,
        "multipass_identifier": None,
        "tax_exempt": False,
        "phone": buyer.phone,
        "tags": "",
        "currency": currency,
        "tax_exemptions": [],
        "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
        "default_address": {**default, "default": True},
    }


def address(buyer: Person) -> dict[str, Any]:
    place = buyer.place
    return {
        "first_name": buyer.first_name,
        "address1": buyer.street,
        "phone": buyer.phone,
        "city": place.city,
        "zip": place.zip,
        "province": place.province,
        "country": place.country,
        "last_name": buyer.last_name,
        "address2": buyer.street2,
        "company": buyer.company,
        "latitude": None,
        "longitude": None,
        "name": f"{buyer.first_name} {buyer.last_name}",
        "country_code": place.country_code,
        "province_code": place.province_code,
    }


def _guest(rng: random.Random, number: int) -> Person:
    """A buyer without an account: someone not among the shop's customers."""
    return person(rng, 10_000 + number)


def _add_discount(body: dict[str, Any]) -> None:
    total = sum(
        (Decimal(a["amount"]) for line in body["line_items"] for a in line["discount_allocations"]),
        Decimal(0),
    )
    body["discount_codes"] = [{"code": DISCOUNT_CODE, "amount": money(total), "type": "percentage"}]
    body["discount_applications"] = [
        {
            "target_type": "line_item",
            "type": "discount_code",
            "value": "10.0",
            "value_type": "percentage",
            "allocation_method": "across",
            "target_selection": "all",
            "code": DISCOUNT_CODE,
        }
    ]


def _shipping_line(ids: Ids, method: str, currency: str) -> dict[str, Any]:
    price = SHIPPING[method]
    return {
        "id": ids.take("shipping"),
        "carrier_identifier": None,
        "code": method,
        "discounted_price": money(price),
        "discounted_price_set": money_set(price, currency),
        "price": money(price),
        "price_set": money_set(price, currency),
        "source": "shopify",
        "title": method,
        "tax_lines": [],
        "discount_allocations": [],
    }
