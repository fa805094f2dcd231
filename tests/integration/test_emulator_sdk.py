"""HubSpot's official Python SDK (hubspot-api-client) reads back what plain HTTP wrote to
the emulator: its models must deserialize every answer. The SDK has no orders API, so
orders go through its generic objects API by name."""

from __future__ import annotations

import hubspot
from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest
from hubspot.crm.associations.v4 import PublicFetchAssociationsBatchRequest as Fetch
from hubspot.crm.objects import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

from tests.integration.emulator_support import TOKEN, Hub, contact, line, order


def written(hub: Hub) -> dict[str, str]:
    """An order, three line items and a contact, associated: ids by key."""
    hub.upsert("orders", [order("o1", hs_total_price="30.00")])
    hub.upsert("line_items", [line(f"l{n}") for n in range(1, 4)])
    hub.upsert("contacts", [contact("ada@example.com", firstname="Ada")])
    ids = {
        **hub.ids("orders"),
        **hub.ids("line_items"),
        "ada": hub.ids("contacts")["ada@example.com"],
    }
    lines = [(ids[f"l{n}"], ids["o1"]) for n in range(1, 4)]
    assert hub.associate("line_items", "orders", lines, 514).status_code == 201
    assert hub.associate("orders", "contacts", [(ids["o1"], ids["ada"])], 507).status_code == 201
    return ids


def test_the_sdk_reads_back_an_order_its_line_items_and_associations(hub: Hub) -> None:
    ids = written(hub)
    client = hubspot.Client.create(access_token=TOKEN, host=hub.emulator.url)
    objects = client.crm.objects

    found = objects.basic_api.get_by_id(
        "orders", ids["o1"], properties=["hs_order_name", "hs_tax"],
        associations=["line_items", "contacts"],
    )  # fmt: skip
    lines = objects.batch_api.read(
        "line_items",
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=ids[f"l{n}"]) for n in range(1, 4)],
            properties=["name", "price"],
            properties_with_history=[],
        ),
    )
    pages = client.crm.associations.v4.basic_api.get_page("orders", ids["o1"], "line_items")
    batch = client.crm.associations.v4.batch_api.get_page(
        "line_items",
        "orders",
        BatchInputPublicFetchAssociationsBatchRequest(inputs=[Fetch(id=ids["l1"])]),
    )

    assert found.id == ids["o1"]
    assert found.properties["hs_order_name"] == "Order o1" and found.properties["hs_tax"] is None
    assert {a.id for a in found.associations["line_items"].results} == {
        ids[f"l{n}"] for n in range(1, 4)
    }
    assert [a.id for a in found.associations["contacts"].results] == [ids["ada"]]
    assert sorted(r.properties["name"] for r in lines.results) == ["Item l1", "Item l2", "Item l3"]
    assert {p.to_object_id: [t.type_id for t in p.association_types] for p in pages.results} == {
        ids[f"l{n}"]: [513] for n in range(1, 4)
    }
    [result] = batch.results
    assert result._from.id == ids["l1"]
    assert [(t.to_object_id, t.association_types[0].type_id) for t in result.to] == [
        (ids["o1"], 514)
    ]
