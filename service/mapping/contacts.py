"""The buyer as a HubSpot contact, keyed by email (HubSpot's own key for contacts).

HubSpot stores emails lower-cased, so the key is trimmed and lower-cased before it is
stored: two orders by "Ann@Example.com" and "ann@example.com " are one contact. Names and
phone are sent only when the order has them, so a blank never overwrites what a sales
rep typed. An order without a usable email (a guest checkout without one, Shopify's ""
when the customer was deleted) gets no contact, and no error: an email-keyed batch
upsert fails whole on one bad email (shared/reference/commerce.md §3), so a value that
cannot be an address is left out here rather than sent to fail.
"""

from __future__ import annotations

import re

from service.domain import Order

# Something@something.tld, no spaces, within the 254 characters an address can have.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
MAX_EMAIL = 254


def usable_email(order: Order) -> str | None:
    """The buyer's email, trimmed and lower-cased, or None when there is none usable."""
    candidates = [order.buyer.email if order.buyer else None]
    candidates.append(order.billing.email if order.billing else None)
    for raw in candidates:
        email = (raw or "").strip().lower()
        if email and len(email) <= MAX_EMAIL and _EMAIL.fullmatch(email):
            return email
    return None


def contact_properties(order: Order, email: str) -> dict[str, str]:
    buyer, billing = order.buyer, order.billing
    properties = {"email": email}
    for name, values in (
        ("firstname", (buyer and buyer.first_name, billing and billing.first_name)),
        ("lastname", (buyer and buyer.last_name, billing and billing.last_name)),
        ("phone", (buyer and buyer.phone, billing and billing.phone)),
    ):
        value = next((v.strip() for v in values if v and v.strip()), None)
        if value:
            properties[name] = value
    return properties
