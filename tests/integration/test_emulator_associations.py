"""Associations v4 in the emulator over real HTTP: create, default, archive, reads from both
sides, and the batch rules. Every answer is checked against HubSpot's OpenAPI files."""

from __future__ import annotations

import pytest
import requests

from tests.integration.conftest import StartHub
from tests.integration.emulator_support import Hub, contact, line, order

V4 = "/crm/v4/associations"


@pytest.fixture
def shop(hub: Hub) -> Hub:
    """An order o1 with line items l1, l2 and a contact; nothing associated yet."""
    hub.upsert("orders", [order("o1"), order("o2")])
    hub.upsert("line_items", [line("l1"), line("l2")])
    hub.upsert("contacts", [contact("ada@example.com")])
    return hub


def ids(hub: Hub) -> dict[str, str]:
    found = {**hub.ids("orders"), **hub.ids("line_items")}
    return found | {"ada": hub.ids("contacts")["ada@example.com"]}


def associated(hub: Hub, object_type: str, object_id: str, to_type: str) -> dict[str, list[int]]:
    path = f"/crm/v4/objects/{object_type}/{object_id}/associations/{to_type}"
    results = hub.call("GET", path).json()["results"]
    return {r["toObjectId"]: [t["typeId"] for t in r["associationTypes"]] for r in results}


def test_batch_create_answers_201_and_is_readable_from_both_sides(shop: Hub) -> None:
    r = ids(shop)

    response = shop.associate("line_items", "orders", [(r["l1"], r["o1"]), (r["l2"], r["o1"])], 514)

    assert response.status_code == 201
    results = response.json()["results"]
    assert {(x["fromObjectTypeId"], x["toObjectTypeId"]) for x in results} == {("0-8", "0-123")}
    assert associated(shop, "orders", r["o1"], "line_items") == {r["l1"]: [513], r["l2"]: [513]}
    assert associated(shop, "line_items", r["l1"], "0-123") == {r["o1"]: [514]}
    assert shop.emulator.associations() == [
        {"fromType": "line_items", "fromId": r[k], "toType": "orders", "toId": r["o1"],
         "typeIds": [514]}
        for k in ("l1", "l2")
    ]  # fmt: skip


def test_recreating_a_pair_from_the_other_side_is_stored_once(shop: Hub) -> None:
    r = ids(shop)
    shop.associate("line_items", "orders", [(r["l1"], r["o1"])], 514)

    again = shop.associate("orders", "line_items", [(r["o1"], r["l1"])], 513)
    same = shop.associate("line_items", "orders", [(r["l1"], r["o1"])], 514)

    assert again.status_code == 201 and same.status_code == 201
    assert len(shop.emulator.associations()) == 1


def test_create_can_answer_200_as_hubspot_has(start_hub: StartHub) -> None:
    hub = start_hub(association_create_status=200)
    hub.upsert("orders", [order("o1")])
    hub.upsert("contacts", [contact("ada@example.com")])

    pair = (hub.ids("orders")["o1"], hub.ids("contacts")["ada@example.com"])
    response = hub.associate("orders", "contacts", [pair], 507, checked_as=201)

    assert response.status_code == 200  # with the body the spec gives its 201


def test_default_association_uses_hubspots_type_for_the_pair(shop: Hub) -> None:
    r = ids(shop)
    inputs = [{"from": {"id": r["o1"]}, "to": {"id": r["ada"]}}]

    response = shop.call(
        "POST", f"{V4}/orders/contacts/batch/associate/default", {"inputs": inputs}
    )

    assert response.status_code == 200
    [result] = response.json()["results"]
    assert result["associationSpec"] == {
        "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 507
    }  # fmt: skip
    assert associated(shop, "contacts", r["ada"], "orders") == {r["o1"]: [508]}


def test_archive_removes_the_pair_from_both_sides(shop: Hub) -> None:
    r = ids(shop)
    shop.associate("line_items", "orders", [(r["l1"], r["o1"]), (r["l2"], r["o1"])], 514)
    body = {"inputs": [{"from": {"id": r["o1"]}, "to": [{"id": r["l1"]}]}]}

    response = shop.call("POST", f"{V4}/orders/line_items/batch/archive", body)

    assert response.status_code == 204 and response.content == b""
    assert associated(shop, "orders", r["o1"], "line_items") == {r["l2"]: [513]}
    assert associated(shop, "line_items", r["l1"], "orders") == {}


def test_batch_read_reads_either_side_and_reports_ids_without_any(shop: Hub) -> None:
    r = ids(shop)
    shop.associate("line_items", "orders", [(r["l1"], r["o1"]), (r["l2"], r["o1"])], 514)

    orders_side = shop.call(
        "POST", f"{V4}/orders/line_items/batch/read", {"inputs": [{"id": r["o1"]}]}
    )
    lines_side = shop.call(
        "POST", f"{V4}/line_items/orders/batch/read", {"inputs": [{"id": r["l1"]}, {"id": r["o2"]}]}
    )

    assert orders_side.status_code == 200
    [result] = orders_side.json()["results"]
    assert sorted(t["toObjectId"] for t in result["to"]) == sorted([r["l1"], r["l2"]])
    assert lines_side.status_code == 207
    assert lines_side.json()["results"][0]["to"][0]["associationTypes"][0]["typeId"] == 514
    assert lines_side.json()["errors"][0]["context"] == {"fromObjectId": [r["o2"]]}


def test_a_pair_with_a_missing_record_is_a_207_error_and_the_others_are_created(
    shop: Hub,
) -> None:
    r = ids(shop)

    response = shop.associate(
        "line_items", "orders", [(r["l1"], r["o1"]), ("999", r["o1"]), (r["l2"], "888")], 514
    )

    assert response.status_code == 207
    body = response.json()
    assert len(body["results"]) == 1 and body["numErrors"] == 2
    contexts = [e["context"] for e in body["errors"]]
    assert contexts == [
        {"fromObjectId": ["999"], "toObjectId": [r["o1"]]},
        {"fromObjectId": [r["l2"]], "toObjectId": ["888"]},
    ]
    assert len(shop.emulator.associations()) == 1


def test_a_pair_repeated_in_one_batch_fails_the_whole_batch(shop: Hub) -> None:
    r = ids(shop)

    response = shop.associate("line_items", "orders", [(r["l1"], r["o1"])] * 2, 514)

    assert response.status_code == 400
    assert shop.emulator.associations() == []


def test_more_than_2000_inputs_fail_the_whole_batch(shop: Hub) -> None:
    r = ids(shop)
    pairs = [(str(n), r["o1"]) for n in range(2001)]

    assert shop.associate("line_items", "orders", pairs, 514).status_code == 400


@pytest.mark.parametrize("type_id", [513, 507, 999])
def test_a_type_id_hubspot_does_not_define_for_the_pair_is_refused(shop: Hub, type_id: int) -> None:
    r = ids(shop)

    response = shop.associate("line_items", "orders", [(r["l1"], r["o1"])], type_id)

    assert response.status_code == 400 and shop.emulator.associations() == []


def test_a_pair_without_a_default_type_cannot_be_associated_by_default(shop: Hub) -> None:
    r = ids(shop)
    body = {"inputs": [{"from": {"id": r["l1"]}, "to": {"id": r["ada"]}}]}

    response = shop.call("POST", f"{V4}/line_items/contacts/batch/associate/default", body)

    assert response.status_code == 400


def test_object_reads_list_associations_by_type(shop: Hub) -> None:
    r = ids(shop)
    shop.associate("line_items", "orders", [(r["l1"], r["o1"])], 514)
    shop.associate("orders", "contacts", [(r["o1"], r["ada"])], 507)

    path = f"/crm/v3/objects/orders/{r['o1']}?associations=line_items,contacts,deals"
    associations = shop.call("GET", path).json()["associations"]

    assert associations == {
        "line_items": {"results": [{"id": r["l1"], "type": "order_to_line_item"}]},
        "contacts": {"results": [{"id": r["ada"], "type": "order_to_contact"}]},
    }


def test_a_single_pair_can_be_put_by_default_and_deleted(shop: Hub) -> None:
    r = ids(shop)
    path = f"/crm/v4/objects/orders/{r['o1']}/associations/default/contacts/{r['ada']}"

    put = shop.call("PUT", path)
    deleted = shop.call(
        "DELETE", f"/crm/v4/objects/contacts/{r['ada']}/associations/orders/{r['o1']}"
    )

    assert put.status_code == 200
    assert put.json()["results"][0]["associationSpec"]["associationTypeId"] == 507
    assert deleted.status_code == 204 and shop.emulator.associations() == []


def test_association_pages_go_forward(shop: Hub) -> None:
    shop.upsert("line_items", [line(f"x{n}") for n in range(5)])
    o1 = shop.ids("orders")["o1"]
    lines = list(shop.ids("line_items").values())
    shop.associate("line_items", "orders", [(line_id, o1) for line_id in lines], 514)
    seen: list[str] = []
    after = "0"

    for _ in range(5):
        path = f"/crm/v4/objects/orders/{o1}/associations/line_items?limit=3&after={after}"
        page = shop.call("GET", path).json()
        seen += [x["toObjectId"] for x in page["results"]]
        if "paging" not in page:
            break
        after = page["paging"]["next"]["after"]

    assert sorted(seen) == sorted(lines) and len(seen) == 7


def test_associations_over_the_control_endpoint_and_reset(shop: Hub) -> None:
    r = ids(shop)
    shop.associate("line_items", "orders", [(r["l1"], r["o1"])], 514)
    control = shop.emulator.url + "/_emulator"

    listed = requests.get(f"{control}/associations", timeout=5).json()
    before = shop.emulator.associations()
    requests.post(f"{control}/reset", timeout=5).raise_for_status()

    assert listed == before != []
    assert shop.emulator.associations() == []
    assert shop.emulator.records("orders") == {} == shop.emulator.records("contacts")
