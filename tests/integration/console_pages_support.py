"""Store states the console's pages show: a dead letter (made or buried), a rejected
webhook kept through the receiver."""

from __future__ import annotations

import json
import time

from flask.testing import FlaskClient
from sqlalchemy import Engine, update

from service import samples
from service.store.engine import insert_for
from service.store.tables import records
from tests.conftest import SHOPIFY_SECRET

REFUSED = "VALIDATION_ERROR: Property values were not valid: price must not be negative"


def bury(
    engine: Engine, key: str, *, kind: str = "line_item", error: str = REFUSED, order_id: str = "1"
) -> None:
    """Make the record `key` a dead letter with `error`; a line item of its own when the
    store holds no such record."""
    now = time.time()
    source, store, _line = key.split(":", 2)
    with engine.begin() as conn:
        dead = {"state": "dead", "last_error": error, "dead_at": now, "attempts": 1}
        changed = conn.execute(
            update(records).where(records.c.key == key, records.c.kind == kind).values(**dead)
        ).rowcount
        if changed:
            return
        row = {
            "key": key,
            "kind": kind,
            "source": source,
            "store": store,
            "order_id": order_id,
            "position": 0,
            "properties": json.dumps({"name": "Mug", "price": "-1"}),
            "source_version": 1,
            "version": 1,
            "delivered_version": 0,
            "next_attempt_at": now,
            "updated_at": now,
            **dead,
        }
        conn.execute(insert_for(conn, records).values(row))


def keep_rejected(client: FlaskClient, shop: str = "acme.myshopify.com") -> int:
    """A signed Shopify order whose quantity is not a number: kept as rejected; its id."""
    order = samples.shopify_order()
    order["line_items"][0]["quantity"] = "lots"
    body, headers = samples.shopify_request(order, SHOPIFY_SECRET, shop=shop)
    answer = client.post("/webhooks/shopify", data=body, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return int(answer.json["rejected_id"])  # type: ignore[index]
