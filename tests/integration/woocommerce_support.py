"""Starting WooCommerce emulators for a test and calling them as the relay would: the
sites (`test-site` with no seeded orders unless asked, `other-site`) and a client that
authenticates with a site's key and follows `Link` headers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import requests

from emulators.woocommerce import Emulator, EmulatorConfig, SiteConfig

SITE, KEY, SECRET = "test-site", "ck_test_one", "cs_test_one"
OTHER, OTHER_KEY, OTHER_SECRET = "other-site", "ck_test_two", "cs_test_two"
SITE_URL = "https://test-site.example"
API = "/wp-json/wc/v3"
SITE_ZONE = timezone(timedelta(hours=-5))
Auth = tuple[str, str]

Start = Callable[..., "Woo"]


def site(name: str = SITE, key: str = KEY, secret: str = SECRET, **overrides: Any) -> SiteConfig:
    fields: dict[str, Any] = {"orders": 0, "utc_offset_minutes": -300, **overrides}
    return SiteConfig(name, f"https://{name}.example", key, secret, **fields)


class Woo:
    """A started emulator and a session that calls it with a site's key."""

    def __init__(self, emulator: Emulator, http: requests.Session) -> None:
        self.emulator = emulator
        self.http = http

    def get(self, path: str, auth: Auth | None = (KEY, SECRET), **params: Any) -> requests.Response:
        url = path if path.startswith("http") else self.emulator.url + API + path
        return self.http.get(url, params=params, auth=auth, timeout=10)

    def send(
        self, method: str, path: str, body: Any = None, auth: Auth = (KEY, SECRET), **params: Any
    ) -> requests.Response:
        url = self.emulator.url + API + path
        return self.http.request(method, url, json=body, auth=auth, params=params, timeout=10)

    def pages(self, auth: Auth = (KEY, SECRET), **params: Any) -> list[requests.Response]:
        """Every page of /orders, following rel=next until there is none."""
        responses = [self.get("/orders", auth, **params)]
        while "next" in responses[-1].links:
            assert responses[-1].status_code == 200, responses[-1].text
            responses.append(self.get(responses[-1].links["next"]["url"], auth))
        return responses

    def hook(
        self, topic: str, url: str, secret: str = "hook-secret", **fields: Any
    ) -> dict[str, Any]:
        body = {"topic": topic, "delivery_url": url, "secret": secret, **fields}
        response = self.send("POST", "/webhooks", body)
        assert response.status_code == 201, response.text
        made: dict[str, Any] = response.json()
        return made


def starting() -> Iterator[Start]:
    """For a test module's `start` fixture: start emulators of the given sites (default:
    `test-site`) and config fields; all are stopped after the test."""
    started: list[Emulator] = []
    with requests.Session() as http:

        def _start(*sites: SiteConfig, **fields: Any) -> Woo:
            config = EmulatorConfig(sites=list(sites) or [site()], **fields)
            emulator = Emulator(config).start()
            started.append(emulator)
            return Woo(emulator, http)

        yield _start
        for emulator in started:
            emulator.stop()


def gmt(ts: float) -> str:
    """A time as a `_gmt` field or a GMT parameter writes it: UTC without an offset."""
    return datetime.fromtimestamp(int(ts), UTC).replace(tzinfo=None).isoformat()


def local(ts: float) -> str:
    """A time in the site's zone without an offset, as its non-_gmt fields write it."""
    return datetime.fromtimestamp(int(ts), SITE_ZONE).replace(tzinfo=None).isoformat()


def ids(orders: list[dict[str, Any]]) -> list[int]:
    return [order["id"] for order in orders]
