"""The tracker board: campaign state -> Markdown between hidden markers, spliced into the issue body.

Pure. `render_board` builds the board (a summary with per-track rates, one row per task,
per-person counts) from the rules and the state; it is deterministic (no timestamps) so an
unchanged state gives a byte-identical board and the shell can skip the edit. `splice_board`
puts it into the tracker issue body, replacing the previous board and keeping every other
byte the organiser wrote.

User-controlled text (titles, logins, difficulty, track names) goes through `escape_cell`, so
a `|`, `<`, newline, backtick or bracket can neither break the table nor spoof a marker or a
link. PR references are written as `owner/repo#N` (`#N` in the tracker's own repo), which
GitHub turns into links and which keep a 1,000-claim board well under the issue-body limit.
Claims on task ids the rules no longer know are left out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot import texts
from bot.model import CampaignState, Claim, PullRequest, Stage
from bot.rules.models import CampaignRules, Task
from bot.review import task_url
from bot.texts import escape_cell

__all__ = ["BOARD_START", "BOARD_END", "render_board", "splice_board", "escape_cell", "board_stats"]

BOARD_START = "<!-- hackathon-bot:board:start -->"
BOARD_END = "<!-- hackathon-bot:board:end -->"
BODY_LIMIT = 65536  # GitHub's issue-body limit

_SUBMITTED = Stage.RFC_SUBMITTED.rank


@dataclass(frozen=True)
class Counts:
    tasks: int = 0
    claimed: int = 0
    submitted: int = 0
    completed: int = 0


@dataclass(frozen=True)
class Stats:
    total: Counts
    closed: int
    tracks: tuple[tuple[str | None, Counts], ...]  # empty when no task has a track
    people: tuple[tuple[str, int, int, int], ...]  # (login, claimed, submitted, completed), best first


def _index(rules: CampaignRules, state: CampaignState):
    claims: dict[int, list[Claim]] = {}
    for c in state.claims:
        if c.task in rules.tasks:
            claims.setdefault(c.task, []).append(c)
    for lst in claims.values():
        lst.sort(key=lambda c: (c.claimed_at, c.user.lower()))
    prs: dict[tuple[int, str], list[PullRequest]] = {}
    for p in state.prs:
        if p.revert or p.state == "closed":
            continue
        for t in dict.fromkeys(p.tasks):
            prs.setdefault((t, p.author.lower()), []).append(p)
    for lst in prs.values():
        lst.sort(key=lambda p: (p.kind != "rfc", p.repo.lower(), p.number))
    return claims, prs


def _task_counts(tasks: list[Task], claims: dict[int, list[Claim]]) -> Counts:
    claimed = submitted = completed = 0
    for t in tasks:
        cs = claims.get(t.id, [])
        if cs:
            claimed += 1
        if any(c.stage.rank >= _SUBMITTED for c in cs):
            submitted += 1
        if any(c.stage == Stage.COMPLETED for c in cs):
            completed += 1
    return Counts(len(tasks), claimed, submitted, completed)


def board_stats(rules: CampaignRules, state: CampaignState) -> Stats:
    """The numbers the board's summary shows (also used by /status)."""
    claims, _ = _index(rules, state)
    tasks = [rules.tasks[k] for k in sorted(rules.tasks)]
    tracks: tuple = ()
    if any(t.track for t in tasks):
        names = sorted({t.track for t in tasks if t.track})
        groups = [(n, [t for t in tasks if t.track == n]) for n in names]
        rest = [t for t in tasks if not t.track]
        if rest:
            groups.append((None, rest))
        tracks = tuple((n, _task_counts(ts, claims)) for n, ts in groups)
    people: dict[str, list] = {}
    for tid in sorted(claims):
        for c in claims[tid]:
            row = people.setdefault(c.user.lower(), [c.user, 0, 0, 0, c.claimed_at])
            if c.claimed_at < row[4]:
                row[0], row[4] = c.user, c.claimed_at
            row[1] += 1
            row[2] += c.stage.rank >= _SUBMITTED
            row[3] += c.stage == Stage.COMPLETED
    ranked = sorted(people.values(), key=lambda r: (-r[3], -r[2], -r[1], r[0].lower()))
    return Stats(
        total=_task_counts(tasks, claims),
        closed=sum(1 for t in tasks if t.id in state.closed_tasks),
        tracks=tracks,
        people=tuple((r[0], r[1], r[2], r[3]) for r in ranked),
    )


def _pr_ref(p: PullRequest, tracker_repo: str | None) -> str:
    if tracker_repo and p.repo.lower() == tracker_repo.lower():
        return f"#{p.number}"
    return f"{escape_cell(p.repo)}#{p.number}"


def _rows(rules: CampaignRules, state: CampaignState, links: bool, pr_refs: bool = True) -> list[dict]:
    claims, prs = _index(rules, state)
    tracker = rules.campaign.tracker_repo
    rows = []
    for tid in sorted(rules.tasks):
        t = rules.tasks[tid]
        people = []
        for c in claims.get(tid, []):
            refs = ([{"kind": p.kind, "ref": _pr_ref(p, tracker)} for p in prs.get((tid, c.user.lower()), [])]
                    if pr_refs else [])
            people.append({
                "user": escape_cell(c.user),
                "stage": c.stage.value,
                "prs": refs,
                "link": texts.safe_url(c.link) if c.link and pr_refs and not refs else None,
                "team": escape_cell(c.team) if c.team else None,
            })
        rows.append({
            "id": tid,
            "difficulty": escape_cell(t.difficulty or ""),
            "title": escape_cell(t.title),
            "url": (texts.safe_url(task_url(rules, t)) if links else None),
            "closed": tid in state.closed_tasks,
            "claimants": people,
            "completed": [p["user"] for p, c in zip(people, claims.get(tid, [])) if c.stage == Stage.COMPLETED],
            "partly": [p["user"] for p, c in zip(people, claims.get(tid, [])) if c.stage == Stage.PARTLY_DONE],
        })
    return rows


def _pct(n: int, total: int) -> str:
    return f"{(100 * n / total):.0f}%" if total else "0%"


# Ever more compact renderings, tried in order until the board fits an issue body.
_LEVELS = (
    ({"links": True, "pr_refs": True}, None),
    ({"links": False, "pr_refs": True}, None),
    ({"links": False, "pr_refs": False}, None),
    ({"links": False, "pr_refs": False}, 100),  # (row options, how many people the per-person table lists)
)


def render_board(rules: CampaignRules, state: CampaignState, lang: str) -> str:
    """The whole board, BOARD_START ... BOARD_END. Deterministic.

    When the board would not leave 8 KiB of the 65,536-character issue body for the organiser's
    text, it drops the title links, then the PR references (stages stay), then lists only the
    first 100 people of the per-person table (the best first; the total is still given).
    """
    stats = board_stats(rules, state)
    out = ""
    for level, people in _LEVELS:
        out = texts.render(
            lang, "board.j2",
            start=BOARD_START, end=BOARD_END, campaign=rules.campaign, stats=stats,
            people=stats.people[:people] if people else stats.people,
            rows=_rows(rules, state, **level), pct=_pct, cell=escape_cell,
        ).strip("\n")
        if len(out) <= BODY_LIMIT - 8192:  # leave room for the organiser's text
            break
    return out


_REGION = re.compile(re.escape(BOARD_START) + r"(?:(?!" + re.escape(BOARD_START) + r").)*?" + re.escape(BOARD_END), re.DOTALL)


def splice_board(issue_body: str, board: str) -> str:
    """Replace the marked board region of the tracker body, or append the board after the organiser's text.

    Everything outside the region is kept byte-for-byte. A stray start marker with no end
    after it is ignored (the region is the first start..end pair with no start inside).
    """
    body = issue_body or ""
    m = _REGION.search(body)
    if m:
        return body[: m.start()] + board + body[m.end():]
    if not body:
        return board + "\n"
    sep = "" if body.endswith("\n\n") else ("\n" if body.endswith("\n") else "\n\n")
    return body + sep + board + "\n"
