"""order numbers: what the shop calls each order, for the console to find it by

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:10:00

Finding an order by the number the shop shows (Shopify "#1001", a WooCommerce number)
matched the JSON of every order record: 121 ms on SQLite and 155 on PostgreSQL with
33,000 orders. The orders gain the number, indexed, filled in here for the orders stored
so far from their order records (orders kept as deals, or without an order record, get
theirs with their next version).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_NUMBER_OF = {
    "postgresql": "(r.properties::json ->> 'hs_order_name')",
    "sqlite": "json_extract(r.properties, '$.hs_order_name')",
}


def upgrade() -> None:
    op.add_column("orders", sa.Column("number", sa.String(length=64), nullable=True))
    # The SQL is this file's own text: no value reaches it.
    name = _NUMBER_OF[op.get_bind().dialect.name]
    op.execute(
        f"UPDATE orders SET number = (SELECT substr({name}, 1, 64) FROM records r"  # noqa: S608
        " WHERE r.kind = 'order' AND r.source = orders.source AND r.store = orders.store"
        " AND r.order_id = orders.order_id LIMIT 1)"
    )
    op.create_index("ix_orders_number", "orders", ["number"])


def downgrade() -> None:
    op.drop_index("ix_orders_number", table_name="orders")
    with op.batch_alter_table("orders") as batch:  # SQLite rebuilds the table for it
        batch.drop_column("number")
