"""The harness's own checks can fail: the emulator's timeline records when each upsert
arrived and was answered, and `overlapping_sends` finds a line item in two requests that
were in flight at once; the whole order's expectation reads back from the emulator equal
to what was written through HubSpot's API, and names what differs; `association_resends`
tells a pair sent again after a lost answer from one the relay had confirmed. Fast,
in-process; no scenario marker."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from emulators.hubspot import Emulator, EmulatorConfig
from tests.scenario.expectation import (
    ID_PROPERTY,
    ORDER_ID_PROPERTY,
    SHOP,
    Buyer,
    CrmState,
    Expectation,
    Line,
    OrderPipeline,
    OrderVersion,
)
from tests.scenario.timeline import (
    Resend,
    association_resends,
    busy_at,
    faults_by_kind,
    max_in_flight,
    overlapping_sends,
)

UPSERT = "/crm/v3/objects/line_items/batch/upsert"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(latency=0.3)) as emulator:
        yield emulator


def upsert(emulator: Emulator, *keys: str) -> requests.Response:
    inputs = [
        {"idProperty": "external_line_item_id", "id": key, "properties": {"quantity": "1"}}
        for key in keys
    ]
    return requests.post(
        emulator.url + UPSERT,
        json={"inputs": inputs},
        headers={"Authorization": "Bearer sandbox-token"},
        timeout=10,
    )


def entry(start: float, end: float | None, *ids: str) -> dict[str, Any]:
    return {"received_at": start, "finished_at": end, "status": 200, "ids": list(ids)}


def test_two_concurrent_upserts_sharing_a_key_show_as_an_overlap(emulator: Emulator) -> None:
    threads = [
        threading.Thread(target=upsert, args=(emulator, "a", "b")),
        threading.Thread(target=upsert, args=(emulator, "c", "a")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    timeline = requests.get(emulator.url + "/_emulator/timeline", timeout=5).json()

    assert len(timeline) == 2
    for item in timeline:
        assert item["status"] == 200
        assert item["finished_at"] - item["received_at"] >= 0.3  # the latency
    assert sorted(map(sorted, (item["ids"] for item in timeline))) == [["a", "b"], ["a", "c"]]
    assert [key for key, _, _ in overlapping_sends(timeline)] == ["a"]
    assert max_in_flight(timeline) == 2


def test_upserts_one_after_another_do_not_overlap(emulator: Emulator) -> None:
    upsert(emulator, "a")
    upsert(emulator, "a")
    emulator.script("drop")
    with pytest.raises(requests.ConnectionError):
        upsert(emulator, "a")

    timeline = emulator.timeline()

    assert [item["status"] for item in timeline] == [200, 200, 0]  # 0: dropped unanswered
    assert overlapping_sends(timeline) == []
    assert max_in_flight(timeline) == 1
    assert len(emulator.requests_log()) == 3  # the request log and the timeline align


def test_overlapping_sends_sees_a_long_request_covering_later_ones() -> None:
    timeline = [entry(0.0, 10.0, "k"), entry(1.0, 2.0, "k"), entry(5.0, 6.0, "k", "x")]

    assert overlapping_sends(timeline) == [("k", 0, 1), ("k", 0, 2)]


def test_a_request_still_in_flight_overlaps_everything_after_it() -> None:
    timeline = [entry(0.0, None, "k"), entry(100.0, 101.0, "k"), entry(0.5, 0.6, "other")]

    assert overlapping_sends(timeline) == [("k", 0, 1)]
    assert max_in_flight(timeline) == 2


# --- the whole order's expectation, against the emulator's own answers ---------------------

AUTH = {"Authorization": "Bearer sandbox-token"}
ORDER_ID = 5_900_000_000_042
ANN = Buyer("Ann.Lee@Example.com", "Ann", "Lee", "+16135550001")


def placed(updated_at: str = "2026-11-27T09:00:00-05:00", **changes: Any) -> OrderVersion:
    lines = (
        Line(ORDER_ID * 10 + 1, "Beanie", 2, "24.50", sku="MB"),
        Line(ORDER_ID * 10 + 2, "Socks", 1, "12.00"),
    )
    return OrderVersion(ORDER_ID, updated_at, lines, **{"buyer": ANN, **changes})


def post(emulator: Emulator, path: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = requests.post(emulator.url + path, json={"inputs": inputs}, headers=AUTH, timeout=10)
    assert response.status_code in (200, 201), response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def upsert_ids(
    emulator: Emulator, object_type: str, id_property: str, records: dict[str, dict[str, str]]
) -> dict[str, str]:
    inputs = [{"idProperty": id_property, "id": k, "properties": p} for k, p in records.items()]
    results = post(emulator, f"/crm/v3/objects/{object_type}/batch/upsert", inputs)
    return {r["properties"][id_property]: r["id"] for r in results}


def deliver(emulator: Emulator, state: CrmState) -> None:
    """Write `state` through HubSpot's API as a client would: objects, then associations."""
    ids = {
        "line_items": upsert_ids(emulator, "line_items", ID_PROPERTY, state.line_items),
        "orders": upsert_ids(emulator, "orders", ORDER_ID_PROPERTY, state.orders),
        "contacts": upsert_ids(emulator, "contacts", "email", state.contacts),
    }
    for link in state.associations:
        types = [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": t}
            for t in link.type_ids
        ]
        pair = {
            "from": {"id": ids[link.from_type][link.from_key]},
            "to": {"id": ids[link.to_type][link.to_key]},
        }
        post(
            emulator,
            f"/crm/v4/associations/{link.from_type}/{link.to_type}/batch/create",
            [{**pair, "types": types}],
        )


def snapshot(emulator: Emulator) -> CrmState:
    records = {t: emulator.records(t) for t in ("line_items", "orders", "contacts")}
    return CrmState.from_emulator(records, emulator.associations())


def pipeline_of(emulator: Emulator) -> OrderPipeline:
    answer = requests.get(emulator.url + "/crm/v3/pipelines/orders", headers=AUTH, timeout=10)
    return OrderPipeline.from_answer(answer.json())


def test_a_whole_order_written_through_the_api_reads_back_equal_to_its_expectation() -> None:
    expectation = Expectation()
    expectation.sent(placed())
    with Emulator(EmulatorConfig()) as emulator:
        expected = expectation.expected(pipeline_of(emulator))
        deliver(emulator, expected)

        assert snapshot(emulator) == expected
    assert expected.contacts == {
        "ann.lee@example.com": {
            "email": "ann.lee@example.com",
            "firstname": "Ann",
            "lastname": "Lee",
            "phone": "+16135550001",
        }
    }
    assert len(expected.associations) == 3
    assert expectation.record_counts() == {
        "contact": 1,
        "order": 1,
        "line_item": 2,
        "line_item>order": 2,
        "order>contact": 1,
    }


def test_an_order_left_at_an_older_stage_without_its_contact_link_shows_in_the_difference() -> None:
    first = placed(financial_status="pending")
    cancelled = placed(
        "2026-11-27T11:00:00-05:00",
        financial_status="refunded",
        cancelled_at="2026-11-27T11:00:00-05:00",
        refunds=(first.body["total_price"],),
    )
    expectation = Expectation()
    expectation.sent(cancelled)
    expectation.sent(first)  # older, arriving late: the cancelled version stays the newest
    with Emulator(EmulatorConfig()) as emulator:
        pipeline = pipeline_of(emulator)
        expected = expectation.expected(pipeline)
        stale = Expectation()
        stale.sent(first)
        held = stale.expected(pipeline)
        deliver(
            emulator,
            dataclasses.replace(
                held,
                associations=frozenset(a for a in held.associations if a.to_type != "contacts"),
            ),
        )

        difference = expected.difference(snapshot(emulator))

    order = expected.orders[f"shopify:{SHOP}:{ORDER_ID}"]
    assert order["hs_pipeline_stage"] == pipeline.stages["Cancelled"] != pipeline.stages["Open"]
    assert (
        order["hs_total_price"] == "0.00" and order["hs_refund_amount"] == first.body["total_price"]
    )
    assert "1 with other properties" in difference and "hs_pipeline_stage" in difference
    assert (
        f"missing orders shopify:{SHOP}:{ORDER_ID} -> contacts ann.lee@example.com [507]"
        in difference
    )
    assert "line items" not in difference  # the lines are the same in both versions


def test_a_guest_order_expects_no_contact_and_no_link_to_one() -> None:
    expectation = Expectation()
    expectation.sent(placed(buyer=None))
    expected = expectation.expected(OrderPipeline("p", {"Processed": "s"}))

    assert expected.contacts == {}
    assert {link.to_type for link in expected.associations} == {"orders"}
    assert "contact" not in expectation.record_counts()


# --- association resends -------------------------------------------------------------------


def link_entry(start: float, end: float, status: int, *pairs: str) -> dict[str, Any]:
    return {**entry(start, end, *pairs), "status": status, "kind": "associations:line_items/orders"}


def test_a_pair_created_again_while_its_worker_lived_is_a_resend_the_relay_knew_of() -> None:
    timeline = [link_entry(1.0, 1.1, 201, "1>9", "2>9"), link_entry(8.0, 8.1, 201, "2>9")]

    resends = association_resends(timeline, kills=[5.0], read_timeout=2.0)

    assert resends == [Resend("associations:line_items/orders", "2>9", 0, 1, None)]


def test_a_pair_created_again_after_its_worker_died_or_timed_out_is_excused() -> None:
    timeline = [
        link_entry(1.0, 1.1, 201, "1>9"),  # the worker killed right after the answer
        link_entry(2.0, 4.5, 201, "2>9"),  # answered after the worker's read timeout
        link_entry(9.0, 9.1, 201, "1>9", "2>9"),
    ]

    resends = association_resends(timeline, kills=[1.5], read_timeout=2.0)

    assert [(r.pair, r.lost is not None) for r in resends] == [("1>9", True), ("2>9", True)]


def test_a_pair_refused_before_it_was_created_is_no_resend() -> None:
    timeline = [
        link_entry(1.0, 1.1, 503, "1>9"),
        link_entry(1.2, 1.3, 429, "1>9"),
        link_entry(4.0, 4.1, 201, "1>9"),
    ]

    assert association_resends(timeline, kills=[], read_timeout=2.0) == []
    assert faults_by_kind(timeline) == {"associations:line_items/orders": {"429": 1, "503": 1}}


def test_a_kill_counts_as_mid_batch_only_near_a_request() -> None:
    timeline = [link_entry(1.0, 1.1, 201, "1>9"), link_entry(5.0, 5.2, 503, "2>9")]

    assert busy_at(timeline, [1.05, 2.0, 3.5, 5.1]) == 3
