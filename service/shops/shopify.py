"""Shopify's REST Admin API, as reconciliation reads it (shop-apis.md §1).

Orders: `GET orders.json?status=any&updated_at_min=...&limit=250` (no upper bound), ascending by
`updated_at` (`order=updated_at asc`, as Airbyte asks: Shopify's default order is
UNCONFIRMED), then the `Link` header's `next` URL, which carries only `page_info` and
`limit`. Each item has the shape of an `orders/*` webhook body when the API version is
the webhooks' one, so the version is pinned to `API_VERSION`, which `relay shops check
--fix` also subscribes with. Token in `X-Shopify-Access-Token`; `read_orders` to list,
`read_all_orders` for orders created more than 60 days ago.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import requests

from service.shops.http import CallLimit, ShopApiError, ShopHttp
from service.shops.items import array_items
from service.shops.listing import Fetched, Page, Window

API_VERSION = "2026-07"
PAGE_SIZE = 250
ORDER_TOPICS = ("orders/create", "orders/updated", "orders/paid", "orders/cancelled")
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


def iso_utc(seconds: float) -> str:
    """Whole seconds, UTC: Shopify's timestamps have no fraction."""
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seconds_of(text: Any) -> float:
    """POSIX seconds of an ISO 8601 time with an offset; ValueError otherwise."""
    moment = datetime.fromisoformat(str(text))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no offset")
    return moment.timestamp()


class ShopifyApi:
    source = "shopify"

    def __init__(
        self, store: str, token: str, base_url: str, session: requests.Session, **http: Any
    ) -> None:
        self.store = store
        self.page_size = PAGE_SIZE  # the shop's maximum; tests page by fewer
        self.root = f"{base_url}/admin/api/{API_VERSION}"
        self.http = ShopHttp(
            store,
            session,
            headers={"X-Shopify-Access-Token": token, "Accept": "application/json"},
            call_limit=CallLimit(),
            **http,
        )

    def pages(self, window: Window) -> Iterator[Page]:
        """The orders of `window`, a page at a time, oldest change first."""
        params: dict[str, str] | None = {
            **_filters(window),
            "limit": str(self.page_size),
            "order": "updated_at asc",
        }
        url: str | None = f"{self.root}/orders.json"
        while url is not None:
            answer = self.http.call("GET", url, params=params)
            found = _orders(self.store, answer.text)
            yield Page([self._fetched(raw, order) for raw, order in found])
            # The next URL carries the filters in its page_info; any other would be a 400.
            url, params = _next_url(answer.headers.get("Link")), None

    def count(self, window: Window) -> int | None:
        """How many orders `pages` will give, for a progress bar; None when unknown."""
        url = f"{self.root}/orders/count.json"
        count = self.http.call("GET", url, params=_filters(window)).json().get("count")
        return count if isinstance(count, int) else None

    def _fetched(self, raw: str, order: Any) -> Fetched:
        try:
            version = seconds_of(order["updated_at"])
        except (KeyError, TypeError, ValueError):
            version = None  # the webhook path keeps it as rejected and says why
        return Fetched(
            raw.encode("utf-8"), str(order.get("id")) if isinstance(order, dict) else "?", version
        )

    # -- subscriptions ---------------------------------------------------------------

    def subscriptions(self) -> list[dict[str, Any]]:
        """The app's own subscriptions (admin-made ones are not in the API)."""
        answer = self.http.call("GET", f"{self.root}/webhooks.json", params={"limit": "250"})
        found = answer.json().get("webhooks")
        return found if isinstance(found, list) else []

    def subscribe(self, topic: str, address: str) -> dict[str, Any]:
        body = {"webhook": {"topic": topic, "address": address, "format": "json"}}
        answer = self.http.call("POST", f"{self.root}/webhooks.json", body=body)
        made: dict[str, Any] = answer.json().get("webhook") or {}
        return made


def _filters(window: Window) -> dict[str, str]:
    # No updated_at_max: the listing pages by keyset (page_info), so an order changed
    # mid-scan moves behind the cursor and is met again, and a pass reads up to the moment
    # it ends, even when the shop's clock runs ahead of the relay's.
    params = {"status": "any", "updated_at_min": iso_utc(window.after)}
    if window.created_after is not None:
        params["created_at_min"] = iso_utc(window.created_after)
    if window.created_before is not None:
        params["created_at_max"] = iso_utc(window.created_before)
    return params


def _orders(store: str, text: str) -> list[tuple[str, Any]]:
    try:
        return array_items(text, "orders")
    except ValueError as exc:
        raise ShopApiError(store, 200, f"orders.json answered no order list ({exc})") from exc


def _next_url(link: str | None) -> str | None:
    match = _NEXT.search(link or "")
    return match.group(1) if match else None
