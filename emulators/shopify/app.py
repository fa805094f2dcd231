"""A Shopify Admin REST API emulator for several shops: a real threaded HTTP server for
tests and the sandbox, which also sends the shops' webhooks.

The API it answers is in `api` (auth, scopes, rate limit), `listing` (orders, paging)
and `subscriptions` (webhooks CRUD); deliveries and their retries in `delivery`; the
orders themselves in `orders`, `totals`, `changes` and `seed`; control endpoints in
`control`. Deliveries go out while the emulator is started.

    with Emulator(EmulatorConfig(seed=3)) as shopify:
        shopify.save_order({"email": "a@example.com"})       # fires orders/create
        requests.get(shopify.url + "/admin/api/2026-07/orders.json",
                     headers={"X-Shopify-Access-Token": "shpat_emu_one_0001"})
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from emulators.common.faults import FaultScript
from emulators.common.http import Reply, Request
from emulators.common.outbox import Outbox, Sender, post_over_http
from emulators.common.shop import ShopEmulator
from emulators.shopify.api import ShopifyApi
from emulators.shopify.config import EmulatorConfig
from emulators.shopify.control import control
from emulators.shopify.delivery import Deliveries, Target
from emulators.shopify.state import ShopifyState
from emulators.shopify.subscriptions import ADMIN_API_VERSION, TOPICS, Subscription

__all__ = ["Emulator", "EmulatorConfig", "serve"]


class Emulator(ShopEmulator):
    """Emulated Shopify shops served over HTTP; state is inspectable in-process."""

    name = "Shopify"

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        sender: Sender = post_over_http,
    ) -> None:
        self.config = config or EmulatorConfig()
        self._state = ShopifyState(self.config, clock)
        faults, outbox = FaultScript(), Outbox("shopify", clock, sender)
        self._api = ShopifyApi(self._state, faults.take)
        super().__init__(host, port, self.config, self._state, self._api, outbox, faults)
        self._deliveries = Deliveries(
            self._outbox,
            lambda: (self.config.delivery_timeout, self.config.retry_time_factor),
            self._remove,
            clock,
        )

    def shop_url(self, domain: str) -> str:
        """A base URL that names the shop by path, as its own host would."""
        return f"{self.url}/shops/{self.config.shop(domain).domain}"

    def handle(self, request: Request) -> Reply:
        if request.path.startswith("/_emulator/"):
            return control(self, request)
        return self._api.answer(request)

    # --- orders -------------------------------------------------------------------------

    def save_order(
        self,
        order: dict[str, Any] | None = None,
        *,
        shop: str | None = None,
        action: str | None = None,
    ) -> dict[str, Any]:
        """Create an order (no `id`, or an unknown one) or change one with fields and/or an
        action (see `changes`); its topics go to the shop's subscriptions. Answers the
        change: `order`, `version`, `created`, `topics`, `deliveries` (queued)."""
        with self._state.lock:
            change = self._state.save_order(shop, order or {}, action)
            targets = self._targets(change.tenant)
        queued = self._deliveries.send(change.body, change.topics, targets)
        return {**change.to_json("shop"), "deliveries": queued}

    def orders(self, shop: str | None = None) -> list[dict[str, Any]]:
        """Every order of the shop, those older than 60 days too, in listing order."""
        state = self._state.shop(shop)
        with self._state.lock:
            return [o.body for o in sorted(state.orders.values(), key=lambda o: o.key)]

    def versions(self, shop: str | None = None) -> dict[int, int]:
        state = self._state.shop(shop)
        with self._state.lock:
            return {order_id: o.version for order_id, o in state.orders.items()}

    # --- subscriptions and deliveries ---------------------------------------------------

    def subscriptions(self, shop: str | None = None) -> list[dict[str, Any]]:
        """The shop's subscriptions, admin-made ones too (`admin`: true)."""
        state = self._state.shop(shop)
        with self._state.lock:
            subs = sorted(state.subscriptions.values(), key=lambda s: s.id)
            offset = state.config.utc_offset_minutes
            return [{**s.resource(offset), "admin": s.admin} for s in subs]

    def add_subscription(
        self, topic: str, address: str, *, shop: str | None = None, admin: bool = True
    ) -> dict[str, Any]:
        """Subscribe as a merchant does in the admin (default), or as the app would."""
        if topic not in TOPICS:
            raise ValueError(f"unknown topic {topic!r}")
        state = self._state.shop(shop)
        with self._state.lock:
            now = self._state.clock()
            webhook_id = state.ids.take("webhook")
            sub = Subscription(webhook_id, topic, address, ADMIN_API_VERSION, now, now)
            sub.admin = admin
            state.subscriptions[sub.id] = sub
            return {**sub.resource(state.config.utc_offset_minutes), "admin": admin}

    def deliveries(self, shop: str | None = None, topic: str | None = None) -> list[dict[str, Any]]:
        """Every delivery attempt so far, in the order they finished."""
        return self._attempts("shop", shop, topic)

    # --- control (configure, settle, reset and the request log: `ShopEmulator`) --------

    def fail_next(self, *faults: str, calls: str | None = None, shop: str | None = None) -> None:
        """Make the next API calls (of `calls`: "orders" or "webhooks"; of `shop`) answer
        these faults, one each, in order (see `emulators.common.faults`)."""
        domain = None if shop is None else self.config.shop(shop).domain
        self._faults.add(faults, calls, domain)

    # --- internals ----------------------------------------------------------------------

    def _targets(self, domain: str) -> list[Target]:
        state = self._state.shops[domain]
        cfg = state.config
        return [
            Target(
                domain,
                sub.id,
                sub.topic,
                sub.address,
                sub.api_version,
                tuple(sub.fields) or None,
                cfg.admin_webhook_secret if sub.admin else cfg.webhook_secret,
                sub.admin,
            )
            for sub in state.subscriptions.values()
        ]

    def _remove(self, domain: str, subscription_id: int) -> bool:
        with self._state.lock:
            return self._state.shops[domain].subscriptions.pop(subscription_id, None) is not None

    def _announce(self) -> None:
        for shop in self.config.shops:
            print(f"  shop {shop.domain}  X-Shopify-Access-Token: {shop.access_token}", flush=True)


def serve(port: int, config: EmulatorConfig, host: str = "127.0.0.1") -> None:
    """Run an emulator in the foreground until interrupted (`relay shopify emulator`)."""
    with contextlib.suppress(KeyboardInterrupt):
        Emulator(config, host, port).serve_forever()
