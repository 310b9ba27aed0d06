"""The one clock of the shell, injected into the store, the pipeline and its stages.

`SystemClock` is the real one. `FakeClock` is for tests: time stands still until the test
advances it, and `sleep` returns as soon as the clock has been advanced past its deadline, so
a test that waits for a `Retry-After`, a lease or a claim's expiry moves time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for deadlines and durations)."""

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """Time that moves only when told (`advance`); sleepers wake when their deadline is passed.
    A sleep of 0 (or less) still yields to the event loop once."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._offset = 0.0
        self._moved = asyncio.Condition() if _has_loop() else None

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._offset)

    def monotonic(self) -> float:
        return self._offset

    async def sleep(self, seconds: float) -> None:
        deadline = self._offset + seconds
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        cond = self._condition()
        async with cond:
            await cond.wait_for(lambda: self._offset >= deadline)

    async def advance(self, seconds: float) -> None:
        """Move time forward and wake the sleepers whose deadline has come."""
        self._offset += seconds
        cond = self._condition()
        async with cond:
            cond.notify_all()
        await asyncio.sleep(0)

    def _condition(self) -> asyncio.Condition:
        if self._moved is None:
            self._moved = asyncio.Condition()
        return self._moved


def _has_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


SYSTEM = SystemClock()
