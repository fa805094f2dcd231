"""Upgrading a store made before the whole order: every line item row is carried over as it
was (pending, delivered, dead), and delivery goes on from there."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from emulators.hubspot import Emulator, EmulatorConfig
from service.config import Config
from service.store import migrate
from service.store.engine import make_engine
from service.store.tables import records, rejected_webhooks, shop_syncs
from tests.conftest import POSTGRES_ADMIN_URL
from tests.integration.worker_support import make_worker, worker_config

NOW = 1_796_000_000.0
BEFORE = sa.table(
    "line_items",
    *(
        sa.column(name)
        for name in [
            "key",
            "source",
            "store",
            "order_id",
            "position",
            "properties",
            "source_version",
            "version",
            "delivered_version",
            "state",
            "hubspot_id",
            "hubspot_new",
            "attempts",
            "next_attempt_at",
            "pending_since",
            "lease_owner",
            "lease_expires_at",
            "last_error",
            "dead_at",
            "delivered_at",
            "updated_at",
        ]
    ),
)


def old_row(line: str, state: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "key": f"shopify:acme.myshopify.com:{line}",
        "source": "shopify",
        "store": "acme.myshopify.com",
        "order_id": "1001",
        "position": int(line),
        "properties": json.dumps(
            {
                "discount": "0.00",
                "hs_line_item_currency_code": "USD",
                "name": f"Line {line}",
                "price": "10.00",
                "quantity": "1",
            },
            sort_keys=True,
            separators=(",", ":"),
        ),
        "source_version": 1_795_000_000_000_000,
        "version": 2,
        "delivered_version": 1,
        "state": state,
        "hubspot_id": None,
        "hubspot_new": None,
        "attempts": 0,
        "next_attempt_at": NOW,
        "pending_since": NOW,
        "lease_owner": None,
        "lease_expires_at": None,
        "last_error": None,
        "dead_at": None,
        "delivered_at": None,
        "updated_at": NOW,
    }
    return row | overrides


OLD_ROWS = [
    old_row("1", "pending", hubspot_id="37000000001", attempts=3, last_error="503"),
    old_row("2", "delivered", delivered_version=2, hubspot_id="37000000002", hubspot_new=True),
    old_row("3", "dead", attempts=1, last_error="VALIDATION_ERROR bad price", dead_at=NOW),
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store of its own (the migration test moves its schema up and down)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    request.getfixturevalue("postgres_database")  # fails under CI, skips elsewhere, if absent
    name = f"relay_migration_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    yield f"{base}/{name}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_upgrade_keeps_pending_delivered_and_dead_line_items_and_delivery_goes_on(
    fresh_url: str, config: Config
) -> None:
    engine = make_engine(fresh_url)
    migrate.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(BEFORE.insert(), OLD_ROWS)

    migrate.upgrade(engine)

    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as conn:
        carried = [
            dict(r._mapping) for r in conn.execute(sa.select(records).order_by(records.c.key))
        ]
    assert [row.pop("kind") for row in carried] == ["line_item"] * 3
    assert [(row.pop("from_key"), row.pop("to_key")) for row in carried] == [(None, None)] * 3
    assert carried == OLD_ROWS
    with Emulator(EmulatorConfig(seed=1)) as emulator:
        worker = make_worker(
            worker_config(config.replace(database_url=fresh_url), emulator), engine
        )
        assert worker.run_once() == 1  # the pending one; delivered and dead stay as they were
        states = {row["key"][-1]: row["state"] for row in _rows(engine)}
        assert states == {"1": "delivered", "2": "delivered", "3": "dead"}
        assert [r["properties"]["name"] for r in emulator.records().values()] == ["Line 1"]
    engine.dispose()


def test_a_downgrade_returns_the_line_items_and_drops_the_other_kinds(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    migrate.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(BEFORE.insert(), OLD_ROWS)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            records.insert(),
            [{**OLD_ROWS[0], "kind": "order", "key": "shopify:acme.myshopify.com:1001"}],
        )

    migrate.downgrade(engine, "0001")

    with engine.connect() as conn:
        back = [dict(r._mapping) for r in conn.execute(sa.select(BEFORE).order_by(BEFORE.c.key))]
    assert back == OLD_ROWS
    engine.dispose()


def _rows(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(records))]


def test_a_store_of_real_size_is_carried_over_whole(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    migrate.upgrade(engine, "0001")
    rows = [old_row(str(n), "delivered", position=n) for n in range(20_000)]
    rows = [{**row, "key": f"shopify:acme.myshopify.com:{n}"} for n, row in enumerate(rows)]
    with engine.begin() as conn:
        conn.execute(BEFORE.insert(), rows)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count()).where(records.c.kind == "line_item")
        ).scalar_one()
    assert count == 20_000
    engine.dispose()


def test_0003_adds_the_rejected_webhooks_and_its_downgrade_drops_only_them(
    fresh_url: str,
) -> None:
    engine = make_engine(fresh_url)
    migrate.upgrade(engine, "0002")
    with engine.begin() as conn:
        conn.execute(records.insert(), [{**OLD_ROWS[1], "kind": "line_item"}])

    migrate.upgrade(engine, "0003")

    assert migrate.current_revision(engine) == "0003"
    assert "rejected_webhooks" in sa.inspect(engine).get_table_names()
    with engine.begin() as conn:
        conn.execute(
            rejected_webhooks.insert(),
            [
                {
                    "source": "shopify",
                    "topic": "orders/create",
                    "headers": "{}",
                    "received_at": NOW,
                    "reason": "invalid_json",
                    "errors": "{}",
                    "body": b"\x00\xff raw",
                    "attempts": 1,
                }
            ],
        )
        assert conn.execute(sa.select(rejected_webhooks.c.body)).scalar_one() == b"\x00\xff raw"
    migrate.downgrade(engine, "0002")
    assert "rejected_webhooks" not in sa.inspect(engine).get_table_names()
    assert [row["key"] for row in _rows(engine)] == [OLD_ROWS[1]["key"]]
    engine.dispose()


def test_0004_adds_the_shop_syncs_and_its_downgrade_drops_only_them(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    migrate.upgrade(engine, "0003")
    with engine.begin() as conn:
        conn.execute(records.insert(), [{**OLD_ROWS[1], "kind": "line_item"}])

    migrate.upgrade(engine, "0004")

    assert migrate.current_revision(engine) == "0004"
    with engine.begin() as conn:
        conn.execute(
            shop_syncs.insert(),
            [
                {
                    "source": "shopify",
                    "store": "acme.myshopify.com",
                    "job": "reconcile",
                    "checkpoint": NOW,
                    "orders_seen": 3,
                    "orders_changed": 1,
                    "orders_rejected": 0,
                    "updated_at": NOW,
                }
            ],
        )
        assert conn.execute(sa.select(shop_syncs.c.checkpoint)).scalar_one() == NOW
    migrate.downgrade(engine, "0003")
    assert "shop_syncs" not in sa.inspect(engine).get_table_names()
    assert "rejected_webhooks" in sa.inspect(engine).get_table_names()
    assert [row["key"] for row in _rows(engine)] == [OLD_ROWS[1]["key"]]
    engine.dispose()


def test_0005_adds_the_activity_by_minute_and_its_downgrade_drops_only_it(
    fresh_url: str,
) -> None:
    engine = make_engine(fresh_url)
    migrate.upgrade(engine, "0004")
    migrate.upgrade(engine, "0005")
    assert "activity" in sa.inspect(engine).get_table_names()
    migrate.downgrade(engine, "0004")
    tables = set(sa.inspect(engine).get_table_names())
    assert "activity" not in tables and "shop_syncs" in tables
    engine.dispose()


def test_0006_fills_in_the_numbers_of_the_orders_stored_and_its_downgrade_drops_them(
    fresh_url: str,
) -> None:
    engine = make_engine(fresh_url)
    migrate.upgrade(engine, "0005")
    order = {"source": "shopify", "store": "a.myshopify.com", "order_id": "7", "currency": "USD"}
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO orders (source, store, order_id, currency, source_version,"
                " received_at) VALUES (:source, :store, :order_id, :currency, 1, 0)"
            ),
            [order, {**order, "order_id": "8"}],
        )
        conn.execute(
            records.insert(),
            [
                {
                    **OLD_ROWS[1],
                    "kind": "order",
                    "key": "shopify:a.myshopify.com:7",
                    "source": "shopify",
                    "store": "a.myshopify.com",
                    "order_id": "7",
                    "properties": '{"hs_order_name":"#1007","hs_currency_code":"USD"}',
                }
            ],
        )
    migrate.upgrade(engine, "0006")
    with engine.connect() as conn:
        numbers = conn.execute(sa.text("SELECT order_id, number FROM orders ORDER BY order_id"))
        assert [tuple(row) for row in numbers] == [("7", "#1007"), ("8", None)]
    migrate.downgrade(engine, "0005")
    assert "number" not in {c["name"] for c in sa.inspect(engine).get_columns("orders")}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM orders")).scalar_one() == 2
    engine.dispose()
