"""Where everyone stands: points, ranks and each person's tasks, from rules + state + stage history. Pure.

Points of a task (`task_points`): its `reward` when that is a number, alone or followed by a unit
(`500` is 500; `0.1🌟` is 0.1 in 🌟); else the campaign's `points:` by the task's difficulty
(`points: {基础: 1, 进阶: 2}`); else 1. A reward that is no number (`a T-shirt`) is shown as written
and earns those default points (`bot rules check` warns about it).

What a person earns on a task they are credited with: its points when completed; `partial` of them
(default half) when partly done (a merged `-part` PR); nothing while in progress. Several people
credited on one task each earn its points, unless the campaign says `split: true`: then they share
them equally. A PR a maintainer marked invalid credits nobody (decide steps its author back), so it
earns nothing here either.

The leaderboard lists everyone holding a claim: most points first; of equal points, whoever reached
them first (the moment their last credited stage was reached, from the stage history; a claim the
history does not know counts from its claim). People equal on both share a rank (1, 2, 2, 4), and
everyone without points shares the rank after the last who has some. People who only opened PRs
(never credited: the task was someone else's, or over a limit) have a standing but no rank.

Points are exact decimals (each task's share rounded to 4 places); the unit is given when every
task's points are rewards in one unit (`🌟`), else None (plain points).

This is the one source of the figures for the dashboard's leaderboard, a person's page, `/mine`, the
results `/close-campaign` posts and `bot report`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from operator import itemgetter
from typing import NamedTuple
from urllib.parse import quote

from bot.core.model import CampaignState, PrState, PullRequest, Stage, StageEvent
from bot.rules.models import CampaignRules, Task

__all__ = [
    "CREDITED",
    "Holding",
    "Reward",
    "Standing",
    "Standings",
    "as_number",
    "build_standings",
    "format_points",
    "page_path",
    "pr_label",
    "points_unit",
    "read_reward",
    "task_points",
]

CREDITED = (Stage.COMPLETED, Stage.PARTLY_DONE)
PLACES = Decimal("0.0001")  # a share of a task's points is rounded to this (sums stay exact)
DEFAULT_POINTS = Decimal(1)

# A number, then optionally a unit: a short run of anything but digits, spaces and punctuation
# that would make it a range or a list ("3-5", "100+", "1/2"). Possessive: linear on any input.
_REWARD = re.compile(r"\s*+([0-9]{1,12}+(?:\.[0-9]{1,8}+)?+)\s*+([^\d\s+\-~/.,;:()\[\]<>|]{1,16}+)?+\s*+")


@dataclass(frozen=True)
class Reward:
    """A reward read as a number, with its unit ("" when none)."""

    amount: Decimal
    unit: str


def read_reward(reward: str | int | float | None) -> Reward | None:
    """`500` -> 500; `"0.1🌟"` -> 0.1 in 🌟; `"1,000 元"`, `"a T-shirt"`, negative or not finite -> None."""
    if reward is None or isinstance(reward, bool):
        return None
    if isinstance(reward, (int, float)):
        if isinstance(reward, float) and not math.isfinite(reward):
            return None
        return Reward(Decimal(str(reward)), "") if reward >= 0 else None
    m = _REWARD.fullmatch(str(reward))
    if m is None:
        return None
    try:
        return Reward(Decimal(m.group(1)), m.group(2) or "")
    except InvalidOperation:  # pragma: no cover - the pattern lets only decimals through
        return None


def task_points(rules: CampaignRules, task: Task) -> Decimal:
    """What completing `task` earns one person (see the module docstring)."""
    reward = read_reward(task.reward)
    if reward is not None:
        return reward.amount
    table = rules.campaign.points
    if task.difficulty is not None:
        value = table.get(task.difficulty.strip())
        if value is not None:
            return Decimal(str(value))
    return DEFAULT_POINTS


def points_unit(rules: CampaignRules) -> str | None:
    """The unit points are in: the one unit of every task's reward, when every task's points are a reward
    with that same unit; None otherwise (plain points)."""
    units = set()
    for task in rules.tasks.values():
        reward = read_reward(task.reward)
        if reward is None or not reward.unit:
            return None
        units.add(reward.unit)
    return units.pop() if len(units) == 1 else None


def format_points(points: Decimal) -> str:
    """`Decimal("2.5000")` -> `2.5`, `Decimal("100")` -> `100` (no exponent, no trailing zeros)."""
    if points == points.to_integral_value():
        return str(int(points))
    return f"{points.normalize():f}"


def as_number(points: Decimal) -> int | float:
    """Points as a JSON number: an integer when whole."""
    return int(points) if points == points.to_integral_value() else float(points)


class Holding(NamedTuple):
    """One task of one person."""

    task: int
    title: str
    stage: Stage | None  # None: a PR of theirs names it, but they hold no claim on it (not credited)
    claimed_at: datetime | None
    lapses_at: datetime | None  # when the claim lapses without a PR (None: it cannot lapse)
    points: Decimal  # what it earns them now
    prs: tuple[PullRequest, ...]  # their PRs naming the task (reverts aside), by repository and number


class Standing(NamedTuple):
    """Where one person stands."""

    login: str
    rank: int | None  # None: holds no claim (only PRs that were not credited): not on the leaderboard
    points: Decimal
    completed: int  # tasks completed
    partly_done: int  # tasks partly done (a merged `-part` PR)
    in_progress: int  # tasks held, not yet (partly) done
    reached_at: datetime | None  # when they reached their points (None: no points)
    tasks: tuple[Holding, ...]  # by task id


@dataclass(frozen=True)
class Standings:
    unit: str | None  # the unit points are in (None: plain points)
    leaderboard: tuple[Standing, ...]  # everyone holding a claim, best first
    others: tuple[Standing, ...] = ()  # people with PRs but no claim (no rank), by login
    _index: dict[str, Standing] = field(default_factory=dict, compare=False, repr=False)

    def person(self, login: str) -> Standing | None:
        """`login`'s standing (case-insensitive); None when they have neither claim nor PR here."""
        if not self._index:
            self._index.update((s.login.lower(), s) for s in (*self.others, *self.leaderboard))
        return self._index.get(login.lower())

    @property
    def people(self) -> int:
        """How many are ranked."""
        return len(self.leaderboard)


_by_task = itemgetter(0)  # a Holding's task id


def _reached(history: list[StageEvent] | tuple[StageEvent, ...]) -> dict[tuple[int, str, Stage], datetime]:
    """The last time each (task, login lower, credited stage) was reached."""
    when: dict[tuple[int, str, Stage], datetime] = {}
    for e in history:
        if e.stage in CREDITED:
            key = (e.task, e.user.lower(), e.stage)
            if key not in when or e.at > when[key]:
                when[key] = e.at
    return when


def build_standings(
    rules: CampaignRules,
    state: CampaignState,
    history: list[StageEvent] | tuple[StageEvent, ...] = (),
    *,
    only: str | None = None,
) -> Standings:
    """Everyone's standing in the campaign (see the module docstring). `only`: the tasks (`Standing.tasks`)
    of this login alone are listed (`/mine`: everyone's points still rank them, nobody else's tasks are needed)."""
    tasks = rules.tasks
    campaign = rules.campaign
    partial = Decimal(str(campaign.partial))
    credited_on: dict[int, int] = {}
    for c in state.claims:
        if c.stage in CREDITED and c.task in tasks:
            credited_on[c.task] = credited_on.get(c.task, 0) + 1
    points_of = {tid: task_points(rules, t) for tid, t in tasks.items()}
    prs_of: dict[tuple[str, int], list[PullRequest]] = {}
    for p in state.prs:
        if p.revert:
            continue
        for tid in dict.fromkeys(p.tasks):
            if tid in tasks:
                prs_of.setdefault((p.author.lower(), tid), []).append(p)
    for lst in prs_of.values():
        lst.sort(key=lambda p: (p.repo.lower(), p.number))
    when = _reached(history)
    days = campaign.claim_policy.claim_expiry_days
    expiry = timedelta(days=days) if days else None
    earned_on: dict[tuple[int, Stage], Decimal] = {}  # (task, credited stage) -> what it earns one person
    none: tuple[PullRequest, ...] = ()
    zero = Decimal(0)

    mine = only.lower() if only is not None else None
    people: dict[str, list] = {}  # login lower -> [login, holdings, points, completed, partly, reached, tasks held]
    for c in state.claims:
        task = tasks.get(c.task)
        if task is None:
            continue
        low = c.user.lower()
        row = people.get(low)
        if row is None:
            row = people[low] = [c.user, [], zero, 0, 0, None, 0]
        stage = c.stage
        earned = zero
        if stage in CREDITED:
            key = (c.task, stage)
            cached = earned_on.get(key)
            if cached is None:
                share = points_of[c.task] / credited_on[c.task] if campaign.split else points_of[c.task]
                cached = earned_on[key] = (share if stage == Stage.COMPLETED else share * partial).quantize(
                    PLACES, ROUND_HALF_EVEN
                )
            earned = cached
            row[2] += earned
            if stage == Stage.COMPLETED:
                row[3] += 1
            else:
                row[4] += 1
            at = when.get((c.task, low, stage), c.claimed_at)
            if earned and (row[5] is None or at > row[5]):
                row[5] = at
        row[6] += 1
        if mine is not None and low != mine:
            continue
        # bot.core.expiry.lapses_at, inlined (a call per claim is most of the cost on a big campaign)
        lapse = (c.renewed_at or c.claimed_at) + expiry if expiry is not None and stage == Stage.CLAIMED else None
        row[1].append(Holding(c.task, task.title, stage, c.claimed_at, lapse, earned, tuple(prs_of.get((low, c.task), none))))
    ranked = []
    for login, hs, total, completed, partly, reached, held in people.values():
        hs.sort(key=_by_task)
        ranked.append(Standing(login, None, total, completed, partly, held - completed - partly, reached, tuple(hs)))
    ranked.sort(key=lambda s: (-s.points, s.reached_at is None, s.reached_at or datetime.min, s.login.lower()))
    board: list[Standing] = []
    for i, s in enumerate(ranked):
        prev = board[-1] if board else None
        same = prev is not None and prev.points == s.points and (prev.reached_at == s.reached_at or not s.points)
        board.append(s._replace(rank=prev.rank if same and prev is not None else i + 1))

    others: dict[str, list[tuple[int, tuple[PullRequest, ...]]]] = {}
    for (low, tid), ps in prs_of.items():
        if low not in people and (mine is None or low == mine):
            others.setdefault(low, []).append((tid, tuple(ps)))
    extra = []
    for items in others.values():
        items.sort(key=lambda item: item[0])
        rows = tuple(Holding(tid, tasks[tid].title, None, None, None, Decimal(0), ps) for tid, ps in items)
        extra.append(Standing(items[0][1][0].author, None, Decimal(0), 0, 0, 0, None, rows))
    extra.sort(key=lambda s: s.login.lower())
    return Standings(points_unit(rules), tuple(board), tuple(extra))


def page_path(slug: str, login: str) -> str:
    """Where a person's page is served: `/campaigns/<slug>/people/<login>` (each part URL-quoted)."""
    return f"/campaigns/{quote(slug, safe='')}/people/{quote(login, safe='')}"


def pr_label(p: PullRequest) -> str:
    """What became of a PR, as the pages and replies name it: open, merged, closed, or invalid (withdrawn)."""
    if p.withdrawn_by is not None:
        return "invalid"
    return p.state.value if isinstance(p.state, PrState) else str(p.state)
