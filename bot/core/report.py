"""The rewards report: who completed which task, with the PRs and dates that prove it. Pure.

`build_report(rules, state, history)` gathers, per participant, every task they completed
(or partly completed, for a `-part` PR) with its id, title, difficulty, reward (when the task
has one), the points it earns them (`bot.core.standing`), the merged PRs that credit it (a PR a
maintainer marked invalid credits nobody), and when it was completed (from the stage history;
None when the history does not know). People are in leaderboard order (points, then who reached
them first: the same figures and ranks as the dashboard and `/mine`).
Per task: who completed it (and who partly did). Totals: tasks completed, people credited, the
points earned, and the rewards summed where they add up (every reward a number with the same
unit, e.g. `0.1🌟`).
Renderers: `to_csv` (spreadsheet-safe: a cell that would start a formula is prefixed with `'`),
`to_json` (valid against `report.schema.json`, shipped next to this module), `to_markdown`
(wording from templates/<lang>/report.j2). The dashboard serves the
CSV at `GET /campaigns/<slug>/report.csv`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from bot.core import texts
from bot.core.model import CampaignState, Stage, StageEvent
from bot.core.standing import as_number, build_standings, format_points
from bot.core.texts import Lang
from bot.rules.models import CampaignRules

__all__ = [
    "SCHEMA_PATH",
    "PersonReport",
    "Report",
    "ReportLine",
    "TaskResult",
    "build_report",
    "reward_total",
    "to_csv",
    "to_json",
    "to_markdown",
]

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")

CREDITED = (Stage.COMPLETED, Stage.PARTLY_DONE)
CSV_COLUMNS = ("user", "task", "title", "difficulty", "reward", "points", "stage", "prs", "completed_at")


@dataclass(frozen=True)
class ReportLine:
    task: int
    title: str
    difficulty: str | None
    reward: str | None
    stage: Stage  # completed or partly_done
    prs: tuple[str, ...]  # URLs of the merged PRs of this person naming this task
    completed_at: datetime | None
    points: Decimal = Decimal(0)  # what the task earns this person (bot.core.standing)


@dataclass(frozen=True)
class PersonReport:
    user: str
    completed: int
    partly: int
    lines: tuple[ReportLine, ...]
    points: Decimal = Decimal(0)
    rank: int | None = None  # on the leaderboard (bot.core.standing)

    @property
    def reward(self) -> str | None:
        """The rewards of the completed tasks, summed (None when they do not add up or there are none)."""
        return reward_total([line.reward for line in self.lines if line.stage == Stage.COMPLETED])


@dataclass(frozen=True)
class TaskResult:
    """One task someone completed or partly did, and who."""

    task: int
    title: str
    difficulty: str | None
    reward: str | None
    completed_by: tuple[str, ...]
    partly_by: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    slug: str
    name: str
    language: Lang
    people: tuple[PersonReport, ...]
    tasks: tuple[TaskResult, ...] = ()
    total_tasks: int = 0  # tasks in the campaign
    unit: str | None = None  # the unit points are in (None: plain points)

    @property
    def points(self) -> Decimal:
        return sum((p.points for p in self.people), Decimal(0))

    @property
    def completed_tasks(self) -> int:
        return sum(1 for t in self.tasks if t.completed_by)

    @property
    def reward(self) -> str | None:
        return reward_total([line.reward for p in self.people for line in p.lines if line.stage == Stage.COMPLETED])


_AMOUNT = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(.*?)\s*$")


def reward_total(rewards: list[str | None]) -> str | None:
    """`0.1🌟` + `0.2🌟` -> `0.3🌟`; `500` + `300` -> `800`. None when there are none, or when any is
    missing, not a number, or in another unit than the rest (then the rewards are listed, not summed)."""
    if not rewards:
        return None
    total, unit = Decimal(0), None
    for r in rewards:
        m = _AMOUNT.match(r or "")
        if not m or (unit is not None and m.group(2) != unit):
            return None
        unit = m.group(2)
        try:
            total += Decimal(m.group(1))
        except InvalidOperation:  # pragma: no cover - the pattern only lets decimals through
            return None
    return f"{total.normalize():f}{unit}"


def build_report(rules: CampaignRules, state: CampaignState, history: list[StageEvent] | tuple[StageEvent, ...] = ()) -> Report:
    standings = build_standings(rules, state, history)
    when: dict[tuple[int, str, Stage], datetime] = {}
    for e in history:  # the last time each (task, user) reached each credited stage
        if e.stage in CREDITED:
            key = (e.task, e.user.lower(), e.stage)
            if key not in when or e.at > when[key]:
                when[key] = e.at
    merged: dict[tuple[int, str], list[str]] = {}
    for p in sorted(state.prs, key=lambda p: (p.repo.lower(), p.number)):
        if p.state == "merged" and p.credits:
            for t in dict.fromkeys(p.tasks):
                merged.setdefault((t, p.author.lower()), []).append(p.url)
    lines: dict[str, list[ReportLine]] = {}
    names: dict[str, str] = {}
    for c in state.claims:
        task = rules.tasks.get(c.task)
        if task is None or c.stage not in CREDITED:
            continue
        low = c.user.lower()
        names.setdefault(low, c.user)
        lines.setdefault(low, []).append(
            ReportLine(
                c.task,
                task.title,
                task.difficulty,
                None if task.reward is None else str(task.reward),
                c.stage,
                tuple(merged.get((c.task, low), ())),
                when.get((c.task, low, c.stage)),
            )
        )
    people = []
    order = {s.login.lower(): i for i, s in enumerate(standings.leaderboard)}
    for low, ls in lines.items():
        standing = standings.person(low)
        earned = {h.task: h.points for h in standing.tasks} if standing else {}
        ls = [replace(line, points=earned.get(line.task, Decimal(0))) for line in sorted(ls, key=lambda line: line.task)]
        done = sum(line.stage == Stage.COMPLETED for line in ls)
        people.append(
            PersonReport(
                names[low],
                done,
                len(ls) - done,
                tuple(ls),
                standing.points if standing else Decimal(0),
                standing.rank if standing else None,
            )
        )
    people.sort(key=lambda p: (order.get(p.user.lower(), len(order)), p.user.lower()))
    by_task: dict[int, tuple[list[str], list[str]]] = {}
    for person in people:
        for line in person.lines:
            by, partly_by = by_task.setdefault(line.task, ([], []))
            (by if line.stage == Stage.COMPLETED else partly_by).append(person.user)
    tasks = tuple(
        TaskResult(
            tid,
            rules.tasks[tid].title,
            rules.tasks[tid].difficulty,
            None if rules.tasks[tid].reward is None else str(rules.tasks[tid].reward),
            tuple(sorted(by, key=str.lower)),
            tuple(sorted(partly_by, key=str.lower)),
        )
        for tid, (by, partly_by) in sorted(by_task.items())
    )
    campaign = rules.campaign
    return Report(rules.slug, campaign.name, campaign.language, tuple(people), tasks, len(rules.tasks), standings.unit)


def _cell(value: object) -> str:
    """Text for a spreadsheet cell: never read as a formula."""
    s = "" if value is None else str(value)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def to_csv(report: Report) -> str:
    """One row per (person, credited task); columns CSV_COLUMNS."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    out.writerow(CSV_COLUMNS)
    for p in report.people:
        for line in p.lines:
            out.writerow(
                [
                    _cell(v)
                    for v in (
                        p.user,
                        line.task,
                        line.title,
                        line.difficulty,
                        line.reward,
                        format_points(line.points),
                        line.stage.value,
                        " ".join(line.prs),
                        line.completed_at.isoformat() if line.completed_at else "",
                    )
                ]
            )
    return buf.getvalue()


def to_json(report: Report) -> dict:
    """The report as JSON data, valid against `report.schema.json`."""
    return {
        "campaign": {"slug": report.slug, "name": report.name},
        "totals": {
            "tasks": report.total_tasks,
            "completed_tasks": report.completed_tasks,
            "people": len(report.people),
            "reward": report.reward,
            "points": as_number(report.points),
            "unit": report.unit,
        },
        "tasks": [
            {
                "id": t.task,
                "title": t.title,
                "difficulty": t.difficulty,
                "reward": t.reward,
                "completed_by": list(t.completed_by),
                "partly_done_by": list(t.partly_by),
            }
            for t in report.tasks
        ],
        "people": [
            {
                "user": p.user,
                "rank": p.rank,
                "points": as_number(p.points),
                "completed": p.completed,
                "partly_done": p.partly,
                "reward": p.reward,
                "tasks": [
                    {
                        "id": line.task,
                        "title": line.title,
                        "difficulty": line.difficulty,
                        "reward": line.reward,
                        "points": as_number(line.points),
                        "stage": line.stage.value,
                        "prs": list(line.prs),
                        "completed_at": line.completed_at.isoformat() if line.completed_at else None,
                    }
                    for line in p.lines
                ],
            }
            for p in report.people
        ],
    }


def to_markdown(report: Report, lang: Lang | None = None) -> str:
    """A Markdown table per person, in the campaign's language (or `lang`)."""
    return (
        texts.render(
            lang or report.language,
            "report.j2",
            report=report,
            cell=texts.escape_cell,
            url=texts.safe_url,
            points=format_points,
        ).strip()
        + "\n"
    )
