"""Plain records the store hands out (deliveries, outbox items, outcomes) and their statuses."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from bot.core.actions import Action


def body_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)


class DeliveryStatus(StrEnum):
    """Where a delivery is in the inbox."""

    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    IGNORED = "ignored"


class ActionStatus(StrEnum):
    """Where an action is in the outbox."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class LeaseLost(Exception):
    """The lease ran out and someone else took the work: this worker's outcome must not count."""


def new_token() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Delivery:
    id: str
    event: str
    payload: dict
    attempts: int
    token: str | None = None  # this lease; only its holder may finish the delivery


@dataclass(frozen=True)
class Outcome:
    """What became of one performed action (see Store.finish_actions)."""

    id: int
    status: ActionStatus  # done | pending (retry after retry_in) | failed
    error: str | None = None
    retry_in: float | None = None
    token: str | None = None
    refund: bool = False


@dataclass(frozen=True)
class OutboxItem:
    id: int
    delivery_id: str | None
    installation_id: int | None
    action: Action
    attempts: int
    token: str | None = None
