"""Sweepers: periodic work over the whole store, outside any delivery.

- expiry: claims older than a campaign's `claim_expiry_days` that never reached a PR are
  released (decided by the pure `lapse_claims`), so the board shows their tasks free again.
"""
from __future__ import annotations

import logging
from typing import Callable

from bot.clock import SYSTEM, Clock
from bot.decide import lapse_claims
from bot.rules.models import Rules
from bot.store import Store

log = logging.getLogger(__name__)


class ExpirySweeper:
    def __init__(self, rules: Rules, store: Store, *, every: float = 600.0, clock: Clock = SYSTEM) -> None:
        self.rules = rules
        self.store = store
        self.every = every
        self.clock = clock

    async def sweep_once(self) -> int:
        """Drop lapsed claims in every campaign that has an expiry; returns how many were dropped."""
        dropped = 0
        for slug, rules in self.rules.campaigns.items():
            if rules.campaign.claim_policy.claim_expiry_days:
                now = self.clock.now()
                decision, _ = await self.store.commit(slug, lambda state, rules=rules, now=now: lapse_claims(rules, state, now))
                dropped += len(decision.changes)
        return dropped

    async def run(self, stopping: Callable[[], bool]) -> None:
        while not stopping():
            try:
                if dropped := await self.sweep_once():
                    log.info("%d lapsed claim(s) released", dropped)
            except Exception:
                log.exception("releasing lapsed claims failed")
            await self.clock.sleep(self.every)
