"""What an upgrade from line items only meets before its portal is ready, what an operator
sees meanwhile, and how the relay recovers once it is: missing scopes, a missing order
property, an unknown stage; every request checked against HubSpot's OpenAPI files."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import Engine

from emulators.hubspot import Emulator, EmulatorConfig
from service import samples
from service.cli import main
from service.config import Config
from tests.hubspot_spec import validate_request
from tests.integration.whole_order_support import Relay, association_pairs_sent, relay_for
from tests.integration.worker_support import worker_config

SHOP = "acme.myshopify.com"
ORDER = 5_840_000_000_001
KEY = f"shopify:{SHOP}:{ORDER}"
# What a token made for the line-items-only relay holds.
LINE_ITEM_SCOPES = ["crm.objects.line_items.read", "crm.objects.line_items.write", "oauth"]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(seed=11)) as running:
        yield running


@pytest.fixture
def relay(config: Config, engine: Engine, emulator: Emulator) -> Relay:
    return relay_for(worker_config(config, emulator), engine, emulator)


def status(config: Config) -> str:
    env = {"DATABASE_URL": config.database_url, "RELAY_LOG_JSON": "true"}
    result = CliRunner().invoke(main, ["status"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_token_without_order_scopes_holds_back_orders_and_contacts_while_line_items_flow(
    relay: Relay, emulator: Emulator
) -> None:
    emulator.configure(scopes=LINE_ITEM_SCOPES)
    assert relay.shopify(samples.shopify_order(ORDER)) == 202
    relay.deliver()

    assert len(emulator.records("line_items")) == 3  # as before the upgrade
    assert emulator.records("orders") == emulator.records("contacts") == {}
    ready = relay.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["status"] == "degraded"
    held = ready.json["checks"]["held_back"]
    assert set(held) == {"order", "contact"}
    assert "MISSING_SCOPES" in held["order"] or "403" in held["order"]
    assert '"order"' in status(relay.config) and "held_back" in status(relay.config)
    view = relay.order_view("shopify", SHOP, str(ORDER))
    assert view["order_record"]["state"] == "pending" and view["order_record"]["attempts"] == 0
    assert {a["state"] for a in view["associations"]} == {"pending"}

    # The admin grants the scopes and restarts the worker (or waits the minute out).
    emulator.configure(
        scopes=[
            *LINE_ITEM_SCOPES,
            "crm.objects.orders.read",
            "crm.objects.orders.write",
            "crm.objects.contacts.write",
            "crm.objects.contacts.read",
            "crm.pipelines.orders.read",
        ]
    )
    restarted = relay_for(relay.config, relay.engine, emulator)
    restarted.deliver()

    assert list(emulator.records("orders")) == [KEY]
    assert list(emulator.records("contacts")) == ["jane.doe@example.com"]
    assert len(emulator.associations()) == 4
    assert relay.client.get("/readyz").json["status"] == "ready"


def test_a_missing_order_id_property_holds_back_orders_until_setup_creates_it(
    config: Config, engine: Engine, emulator: Emulator
) -> None:
    emulator.configure(unique_properties={"orders": []})  # an upgraded portal: no order key yet
    relay = relay_for(worker_config(config, emulator), engine, emulator)
    assert relay.shopify(samples.shopify_order(ORDER)) == 202
    relay.deliver()

    assert len(emulator.records("line_items")) == 3
    assert emulator.records("orders") == {}
    held = relay.client.get("/readyz").json["checks"]["held_back"]
    assert "relay hubspot setup" in held["order"]

    env = {
        "DATABASE_URL": relay.config.database_url,
        "HUBSPOT_ACCESS_TOKEN": "sandbox-token",
        "HUBSPOT_BASE_URL": emulator.url,
    }
    setup = CliRunner().invoke(main, ["hubspot", "setup"], env=env)
    assert setup.exit_code == 0, setup.output
    assert "created unique order property 'external_order_key'" in setup.output
    relay_for(relay.config, engine, emulator).deliver()
    assert list(emulator.records("orders")) == [KEY]


def test_a_stage_label_the_pipeline_lacks_holds_back_orders_and_says_which(
    config: Config, engine: Engine, emulator: Emulator
) -> None:
    relay = relay_for(
        worker_config(config, emulator, hubspot_order_stages={"processed": "Paid"}),  # type: ignore[dict-item]
        engine,
        emulator,
    )
    assert relay.shopify(samples.shopify_order(ORDER)) == 202
    relay.deliver()

    assert len(emulator.records("line_items")) == 3
    assert emulator.records("orders") == {}
    reason = relay.client.get("/readyz").json["checks"]["held_back"]["order"]
    assert "processed -> 'Paid'" in reason
    assert "'Processed'" in reason  # the stages there are, to pick from


def test_setup_names_every_stage_that_is_missing_and_exits_non_zero(
    config: Config, emulator: Emulator
) -> None:
    env = {
        "DATABASE_URL": config.database_url,
        "HUBSPOT_ACCESS_TOKEN": "sandbox-token",
        "HUBSPOT_BASE_URL": emulator.url,
        "HUBSPOT_ORDER_STAGES": "delivered=Received,cancelled=Void",
    }
    result = CliRunner().invoke(main, ["hubspot", "setup"], env=env)
    assert result.exit_code != 0
    assert "delivered -> 'Received'" in result.output
    assert "cancelled -> 'Void'" in result.output


def test_an_association_is_sent_again_when_its_end_is_recreated_with_a_new_hubspot_id(
    relay: Relay, emulator: Emulator
) -> None:
    assert relay.shopify(samples.shopify_order(ORDER)) == 202
    relay.deliver()
    assert len(emulator.associations()) == 4
    first = set(association_pairs_sent(emulator))
    emulator.reset()  # every record deleted in HubSpot: the next upserts make new ones...
    _take_ids(emulator)  # ...with ids of their own, as HubSpot never reuses one

    changed = samples.shopify_order(
        ORDER, updated_at="2026-11-28T09:15:00-05:00", fulfillment_status="fulfilled"
    )
    changed["customer"]["first_name"] = "Janet"  # so the contact is sent again too
    for line in changed["line_items"]:
        line["quantity"] += 1
        line["current_quantity"] += 1
    assert relay.shopify(changed) == 202
    relay.deliver()

    assert len(emulator.associations()) == 4
    again = set(association_pairs_sent(emulator))
    assert again and not again & first  # the new ids, each pair once


def test_every_request_the_relay_sends_fits_hubspots_openapi_files(
    relay: Relay, emulator: Emulator
) -> None:
    relay.shopify(samples.shopify_order(ORDER))
    relay.woocommerce(samples.woocommerce_order(1207))
    relay.deliver()

    log = emulator.requests_log()
    kinds = {entry["kind"] for entry in log}
    assert {"upsert:contacts", "upsert:orders", "upsert:line_items"} <= kinds
    assert {"associations:line_items/orders", "associations:orders/contacts"} <= kinds
    for entry in log:
        body = {k: v for k, v in entry.items() if k not in ("kind", "path")}
        validate_request("POST", entry["path"], body)


def _take_ids(emulator: Emulator) -> None:
    """Create one unrelated record of each type, so the next ids differ from the first."""
    http = requests.Session()
    http.headers["Authorization"] = "Bearer sandbox-token"
    for object_type, id_property, properties in (
        ("line_items", "external_line_item_id", {"name": "Other"}),
        ("orders", "external_order_key", {"hs_order_name": "#other"}),
        ("contacts", "email", {}),
    ):
        key = "other@example.com" if object_type == "contacts" else "other:key"
        body = {"inputs": [{"idProperty": id_property, "id": key, "properties": properties}]}
        answer = http.post(f"{emulator.url}/crm/v3/objects/{object_type}/batch/upsert", json=body)
        assert answer.status_code == 200, answer.text
