"""activity by minute: delivered and failed counts and the sampled queue depth

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 02:30:00

The console charts delivered and failed records per minute and the queue's depth over
the last hour; the records table keeps only each record's latest outcome, so the worker
counts them here as it marks them. Nothing existing changes.
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


def downgrade() -> None:
    op.drop_table("activity")
