"""For the whole-order tests: the relay (app and worker) against a started emulator, a
worker run until nothing is due, and HubSpot's records read back over its read API."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests
from flask.testing import FlaskClient
from sqlalchemy import Engine

from emulators.hubspot import Emulator
from service import samples
from service.config import Config
from service.worker import Worker
from tests.conftest import SHOPIFY_SECRET, WOO_SECRET
from tests.integration.worker_support import make_worker

TOKEN = "sandbox-token"
ORDER_PROPERTIES = (
    "hs_order_name,hs_currency_code,hs_total_price,hs_subtotal_price,hs_order_discount,"
    "hs_tax,hs_shipping_cost,hs_refund_amount,hs_external_order_id,hs_source_store,"
    "hs_external_created_date,hs_payment_status,hs_fulfillment_status,"
    "hs_billing_address_name,hs_billing_address_firstname,hs_billing_address_lastname,"
    "hs_billing_address_email,hs_billing_address_phone,hs_shipping_address_name,"
    "hs_shipping_address_street,hs_shipping_address_city,hs_shipping_address_state,"
    "hs_shipping_address_postal_code,hs_shipping_address_country,hs_pipeline,"
    "hs_pipeline_stage,external_order_key"
)


@dataclass
class Relay:
    """A configured relay: its test client (the web side) and a worker."""

    config: Config
    client: FlaskClient
    worker: Worker
    engine: Engine
    emulator: Emulator

    def shopify(self, order: dict[str, Any], shop: str = "acme.myshopify.com") -> int:
        body, headers = samples.shopify_request(order, SHOPIFY_SECRET, shop=shop)
        return int(self.client.post("/webhooks/shopify", data=body, headers=headers).status_code)

    def woocommerce(self, order: dict[str, Any], site: str = "https://shop.example.com/") -> int:
        body, headers = samples.woocommerce_request(order, WOO_SECRET, site=site)
        answer = self.client.post("/webhooks/woocommerce", data=body, headers=headers)
        return int(answer.status_code)

    def deliver(self, timeout: float = 30.0) -> None:
        """Run the worker until nothing is left to send (three idle rounds in a row)."""
        idle, deadline = 0, time.monotonic() + timeout
        while idle < 3:
            assert time.monotonic() < deadline, "the worker did not settle"
            idle = 0 if self.worker.run_once() else idle + 1

    def order_view(self, source: str, store: str, order_id: str) -> dict[str, Any]:
        from tests.conftest import API_KEY

        answer = self.client.get(
            f"/v1/orders/{source}/{store}/{order_id}",
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)
        view: dict[str, Any] = answer.json  # type: ignore[assignment]
        return view


def relay_for(config: Config, engine: Engine, emulator: Emulator) -> Relay:
    from service.app import create_app

    app = create_app(config, engine)
    app.config["TESTING"] = True
    return Relay(config, app.test_client(), make_worker(config, engine), engine, emulator)


class HubSpotReader:
    """Reads what the relay wrote, as any HubSpot client would: over the read API."""

    def __init__(self, emulator: Emulator) -> None:
        self.url = emulator.url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {TOKEN}"

    def get(self, path: str, **params: str) -> dict[str, Any]:
        answer = self.http.get(self.url + path, params=params, timeout=10)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def record(
        self, object_type: str, key: str, id_property: str, properties: str
    ) -> dict[str, Any]:
        return self.get(
            f"/crm/v3/objects/{object_type}/{key}",
            idProperty=id_property,
            properties=properties,
            associations="line_items,contacts",
        )

    def associated(self, object_type: str, object_id: str, to_type: str) -> set[str]:
        body = self.get(f"/crm/v4/objects/{object_type}/{object_id}/associations/{to_type}")
        return {str(result["toObjectId"]) for result in body["results"]}

    def stage_id(self, object_type: str, label: str) -> tuple[str, str]:
        """(pipeline id, stage id) of the default pipeline's stage with `label`."""
        pipelines = self.get(f"/crm/v3/pipelines/{object_type}")["results"]
        pipeline = sorted(pipelines, key=lambda p: p["displayOrder"])[0]
        if object_type == "deals":
            pipeline = next(p for p in pipelines if p["id"] == "default")
        stage = next(s for s in pipeline["stages"] if s["label"] == label)
        return str(pipeline["id"]), str(stage["id"])


def association_pairs_sent(emulator: Emulator) -> list[tuple[str, str]]:
    """Every (from id, to id) the relay sent in an association request, in order."""
    return [
        (str(item["from"]["id"]), str(item["to"]["id"]))
        for entry in emulator.requests_log()
        if str(entry.get("kind", "")).startswith("associations:")
        for item in entry.get("inputs", [])
    ]
