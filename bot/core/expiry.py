"""Claim periods, pure: when a claim lapses without a PR and when its holder is reminded.

A claim's period starts at its claim or its holder's last `/renew`; only claims still at the
claimed stage lapse (a PR, even an RFC, keeps a claim for good). Used by `decide` (policy) and
by the renderers (`replies`, `board`) that show the dates.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.model import Claim, Stage
from bot.rules.models import CampaignRules

DEFAULT_REMIND_BEFORE = timedelta(days=3)


def when(at: datetime) -> str:
    """The day of a moment as replies and notices show it: `2026-01-15` (UTC; a lapse on that day)."""
    return at.date().isoformat()


def lapses_at(rules: CampaignRules, claim: Claim) -> datetime | None:
    """When `claim` lapses if it gets no PR (None: it never lapses: no expiry, or it is past the claimed stage)."""
    days = rules.campaign.claim_policy.claim_expiry_days
    if not days or claim.stage != Stage.CLAIMED:
        return None
    return claim.period_start + timedelta(days=days)


def remind_at(rules: CampaignRules, claim: Claim) -> datetime | None:
    """When the holder of `claim` is reminded (and may renew): `remind_after_days` into its period, by
    default 3 days before the lapse (half-way through periods shorter than a week)."""
    lapse = lapses_at(rules, claim)
    if lapse is None:
        return None
    policy = rules.campaign.claim_policy
    if policy.remind_after_days:
        return claim.period_start + timedelta(days=policy.remind_after_days)
    period = lapse - claim.period_start
    return lapse - min(DEFAULT_REMIND_BEFORE, period / 2)
