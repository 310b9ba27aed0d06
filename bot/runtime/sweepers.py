"""Sweepers: periodic work over the whole store, outside any delivery.

- expiry: per campaign with a `claim_expiry_days`, one sweep decides (the pure `lapse_claims`)
  which holders to remind that their claims will lapse and which claims lapsed; in ONE
  transaction it records the reminders, releases the lapsed claims (so the board shows their
  tasks free again) and queues one notice on the tracker, which the executor then posts. A
  restart or a second replica finds the reminders recorded and the claims gone: nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.clock import SYSTEM, Clock
from bot.core.actions import Decision, DropClaim, PutClaim
from bot.core.decide import lapse_claims
from bot.core.model import CampaignState
from bot.rules.models import CampaignRules, RulesView
from bot.store import OutboxItem, Store

log = logging.getLogger(__name__)


class ExpirySweeper:
    def __init__(
        self,
        rules: RulesView,
        store: Store,
        *,
        every: float = 600.0,
        clock: Clock = SYSTEM,
        execute: Callable[[list[OutboxItem]], Awaitable[None]] | None = None,
    ) -> None:
        self.rules = rules
        self.store = store
        self.every = every
        self.clock = clock
        self.execute = execute  # performs the queued notices at once (else the executor's sweep does, later)
        self.swept = asyncio.Event()  # set once the loop's first sweep is over (tests wait for it)

    async def sweep_once(self) -> int:
        """Remind and release in every campaign that has an expiry; returns how many claims were released."""
        dropped = 0
        for slug, rules in self.rules.campaigns.items():
            if not rules.campaign.claim_policy.claim_expiry_days:
                continue
            now = self.clock.now()
            inst = (await self.store.board_info(slug)).get("installation_id")

            def sweep(state: CampaignState, rules: CampaignRules = rules, now: datetime = now) -> Decision:
                return lapse_claims(rules, state, now)

            decision, items = await self.store.commit(slug, sweep, installation_id=inst)
            released = sum(isinstance(c, DropClaim) for c in decision.changes)
            reminded = sum(isinstance(c, PutClaim) for c in decision.changes)
            if released or reminded:
                log.info("sweep %s: %d claim(s) lapsed, %d reminded, %d notice(s)", slug, released, reminded, len(items))
            dropped += released
            if items and self.execute is not None:
                await self.execute(items)
        return dropped

    async def run(self, stopping: Callable[[], bool]) -> None:
        while not stopping():
            try:
                await self.sweep_once()
            except Exception:
                log.exception("sweeping claims failed")
            self.swept.set()
            await self.clock.sleep(self.every)
