"""What a decision asks for: state changes (applied by the store) and GitHub actions (performed by the executor).

Both are plain frozen dataclasses. Actions serialise to JSON for the outbox table, so a
crash between deciding and performing loses nothing, and dry-run or replay just prints them.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

from bot.model import CampaignState, Claim, PullRequest, Stage


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


Change = PutClaim | DropClaim | PutPull | SetTaskClosed


def apply_changes(state: CampaignState, changes: list[Change]) -> CampaignState:
    """The state after `changes`, computed in memory (the store does the same in SQL)."""
    claims = {(c.task, c.user.lower()): c for c in state.claims}
    prs = {(p.repo.lower(), p.number): p for p in state.prs}
    closed = set(state.closed_tasks)
    for ch in changes:
        match ch:
            case PutClaim(claim=c):
                claims[(c.task, c.user.lower())] = c
            case DropClaim(task=t, user=u):
                claims.pop((t, u.lower()), None)
            case PutPull(pr=p):
                prs[(p.repo.lower(), p.number)] = p
            case SetTaskClosed(task=t, closed=flag):
                (closed.add if flag else closed.discard)(t)
    return make_state(claims.values(), prs.values(), closed)


def make_state(claims, prs, closed) -> CampaignState:
    """A state in canonical order (claims by task, time, login; PRs by repo and number), so the
    same facts give the same state whether loaded from the store or computed in memory."""
    return CampaignState(claims=tuple(sorted(claims, key=lambda c: (c.task, c.claimed_at, c.user.lower()))),
                         prs=tuple(sorted(prs, key=lambda p: (p.repo.lower(), p.number))),
                         closed_tasks=frozenset(closed))


# ---- GitHub actions --------------------------------------------------------------------
@dataclass(frozen=True)
class Reply:
    """Answer a comment. `comment_id` is the comment answered; the body carries its marker."""

    repo: str
    number: int
    comment_id: int
    body: str


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


Action = Reply | UpsertChecklist | SetLabels | AddLabels | Assign
ACTION_TYPES: dict[str, type] = {t.__name__: t for t in (Reply, UpsertChecklist, SetLabels, AddLabels, Assign)}


def action_to_dict(action: Action) -> dict:
    return {"kind": type(action).__name__, **dataclasses.asdict(action)}


def action_from_dict(data: dict) -> Action:
    data = dict(data)
    cls = ACTION_TYPES[data.pop("kind")]
    for f in dataclasses.fields(cls):
        if isinstance(data.get(f.name), list):
            data[f.name] = tuple(data[f.name])
    return cls(**data)


@dataclass
class Decision:
    """The outcome of one event: what changes in the store, what to do on GitHub, whether the board moved."""

    changes: list[Change] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    board: bool | str = False  # True: the board moved; "force": rewrite it even if it looks unchanged (/refresh)
    notes: list = field(default_factory=list)  # what a reply says, as data (bot.model.Note); for tests and replay

    def extend(self, other: "Decision") -> None:
        self.changes += other.changes
        self.actions += other.actions
        self.notes += other.notes
        self.board = other.board if other.board == "force" else (self.board or other.board)


def stage_changed(old: Claim | None, new_stage: Stage) -> bool:
    return old is None or old.stage != new_stage


def now_utc() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)
