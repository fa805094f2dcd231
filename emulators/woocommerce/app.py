"""A WooCommerce REST API v3 emulator for several sites: a real threaded HTTP server for
tests and the sandbox, which also sends the sites' webhooks.

The API is in `api` (routes, a host's rate limit, faults), `auth` (consumer keys),
`listing` (orders and their paging) and `webhooks` (CRUD); deliveries, pings and the
failure rule in `delivery`; the orders in `orders`, `changes` and `seed`; control
endpoints in `control`. Deliveries go out while the emulator is started.

    with Emulator() as woo:
        woo.save_order({"customer_note": "gift"})      # fires order.created, order.updated
        requests.get(woo.url + "/wp-json/wc/v3/orders", auth=(key, secret))
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
from emulators.woocommerce.api import WooApi
from emulators.woocommerce.config import EmulatorConfig
from emulators.woocommerce.control import control
from emulators.woocommerce.delivery import Deliveries, Target
from emulators.woocommerce.state import SiteState, WooState
from emulators.woocommerce.webhooks import Webhook

__all__ = ["Emulator", "EmulatorConfig", "serve"]


class Emulator(ShopEmulator):
    """Emulated WooCommerce sites served over HTTP; state is inspectable in-process."""

    name = "WooCommerce"

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        sender: Sender = post_over_http,
    ) -> None:
        self.config = config or EmulatorConfig()
        self._state = WooState(self.config, clock)
        faults, outbox = FaultScript(), Outbox("woocommerce", clock, sender)
        self._api = WooApi(self._state, faults.take, self._ping)
        super().__init__(host, port, self.config, self._state, self._api, outbox, faults)
        timeout = lambda: self.config.delivery_timeout  # noqa: E731
        self._deliveries = Deliveries(outbox, timeout, self._delivered, clock)

    def handle(self, request: Request) -> Reply:
        if request.path.startswith("/_emulator/"):
            return control(self, request)
        return self._api.answer(request)

    # --- orders -------------------------------------------------------------------------

    def save_order(
        self,
        order: dict[str, Any] | None = None,
        *,
        site: str | None = None,
        action: str | None = None,
    ) -> dict[str, Any]:
        """Create an order (no `id`, or an unknown one) or change one with fields and/or an
        action (see `changes`); its topics go to the site's active webhooks. Answers the
        change: `order`, `version`, `created`, `topics`, `deliveries` (queued)."""
        with self._state.lock:
            change = self._state.save_order(site, order or {}, action)
            targets = self._targets(self._state.sites[change.tenant])
        queued = self._deliveries.send(change.body, change.topics, targets)
        return {**change.to_json("site"), "deliveries": queued}

    def orders(self, site: str | None = None) -> list[dict[str, Any]]:
        """Every order of the site, by modified date then id."""
        state = self._state.site(site)
        with self._state.lock:
            records = sorted(state.orders.values(), key=lambda r: (r.modified, r.body["id"]))
            return [r.body for r in records]

    def versions(self, site: str | None = None) -> dict[int, int]:
        state = self._state.site(site)
        with self._state.lock:
            return {order_id: r.version for order_id, r in state.orders.items()}

    # --- webhooks and deliveries --------------------------------------------------------

    def webhooks(self, site: str | None = None) -> list[dict[str, Any]]:
        """The site's webhooks with what the API hides: `secret` and `failure_count`."""
        state = self._state.site(site)
        with self._state.lock:
            url, offset = state.site.url, state.config.utc_offset_minutes
            return [
                {**hook.resource(url, offset, edit=True), "failure_count": hook.failure_count}
                for hook in sorted(state.webhooks.values(), key=lambda h: h.id)
            ]

    def deliveries(self, site: str | None = None, topic: str | None = None) -> list[dict[str, Any]]:
        """Every delivery attempt and ping so far (topic "ping"), in the order they finished."""
        return self._attempts("site", site, topic)

    # --- control (configure, settle, reset and the request log: `ShopEmulator`) --------

    def fail_next(self, *faults: str, calls: str | None = None, site: str | None = None) -> None:
        """Make the next API calls (of `calls`: "orders" or "webhooks"; of `site`) answer
        these faults, one each, in order (see `emulators.common.faults`)."""
        name = None if site is None else self.config.site(site).name
        self._faults.add(faults, calls, name)

    # --- internals ----------------------------------------------------------------------

    def _targets(self, state: SiteState) -> list[Target]:
        source = state.site.url + "/"
        return [
            Target(state.config.name, source, hook.id, hook.topic, hook.delivery_url, hook.secret)
            for hook in state.webhooks.values()
            if hook.status == "active"
        ]

    def _delivered(self, site: str, webhook_id: int, ok: bool) -> dict[str, Any]:
        """WooCommerce's rule on a delivery's outcome, applied to the webhook."""
        with self._state.lock:
            hook = self._state.sites[site].webhooks.get(webhook_id)
            if hook is None:
                return {"failure_count": None, "webhook_status": None}  # deleted meanwhile
            if ok:
                hook.failure_count = 0
            elif hook.failure_count >= self.config.failures_to_disable - 1:
                hook.status = "disabled"
            else:
                hook.failure_count += 1
            return {"failure_count": hook.failure_count, "webhook_status": hook.status}

    def _ping(self, state: SiteState, hook: Webhook) -> None:
        self._deliveries.ping(state.config.name, hook.id, hook.delivery_url)

    def _announce(self) -> None:
        for site in self.config.sites:
            print(f"  site {site.name}  {site.consumer_key}:{site.consumer_secret}", flush=True)


def serve(port: int, config: EmulatorConfig, host: str = "127.0.0.1") -> None:
    """Run an emulator in the foreground until interrupted (`relay woocommerce emulator`)."""
    with contextlib.suppress(KeyboardInterrupt):
        Emulator(config, host, port).serve_forever()
