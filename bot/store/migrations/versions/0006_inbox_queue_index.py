"""inbox queue index: deliveries by (status, received_at), so leasing the oldest waiting ones
reads a few index entries instead of sorting the whole backlog

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_status"))
        batch_op.create_index("ix_deliveries_status_received_at", ["status", "received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_status_received_at")
        batch_op.create_index(batch_op.f("ix_deliveries_status"), ["status"], unique=False)
