"""For the reconciliation tests: the relay configured with API access to a started
Shopify and WooCommerce emulator (each store told apart by its credentials at the one
emulator address), and what HubSpot should hold for the shops' orders as they are now."""

from __future__ import annotations

import json
from typing import Any

from service.config import Config
from service.domain import RecordKind
from service.mapping import to_records
from service.pipeline import mapping_settings
from service.sources import parse_json, shopify, woocommerce
from tests.integration import shopify_support, woocommerce_support

SHOP = shopify_support.DOMAIN
SITE = "test-site.example"  # as the relay keys the site https://test-site.example


def with_shops(
    config: Config, shopify_url: str | None, woo_url: str | None, **changes: Any
) -> Config:
    """`config` with API access to the emulators given."""
    access: dict[str, Any] = {"reconcile_overlap_seconds": 60.0}
    if shopify_url is not None:
        access["shopify_admin_tokens"] = {SHOP: shopify_support.TOKEN}
        access["shopify_api_base_url"] = shopify_url
    if woo_url is not None:
        access["woocommerce_api_keys"] = {
            SITE: (woocommerce_support.KEY, woocommerce_support.SECRET)
        }
        access["woocommerce_api_base_url"] = woo_url
    access.update(changes)
    return config.replace(**access)


def expected_line_items(
    config: Config, source: str, bodies: list[dict[str, Any]]
) -> dict[str, dict[str, str]]:
    """The line items the relay's mapping makes of these order bodies, by key."""
    load = shopify.to_order if source == "shopify" else woocommerce.to_order
    store = SHOP if source == "shopify" else SITE
    found: dict[str, dict[str, str]] = {}
    for body in bodies:
        order = load(parse_json(json.dumps(body).encode()), store)
        for record in to_records(order, mapping_settings(config)):
            if record.kind is RecordKind.LINE_ITEM:
                found[record.key] = dict(record.properties)
    return found
