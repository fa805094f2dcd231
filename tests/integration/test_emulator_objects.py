"""The emulator's orders, deals and contacts over real HTTP: upsert rules per type, pipelines
and stage checks, and the read endpoints. Every answer is checked against HubSpot's
OpenAPI files (`Hub.call`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.integration.conftest import StartHub
from tests.integration.emulator_support import Hub, contact, keyed, line, order

ORDER_PROPS = "hs_order_name,hs_total_price,hs_tax"


def problems_of(failure: dict[str, Any]) -> list[dict[str, Any]]:
    parsed: list[dict[str, Any]] = json.loads(
        failure["message"].removeprefix("Property values were not valid: ")
    )
    return parsed


def stage_id(hub: Hub, object_type: str, label: str) -> tuple[str, str]:
    """(pipeline id, stage id) of a stage of the first pipeline, resolved by label."""
    [pipeline, *_] = hub.call("GET", f"/crm/v3/pipelines/{object_type}").json()["results"]
    stage = next(s for s in pipeline["stages"] if s["label"] == label)
    return pipeline["id"], stage["id"]


# --- orders and deals --------------------------------------------------------------------


def test_orders_upsert_by_the_default_order_key_then_update(hub: Hub) -> None:
    created = hub.upsert("orders", [order("o1", hs_total_price="12.50"), order("o2")])
    updated = hub.upsert("0-123", [keyed("o1", hs_tax="1.00")])

    assert created.status_code == 200 and updated.status_code == 200
    records = hub.emulator.records("orders")
    assert set(records) == {"o1", "o2"}
    assert records["o1"]["properties"]["hs_tax"] == "1.00"
    assert records["o1"]["properties"]["hs_order_name"] == "Order o1"
    assert "hs_createdate" in records["o1"]["properties"]
    assert updated.json()["results"][0]["new"] is False


def test_an_order_created_without_its_name_is_a_per_input_error(hub: Hub) -> None:
    response = hub.upsert("orders", [order("good"), keyed("nameless", hs_total_price="5")])

    assert response.status_code == 207
    [failure] = response.json()["errors"]
    assert failure["context"]["ids"] == ["nameless"]
    [problem] = problems_of(failure)
    assert (problem["name"], problem["error"]) == ("hs_order_name", "REQUIRED_PROPERTY")
    assert set(hub.emulator.records("orders")) == {"good"}


def test_an_existing_order_may_be_updated_without_its_name(hub: Hub) -> None:
    hub.upsert("orders", [order("o1")])

    assert hub.upsert("orders", [keyed("o1", hs_tax="2")]).status_code == 200


def test_a_deal_needs_name_stage_and_pipeline_on_create(hub: Hub) -> None:
    untraced = [keyed("d1", trace=False, amount="10")]

    response = hub.upsert("deals", untraced)

    assert response.status_code == 400
    assert "context" not in response.json()  # no trace ids: the whole batch, no input named
    names = {e["in"] for e in response.json()["errors"]}
    assert names == {"dealname", "dealstage", "pipeline"}
    assert hub.emulator.records("deals") == {}


def test_a_deal_in_the_sales_pipeline_is_created(hub: Hub) -> None:
    deal = keyed("d1", dealname="Order 1", pipeline="default", dealstage="closedwon")

    response = hub.upsert("deals", [{**deal, "properties": {**deal["properties"], "amount": "5"}}])

    assert response.status_code == 200
    assert hub.emulator.records("deals")["d1"]["properties"]["dealstage"] == "closedwon"


def test_order_stages_are_found_by_label_and_others_are_invalid_options(hub: Hub) -> None:
    pipeline, shipped = stage_id(hub, "orders", "Shipped")

    good = order("o1", hs_pipeline=pipeline, hs_pipeline_stage=shipped)
    default_pipeline = order("o2", hs_pipeline_stage=shipped)
    bad_stage = order("o3", hs_pipeline=pipeline, hs_pipeline_stage="shipped")
    bad_pipeline = order("o4", hs_pipeline="Order Pipeline", hs_pipeline_stage=shipped)
    response = hub.upsert("orders", [good, default_pipeline, bad_stage, bad_pipeline])

    assert response.status_code == 207
    errors = {e["context"]["ids"][0]: problems_of(e)[0] for e in response.json()["errors"]}
    assert errors["o3"]["name"] == "hs_pipeline_stage"
    assert errors["o4"]["name"] == "hs_pipeline"
    assert {p["error"] for p in errors.values()} == {"INVALID_OPTION"}
    assert set(hub.emulator.records("orders")) == {"o1", "o2"}


def test_a_deal_stage_of_another_pipeline_is_refused(hub: Hub) -> None:
    deal = keyed("d1", dealname="D", pipeline="default", dealstage="Closed Won")

    response = hub.upsert("deals", [deal])

    assert response.status_code == 207
    [problem] = problems_of(response.json()["errors"][0])
    assert problem["name"] == "dealstage" and problem["error"] == "INVALID_OPTION"


@pytest.mark.parametrize("value", ["2024-03-05T10:20:30Z", "2024-03-05T10:20:30+00:00"])
def test_datetimes_accept_iso_8601(hub: Hub, value: str) -> None:
    hub.upsert("orders", [order("o1", hs_external_created_date=value)])

    stored = hub.emulator.records("orders")["o1"]["properties"]["hs_external_created_date"]
    assert stored == "2024-03-05T10:20:30.000Z"


def test_datetimes_accept_epoch_milliseconds_and_refuse_other_text(hub: Hub) -> None:
    epoch = order("o1", hs_external_created_date="1709634030000")
    bad = order("o2", hs_external_created_date="5 March 2024")

    response = hub.upsert("orders", [epoch, bad])

    assert response.status_code == 207
    assert problems_of(response.json()["errors"][0])[0]["error"] == "INVALID_DATE"
    stored = hub.emulator.records("orders")["o1"]["properties"]["hs_external_created_date"]
    assert stored == "2024-03-05T10:20:30.000Z"


def test_hs_external_order_id_keys_upserts_only_once_made_unique(start_hub: StartHub) -> None:
    hub = start_hub()
    by_order_id = [keyed("1001", "hs_external_order_id", hs_order_name="#1001")]
    refused = hub.upsert("orders", by_order_id)

    unique = {"orders": ["external_order_key", "hs_external_order_id"]}
    changed = hub.http.post(
        hub.emulator.url + "/_emulator/config", json={"unique_properties": unique}, timeout=5
    )
    accepted = hub.upsert("orders", by_order_id)

    assert refused.status_code == 400
    assert refused.json()["message"].endswith("non-unique 0-123 property hs_external_order_id")
    assert changed.json()["unique_properties"]["line_items"] == ["external_line_item_id"]
    assert accepted.status_code == 200 and set(hub.emulator.records("orders")) == {"1001"}


def test_properties_of_each_type_list_their_defaults(hub: Hub) -> None:
    names = {
        t: {p["name"]: p for p in hub.call("GET", f"/crm/v3/properties/{t}").json()["results"]}
        for t in ("orders", "deals", "contacts")
    }

    assert {"hs_order_name", "hs_billing_address_email", "hs_shipping_address_country"} <= set(
        names["orders"]
    )
    assert names["orders"]["hs_external_order_id"]["hasUniqueValue"] is False
    assert names["orders"]["external_order_key"]["hasUniqueValue"] is True
    assert names["orders"]["hs_external_created_date"]["type"] == "datetime"
    assert names["orders"]["hs_createdate"]["modificationMetadata"]["readOnlyValue"] is True
    assert names["deals"]["amount"]["type"] == "number"
    assert {"email", "firstname", "lastname", "phone"} <= set(names["contacts"])


# --- contacts ----------------------------------------------------------------------------


def test_contacts_are_keyed_by_email_trimmed_and_lower_cased(hub: Hub) -> None:
    first = hub.upsert("contacts", [contact("  Ada@Example.COM ", firstname="Ada")])
    again = hub.upsert("contacts", [contact("ada@example.com", lastname="Lovelace")])

    assert first.status_code == 200 and again.status_code == 200
    [record] = hub.emulator.records("contacts").values()
    assert set(hub.emulator.records("contacts")) == {"ada@example.com"}
    assert record["properties"]["email"] == "ada@example.com"
    assert record["properties"]["lastname"] == "Lovelace"
    read = hub.call("GET", "/crm/v3/objects/contacts/ADA@example.com?idProperty=email")
    assert read.json()["id"] == record["id"]


def test_an_invalid_email_fails_the_whole_email_keyed_batch(hub: Hub) -> None:
    inputs = [contact("good@example.com"), contact("not-an-email")]  # both traced

    response = hub.upsert("contacts", inputs)

    assert response.status_code == 400
    body = response.json()
    assert "context" not in body
    assert problems_of(body)[0]["error"] == "INVALID_EMAIL"
    assert hub.emulator.records("contacts") == {}


def test_email_keyed_batches_never_succeed_in_part(hub: Hub) -> None:
    response = hub.upsert("contacts", [contact("a@example.com"), contact("b@x.io", colour="red")])

    assert response.status_code == 400 and hub.emulator.records("contacts") == {}


def test_contacts_keyed_by_a_unique_property_may_succeed_in_part(start_hub: StartHub) -> None:
    hub = start_hub(unique_properties={"contacts": ["shop_customer_id"]})
    good = keyed("c1", "shop_customer_id", email="ok@example.com")
    bad = keyed("c2", "shop_customer_id", email="broken")

    response = hub.upsert("contacts", [good, bad])

    assert response.status_code == 207
    assert set(hub.emulator.records("contacts")) == {"ok@example.com"}


# --- reads -------------------------------------------------------------------------------


def test_get_by_id_returns_requested_properties_with_null_for_unset(hub: Hub) -> None:
    hub.upsert("orders", [order("o1", hs_total_price="9.00")])
    record_id = hub.ids("orders")["o1"]

    response = hub.call("GET", f"/crm/v3/objects/orders/{record_id}?properties={ORDER_PROPS}")

    assert response.status_code == 200
    properties = response.json()["properties"]
    assert properties["hs_total_price"] == "9.00" and properties["hs_tax"] is None
    assert properties["hs_object_id"] == record_id and "hs_createdate" in properties
    assert "hs_source_store" not in properties


def test_get_without_properties_returns_the_default_set(hub: Hub) -> None:
    hub.upsert("contacts", [contact("x@example.com", firstname="X", phone="1")])
    record_id = hub.ids("contacts")["x@example.com"]

    properties = hub.call("GET", f"/crm/v3/objects/0-1/{record_id}").json()["properties"]

    assert set(properties) == {
        "email", "firstname", "lastname", "createdate", "lastmodifieddate", "hs_object_id"
    }  # fmt: skip


def test_get_by_a_unique_value_and_unknown_ids(hub: Hub) -> None:
    hub.upsert("line_items", [line("l1")])

    found = hub.call("GET", "/crm/objects/2026-03/line_items/l1?idProperty=external_line_item_id")
    missing = hub.call("GET", "/crm/v3/objects/line_items/1")
    non_unique = hub.call("GET", "/crm/v3/objects/line_items/Item%20l1?idProperty=name")

    assert found.status_code == 200 and found.json()["id"] == hub.ids("line_items")["l1"]
    assert missing.status_code == 404 and missing.json()["category"] == "OBJECT_NOT_FOUND"
    assert non_unique.status_code == 400


def test_list_pages_forward_through_every_record(hub: Hub) -> None:
    hub.upsert("orders", [order(f"o{n}") for n in range(5)])
    seen: list[str] = []
    path = "/crm/v3/objects/orders?limit=2&properties=hs_order_name"

    for _ in range(5):
        page = hub.call("GET", path).json()
        seen += [r["properties"]["hs_order_name"] for r in page["results"]]
        if "paging" not in page:
            break
        path = f"/crm/v3/objects/orders?limit=2&after={page['paging']['next']['after']}"

    assert sorted(seen) == [f"Order o{n}" for n in range(5)]


def test_batch_read_answers_207_for_missing_ids(hub: Hub) -> None:
    hub.upsert("orders", [order("o1"), order("o2")])
    body = {
        "inputs": [{"id": "o1"}, {"id": "nope"}, {"id": "o2"}],
        "idProperty": "external_order_key",
        "properties": ["hs_order_name"],
        "propertiesWithHistory": [],
    }

    response = hub.call("POST", "/crm/v3/objects/orders/batch/read", body)
    complete = hub.call(
        "POST", "/crm/v3/objects/orders/batch/read", {**body, "inputs": body["inputs"][::2]}
    )

    assert response.status_code == 207
    assert {r["properties"]["hs_order_name"] for r in response.json()["results"]} == {
        "Order o1", "Order o2"
    }  # fmt: skip
    [error] = response.json()["errors"]
    assert error["category"] == "OBJECT_NOT_FOUND" and error["context"]["ids"] == ["nope"]
    assert complete.status_code == 200


def test_records_of_a_type_over_the_control_endpoint(hub: Hub) -> None:
    hub.upsert("orders", [order("o1")])

    records = requests.get(hub.emulator.url + "/_emulator/records?type=orders", timeout=5)
    unknown = requests.get(hub.emulator.url + "/_emulator/records?type=tickets", timeout=5)

    assert set(records.json()) == {"o1"}
    assert unknown.status_code == 400


# --- pipelines ---------------------------------------------------------------------------


def test_the_order_pipeline_has_its_five_stages_with_open_and_closed_states(hub: Hub) -> None:
    [pipeline] = hub.call("GET", "/crm/v3/pipelines/orders").json()["results"]
    stages = hub.call("GET", f"/crm/v3/pipelines/0-123/{pipeline['id']}/stages").json()

    assert pipeline["label"] == "Order Pipeline"
    states = {s["label"]: s["metadata"]["state"] for s in stages["results"]}
    assert states == {
        "Open": "OPEN", "Processed": "OPEN", "Shipped": "OPEN",
        "Delivered": "CLOSED", "Cancelled": "CLOSED",
    }  # fmt: skip
    assert hub.call("GET", f"/crm/v3/pipelines/orders/{pipeline['id']}").json() == pipeline
    assert hub.call("GET", "/crm/v3/pipelines/orders/unknown").status_code == 404


def test_order_pipeline_ids_are_random_per_seed(start_hub: StartHub) -> None:
    def ids(seed: int) -> list[str]:
        [pipeline] = start_hub(seed=seed).emulator.pipelines("orders")
        return [pipeline["id"], *(s["id"] for s in pipeline["stages"])]

    assert ids(1) == ids(1) != ids(2)


def test_the_sales_pipeline_has_hubspots_deal_stages(hub: Hub) -> None:
    [pipeline] = hub.call("GET", "/crm/v3/pipelines/deals").json()["results"]

    assert (pipeline["id"], pipeline["label"]) == ("default", "Sales Pipeline")
    stages = {s["id"]: s for s in pipeline["stages"]}
    assert next(iter(stages)) == "appointmentscheduled"
    assert stages["closedwon"]["label"] == "Closed Won"
    assert stages["closedwon"]["metadata"] == {"isClosed": "true", "probability": "1.0"}
    assert stages["closedlost"]["metadata"]["probability"] == "0.0"
    assert len(stages) == 7


def test_pipelines_can_be_replaced_so_a_removed_stage_is_refused(hub: Hub) -> None:
    pipeline, shipped = stage_id(hub, "orders", "Shipped")
    relabelled = {"id": pipeline, "label": "Orders", "stages": [{"label": "Sent"}]}

    answer = hub.http.post(
        hub.emulator.url + "/_emulator/pipelines",
        json={"objectType": "orders", "pipelines": [relabelled]},
        timeout=5,
    )
    response = hub.upsert("orders", [order("o1", hs_pipeline=pipeline, hs_pipeline_stage=shipped)])

    assert answer.status_code == 200
    assert [s["label"] for s in answer.json()["results"][0]["stages"]] == ["Sent"]
    assert response.status_code == 207
    hub.emulator.reset()
    assert stage_id(hub, "orders", "Shipped") == (pipeline, shipped)  # reset restores them
