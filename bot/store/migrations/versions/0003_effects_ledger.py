"""effects ledger, redelivery bookkeeping, sync marks

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from bot.store import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "effects",
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("campaign", sa.String(length=128), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("version", UTCDateTime(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("delivery_id", sa.String(length=64), nullable=True),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject"),
    )
    op.create_table(
        "redeliveries",
        sa.Column("hook_delivery_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("guid", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=True),
        sa.Column("asked_at", UTCDateTime(), nullable=False),
        sa.Column("asked_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("hook_delivery_id"),
    )
    op.create_index(op.f("ix_redeliveries_guid"), "redeliveries", ["guid"], unique=False)
    op.create_table(
        "jobs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("last_run_at", UTCDateTime(), nullable=True),
        sa.Column("info", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "sync_marks",
        sa.Column("campaign", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("mark", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("campaign", "source"),
    )


def downgrade() -> None:
    op.drop_table("sync_marks")
    op.drop_table("jobs")
    op.drop_index(op.f("ix_redeliveries_guid"), table_name="redeliveries")
    op.drop_table("redeliveries")
    op.drop_table("effects")
