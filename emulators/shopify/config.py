"""The Shopify emulator's settings: its shops (`ShopConfig`) and what they share
(`EmulatorConfig`), changeable while it runs through `Emulator.configure` or
`POST /_emulator/config` with JSON values, all or nothing:

    {"bucket_size": 5, "leak_rate": 50, "shops": {"emu-one.myshopify.com": {"scopes": [...]}}}

A shop's `orders`, `currency` and `utc_offset_minutes` shape the seeded orders, so a
change to them shows after `reset`. Defaults: bucket 40, leak 2/s, as Shopify's Standard
plan (shared/reference/shop-apis.md §1); a token granted `read_orders` only, as a new
app is (`read_all_orders` is granted on request).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emulators.common.settings import (
    as_json,
    converted,
    distinct,
    find,
    integer,
    names,
    number,
    patched,
    text,
    utc_offset,
)

READ_ORDERS = "read_orders"
READ_ALL_ORDERS = "read_all_orders"


@dataclass
class ShopConfig:
    """One shop: its domain, the app's token and secrets there, its scopes and its seed."""

    domain: str
    access_token: str
    webhook_secret: str  # the app's client secret: signs deliveries to API-made subscriptions
    admin_webhook_secret: str  # the shop's notification key: signs admin-made ones
    scopes: set[str] = field(default_factory=lambda: {READ_ORDERS})
    orders: int = 40  # seeded at start and at reset
    utc_offset_minutes: int = -300  # the shop's time zone, as its timestamps show it
    currency: str = "USD"


def default_shops() -> list[ShopConfig]:
    return [
        ShopConfig(
            "emu-one.myshopify.com", "shpat_emu_one_0001", "shpss_emu_one", "emu-one-notify"
        ),
        ShopConfig(
            "emu-two.myshopify.com",
            "shpat_emu_two_0002",
            "shpss_emu_two",
            "emu-two-notify",
            orders=12,
            utc_offset_minutes=60,
            currency="EUR",
        ),
    ]


@dataclass
class EmulatorConfig:
    """Everything the emulated shops share. Fields may be changed while it runs."""

    shops: list[ShopConfig] = field(default_factory=default_shops)
    seed: int = 7
    bucket_size: int = 40  # requests a shop's leaky bucket holds
    leak_rate: float = 2.0  # requests per second it drains
    retry_after: float = 2.0  # the Retry-After of a 429, as Shopify was seen sending it
    retry_time_factor: float = 1.0  # scales the 4-hour retry schedule (tests: 1e-4)
    delivery_timeout: float = 5.0  # Shopify gives a receiver 5 s
    stall_seconds: float = 10.0  # how long a "timeout" fault waits before its 504

    def __post_init__(self) -> None:
        distinct(self.shops, "shops", "domain", "access_token")

    def shop(self, domain: str | None = None) -> ShopConfig:
        """A shop by domain (None: the first); KeyError names an unknown one."""
        return find(self.shops, domain, "domain", "shop")

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply JSON-shaped changes all or nothing; ValueError names the bad field."""
        top = converted({k: v for k, v in changes.items() if k != "shops"}, _CHECKS, "config")
        shops = patched(self.shops, changes.get("shops", {}), "domain", _SHOP_CHECKS, "shop")
        distinct(shops, "shops", "domain", "access_token")
        for name, value in top.items():
            setattr(self, name, value)
        self.shops = shops

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = as_json(self)
        return out


_CHECKS = {
    "seed": integer(0),
    "bucket_size": integer(1),
    "leak_rate": number(0.001),
    "retry_after": number(0.0),
    "retry_time_factor": number(0.0),
    "delivery_timeout": number(0.01),
    "stall_seconds": number(0.0),
}
_SHOP_CHECKS = {
    "access_token": text,
    "webhook_secret": text,
    "admin_webhook_secret": text,
    "scopes": names,
    "orders": integer(0),
    "utc_offset_minutes": utc_offset,
    "currency": text,
}
