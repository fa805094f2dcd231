"""Scopes, faults per call kind, the shared rate window and what the emulator records of
each call, over real HTTP. Every answer is checked against HubSpot's OpenAPI files."""

from __future__ import annotations

import time

import pytest
import requests

from tests.integration.conftest import StartHub
from tests.integration.emulator_support import Hub, contact, line, order

PIPELINES = "/crm/v3/pipelines/orders"
ASSOCIATE = "/crm/v4/associations/line_items/orders/batch/associate/default"
NEW_PROPERTY = {"name": "x", "label": "X", "type": "string", "fieldType": "text"}
BODIES = {"/crm/v3/properties/orders": {**NEW_PROPERTY, "groupName": "orderinformation"}}


def associate_body(hub: Hub) -> dict[str, list[dict[str, dict[str, str]]]]:
    pair = {"from": {"id": hub.ids("line_items")["l1"]}, "to": {"id": hub.ids("orders")["o1"]}}
    return {"inputs": [pair]}


@pytest.fixture
def stocked(hub: Hub) -> Hub:
    hub.upsert("orders", [order("o1")])
    hub.upsert("line_items", [line("l1")])
    return hub


# --- scopes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scopes, method, path, allowed",
    [
        ({"crm.objects.orders.read"}, "GET", "/crm/v3/objects/orders", True),
        ({"crm.objects.orders.read"}, "POST", "/crm/v3/objects/orders/batch/upsert", False),
        ({"e-commerce"}, "POST", "/crm/v3/objects/orders/batch/upsert", False),
        ({"e-commerce"}, "POST", "/crm/v3/objects/line_items/batch/upsert", True),
        ({"crm.objects.line_items.write"}, "GET", "/crm/v3/objects/line_items", False),
        ({"crm.objects.contacts.write"}, "POST", "/crm/v3/objects/contacts/batch/upsert", True),
        ({"crm.objects.deals.write"}, "POST", "/crm/v3/objects/0-3/batch/upsert", True),
        ({"crm.pipelines.orders.read"}, "GET", PIPELINES, True),
        ({"e-commerce"}, "GET", PIPELINES, True),
        ({"crm.objects.orders.write"}, "GET", PIPELINES, False),
        ({"crm.objects.deals.read"}, "GET", "/crm/v3/pipelines/deals", True),
        ({"crm.objects.deals.write"}, "GET", "/crm/v3/pipelines/deals", False),
        ({"crm.objects.line_items.read"}, "POST", ASSOCIATE, True),
        ({"crm.objects.orders.write"}, "POST", ASSOCIATE, True),
        ({"crm.objects.contacts.write"}, "POST", ASSOCIATE, False),
        ({"crm.objects.orders.read"}, "POST", "/crm/v3/properties/orders", False),
    ],
)
def test_each_endpoint_needs_one_of_its_scopes(
    start_hub: StartHub, scopes: set[str], method: str, path: str, allowed: bool
) -> None:
    hub = start_hub(scopes=scopes)
    body = BODIES.get(path, {"inputs": []}) if method == "POST" else None

    response = hub.call(method, path, body)

    if allowed:
        assert response.status_code != 403
    else:
        assert response.status_code == 403
        assert response.json()["category"] == "MISSING_SCOPES"


def test_missing_scopes_still_means_no_scope_at_all(start_hub: StartHub) -> None:
    hub = start_hub(missing_scopes=True)

    for path in ("/crm/v3/objects/orders", PIPELINES, "/crm/v3/properties/line_items"):
        assert hub.call("GET", path).status_code == 403


def test_a_refused_scope_spends_no_scripted_fault(stocked: Hub) -> None:
    stocked.emulator.script("500", calls="read")
    stocked.emulator.configure(scopes=["crm.objects.line_items.read"])

    assert stocked.call("GET", "/crm/v3/objects/orders").status_code == 403
    assert stocked.call("GET", "/crm/v3/objects/line_items").status_code == 500


def test_the_oauth_token_lists_the_granted_scopes(start_hub: StartHub) -> None:
    scopes = {"crm.objects.orders.write", "crm.objects.orders.read"}
    hub = start_hub(oauth_client_id="c", oauth_client_secret="s", oauth_refresh_token="r0")
    hub.emulator.configure(scopes=sorted(scopes))
    form = {"grant_type": "refresh_token", "client_id": "c", "client_secret": "s"}

    token = requests.post(
        hub.emulator.url + "/oauth/v1/token", data={**form, "refresh_token": "r0"}, timeout=5
    ).json()

    assert set(token["scopes"]) == scopes


# --- faults per call kind ----------------------------------------------------------------


def test_a_fault_scripted_for_order_upserts_passes_other_calls_by(stocked: Hub) -> None:
    stocked.emulator.script("503", calls="upsert:orders")

    assert stocked.upsert("line_items", [line("l2")]).status_code == 200
    assert stocked.call("GET", "/crm/v3/objects/orders").status_code == 200
    assert stocked.upsert("orders", [order("o2")]).status_code == 503
    assert set(stocked.emulator.records("orders")) == {"o1"}


def test_faults_without_calls_hit_any_write_call_but_no_read(stocked: Hub) -> None:
    stocked.emulator.script("500")

    assert stocked.call("GET", PIPELINES).status_code == 200
    assert stocked.call("POST", ASSOCIATE, associate_body(stocked)).status_code == 500
    assert stocked.emulator.associations() == []


def test_faults_can_be_scripted_over_http_for_a_prefix(stocked: Hub) -> None:
    control = stocked.emulator.url + "/_emulator/script"
    answer = requests.post(control, json={"faults": ["423"], "calls": "pipelines"}, timeout=5)

    assert answer.status_code == 200
    assert stocked.upsert("orders", [order("o2")]).status_code == 200
    assert stocked.call("GET", PIPELINES).status_code == 423


def test_fault_rates_apply_to_the_kinds_in_fault_calls(start_hub: StartHub) -> None:
    hub = start_hub(fault_rates={"500": 1.0}, fault_calls={"read:orders"})

    assert hub.upsert("orders", [order("o1")]).status_code == 200
    assert hub.call("GET", "/crm/v3/objects/orders").status_code == 500
    assert hub.call("GET", "/crm/v3/objects/line_items").status_code == 200


def test_association_calls_can_be_faulted_by_prefix(stocked: Hub) -> None:
    stocked.emulator.script("502", calls="associations-read")
    body = {"inputs": [{"id": stocked.ids("orders")["o1"]}]}

    read = stocked.call("POST", "/crm/v4/associations/orders/line_items/batch/read", body)
    write = stocked.call("POST", ASSOCIATE, associate_body(stocked))

    assert (read.status_code, write.status_code) == (502, 200)


# --- rate limits -------------------------------------------------------------------------


def test_every_call_kind_shares_the_rate_window(start_hub: StartHub) -> None:
    hub = start_hub(rate_limit=3)

    hub.call("GET", PIPELINES)
    hub.call("GET", "/crm/v3/properties/contacts")
    hub.upsert("contacts", [contact("a@example.com")])
    refused = hub.call("GET", "/crm/v3/objects/orders")

    assert refused.status_code == 429
    assert refused.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert refused.headers["X-HubSpot-RateLimit-Max"] == "3"


@pytest.mark.parametrize("fault, daily", [("429", False), ("daily", True)])
def test_a_scripted_429_carries_consistent_rate_limit_headers(
    start_hub: StartHub, fault: str, daily: bool
) -> None:
    hub = start_hub(rate_limit=50, daily_limit=1000)
    ok = hub.upsert("orders", [order("o1")]).headers
    hub.emulator.script(fault)

    refused = hub.upsert("orders", [order("o2")]).headers

    for name in ("X-HubSpot-RateLimit-Max", "X-HubSpot-RateLimit-Interval-Milliseconds"):
        assert refused[name] == ok[name]
    assert refused["X-HubSpot-RateLimit-Remaining"] == "0"
    assert ok["X-HubSpot-RateLimit-Remaining"] == "49"
    assert (refused["X-HubSpot-RateLimit-Daily-Remaining"] == "0") is daily


# --- what the emulator records -----------------------------------------------------------


def test_stats_count_requests_per_kind_and_inputs_of_every_upsert(stocked: Hub) -> None:
    stocked.call("GET", PIPELINES)
    stocked.call("POST", ASSOCIATE, associate_body(stocked))

    stats = stocked.emulator.stats()

    assert stats["by_kind"] == {
        "upsert:orders": 1,
        "upsert:line_items": 1,
        "pipelines:orders": 1,
        "associations:line_items/orders": 1,
    }
    assert stats["upsert_requests"] == 2 and stats["inputs"] == 2
    assert stats["inputs_by_kind"] == {"upsert:orders": 1, "upsert:line_items": 1}


def test_the_log_and_timeline_cover_every_write_call(stocked: Hub) -> None:
    stocked.call("GET", "/crm/v3/objects/orders")  # a read: in neither
    stocked.call("POST", ASSOCIATE, associate_body(stocked))
    l1, o1 = stocked.ids("line_items")["l1"], stocked.ids("orders")["o1"]

    # An answer is marked finished just after its bytes are written: the client may read
    # the timeline a moment before that.
    deadline = time.monotonic() + 5
    while not all(e["finished_at"] for e in stocked.emulator.timeline()):
        assert time.monotonic() < deadline, "an answer was never marked finished"
        time.sleep(0.01)
    log, timeline = stocked.emulator.requests_log(), stocked.emulator.timeline()

    assert [e["kind"] for e in log] == ["upsert:orders", "upsert:line_items",
                                         "associations:line_items/orders"]  # fmt: skip
    assert log[2]["path"] == ASSOCIATE and log[2]["inputs"][0]["to"] == {"id": o1}
    assert [e["ids"] for e in timeline] == [["o1"], ["l1"], [f"{l1}>{o1}"]]
    assert all(e["status"] == 200 and e["finished_at"] for e in timeline)
