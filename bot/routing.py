"""Routing: which campaign a delivery concerns, and the facts its decision needs.

A delivery is routed to at most one campaign: a comment by the tracker or task issue it was
written on; a pull request by its repository and the campaign key in its title (the choice
among several campaigns for an edition-less key is the pure `choose_campaign`). The facts that
need GitHub (a PR's changed files, a commenter's permission) are fetched here, before the
decision, so deciding itself is pure. What concerns no campaign raises `Ignored`.

Participant-written text (comments, titles) is read under `budget.Budget`: inline when short,
otherwise in a worker process with a time limit, so no input can stall the event loop; a text
that overruns is answered "too long to read" (comments) or read as naming no task (titles).
Permissions are cached `PERMISSION_TTL` seconds and forgotten at once on `member`,
`organization`, `membership` and `team` events (`forget_permissions`, called at intake).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bot import events as ev
from bot.actions import Decision
from bot.budget import Budget, BudgetExceeded
from bot.clock import SYSTEM, Clock
from bot.commands import ParseResult, new_commands, parse_comment
from bot.decide import (
    MAINTAINER_ACTIONS,
    CommentFacts,
    PullFacts,
    decide_comment,
    decide_pull,
)
from bot.messages import Message
from bot.review import ChangedFile
from bot.rules.models import CampaignRules, Rules
from bot.store import Store
from bot.titles import TitleRef, key_matches, parse_title

log = logging.getLogger(__name__)

WRITE_PERMISSIONS = {"admin", "maintain", "write"}
PERMISSION_TTL = 60.0  # seconds a collaborator's permission is trusted (a demoted maintainer loses rights within a minute)


class Ignored(Exception):
    """A delivery that concerns no campaign (or is the bot's own doing): acknowledged, recorded, not acted on."""


@dataclass
class Routed:
    """One delivery's decision for one campaign, ready to commit."""

    rules: CampaignRules
    build: Callable[[Any, Any], Decision]  # (state, now) -> Decision
    installation_id: int | None


def choose_campaign(candidates: list[CampaignRules], ref: TitleRef) -> CampaignRules | None:
    """The campaign a PR title's reference means, among the campaigns of the PR's repository:
    those whose key the title's key matches; when several match (an edition-less key such as
    "Hackathon No.5"), the first that knows every referenced task, else the first."""
    matching = [c for c in candidates if key_matches(ref.key, c.campaign.key)]
    if len(matching) > 1:
        return next((c for c in matching if all(t in c.tasks for t in ref.tasks)), matching[0])
    return matching[0] if matching else None


class Router:
    def __init__(self, rules: Rules, store: Store, gateway: Any | None, *, bot_login: Callable[[], str],
                 clock: Clock = SYSTEM) -> None:
        self.rules = rules
        self.store = store
        self.gateway = gateway  # None: dry-run
        self._bot_login = bot_login
        self.clock = clock
        self._permissions: dict[tuple[str, str], tuple[str, float]] = {}
        self.budget = Budget()

    async def _read_comment(self, facts: CommentFacts) -> ParseResult:
        texts = (facts.old_body, facts.body) if facts.old_body is not None else (facts.body,)
        fn = new_commands if facts.old_body is not None else parse_comment
        try:
            return await self.budget.run(fn, *texts, bot_login=facts.bot_login)
        except BudgetExceeded as exc:
            log.warning("comment %s on %s#%s not read: %s", facts.comment_id, facts.repo, facts.number, exc)
            return ParseResult(errors=[Message("too_long_to_read")])

    async def _read_title(self, title: str) -> TitleRef:
        try:
            return await self.budget.run(parse_title, title)
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
        task = None
        rules = self.rules.by_tracker(repo, number)
        if rules is None:
            hit = self.rules.by_task_issue(repo, number)
            if hit is None:
                raise Ignored("not a campaign's tracker or task issue")
            rules, task = hit
        old = e.changes.body.from_ if e.action == "edited" and e.changes and e.changes.body else None
        if e.action == "edited" and old is None:
            raise Ignored("edited comment without its previous text")
        author = e.comment.user.login
        facts = CommentFacts(repo=repo, number=number, comment_id=e.comment.id, author=author, body=e.comment.body,
                             old_body=old, task_issue=task, bot_login=login.removesuffix("[bot]"))
        parsed = await self._read_comment(facts)
        facts = replace(facts, is_maintainer=await self._is_maintainer(rules, e, author, parsed))
        inst = e.installation.id if e.installation else None
        return Routed(rules, lambda state, now: decide_comment(rules, state, facts, now, parsed), inst)

    async def _is_maintainer(self, rules: CampaignRules, e: ev.IssueCommentEvent, author: str, parsed: ParseResult) -> bool:
        if author.lower() in {m.lower() for m in rules.campaign.maintainers}:
            return True
        if not any(c.action in MAINTAINER_ACTIONS for c in parsed.commands) or self.gateway is None or not e.installation:
            return False
        key = (e.repository.full_name.lower(), author.lower())
        cached = self._permissions.get(key)
        if cached and cached[1] > self.clock.monotonic():
            return cached[0] in WRITE_PERMISSIONS
        inst = await self.gateway.installation(e.installation.id)
        perm = await inst.collaborator_permission(e.repository.full_name, author)
        self._permissions[key] = (perm, self.clock.monotonic() + PERMISSION_TTL)
        return perm in WRITE_PERMISSIONS

    async def _route_pull(self, e: ev.PullRequestEvent) -> Routed:
        if e.action not in ev.PR_ACTIONS:
            raise Ignored(f"pull_request.{e.action} changes nothing")
        pr = e.pull_request
        repo = e.repository.full_name
        candidates = self.rules.for_repo(repo)
        if not candidates:
            raise Ignored("repository outside every campaign")
        ref = await self._read_title(pr.title)
        chosen: CampaignRules | None
        if not ref.tasks:
            # A PR the bot knows whose title no longer names a task gives its credit back.
            known = await self.store.pull_campaign(repo, pr.number)
            if known is None or known not in self.rules.campaigns:
                raise Ignored("title references no task")
            chosen = self.rules.campaigns[known]
        else:
            chosen = choose_campaign(candidates, ref)
        if chosen is None:
            raise Ignored(f"title key {ref.key!r} matches no campaign of {repo}")
        inst = e.installation.id if e.installation else None
        files = await self._pr_files(repo, pr.number, inst) if ref.tasks else []
        facts = PullFacts(repo=repo, number=pr.number, title=pr.title, body=pr.body or "", author=pr.user.login,
                          state=pr.state, merged=bool(pr.merged), url=pr.html_url, labels=tuple(lb.name for lb in pr.labels),
                          ref=ref)
        rules = chosen
        return Routed(rules, lambda state, now: decide_pull(rules, state, facts, files, now), inst)

    async def _pr_files(self, repo: str, number: int, installation_id: int | None) -> list[ChangedFile]:
        if self.gateway is None or installation_id is None:
            return []
        inst = await self.gateway.installation(installation_id)
        return [ChangedFile(f["filename"], f.get("status", "modified"), f.get("previous_filename"))
                for f in await inst.pr_files(repo, number)]
