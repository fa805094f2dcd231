"""The whole order in HubSpot, over HTTP against the emulator, on SQLite and PostgreSQL:
signed webhooks in, the worker out, HubSpot's records read back through its read API."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from emulators.hubspot import Emulator, EmulatorConfig
from service import samples
from service.config import Config
from service.domain import OrderObject
from tests.integration.whole_order_support import (
    ORDER_PROPERTIES,
    HubSpotReader,
    Relay,
    association_pairs_sent,
    relay_for,
)
from tests.integration.worker_support import worker_config

SHOP = "acme.myshopify.com"
ORDER = 5_840_000_000_001
KEY = f"shopify:{SHOP}:{ORDER}"
LINES = [f"shopify:{SHOP}:{ORDER * 10 + n}" for n in (1, 2, 3)]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(seed=10)) as running:
        yield running


@pytest.fixture
def hubspot(emulator: Emulator) -> HubSpotReader:
    return HubSpotReader(emulator)


def make_relay(config: Config, engine: Engine, emulator: Emulator, **changes: Any) -> Relay:
    return relay_for(worker_config(config, emulator, **changes), engine, emulator)


@pytest.fixture
def relay(config: Config, engine: Engine, emulator: Emulator) -> Relay:
    return make_relay(config, engine, emulator)


def test_a_shopify_order_becomes_one_order_one_contact_three_lines_and_their_associations(
    relay: Relay, hubspot: HubSpotReader
) -> None:
    assert relay.shopify(samples.shopify_order(ORDER)) == 202
    relay.deliver()

    order = hubspot.record("orders", KEY, "external_order_key", ORDER_PROPERTIES)
    pipeline, processed = hubspot.stage_id("orders", "Processed")  # a paid order
    # 2 x 24.50 + 3 x 12.00 + 4.00 = 89.00; tax 8% 7.12; shipping 4.90
    expected = {
        "hs_order_name": "#1",
        "hs_currency_code": "USD",
        "hs_total_price": "101.02",
        "hs_subtotal_price": "89.00",
        "hs_order_discount": "0.00",
        "hs_tax": "7.12",
        "hs_shipping_cost": "4.90",
        "hs_refund_amount": "0.00",
        "hs_external_order_id": str(ORDER),
        "hs_source_store": SHOP,
        "hs_external_created_date": None,
        "hs_payment_status": "paid",
        "hs_fulfillment_status": "unfulfilled",
        "hs_billing_address_name": "Jane Doe",
        "hs_billing_address_firstname": "Jane",
        "hs_billing_address_lastname": "Doe",
        "hs_billing_address_email": "jane.doe@example.com",
        "hs_billing_address_phone": "+1 207-555-0188",
        "hs_shipping_address_name": "Jane Doe",
        "hs_shipping_address_street": "22 Orchard Lane",
        "hs_shipping_address_city": "Portland",
        "hs_shipping_address_state": "Maine",
        "hs_shipping_address_postal_code": "04101",
        "hs_shipping_address_country": "United States",
        "hs_pipeline": pipeline,
        "hs_pipeline_stage": processed,
        "external_order_key": KEY,
    }
    properties = {name: order["properties"].get(name) for name in ORDER_PROPERTIES.split(",")}
    assert properties | {"hs_external_created_date": None} == expected
    assert properties["hs_external_created_date"].startswith("2026-11-27T14:15:00")
    contacts = relay.emulator.records("contacts")
    assert list(contacts) == ["jane.doe@example.com"]
    contact = contacts["jane.doe@example.com"]["properties"]
    assert (contact["firstname"], contact["lastname"], contact["phone"]) == (
        "Jane",
        "Doe",
        "+16135550123",
    )
    lines = relay.emulator.records("line_items")
    assert sorted(lines) == LINES
    assert hubspot.associated("orders", order["id"], "line_items") == {
        lines[k]["id"] for k in LINES
    }
    assert hubspot.associated("orders", order["id"], "contacts") == {
        contacts["jane.doe@example.com"]["id"]
    }
    # and from the other side, as a rep opening the line item or the contact sees it
    assert hubspot.associated("line_items", lines[LINES[0]]["id"], "orders") == {order["id"]}


def test_a_woocommerce_order_becomes_the_same_whole_order(
    relay: Relay, hubspot: HubSpotReader
) -> None:
    assert relay.woocommerce(samples.woocommerce_order(1207, status="completed")) == 202
    relay.deliver()

    key = "woocommerce:shop.example.com:1207"
    order = hubspot.record("orders", key, "external_order_key", ORDER_PROPERTIES)
    properties = order["properties"]
    _, shipped = hubspot.stage_id("orders", "Shipped")  # completed
    assert properties["hs_pipeline_stage"] == shipped
    assert (properties["hs_order_name"], properties["hs_currency_code"]) == ("#1207", "EUR")
    assert properties["hs_fulfillment_status"] == "fulfilled"
    assert properties["hs_source_store"] == "shop.example.com"
    lines = relay.emulator.records("line_items")
    assert len(lines) == 2
    assert hubspot.associated("orders", order["id"], "line_items") == {
        r["id"] for r in lines.values()
    }
    [(email, contact)] = relay.emulator.records("contacts").items()
    assert email == "jane.doe@example.com"
    assert hubspot.associated("orders", order["id"], "contacts") == {contact["id"]}


def test_with_deals_the_order_is_one_deal_with_its_lines_and_its_buyer(
    config: Config, engine: Engine, emulator: Emulator, hubspot: HubSpotReader
) -> None:
    relay = make_relay(config, engine, emulator, hubspot_order_object=OrderObject.DEALS)
    assert relay.shopify(samples.shopify_order(ORDER)) == 202
    relay.deliver()

    deal = hubspot.record(
        "deals",
        KEY,
        "external_order_key",
        "dealname,amount,deal_currency_code,pipeline,dealstage,closedate",
    )
    _, won = hubspot.stage_id("deals", "Closed Won")  # paid
    properties = deal["properties"]
    assert properties["dealname"] == f"Order #1 ({SHOP})"
    assert (properties["amount"], properties["deal_currency_code"]) == ("101.02", "USD")
    assert (properties["pipeline"], properties["dealstage"]) == ("default", won)
    assert relay.emulator.records("orders") == {}
    lines = relay.emulator.records("line_items")
    assert hubspot.associated("deals", deal["id"], "line_items") == {
        r["id"] for r in lines.values()
    }
    contact = relay.emulator.records("contacts")["jane.doe@example.com"]
    assert hubspot.associated("deals", deal["id"], "contacts") == {contact["id"]}


def test_with_none_only_line_items_are_sent_as_before(
    config: Config, engine: Engine, emulator: Emulator
) -> None:
    relay = make_relay(config, engine, emulator, hubspot_order_object=OrderObject.NONE)
    assert relay.shopify(samples.shopify_order(ORDER)) == 202
    relay.deliver()

    assert sorted(relay.emulator.records("line_items")) == LINES
    assert relay.emulator.records("orders") == relay.emulator.records("contacts") == {}
    assert relay.emulator.associations() == []
    assert set(relay.emulator.stats()["by_kind"]) == {"upsert:line_items"}


def test_an_order_redelivered_reordered_paid_shipped_cancelled_refunded_and_edited_is_one_of_each(
    relay: Relay, hubspot: HubSpotReader
) -> None:
    line = samples.shopify_line_item
    three = [
        line(ORDER * 10 + 1, "Beanie", "2", "24.50"),
        line(ORDER * 10 + 2, "Socks", "3", "12.00"),
        line(ORDER * 10 + 3, "Wrap", "1", "4.00"),
    ]
    fulfilled = [{"id": 1, "status": "success", "shipment_status": None}]
    versions = {
        "paid": samples.shopify_order(ORDER, updated_at="2026-11-27T10:00:00Z", line_items=three),
        "fulfilled": samples.shopify_order(
            ORDER,
            updated_at="2026-11-27T11:00:00Z",
            line_items=three,
            fulfillment_status="fulfilled",
            fulfillments=fulfilled,
        ),
        "refunded": samples.shopify_order(
            ORDER,
            updated_at="2026-11-27T12:00:00Z",
            line_items=three,
            financial_status="partially_refunded",
            fulfillment_status="fulfilled",
            fulfillments=fulfilled,
            refunds=["10.00"],
        ),
    }
    assert relay.shopify(versions["paid"]) == 202
    relay.deliver()
    first = hubspot.record("orders", KEY, "external_order_key", ORDER_PROPERTIES)
    # Three later versions out of order, the oldest twice.
    assert relay.shopify(versions["refunded"]) == 202
    assert relay.shopify(versions["fulfilled"]) == 200  # older than what is stored: stale
    assert relay.shopify(versions["paid"]) == 200
    relay.deliver()
    # Cancelled, and a line dropped by an edit (WooCommerce drops it; here Shopify's
    # current_quantity 0 would do the same): quantity 0, still on the order.
    dropped = samples.shopify_order(
        ORDER,
        updated_at="2026-11-27T13:00:00Z",
        line_items=three[:2],
        cancelled_at="2026-11-27T13:00:00Z",
        financial_status="partially_refunded",
        fulfillment_status="fulfilled",
        fulfillments=fulfilled,
        refunds=["10.00"],
    )
    assert relay.shopify(dropped) == 202
    relay.deliver()

    orders = relay.emulator.records("orders")
    assert list(orders) == [KEY]
    order = hubspot.record("orders", KEY, "external_order_key", ORDER_PROPERTIES)
    assert order["id"] == first["id"]
    _, cancelled = hubspot.stage_id("orders", "Cancelled")
    properties = order["properties"]
    assert properties["hs_pipeline_stage"] == cancelled
    # Two lines left: 2 x 24.50 + 3 x 12.00 = 85.00, tax 6.80, shipping 4.90, less 10.00
    assert (properties["hs_refund_amount"], properties["hs_total_price"]) == ("10.00", "86.70")
    lines = relay.emulator.records("line_items")
    assert sorted(lines) == LINES
    assert lines[LINES[2]]["properties"]["quantity"] == "0"
    assert hubspot.associated("orders", order["id"], "line_items") == {
        r["id"] for r in lines.values()
    }
    assert list(relay.emulator.records("contacts")) == ["jane.doe@example.com"]
    sent = Counter(association_pairs_sent(relay.emulator))
    assert sent and set(sent.values()) == {1}  # no association sent twice
    assert len(sent) == 4  # three lines and the buyer


def test_a_guest_order_without_an_email_gets_its_order_and_lines_and_no_contact(
    relay: Relay, hubspot: HubSpotReader
) -> None:
    guest = samples.shopify_order(ORDER, email="", customer=None)
    assert relay.shopify(guest) == 202
    relay.deliver()

    order = hubspot.record("orders", KEY, "external_order_key", ORDER_PROPERTIES)
    assert relay.emulator.records("contacts") == {}
    assert hubspot.associated("orders", order["id"], "contacts") == set()
    assert len(hubspot.associated("orders", order["id"], "line_items")) == 3
    view = relay.order_view("shopify", SHOP, str(ORDER))
    assert view["contacts"] == []
    assert {
        r["state"] for r in [view["order_record"], *view["line_items"], *view["associations"]]
    } == {"delivered"}


def test_an_email_hubspot_refuses_is_a_dead_letter_on_its_order_and_the_others_keep_contacts(
    relay: Relay, hubspot: HubSpotReader
) -> None:
    relay.emulator.configure(refused_emails=["bounced@example.com"])
    emails = ["ann@example.com", "bounced@example.com", "carl@example.com", "dora@example.com"]
    for n, email in enumerate(emails):
        assert relay.shopify(samples.shopify_order(ORDER + n, email=email)) == 202
    relay.deliver()

    assert sorted(relay.emulator.records("contacts")) == sorted(
        set(emails) - {"bounced@example.com"}
    )
    assert len(relay.emulator.records("orders")) == 4  # the refused contact held back no order
    assert len(relay.emulator.records("line_items")) == 12
    view = relay.order_view("shopify", SHOP, str(ORDER + 1))
    [contact] = view["contacts"]
    assert (contact["key"], contact["state"]) == ("bounced@example.com", "dead")
    assert "INVALID_EMAIL" in contact["last_error"] or "invalid" in contact["last_error"].lower()
    [buyer_link] = [a for a in view["associations"] if a["kind"] == "order>contact"]
    assert buyer_link["state"] == "dead" and "contact is a dead letter" in buyer_link["last_error"]
    assert view["order_record"]["state"] == "delivered"
    assert {a["state"] for a in view["associations"] if a["kind"] == "line_item>order"} == {
        "delivered"
    }
    for n in (0, 2, 3):
        other = hubspot.record(
            "orders", f"shopify:{SHOP}:{ORDER + n}", "external_order_key", "hs_order_name"
        )
        assert len(hubspot.associated("orders", other["id"], "contacts")) == 1


def test_two_stores_with_the_same_order_id_make_two_orders(
    relay: Relay, hubspot: HubSpotReader
) -> None:
    assert relay.shopify(samples.shopify_order(ORDER), shop="one.myshopify.com") == 202
    assert relay.shopify(samples.shopify_order(ORDER), shop="two.myshopify.com") == 202
    relay.deliver()

    orders = relay.emulator.records("orders")
    assert sorted(orders) == [
        f"shopify:one.myshopify.com:{ORDER}",
        f"shopify:two.myshopify.com:{ORDER}",
    ]
    assert len({record["id"] for record in orders.values()}) == 2
    assert len(relay.emulator.records("line_items")) == 6
    assert list(relay.emulator.records("contacts")) == ["jane.doe@example.com"]  # one buyer
    contact_id = relay.emulator.records("contacts")["jane.doe@example.com"]["id"]
    for record in orders.values():
        assert len(hubspot.associated("orders", record["id"], "line_items")) == 3
        assert hubspot.associated("orders", record["id"], "contacts") == {contact_id}


def test_the_order_view_shows_each_records_hubspot_id_and_state(
    relay: Relay, hubspot: HubSpotReader
) -> None:
    relay.shopify(samples.shopify_order(ORDER))
    pending = relay.order_view("shopify", SHOP, str(ORDER))
    assert {
        r["state"]
        for r in [
            pending["order_record"],
            *pending["contacts"],
            *pending["line_items"],
            *pending["associations"],
        ]
    } == {"pending"}
    relay.deliver()

    view = relay.order_view("shopify", SHOP, str(ORDER))
    order = relay.emulator.records("orders")[KEY]
    contact = relay.emulator.records("contacts")["jane.doe@example.com"]
    lines = relay.emulator.records("line_items")
    assert (view["order_record"]["kind"], view["order_record"]["hubspot_id"]) == (
        "order",
        order["id"],
    )
    assert [c["hubspot_id"] for c in view["contacts"]] == [contact["id"]]
    assert {(li["key"], li["hubspot_id"]) for li in view["line_items"]} == {
        (k, r["id"]) for k, r in lines.items()
    }
    links = {(a["kind"], a["from_key"], a["to_key"]): a["hubspot_id"] for a in view["associations"]}
    assert links == {
        **{("line_item>order", k, KEY): f"{lines[k]['id']}>{order['id']}" for k in LINES},
        ("order>contact", KEY, "jane.doe@example.com"): f"{order['id']}>{contact['id']}",
    }


def test_hubspots_own_sdk_reads_back_the_order_the_relay_wrote_with_its_lines_and_buyer(
    relay: Relay,
) -> None:
    import hubspot

    assert relay.shopify(samples.shopify_order(ORDER)) == 202
    relay.deliver()
    client = hubspot.Client.create(access_token="sandbox-token", host=relay.emulator.url)
    order_id = relay.emulator.records("orders")[KEY]["id"]

    found = client.crm.objects.basic_api.get_by_id(
        "orders", order_id, properties=["hs_order_name", "hs_total_price"],
        associations=["line_items", "contacts"],
    )  # fmt: skip
    lines = client.crm.associations.v4.basic_api.get_page("orders", order_id, "line_items")

    assert (found.properties["hs_order_name"], found.properties["hs_total_price"]) == (
        "#1",
        "101.02",
    )
    line_ids = {r["id"] for r in relay.emulator.records("line_items").values()}
    assert {a.id for a in found.associations["line_items"].results} == line_ids
    assert {str(r.to_object_id) for r in lines.results} == line_ids
    assert all(t.type_id == 513 for r in lines.results for t in r.association_types)
    assert len(found.associations["contacts"].results) == 1
