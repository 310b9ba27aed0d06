"""The bot's replies to comments: notes -> one short Markdown reply; /help; /status.

Pure. `render_reply` greets the commenter and writes one line per group of notes (notes with
the same code, user, detail and extra are merged into one line naming all their tasks; the
holders of several `task_full` notes are merged too), then, for claimed tasks, what to
deliver (RFC where, code PR to which repos/paths, which tests, acceptance), collapsed in
`<details>` when more than one task was claimed. It starts with `reply_marker(comment_id)` so
the bot can find and edit its own reply to that comment.

`render_help`, `render_status` and `render_mine` (`/mine`: the commenter's own tasks, points and
rank, from `bot.core.standing`) return the body only; the caller puts
`reply_marker(comment_id)` in front when posting them as a reply. `render_gloss` is the one-line
summary of a reply in the other language (for a comment written in it).

Notices (comments the bot posts on its own, marked by `notice_marker(key)`): `render_sweep_notice`
(reminders and lapsed claims, per person) and `render_results` (the campaign's results when it is
closed, from `bot.report`).

Every note code (`bot.model.NoteCode`) has an entry (a macro of the same name) in
`templates/<lang>/replies.j2`; an unknown code is a programming error (`Note` raises ValueError).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bot.core import texts
from bot.core.board import _rows, board_stats
from bot.core.expiry import lapses_at
from bot.core.model import CampaignState, Claim, Note, NoteCode, Stage, StageEvent
from bot.core.report import build_report
from bot.core.review import task_url
from bot.core.standing import build_standings, format_points, page_path, pr_label
from bot.core.texts import Lang
from bot.rules.models import CampaignRules, Task

# The macros of replies.j2 that are not note codes: pieces of a line (ids, who) or of the reply (gloss, deliver).
HELPER_MACROS = frozenset({"ids", "who", "gloss", "deliver"})


def reply_marker(comment_id: int) -> str:
    return f"<!-- hackathon-bot:reply:{int(comment_id)} -->"


def notice_marker(key: str) -> str:
    """The hidden marker a notice starts with; `key` is the bot's own (letters, digits, `:._-`)."""
    return f"<!-- hackathon-bot:notice:{_KEY_UNSAFE.sub('_', key)} -->"


_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9:._-]")


class _Fields(dict):
    """A note's `extra`, whose keys a template also reads as attributes (`g.extra.limit`) without
    the failed attribute lookup jinja otherwise makes before trying the key."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(slots=True)
class _Group:
    """Notes merged into one line of a reply (what a note macro of replies.j2 gets as `g`; an object,
    not a dict: a template reads its fields as attributes, which jinja looks up first)."""

    code: NoteCode
    user: str | None
    detail: str | None
    extra: dict[str, Any]
    tasks: list[int] = field(default_factory=list)
    holders: dict[int, list[str]] = field(default_factory=dict)


def _group(notes: list[Note], lang: Lang) -> list[_Group]:
    groups: dict[tuple, _Group] = {}
    for n in notes:
        detail = texts.text_of(n.detail, lang) if n.detail is not None else None
        extra = _Fields(n.extra or {})
        holders = extra.pop("holders", None) if n.code == NoteCode.TASK_FULL else None
        key = (n.code, (n.user or "").lower(), detail, json.dumps(extra, sort_keys=True, default=str) if extra else "")
        g = groups.get(key)
        if g is None:
            g = groups[key] = _Group(n.code, n.user, detail, extra)
        for t in n.tasks:
            if t not in g.tasks:
                g.tasks.append(t)
        if holders:
            for t, users in holders.items():
                held = g.holders.setdefault(int(t), [])
                held += [u for u in users if u not in held]
    return list(groups.values())


def _deliverables(rules: CampaignRules, task: Task) -> dict[str, Any]:
    repo, path = task.rfc_location(rules.campaign)
    return _Fields(
        {
            "id": task.id,
            "title": task.title,
            "url": task_url(rules, task),
            "rfc": _Fields({"repo": repo, "path": path}) if task.rfc.required else None,
            "targets": [_Fields({"repo": t.repo, "paths": list(t.paths)}) for t in task.targets],
            "tests": list(task.tests),
            "acceptance": list(task.acceptance),
            "pr_title": f"【{rules.campaign.key} No.{task.id}】",
        }
    )


_DELIVER: dict[tuple[int, str, int], tuple[CampaignRules, dict[str, Any]]] = {}


def _deliverables_in(rules: CampaignRules, task: Task, lang: Lang) -> dict[str, Any]:
    """`_deliverables` with its rendered block (`deliver`), made once per rules, language and task:
    every claim of a task on launch day gets the same block."""
    key = (id(rules), lang, task.id)
    cached = _DELIVER.get(key)
    if cached is None or cached[0] is not rules:  # (an id is reused only once its rules are gone)
        d = _deliverables(rules, task)
        d["deliver"] = str(texts.macros(lang, "replies.j2").deliver(d)).strip("\n")
        if len(_DELIVER) >= 50_000:  # rules loaded again and again (tools, tests): start afresh
            _DELIVER.clear()
        cached = _DELIVER[key] = (rules, d)
    return cached[1]


def render_reply(rules: CampaignRules, notes: list[Note], lang: Lang, *, user: str, comment_id: int) -> str:
    """One reply to one comment: marker, greeting, a line per note group, deliverables of claimed tasks."""
    groups = _group(notes, lang)
    m = texts.macros(lang, "replies.j2")
    lines = [str(getattr(m, g.code)(g)).strip() for g in groups]
    claimed = [t for g in groups if g.code == NoteCode.CLAIMED for t in g.tasks if t in rules.tasks]
    claimed = list(dict.fromkeys(claimed))
    body = texts.render(
        lang,
        "reply.j2",
        marker=reply_marker(comment_id),
        user=user,
        lines=lines,
        tasks=[_deliverables_in(rules, rules.tasks[t], lang) for t in claimed],
        m=m,
    )
    return texts.fit(body.strip("\n") + "\n", lang)


def render_help(rules: CampaignRules, lang: Lang) -> str:
    """Participant and maintainer commands, in `lang` (normally the campaign's language)."""
    c = rules.campaign
    return (
        texts.render(
            lang,
            "help.j2",
            campaign=c,
            policy=c.claim_policy,
            example=min(rules.tasks) if rules.tasks else 1,
            importable=rules.origin is not None and bool(c.collections),
        ).strip("\n")
        + "\n"
    )


def render_status(rules: CampaignRules, state: CampaignState, tasks: tuple[int, ...], lang: Lang) -> str:
    """`/status`: the campaign's numbers; with ids, one line per task (claimants, stage, PRs, capacity)."""
    wanted = list(dict.fromkeys(tasks))
    known = set(wanted) & set(rules.tasks)
    rows = [r for r in _rows(rules, state, links=True) if r["id"] in known] if known else []
    by_id = {r["id"]: r for r in rows}
    items = []
    for t in wanted:
        if t in by_id:
            r = dict(by_id[t])
            r["capacity"] = rules.max_claimants(rules.tasks[t])
            r["unknown"] = False
            r["claimants"] = _with_dates(rules, r["claimants"], state.claims_on(t))
            items.append(r)
        else:
            items.append({"id": t, "unknown": True})
    return (
        texts.render(
            lang,
            "status.j2",
            campaign=rules.campaign,
            stats=board_stats(rules, state),
            items=items,
            pct=lambda n, d: f"{(100 * n / d):.0f}%" if d else "0%",
        ).strip("\n")
        + "\n"
    )


def render_mine(
    rules: CampaignRules,
    state: CampaignState,
    user: str,
    lang: Lang,
    *,
    history: list[StageEvent] | tuple[StageEvent, ...] = (),
    public_url: str | None = None,
) -> str:
    """`/mine`: `user`'s own tasks (stage, PRs, the day they claimed and the day the claim lapses without
    a PR), their points and rank, and the link to their page when the dashboard has a public address.
    Nobody else's claims; someone holding nothing is told how to claim."""
    standings = build_standings(rules, state, history, only=user)
    me = standings.person(user)
    tracker = rules.campaign.tracker_repo
    unit = standings.unit or ""
    rows = []
    for h in me.tasks if me is not None and me.rank is not None else ():
        rows.append(
            {
                "id": h.task,
                "title": h.title,
                "url": task_url(rules, rules.tasks[h.task]),
                "stage": h.stage.value if h.stage else None,
                "since": h.claimed_at.strftime("%Y-%m-%d") if h.claimed_at else None,
                "lapses": h.lapses_at.strftime("%Y-%m-%d") if h.lapses_at else None,
                "prs": [
                    {
                        "kind": p.kind.value,
                        "ref": f"#{p.number}" if tracker and p.repo.lower() == tracker.lower() else f"{p.repo}#{p.number}",
                        "state": pr_label(p),
                    }
                    for p in h.prs
                ],
                "points": format_points(h.points) + unit if h.points else None,
            }
        )
    base = (public_url or "").strip().rstrip("/")
    page = f"{base}{page_path(rules.slug, me.login)}" if base and me is not None else None
    return (
        texts.render(
            lang,
            "mine.j2",
            campaign=rules.campaign,
            user=user,
            me=me,
            tasks=rows,
            points=format_points(me.points) + unit if me is not None else None,
            people=standings.people,
            page=texts.safe_url(page) if page else None,
            example=min(rules.tasks) if rules.tasks else 1,
        ).strip("\n")
        + "\n"
    )


def render_gloss(rules: CampaignRules, notes: list[Note], lang: Lang) -> str:
    """The reply's notes as ONE line in `lang`, for a comment written in the campaign's other language."""
    m = texts.macros(lang, "replies.j2")
    text = " ".join(texts.one_line(str(getattr(m, g.code)(g)).strip()) for g in _group(notes, lang))
    return str(m.gloss(text)).strip()


def render_sweep_notice(rules: CampaignRules, reminders: list[dict], lapsed: list[dict], lang: Lang, *, key: str) -> str:
    """One notice for one sweep: each person reminded (tasks, when they lapse, how to renew), each lapse told."""
    return (
        texts.render(
            lang,
            "notice.j2",
            marker=notice_marker(key),
            reminders=reminders,
            lapsed=lapsed,
            days=rules.campaign.claim_policy.claim_expiry_days,
        ).strip("\n")
        + "\n"
    )


RESULTS_ROWS = 300  # people listed in the closing results (the rest: `bot report`)


def render_results(
    rules: CampaignRules, state: CampaignState, lang: Lang, history: list[StageEvent] | tuple[StageEvent, ...] = ()
) -> str:
    """The campaign's results when it closes: totals, then one row per person credited in leaderboard
    order (rank, points, tasks with difficulty and reward, the rewards summed where they add up), at most
    RESULTS_ROWS rows. `history`: the stage history, which orders people equal in points."""
    report = build_report(rules, state, history)
    return (
        texts.render(
            lang,
            "results.j2",
            report=report,
            people=report.people[:RESULTS_ROWS],
            more=max(0, len(report.people) - RESULTS_ROWS),
            cell=texts.escape_cell,
            points=format_points,
            closed=state.closed_at.strftime("%Y-%m-%d") if state.closed_at else None,
        ).strip("\n")
        + "\n"
    )


def _with_dates(rules: CampaignRules, people: list[dict], claims: list[Claim]) -> list[dict]:
    """/status rows' claimants (in the board's order: by claim time) with the day they claimed and,
    for a claim without a PR, when it lapses."""
    ordered = sorted(claims, key=lambda c: (c.claimed_at, c.user.lower()))
    out = []
    for p, c in zip(people, ordered):
        lapse = lapses_at(rules, c)
        out.append(
            {
                **p,
                "since": c.claimed_at.strftime("%Y-%m-%d"),
                "lapses": lapse.strftime("%Y-%m-%d") if lapse and c.stage == Stage.CLAIMED else None,
            }
        )
    return out
