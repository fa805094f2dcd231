"""rejected webhooks: signed bodies that do not fit, kept for an operator to replay

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 10:00:00

A signed webhook is no longer refused for its content (a shop cannot fix it by retrying,
and refusals disable or delete the subscription): what does not parse, load or fit is
kept here with its raw body until it is replayed, purged, or older than
RELAY_REJECTED_RETENTION_DAYS. Nothing existing changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rejected_webhooks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("store", sa.String(length=255), nullable=True),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("delivery_id", sa.String(length=255), nullable=True),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_replayed_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "delivery_id", name="uq_rejected_webhooks_delivery"),
    )
    op.create_index("ix_rejected_webhooks_received_at", "rejected_webhooks", ["received_at"])


def downgrade() -> None:
    """Drop the rejected webhooks (their bodies with them)."""
    op.drop_index("ix_rejected_webhooks_received_at", table_name="rejected_webhooks")
    op.drop_table("rejected_webhooks")
