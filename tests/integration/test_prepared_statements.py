"""The ingest's prepared statements fail as SQLAlchemy's own do: wrapped, values hidden,
and a lost connection thrown away (shown on PostgreSQL, where a server drops one)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest
import sqlalchemy as sa

from service.domain import LineItem, Order
from service.errors import StoreUnavailable
from service.mapping import MappingSettings, to_records
from service.store import ingest
from service.store.engine import make_engine
from service.store.tables import records
from service.store.version_rule import OrderWrite
from tests.conftest import POSTGRES_ADMIN_URL


def _order(store: str, order_id: str) -> Order:
    line = LineItem(
        id="1",
        name="Secret Widget",
        quantity=1,
        unit_price=Decimal("5.00"),
        unit_discount=Decimal("0"),
        sku=None,
    )
    return Order(
        source="shopify",
        store=store,
        order_id=order_id,
        currency="USD",
        updated_at=datetime(2026, 11, 30, tzinfo=UTC),
        line_items=(line,),
    )


def _record(engine: sa.Engine, order: Order) -> ingest.IngestResult:
    return ingest.record_order(
        engine,
        order,
        to_records(order, MappingSettings()),
        delivery_ids=[f"webhook:{order.order_id}"],
        now=time.time(),
    )


@pytest.mark.postgres
def test_a_connection_killed_mid_write_is_discarded_and_the_next_write_succeeds(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(postgres_database)
    store = f"lost-{uuid.uuid4().hex[:8]}.myshopify.com"
    upsert = ingest._upsert_records

    def kill_my_backend_then_write(conn: sa.Connection, write: OrderWrite, new: bool) -> None:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        upsert(conn, write, new=new)

    monkeypatch.setattr(ingest, "_upsert_records", kill_my_backend_then_write)
    with pytest.raises(StoreUnavailable) as raised:
        _record(engine, _order(store, "1"))
    reason = str(raised.value)
    assert "terminat" in reason  # the server's reason, not the failed rollback after it
    assert "Secret Widget" not in reason
    cause = raised.value.__cause__
    assert isinstance(cause, sa.exc.DBAPIError) and cause.connection_invalidated

    monkeypatch.undo()
    assert _record(engine, _order(store, "2")).line_items == 1  # a fresh connection
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(records.c.order_id).where(records.c.store == store)
        ).scalars()
        assert set(stored) == {"2"}  # its line item, order record and their association
    engine.dispose()
