"""Leases of work in hand: every delivery and action this process holds carries a lease token,
which a heartbeat renews in the store; a token whose lease someone else took (this process
stalled past `LEASE_SECONDS`) is "lost", and work under it must neither commit nor act."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.clock import SYSTEM, Clock
from bot.store import Store

log = logging.getLogger(__name__)

# Leases are renewed this many times per lease period: with LEASE_SECONDS=10, every 2.5 s, so a
# process stalled for up to 7.5 s keeps its work, and a dead one's is retaken within 10 s.
RENEWALS = 4


class Leases:
    def __init__(self, store: Store, clock: Clock = SYSTEM) -> None:
        self.store = store
        self.clock = clock
        self._held: dict[str, int] = {}  # token -> how many holders
        self._lost: set[str] = set()

    def hold(self, token: str | None) -> None:
        if token:
            self._held[token] = self._held.get(token, 0) + 1

    def release(self, token: str | None) -> None:
        if token and token in self._held:
            self._held[token] -= 1
            if not self._held[token]:
                del self._held[token]
                self._lost.discard(token)

    def lost(self, token: str | None) -> bool:
        return token is not None and token in self._lost

    async def renew_once(self) -> None:
        self._lost |= await self.store.renew(list(self._held))

    async def heartbeat(self, stopping: Callable[[], bool]) -> None:
        """Keep the leases of work in hand alive, so slow GitHub calls never let another worker
        (or replica) take the same delivery or action; learn which leases were lost anyway."""
        every = max(0.05, self.store.lease.total_seconds() / RENEWALS)
        while not stopping():
            await self.clock.sleep(every)
            try:
                await self.renew_once()
            except Exception:
                log.exception("renewing leases failed")
