"""WooCommerce's REST API v3, as reconciliation reads it (shop-apis.md §2).

Orders: `GET /wp-json/wc/v3/orders?modified_after=&modified_before=&dates_are_gmt=true
&orderby=modified&order=asc&per_page=100`, the upper bound fixed when a pass starts.
The dates are compared in UTC only with `dates_are_gmt=true` (the default is the site's
time). Each item has the shape of a v3 `order.updated` webhook body.

Paging by `page` is by offset, and an order changed during a scan leaves the window (its
new date is past the upper bound), which would shift every later order one place
forward and skip one (shop-apis.md §3 sees the same in Airbyte's reader). So after each
page the window's lower bound moves up to the newest change on it and paging starts
again at page 1; the orders at that second are read again, which the version rule makes
harmless. Only when a whole page shares its second does paging go on by `page`. Whether
`modified_after` is exclusive is UNCONFIRMED, so the bound sent is a second early.

Auth: Basic with the consumer key and secret (over HTTPS; the relay never sends them in
the query string, where a log or a `Link` URL would show them).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import requests

from service.shops.http import Answer, ShopApiError, ShopHttp
from service.shops.items import array_items
from service.shops.listing import Fetched, Page, Window

PAGE_SIZE = 100
ORDER_TOPICS = ("order.created", "order.updated")


def gmt(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%S")


def seconds_of_gmt(text: Any) -> float:
    """POSIX seconds of a `*_gmt` date (UTC without an offset); ValueError otherwise."""
    moment = datetime.fromisoformat(str(text))
    return moment.replace(tzinfo=moment.tzinfo or UTC).timestamp()


class WooCommerceApi:
    source = "woocommerce"

    def __init__(
        self,
        store: str,
        key: str,
        secret: str,
        base_url: str,
        session: requests.Session,
        **http: Any,
    ) -> None:
        self.store = store
        self.page_size = PAGE_SIZE  # the shop's maximum; tests page by fewer
        self.root = f"{base_url}/wp-json/wc/v3"
        self.http = ShopHttp(
            store, session, headers={"Accept": "application/json"}, auth=(key, secret), **http
        )

    def pages(self, window: Window) -> Iterator[Page]:
        """The orders of `window`, a page at a time, oldest change first."""
        after, page = window.after, 1
        while True:
            answer = self.http.call(
                "GET", f"{self.root}/orders", params=_query(window, after, page, self.page_size)
            )
            found = Page([_fetched(raw, order) for raw, order in _orders(self.store, answer)])
            yield found
            if not found.orders or page >= _total_pages(answer):
                return
            newest = found.newest
            if newest is not None and int(newest) > int(after):
                after, page = newest, 1
            else:
                page += 1

    def count(self, window: Window) -> int | None:
        """How many orders the window holds (`X-WP-Total` of a one-order page)."""
        params = _query(window, window.after, 1, 1)
        total = self.http.call("GET", f"{self.root}/orders", params=params).headers.get(
            "X-WP-Total"
        )
        return int(total) if total and total.isdigit() else None

    # -- webhooks --------------------------------------------------------------------

    def subscriptions(self) -> list[dict[str, Any]]:
        """Every webhook of the site, `disabled` and `paused` ones too."""
        hooks: list[dict[str, Any]] = []
        page = 1
        while True:
            params = {
                "status": "all",
                "per_page": "100",
                "page": str(page),
                "orderby": "id",
                "order": "asc",
            }
            answer = self.http.call("GET", f"{self.root}/webhooks", params=params)
            found = answer.json()
            hooks += (
                [hook for hook in found if isinstance(hook, dict)]
                if isinstance(found, list)
                else []
            )
            if page >= _total_pages(answer):
                return hooks
            page += 1

    def activate(self, webhook_id: int) -> dict[str, Any]:
        answer = self.http.call(
            "PUT", f"{self.root}/webhooks/{webhook_id}", body={"status": "active"}
        )
        made: dict[str, Any] = answer.json()
        return made

    def subscribe(self, topic: str, address: str, secret: str) -> dict[str, Any]:
        body = {
            "name": f"line-item-relay {topic}",
            "topic": topic,
            "delivery_url": address,
            "secret": secret,
            "status": "active",
        }
        answer = self.http.call("POST", f"{self.root}/webhooks", body=body)
        made: dict[str, Any] = answer.json()
        return made


def _query(window: Window, after: float, page: int, page_size: int) -> dict[str, str]:
    params = {
        "modified_after": gmt(after - 1),
        "modified_before": gmt(window.before + 1),
        "dates_are_gmt": "true",
        "orderby": "modified",
        "order": "asc",
        "per_page": str(page_size),
        "page": str(page),
    }
    if window.created_after is not None:
        params["after"] = gmt(window.created_after - 1)
    if window.created_before is not None:
        params["before"] = gmt(window.created_before + 1)
    return params


def _orders(store: str, answer: Answer) -> list[tuple[str, Any]]:
    try:
        return array_items(answer.text)
    except ValueError as exc:
        raise ShopApiError(store, answer.status, f"/orders answered no order list ({exc})") from exc


def _fetched(raw: str, order: Any) -> Fetched:
    version: float | None = None
    if isinstance(order, dict):
        for name in ("date_modified_gmt", "date_created_gmt"):
            try:
                version = seconds_of_gmt(order[name])
                break
            except (KeyError, TypeError, ValueError):
                continue
    order_id = str(order.get("id")) if isinstance(order, dict) else "?"
    return Fetched(raw.encode("utf-8"), order_id, version)


def _total_pages(answer: Answer) -> int:
    value = answer.headers.get("X-WP-TotalPages", "")
    return int(value) if value.isdigit() else 1
