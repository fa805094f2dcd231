"""Which stores the relay may read, and a client for each (`ShopClient`).

A store's API address is the configured base URL with `{shop}` / `{site}` replaced by
the store as the relay keys it; a base URL without the placeholder sends every store to
that one address (an emulator, which tells stores apart by their credentials).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import requests

from service.config import Config
from service.shops.listing import Page, Window
from service.shops.shopify import ShopifyApi
from service.shops.woocommerce import WooCommerceApi


class ShopClient(Protocol):
    source: str
    store: str

    def pages(self, window: Window) -> Iterator[Page]: ...

    def count(self, window: Window) -> int | None: ...


def api_url(base_url: str, placeholder: str, store: str) -> str:
    return base_url.replace(placeholder, store)


def clients(
    config: Config, session: requests.Session | None = None, **http: Any
) -> list[ShopifyApi | WooCommerceApi]:
    """A client for every store the configuration gives read access to, Shopify first."""
    session = session or requests.Session()
    found: list[ShopifyApi | WooCommerceApi] = []
    for shop, token in sorted(config.shopify_admin_tokens.items()):
        url = api_url(config.shopify_api_base_url, "{shop}", shop)
        found.append(ShopifyApi(shop, token, url, session, **http))
    for site, (key, secret) in sorted(config.woocommerce_api_keys.items()):
        url = api_url(config.woocommerce_api_base_url, "{site}", site)
        found.append(WooCommerceApi(site, key, secret, url, session, **http))
    return found


def chosen(
    config: Config, store: str | None, source: str | None = None, **http: Any
) -> list[ShopifyApi | WooCommerceApi]:
    """The clients of `store` (and `source`), or all when None; ValueError when none."""
    found = [
        c
        for c in clients(config, **http)
        if (store is None or c.store == store) and (source is None or c.source == source)
    ]
    if not found:
        named = "no store" if store is None else f"no store {store!r}"
        raise ValueError(
            f"{named} has API access: set SHOPIFY_ADMIN_TOKENS or WOOCOMMERCE_API_KEYS"
        )
    return found
