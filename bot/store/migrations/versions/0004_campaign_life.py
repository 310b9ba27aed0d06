"""campaign life: claim renewals and reminders, a campaign closed to new claims

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from bot.store import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("renewed_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("reminded_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("renewed_at")
