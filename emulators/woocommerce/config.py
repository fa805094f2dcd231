"""The WooCommerce emulator's settings: its sites (`SiteConfig`) and what they share
(`EmulatorConfig`), changeable while it runs through `Emulator.configure` or
`POST /_emulator/config` with JSON values, all or nothing:

    {"rate_limit": 3, "sites": {"emu-one": {"permissions": "read"}}}

A site's `orders`, `currency`, `tax_percent` and `utc_offset_minutes` shape its seeded
orders, so a change to them shows after `reset`.

`failures_to_disable` (default 5) is the number of consecutive failed deliveries that
disables a webhook, as WooCommerce's docs say ("After 5 consecutive failed deliveries").
WooCommerce's code reads otherwise: `failed_delivery()` disables once the stored count
is above the `woocommerce_max_webhook_delivery_failures` filter (5), which by its logic
is on the 7th consecutive failure (shared/reference/webhooks.md §2). Set 7 to play the
code's reading. Either way the count is not reset by re-activation.
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
    flag,
    integer,
    number,
    one_of,
    patched,
    text,
    utc_offset,
)

PERMISSIONS = ("read", "write", "read_write")


@dataclass
class SiteConfig:
    """One WordPress site: its URL, the REST API key's pair and permissions, its seed."""

    name: str  # how tests and the control API name it
    url: str  # home_url(): X-WC-Webhook-Source and the `_links` in bodies
    consumer_key: str
    consumer_secret: str
    permissions: str = "read_write"
    orders: int = 30
    utc_offset_minutes: int = -300  # the site's time zone: its non-_gmt dates are in it
    currency: str = "USD"
    tax_percent: int = 8


def default_sites() -> list[SiteConfig]:
    return [
        SiteConfig(
            "emu-one",
            "https://emu-one.example",
            "ck_emuone0000000000000000000000000000001",
            "cs_emuone0000000000000000000000000000001",
        ),
        SiteConfig(
            "emu-two",
            "https://emu-two.example",
            "ck_emutwo0000000000000000000000000000002",
            "cs_emutwo0000000000000000000000000000002",
            orders=12,
            utc_offset_minutes=120,
            currency="EUR",
            tax_percent=19,
        ),
    ]


@dataclass
class EmulatorConfig:
    """Everything the emulated sites share. Fields may be changed while it runs."""

    sites: list[SiteConfig] = field(default_factory=default_sites)
    seed: int = 7
    failures_to_disable: int = 5
    delivery_timeout: float = 60.0  # WooCommerce gives a receiver a minute
    updated_on_create: bool = True  # order.updated fires for a new order too (#43019)
    rate_limit: int = 0  # requests per `rate_window` per site before a host's 429; 0: none
    rate_window: float = 1.0
    retry_after: int = 1  # the Retry-After of a 429
    stall_seconds: float = 10.0  # how long a "timeout" fault waits before its 504

    def __post_init__(self) -> None:
        distinct(self.sites, "sites", "name", "consumer_key")

    def site(self, name: str | None = None) -> SiteConfig:
        """A site by name (None: the first); KeyError names an unknown one."""
        return find(self.sites, name, "name", "site")

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply JSON-shaped changes all or nothing; ValueError names the bad field."""
        top = converted({k: v for k, v in changes.items() if k != "sites"}, _CHECKS, "config")
        sites = patched(self.sites, changes.get("sites", {}), "name", _SITE_CHECKS, "site")
        distinct(sites, "sites", "name", "consumer_key")
        for name, value in top.items():
            setattr(self, name, value)
        self.sites = sites

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = as_json(self)
        return out


_CHECKS = {
    "seed": integer(0),
    "failures_to_disable": integer(1),
    "delivery_timeout": number(0.01),
    "updated_on_create": flag,
    "rate_limit": integer(0),
    "rate_window": number(0.001),
    "retry_after": integer(0),
    "stall_seconds": number(0.0),
}
_SITE_CHECKS = {
    "url": text,
    "consumer_key": text,
    "consumer_secret": text,
    "permissions": one_of(*PERMISSIONS),
    "orders": integer(0),
    "utc_offset_minutes": utc_offset,
    "currency": text,
    "tax_percent": integer(0),
}
