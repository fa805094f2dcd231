"""What seeded orders are made of: buyers with addresses, and a shop's products.

Names carry accents and an apostrophe and products an ampersand, a slash and an en
dash, because real orders do, and because they show a receiver that handles bodies as
text rather than as the bytes that were signed (shared/reference/webhooks.md §5).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

FIRST_NAMES = (
    "Amelia", "Noah", "Zoë", "Mateo", "Priya", "Liam", "Chloé", "Oskar", "Hana", "Diego",
    "Sofia", "Ethan", "Aoife", "Jonas", "Maya", "Lucas", "Ingrid", "Omar", "Léa", "Kenji",
)  # fmt: skip
LAST_NAMES = (
    "Okafor", "Lindqvist", "García", "O'Brien", "Nakamura", "Schmidt", "Dubois", "Patel",
    "Kowalski", "Rossi", "Müller", "Jensen", "Haddad", "Moreau", "Fitzgerald", "Novak",
)  # fmt: skip
STREETS = (
    "Harbour Way", "Orchard Lane", "Maple Avenue", "Station Road", "Elm Street",
    "Rue des Lilas", "Kastanienallee", "Calle Mayor", "Birch Court", "Mill Road",
)  # fmt: skip
DOMAINS = ("example.com", "mail.example.org", "example.net")


@dataclass(frozen=True)
class Place:
    city: str
    province: str
    province_code: str
    zip: str
    country: str
    country_code: str
    phone_prefix: str


PLACES = (
    Place("Louisville", "Kentucky", "KY", "40202", "United States", "US", "+1502"),
    Place("Portland", "Oregon", "OR", "97205", "United States", "US", "+1503"),
    Place("Austin", "Texas", "TX", "78701", "United States", "US", "+1512"),
    Place("Toronto", "Ontario", "ON", "M5V 2T6", "Canada", "CA", "+1416"),
    Place("Manchester", "England", "ENG", "M1 1AE", "United Kingdom", "GB", "+44161"),
    Place("Berlin", "Berlin", "BE", "10115", "Germany", "DE", "+4930"),
    Place("Lyon", "Rhône", "69", "69002", "France", "FR", "+33478"),
)


@dataclass(frozen=True)
class Person:
    """A buyer: the same person may order more than once."""

    number: int  # stable within a shop: customer ids derive from it
    first_name: str
    last_name: str
    email: str
    phone: str
    company: str | None
    street: str
    street2: str
    place: Place


@dataclass(frozen=True)
class Product:
    title: str
    variant: str | None
    sku: str | None
    price: Decimal
    grams: int
    vendor: str
    product_id: int
    variant_id: int


_PRODUCT_ROWS = (  # title, variant, sku, price, grams, vendor
    ("Merino Beanie", "Charcoal", "MB-CH", "24.50", 90, "Northfold"),
    ("Merino Beanie", "Rust", "MB-RU", "24.50", 90, "Northfold"),
    ("Trail Socks", "S/M", "TS-SM", "12.00", 60, "Northfold"),
    ("Trail Socks", "L/XL", "TS-LX", "12.00", 70, "Northfold"),
    ("Salt & Pepper Grinder Set", None, "SPG-2", "38.00", 640, "Kiln & Co"),
    ("Ceramic Pour-Over \u2013 Sand", None, "CPO-SD", "46.00", 820, "Kiln & Co"),
    ("Waxed Canvas Tote", "Olive", "WCT-OL", "64.00", 700, "Harbour Goods"),
    ("Linen Napkins (set of 4)", "Oat", "LN4-OT", "29.90", 240, "Harbour Goods"),
    ("Beeswax Candle", "Tall", "BWC-T", "15.75", 310, "Hive House"),
    ("Gift Card", "$25", None, "25.00", 0, "Harbour Goods"),
    ("Enamel Camp Mug", "Cobalt", "ECM-CB", "18.00", 280, "Northfold"),
    ("Hand-thrown Bowl", "Glazed", "HTB-GZ", "52.00", 900, "Kiln & Co"),
)
_TITLES = list(dict.fromkeys(row[0] for row in _PRODUCT_ROWS))  # variants share a product
PRODUCTS = tuple(
    Product(
        title, variant, sku, Decimal(price), grams, vendor, 7100 + _TITLES.index(title), 41000 + n
    )
    for n, (title, variant, sku, price, grams, vendor) in enumerate(_PRODUCT_ROWS)
)


Stories = tuple[tuple[int, tuple[str, ...]], ...]  # (weight, actions) per kind of order


def stories(rng: random.Random, table: Stories, count: int) -> list[tuple[str, ...]]:
    """A story (the actions an order goes through) per order: each story once when there
    are enough orders, the rest drawn by weight, shuffled, so every seed shows every kind
    of order."""
    chosen = [story for _, story in table][:count]
    weights = [weight for weight, _ in table]
    chosen += [story for _, story in rng.choices(table, weights, k=count - len(chosen))]
    rng.shuffle(chosen)
    return chosen


def people(rng: random.Random, count: int) -> list[Person]:
    """`count` distinct buyers, drawn in a fixed order from `rng`."""
    return [person(rng, number) for number in range(1, count + 1)]


def person(rng: random.Random, number: int) -> Person:
    """One buyer; `number` makes the email unique within a shop."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    place = rng.choice(PLACES)
    local = f"{_ascii(first)}.{_ascii(last)}{number}".lower()
    company = rng.choice((None, None, None, "Okafor & Daughters", "Lindqvist Studio"))
    return Person(
        number=number,
        first_name=first,
        last_name=last,
        email=f"{local}@{rng.choice(DOMAINS)}",
        phone=f"{place.phone_prefix}{rng.randrange(1_000_000, 9_999_999)}",
        company=company,
        street=f"{rng.randrange(1, 240)} {rng.choice(STREETS)}",
        street2=rng.choice(("", "", "", f"Apt {rng.randrange(1, 40)}")),
        place=place,
    )


def _ascii(text: str) -> str:
    """An email-safe spelling: accents dropped, apostrophes gone."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain if ch.isalnum())
