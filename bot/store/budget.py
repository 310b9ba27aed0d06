"""The write budget in the store: GitHub's secondary limit counts the content-creating requests of
an installation, whichever replica makes them, so the replicas share one budget.

Each decision (may a write start now?) runs in one transaction under the installation's row lock
in `write_budget`; the write is recorded in `writes` at once (so another replica counts it while
it is in flight) and its time moved to when GitHub answered (`received`). The policy itself is
the gateway's pure `budget_wait`. Rows older than an hour are deleted as decisions are made.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from bot.github.gateway import BUDGET_MARGIN, HOUR, WINDOW, budget_wait, spent_share
from bot.store.schema import write_budget, writes
from bot.store.store import Store


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class StoreBudget:
    """A `bot.github.WriteBudget` shared by every replica through the store."""

    def __init__(self, store: Store, per_minute: int = 80, per_hour: int = 500) -> None:
        if per_minute < 1 or per_hour < 1:
            raise ValueError("limits must be at least 1")
        self.store = store
        self.per_minute = per_minute
        self.per_hour = per_hour
        self._left: dict[int, int] = {}
        self._spent: dict[int, tuple[float, list[float]]] = {}  # the writes known at the last decision

    def _lock(self, conn: Connection, installation_id: int) -> datetime | None:
        db = self.store.db
        conn.execute(
            db.insert_ignoring(write_budget, {"installation_id": installation_id, "paused_until": None}, ["installation_id"])
        )
        return conn.execute(
            db.for_update(select(write_budget.c.paused_until).where(write_budget.c.installation_id == installation_id))
        ).scalar()

    async def reserve(self, installation_id: int, *, priority: bool, now: float) -> tuple[float, Any]:
        def txn(conn: Connection) -> tuple[float, Any]:
            paused = self._lock(conn, installation_id)
            conn.execute(
                delete(writes).where(writes.c.installation_id == installation_id, writes.c.at < _at(now - HOUR - BUDGET_MARGIN))
            )
            times = sorted(
                t.timestamp()
                for t in conn.execute(select(writes.c.at).where(writes.c.installation_id == installation_id)).scalars()
            )
            self._left[installation_id] = max(0, self.per_minute - sum(1 for t in times if t > now - WINDOW))
            self._spent[installation_id] = (now, times)
            wait = budget_wait(
                times,
                times,
                now,
                per_minute=self.per_minute,
                per_hour=self.per_hour,
                priority=priority,
                paused_until=paused.timestamp() if paused else 0.0,
            )
            if wait > 0:
                return wait, None
            return 0.0, conn.execute(
                insert(writes).values(installation_id=installation_id, at=_at(now)).returning(writes.c.id)
            ).scalar_one()

        return await self.store._write(txn, urgent=True)

    async def received(self, installation_id: int, ticket: Any, now: float) -> None:
        await self.store._write(
            lambda conn: conn.execute(update(writes).where(writes.c.id == ticket, writes.c.at < _at(now)).values(at=_at(now))),
            urgent=True,
        )

    async def pause(self, installation_id: int, until: float) -> None:
        def txn(conn: Connection) -> None:
            paused = self._lock(conn, installation_id)
            if paused is None or paused < _at(until):
                conn.execute(
                    update(write_budget).where(write_budget.c.installation_id == installation_id).values(paused_until=_at(until))
                )

        await self.store._write(txn, urgent=True)

    def spent(self, installation_id: int, now: float) -> float:
        """As of the last decision of this replica (writes of other replicas since are not seen)."""
        _, times = self._spent.get(installation_id, (now, []))
        return spent_share(times, now, per_minute=self.per_minute, per_hour=self.per_hour)

    def left(self, installation_id: int, now: float) -> int:
        """Writes left in the minute as of the last decision (for the metrics)."""
        return self._left.get(installation_id, self.per_minute)
