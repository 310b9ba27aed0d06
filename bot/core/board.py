"""The tracker board: campaign state -> Markdown between hidden markers, spliced into the issue body.

Pure. `render_board` builds the board (a summary with per-track rates, one row per task,
per-person counts) from the rules and the state; it is deterministic (no timestamps) so an
unchanged state gives a byte-identical board and the shell can skip the edit. `splice_board`
puts it into the tracker issue body, replacing the previous board and keeping every other
byte the organiser wrote.

User-controlled text (titles, logins, difficulty, track names) goes through `escape_cell`, so
a `|`, `<`, newline, backtick or bracket can neither break the table nor spoof a marker or a
link. PR references are written as `owner/repo#N` (`#N` in the tracker's own repo), which
GitHub turns into links. Claims on task ids the rules no longer know are left out.

Size: the board leaves 8 KiB of GitHub's 65,536-character issue body to the organiser; when the
organiser wrote more, `tracker_body` lays it out again in the room left (down to a minimal
board: totals and `/status`), so the tracker body never exceeds the limit.
It is laid out at the most detailed of a fixed series of levels that fits (see `render_board`);
big campaigns (thousands of tasks) get a compact layout that lists only tasks with claimants
or closed to claims, the free tasks as id ranges, and then cuts further, deterministically,
until it fits. Table rows are built here as plain strings (the wording comes from
`board.j2`'s `words`), each once, and the level is chosen from their lengths; the template
renders only the frame, so one board costs one pass over the state.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import accumulate
from typing import Any

from bot.core import texts
from bot.core.model import STAGE_RANK, CampaignState, Claim, PrKind, PrState, PullRequest, Stage
from bot.core.review import task_url
from bot.core.texts import Lang, escape_cell
from bot.rules.models import CampaignRules, Task

__all__ = [
    "BOARD_END",
    "BOARD_START",
    "BODY_LIMIT",
    "board_stats",
    "escape_cell",
    "render_board",
    "splice_board",
    "tracker_body",
]

BOARD_START = "<!-- hackathon-bot:board:start -->"
BOARD_END = "<!-- hackathon-bot:board:end -->"
BODY_LIMIT = 65536  # GitHub's issue-body limit
ROOM = 8192  # left to the organiser's own text in the tracker body
PEOPLE_CAP = 100  # participants listed once the board is crowded (the total is still given)
MAX_SHOWN = 8  # in the cut-down layout, at most this many claimants per row before "+N more"

_SUBMITTED = STAGE_RANK[Stage.RFC_SUBMITTED]


# ---- escaping, fast: the same output as escape_cell, by one str.translate


def _probe_table() -> dict[int, str]:
    """escape_cell's replacement of each single character it changes (found by asking it)."""
    chars = [chr(i) for i in range(0x80)] + ["\x85", "\u2028", "\u2029"]
    return {ord(c): escape_cell(c) for c in chars if c != "\r" and escape_cell(c) != c}


_ESCAPES = _probe_table()


def _esc(text: object) -> str:
    s = str(text)
    if "\r" in s or "://" in s or "www." in s.lower():  # line breaks and bare URLs: escape_cell's slow path
        return escape_cell(s)
    return s.translate(_ESCAPES)


# Logins and titles come back at every render of a board: escaped once (bounded).
_esc_name = lru_cache(maxsize=1 << 16)(_esc)


# ---- numbers


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


def _claims_by_task(rules: CampaignRules, state: CampaignState) -> dict[int, list[Claim]]:
    claims: dict[int, list[Claim]] = {}
    tasks = rules.tasks
    for c in state.claims:
        if c.task in tasks:
            claims.setdefault(c.task, []).append(c)
    for lst in claims.values():
        if len(lst) > 1:
            lst.sort(key=lambda c: (c.claimed_at, c.user.lower()))
    return claims


def _prs_by_claim(state: CampaignState) -> dict[tuple[int, str], list[PullRequest]]:
    prs: dict[tuple[int, str], list[PullRequest]] = {}
    for p in state.prs:
        if not p.credits or p.state == PrState.CLOSED:  # reverts and PRs marked invalid count for nobody
            continue
        for t in dict.fromkeys(p.tasks):
            prs.setdefault((t, p.author.lower()), []).append(p)
    for lst in prs.values():
        if len(lst) > 1:
            lst.sort(key=lambda p: (p.kind != PrKind.RFC, p.repo.lower(), p.number))
    return prs


def _index(rules: CampaignRules, state: CampaignState):
    return _claims_by_task(rules, state), _prs_by_claim(state)


def _task_counts(tasks: list[Task], best: dict[int, int]) -> Counts:
    """Counts over `tasks`, given each claimed task's furthest stage rank."""
    ranks = [best[t.id] for t in tasks if t.id in best]
    top = STAGE_RANK[Stage.COMPLETED]
    return Counts(len(tasks), len(ranks), sum(r >= _SUBMITTED for r in ranks), sum(r == top for r in ranks))


def _stats(rules: CampaignRules, state: CampaignState, claims: dict[int, list[Claim]]) -> Stats:
    tasks = [rules.tasks[k] for k in sorted(rules.tasks)]
    rank = STAGE_RANK
    best = {tid: max(rank[c.stage] for c in cs) for tid, cs in claims.items()}
    tracks: tuple = ()
    if any(t.track for t in tasks):
        groups: dict[str, list[Task]] = {}
        rest: list[Task] = []
        for t in tasks:
            if t.track:
                groups.setdefault(t.track, []).append(t)
            else:
                rest.append(t)
        named: list[tuple[str | None, list[Task]]] = [(n, groups[n]) for n in sorted(groups)]
        if rest:
            named.append((None, rest))
        tracks = tuple((n, _task_counts(ts, best)) for n, ts in named)
    people: dict[str, list] = {}
    top = rank[Stage.COMPLETED]
    for tid in sorted(claims):
        for c in claims[tid]:
            low = c.user.lower()
            row = people.get(low)
            if row is None:
                row = people[low] = [c.user, 0, 0, 0, c.claimed_at]
            elif c.claimed_at < row[4]:
                row[0], row[4] = c.user, c.claimed_at
            r = rank[c.stage]
            row[1] += 1
            if r >= _SUBMITTED:
                row[2] += 1
                row[3] += r == top
    ranked = sorted(people.values(), key=lambda r: (-r[3], -r[2], -r[1], r[0].lower()))
    closed = state.closed_tasks
    return Stats(
        total=_task_counts(tasks, best),
        closed=sum(1 for t in tasks if t.id in closed),
        tracks=tracks,
        people=tuple((r[0], r[1], r[2], r[3]) for r in ranked),
    )


def board_stats(rules: CampaignRules, state: CampaignState) -> Stats:
    """The numbers the board's summary shows (also used by /status)."""
    return _stats(rules, state, _claims_by_task(rules, state))


# ---- rows as data (for /status)


def _pr_ref(p: PullRequest, tracker_repo: str | None) -> str:
    if tracker_repo and p.repo.lower() == tracker_repo.lower():
        return f"#{p.number}"
    return f"{_esc(p.repo)}#{p.number}"


def _rows(rules: CampaignRules, state: CampaignState, links: bool, pr_refs: bool = True) -> list[dict]:
    """One dict per task (claimants with their stage, PRs, link, team): what `/status` renders."""
    claims, prs = _index(rules, state)
    tracker = rules.campaign.tracker_repo
    rows = []
    for tid in sorted(rules.tasks):
        t = rules.tasks[tid]
        people = []
        for c in claims.get(tid, []):
            refs = [{"kind": p.kind, "ref": _pr_ref(p, tracker)} for p in prs.get((tid, c.user.lower()), [])] if pr_refs else []
            people.append(
                {
                    "user": _esc(c.user),
                    "stage": c.stage.value,
                    "prs": refs,
                    "link": texts.safe_url(c.link) if c.link and pr_refs and not refs else None,
                    "team": _esc(c.team) if c.team else None,
                }
            )
        rows.append(
            {
                "id": tid,
                "difficulty": _esc(t.difficulty or ""),
                "title": _esc(t.title),
                "url": (texts.safe_url(task_url(rules, t)) if links else None),
                "closed": tid in state.closed_tasks,
                "claimants": people,
                "completed": [p["user"] for p, c in zip(people, claims.get(tid, [])) if c.stage == Stage.COMPLETED],
                "partly": [p["user"] for p, c in zip(people, claims.get(tid, [])) if c.stage == Stage.PARTLY_DONE],
            }
        )
    return rows


# ---- the board


@cache
def _words(lang: Lang) -> dict:
    """The wording `board.j2` gives the rows built here (stage names, separators, markers)."""
    return dict(getattr(texts.template(lang, "board.j2").module, "words"))  # noqa: B009 - a template's macro module


def _pct(n: int, total: int) -> str:
    return f"{(100 * n / total):.0f}%" if total else "0%"


def _runs(ids: list[int]) -> list[tuple[int, int]]:
    """Sorted ids -> runs of consecutive ids, (first, last)."""
    out: list[tuple[int, int]] = []
    for i in ids:
        if out and i == out[-1][1] + 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


# where the built pieces go in the rendered frame ('<' never survives escaping, so user text cannot fake one)
WITHDRAWN_SHOWN = 50  # tasks withdrawn from the rules listed on the board with their holders, at most
_PH = {"rows": "<<rows>>", "people": "<<people>>", "free": "<<free>>", "rest": "<<rest>>"}


class _Board:
    """One board being laid out: the pieces are built once, on demand, and measured."""

    def __init__(self, rules: CampaignRules, state: CampaignState, lang: Lang):
        self.rules, self.state, self.lang, self.w = rules, state, lang, _words(lang)
        self.claims = _claims_by_task(rules, state)
        self.stats = _stats(rules, state, self.claims)
        self.ids = sorted(rules.tasks)
        self.closed = state.closed_tasks
        self._users: dict[str, str] = {}
        self._order: dict[int, list[str]] = {}
        self._titles = [_esc_name(rules.tasks[t].title) for t in self.ids]
        # each claimant with its stage, or the day of the claim (so stale claims show), and team, no PRs:
        # "@alice (PR submitted)", "@bob (since 01-05)"
        self.short: dict[int, list[str]] = {}
        for tid, cs in self.claims.items():
            self.short[tid] = [self._claimant(c, self._stage(c), ()) for c in cs]
        self.withdrawn = self._withdrawn()

    def _withdrawn(self, shown: int = WITHDRAWN_SHOWN) -> str:
        """Tasks no longer in the rules that still have holders (recorded, but counted toward no
        limit): "No.12 (@alice, @bob); No.13 (@carol)", the first `shown` of them."""
        gone: dict[int, list[str]] = {}
        for c in self.state.claims:
            if c.task not in self.rules.tasks:
                gone.setdefault(c.task, []).append("@" + self._user(c.user))
        items = [f"No.{t}{self.w['open']}{self.w['list_sep'].join(users)}{self.w['close']}" for t, users in sorted(gone.items())]
        text = self.w["range_sep"].join(items[:shown])
        return text + (self.w["more"].format(n=len(items) - shown) if len(items) > shown else "")

    # -- pieces

    def _stage(self, c: Claim) -> str:
        """A claimant's stage in words; a claim without a PR yet shows the day it was made."""
        if c.stage == Stage.CLAIMED:
            at = c.claimed_at
            return self.w["since"].format(date=f"{at.month:02d}-{at.day:02d}")
        return self.w["stage"][c.stage.value]

    def _user(self, login: str) -> str:
        u = self._users.get(login)
        if u is None:
            u = self._users[login] = _esc_name(login)
        return u

    def _claimant(self, c: Claim, stage: str, refs, link: str | None = None) -> str:
        w = self.w
        if not (c.team or refs or link):  # the usual case, quickly
            s = "@" + self._user(c.user)
            return (s + w["open"] + stage + w["close"] if stage else s).strip()
        bits = []
        if c.team:
            bits.append(w["team"] + _esc(c.team))
        if stage:
            bits.append(stage)
        bits.extend(refs)
        if link:
            bits.append(f"[{w['link']}]({link})")
        s = "@" + self._user(c.user)
        if bits:
            s += w["open"] + w["bits_sep"].join(bits) + w["close"]
        return s.strip()

    def _with_prs(self) -> dict[int, list[str]]:
        """Each claimant with stage, PR references and (when there is no PR) the link they reported."""
        w = self.w
        prs = _prs_by_claim(self.state)
        tracker = self.rules.campaign.tracker_repo
        out: dict[int, list[str]] = {}
        for tid, cs in self.claims.items():
            row = out[tid] = []
            for c, short in zip(cs, self.short[tid]):
                ps = prs.get((tid, c.user.lower()))
                if not ps and not c.link:
                    row.append(short)
                    continue
                refs = [(w["rfc"] if p.kind == PrKind.RFC else w["pr"]) + _pr_ref(p, tracker) for p in ps or ()]
                link = texts.safe_url(c.link) if c.link and not refs else None
                row.append(self._claimant(c, self._stage(c), refs, link))
        return out

    def _done_cells(self) -> dict[int, str]:
        w = self.w
        out = {}
        for tid, cs in self.claims.items():
            done = ["@" + self._user(c.user) for c in cs if c.stage == Stage.COMPLETED]
            done += ["@" + self._user(c.user) + w["partly"] for c in cs if c.stage == Stage.PARTLY_DONE]
            if done:
                out[tid] = w["list_sep"].join(done)
        return out

    def full_rows(self, links: bool, prs: bool) -> list[str]:
        """One row per task: id, difficulty, title, claimants, completed by."""
        w = self.w
        claimants = self._with_prs() if prs else self.short
        if not hasattr(self, "_done"):
            self._done = self._done_cells()
        done = self._done
        tasks, rules = self.rules.tasks, self.rules
        difficulty = lru_cache(maxsize=None)(_esc)
        out = []
        for tid, title in zip(self.ids, self._titles):
            t = tasks[tid]
            if links:
                title = texts.link(title, task_url(rules, t))
            if tid in self.closed:
                title = w["strike"] + title + w["closed"]
            cl = claimants.get(tid)
            out.append(
                f"| {tid} | {difficulty(t.difficulty or '')} | {title} | {'<br>'.join(cl) if cl else ''} | {done.get(tid, '')} |"
            )
        return out

    def listed(self) -> list[int]:
        """The tasks the compact layouts give a row: someone claimed them or they are closed."""
        return [t for t in self.ids if t in self.claims or t in self.closed]

    def progress_order(self, tid: int) -> list[str]:
        """A task's claimants for the compact layouts: furthest along first, then in claim order."""
        got = self._order.get(tid)
        if got is None:
            cs, short = self.claims.get(tid, ()), self.short.get(tid, [])
            if len(cs) > 1:
                order = sorted(range(len(cs)), key=lambda i: -STAGE_RANK[cs[i].stage])
                got = [short[i] for i in order]
            else:
                got = short
            self._order[tid] = got
        return got

    def compact_rows(self) -> list[str]:
        w, sep = self.w, self.w["list_sep"]
        title_of = dict(zip(self.ids, self._titles))
        out = []
        for tid in self.listed():
            title = title_of[tid]
            if tid in self.closed:
                title = w["strike"] + title + w["closed"]
            out.append(f"| {tid} | {title} | {sep.join(self.progress_order(tid))} |")
        return out

    def free(self) -> tuple[list[str], list[int]]:
        """Open tasks nobody claimed, as range items ("1-5", "9") and the number of tasks in each."""
        ids = [t for t in self.ids if t not in self.claims and t not in self.closed]
        items, sizes = [], []
        for a, b in _runs(ids):
            items.append(str(a) if a == b else f"{a}-{b}")
            sizes.append(b - a + 1)
        return items, sizes

    def people_rows(self, n: int | None) -> list[str]:
        people = self.stats.people if n is None else self.stats.people[:n]
        return [f"| @{_esc(login)} | {cl} | {sub} | {done} |" for login, cl, sub, done in people]

    # -- frame

    def frame(
        self,
        layout: str,
        rows: bool,
        people_n: int,
        tracks_n: int | None = None,
        free: bool = False,
        free_count: int = 0,
        free_more: int = 0,
        rows_more: int = 0,
        rows_from: int = 0,
        rest: bool = False,
        rest_more: int = 0,
    ) -> str:
        tracks = self.stats.tracks if tracks_n is None else self.stats.tracks[:tracks_n]
        return texts.render(
            self.lang,
            "board.j2",
            start=BOARD_START,
            end=BOARD_END,
            stats=self.stats,
            pct=_pct,
            cell=escape_cell,
            tracks=tracks,
            tracks_more=len(self.stats.tracks) - len(tracks),
            layout=layout,
            rows=_PH["rows"] if rows else "",
            rows_more=rows_more,
            rows_from=rows_from,
            free=_PH["free"] if free else "",
            free_count=free_count,
            free_more=free_more,
            people=_PH["people"] if people_n else "",
            people_more=len(self.stats.people) - people_n,
            rest=_PH["rest"] if rest else "",
            rest_more=rest_more,
            closed_on=self.state.closed_at.strftime("%Y-%m-%d") if self.state.closed_at else None,
            withdrawn=self.withdrawn,
        ).strip("\n")


def _joined_len(parts: list[str]) -> int:
    return sum(map(len, parts)) + max(len(parts) - 1, 0)


def _fill(frame: str, rows: list[str], people: list[str], free: str = "", rest: str = "") -> str:
    out = frame
    for key, text in (("rows", "\n".join(rows)), ("people", "\n".join(people)), ("free", free), ("rest", rest)):
        out = out.replace(_PH[key], text, 1)
    return out


def _size(frame: str, rows_len: int, people_len: int, free_len: int = 0, rest_len: int = 0) -> int:
    n = len(frame)
    for key, extra in (("rows", rows_len), ("people", people_len), ("free", free_len), ("rest", rest_len)):
        if extra:
            n += extra - len(_PH[key])
    return n


def _cut(items: list[str], sep: str, room: int) -> int:
    """How many of the first items fit in `room` characters, joined by `sep`."""
    return bisect_right(list(accumulate(len(i) + len(sep) for i in items)), room + len(sep))


def render_board(rules: CampaignRules, state: CampaignState, lang: Lang, budget: int = BODY_LIMIT - ROOM) -> str:
    """The whole board, BOARD_START ... BOARD_END. Deterministic, and at most `budget` characters
    (by default BODY_LIMIT - 8 KiB; `tracker_body` passes less when the organiser wrote more).

    The most detailed of these layouts that fits:
    1. every task a row (difficulty, linked title, claimants with stage and PR references,
       completed by), every participant in the per-person table;
    2. titles not linked; 3. no PR references (stages stay);
    4. the per-person table lists the first 100 (the best first; the total is still given);
    5. compact: a row only for tasks someone claimed or closed to claims (title, claimants
       with stage, the furthest along first); the open tasks nobody claimed on one line as
       id ranges ("No.1-5, 9, 12-2000");
    6. as 5 without titles;
    7. as 6 with at most K claimants a row and "+N" (K from 8 down to 1, the largest that
       fits); the participants beyond the first 100 are then listed by login on one line, so
       every claimant still appears somewhere;
    8. one claimant a row, and only the first rows (by task id) that fit, then a line giving
       how many more tasks have claimants and how to see one (`/status N`). The free-task
       line and the login line then take at most a quarter of the space each (or less, and
       the track and people tables are shortened, only when even that cannot fit).
    """
    b = _Board(rules, state, lang)
    w = b.w
    n_people = len(b.stats.people)

    # 1-4: every task a row (skipped when the rows alone could not fit: a cheap lower bound)
    people_n = min(n_people, PEOPLE_CAP)
    people_all = b.people_rows(None if n_people <= PEOPLE_CAP else PEOPLE_CAP)
    people = people_all[:people_n]
    people_len = _joined_len(people)
    least = sum(map(len, b._titles)) + sum(len(str(t)) + 17 for t in b.ids) + sum(len(s) for cl in b.short.values() for s in cl)
    if least <= budget:
        rows = b.full_rows(links=False, prs=False)
        people_all = b.people_rows(None)
        frame = b.frame("full", bool(b.ids), n_people)
        if _size(frame, _joined_len(rows), _joined_len(people_all)) <= budget:
            best = rows
            for links, prs in ((False, True), (True, True)):
                more = b.full_rows(links=links, prs=prs)
                if _size(frame, _joined_len(more), _joined_len(people_all)) > budget:
                    break
                best = more
            return _fill(frame, best, people_all)
        frame = b.frame("full", bool(b.ids), people_n)
        if _size(frame, _joined_len(rows), people_len) <= budget:
            return _fill(frame, rows, people)

    # 5: compact
    items, sizes = b.free()
    free_count = sum(sizes)
    free = w["range_sep"].join(items)
    listed = b.listed()
    rows = b.compact_rows()
    frame = b.frame("compact", bool(rows), people_n, free=bool(items), free_count=free_count)
    if _size(frame, _joined_len(rows), people_len, len(free)) <= budget:
        return _fill(frame, rows, people, free)

    # 6-7: ids only, at most k claimants a row
    sep, more = w["list_sep"], w["more"]
    heads = [f"| {t}{w['closed_id'] if t in b.closed else ''} | " for t in listed]
    cells = [b.progress_order(t) for t in listed]
    widest = max(map(len, cells), default=0)
    base = sum(len(h) + 2 for h in heads) + max(len(heads) - 1, 0)  # heads, " |", newlines
    claimant_len = [0] * (widest + 1)  # [j]: all rows' j-th claimants, with the separator before them
    for cl in cells:
        for j, s in enumerate(cl, 1):
            claimant_len[j] += len(s) + (len(sep) if j > 1 else 0)
    up_to = list(accumulate(claimant_len))
    widths = Counter(map(len, cells))

    def rows_len(k: int) -> int:
        tails = sum(c * (len(sep) + len(more.format(n=n - k))) for n, c in widths.items() if n > k)
        return base + up_to[min(k, widest)] + tails

    def capped(cl: list[str], k: int) -> str:
        return sep.join(cl if len(cl) <= k else cl[:k] + [more.format(n=len(cl) - k)])

    rest = [f"@{_esc(p[0])}" for p in b.stats.people[people_n:]]
    rest_all = sep.join(rest)
    for k in [widest, *range(min(widest - 1, MAX_SHOWN), 0, -1)]:  # k == widest: nobody cut (layout 6)
        cut = k < widest
        frame = b.frame("ids", bool(rows), people_n, free=bool(items), free_count=free_count, rest=cut and bool(rest))
        if _size(frame, rows_len(k), people_len, len(free), len(rest_all) if cut else 0) <= budget:
            return _fill(frame, [f"{h}{capped(cl, k)} |" for h, cl in zip(heads, cells)], people, free, rest_all if cut else "")

    # 8: one claimant a row, and only the first rows that fit
    ends = list(accumulate(n + 1 for n in (len(h) + 2 + len(capped(cl, 1)) for h, cl in zip(heads, cells))))
    people_max = people_n
    for tracks_n, people_n, share in ((None, people_max, 4), (20, min(people_max, 20), 8), (0, 0, 0)):
        people = people_all[:people_n]
        room = budget // share if share else 0
        free_n = _cut(items, sep, room)
        free_cut = sep.join(items[:free_n])
        rest = [f"@{_esc(p[0])}" for p in b.stats.people[people_n:]]
        rest_n = _cut(rest, sep, room)
        rest_cut = sep.join(rest[:rest_n])
        shape: dict[str, Any] = dict(
            people_n=people_n,
            tracks_n=tracks_n,
            free=bool(free_n),
            free_count=free_count,
            free_more=sum(sizes[free_n:]),
            rest=bool(rest_n),
            rest_more=len(rest) - rest_n,
        )
        # the longest the "… N more tasks from No.X" line can be
        frame = b.frame("ids", True, rows_more=len(listed), rows_from=max(listed, default=0), **shape)
        fixed = _size(frame, 0, _joined_len(people), len(free_cut), len(rest_cut)) - len(_PH["rows"])
        if fixed > budget:
            continue
        n_rows = bisect_right(ends, budget - fixed + 1)  # the last row has no newline
        frame = b.frame(
            "ids", n_rows > 0, rows_more=len(listed) - n_rows, rows_from=listed[n_rows] if n_rows < len(listed) else 0, **shape
        )
        out = _fill(frame, [f"{h}{capped(cl, 1)} |" for h, cl in zip(heads[:n_rows], cells[:n_rows])], people, free_cut, rest_cut)
        if len(out) <= budget:
            return out
    raise BoardTooBig(f"the board's fixed text alone exceeds {budget} characters")


class BoardTooBig(Exception):
    """Not even the most cut-down board fits in the room given."""


def minimal_board(rules: CampaignRules, state: CampaignState, lang: Lang) -> str:
    """The board when the organiser's text leaves almost no room: the markers, the totals and
    where to read the rest (`/status`)."""
    stats = board_stats(rules, state)
    return texts.render(
        lang, "board_minimal.j2", start=BOARD_START, end=BOARD_END, total=stats.total, people=len(stats.people)
    ).strip("\n")


def tracker_body(rules: CampaignRules, state: CampaignState, lang: Lang, issue_body: str, board: str | None = None) -> str:
    """The tracker issue body with the current board spliced in, never longer than BODY_LIMIT.

    `board` (the default-size board, when the caller has it) is used when it fits; otherwise the
    board is laid out again in the room the organiser's text leaves (the same levels as
    `render_board`, down to one claimant a row), then as `minimal_board`. When even that cannot fit,
    the body is returned unchanged (the organiser's text alone nearly fills the issue) -- it is
    never cut."""
    board = board if board is not None else render_board(rules, state, lang)
    new = splice_board(issue_body, board)
    if len(new) <= BODY_LIMIT:
        return new
    room = BODY_LIMIT - (len(new) - len(board))
    for make in (lambda: render_board(rules, state, lang, budget=room), lambda: minimal_board(rules, state, lang)):
        try:
            smaller = make()
        except BoardTooBig:
            continue
        new = splice_board(issue_body, smaller)
        if len(new) <= BODY_LIMIT:
            return new
    return issue_body


_REGION = re.compile(re.escape(BOARD_START) + r"(?:(?!" + re.escape(BOARD_START) + r").)*?" + re.escape(BOARD_END), re.DOTALL)


def splice_board(issue_body: str, board: str) -> str:
    """Replace the marked board region of the tracker body, or append the board after the organiser's text.

    Everything outside the region is kept byte-for-byte. A stray start marker with no end
    after it is ignored (the region is the first start..end pair with no start inside).
    """
    body = issue_body or ""
    m = _REGION.search(body)
    if m:
        return body[: m.start()] + board + body[m.end() :]
    if not body:
        return board + "\n"
    sep = "" if body.endswith("\n\n") else ("\n" if body.endswith("\n") else "\n\n")
    return body + sep + board + "\n"
