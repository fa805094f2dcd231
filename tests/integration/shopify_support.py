"""Starting Shopify emulators for a test and calling them as the relay would: the shops
(`test-shop` with no seeded orders unless asked, `other-shop`) and a client that sends the
token and follows `Link` headers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from emulators.shopify import Emulator, EmulatorConfig, ShopConfig

DOMAIN, TOKEN = "test-shop.myshopify.com", "shpat_test_one"
OTHER, OTHER_TOKEN = "other-shop.myshopify.com", "shpat_test_two"
SECRET, NOTIFY_KEY = "shpss_test&secret;one", "notify-key-one"
API = "/admin/api/2026-07"
SHOP_ZONE = timezone(timedelta(hours=-5))

Start = Callable[..., "Shopify"]


def shop(domain: str = DOMAIN, token: str = TOKEN, **overrides: Any) -> ShopConfig:
    fields: dict[str, Any] = {"orders": 0, "utc_offset_minutes": -300, **overrides}
    return ShopConfig(domain, token, SECRET, NOTIFY_KEY, **fields)


class Shopify:
    """A started emulator and a session that calls it with a shop's token."""

    def __init__(self, emulator: Emulator, http: requests.Session) -> None:
        self.emulator = emulator
        self.http = http

    def get(self, path: str, token: str | None = TOKEN, **params: Any) -> requests.Response:
        headers = {} if token is None else {"X-Shopify-Access-Token": token}
        url = path if path.startswith("http") else self.emulator.url + API + path
        return self.http.get(url, params=params, headers=headers, timeout=10)

    def send(self, method: str, path: str, body: Any, token: str = TOKEN) -> requests.Response:
        headers = {"X-Shopify-Access-Token": token}
        url = self.emulator.url + API + path
        return self.http.request(method, url, json=body, headers=headers, timeout=10)

    def pages(self, token: str = TOKEN, **params: Any) -> list[list[dict[str, Any]]]:
        """Every page of orders.json, following rel=next until there is none."""
        response = self.get("/orders.json", token, **params)
        pages = []
        while True:
            assert response.status_code == 200, response.text
            pages.append(response.json()["orders"])
            following = response.links.get("next")
            if following is None:
                return pages
            response = self.get(following["url"], token)

    def subscribe(self, topic: str, address: str, token: str = TOKEN) -> dict[str, Any]:
        response = self.send(
            "POST", "/webhooks.json", {"webhook": {"topic": topic, "address": address}}, token
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()["webhook"]
        return created


def starting() -> Iterator[Start]:
    """For a test module's `start` fixture: start emulators of the given shops (default:
    `test-shop`) and config fields; all are stopped after the test."""
    started: list[Emulator] = []
    with requests.Session() as http:

        def _start(*shops: ShopConfig, **fields: Any) -> Shopify:
            config = EmulatorConfig(shops=list(shops) or [shop()], **fields)
            emulator = Emulator(config).start()
            started.append(emulator)
            return Shopify(emulator, http)

        yield _start
        for emulator in started:
            emulator.stop()


def at(ts: float) -> str:
    """A time as the shop writes it."""
    return datetime.fromtimestamp(int(ts), SHOP_ZONE).isoformat()


def ids(orders: list[dict[str, Any]]) -> list[int]:
    return [order["id"] for order in orders]
