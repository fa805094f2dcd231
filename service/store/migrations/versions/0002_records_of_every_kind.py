"""records of every kind: the line_items state table becomes `records`, keyed by kind

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 22:40:00

The whole order (order record, contact, line items, associations) shares one keyed state
table, so claiming, outcomes, dead letters, replay and metrics serve every kind through
one code path. Every existing line item row is carried over as it is (pending, delivered
or dead, with its attempts, lease and HubSpot id) under kind 'line_item'.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The columns both tables share, for the copies both ways.
SHARED = [
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


def _copy(source: str, target: str, *, kind: str, into_records: bool) -> sa.Insert:
    """INSERT INTO target SELECT ... FROM source, the line items only."""

    def table(name: str, with_kind: bool) -> sa.TableClause:
        names = ["kind", *SHARED] if with_kind else SHARED
        return sa.table(name, *(sa.column(column) for column in names))

    origin, destination = table(source, not into_records), table(target, into_records)
    if into_records:
        rows = sa.select(sa.literal(kind), *(origin.c[name] for name in SHARED))
        return destination.insert().from_select(["kind", *SHARED], rows)
    rows = sa.select(*(origin.c[name] for name in SHARED)).where(origin.c.kind == kind)
    return destination.insert().from_select(SHARED, rows)


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("key", sa.String(length=1000), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("store", sa.String(length=255), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("properties", sa.Text(), nullable=False),
        sa.Column("from_key", sa.String(length=400), nullable=True),
        sa.Column("to_key", sa.String(length=400), nullable=True),
        sa.Column("source_version", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("delivered_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("hubspot_id", sa.String(length=64), nullable=True),
        sa.Column("hubspot_new", sa.Boolean(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("pending_since", sa.Float(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.Float(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dead_at", sa.Float(), nullable=True),
        sa.Column("delivered_at", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", "kind"),
    )
    op.execute(_copy("line_items", "records", kind="line_item", into_records=True))
    op.drop_table("line_items")  # its indexes go with it
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(sa.Column("first_received_at", sa.Float(), nullable=True))
    op.create_index("ix_records_due", "records", ["state", "next_attempt_at", "kind"])
    op.create_index("ix_records_order", "records", ["source", "store", "order_id"])
    for kind, name in (("order>contact", "order_contact"), ("deal>contact", "deal_contact")):
        only = sa.text(f"kind = '{kind}'")
        op.create_index(
            f"ix_records_{name}", "records", ["to_key"], sqlite_where=only, postgresql_where=only
        )
    leased = sa.text("lease_owner IS NOT NULL")
    op.create_index(
        "ix_records_leased", "records", ["kind"], sqlite_where=leased, postgresql_where=leased
    )


def downgrade() -> None:
    """Back to line items alone: the other kinds of record are dropped."""
    op.create_table(
        "line_items",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("store", sa.String(length=255), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("properties", sa.Text(), nullable=False),
        sa.Column("source_version", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("delivered_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("hubspot_id", sa.String(length=64), nullable=True),
        sa.Column("hubspot_new", sa.Boolean(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("pending_since", sa.Float(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.Float(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dead_at", sa.Float(), nullable=True),
        sa.Column("delivered_at", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.execute(_copy("records", "line_items", kind="line_item", into_records=False))
    op.drop_table("records")
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_column("first_received_at")
    op.create_index("ix_line_items_due", "line_items", ["state", "next_attempt_at"])
    op.create_index("ix_line_items_order", "line_items", ["source", "store", "order_id"])
