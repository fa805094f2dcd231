"""activity by minute, and the console's indexes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 02:30:00

The console charts delivered and failed records per minute and the queue's depth over
the last hour; the records table keeps only each record's latest outcome, so the worker
counts them here as it marks them. The console also counts delivered records by kind
and finds orders by id and by store, newest first: four indexes (built at upgrade; on
PostgreSQL they hold writes to their table while they are built, seconds for a million
rows). Nothing existing changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activity",
        sa.Column("minute", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=True),
        sa.Column("dead", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("minute"),
    )
    delivered = sa.text("state = 'delivered'")
    op.create_index(
        "ix_records_delivered",
        "records",
        ["kind", "state"],
        sqlite_where=delivered,
        postgresql_where=delivered,
    )
    op.create_index("ix_orders_order_id", "orders", ["order_id"])
    op.create_index("ix_orders_store_received", "orders", ["store", "received_at"])
    op.create_index("ix_orders_received", "orders", ["received_at"])


def downgrade() -> None:
    for index, table in (
        ("ix_orders_received", "orders"),
        ("ix_orders_store_received", "orders"),
        ("ix_orders_order_id", "orders"),
        ("ix_records_delivered", "records"),
    ):
        op.drop_index(index, table_name=table)
    op.drop_table("activity")
