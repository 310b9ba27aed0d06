"""Routing: which campaign a delivery concerns, and the facts its decision needs.

A delivery is routed to at most one campaign: a comment by the tracker or task issue it was
written on, or by the task PR it was written on (the campaign the store recorded the PR under,
else the one its title names); a pull request by its repository and the campaign key in its
title (the choice among several campaigns for an edition-less key is the pure
`choose_campaign`). The facts that need GitHub (a PR's changed files, the PR itself, a
commenter's permission) are fetched here, before the decision, so deciding itself is pure; they
come from a `Facts` provider (`GatewayFacts` by default; `bot simulate` gives its scenario's).
What concerns no campaign raises `Ignored`.

Participant-written text (comments, titles) is read under `budget.Budget`: inline when short,
otherwise in a worker process with a time limit, so no input can stall the event loop; a text
that overruns is answered "too long to read" (comments) or read as naming no task (titles).
Permissions are cached `PERMISSION_TTL` seconds and forgotten at once on `member`,
`organization`, `membership` and `team` events (`forget_permissions`, called at intake).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import urlsplit

from bot.clock import SYSTEM, Clock
from bot.core.actions import Decision
from bot.core.commands import MAINTAINER_VERBS, STATE_VERBS, ParseResult, Verb
from bot.core.decide import (
    CommentFacts,
    CommentReading,
    PullFacts,
    Withdrawal,
    decide_comment,
    decide_misplaced_pull,
    decide_pr_comment,
    decide_pull,
    decide_title_hint,
    read_comment,
    untitled_pr_reading,
    with_implied_tasks,
)
from bot.core.ledger import Effect, comment_effect, pull_effect
from bot.core.messages import Message
from bot.core.model import StageEvent
from bot.core.review import (
    ChangedFile,
    RfcEvidence,
    RfcLink,
    RfcVerdict,
    invalid_labels,
    rfc_link_verdict,
    rfc_links,
    under_rfc_dir,
)
from bot.core.titles import TitleRef, key_matches, parse_title
from bot.github import events as ev
from bot.github.api import GitHubApi, InstallationApi, PermanentError, keep_reserve
from bot.rules.models import CampaignRules, RulesView
from bot.runtime.timebox import Budget, BudgetExceeded
from bot.store import Store

log = logging.getLogger(__name__)

WRITE_PERMISSIONS = {"admin", "maintain", "write"}
STANDING_VERBS = frozenset({Verb.MINE, Verb.CLOSE_CAMPAIGN})  # commands whose answer ranks people (they read the history)
PERMISSION_TTL = 60.0  # seconds a collaborator's permission is trusted (a demoted maintainer loses rights within a minute)


class Facts(Protocol):
    """Where routing gets the facts a decision needs beyond the payload."""

    async def pr_files(
        self, repo: str, number: int, installation_id: int | None, head_sha: str | None = None
    ) -> list[ChangedFile]:
        """The PR's changed files ([] when unknown); `head_sha`: its head commit, when known (the
        list read for a head commit serves every later event on it)."""

    async def pull(self, repo: str, number: int, installation_id: int | None) -> dict | None:
        """The pull request as GitHub's REST API gives it (None when unknown)."""

    async def permission(self, repo: str, user: str, installation_id: int | None) -> str | None:
        """admin / maintain / write / triage / read / none; None when it cannot be known (dry-run)."""

    async def file(self, repo: str, path: str, ref: str | None, installation_id: int | None) -> dict | None:
        """A file's metadata (`{"type": "file" | "dir"}`), None when there is none."""


class GatewayFacts:
    """Facts read from GitHub (the dry-run GitHub knows no PR, no file and nobody's permission).

    A PR's file list is read at most once per head commit (the installation's client remembers
    it), its pages and the PR itself with conditional requests (unchanged: free). These reads
    serve checklists, which can wait: when the installation's primary rate limit (GitHub's
    `x-ratelimit-remaining`) is below `PRIMARY_RESERVE` of it, they are not made and the delivery
    is retried once the limit resets (a `GitHubError` with `retry_after`), so claims, replies and
    the board keep what is left. Permission lookups (maintainer commands) are never deferred."""

    def __init__(self, github: GitHubApi) -> None:
        self.github = github

    async def _deferrable(self, installation_id: int | None) -> InstallationApi:
        inst = await self.github.installation(installation_id)
        keep_reserve(inst)
        return inst

    async def pr_files(
        self, repo: str, number: int, installation_id: int | None, head_sha: str | None = None
    ) -> list[ChangedFile]:
        inst = await self._deferrable(installation_id)
        return [
            ChangedFile(f["filename"], f.get("status", "modified"), f.get("previous_filename"))
            for f in await inst.pr_files(repo, number, head_sha=head_sha)
        ]

    async def pull(self, repo: str, number: int, installation_id: int | None) -> dict | None:
        inst = await self._deferrable(installation_id)
        return await inst.get_pull(repo, number)

    async def permission(self, repo: str, user: str, installation_id: int | None) -> str | None:
        inst = await self.github.installation(installation_id)
        return await inst.collaborator_permission(repo, user)

    async def file(self, repo: str, path: str, ref: str | None, installation_id: int | None) -> dict | None:
        inst = await self._deferrable(installation_id)
        return await inst.get_file(repo, path, ref=ref)


def web_hosts(api_url: str) -> tuple[str, ...]:
    """The hosts whose links name this GitHub's pull requests and files: github.com, and the web
    host of the API the bot talks to (`https://ghe.example/api/v3` -> ghe.example)."""
    host = urlsplit(api_url).netloc.lower()
    return tuple(dict.fromkeys(("github.com", "www.github.com", host.removeprefix("api."))))


RFC_READS = 3  # links of a description read from GitHub at most, per task and event
RECHECK_GAP = 30.0  # seconds: one /recheck per person, one read of a PR for a burst of commands on it
PULLS_KEPT = 256  # PRs remembered for RECHECK_GAP at most
REFUSED_TTL = 600.0  # seconds a "no write permission" answer is trusted (access events forget it at once)


class Throttle:
    """At most one event per key every `gap` seconds (bounded memory: old keys are dropped)."""

    def __init__(self, gap: float, keep: int = 4096) -> None:
        self.gap = gap
        self.keep = keep
        self._last: OrderedDict[Any, float] = OrderedDict()

    def allow(self, key: Any, now: float) -> bool:
        last = self._last.get(key)
        if last is not None and now - last < self.gap:
            return False
        self._last[key] = now
        self._last.move_to_end(key)
        while len(self._last) > self.keep:
            self._last.popitem(last=False)
        return True


class Ignored(Exception):
    """A delivery that concerns no campaign (or is the bot's own doing): acknowledged, recorded, not acted on."""


@dataclass
class Routed:
    """One delivery's decision for one campaign, ready to commit."""

    rules: CampaignRules
    build: Callable[[Any, Any], Decision]  # (state, now) -> Decision
    installation_id: int | None
    # The effects ledger (bot.ledger): what this delivery takes effect as, and for a comment whose
    # earlier text already took effect, (state, now, applied text) -> the decision on what is new.
    effect: Effect | None = None
    edit: Callable[[Any, Any, str], Decision] | None = None
    actor: str | None = None  # whose doing it is (a comment's author, a PR event's sender): their writes are paced


def choose_campaign(candidates: list[CampaignRules], ref: TitleRef) -> CampaignRules | None:
    """The campaign a PR title's reference means, among the campaigns of the PR's repository:
    those whose key the title's key matches; when several match (an edition-less key such as
    "Hackathon No.5"), the first that knows every referenced task, else the first."""
    matching = [c for c in candidates if key_matches(ref.key, c.campaign.key)]
    if len(matching) > 1:
        return next((c for c in matching if all(t in c.tasks for t in ref.tasks)), matching[0])
    return matching[0] if matching else None


class Router:
    def __init__(
        self,
        rules: RulesView,
        store: Store,
        facts: Facts,
        *,
        bot_login: Callable[[], str],
        clock: Clock = SYSTEM,
        public_url: str | None = None,
        hosts: tuple[str, ...] = ("github.com", "www.github.com"),
    ) -> None:
        self.public_url = public_url  # the dashboard's public address: `/mine` links to pages there
        self.hosts = hosts  # hosts whose links are this GitHub's (see `web_hosts`)
        self.rules = rules
        self.store = store
        self.facts = facts
        self._bot_login = bot_login
        self.clock = clock
        self._permissions: dict[tuple[str, str], tuple[str, float]] = {}
        self._history: dict[str, tuple[int, tuple[StageEvent, ...]]] = {}  # slug -> (last row id read, events)
        self.budget = Budget()
        self.throttle = Throttle(RECHECK_GAP)
        self._pulls: OrderedDict[tuple[str, int], tuple[float, dict | None]] = OrderedDict()

    async def _read_comment(
        self, e: ev.IssueCommentEvent, body: str, old: str | None, bot_login: str, *, lines_only: bool = False
    ) -> CommentReading:
        """`read_comment` under the time budget (see `timebox`): the only reading of a comment's
        text, done before anything else is asked of the store or GitHub about it."""
        texts = (body,) if old is None else (body, old)
        try:
            return await self.budget.run(read_comment, *texts, bot_login=bot_login, lines_only=lines_only)
        except BudgetExceeded as exc:
            log.warning("comment %s on %s#%s not read: %s", e.comment.id, e.repository.full_name, e.issue.number, exc)
            return CommentReading(ParseResult(errors=[Message("too_long_to_read")]), (), "" if lines_only else body, None)

    async def _read_title(self, title: str, keys: list[str]) -> TitleRef:
        """`parse_title` under the time budget; a title that overruns names no task."""
        try:
            return await self.budget.run(parse_title, title, keys=keys)
        except BudgetExceeded as exc:
            log.warning("title not read (%s): %r...", exc, title[:80])
            return parse_title("")

    async def route(self, event: str, payload: dict) -> Routed:
        """The delivery's decision for its campaign; raises `Ignored` when it concerns none."""
        if event == "issue_comment":
            return await self._route_comment(ev.IssueCommentEvent.model_validate(payload))
        if event == "pull_request":
            return await self._route_pull(ev.PullRequestEvent.model_validate(payload))
        raise Ignored(f"event {event} is not handled")

    def forget_permissions(self, repo: str | None = None) -> None:
        """Drop cached permissions (all, or one repository's): after a `member` or `organization` event."""
        if repo is None:
            self._permissions.clear()
        else:
            for key in [k for k in self._permissions if k[0] == repo.lower()]:
                del self._permissions[key]

    async def _route_comment(self, e: ev.IssueCommentEvent) -> Routed:
        if e.action == "deleted":
            raise Ignored("deleted comments change nothing: accepted claims stay recorded")
        login = self._bot_login()
        if e.comment.user.is_bot or e.comment.user.login.lower() == login.lower():
            raise Ignored("comment by a bot")
        repo, number = e.repository.full_name, e.issue.number
        inst = e.installation.id if e.installation else None
        task = None
        rules = self.rules.by_tracker(repo, number, inst)
        if rules is None:
            hit = self.rules.by_task_issue(repo, number, inst)
            if hit is None:
                if e.issue.pull_request is not None:
                    return await self._route_pr_comment(e)
                raise Ignored("not a campaign's tracker or task issue")
            rules, task = hit
        old = e.changes.body.from_ if e.action == "edited" and e.changes and e.changes.body else None
        if e.action == "edited" and old is None:
            raise Ignored("edited comment without its previous text")
        author = e.comment.user.login
        facts = CommentFacts(
            repo=repo,
            number=number,
            comment_id=e.comment.id,
            author=author,
            body=e.comment.body,
            old_body=old,
            task_issue=task,
            bot_login=login.removesuffix("[bot]"),
        )
        reading = await self._read_comment(e, facts.body, old, facts.bot_login or "")
        parsed = reading.parsed
        if task is not None:
            parsed, _ = with_implied_tasks(parsed, facts.body, old, (task.id,), bare=reading.bare)
        # An edit is compared with the text the ledger applied, which may hold commands the
        # payload's diff does not: the permission is looked up for any maintainer command in it.
        whole = (await self._read_comment(e, e.comment.body, None, facts.bot_login or "")).parsed if old is not None else parsed
        facts = replace(facts, is_maintainer=await self._is_maintainer(rules, e, author, whole))
        facts = await self._standing_facts(rules, facts, whole)

        def edit(state: Any, now: Any, applied: str) -> Decision:
            return decide_comment(rules, state, replace(facts, old_body=applied), now)

        effect = comment_effect(repo, e.comment.id, e.comment.body, e.comment.updated_at)
        return Routed(rules, lambda state, now: decide_comment(rules, state, facts, now, parsed), inst, effect, edit, author)

    async def _route_pr_comment(self, e: ev.IssueCommentEvent) -> Routed:
        """A comment on a pull request: its commands act on the PR's tasks (bare `/done`, `/claim`...),
        `/recheck` reviews the PR again. Ordinary discussion (no command) is ignored before any API call."""
        repo, number = e.repository.full_name, e.issue.number
        if not self.rules.for_repo(repo, e.installation.id if e.installation else None):  # before reading a word of it
            raise Ignored("repository outside every campaign")
        old = e.changes.body.from_ if e.action == "edited" and e.changes and e.changes.body else None
        if e.action == "edited" and old is None:
            raise Ignored("edited comment without its previous text")
        login = self._bot_login().removesuffix("[bot]")
        # Only slash-command and @-mention lines count in a PR's discussion.
        reading = await self._read_comment(e, e.comment.body, old, login, lines_only=True)
        old = reading.old_body
        facts = CommentFacts(
            repo=repo,
            number=number,
            comment_id=e.comment.id,
            author=e.comment.user.login,
            body=reading.body,
            old_body=old,
            bot_login=login,
        )
        parsed = reading.parsed
        probe, recheck = with_implied_tasks(parsed, facts.body, old, (0,), keep_hints=False, bare=reading.bare)
        if not probe.commands and not probe.errors and not recheck:
            raise Ignored("PR comment without commands")
        inst = e.installation.id if e.installation else None
        slug = await self.store.pull_campaign(repo, number)
        raw: dict | None = None
        if slug is None or slug not in self.rules.campaigns or not self.rules.campaigns[slug].serves(inst):
            if not self.rules.for_repo(repo, inst):
                raise Ignored("repository outside every campaign")
            raw = await self._recent_pull(repo, number, inst)
            ref = await self._read_title(raw["title"], self._keys(repo, inst)) if raw else None
            campaigns = self.rules.for_repo(repo, inst)
            chosen = choose_campaign(campaigns, ref) if ref and ref.tasks else None
            if chosen is not None and ref is not None:
                rules, title_tasks = chosen, ref.tasks
            elif raw is not None and ref is not None and not ref.tasks and len(campaigns) == 1:
                rules, title_tasks = campaigns[0], ()  # a PR of the campaign's repository that names no task
            else:
                raise Ignored("not a task PR")
        else:
            rules, title_tasks = self.rules.campaigns[slug], None
        state = await self.store.current_state(rules.slug)
        known = next((p for p in state.prs if p.repo.lower() == repo.lower() and p.number == number), None)
        tasks = tuple(title_tasks if title_tasks is not None else (known.tasks if known else ()))
        if not tasks:
            return await self._route_untitled_pr_comment(e, rules, facts, reading)
        author = raw["user"]["login"] if raw else (known.author if known else e.issue.user.login)
        parsed, recheck = with_implied_tasks(parsed, facts.body, old, tasks, author=author, keep_hints=False, bare=reading.bare)
        facts = replace(facts, is_maintainer=await self._is_maintainer(rules, e, facts.author, parsed))
        facts = await self._standing_facts(rules, facts, parsed)
        pull: PullFacts | None = None
        files: list[ChangedFile] = []
        now = self.clock.now()
        if recheck and not self.throttle.allow(("recheck", facts.author.lower()), self.clock.monotonic()):
            recheck = False  # one /recheck a person per RECHECK_GAP; the rest ask nothing of GitHub
            log.info("/recheck by %s on %s#%s throttled", facts.author, repo, number)
        # The PR is read again only when something could have changed its review: a /recheck, or a
        # command that changes the campaign's state (a refused or idle one costs nothing but its reply).
        changes = any(c.action in STATE_VERBS for c in parsed.commands) and bool(
            decide_comment(rules, state, replace(facts, task_issue=None), now, parsed).changes
        )
        if recheck or changes:
            # (a change of state reviews the PR as it is now: a conditional read, free when unchanged)
            raw = raw or await (self.facts.pull(repo, number, inst) if changes else self._recent_pull(repo, number, inst))
            if raw is not None:
                pull = self._pull_facts(repo, raw, await self._read_title(raw["title"], self._keys(repo, inst)))
                files = await self.facts.pr_files(repo, number, inst, pull.head_sha or None) if pull.ref.tasks else []
                pull = replace(pull, rfc=await self._rfc_evidence(rules, pull, inst))
        effect = comment_effect(repo, e.comment.id, e.comment.body, e.comment.updated_at)
        return Routed(
            rules,
            lambda state, now: decide_pr_comment(rules, state, facts, parsed, now, pull, files),
            inst,
            effect,
            actor=facts.author,
        )

    async def _route_untitled_pr_comment(
        self, e: ev.IssueCommentEvent, rules: CampaignRules, facts: CommentFacts, reading: CommentReading
    ) -> Routed:
        """A comment on a PR whose title names no task: commands naming their tasks act as on the
        tracker; bare ones get a hint saying how to name the task (`untitled_pr_reading`)."""
        parsed = untitled_pr_reading(rules, reading.parsed, reading.bare)
        if not parsed.commands and not parsed.hints and not parsed.errors:
            raise Ignored("the PR names no task")
        facts = replace(facts, is_maintainer=await self._is_maintainer(rules, e, facts.author, parsed))
        facts = await self._standing_facts(rules, facts, parsed)
        effect = comment_effect(facts.repo, e.comment.id, e.comment.body, e.comment.updated_at)
        inst = e.installation.id if e.installation else None
        return Routed(
            rules, lambda state, now: decide_pr_comment(rules, state, facts, parsed, now), inst, effect, actor=facts.author
        )

    async def _recent_pull(self, repo: str, number: int, inst: int | None) -> dict | None:
        """The PR as GitHub shows it, read at most once per `RECHECK_GAP` (the reads of a burst of
        commands and /rechecks on one PR are one; each is conditional, so an unchanged PR is free)."""
        key = (repo.lower(), number)
        now = self.clock.monotonic()
        hit = self._pulls.get(key)
        if hit is not None and now - hit[0] < RECHECK_GAP:
            return hit[1]
        raw = await self.facts.pull(repo, number, inst)
        self._pulls[key] = (now, raw)
        while len(self._pulls) > PULLS_KEPT:
            self._pulls.popitem(last=False)
        return raw

    async def _rfc_evidence(
        self, rules: CampaignRules, p: PullFacts, inst: int | None
    ) -> tuple[tuple[int, tuple[RfcEvidence, ...]], ...]:
        """What the links of a PR's description are, for each of its tasks that needs a design
        document: judged from the link where it tells (hidden, another host or repository, a
        directory), else read from GitHub (the PR and its files, or the file), at most RFC_READS
        per task. The description is read under the time budget."""
        needs = []
        for tid in dict.fromkeys(p.ref.tasks):
            task = rules.tasks.get(tid)
            if task is not None and task.rfc.required:
                repo, path = task.rfc_location(rules.campaign)
                if repo:
                    needs.append((tid, repo, path))
        if not needs or not p.body:
            return ()
        try:
            links: tuple[RfcLink, ...] = await self.budget.run(rfc_links, p.body)
        except BudgetExceeded as exc:
            log.warning("description of %s#%s not read: %s", p.repo, p.number, exc)
            return ()
        out = []
        for tid, repo, path in needs:
            found, reads = [], 0
            for link in links:
                verdict = rfc_link_verdict(link, repo, path, self.hosts)
                if verdict is None:
                    if reads >= RFC_READS:
                        continue
                    reads += 1
                    verdict = await self._read_rfc(link, path, inst)
                found.append(RfcEvidence(link.url, verdict, link.number))
            out.append((tid, tuple(found)))
        return tuple(out)

    async def _read_rfc(self, link: RfcLink, path: str | None, inst: int | None) -> RfcVerdict:
        """What GitHub shows a link of the RFC repository to be (see `RfcVerdict`)."""
        try:
            if link.kind == "pull" and link.number is not None:
                raw = await self.facts.pull(link.repo, link.number, inst)
                if raw is None:
                    return RfcVerdict.MISSING
                pr = ev.PullRequest.model_validate(raw)
                if pr.state == "closed" and not pr.is_merged:
                    return RfcVerdict.CLOSED
                files = await self.facts.pr_files(link.repo, link.number, inst, pr.head.sha)
                written = ("added", "modified", "renamed", "copied", "changed")
                if not any(f.status in written and under_rfc_dir(f.filename, path) for f in files):
                    return RfcVerdict.OUTSIDE
                return RfcVerdict.MERGED if pr.is_merged else RfcVerdict.OPEN
            meta = await self.facts.file(link.repo, link.path, link.ref, inst)
        except PermanentError as exc:
            if exc.status in (404, 410, 422):
                return RfcVerdict.MISSING
            raise
        if meta is None:
            return RfcVerdict.MISSING
        return RfcVerdict.FILE if meta.get("type") == "file" else RfcVerdict.DIRECTORY

    async def _standing_facts(self, rules: CampaignRules, facts: CommentFacts, parsed: ParseResult) -> CommentFacts:
        """A comment asking for standings (`/mine`, `/close-campaign`'s results) gets the stage history,
        which orders people equal in points, and the dashboard's public address."""
        if not any(c.action in STANDING_VERBS for c in parsed.commands):
            return facts
        # the history is append-only: keep what was read, ask only for the rows recorded since
        last, events = self._history.get(rules.slug, (0, ()))
        new = await self.store.history_since(rules.slug, last)
        if new:
            last, events = new[-1][0], events + tuple(e for _, e in new)
            self._history[rules.slug] = (last, events)
        return replace(facts, history=events, public_url=self.public_url)

    def _keys(self, repo: str, installation_id: int | None) -> list[str]:
        """The campaign keys a title in `repo` may use (`Docs Sprint No.5` as well as `Hackathon ...`)."""
        return [c.campaign.key for c in self.rules.for_repo(repo, installation_id)]

    def _pull_facts(
        self, repo: str, pr: ev.PullRequest | dict, ref: TitleRef | None = None, *, installation_id: int | None = None
    ) -> PullFacts:
        """The one conversion of GitHub's pull-request object (a webhook's, or the REST API's as a
        dict: the same shape) into the facts a decision reads; `ref`: its title already read."""
        if isinstance(pr, dict):
            pr = ev.PullRequest.model_validate(pr)
        return PullFacts(
            repo=repo,
            number=pr.number,
            title=pr.title,
            body=pr.body or "",
            author=pr.user.login,
            state=pr.state,
            merged=pr.is_merged,
            url=pr.html_url,
            labels=tuple(lb.name for lb in pr.labels),
            ref=ref if ref is not None else parse_title(pr.title, self._keys(repo, installation_id)),
            head_sha=pr.head.sha,
        )

    async def _is_maintainer(self, rules: CampaignRules, e: ev.IssueCommentEvent, author: str, parsed: ParseResult) -> bool:
        if author.lower() in {m.lower() for m in rules.campaign.maintainers}:
            return True
        if not any(c.action in MAINTAINER_VERBS for c in parsed.commands):
            return False
        return await self._may_write(e.repository.full_name, author, e.installation.id if e.installation else None)

    async def _may_write(self, repo: str, user: str, installation_id: int | None) -> bool:
        """Whether `user` has write, maintain or admin permission on `repo` (cached PERMISSION_TTL seconds)."""
        key = (repo.lower(), user.lower())
        cached = self._permissions.get(key)
        if cached and cached[1] > self.clock.monotonic():
            return cached[0] in WRITE_PERMISSIONS
        perm = await self.facts.permission(repo, user, installation_id)
        if perm is None:
            return False
        # A refusal is trusted longer: a promotion sends a `member` or `team` event, which forgets it.
        ttl = PERMISSION_TTL if perm in WRITE_PERMISSIONS else REFUSED_TTL
        self._permissions[key] = (perm, self.clock.monotonic() + ttl)
        return perm in WRITE_PERMISSIONS

    async def _route_pull(self, e: ev.PullRequestEvent) -> Routed:
        if e.action not in ev.PR_ACTIONS:
            raise Ignored(f"pull_request.{e.action} changes nothing")
        if e.action in ev.LABEL_ACTIONS:
            return await self._route_label(e)
        pr = e.pull_request
        repo = e.repository.full_name
        self._pulls.pop((repo.lower(), pr.number), None)  # the PR moved: a /recheck reads it again
        inst = e.installation.id if e.installation else None
        candidates = self.rules.for_repo(repo, inst)
        if not candidates and e.action not in ("opened", "reopened", "edited"):
            raise Ignored("repository outside every campaign")  # before reading its title
        ref = await self._read_title(pr.title, [c.campaign.key for c in candidates])
        facts = self._pull_facts(repo, pr, ref)
        if not candidates:
            # A task PR opened where no campaign lives: its checklist says where the work goes.
            mine = [c for c in self.rules.campaigns.values() if c.serves(inst)]
            misplaced = choose_campaign(mine, ref) if ref.tasks else None
            if misplaced is None or e.action not in ("opened", "reopened", "edited"):
                raise Ignored("repository outside every campaign")
            wrong = misplaced
            return Routed(wrong, lambda state, now: decide_misplaced_pull(wrong, facts), inst)
        chosen: CampaignRules | None
        if not ref.tasks:
            # A PR the bot knows whose title no longer names a task gives its credit back.
            known = await self.store.pull_campaign(repo, pr.number)
            if known is None or known not in self.rules.campaigns or not self.rules.campaigns[known].serves(inst):
                if ref.hints and e.action in ("opened", "reopened", "edited"):
                    # The title almost references a task: tell the author how to write it.
                    hinted = choose_campaign(candidates, ref) or candidates[0]
                    return Routed(hinted, lambda state, now: decide_title_hint(hinted, facts), inst)
                raise Ignored("title references no task")
            chosen = self.rules.campaigns[known]
        else:
            chosen = choose_campaign(candidates, ref)
        if chosen is None:
            raise Ignored(f"title key {ref.key!r} matches no campaign of {repo}")
        # the list read for this head commit serves again, unless the base branch changed (its diff did)
        head = None if e.action == "edited" and e.changes and "base" in e.changes else pr.head.sha
        files = await self.facts.pr_files(repo, pr.number, inst, head) if ref.tasks else []
        rules = chosen
        facts = replace(facts, rfc=await self._rfc_evidence(rules, facts, inst))
        effect = pull_effect(
            repo,
            pr.number,
            head_sha=pr.head.sha,
            title=pr.title,
            body=pr.body or "",
            state=pr.state,
            merged=pr.is_merged,
            files=[(f.filename, f.status) for f in files],
            updated_at=pr.updated_at,
        )
        return Routed(rules, lambda state, now: decide_pull(rules, state, facts, files, now), inst, effect, actor=e.sender.login)

    async def _route_label(self, e: ev.PullRequestEvent) -> Routed:
        """A label put on or taken off a task PR: only the labels that withdraw its credit count
        (`labels.invalid`, `spam`), and only when a maintainer (the campaign's, or anyone with write
        permission on the repository) moved them; the withdrawal is recorded with the PR. Taking one
        off while another stays changes nothing. Not in the effects ledger: a label is no part of the
        PR's content, and a replayed delivery sets the same mark again."""
        pr, repo = e.pull_request, e.repository.full_name
        inst = e.installation.id if e.installation else None
        candidates = self.rules.for_repo(repo, inst)
        if not candidates or e.label is None:
            raise Ignored("a label outside every campaign")
        ref = await self._read_title(pr.title, [c.campaign.key for c in candidates])
        known = await self.store.pull_campaign(repo, pr.number)
        rules = self.rules.campaigns.get(known) if known else None
        if rules is None or not rules.serves(inst):
            rules = choose_campaign(candidates, ref) if ref.tasks else None
        if rules is None:
            raise Ignored("a label on a PR that is no task PR")
        invalid = invalid_labels(rules)
        if e.label.name.lower() not in invalid:
            raise Ignored(f"label {e.label.name!r} changes nothing")
        if e.action == "unlabeled" and any(lb.name.lower() in invalid for lb in pr.labels):
            raise Ignored("another label marking the PR invalid stays on")
        sender = e.sender.login
        maintainer = sender.lower() in {m.lower() for m in rules.campaign.maintainers}
        if e.sender.is_bot or not (maintainer or await self._may_write(repo, sender, inst)):
            raise Ignored(f"label {e.label.name!r} moved by {sender}, who may not withdraw credit: it changes nothing")
        facts = self._pull_facts(repo, pr, ref)
        files = await self.facts.pr_files(repo, pr.number, inst, pr.head.sha) if ref.tasks else []
        withdrawal = Withdrawal(e.action == "labeled", sender)
        chosen = rules
        return Routed(chosen, lambda state, now: decide_pull(chosen, state, facts, files, now, withdrawal), inst)
