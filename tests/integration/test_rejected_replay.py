"""Rejected webhooks for an operator, over HTTP on both stores: list them (never a body),
show one with its body, replay them through today's mapping once it is fixed (delivered
to the emulator), and purge them."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

import service.intake
from service.app import create_app
from service.config import Config
from service.domain import Order, Source
from service.replay import replay
from service.store.rejected import RejectedFilter
from tests.integration.ingest_support import (
    assert_problem,
    assert_rejected,
    dump_line_items,
    kept_rejected,
    row_counts,
)
from tests.integration.rejected_support import (
    AUTH,
    SHOPIFY,
    SHOPS,
    WOOCOMMERCE,
    Shop,
    delivered,
    emulator,
    rejected_now,
    relay,
)
from tests.integration.whole_order_support import Relay

__all__ = ["emulator", "relay"]  # the fixtures, imported for the tests to take
NONE_TAKEN = {"accepted": 0, "duplicate": 0, "stale": 0, "rejected": 0}


def replayed(client: FlaskClient, selection: dict[str, Any]) -> dict[str, int]:
    answer = client.post("/v1/rejected/replay", json=selection, headers=AUTH)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    counts: dict[str, int] = answer.json  # type: ignore[assignment]
    return counts


def with_quantity_text(shop: Shop, order_id: int = 4242, **options: Any) -> dict[str, Any]:
    """An order whose first line's quantity is the text "2", which the schema refuses."""
    order = shop.order(order_id, **options)
    order["line_items"][0]["quantity"] = "2"
    return order


def fix_quantities(monkeypatch: pytest.MonkeyPatch, shop: Shop) -> None:
    """Stand in for a fixed mapping: the shop's loader now reads a quantity sent as text."""
    source = Source(shop.source)
    real: Callable[[object, str], Order] = service.intake._LOADERS[source]

    def lenient(payload: object, store: str) -> Order:
        assert isinstance(payload, dict)
        for line in payload.get("line_items", []):
            if isinstance(line.get("quantity"), str):
                line["quantity"] = int(line["quantity"])
        return real(payload, store)

    monkeypatch.setitem(service.intake._LOADERS, source, lenient)


@pytest.mark.parametrize("shop", SHOPS)
def test_a_replay_once_the_mapping_is_fixed_stores_and_delivers_the_order(
    relay: Relay, engine: Engine, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    rejected_id = assert_rejected(
        shop.post(relay.client, with_quantity_text(shop)), "invalid_order"
    )["rejected_id"]

    # Before the fix the replay is rejected again: kept, with one attempt more.
    assert replayed(relay.client, {"ids": [rejected_id]}) == NONE_TAKEN | {
        "replayed": 1,
        "rejected": 1,
    }
    (entry,) = rejected_now(relay.client)
    assert (entry["id"], entry["attempts"], entry["reason"]) == (rejected_id, 2, "invalid_order")
    assert entry["last_replayed_at"] is not None
    assert row_counts(relay.engine)["orders"] == 0

    fix_quantities(monkeypatch, shop)
    assert replayed(relay.client, {"ids": [rejected_id]}) == NONE_TAKEN | {
        "replayed": 1,
        "accepted": 1,
    }

    assert rejected_now(relay.client) == []
    # Its original delivery ids became receipts, so a repeat would be a duplicate.
    assert row_counts(engine)["receipts"] == (2 if shop is SHOPIFY else 0)
    relay.deliver()
    held = delivered(relay.emulator)
    assert len(held["orders"]) == 1 and held["contacts"]
    first_line = f"{shop.source}:{shop.store}:{4242 * 10 + 1}"
    assert held["line_items"][first_line]["properties"]["quantity"] == "2"
    assert replayed(relay.client, {"ids": [rejected_id]}) == NONE_TAKEN | {"replayed": 0}


@pytest.mark.parametrize("shop", SHOPS)
def test_a_future_version_is_taken_once_the_setting_or_the_clock_has_moved(
    relay: Relay, engine: Engine, shop: Shop
) -> None:
    in_two_days = datetime.now(UTC) + timedelta(days=2)
    for order_id in (1, 2):
        assert_rejected(
            shop.post(relay.client, shop.order(order_id, at=in_two_days)), "future_version"
        )
    assert replayed(relay.client, {"all": True})["rejected"] == 2  # a day of skew still

    # The setting moved: three days of skew now.
    widened = relay.config.replace(max_future_skew_seconds=3 * 86400.0)
    client = create_app(widened, engine).test_client()
    first = rejected_now(client)[0]["id"]
    assert replayed(client, {"ids": [first]}) == NONE_TAKEN | {"replayed": 1, "accepted": 1}
    relay.deliver()
    assert [key.rsplit(":", 1)[1] for key in delivered(relay.emulator)["orders"]] == ["1"]

    # The clock moved: two days and a minute later the version is in the past.
    later = time.time() + 2 * 86400 + 60
    counts = replay(engine, relay.config, RejectedFilter(reason="future_version"), now=later)
    assert counts == NONE_TAKEN | {"accepted": 1}
    assert row_counts(engine)["orders"] == 2 and kept_rejected(engine) == []


@pytest.mark.parametrize("shop", SHOPS)
def test_an_entry_rejected_again_keeps_its_new_reason_and_errors(
    client: FlaskClient, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two faults: the quantity hides the far-future version until the mapping reads it.
    order = with_quantity_text(shop, at=datetime.now(UTC) + timedelta(days=3650))
    assert_rejected(shop.post(client, order), "invalid_order")
    fix_quantities(monkeypatch, shop)

    assert replayed(client, {"all": True}) == NONE_TAKEN | {"replayed": 1, "rejected": 1}

    (entry,) = rejected_now(client)
    assert (entry["reason"], list(entry["errors"]), entry["attempts"]) == (
        "future_version",
        [shop.version_field],
        2,
    )


def test_a_replay_that_is_stale_or_a_duplicate_leaves_the_list_and_changes_nothing(
    client: FlaskClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = SHOPIFY
    at = datetime(2026, 11, 27, 10, tzinfo=UTC)
    assert_rejected(shop.post(client, with_quantity_text(shop, at=at)), "invalid_order")
    event = {"X-Shopify-Event-Id": "event-77"}
    assert shop.post(client, shop.order(at=at + timedelta(hours=1)), event).status_code == 202
    # A later version of the same event (another subscription's delivery), kept as rejected.
    newer = with_quantity_text(shop, at=at + timedelta(hours=2))
    assert_rejected(shop.post(client, newer, event), "invalid_order")
    stored = dump_line_items(engine)
    fix_quantities(monkeypatch, shop)

    counts = replayed(client, {"filter": {"source": "shopify", "reason": "invalid_order"}})

    assert counts == NONE_TAKEN | {"replayed": 2, "stale": 1, "duplicate": 1}
    assert rejected_now(client) == []
    assert dump_line_items(engine) == stored


def _keep_five(client: FlaskClient) -> list[bytes]:
    """Two unfit Shopify bodies, two WooCommerce ones and one without a store header."""
    bodies = [b"not json", b"\xff\xfe not utf-8", b"[1]", b'{"id": 1}', b"{}"]
    for shop, body in zip((SHOPIFY, SHOPIFY, WOOCOMMERCE, WOOCOMMERCE), bodies, strict=False):
        shop.post(client, body)
    assert_rejected(SHOPIFY.post(client, bodies[4], {SHOPIFY.store_header: None}), "invalid_store")
    return bodies


def test_the_list_pages_filters_and_never_shows_a_body(client: FlaskClient) -> None:
    bodies = _keep_five(client)
    seen, cursor, pages = [], None, 0
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/v1/rejected?{query}", headers=AUTH).json
        assert page is not None
        seen += page["items"]
        pages, cursor = pages + 1, page["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert [item["id"] for item in seen] == sorted(item["id"] for item in seen)
    assert [item["body_bytes"] for item in seen] == [len(body) for body in bodies]
    for item in seen:
        assert not {"body", "headers", "body_encoding"} & item.keys()
    assert {item["reason"] for item in seen} == {"invalid_json", "invalid_order", "invalid_store"}

    def ids(query: str) -> list[int]:
        answer = client.get(f"/v1/rejected?{query}", headers=AUTH)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return [item["id"] for item in answer.json["items"]]  # type: ignore[index]

    assert ids("source=woocommerce") == [seen[2]["id"], seen[3]["id"]]
    assert ids("reason=invalid_store") == [seen[4]["id"]] and seen[4]["store"] is None
    assert ids("store=acme.myshopify.com") == [seen[0]["id"], seen[1]["id"]]
    for bad in ("reason=broken", "limit=0", "cursor=0", "source=etsy"):
        assert client.get(f"/v1/rejected?{bad}", headers=AUTH).status_code == 422
    assert client.get("/v1/rejected").status_code == 401


def test_one_entry_shows_its_headers_and_its_body_as_text_or_base64(client: FlaskClient) -> None:
    _keep_five(client)
    first, second = rejected_now(client)[:2]

    text = client.get(f"/v1/rejected/{first['id']}", headers=AUTH).json
    raw = client.get(f"/v1/rejected/{second['id']}", headers=AUTH).json

    assert text is not None and raw is not None
    assert (text["body_encoding"], text["body"]) == ("utf-8", "not json")
    assert (raw["body_encoding"], base64.b64decode(raw["body"])) == (
        "base64",
        b"\xff\xfe not utf-8",
    )
    assert text["headers"]["X-Shopify-Shop-Domain"] == SHOPIFY.store
    assert "X-Shopify-Hmac-Sha256" not in text["headers"]  # only what the relay reads
    assert {k: v for k, v in text.items() if k not in ("headers", "body", "body_encoding")} == first
    for missing in (9999, 2**70):
        assert_problem(client.get(f"/v1/rejected/{missing}", headers=AUTH), 404)
    assert client.get(f"/v1/rejected/{first['id']}").status_code == 401


@pytest.mark.parametrize("action", ["replay", "purge"])
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": [1], "all": True},
        {"all": False},
        {"ids": []},
        {"ids": ["1"]},
        {"ids": [0]},
        {"filter": {"kind": "order"}},
        {"filter": {"reason": "bad"}},
        [],
    ],
)
def test_replay_and_purge_need_exactly_one_valid_selection(
    client: FlaskClient, action: str, body: object
) -> None:
    answer = client.post(f"/v1/rejected/{action}", json=body, headers=AUTH)
    assert_problem(answer, 422)
    assert client.post(f"/v1/rejected/{action}", json={"all": True}).status_code == 401


def test_purge_by_ids_by_filter_and_all(client: FlaskClient, engine: Engine) -> None:
    _keep_five(client)
    ids = [item["id"] for item in rejected_now(client)]

    def purged(selection: dict[str, Any]) -> int:
        answer = client.post("/v1/rejected/purge", json=selection, headers=AUTH)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return int(answer.json["purged"])  # type: ignore[index]

    assert purged({"ids": ids[:1]}) == 1
    assert purged({"filter": {"source": "woocommerce"}}) == 2
    assert [item["id"] for item in rejected_now(client)] == [ids[1], ids[4]]
    assert purged({"all": True}) == 2
    assert kept_rejected(engine) == []
    assert replayed(client, {"all": True}) == NONE_TAKEN | {"replayed": 0}


def test_the_openapi_document_shows_the_rejected_answer_and_no_422_for_webhooks(
    client: FlaskClient, config: Config
) -> None:
    document = client.get("/openapi.json").json
    assert document is not None
    for path in ("/webhooks/shopify", "/webhooks/woocommerce"):
        responses = document["paths"][path]["post"]["responses"]
        assert set(responses) == {"200", "202", "401", "413", "503"}
        refs = responses["200"]["content"]["application/json"]["schema"]["oneOf"]
        assert {"$ref": "#/components/schemas/RejectedAnswer"} in refs
    reasons = document["components"]["schemas"]["RejectedAnswer"]["properties"]["reason"]
    assert reasons["enum"] == ["invalid_store", "invalid_json", "invalid_order", "future_version"]
    assert {"/v1/rejected", "/v1/rejected/{rejected_id}", "/v1/rejected/replay"} <= set(
        document["paths"]
    )
