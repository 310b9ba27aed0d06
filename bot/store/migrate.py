"""Schema migrations (Alembic), run programmatically at start-up on SQLite and PostgreSQL alike.

`bot serve` upgrades the database to the newest revision before it takes deliveries. On
PostgreSQL an advisory lock keeps two replicas starting together from migrating at once.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

MIGRATIONS = Path(__file__).parent / "migrations"
LOCK_ID = 0x6861636B  # "hack"
# Alembic's `op` and `context` are module-level proxies: two stores of one process (a test, a run of
# `bot action` saving on another run's state) must not migrate at the same moment.
_ALEMBIC = threading.Lock()


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade_connection(sync_conn) -> None:
    """Upgrade to the newest revision inside the caller's transaction."""
    if sync_conn.dialect.name == "postgresql":
        sync_conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_ID})
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    with _ALEMBIC:
        command.upgrade(cfg, "head")
