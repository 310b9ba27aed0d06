"""The dashboard's data: rules + campaign state + stage history + now -> one `Dashboard`.

Pure. The web pages (`bot.web`) render it as HTML and JSON; nothing here does I/O or knows
about HTML. The numbers are the board's (`bot.board`): a task is *claimed* when someone holds
it, *submitted* when a holder reached a PR stage (RFC submitted or further), *completed* when a
holder completed it; the rates are over all the campaign's tasks.

The leaderboard is `bot.core.standing`'s: points (a task's numeric reward, else the campaign's
points for its difficulty, else 1; half for a partly done task), ties to whoever reached their
points first; the same figures `/mine`, a person's page, the results and `bot report` give.

The time series replays the stage history (`StageEvent`s the store records with each state
change) day by day, counting tasks the same way, so its last point equals today's totals.
Claims the history does not know (recorded before the history existed) count from their
`claimed_at` at their current stage.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from bot.core.board import _claims_by_task, _prs_by_claim, _stats
from bot.core.model import STAGE_RANK, CampaignState, Stage, StageEvent
from bot.core.review import task_url
from bot.core.standing import Standing, Standings, as_number, build_standings, pr_label
from bot.core.texts import Lang
from bot.rules.models import CampaignRules

__all__ = ["STALE_AFTER", "Dashboard", "build_dashboard", "person_json", "to_json"]

STALE_AFTER = timedelta(days=7)  # a claim with no PR after this long is listed as stale
RECENT = 20  # recently completed shown
_SUBMITTED = STAGE_RANK[Stage.RFC_SUBMITTED]
_COMPLETED = STAGE_RANK[Stage.COMPLETED]


class Counts(NamedTuple):
    tasks: int
    claimed: int
    submitted: int
    completed: int

    def rate(self, n: int) -> float:
        return round(100 * n / self.tasks, 1) if self.tasks else 0.0


class Track(NamedTuple):
    name: str | None  # None: tasks without a track
    counts: Counts


class PrLink(NamedTuple):
    repo: str
    number: int
    url: str
    kind: str  # rfc | code
    state: str  # open | merged | closed


class Holder(NamedTuple):
    user: str
    stage: Stage
    claimed_at: datetime
    team: str | None
    prs: tuple[PrLink, ...]


class TaskRow(NamedTuple):
    id: int
    title: str
    difficulty: str | None
    track: str | None
    url: str | None
    closed: bool  # closed to claims (by a maintainer, or the task's status is not open)
    stage: Stage | None  # the furthest holder's stage; None: free
    holders: tuple[Holder, ...]
    reward: str | None


class Person(NamedTuple):
    login: str
    claimed: int
    submitted: int
    completed: int
    tasks: tuple[tuple[int, Stage], ...]  # (task id, stage), by task id


class Stale(NamedTuple):
    task: int
    title: str
    user: str
    claimed_at: datetime
    age_days: int


class Done(NamedTuple):
    task: int
    title: str
    user: str
    at: datetime


class Day(NamedTuple):
    day: date
    claimed: int  # cumulative: tasks held at the end of the day
    submitted: int
    completed: int


@dataclass(frozen=True)
class Dashboard:
    slug: str
    name: str
    language: Lang
    tracker: str | None
    generated_at: datetime
    total: Counts
    closed_at: datetime | None  # the campaign was closed (/close-campaign) then; None: open
    closed: int
    tracks: tuple[Track, ...]
    series: tuple[Day, ...]
    free: tuple[tuple[int, str], ...]  # (id, title): open tasks nobody ever claimed
    stale: tuple[Stale, ...]
    recent: tuple[Done, ...]
    people: tuple[Person, ...]  # the board's per-person counts (claimed, submitted, completed)
    tasks: tuple[TaskRow, ...]
    standings: Standings = dataclasses.field(
        default_factory=lambda: Standings(None, ())
    )  # points and ranks: the leaderboard, and each person's page

    @property
    def leaderboard(self) -> tuple[Standing, ...]:
        return self.standings.leaderboard


def _counts(c) -> Counts:
    return Counts(c.tasks, c.claimed, c.submitted, c.completed)


def replay(rules: CampaignRules, state: CampaignState, history: list[StageEvent] | tuple[StageEvent, ...]) -> tuple[Day, ...]:
    """Claimed / submitted / completed tasks at the end of each day, from the first event to the last.

    Events on tasks the rules no longer know are skipped. Current claims with no event at all
    count from their `claimed_at` at their current stage."""
    known = rules.tasks
    seen = {(e.task, e.user.lower()) for e in history}
    events = [e for e in history if e.task in known]
    events += [
        StageEvent(c.claimed_at, c.task, c.user, c.stage)
        for c in state.claims
        if c.task in known and (c.task, c.user.lower()) not in seen
    ]
    if not events:
        return ()
    events.sort(key=lambda e: e.at)
    holders: dict[int, dict[str, int]] = {}  # task -> user -> stage rank
    best: dict[int, int] = {}  # task -> best rank, only for held tasks
    n = [0, 0, 0]  # claimed, submitted, completed

    def bump(rank: int | None, by: int) -> None:
        if rank is None:
            return
        n[0] += by
        n[1] += by * (rank >= _SUBMITTED)
        n[2] += by * (rank == _COMPLETED)

    out: list[Day] = []
    day = events[0].at.date()
    for e in events:
        d = e.at.date()
        if d != day:
            out.append(Day(day, *n))
            day = d
        users = holders.setdefault(e.task, {})
        low = e.user.lower()
        old = best.get(e.task)
        if e.stage is None:
            gone = users.pop(low, None)
            new = old if gone is None or gone != old else (max(users.values()) if users else None)
        else:
            rank = STAGE_RANK[e.stage]
            prev = users.get(low)
            users[low] = rank
            if old is None or rank >= old:
                new = rank
            elif prev == old:  # the best holder went back: look again
                new = max(users.values())
            else:
                new = old
        if old != new:
            bump(old, -1)
            bump(new, +1)
            if new is None:
                best.pop(e.task, None)
            else:
                best[e.task] = new
    out.append(Day(day, *n))
    # one point per calendar day, gaps filled with the previous day's values
    filled: list[Day] = []
    for point in out:
        while filled and filled[-1].day + timedelta(days=1) < point.day:
            last = filled[-1]
            filled.append(Day(last.day + timedelta(days=1), last.claimed, last.submitted, last.completed))
        filled.append(point)
    return tuple(filled)


def stale_claims(rules: CampaignRules, state: CampaignState, now: datetime) -> tuple[Stale, ...]:
    """Claims still at "claimed" (no PR) after STALE_AFTER, oldest first, with their age in days."""
    out = [
        Stale(c.task, rules.tasks[c.task].title, c.user, c.claimed_at, (now - c.claimed_at).days)
        for c in state.claims
        if c.stage == Stage.CLAIMED and c.task in rules.tasks and now - c.claimed_at >= STALE_AFTER
    ]
    out.sort(key=lambda s: (s.claimed_at, s.task, s.user.lower()))
    return tuple(out)


def at(d: Dashboard, rules: CampaignRules, state: CampaignState, now: datetime) -> Dashboard:
    """`d` (built earlier from the same state and history) as of `now`: what depends on the
    clock (stale claims and their ages, the time stamp) again. Same result as building anew."""
    return dataclasses.replace(d, generated_at=now, stale=stale_claims(rules, state, now))


def build_dashboard(
    rules: CampaignRules, state: CampaignState, history: list[StageEvent] | tuple[StageEvent, ...], now: datetime
) -> Dashboard:
    """Everything the campaign page shows."""
    claims = _claims_by_task(rules, state)
    stats = _stats(rules, state, claims)
    prs = _prs_by_claim(state)
    links_of = {key: tuple(PrLink(p.repo, p.number, p.url, p.kind, p.state) for p in ps) for key, ps in prs.items()}
    ever = {e.task for e in history} | set(claims)
    closed = state.closed_tasks
    rank = STAGE_RANK
    rows: list[TaskRow] = []
    free: list[tuple[int, str]] = []
    tasks = rules.tasks
    for tid in sorted(tasks):
        t = tasks[tid]
        cs = claims.get(tid)
        if cs:
            holders = tuple(Holder(c.user, c.stage, c.claimed_at, c.team, links_of.get((tid, c.user.lower()), ())) for c in cs)
            top: Stage | None = max(cs, key=lambda c: rank[c.stage]).stage
        else:
            holders, top = (), None
        shut = tid in closed or not t.open_to_claims
        rows.append(
            TaskRow(
                tid,
                t.title,
                t.difficulty,
                t.track,
                task_url(rules, t),
                shut,
                top,
                holders,
                None if t.reward is None else str(t.reward),
            )
        )
        if tid not in ever and not shut:
            free.append((tid, t.title))
    # recently completed: the latest time each (task, user) reached "completed" and still holds it
    done_at: dict[tuple[int, str], datetime] = {}
    for e in history:
        if e.stage == Stage.COMPLETED:
            key = (e.task, e.user.lower())
            if key not in done_at or e.at > done_at[key]:
                done_at[key] = e.at
    recent = []
    for c in state.claims:
        if c.stage == Stage.COMPLETED and c.task in rules.tasks:
            at = done_at.get((c.task, c.user.lower()), c.claimed_at)
            recent.append(Done(c.task, rules.tasks[c.task].title, c.user, at))
    recent.sort(key=lambda d: (d.at, d.task), reverse=True)
    mine: dict[str, list[tuple[int, Stage]]] = {}
    for tid in sorted(claims):
        for c in claims[tid]:
            mine.setdefault(c.user.lower(), []).append((tid, c.stage))
    people = tuple(Person(login, cl, sub, done, tuple(mine.get(login.lower(), ()))) for login, cl, sub, done in stats.people)
    if stats.tracks:
        tracks = tuple(Track(name, _counts(c)) for name, c in stats.tracks)
    else:
        tracks = ()
    campaign = rules.campaign
    return Dashboard(
        slug=rules.slug,
        name=campaign.name,
        language=campaign.language,
        tracker=campaign.tracker,
        generated_at=now,
        total=_counts(stats.total),
        closed_at=state.closed_at,
        closed=stats.closed,
        tracks=tracks,
        series=replay(rules, state, history),
        free=tuple(free),
        stale=stale_claims(rules, state, now),
        recent=tuple(recent[:RECENT]),
        people=people,
        tasks=tuple(rows),
        standings=build_standings(rules, state, history),
    )


def _iso(t: datetime | date) -> str:
    return t.isoformat()


def to_json(d: Dashboard) -> dict:
    """The documented JSON shape of `GET /campaigns/<slug>.json` (see docs/dashboard.md)."""

    def counts(c: Counts) -> dict:
        return {
            "tasks": c.tasks,
            "claimed": c.claimed,
            "submitted": c.submitted,
            "completed": c.completed,
            "claimed_rate": c.rate(c.claimed),
            "submitted_rate": c.rate(c.submitted),
            "completed_rate": c.rate(c.completed),
        }

    return {
        "campaign": {
            "slug": d.slug,
            "name": d.name,
            "language": d.language,
            "tracker": d.tracker,
            "closed_at": _iso(d.closed_at) if d.closed_at else None,
        },
        "generated_at": _iso(d.generated_at),
        "total": counts(d.total) | {"closed": d.closed},
        "tracks": [{"name": t.name} | counts(t.counts) for t in d.tracks],
        "series": [
            {"day": _iso(p.day), "claimed": p.claimed, "submitted": p.submitted, "completed": p.completed} for p in d.series
        ],
        "free": [{"id": i, "title": title} for i, title in d.free],
        "stale": [
            {"task": s.task, "title": s.title, "user": s.user, "claimed_at": _iso(s.claimed_at), "age_days": s.age_days}
            for s in d.stale
        ],
        "recently_completed": [{"task": r.task, "title": r.title, "user": r.user, "at": _iso(r.at)} for r in d.recent],
        "leaderboard": [_leader(s, d.standings.unit) for s in d.leaderboard],
        "tasks": [
            {
                "id": t.id,
                "title": t.title,
                "difficulty": t.difficulty,
                "track": t.track,
                "url": t.url,
                "closed": t.closed,
                "stage": t.stage.value if t.stage else None,
                "reward": t.reward,
                "holders": [
                    {
                        "user": h.user,
                        "stage": h.stage.value,
                        "claimed_at": _iso(h.claimed_at),
                        "team": h.team,
                        "prs": [
                            {"repo": p.repo, "number": p.number, "url": p.url, "kind": p.kind, "state": p.state} for p in h.prs
                        ],
                    }
                    for h in t.holders
                ],
            }
            for t in d.tasks
        ],
    }


def _leader(s: Standing, unit: str | None) -> dict:
    held = [h for h in s.tasks if h.stage is not None]
    return {
        "rank": s.rank,
        "login": s.login,
        "user": s.login,
        "points": as_number(s.points),
        "unit": unit,
        "completed": s.completed,
        "partly_done": s.partly_done,
        "in_progress": s.in_progress,
        "claimed": len(held),
        "submitted": sum(1 for h in held if h.stage is not None and STAGE_RANK[h.stage] >= _SUBMITTED),
        "tasks": [{"id": h.task, "stage": h.stage.value} for h in held if h.stage is not None],
    }


def person_json(d: Dashboard, s: Standing, urls: dict[int, str | None]) -> dict:
    """The documented JSON shape of `GET /campaigns/<slug>/people/<login>.json` (see docs/dashboard.md);
    `urls`: each task's link into the collection."""
    return {
        "campaign": {"slug": d.slug, "name": d.name},
        "login": s.login,
        "rank": s.rank,
        "people": d.standings.people,
        "points": as_number(s.points),
        "unit": d.standings.unit,
        "completed": s.completed,
        "partly_done": s.partly_done,
        "in_progress": s.in_progress,
        "tasks": [
            {
                "id": h.task,
                "title": h.title,
                "url": urls.get(h.task),
                "stage": h.stage.value if h.stage else None,
                "claimed_at": _iso(h.claimed_at) if h.claimed_at else None,
                "lapses_at": _iso(h.lapses_at) if h.lapses_at else None,
                "points": as_number(h.points),
                "prs": [
                    {"repo": p.repo, "number": p.number, "url": p.url, "kind": p.kind.value, "state": pr_label(p)} for p in h.prs
                ],
            }
            for h in s.tasks
        ],
    }
