"""history: each change of a participant's stage on a task, for the dashboard's time series

Existing claims are carried over: a 'claimed' event at their claimed_at, and their current
stage at their updated_at when they got further.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from bot.store import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign", sa.String(length=128), nullable=False),
        sa.Column("task", sa.Integer(), nullable=False),
        sa.Column("user", sa.String(length=128), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_history_campaign"), ["campaign"], unique=False)
    op.execute(
        'INSERT INTO history (campaign, task, "user", stage, at) '
        "SELECT campaign, task, \"user\", 'claimed', claimed_at FROM claims"
    )
    op.execute(
        'INSERT INTO history (campaign, task, "user", stage, at) '
        "SELECT campaign, task, \"user\", stage, updated_at FROM claims WHERE stage <> 'claimed'"
    )


def downgrade() -> None:
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_history_campaign"))
    op.drop_table("history")
