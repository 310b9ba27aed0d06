"""The effects ledger (pure part): what a delivery would take effect as, and whether it already has.

Deliveries are deduplicated by their GUID (`X-GitHub-Delivery`), but the signature does not
cover that header, and `bot sync` reads the same comments and pull requests from GitHub
without any delivery at all. So effects are also keyed by *what* they are:

- a comment, by its id; its content (the body) is what was applied. The same body again
  (a replay under a new delivery id, or a comment `bot sync` reads after the live delivery)
  changes nothing; an older version (a captured `created` replayed after an edit) changes
  nothing; a newer, different body counts only the commands that are new compared with the
  body already applied for that comment id.
- a pull request, by repository and number; its state (head sha, title, body, open / closed
  / merged) is what was applied. The same state again changes nothing, nor does an older one.

The store records the applied effect in the same transaction as the decision (`Store.commit`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.core.actions import Decision


class EffectKind(StrEnum):
    COMMENT = "comment"
    PULL = "pull"


class Verdict(StrEnum):
    """What to do with an effect given what the ledger holds for its subject."""

    NEW = "new"  # never applied: decide as usual
    CHANGED = "changed"  # a newer version: decide what is new compared with the applied one
    REPLAY = "replay"  # the same content again: nothing
    STALE = "stale"  # older than what was applied: nothing


@dataclass(frozen=True)
class Effect:
    """One comment at one content, or one pull request in one state."""

    kind: EffectKind
    subject: str  # "comment:owner/repo:123" or "pull:owner/repo:7" (repository in lower case)
    fingerprint: str  # sha256 of the content
    version: datetime | None = None  # GitHub's updated_at of the comment / pull request
    body: str | None = None  # a comment's text (what an edit is compared with)


@dataclass(frozen=True)
class Applied:
    """What the ledger holds for a subject: the last content that took effect."""

    fingerprint: str
    version: datetime | None
    body: str | None


@dataclass
class Skipped(Decision):
    """A decision that was not taken: the effect already happened (`why`: a Verdict)."""

    why: str = ""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def comment_effect(repo: str, comment_id: int, body: str, updated_at: datetime | None) -> Effect:
    return Effect(EffectKind.COMMENT, f"comment:{repo.lower()}:{comment_id}", _sha(body), updated_at, body)


def pull_effect(
    repo: str,
    number: int,
    *,
    head_sha: str,
    title: str,
    body: str,
    state: str,
    merged: bool,
    files: list[tuple[str, str]],
    updated_at: datetime | None,
) -> Effect:
    """A pull request's state: what the bot reads of it (head, title, body, open / closed / merged,
    changed files as (name, status)). `updated_at` orders states only; it is not part of the
    fingerprint, so a label change (which moves updated_at but nothing the bot reads) is no new state."""
    content = json.dumps([head_sha, title, body, "merged" if merged else state, sorted(files)], ensure_ascii=False)
    return Effect(EffectKind.PULL, f"pull:{repo.lower()}:{number}", _sha(content), updated_at)


def verdict(effect: Effect, applied: Applied | None) -> Verdict:
    if applied is None:
        return Verdict.NEW
    if applied.fingerprint == effect.fingerprint:
        return Verdict.REPLAY
    if effect.version is not None and applied.version is not None and effect.version < applied.version:
        return Verdict.STALE
    return Verdict.CHANGED
