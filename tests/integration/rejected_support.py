"""For the rejected-webhook tests: each shop's webhook said once (a `Shop`), so a rule is
tested over both shops by one parametrised test, and a relay with a worker and the
HubSpot emulator to show what was, or was not, delivered."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine
from werkzeug.test import TestResponse

from emulators.hubspot import Emulator, EmulatorConfig
from service import samples, signatures
from service.config import Config
from tests.conftest import API_KEY, SHOPIFY_SECRET, WOO_SECRET
from tests.integration.whole_order_support import Relay, relay_for
from tests.integration.worker_support import worker_config

AUTH = {"Authorization": f"Bearer {API_KEY}"}


@dataclass(frozen=True)
class Shop:
    source: str
    store_header: str
    store: str  # the store its sample header names, as the relay keys it
    version_field: str
    signature_header: str
    topic_header: str

    @property
    def path(self) -> str:
        return f"/webhooks/{self.source}"

    def order(self, order_id: int = 4242, *, at: datetime | None = None) -> dict[str, Any]:
        """A sample order of this shop, versioned `at` (default: its sample's version)."""
        if self.source == "shopify":
            order = samples.shopify_order(order_id)
            if at is not None:
                order["updated_at"] = at.isoformat()
            return order
        order = samples.woocommerce_order(order_id)
        if at is not None:
            order["date_modified_gmt"] = at.astimezone(UTC).replace(tzinfo=None).isoformat()
        return order

    def headers(self, body: bytes, changes: Mapping[str, str | None] = {}) -> dict[str, str]:
        """The headers this shop sends with `body`, signed; a change of None drops one."""
        if self.source == "shopify":
            _, headers = samples.shopify_request({}, SHOPIFY_SECRET, shop=self.store)
        else:
            _, headers = samples.woocommerce_request({}, WOO_SECRET)
        headers[self.signature_header] = signatures.sign(self.secret, body)
        for name, value in changes.items():
            if value is None:
                headers.pop(name, None)
            else:
                headers[name] = value
        return headers

    @property
    def secret(self) -> str:
        return SHOPIFY_SECRET if self.source == "shopify" else WOO_SECRET

    def post(
        self,
        client: FlaskClient,
        payload: dict[str, Any] | bytes,
        changes: Mapping[str, str | None] = {},
    ) -> TestResponse:
        """Post `payload` (JSON, escaped as ASCII, or bytes as they are), signed."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return client.post(self.path, data=body, headers=self.headers(body, changes))


SHOPIFY = Shop(
    "shopify",
    "X-Shopify-Shop-Domain",
    "acme.myshopify.com",
    "updated_at",
    "X-Shopify-Hmac-Sha256",
    "X-Shopify-Topic",
)
WOOCOMMERCE = Shop(
    "woocommerce",
    "X-WC-Webhook-Source",
    "shop.example.com",
    "date_modified_gmt",
    "X-WC-Webhook-Signature",
    "X-WC-Webhook-Topic",
)
SHOPS = [pytest.param(SHOPIFY, id="shopify"), pytest.param(WOOCOMMERCE, id="woocommerce")]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(seed=21)) as running:
        yield running


@pytest.fixture
def relay(config: Config, engine: Engine, emulator: Emulator) -> Relay:
    """The app and a worker delivering to the emulator, on the test's store."""
    return relay_for(worker_config(config, emulator), engine, emulator)


def delivered(emulator: Emulator) -> dict[str, dict[str, Any]]:
    """Every record HubSpot holds, of every object type, by type then key."""
    return {kind: emulator.records(kind) for kind in ("orders", "line_items", "contacts")}


def rejected_now(client: FlaskClient) -> list[dict[str, Any]]:
    """Every rejected webhook kept, as GET /v1/rejected lists them."""
    answer = client.get("/v1/rejected?limit=500", headers=AUTH)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    items: list[dict[str, Any]] = answer.json["items"]  # type: ignore[index]
    return items
