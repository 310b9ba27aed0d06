"""What a decision asks for: state changes (applied by the store) and GitHub actions (performed by the executor).

Both are plain frozen dataclasses. Actions serialise to JSON for the outbox table, so a
crash between deciding and performing loses nothing, and dry-run or replay just prints them.
"""

from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum

from bot.core.model import CampaignState, Claim, Layered, PullRequest, Stage, StageEvent


# ---- state changes ---------------------------------------------------------------------
@dataclass(frozen=True)
class PutClaim:
    claim: Claim


@dataclass(frozen=True)
class DropClaim:
    task: int
    user: str


@dataclass(frozen=True)
class PutPull:
    pr: PullRequest


@dataclass(frozen=True)
class SetTaskClosed:
    task: int
    closed: bool


@dataclass(frozen=True)
class SetCampaignClosed:
    """Close the whole campaign to new claims (`at`: when), or reopen it (`at` None)."""

    at: datetime | None


Change = PutClaim | DropClaim | PutPull | SetTaskClosed | SetCampaignClosed


def _claim_order(c: Claim) -> tuple:
    return (c.task, c.claimed_at, c.user.lower())


def _pr_order(p: PullRequest) -> tuple:
    return (p.repo.lower(), p.number)


def apply_changes(state: CampaignState, changes: list[Change]) -> CampaignState:
    """The state after `changes`, computed in memory (the store does the same in SQL).

    Incremental: untouched claims and PRs keep their (canonical) order and only the changed
    ones are re-inserted, so a change costs O(n) copying, not a sort, on a 10,000-claim campaign."""
    claims, prs, closed = list(state.claims), list(state.prs), set(state.closed_tasks)
    closed_at = state.closed_at
    touched: set[tuple[int, str]] = set()
    for ch in changes:
        match ch:
            case PutClaim(claim=c):
                _drop_claim(claims, c.task, c.user)
                bisect.insort(claims, c, key=_claim_order)
                touched.add((c.task, c.user.lower()))
            case DropClaim(task=t, user=u):
                _drop_claim(claims, t, u)
                touched.add((t, u.lower()))
            case PutPull(pr=p):
                key = _pr_order(p)
                i = bisect.bisect_left(prs, key, key=_pr_order)
                if i < len(prs) and _pr_order(prs[i]) == key:
                    prs[i] = p
                else:
                    prs.insert(i, p)
            case SetTaskClosed(task=t, closed=flag):
                (closed.add if flag else closed.discard)(t)
            case SetCampaignClosed(at=at):
                closed_at = at
    new = CampaignState(claims=tuple(claims), prs=tuple(prs), closed_tasks=frozenset(closed), closed_at=closed_at)
    _carry_indexes(state, new, touched)
    return new


def _carry_indexes(old: CampaignState, new: CampaignState, touched: set[tuple[int, str]]) -> None:
    """Give `new` the lookup indexes `old` had built, patched where claims changed (a `Layered`
    patch over the old index), instead of letting it rebuild them from every claim."""
    by_task = old.__dict__.get("_by_task")
    if by_task is None:
        return
    task_patch: dict[int, list[Claim] | None] = {}
    for task in {t for t, _ in touched}:
        lo = bisect.bisect_left(new.claims, task, key=lambda c: c.task)
        hi = bisect.bisect_right(new.claims, task, key=lambda c: c.task)
        task_patch[task] = list(new.claims[lo:hi]) if hi > lo else None
    new_by_task = Layered(by_task, task_patch)
    new.__dict__["_by_task"] = new_by_task
    by_user = old.__dict__.get("_by_user")
    if by_user is not None:
        user_patch: dict[str, list[Claim] | None] = {}
        for user in {u for _, u in touched}:
            mine = [c for c in by_user.get(user, ()) if (c.task, user) not in touched]
            mine += [c for t, u in touched if u == user for c in new_by_task.get(t, ()) if c.user.lower() == user]
            user_patch[user] = sorted(mine, key=_claim_order) if mine else None
        new.__dict__["_by_user"] = Layered(by_user, user_patch)


def _drop_claim(claims: list[Claim], task: int, user: str) -> None:
    """Remove the claim of `user` on `task` from a list in canonical order (the task's claims are contiguous)."""
    low = user.lower()
    i = bisect.bisect_left(claims, task, key=lambda c: c.task)
    while i < len(claims) and claims[i].task == task:
        if claims[i].user.lower() == low:
            del claims[i]
            return
        i += 1


def make_state(claims, prs, closed, closed_at: datetime | None = None) -> CampaignState:
    """A state in canonical order (claims by task, time, login; PRs by repo and number), so the
    same facts give the same state whether loaded from the store or computed in memory."""
    return CampaignState(
        claims=tuple(sorted(claims, key=_claim_order)),
        prs=tuple(sorted(prs, key=_pr_order)),
        closed_tasks=frozenset(closed),
        closed_at=closed_at,
    )


# ---- GitHub actions --------------------------------------------------------------------
@dataclass(frozen=True)
class Reply:
    """Answer a comment. `comment_id` is the comment answered; the body carries its marker.
    `user`: whose comment it answers (the executor paces one person's replies, see `executor`)."""

    repo: str
    number: int
    comment_id: int
    body: str
    user: str = ""


@dataclass(frozen=True)
class UpsertChecklist:
    """The one checklist comment of a pull request: created once, then edited in place."""

    repo: str
    number: int
    body: str


@dataclass(frozen=True)
class SetLabels:
    """Replace a PR's or issue's labels with exactly these (computed from its current ones)."""

    repo: str
    number: int
    labels: tuple[str, ...]


@dataclass(frozen=True)
class AddLabels:
    repo: str
    number: int
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Assign:
    repo: str
    number: int
    users: tuple[str, ...]


@dataclass(frozen=True)
class Notice:
    """A comment the bot posts on its own initiative (reminders, lapses, results), not answering one.
    `key` is unique to this notice; the body starts with its marker, so a retried post is found, not repeated."""

    repo: str
    number: int
    key: str
    body: str


class Conclusion(StrEnum):
    """A check run's conclusion (GitHub's names), as the checklist maps to them (bot.review.check_conclusion)."""

    SUCCESS = "success"  # the PR is ready for a maintainer's review
    FAILURE = "failure"  # items the author must fix
    ACTION_REQUIRED = "action_required"  # nothing to fix, but a maintainer must check it (an unchecked task)
    NEUTRAL = "neutral"  # the PR is not credited: a revert, or a task someone else holds


@dataclass(frozen=True)
class CheckRun:
    """A completed check run `hackathon/checklist` on a PR's head commit; the summary is the checklist."""

    repo: str
    number: int  # the pull request (the check itself hangs on `head_sha`)
    head_sha: str
    conclusion: Conclusion  # a plain string (an outbox row's JSON) is checked and converted
    title: str
    summary: str
    name: str = "hackathon/checklist"

    def __post_init__(self) -> None:
        if type(self.conclusion) is not Conclusion:
            object.__setattr__(self, "conclusion", Conclusion(self.conclusion))


@dataclass(frozen=True)
class ImportCollections:
    """Run the importer on a campaign's collections and propose the task files as its import pull
    request (a maintainer's /import on the tracker `repo#number`)."""

    repo: str
    number: int
    campaign: str
    requested_by: str


Action = Reply | UpsertChecklist | SetLabels | AddLabels | Assign | CheckRun | Notice | ImportCollections
ACTION_TYPES: dict[str, type] = {
    t.__name__: t for t in (Reply, UpsertChecklist, SetLabels, AddLabels, Assign, CheckRun, Notice, ImportCollections)
}


_FIELDS: dict[type, tuple[str, ...]] = {t: tuple(f.name for f in dataclasses.fields(t)) for t in ACTION_TYPES.values()}


def action_to_dict(action: Action) -> dict:
    """The action as JSON-ready data (an outbox row): its kind and its fields, which are all plain
    values (strings, numbers, tuples of strings, a string enum)."""
    return {"kind": type(action).__name__, **{name: getattr(action, name) for name in _FIELDS[type(action)]}}


def action_from_dict(data: dict) -> Action:
    data = dict(data)
    cls = ACTION_TYPES[data.pop("kind")]
    for f in dataclasses.fields(cls):
        if isinstance(data.get(f.name), list):
            data[f.name] = tuple(data[f.name])
    return cls(**data)


class BoardChange(Enum):
    """What a decision does to its campaign's board (the table on the tracker issue)."""

    NONE = 0  # nothing the board shows changed
    MOVED = 1  # the board may have changed: render it again, and edit the tracker if the text differs
    FORCE = 2  # rewrite the tracker even if the board looks unchanged (a maintainer's /refresh)

    @classmethod
    def moved_if(cls, changed: bool) -> BoardChange:
        return cls.MOVED if changed else cls.NONE

    def __or__(self, other: BoardChange) -> BoardChange:
        """The stronger of the two (one decision made of two)."""
        return self if self.value >= other.value else other

    def __bool__(self) -> bool:
        """Whether the board needs any attention (MOVED or FORCE)."""
        return self is not BoardChange.NONE


@dataclass
class Decision:
    """The outcome of one event: what changes in the store, what to do on GitHub, what it does to the board."""

    changes: list[Change] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    board: BoardChange = BoardChange.NONE
    notes: list = field(default_factory=list)  # what a reply says, as data (bot.model.Note); for tests and replay
    # The state `changes` lead to from the state decided on, when deciding computed it anyway (the
    # store then does not apply them a second time); None: `apply_changes` it.
    after: CampaignState | None = field(default=None, compare=False, repr=False)


def stage_events(state: CampaignState, changes: list[Change], now: datetime) -> list[StageEvent]:
    """The stage history `changes` make on `state` (recorded by the store with them): a new claim
    at its `claimed_at`, a changed stage at `now`, a dropped claim (stage None) at `now`.
    Changes to a claim's team or link, PRs and closed tasks make no event."""
    current: dict[tuple[int, str], Stage | None] = {}
    out: list[StageEvent] = []
    for ch in changes:
        match ch:
            case PutClaim(claim=c):
                key = (c.task, c.user.lower())
                before = current[key] if key in current else getattr(state.claim(c.task, c.user), "stage", None)
                if before != c.stage:
                    out.append(StageEvent(c.claimed_at if before is None else now, c.task, c.user, c.stage))
                current[key] = c.stage
            case DropClaim(task=t, user=u):
                key = (t, u.lower())
                before = current[key] if key in current else getattr(state.claim(t, u), "stage", None)
                if before is not None:
                    out.append(StageEvent(now, t, u, None))
                current[key] = None
    return out
