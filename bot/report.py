"""The rewards report: who completed which task, with the PRs and dates that prove it. Pure.

`build_report(rules, state, history)` gathers, per participant, every task they completed
(or partly completed, for a `-part` PR) with its id, title, difficulty, reward (when the task
has one), the merged PRs that credit it, and when it was completed (from the stage history;
None when the history does not know). People are ordered by completed tasks, then login.
Renderers: `to_csv` (spreadsheet-safe: a cell that would start a formula is prefixed with `'`),
`to_json`, `to_markdown` (wording from templates/<lang>/report.j2). The dashboard serves the
CSV at `GET /campaigns/<slug>/report.csv`.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from bot import texts
from bot.model import CampaignState, Stage, StageEvent
from bot.rules.models import CampaignRules

__all__ = ["PersonReport", "Report", "ReportLine", "build_report", "to_csv", "to_json", "to_markdown"]

CREDITED = (Stage.COMPLETED, Stage.PARTLY_DONE)
CSV_COLUMNS = ("user", "task", "title", "difficulty", "reward", "stage", "prs", "completed_at")


@dataclass(frozen=True)
class ReportLine:
    task: int
    title: str
    difficulty: str | None
    reward: str | None
    stage: Stage  # completed or partly_done
    prs: tuple[str, ...]  # URLs of the merged PRs of this person naming this task
    completed_at: datetime | None


@dataclass(frozen=True)
class PersonReport:
    user: str
    completed: int
    partly: int
    lines: tuple[ReportLine, ...]


@dataclass(frozen=True)
class Report:
    slug: str
    name: str
    language: str
    people: tuple[PersonReport, ...]


def build_report(rules: CampaignRules, state: CampaignState,
                 history: list[StageEvent] | tuple[StageEvent, ...] = ()) -> Report:
    when: dict[tuple[int, str, Stage], datetime] = {}
    for e in history:  # the last time each (task, user) reached each credited stage
        if e.stage in CREDITED:
            key = (e.task, e.user.lower(), e.stage)
            if key not in when or e.at > when[key]:
                when[key] = e.at
    merged: dict[tuple[int, str], list[str]] = {}
    for p in sorted(state.prs, key=lambda p: (p.repo.lower(), p.number)):
        if p.state == "merged" and not p.revert:
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
        lines.setdefault(low, []).append(ReportLine(
            c.task, task.title, task.difficulty, None if task.reward is None else str(task.reward), c.stage,
            tuple(merged.get((c.task, low), ())), when.get((c.task, low, c.stage))))
    people = []
    for low, ls in lines.items():
        ls.sort(key=lambda line: line.task)
        done = sum(line.stage == Stage.COMPLETED for line in ls)
        people.append(PersonReport(names[low], done, len(ls) - done, tuple(ls)))
    people.sort(key=lambda p: (-p.completed, -p.partly, p.user.lower()))
    campaign = rules.campaign
    return Report(rules.slug, campaign.name, campaign.language, tuple(people))


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
            out.writerow([_cell(v) for v in (p.user, line.task, line.title, line.difficulty, line.reward, line.stage.value,
                                             " ".join(line.prs),
                                             line.completed_at.isoformat() if line.completed_at else "")])
    return buf.getvalue()


def to_json(report: Report) -> dict:
    return {
        "campaign": {"slug": report.slug, "name": report.name},
        "people": [{"user": p.user, "completed": p.completed, "partly_done": p.partly,
                    "tasks": [{"id": line.task, "title": line.title, "difficulty": line.difficulty, "reward": line.reward,
                               "stage": line.stage.value, "prs": list(line.prs),
                               "completed_at": line.completed_at.isoformat() if line.completed_at else None}
                              for line in p.lines]}
                   for p in report.people],
    }


def to_markdown(report: Report, lang: str | None = None) -> str:
    """A Markdown table per person, in the campaign's language (or `lang`)."""
    return texts.render(lang or report.language, "report.j2", report=report, cell=texts.escape_cell,
                        url=texts.safe_url).strip() + "\n"
