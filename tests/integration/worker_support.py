"""Helpers for worker tests: store line items, read rows, build a worker on the emulator."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from emulators.hubspot import Emulator
from service.config import Config
from service.domain import Order, RecordInput, RecordKind
from service.hubspot.factory import build_client
from service.store.ingest import record_order
from service.store.tables import records
from service.worker import Worker

BASE_TIME = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ID_PROPERTY = "external_line_item_id"


class Clock:
    """A worker's clock that moves only when a test moves it (starting at the real time,
    so rows stored with time.time() compare as they would)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def props(name: str, quantity: int = 1, price: str = "10.00", **extra: str) -> dict[str, str]:
    return {
        "name": name,
        "quantity": str(quantity),
        "price": price,
        "discount": "0.00",
        "hs_line_item_currency_code": "USD",
        **extra,
    }


def store_items(
    engine: Engine,
    items: dict[str, dict[str, str]],
    *,
    order_id: str = "1001",
    version_minutes: int = 0,
) -> None:
    """Store line items (by line id) of one order at a given source version."""
    order = Order(
        source="shopify",
        store="acme.myshopify.com",
        order_id=order_id,
        currency="USD",
        updated_at=BASE_TIME + timedelta(minutes=version_minutes),
    )
    inputs = [
        RecordInput(RecordKind.LINE_ITEM, key_of(line_id), p, position)
        for position, (line_id, p) in enumerate(items.items())
    ]
    record_order(engine, order, inputs, delivery_ids=[], now=time.time())


def key_of(line_id: str) -> str:
    return f"shopify:acme.myshopify.com:{line_id}"


def rows(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        found = conn.execute(select(records)).all()
    return {row.key: row for row in found}


def row(engine: Engine, line_id: str) -> Any:
    return rows(engine)[key_of(line_id)]


def worker_config(config: Config, emulator: Emulator, **changes: Any) -> Config:
    settings: dict[str, Any] = {
        "hubspot_base_url": emulator.url,
        "hubspot_access_token": "sandbox-token",
        "sandbox": False,
        "linger_seconds": 0.0,
        "request_timeout_seconds": 2.0,
        "batches_in_flight": 1,
    }
    settings.update(changes)
    return config.replace(**settings)


def make_worker(config: Config, engine: Engine, **kwargs: Any) -> Worker:
    kwargs.setdefault("jitter", lambda: 0.0)
    return Worker(config, engine, build_client(config, engine), **kwargs)


def emulated_properties(emulator: Emulator) -> dict[str, dict[str, str]]:
    """The emulator's records by idProperty value, properties only, system ones left out."""
    system = {"hs_object_id", "createdate", "hs_lastmodifieddate", ID_PROPERTY}
    return {
        key: {k: v for k, v in record["properties"].items() if k not in system}
        for key, record in emulator.records().items()
    }


def sent_keys(emulator: Emulator) -> list[list[str]]:
    """The ids of every upsert request the emulator received, request by request."""
    return [[i["id"] for i in body.get("inputs", [])] for body in _bodies(emulator)]


def _bodies(emulator: Emulator) -> list[dict[str, Any]]:
    out = []
    for entry in emulator.requests_log():
        body = entry.get("body", entry)
        out.append(json.loads(body) if isinstance(body, str) else body)
    return out
