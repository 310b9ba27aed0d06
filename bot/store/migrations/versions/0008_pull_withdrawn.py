"""pulls.withdrawn_by: a maintainer marked the PR invalid (its `labels.invalid` or `spam` label), so it
credits nobody until the label is taken off

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pulls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_by", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pulls", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_by")
