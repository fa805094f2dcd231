"""The subscription check (`relay shops check [--fix]`, and the worker every hour): does
each store still send the relay its order webhooks?

Shopify deletes an API-made subscription after 8 failed deliveries over 4 hours;
WooCommerce disables a webhook after 5 failures in a row and never retries. So the check
lists each store's subscriptions through its API (Shopify `webhooks.json`: only those the
app made, admin-made ones are invisible to it; WooCommerce `/webhooks?status=all`,
disabled and paused ones too), reports each wanted topic that has no subscription to the
relay or only a disabled or paused one, and with `fix` creates the missing ones (pointing
at RELAY_PUBLIC_URL) and re-activates the disabled ones; a paused one is the merchant's
doing (WooCommerce pauses none by itself), so it is reported and left alone.
WooCommerce keeps a re-activated webhook's failure count (shop-apis.md §2), so one more
failure disables it again: what it failed to deliver is read back by a reconcile pass
right after (`service.shop_checks`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from service.config import Config
from service.shops.http import ShopApiError
from service.shops.shopify import ORDER_TOPICS as SHOPIFY_TOPICS
from service.shops.shopify import ShopifyApi
from service.shops.woocommerce import ORDER_TOPICS as WOO_TOPICS
from service.shops.woocommerce import WooCommerceApi
from service.webhook_secrets import secrets_for


@dataclass
class CheckResult:
    source: str
    store: str
    ok: list[str] = field(default_factory=list)  # topics with a live subscription
    missing: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)  # "topic (status)", WooCommerce only
    fixed: list[str] = field(default_factory=list)  # "created topic", "re-activated topic"
    error: str | None = None

    @property
    def reactivated(self) -> bool:
        return any(step.startswith("re-activated") for step in self.fixed)

    @property
    def healthy(self) -> bool:
        return not (self.missing or self.disabled or self.error)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def address(config: Config, source: str) -> str | None:
    """Where the store should send its webhooks; None without RELAY_PUBLIC_URL."""
    return f"{config.public_url}/webhooks/{source}" if config.public_url else None


def _ours(config: Config, source: str, url: object) -> bool:
    """A subscription to this relay: RELAY_PUBLIC_URL's receiver, or, without it, any
    address whose path is the receiver's."""
    wanted = address(config, source)
    text = str(url or "").rstrip("/")
    return text == wanted if wanted else text.endswith(f"/webhooks/{source}")


def check(config: Config, client: ShopifyApi | WooCommerceApi, *, fix: bool) -> CheckResult:
    """The store's subscriptions against the wanted topics; with `fix`, mended."""
    result = CheckResult(client.source, client.store)
    try:
        if isinstance(client, ShopifyApi):
            _shopify(config, client, result, fix)
        else:
            _woocommerce(config, client, result, fix)
    except ShopApiError as exc:
        result.error = str(exc)
    return result


def _shopify(config: Config, client: ShopifyApi, result: CheckResult, fix: bool) -> None:
    subs = [s for s in client.subscriptions() if _ours(config, "shopify", s.get("address"))]
    have = {s.get("topic") for s in subs}
    for topic in SHOPIFY_TOPICS:
        if topic in have:
            result.ok.append(topic)
            continue
        target = address(config, "shopify")
        if fix and target:
            client.subscribe(topic, target)
            result.fixed.append(f"created {topic}")
            result.ok.append(topic)
        else:
            result.missing.append(topic)
    if fix and not address(config, "shopify") and result.missing:
        result.error = "set RELAY_PUBLIC_URL to create the missing subscriptions"


def _woocommerce(config: Config, client: WooCommerceApi, result: CheckResult, fix: bool) -> None:
    hooks = [
        h for h in client.subscriptions() if _ours(config, "woocommerce", h.get("delivery_url"))
    ]
    for topic in WOO_TOPICS:
        mine = [h for h in hooks if h.get("topic") == topic]
        disabled = [h for h in mine if h.get("status") == "disabled"]
        if any(h.get("status") == "active" for h in mine):
            result.ok.append(topic)
        elif disabled and fix:
            client.activate(int(disabled[0]["id"]))
            result.fixed.append(f"re-activated {topic}")
            result.ok.append(topic)
        elif mine:
            # A paused webhook is the merchant's choice (only failures disable one): it is
            # reported, never re-activated.
            result.disabled.append(f"{topic} ({(disabled or mine)[0].get('status')})")
        elif fix:
            _create_woo(config, client, result, topic)
        else:
            result.missing.append(topic)


def _create_woo(config: Config, client: WooCommerceApi, result: CheckResult, topic: str) -> None:
    target = address(config, "woocommerce")
    secrets = secrets_for(config.woocommerce_webhook_secrets, client.store)
    if not target or not secrets:
        result.missing.append(topic)
        result.error = "set RELAY_PUBLIC_URL and WOOCOMMERCE_WEBHOOK_SECRETS to create webhooks"
        return
    client.subscribe(topic, target, secrets[0])
    result.fixed.append(f"created {topic}")
    result.ok.append(topic)
