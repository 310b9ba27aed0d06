"""write budget: recent content-creating requests per installation, shared by every replica

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from bot.store import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "write_budget",
        sa.Column("installation_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("paused_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("installation_id"),
    )
    op.create_table(
        "writes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("installation_id", sa.BigInteger(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_writes_installation_id"), "writes", ["installation_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_writes_installation_id"), table_name="writes")
    op.drop_table("writes")
    op.drop_table("write_budget")
