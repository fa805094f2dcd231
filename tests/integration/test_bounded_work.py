"""Bounded work per request: numbers with huge exponents are refused before any
arithmetic (kept as a rejected webhook when signed, 422 from /v1/orders)."""

from __future__ import annotations

import time

from flask.testing import FlaskClient
from sqlalchemy import Engine

from service import samples
from tests.conftest import API_KEY, SHOPIFY_SECRET
from tests.integration.ingest_support import row_counts


def test_a_signed_body_of_100_lines_with_a_discount_of_1e_minus_999990_is_refused_at_once(
    client: FlaskClient, engine: Engine
) -> None:
    lines = [
        samples.shopify_line_item(7_000 + n, f"Line {n}", "1", "1.00", discount="1.23e-999990")
        for n in range(100)
    ]
    body, headers = samples.shopify_request(
        samples.shopify_order(line_items=lines), SHOPIFY_SECRET, shop="acme.myshopify.com"
    )
    started = time.monotonic()
    answer = client.post("/webhooks/shopify", data=body, headers=headers)
    elapsed = time.monotonic() - started

    assert answer.status_code == 200 and answer.json["status"] == "rejected"
    assert "too many decimal places" in str(answer.json["errors"])
    assert row_counts(engine)["line_item"] == 0
    assert elapsed < 2.0  # it took 30 s before; a generous bound, not a benchmark


def test_an_internal_order_with_such_a_price_is_a_422_naming_it(client: FlaskClient) -> None:
    order = {
        "source": "erp",
        "store": "eu-store",
        "order_id": "SO-1",
        "currency": "EUR",
        "updated_at": "2026-11-27T10:00:00Z",
        "line_items": [{"id": "1", "name": "A", "quantity": 1, "unit_price": "1e-999990"}],
    }
    answer = client.post("/v1/orders", json=order, headers={"Authorization": f"Bearer {API_KEY}"})
    assert answer.status_code == 422
    assert answer.json["errors"]["line_items"]["0"]["unit_price"]
