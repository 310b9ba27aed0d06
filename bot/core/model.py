"""Plain data the functional core passes around: claims, pull requests, campaign state, notes.

Everything here is immutable and free of I/O. The store turns rows into these; `decide`
reads them; `board`, `review` and `replies` render them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any


class Stage(StrEnum):
    """Where one participant stands on one task. Order matters: later is further along."""

    CLAIMED = "claimed"
    RFC_SUBMITTED = "rfc_submitted"
    RFC_ACCEPTED = "rfc_accepted"
    SUBMITTED = "submitted"
    PARTLY_DONE = "partly_done"
    COMPLETED = "completed"

    @property
    def rank(self) -> int:
        """How far along the stage is (0: claimed): the one ranking the board, the dashboard and decide use."""
        return STAGE_RANK[self]


STAGE_RANK: dict[Stage, int] = {s: i for i, s in enumerate(Stage)}  # Stage.rank as a dict, for hot loops


class PrKind(StrEnum):
    """What a task PR delivers."""

    RFC = "rfc"  # a design document, in the campaign's RFC repository
    CODE = "code"  # the work itself


class PrState(StrEnum):
    OPEN = "open"
    MERGED = "merged"
    CLOSED = "closed"  # closed without merging


# A dict lookup is ~10x cheaper than calling the enum: loading a campaign converts every stored PR.
_PR_KINDS: dict[str, PrKind] = {m.value: m for m in PrKind}
_PR_STATES: dict[str, PrState] = {m.value: m for m in PrState}


@dataclass(frozen=True)
class Claim:
    """One participant on one task."""

    campaign: str
    task: int
    user: str
    stage: Stage
    claimed_at: datetime
    team: str | None = None
    link: str | None = None  # the RFC or code link a participant reported, if any
    renewed_at: datetime | None = None  # the holder's last /renew: the claim's current period starts here
    reminded_at: datetime | None = None  # when the bot last reminded the holder that the claim will lapse

    @property
    def period_start(self) -> datetime:
        """When the claim's current period began (its claim, or its last renewal); expiry counts from here."""
        return self.renewed_at or self.claimed_at


@dataclass(frozen=True)
class PullRequest:
    """A pull request that references tasks of a campaign (by its title)."""

    campaign: str
    repo: str  # "owner/name"
    number: int
    author: str
    title: str
    tasks: tuple[int, ...]
    kind: PrKind
    state: PrState
    url: str
    part: bool = False
    revert: bool = False
    withdrawn_by: str | None = None  # the maintainer who marked it invalid (`labels.invalid`, `spam`): it credits nobody

    @property
    def credits(self) -> bool:
        """Whether the PR can credit its author at all (reverts and PRs marked invalid never do)."""
        return not self.revert and self.withdrawn_by is None

    def __post_init__(self) -> None:  # plain strings (a stored row) are checked and converted
        if type(self.kind) is not PrKind:
            object.__setattr__(self, "kind", _PR_KINDS.get(self.kind) or PrKind(self.kind))
        if type(self.state) is not PrState:
            object.__setattr__(self, "state", _PR_STATES.get(self.state) or PrState(self.state))


class Layered:
    """A read-only mapping made of a small `patch` over a `base` mapping (a key patched to None is
    absent): how a state derived from another by a few changes shares its parent's indexes
    instead of copying them. Every `FLATTEN` layers the chain is folded into one dict, so a lookup
    stays O(1) and a change costs O(changed keys) amortised."""

    FLATTEN = 8
    __slots__ = ("base", "patch", "depth")
    base: Mapping
    patch: dict
    depth: int

    def __init__(self, base: Mapping, patch: dict) -> None:
        self.base = base
        self.patch = patch
        self.depth = base.depth + 1 if isinstance(base, Layered) else 1
        if self.depth >= self.FLATTEN:
            self.base, self.patch, self.depth = self.flat(), {}, 0

    def get(self, key: Any, default: Any = None) -> Any:
        layer: Mapping | Layered = self
        while isinstance(layer, Layered):
            if key in layer.patch:
                value = layer.patch[key]
                return default if value is None else value
            layer = layer.base
        return layer.get(key, default)

    def flat(self) -> dict:
        """The mapping as one dict (one copy of the bottom dict, then each patch in order)."""
        patches = []
        layer: Mapping | Layered = self
        while isinstance(layer, Layered):
            patches.append(layer.patch)
            layer = layer.base
        out = dict(layer)
        for patch in reversed(patches):
            for key, value in patch.items():
                if value is None:
                    out.pop(key, None)
                else:
                    out[key] = value
        return out


@dataclass(frozen=True)
class CampaignState:
    """What the store knows about one campaign at one moment."""

    claims: tuple[Claim, ...] = ()
    prs: tuple[PullRequest, ...] = ()
    closed_tasks: frozenset[int] = frozenset()
    closed_at: datetime | None = None  # the campaign was closed (/close-campaign) at this time: no new claims

    # Lookups go through indexes built once per state (states are immutable; a change makes a new one).
    @cached_property
    def _by_task(self) -> dict[int, list[Claim]] | Layered:
        out: dict[int, list[Claim]] = {}
        for c in self.claims:
            out.setdefault(c.task, []).append(c)
        return out

    @cached_property
    def _by_user(self) -> dict[str, list[Claim]] | Layered:
        out: dict[str, list[Claim]] = {}
        for c in self.claims:
            out.setdefault(c.user.lower(), []).append(c)
        return out

    def claims_on(self, task: int) -> list[Claim]:
        return list(self._by_task.get(task, ()))

    def claims_of(self, user: str) -> list[Claim]:
        return list(self._by_user.get(user.lower(), ()))

    def claim(self, task: int, user: str) -> Claim | None:
        low = user.lower()
        return next((c for c in self._by_task.get(task, ()) if c.user.lower() == low), None)

    def prs_for(self, task: int) -> list[PullRequest]:
        return [p for p in self.prs if task in p.tasks]


class NoteCode(StrEnum):
    """What one line of a reply says. Each value names a macro in `templates/<lang>/replies.j2`
    (tests check both ways: every member has its macro in zh and en, every such macro a member)."""

    CLAIMED = "claimed"  # the tasks are the user's now
    ALREADY_CLAIMED = "already_claimed"  # the user already holds them
    TASK_FULL = "task_full"  # others hold them up to capacity (extra: holders)
    TASK_CLOSED = "task_closed"  # closed to new claims
    TASK_COMPLETED = "task_completed"  # already completed
    USER_LIMIT = "user_limit"  # the user is at the per-person limit (extra: limit, held)
    UNKNOWN_TASK = "unknown_task"  # no such task in the campaign
    UNCLAIMED = "unclaimed"  # released
    NOT_CLAIMED = "not_claimed"  # asked to release what the user does not hold
    SUBMITTED = "submitted"  # a reported submission (extra: stage, link)
    ASSIGNED = "assigned"  # a maintainer's /assign
    UNASSIGNED = "unassigned"  # a maintainer's /unassign
    DONE = "done"  # a maintainer's /done (extra: by)
    REOPENED = "reopened"  # a maintainer's /reopen
    CLOSED_BY_MAINTAINER = "closed_by_maintainer"  # a maintainer's /close-task
    REFRESHED = "refreshed"  # a maintainer's /refresh
    NOT_MAINTAINER = "not_maintainer"  # a maintainer command from someone else (extra: command)
    HINT = "hint"  # a parser hint (detail)
    ERROR = "error"  # a parser error (detail)
    CLAIM_NEEDS_TASK = "claim_needs_task"  # a claim without a task number
    CAMPAIGN_CLOSED = "campaign_closed"  # the campaign takes no claims
    RENEWED = "renewed"  # /renew (extra: days, lapses)
    RENEW_TOO_EARLY = "renew_too_early"  # /renew before the reminder (extra: opens)
    RENEW_NOT_NEEDED = "renew_not_needed"  # /renew of a claim that cannot lapse (extra: no_expiry)
    RENEW_LAPSED = "renew_lapsed"  # /renew of a claim that lapsed
    CAMPAIGN_CLOSED_NOW = "campaign_closed_now"  # /close-campaign
    CAMPAIGN_ALREADY_CLOSED = "campaign_already_closed"  # /close-campaign again (extra: since)
    CAMPAIGN_NOT_CLOSED = "campaign_not_closed"  # /reopen-campaign of an open campaign
    CAMPAIGN_REOPENED = "campaign_reopened"  # /reopen-campaign
    IMPORT_STARTED = "import_started"  # /import: the import pull request comes (extra: branch, collections)
    IMPORT_UNAVAILABLE = "import_unavailable"  # /import of a campaign with no collections or not in a repository


@dataclass(frozen=True)
class Note:
    """One line of a reply: what the bot recorded or refused, rendered by `replies`.

    `code` names the template entry (see bot/templates/*/replies.j2); `tasks`, `user` and
    `detail` fill it. `detail` is text already in the reply's language (e.g. a parser hint).
    A plain string is accepted and checked (`NoteCode(code)`: an unknown code raises ValueError).
    """

    code: NoteCode
    tasks: tuple[int, ...] = ()
    user: str | None = None
    detail: str | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if type(self.code) is not NoteCode:
            object.__setattr__(self, "code", NoteCode(self.code))


@dataclass(frozen=True)
class StageEvent:
    """One recorded change of one participant's stage on one task (the dashboard's history).

    `stage` is None when the claim was dropped (released, unassigned, lapsed)."""

    at: datetime
    task: int
    user: str
    stage: Stage | None
