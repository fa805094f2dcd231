"""Resolving stage ids by label from HubSpot's pipelines answer, and preparing an order
record for sending with them."""

from __future__ import annotations

from typing import Any

from service.config import DEFAULT_STAGES
from service.domain import OrderObject, OrderStatus, RecordKind
from service.hubspot.outcomes import Answer
from service.hubspot.portal import (
    PortalFacts,
    Stages,
    Unresolved,
    external_id_is_unique,
    resolve_stages,
)
from service.mapping.orders import STATUS

ORDER_LABELS = DEFAULT_STAGES[OrderObject.ORDERS]
DEAL_LABELS = DEFAULT_STAGES[OrderObject.DEALS]


def pipeline(pid: str, label: str, order: int, stages: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "id": pid,
        "label": label,
        "displayOrder": order,
        "stages": [
            {"id": sid, "label": slabel, "displayOrder": i}
            for i, (sid, slabel) in enumerate(stages)
        ],
    }


ORDER_STAGES = [
    ("s-open", "Open"),
    ("s-proc", "Processed"),
    ("s-ship", "Shipped"),
    ("s-del", "Delivered"),
    ("s-can", "Cancelled"),
]
ORDERS = Answer(
    200,
    {
        "results": [
            pipeline("p-b2b", "Wholesale", 1, [("w-1", "Open")]),
            pipeline("p-main", "Order Pipeline", 0, ORDER_STAGES),
        ]
    },
)


def test_the_default_order_pipeline_is_the_first_in_display_order_and_stages_match_by_label() -> (
    None
):
    stages = resolve_stages(ORDERS, RecordKind.ORDER, None, ORDER_LABELS)
    assert stages == Stages(
        "p-main",
        {
            OrderStatus.OPEN: "s-open",
            OrderStatus.PROCESSED: "s-proc",
            OrderStatus.SHIPPED: "s-ship",
            OrderStatus.DELIVERED: "s-del",
            OrderStatus.CANCELLED: "s-can",
        },
    )


def test_a_pipeline_and_a_stage_may_be_named_by_id_or_by_label_in_any_case() -> None:
    labels = {
        OrderStatus.OPEN: "w-1",
        **{s: " open " for s in OrderStatus if s is not OrderStatus.OPEN},
    }
    by_id = resolve_stages(ORDERS, RecordKind.ORDER, "p-b2b", labels)
    by_label = resolve_stages(ORDERS, RecordKind.ORDER, "wholesale", labels)
    assert by_id == by_label
    assert isinstance(by_id, Stages) and set(by_id.stage_ids.values()) == {"w-1"}


def test_a_missing_stage_is_named_with_its_status_and_the_stages_there_are() -> None:
    labels = {**ORDER_LABELS, OrderStatus.DELIVERED: "Received"}
    result = resolve_stages(ORDERS, RecordKind.ORDER, None, labels)
    assert isinstance(result, Unresolved)
    assert "delivered -> 'Received'" in result.describe()
    assert "'Shipped'" in result.describe()


def test_a_missing_pipeline_and_an_unreadable_answer_are_unresolved() -> None:
    assert isinstance(resolve_stages(ORDERS, RecordKind.ORDER, "Retail", ORDER_LABELS), Unresolved)
    refused = resolve_stages(
        Answer(403, {"category": "MISSING_SCOPES"}), RecordKind.ORDER, None, ORDER_LABELS
    )
    assert isinstance(refused, Unresolved)
    assert "403" in refused.describe()


def test_deals_prefer_hubspots_default_pipeline() -> None:
    deal_stages = [
        ("contractsent", "Contract Sent"),
        ("closedwon", "Closed Won"),
        ("closedlost", "Closed Lost"),
    ]
    answer = Answer(
        200,
        {
            "results": [
                pipeline("renewals", "Renewals", 0, deal_stages),
                pipeline("default", "Sales Pipeline", 3, deal_stages),
            ]
        },
    )
    stages = resolve_stages(answer, RecordKind.DEAL, None, DEAL_LABELS)
    assert isinstance(stages, Stages)
    assert stages.pipeline_id == "default"
    assert stages.stage_ids[OrderStatus.CANCELLED] == "closedlost"


def test_an_order_record_is_sent_with_its_pipeline_and_stage_in_place_of_the_status() -> None:
    facts = PortalFacts(RecordKind.ORDER, Stages("p-main", {OrderStatus.SHIPPED: "s-ship"}))
    stored = {"hs_order_name": "#1", STATUS: "shipped", "hs_external_order_id": "1"}
    assert facts.prepare("shopify:a:1", stored) == {
        "hs_order_name": "#1",
        "hs_pipeline": "p-main",
        "hs_pipeline_stage": "s-ship",
        "hs_external_order_id": "1",
    }


def test_a_deal_takes_pipeline_and_dealstage() -> None:
    facts = PortalFacts(RecordKind.DEAL, Stages("default", {OrderStatus.OPEN: "contractsent"}))
    sent = facts.prepare("k", {"dealname": "x", STATUS: "open"})
    assert sent == {"dealname": "x", "pipeline": "default", "dealstage": "contractsent"}


def test_a_unique_external_order_id_is_namespaced_by_source_and_store() -> None:
    facts = PortalFacts(RecordKind.ORDER, Stages("p", {}), external_id_unique=True)
    sent = facts.prepare("woocommerce:shop.example.com:727", {"hs_external_order_id": "727"})
    assert sent["hs_external_order_id"] == "woocommerce:shop.example.com:727"


def test_uniqueness_is_read_from_the_property_definition() -> None:
    assert external_id_is_unique(
        Answer(200, {"name": "hs_external_order_id", "hasUniqueValue": True})
    )
    assert not external_id_is_unique(Answer(200, {"hasUniqueValue": False}))
    assert not external_id_is_unique(Answer(404, {}))
