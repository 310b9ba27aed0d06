"""Events -> decisions: the campaign's policy, as pure functions.

Inputs are plain data (the campaign's rules, its current state, the event's facts, `now`);
outputs are a `Decision`: state changes, GitHub actions, and whether the board moved.
Nothing here does I/O, so every rule below is tested directly.

Policy decided here (documented for organisers in the README):
- A claim is refused for an unknown task, a closed task, a completed task, a task already
  held by `max_claimants` people, or when the claimer already holds
  `max_claims_per_user` unfinished tasks. Claims older than `claim_expiry_days` that never
  reached a PR lapse: they stop counting and are dropped when someone else claims the task.
- A participant can release or report only their own claims. A submission report on a free
  task records the claim at the reported stage.
- A pull request from someone who did not claim its task counts as their claim under the same
  limits as a comment's claim (the work is the strongest claim): the task must be open and have
  room, and the author under `max_claims_per_user`. When a title names several tasks, those the
  author holds are credited first, then new ones by task number up to the limit. A PR
  over a limit is reviewed but not credited; its checklist says why (who holds the task, or the
  per-person limit) and a title naming more tasks than one person may hold gets a hint.
- PR state drives the stage: open RFC PR -> rfc_submitted, merged RFC -> rfc_accepted, open
  code PR -> submitted, merged -> completed (a `-part` PR -> partly_done); a PR closed
  unmerged steps back to what the author's other PRs show. Reverts never credit anyone.
- Maintainers (the campaign's list, or write/maintain/admin on the repository) may assign
  over the limits; others asking for a maintainer command get a polite refusal.
- A PR a maintainer marked invalid (the `labels.invalid` or `spam` label, `Withdrawal`) credits
  nobody: its author's stage on its tasks steps back to what their other PRs show (even from
  completed); the mark is kept with the PR until a maintainer takes the label off.
- `/mine` (anyone) changes nothing: it answers with the commenter's own standing
  (`bot.core.standing`).

Campaign life (the section at the end of this module):
- A claim's period starts at its claim (or its last `/renew`); after `remind_after_days` the
  holder is reminded once per period, naming the tasks and when they lapse; after
  `claim_expiry_days` a claim still without a PR lapses, and the sweep that releases it says so
  (one comment per sweep, on the tracker, addressing each person). Reminders and lapses are
  recorded with the claims in the sweep's transaction, so a restart never repeats them.
- `/renew N` is accepted once per period: from the reminder on (the renewal window) until the
  lapse; it starts a new period. Claims at a PR stage never lapse and need no renewal.
- `/close-campaign` (maintainers) closes the whole campaign to new claims and posts the
  results; `/reopen-campaign` opens it again. Tasks closed one by one stay closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.core import texts
from bot.core.actions import (
    AddLabels,
    Assign,
    BoardChange,
    Change,
    CheckRun,
    Decision,
    DropClaim,
    ImportCollections,
    Notice,
    PutClaim,
    PutPull,
    Reply,
    SetCampaignClosed,
    SetLabels,
    SetTaskClosed,
    UpsertChecklist,
    apply_changes,
)
from bot.core.commands import MAINTAINER_VERBS, Command, ParseResult, Verb, clean_lines, new_commands, parse_comment
from bot.core.expiry import lapses_at, remind_at, when
from bot.core.messages import Message
from bot.core.model import CampaignState, Claim, Note, NoteCode, PrKind, PrState, PullRequest, Stage, StageEvent
from bot.core.replies import (
    notice_marker,
    render_gloss,
    render_help,
    render_mine,
    render_reply,
    render_results,
    render_status,
    render_sweep_notice,
)
from bot.core.review import (
    ChangedFile,
    CheckCode,
    CheckItem,
    CheckStatus,
    Review,
    RfcEvidence,
    managed_labels,
    render_check,
    render_checklist,
    review_pr,
    target_list,
)
from bot.core.texts import Lang
from bot.core.titles import TitleRef
from bot.rules.models import CampaignRules, Task

# Possessive quantifiers: linear on any input ("claim" + 65,000 spaces + "x" must not backtrack).
BARE_CLAIM = re.compile(r"^\s*+(?:@\S++\s++)?(?:/?claim|/?认领|【报名】|\[报名\]|报名)\s*+[。.!！]?\s*+$", re.IGNORECASE)


@dataclass(frozen=True)
class CommentFacts:
    """An issue comment as decisions need it."""

    repo: str
    number: int
    comment_id: int
    author: str
    body: str
    old_body: str | None = None  # set for an edited comment: only new commands count
    is_maintainer: bool = False
    task_issue: Task | None = None  # the comment sits on this task's own issue
    bot_login: str | None = None
    # The campaign's stage history, read by the shell when the comment asks for standings (`/mine`,
    # `/close-campaign`): it orders people equal in points. Empty: claims count from their claim.
    history: tuple[StageEvent, ...] = ()
    public_url: str | None = None  # the dashboard's public address (PUBLIC_URL): `/mine` links to the person's page

    def read(self) -> ParseResult:
        """The commands this comment (or, when edited, its new text) gives."""
        if self.old_body is not None:
            return new_commands(self.old_body, self.body, bot_login=self.bot_login)
        return parse_comment(self.body, bot_login=self.bot_login)


@dataclass(frozen=True)
class PullFacts:
    """A pull request event as decisions need it (files fetched by the shell)."""

    repo: str
    number: int
    title: str
    body: str
    author: str
    state: str  # "open" | "closed"
    merged: bool
    url: str
    labels: tuple[str, ...]
    ref: TitleRef
    head_sha: str = ""  # the commit a check run hangs on ("" when unknown: no check run)
    # per task needing a design document: what the description's links are on GitHub (read by the shell)
    rfc: tuple[tuple[int, tuple[RfcEvidence, ...]], ...] = ()


def lang_of(rules: CampaignRules) -> Lang:
    return rules.campaign.language


# ---- claims --------------------------------------------------------------------------------
def is_expired(rules: CampaignRules, claim: Claim, now: datetime) -> bool:
    at = lapses_at(rules, claim)
    return at is not None and at < now


def live_claims(rules: CampaignRules, state: CampaignState, task: int, now: datetime) -> list[Claim]:
    return [c for c in state.claims_on(task) if not is_expired(rules, c, now)]


def unfinished_of(rules: CampaignRules, state: CampaignState, user: str, now: datetime) -> list[Claim]:
    """The claims that count toward `user`'s limit: not completed, not lapsed, on a task the rules still have
    (a task withdrawn from the rules keeps its holders recorded, but holding it blocks nothing)."""
    return [
        c for c in state.claims_of(user) if c.stage != Stage.COMPLETED and c.task in rules.tasks and not is_expired(rules, c, now)
    ]


def is_completed(state: CampaignState, task: int) -> bool:
    return any(c.stage == Stage.COMPLETED for c in state.claims_on(task))


def has_room(rules: CampaignRules, state: CampaignState, task: Task, now: datetime) -> bool:
    cap = rules.max_claimants(task)
    return cap is None or len(live_claims(rules, state, task.id, now)) < cap


class _Ledger:
    """Accumulates changes while keeping a current view of the state, so a comment claiming
    tasks 3, 4 and 5 sees its own earlier claims when checking the per-user limit."""

    def __init__(self, state: CampaignState):
        self.state = state
        self.changes: list[Change] = []

    def add(self, *changes: Change) -> None:
        self.changes += changes
        self.state = apply_changes(self.state, list(changes))


def _claim(
    rules: CampaignRules,
    led: _Ledger,
    user: str,
    tasks: tuple[int, ...],
    now: datetime,
    *,
    team: str | None = None,
    link: str | None = None,
    force: bool = False,
) -> list[Note]:
    """Claim `tasks` for `user`. `force` (a maintainer's /assign) skips the capacity and user limits."""
    notes: list[Note] = []
    groups: dict[NoteCode, list[int]] = {}
    holders: dict[int, list[str]] = {}
    limit = rules.campaign.claim_policy.max_claims_per_user
    for tid in tasks:
        task = rules.tasks.get(tid)
        if task is None:
            groups.setdefault(NoteCode.UNKNOWN_TASK, []).append(tid)
            continue
        if led.state.closed_at is not None and not force:
            groups.setdefault(NoteCode.CAMPAIGN_CLOSED, []).append(tid)
            continue
        if (tid in led.state.closed_tasks or not task.open_to_claims) and not force:
            groups.setdefault(NoteCode.TASK_CLOSED, []).append(tid)
            continue
        mine = led.state.claim(tid, user)
        if mine is not None and not is_expired(rules, mine, now):
            groups.setdefault(NoteCode.ALREADY_CLAIMED, []).append(tid)
            continue
        if is_completed(led.state, tid) and not force:
            groups.setdefault(NoteCode.TASK_COMPLETED, []).append(tid)
            continue
        live = live_claims(rules, led.state, tid, now)
        if not force and not has_room(rules, led.state, task, now):
            groups.setdefault(NoteCode.TASK_FULL, []).append(tid)
            holders[tid] = [c.user for c in live]
            continue
        if not force and limit is not None and len(unfinished_of(rules, led.state, user, now)) >= limit:
            groups.setdefault(NoteCode.USER_LIMIT, []).append(tid)
            continue
        # Lapsed claims on the task give way to the new one.
        for c in led.state.claims_on(tid):
            if is_expired(rules, c, now):
                led.add(DropClaim(tid, c.user))
        led.add(PutClaim(Claim(rules.slug, tid, user, Stage.CLAIMED, now, team=team, link=link)))
        groups.setdefault(NoteCode.CLAIMED, []).append(tid)
    for code in (
        NoteCode.CLAIMED,
        NoteCode.ALREADY_CLAIMED,
        NoteCode.UNKNOWN_TASK,
        NoteCode.CAMPAIGN_CLOSED,
        NoteCode.TASK_CLOSED,
        NoteCode.TASK_COMPLETED,
        NoteCode.TASK_FULL,
        NoteCode.USER_LIMIT,
    ):
        if code not in groups:
            continue
        extra: dict = {}
        if code == NoteCode.TASK_FULL:
            extra = {"holders": holders}
        elif code == NoteCode.USER_LIMIT:
            extra = {"limit": limit, "held": sorted(c.task for c in unfinished_of(rules, led.state, user, now))}
        notes.append(Note(code, tuple(groups[code]), user=user, extra=extra))
    return notes


def _unclaim(rules: CampaignRules, led: _Ledger, user: str, tasks: tuple[int, ...]) -> list[Note]:
    dropped, missing = [], []
    for tid in tasks:
        if led.state.claim(tid, user) is not None:
            led.add(DropClaim(tid, user))
            dropped.append(tid)
        else:
            missing.append(tid)
    notes = []
    if dropped:
        notes.append(Note(NoteCode.UNCLAIMED, tuple(dropped), user=user))
    if missing:
        notes.append(Note(NoteCode.NOT_CLAIMED, tuple(missing), user=user))
    return notes


def _submit(rules: CampaignRules, led: _Ledger, cmd: Command, user: str, now: datetime) -> list[Note]:
    stage = Stage.RFC_SUBMITTED if cmd.stage == "rfc" else Stage.SUBMITTED
    notes: list[Note] = []
    done: list[int] = []
    for tid in cmd.tasks:
        mine = led.state.claim(tid, user)
        if mine is None:
            # Reporting work on a free task claims it; anything else must be claimed first.
            sub = _claim(rules, led, user, (tid,), now, team=cmd.team, link=cmd.link)
            if not any(n.code == NoteCode.CLAIMED for n in sub):
                notes += sub
                continue
            mine = led.state.claim(tid, user)
        assert mine is not None
        new_stage = stage if stage.rank > mine.stage.rank else mine.stage
        led.add(PutClaim(replace(mine, stage=new_stage, link=cmd.link or mine.link, team=cmd.team or mine.team)))
        done.append(tid)
    if done:
        notes.append(Note(NoteCode.SUBMITTED, tuple(done), user=user, extra={"stage": cmd.stage, "link": cmd.link}))
    return notes


def _maintainer(rules: CampaignRules, led: _Ledger, cmd: Command, now: datetime) -> list[Note]:
    match cmd.action:
        case "assign":
            notes = _claim(rules, led, cmd.user or "", cmd.tasks, now, force=True)
            return [replace(n, code=NoteCode.ASSIGNED) if n.code == NoteCode.CLAIMED else n for n in notes]
        case "unassign":
            notes = _unclaim(rules, led, cmd.user or "", cmd.tasks)
            return [replace(n, code=NoteCode.UNASSIGNED) if n.code == NoteCode.UNCLAIMED else n for n in notes]
        case "done":
            known = [t for t in cmd.tasks if t in rules.tasks]
            unknown = [t for t in cmd.tasks if t not in rules.tasks]
            by: dict[int, list[str]] = {}
            for tid in known:
                targets = [led.state.claim(tid, cmd.user)] if cmd.user else led.state.claims_on(tid)
                targets = [c for c in targets if c is not None]
                if cmd.user and not targets:
                    targets = [Claim(rules.slug, tid, cmd.user, Stage.CLAIMED, now)]
                for c in targets:
                    led.add(PutClaim(replace(c, stage=Stage.COMPLETED)))
                by[tid] = [c.user for c in targets]
            return _done_notes(known, by) + ([Note(NoteCode.UNKNOWN_TASK, tuple(unknown))] if unknown else [])
        case "reopen":
            known = [t for t in cmd.tasks if t in rules.tasks]
            for tid in known:
                led.add(SetTaskClosed(tid, False))
                for c in led.state.claims_on(tid):
                    if c.stage == Stage.COMPLETED:
                        led.add(PutClaim(replace(c, stage=Stage.SUBMITTED)))
            return [Note(NoteCode.REOPENED, tuple(known))] if known else [Note(NoteCode.UNKNOWN_TASK, cmd.tasks)]
        case "close-task":
            known = [t for t in cmd.tasks if t in rules.tasks]
            for tid in known:
                led.add(SetTaskClosed(tid, True))
            return [Note(NoteCode.CLOSED_BY_MAINTAINER, tuple(known))] if known else [Note(NoteCode.UNKNOWN_TASK, cmd.tasks)]
        case "refresh":
            return [Note(NoteCode.REFRESHED)]
        case "import":
            if rules.origin is None or not rules.campaign.collections:
                return [Note(NoteCode.IMPORT_UNAVAILABLE, extra={"in_repo": rules.origin is not None})]
            branch = f"hackathon-bot/import-{rules.slug}"
            return [Note(NoteCode.IMPORT_STARTED, extra={"branch": branch, "collections": list(rules.campaign.collections)})]
        case "close-campaign" | "reopen-campaign":
            return _close_campaign(rules, led, cmd.action == "close-campaign", now)
    return []


def decide_comment(
    rules: CampaignRules, state: CampaignState, c: CommentFacts, now: datetime, parsed: ParseResult | None = None
) -> Decision:
    """A comment on the tracker issue or on a task's own issue (`parsed`: `c.read()`, if the caller has it)."""
    lang = lang_of(rules)
    parsed = parsed or c.read()
    commands = list(parsed.commands)
    hints = [h.text(lang) for h in parsed.hints]
    if c.task_issue is not None:
        # On a task's own issue a bare "claim" means this task.
        if not commands and c.old_body is None and BARE_CLAIM.match(c.body):
            commands = [Command(Verb.CLAIM, (c.task_issue.id,))]
            hints = []
        commands = [
            replace(cmd, tasks=(c.task_issue.id,)) if cmd.action in {"claim", "unclaim", "submit"} and not cmd.tasks else cmd
            for cmd in commands
        ]
    led = _Ledger(state)
    notes: list[Note] = []
    extra_blocks: list[str] = []
    refresh = False
    for cmd in commands:
        if cmd.action in MAINTAINER_VERBS and not c.is_maintainer:
            notes.append(Note(NoteCode.NOT_MAINTAINER, cmd.tasks, user=c.author, extra={"command": "/" + cmd.action}))
            continue
        match cmd.action:
            case "claim":
                if not cmd.tasks:
                    notes.append(Note(NoteCode.CLAIM_NEEDS_TASK, user=c.author))
                else:
                    notes += _claim(rules, led, c.author, cmd.tasks, now, team=cmd.team, link=cmd.link)
            case "unclaim":
                notes += _unclaim(rules, led, c.author, cmd.tasks)
            case "renew":
                notes += _renew(rules, led, c.author, cmd.tasks, now)
            case "submit":
                notes += _submit(rules, led, cmd, c.author, now)
            case "status":
                extra_blocks.append(render_status(rules, led.state, cmd.tasks, lang))
            case "help":
                extra_blocks.append(render_help(rules, lang))
            case "mine":
                extra_blocks.append(render_mine(rules, led.state, c.author, lang, history=c.history, public_url=c.public_url))
            case _:
                notes += _maintainer(rules, led, cmd, now)
                refresh = refresh or cmd.action == "refresh"
    notes += [Note(NoteCode.HINT, detail=h) for h in hints]
    notes += [Note(NoteCode.ERROR, detail=e.text(lang)) for e in parsed.errors]
    notes = _tell_expiry(rules, notes, now)
    decision = Decision(
        changes=led.changes,
        notes=notes,
        after=led.state,
        board=BoardChange.FORCE if refresh else BoardChange.moved_if(bool(led.changes)),
    )
    extra_blocks += _results_blocks(rules, state, led.state, c, decision)
    if notes or extra_blocks:
        body = _reply_body(rules, c, notes, parsed, hints)
        if extra_blocks:
            body = body.rstrip("\n") + "\n\n" + "\n\n".join(extra_blocks)
        decision.actions.append(Reply(c.repo, c.number, c.comment_id, texts.fit(body, lang), c.author))
    if any(n.code == NoteCode.IMPORT_STARTED for n in notes):
        decision.actions.append(ImportCollections(c.repo, c.number, rules.slug, c.author))
    if c.task_issue is not None:
        claimed = [
            ch.claim.user
            for ch in led.changes
            if isinstance(ch, PutClaim)
            and ch.claim.task == c.task_issue.id
            and state.claim(c.task_issue.id, ch.claim.user) is None
        ]
        if claimed:
            decision.actions.append(AddLabels(c.repo, c.number, (rules.campaign.labels.claimed,)))
            decision.actions.append(Assign(c.repo, c.number, tuple(claimed)))
    return decision


# ---- pull requests ------------------------------------------------------------------------------
def pr_kind(rules: CampaignRules, tasks: list[Task], repo: str, files: list[ChangedFile]) -> PrKind:
    """An RFC PR lives in a task's RFC repository and adds its document under the RFC directory."""
    for task in tasks:
        rfc_repo, rfc_path = task.rfc_location(rules.campaign)
        if not rfc_repo or rfc_repo.lower() != repo.lower():
            continue
        if repo.lower() not in {r.lower() for r in task.target_repos()}:
            return PrKind.RFC
        prefix = (rfc_path or "").rstrip("/") + "/"
        if any(f.filename.startswith(prefix) for f in files):
            return PrKind.RFC
    return PrKind.CODE


def pr_stage(pr: PullRequest) -> Stage | None:
    """The stage a PR credits its author with (None: none: closed unmerged, a revert, marked invalid)."""
    if not pr.credits or pr.state == PrState.CLOSED:
        return None
    if pr.kind == PrKind.RFC:
        return Stage.RFC_ACCEPTED if pr.state == PrState.MERGED else Stage.RFC_SUBMITTED
    if pr.state == PrState.MERGED:
        return Stage.PARTLY_DONE if pr.part else Stage.COMPLETED
    return Stage.SUBMITTED


def _credit(rules: CampaignRules, led: _Ledger, pr: PullRequest, now: datetime, *, withdrawn: bool = False) -> list[int]:
    """Set the author's stage on each task from all their PRs for it. Returns the tasks the PR
    would have claimed but may not because the author already holds `max_claims_per_user`.

    A PR on a task its author has not claimed is a claim, under the same limits as a comment's
    (see the module docstring): the task must be open to claims and have room, and the author must be
    under the per-person limit. Tasks the author already holds always move (they use no new
    slot); new ones are taken by task number until the limit. A merged PR is credited
    whatever the limits (a maintainer merged it). `withdrawn`: a maintainer just marked the PR
    invalid, so even a completed stage steps back to what the author's other PRs show (a stage
    their other PRs do not explain, such as a `/done`, otherwise stands)."""
    limit = rules.campaign.claim_policy.max_claims_per_user
    over: list[int] = []
    for tid in pr.tasks:
        task = rules.tasks.get(tid)
        if task is None:
            continue
        stages = [
            s
            for p in led.state.prs
            if p.author.lower() == pr.author.lower() and tid in p.tasks
            for s in [pr_stage(p)]
            if s is not None
        ]
        derived = max(stages, key=lambda s: s.rank) if stages else None
        mine = led.state.claim(tid, pr.author)
        if mine is None:
            if derived is None:
                continue
            if pr.state != PrState.MERGED:
                if tid in led.state.closed_tasks or not has_room(rules, led.state, task, now):
                    continue
                if limit is not None and len(unfinished_of(rules, led.state, pr.author, now)) >= limit:
                    over.append(tid)
                    continue
            led.add(PutClaim(Claim(rules.slug, tid, pr.author, derived, now)))
            continue
        if withdrawn:
            new: Stage = derived or Stage.CLAIMED
        elif derived is None:
            # Closed unmerged: back to claimed, unless a maintainer marked it done.
            new = mine.stage if mine.stage in (Stage.CLAIMED, Stage.COMPLETED) else Stage.CLAIMED
        elif mine.stage == Stage.COMPLETED:
            new = mine.stage  # a maintainer's /done stands whatever the PR's state
        else:
            new = derived
        if new != mine.stage:
            led.add(PutClaim(replace(mine, stage=new)))
    return over


@dataclass(frozen=True)
class Withdrawal:
    """A maintainer put an invalid label on a PR (`withdraw`), or took the last one off (not `withdraw`)."""

    withdraw: bool
    by: str


def decide_pull(
    rules: CampaignRules,
    state: CampaignState,
    p: PullFacts,
    files: list[ChangedFile],
    now: datetime,
    withdrawal: Withdrawal | None = None,
) -> Decision:
    """A pull request whose title references tasks of this campaign (or used to: a title edited so
    that it names other tasks, or none, takes its credit away from the tasks it no longer names).

    A PR a maintainer marked invalid (`withdrawal`, from a label event; recorded with the PR, so later
    deliveries, whatever labels their payload lists, keep it so) credits nobody until the mark is
    taken off, and its check run is neutral."""
    old = next((x for x in state.prs if x.repo.lower() == p.repo.lower() and x.number == p.number), None)
    withdrawn_by = old.withdrawn_by if old is not None else None
    if withdrawal is not None:
        withdrawn_by = withdrawal.by if withdrawal.withdraw else None
    if not p.ref.tasks:
        if old is None or not old.tasks:
            return Decision()
        led = _Ledger(state)
        led.add(PutPull(replace(old, title=p.title, tasks=(), withdrawn_by=withdrawn_by)))
        _credit(rules, led, old, now)
        return Decision(changes=led.changes, board=BoardChange.MOVED)
    tasks = [rules.tasks[t] for t in p.ref.tasks if t in rules.tasks]
    kind = pr_kind(rules, tasks, p.repo, files)
    pr_state = PrState.MERGED if p.merged else (PrState.CLOSED if p.state == "closed" else PrState.OPEN)
    pr = PullRequest(
        rules.slug,
        p.repo,
        p.number,
        p.author,
        p.title,
        tuple(p.ref.tasks),
        kind,
        pr_state,
        p.url,
        part=p.ref.part,
        revert=p.ref.revert,
        withdrawn_by=withdrawn_by,
    )
    led = _Ledger(state)
    if old != pr:
        led.add(PutPull(pr))
    over: list[int] = []
    was_withdrawn = old is not None and old.withdrawn_by is not None
    if not pr.revert:
        over = _credit(rules, led, pr, now, withdrawn=withdrawn_by is not None and not was_withdrawn)
    if old is not None and set(old.tasks) - set(pr.tasks):
        _credit(rules, led, replace(old, tasks=tuple(sorted(set(old.tasks) - set(pr.tasks)))), now)
    limit = rules.campaign.claim_policy.max_claims_per_user
    known = [t for t in dict.fromkeys(pr.tasks) if t in rules.tasks]
    review = review_pr(
        rules,
        pr,
        files,
        p.body,
        led.state,
        tuple(h.text(lang_of(rules)) for h in p.ref.hints),
        over_limit={t: limit or 0 for t in over},
        title_names=len(known) if limit and len(known) > limit else 0,
        rfc=dict(p.rfc),
    )
    decision = Decision(changes=led.changes, board=BoardChange.moved_if(bool(led.changes)))
    checklist = render_checklist(review, rules, lang_of(rules))
    decision.actions.append(UpsertChecklist(p.repo, p.number, checklist))
    managed = managed_labels(rules)
    desired = sorted((set(p.labels) - managed) | set(review.labels))
    if set(desired) != set(p.labels):
        decision.actions.append(SetLabels(p.repo, p.number, tuple(desired)))
    decision.actions += check_run(rules, p, review, checklist)
    return decision


# ---- campaign life: expiry, reminders, renewals, closing the campaign; readable replies ----------------
def lapse_claims(rules: CampaignRules, state: CampaignState, now: datetime) -> Decision:
    """One sweep of a campaign's claims (run periodically by the shell): claims whose reminder is due
    are marked reminded, lapsed claims (no PR within `claim_expiry_days`) are dropped so the board
    shows their tasks free, and ONE notice on the tracker tells each person concerned: their tasks
    and when they lapse (with how to renew), or that they lapsed (a crowded sweep, e.g. the first
    after an upgrade, is split into notices of at most NOTICE_PEOPLE people, to stay within
    GitHub's comment size). Recording the reminder in the same decision is what keeps it from being
    sent twice."""
    lapsed = [c for c in state.claims if is_expired(rules, c, now)]
    due = [c for c in state.claims if not is_expired(rules, c, now) and _reminder_due(rules, c, now)]
    changes: list[Change] = [DropClaim(c.task, c.user) for c in lapsed]
    changes += [PutClaim(replace(c, reminded_at=now)) for c in due]
    decision = Decision(changes=changes, board=BoardChange.moved_if(bool(lapsed)))
    if not (lapsed or due) or not rules.campaign.tracker:
        return decision
    entries = [("due", p) for p in _by_person(rules, due)] + [("lapsed", p) for p in _by_person(rules, lapsed)]
    parts = range(0, len(entries), NOTICE_PEOPLE)
    for n, start in enumerate(parts, 1):
        chunk = entries[start : start + NOTICE_PEOPLE]
        key = _notice_key(rules, "sweep", now) + (f".{n}" if len(parts) > 1 else "")
        body = render_sweep_notice(
            rules,
            [p for kind, p in chunk if kind == "due"],
            [p for kind, p in chunk if kind == "lapsed"],
            lang_of(rules),
            key=key,
        )
        decision.actions.append(Notice(rules.campaign.tracker_repo or "", rules.campaign.tracker_number or 0, key, body))
    return decision


NOTICE_PEOPLE = 100  # people addressed by one sweep notice (a line each: well within GitHub's 65,536 characters)


def _reminder_due(rules: CampaignRules, c: Claim, now: datetime) -> bool:
    at = remind_at(rules, c)
    return at is not None and at <= now and (c.reminded_at is None or c.reminded_at < c.period_start)


def _by_person(rules: CampaignRules, claims: list[Claim]) -> list[dict]:
    """Claims grouped per person (in login order), each with its tasks and when they lapse."""
    people: dict[str, dict] = {}
    for c in sorted(claims, key=lambda c: (c.user.lower(), c.task)):
        p = people.setdefault(c.user.lower(), {"user": c.user, "tasks": [], "lapses": []})
        p["tasks"].append(c.task)
        at = lapses_at(rules, c)
        p["lapses"].append(when(at) if at else "")
        p.setdefault("claimed", when(c.claimed_at))
    for p in people.values():
        p["same_lapse"] = len(set(p["lapses"])) == 1
        p["lapse"] = p["lapses"][0]
    return list(people.values())


def _notice_key(rules: CampaignRules, kind: str, now: datetime) -> str:
    return f"{kind}:{rules.slug}:{now.strftime('%Y%m%dT%H%M%S')}"


def _renew(rules: CampaignRules, led: _Ledger, user: str, tasks: tuple[int, ...], now: datetime) -> list[Note]:
    """`/renew N`: a new period for the holder's claim, once per period (from its reminder until it lapses)."""
    groups: dict[NoteCode, list[int]] = {}
    opens: dict[int, str] = {}
    for tid in tasks:
        mine = led.state.claim(tid, user)
        if mine is None:
            groups.setdefault(NoteCode.NOT_CLAIMED, []).append(tid)
        elif lapses_at(rules, mine) is None:
            groups.setdefault(NoteCode.RENEW_NOT_NEEDED, []).append(tid)
        elif is_expired(rules, mine, now):
            groups.setdefault(NoteCode.RENEW_LAPSED, []).append(tid)
        else:
            window = remind_at(rules, mine)
            if window is not None and now < window:
                groups.setdefault(NoteCode.RENEW_TOO_EARLY, []).append(tid)
                opens[tid] = when(window)
                continue
            led.add(PutClaim(replace(mine, renewed_at=now)))
            groups.setdefault(NoteCode.RENEWED, []).append(tid)
    notes = []
    days = rules.campaign.claim_policy.claim_expiry_days
    for code in (
        NoteCode.RENEWED,
        NoteCode.RENEW_TOO_EARLY,
        NoteCode.RENEW_NOT_NEEDED,
        NoteCode.RENEW_LAPSED,
        NoteCode.NOT_CLAIMED,
    ):
        if code not in groups:
            continue
        extra: dict = {}
        if code == NoteCode.RENEWED:
            extra = {"days": days, "lapses": when(now + timedelta(days=days or 0))}
        elif code == NoteCode.RENEW_TOO_EARLY:
            extra = {"opens": min(opens.values())}
        elif code == NoteCode.RENEW_NOT_NEEDED:
            extra = {"no_expiry": not days}
        notes.append(Note(code, tuple(groups[code]), user=user, extra=extra))
    return notes


def _tell_expiry(rules: CampaignRules, notes: list[Note], now: datetime) -> list[Note]:
    """A claim's reply says when it lapses without a PR (and how to renew)."""
    days = rules.campaign.claim_policy.claim_expiry_days
    if not days:
        return notes
    expiry = {"expiry_days": days, "lapses": when(now + timedelta(days=days))}
    return [replace(n, extra={**n.extra, **expiry}) if n.code == NoteCode.CLAIMED else n for n in notes]


def _done_notes(known: list[int], by: dict[int, list[str]]) -> list[Note]:
    """`/done`: one line per group of tasks completed by the same people, naming them."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for tid in known:
        groups.setdefault(tuple(by.get(tid, ())), []).append(tid)
    return [
        Note(NoteCode.DONE, tuple(ts), user=users[0] if len(users) == 1 else None, extra={"by": list(users)})
        for users, ts in groups.items()
    ]


def _close_campaign(rules: CampaignRules, led: _Ledger, close: bool, now: datetime) -> list[Note]:
    if close:
        if led.state.closed_at is not None:
            return [Note(NoteCode.CAMPAIGN_ALREADY_CLOSED, extra={"since": when(led.state.closed_at)})]
        led.add(SetCampaignClosed(now))
        return [Note(NoteCode.CAMPAIGN_CLOSED_NOW)]
    if led.state.closed_at is None:
        return [Note(NoteCode.CAMPAIGN_NOT_CLOSED)]
    led.add(SetCampaignClosed(None))
    return [Note(NoteCode.CAMPAIGN_REOPENED)]


def _results_blocks(
    rules: CampaignRules, before: CampaignState, after: CampaignState, c: CommentFacts, decision: Decision
) -> list[str]:
    """When this comment closed the campaign: its results, in the reply when the comment is on the
    tracker, else in a notice on the tracker."""
    if before.closed_at is not None or after.closed_at is None:
        return []
    results = render_results(rules, after, lang_of(rules), c.history)
    if not rules.campaign.tracker or (c.repo.lower(), c.number) == (
        (rules.campaign.tracker_repo or "").lower(),
        rules.campaign.tracker_number,
    ):
        return [results]
    key = _notice_key(rules, "results", after.closed_at)
    decision.actions.append(
        Notice(rules.campaign.tracker_repo or "", rules.campaign.tracker_number or 0, key, notice_marker(key) + "\n" + results)
    )
    return []


def comment_lang(body: str) -> Lang | None:
    """The language a comment is written in: "zh" when it has Chinese characters, "en" when it has
    English words beyond the commands (`/done 5`, `claim No.3` say nothing about the writer's
    language), None when neither."""
    text = "\n".join(line for line in clean_lines(body) if not _COMMAND_LINE.match(line))
    if _CJK.search(text):
        return "zh"
    return "en" if _LATIN_WORD.search(_COMMAND_WORDS.sub(" ", text)) else None


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_COMMAND_LINE = re.compile(r"^\s*[/@]")
_COMMAND_WORDS = re.compile(r"(?i)\b(?:un)?claim\b|\bno\b\.?|\btasks?\b")


def _reply_body(rules: CampaignRules, c: CommentFacts, notes: list[Note], parsed: ParseResult, hints: list[str]) -> str:
    """The reply, in the campaign's language; to a comment in the other language, either a one-line gloss
    in the comment's language is added (default) or, with `reply_language: comment`, the reply is in it."""
    lang = lang_of(rules)
    theirs = comment_lang(c.body)
    if theirs is None or theirs == lang:
        return render_reply(rules, notes, lang, user=c.author, comment_id=c.comment_id)
    shown = [n for n in notes if n.code not in (NoteCode.HINT, NoteCode.ERROR)]
    if hints:
        shown += [Note(NoteCode.HINT, detail=h.text(theirs)) for h in parsed.hints]
    shown += [Note(NoteCode.ERROR, detail=e.text(theirs)) for e in parsed.errors]
    if rules.campaign.reply_language == "comment":
        return render_reply(rules, shown, theirs, user=c.author, comment_id=c.comment_id)
    body = render_reply(rules, notes, lang, user=c.author, comment_id=c.comment_id)
    gloss = render_gloss(rules, shown, theirs) if shown else ""
    return body.rstrip("\n") + ("\n\n" + gloss if gloss else "") + "\n"


def check_run(rules: CampaignRules, p: PullFacts, review: Review, checklist: str) -> list[CheckRun]:
    """The PR's check run on its head commit, while the PR is open (a merged or closed PR's
    checks no longer gate anything). The executor skips one identical to the last it created."""
    if p.state != "open" or p.merged or not p.head_sha:
        return []
    conclusion, title, summary = render_check(review, checklist, lang_of(rules))
    return [CheckRun(p.repo, p.number, p.head_sha, conclusion, title, summary)]


def decide_title_hint(rules: CampaignRules, p: PullFacts) -> Decision:
    """A PR in a campaign repository whose title almost references a task (the title parser gave
    hints but no task): a checklist comment carrying the hints, nothing else (no labels, no
    state). Edited in place, so it is posted once; a later title that names a task replaces it
    with the real checklist."""
    if p.ref.tasks or not p.ref.hints or p.state != "open":
        return Decision()
    pr = PullRequest(rules.slug, p.repo, p.number, p.author, p.title, (), PrKind.CODE, PrState.OPEN, p.url)
    hints = tuple(h.text(lang_of(rules)) for h in p.ref.hints)
    review = review_pr(rules, pr, [], p.body, CampaignState(), hints)
    return Decision(actions=[UpsertChecklist(p.repo, p.number, render_checklist(review, rules, lang_of(rules)))])


def decide_misplaced_pull(rules: CampaignRules, p: PullFacts) -> Decision:
    """A task PR opened in a repository outside every repository of its campaign: not credited,
    not labelled (the campaign's labels live elsewhere); its checklist says where the work goes."""
    known = [t for t in p.ref.tasks if t in rules.tasks]
    if not known or p.state != "open" or p.ref.revert:
        return Decision()
    pr = PullRequest(rules.slug, p.repo, p.number, p.author, p.title, tuple(known), PrKind.CODE, PrState.OPEN, p.url)
    items = []
    for tid in known:
        task = rules.tasks[tid]
        if task.targets:
            items.append(
                CheckItem(
                    CheckCode.TARGETS,
                    CheckStatus.FAIL,
                    {"task": tid, "wrong_repo": p.repo, "inside": 0, "outside": [], "more": 0, "targets": target_list(task)},
                )
            )
    if not items:
        return Decision()
    review = Review(pr, tuple(items), ())
    return Decision(actions=[UpsertChecklist(p.repo, p.number, render_checklist(review, rules, lang_of(rules)))])


# ---- commands where people work: a task PR's comments, a task's own issue -------------------------
# Possessive quantifiers: linear on any input ("/done" + 40,000 spaces + "x" took 5 s when its
# `\s+`, `\s*` and `\s*` could each take the run of spaces).
_BARE = re.compile(
    r"^\s*+/(?P<name>claim|unclaim|done|reopen|close-task|recheck)(?:\s++@(?P<user>[A-Za-z0-9][A-Za-z0-9-]{0,38}+))?+"
    r"\s*+[。.!！]?\s*+$",
    re.IGNORECASE,
)


_COMMAND_LINE = re.compile(r"^\s*[/@]")


def command_lines(text: str) -> str:
    """Only the comment's slash-command and @-mention lines (code, quotes and HTML comments
    blanked): in a PR's discussion "claim 4 later" is conversation, `/claim` is a command."""
    return "\n".join(line if _COMMAND_LINE.match(line) else "" for line in clean_lines(text))


def bare_commands(body: str, old_body: str | None = None) -> list[tuple[str, str | None]]:
    """Slash commands written without task numbers where the task is implied (`/claim`, `/unclaim`,
    `/done [@user]`, `/reopen`, `/close-task`, `/recheck`), as (action, user) in order; code, quotes
    and HTML comments do not count. On an edited comment only lines that are new count."""

    def read(text: str) -> list[tuple[str, str | None]]:
        out = []
        for line in clean_lines(text):
            m = _BARE.match(line)
            if m and (m.group("user") is None or m.group("name").lower() == "done"):
                out.append((m.group("name").lower(), m.group("user")))
        return out

    found = read(body)
    if old_body is not None:
        old = read(old_body)
        found = [x for x in found if x not in old]
    return found


@dataclass(frozen=True)
class CommentReading:
    """Everything the shell reads off a comment's text, in one pure call it runs under its time
    budget (off the event loop for a long text): the commands (`parsed`), the bare commands whose
    task is implied (`bare`, see `bare_commands`) and the text decisions see (`body`, `old_body`:
    on a PR only the command lines)."""

    parsed: ParseResult
    bare: tuple[tuple[str, str | None], ...] = ()
    body: str = ""
    old_body: str | None = None


def read_comment(
    body: str, old_body: str | None = None, *, bot_login: str | None = None, lines_only: bool = False
) -> CommentReading:
    """Read a comment (or, when `old_body` is given, what its edit added) once: every step is linear
    in the text's length. `lines_only`: a PR's discussion, where only slash-command and @-mention
    lines count (`command_lines`)."""
    if lines_only:
        body = command_lines(body)
        old_body = command_lines(old_body) if old_body is not None else None
    if old_body is not None:
        parsed = new_commands(old_body, body, bot_login=bot_login)
    else:
        parsed = parse_comment(body, bot_login=bot_login)
    return CommentReading(parsed, tuple(bare_commands(body, old_body)), body, old_body)


def with_implied_tasks(
    parsed: ParseResult,
    body: str,
    old_body: str | None,
    tasks: tuple[int, ...],
    *,
    author: str | None = None,
    keep_hints: bool = True,
    bare: tuple[tuple[str, str | None], ...] | None = None,
) -> tuple[ParseResult, bool]:
    """`parsed` plus the bare commands of the comment, each for `tasks` (the PR's or the task
    issue's); a bare `/done` on a PR (`author` given) completes the PR's author. Returns the
    commands and whether `/recheck` was asked. Hints that a number is missing are dropped when
    the number is implied; `keep_hints=False` drops every hint (PR discussions are not claims).
    `bare`: the bare commands already read (`read_comment`), else they are read here."""
    commands = list(parsed.commands)
    recheck = False
    implied: set[str] = set()
    for action, user in bare if bare is not None else bare_commands(body, old_body):
        if action == "recheck":
            recheck = True
        elif tasks:
            commands.append(Command(Verb(action), tasks, user=user or (author if action == "done" else None)))
            implied.add("/" + action)
    hints = [h for h in parsed.hints if keep_hints and not (tasks and h.code == "claim_no_number")]
    errors = [e for e in parsed.errors if not (e.code == "missing_tasks" and e.params.get("command") in implied)]
    return ParseResult(commands=commands, hints=hints, errors=errors), recheck


def untitled_pr_reading(rules: CampaignRules, parsed: ParseResult, bare: tuple[tuple[str, str | None], ...]) -> ParseResult:
    """A comment on a PR of the campaign whose title names no task: commands that name their tasks
    act as on the tracker; bare ones (`/done`, `/claim`, `/recheck`) have nothing to act on, so
    instead of "needs task numbers" one hint says both ways out: the task in the title (then the
    checklist follows) or in the command."""
    said = tuple(dict.fromkeys("/" + action for action, _ in bare))
    errors = [e for e in parsed.errors if not (e.code == "missing_tasks" and e.params.get("command") in said)]
    if not said:
        return ParseResult(commands=list(parsed.commands), errors=errors)
    numbered = next((f"/{a} 12" + (f" @{u}" if u else "") for a, u in bare if a != "recheck"), "")
    hint = Message("pr_names_no_task", {"commands": said, "example": f"【{rules.campaign.key} No.12】", "numbered": numbered})
    return ParseResult(commands=list(parsed.commands), hints=[hint], errors=errors)


def decide_pr_comment(
    rules: CampaignRules,
    state: CampaignState,
    c: CommentFacts,
    parsed: ParseResult,
    now: datetime,
    pull: PullFacts | None = None,
    files: list[ChangedFile] | None = None,
) -> Decision:
    """A comment on a task PR: its commands as on the tracker (same permission rules), then, when
    the shell fetched the PR (`/recheck`, or a command that changed the state), the PR reviewed
    again on the new state: checklist, labels and check run re-posted where they changed."""
    decision = decide_comment(rules, state, replace(c, task_issue=None), now, parsed)
    if pull is None:
        return decision
    after = apply_changes(state, decision.changes) if decision.changes else state
    review = decide_pull(rules, after, pull, files or [], now)
    return Decision(
        changes=decision.changes + review.changes,
        actions=decision.actions + review.actions,
        board=decision.board | review.board,
        notes=decision.notes,
    )
