"""The store: schema (`schema`), the database runner (`database`), records (`records`) and the
queries (`store.Store`). Everything the rest of the bot imports is re-exported here."""

from bot.store.database import Database, sync_url
from bot.store.records import (
    ActionStatus,
    Delivery,
    DeliveryStatus,
    LeaseLost,
    OutboxItem,
    Outcome,
    body_hash,
    new_token,
    utcnow,
)
from bot.store.schema import UTCDateTime, metadata
from bot.store.store import Store

__all__ = [
    "ActionStatus",
    "Database",
    "Delivery",
    "DeliveryStatus",
    "LeaseLost",
    "OutboxItem",
    "Outcome",
    "Store",
    "UTCDateTime",
    "body_hash",
    "metadata",
    "new_token",
    "sync_url",
    "utcnow",
]
