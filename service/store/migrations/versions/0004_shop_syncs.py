"""shop syncs: reconciliation and backfill checkpoints, leases and last results

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 02:20:00

The shops do not retry the way the relay assumed (WooCommerce never; Shopify for 4 hours,
then it deletes the subscription), so the worker reads what changed from their APIs.
This table keeps, per store and job, how far it has read, the lease that lets one
worker at a time run a store's pass, and what the last pass saw. Nothing existing changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shop_syncs",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("store", sa.String(length=255), nullable=False),
        sa.Column("job", sa.String(length=16), nullable=False),
        sa.Column("checkpoint", sa.Float(), nullable=True),
        sa.Column("window_after", sa.Float(), nullable=True),
        sa.Column("window_before", sa.Float(), nullable=True),
        sa.Column("created_after", sa.Float(), nullable=True),
        sa.Column("created_before", sa.Float(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.Float(), nullable=True),
        sa.Column("started_at", sa.Float(), nullable=True),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("swept_at", sa.Float(), nullable=True),
        sa.Column("orders_seen", sa.Integer(), nullable=False),
        sa.Column("orders_changed", sa.Integer(), nullable=False),
        sa.Column("orders_rejected", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failed_at", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("source", "store", "job"),
    )


def downgrade() -> None:
    """Drop the checkpoints: the next pass starts from a day back."""
    op.drop_table("shop_syncs")
