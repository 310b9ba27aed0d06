"""inbox payloads compressed with lz4 on PostgreSQL (when the server has it): a webhook's body is
about 10 KB of JSON, and compressing it with the default (pglz) was a third of the server's CPU
per delivery on launch day

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _lz4(bind: sa.engine.Connection) -> bool:
    """PostgreSQL 14 or newer, built with lz4 (SQLite keeps payloads as they are)."""
    if bind.dialect.name != "postgresql":
        return False
    choices = bind.execute(sa.text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")).scalar()
    return "lz4" in (choices or [])


def upgrade() -> None:
    if _lz4(op.get_bind()):
        op.execute("ALTER TABLE deliveries ALTER COLUMN payload SET COMPRESSION lz4")


def downgrade() -> None:
    if _lz4(op.get_bind()):
        op.execute("ALTER TABLE deliveries ALTER COLUMN payload SET COMPRESSION default")
