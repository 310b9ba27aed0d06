"""`bot sync`: adopt a running campaign, or reconcile one after an outage, from GitHub itself.

For each campaign it reads the tracker's comments, the task issues' comments and the campaign
repositories' pull requests, puts them in chronological order, and runs each through the same
routing and decide logic as a live delivery, so the store ends up as if the bot had run all
along; then the board is written once.

- Quiet: no reply to historical comments (their actions are dropped), no checklist or labels on
  closed PRs; open PRs get their checklist, as on their next push.
- Claims keep the time they were written as they stand now: the decision's `now` is the
  comment's `created_at`, or its `updated_at` when it was edited since (the text read is the
  edited one, and the live bot would have counted an edit's commands from the edit), and
  comments are decided in that order; a PR's is its `created_at`. So a comment written 5 days
  ago and edited into a claim yesterday claims from yesterday, after a claim made 3 days ago.
- Idempotent through the effects ledger (`bot.ledger`): what a live delivery or an earlier sync
  already applied changes nothing; an edited comment counts only what is new against the text
  already applied; a deleted comment is simply not read, and changes nothing.
- Incremental: per campaign and source a high-water mark (the newest `updated_at` read) is
  stored; a re-sync asks for comments `since` it and reads PRs `sort=updated&direction=desc`
  until it passes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.core.actions import Action, Decision, PutClaim, SetLabels, UpsertChecklist
from bot.github.api import GitHubApi, InstallationApi
from bot.rules.models import CampaignRules
from bot.runtime.pipeline import Pipeline

log = logging.getLogger(__name__)

PAGE = 100


@dataclass
class SyncReport:
    """What one `bot sync` did (printed as its summary)."""

    comments_read: int = 0
    prs_read: int = 0
    prs_matched: int = 0
    claims_recorded: int = 0
    already_applied: int = 0
    api_calls: int = 0
    campaigns: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"synced {', '.join(self.campaigns) or 'no campaign'}: {self.comments_read} comments read, "
            f"{self.claims_recorded} claims recorded, {self.prs_read} PRs read, {self.prs_matched} PRs matched, "
            f"{self.already_applied} already applied, {self.api_calls} API calls"
        )


def _ts(iso: str | None) -> datetime:
    return datetime.fromisoformat(iso or "1970-01-01T00:00:00Z")


def comment_payload(repo: str, number: int, comment: dict, installation_id: int, *, on_pull: bool = False) -> dict:
    """An `issue_comment` delivery of a comment read from the API (as GitHub would have sent it)."""
    issue: dict[str, Any] = {"number": number, "user": {"login": "unknown"}, "title": ""}
    if on_pull:
        issue["pull_request"] = {"url": str(comment.get("issue_url", "")).replace("/issues/", "/pulls/")}
    return {
        "action": "created",
        "issue": issue,
        "comment": comment,
        "repository": {"full_name": repo},
        "installation": {"id": installation_id},
        "sender": comment.get("user") or {"login": "ghost"},
    }


def written_at(comment: dict) -> datetime:
    """When a comment's text as it stands now was written: its last edit, else its creation."""
    return max(_ts(comment.get("created_at")), _ts(comment.get("updated_at") or comment.get("created_at")))


def quiet(decision: Decision, *, keep_review: bool) -> Decision:
    """A historical event's decision without what would post on GitHub: no replies, labels or
    assignments; an open PR keeps its checklist and labels (`keep_review`)."""
    kept: list[Action] = [a for a in decision.actions if keep_review and isinstance(a, (UpsertChecklist, SetLabels))]
    return replace(decision, actions=kept)


class Syncer:
    """`live`: the events are new (`bot action` reconciling what its runs have not seen yet), so their
    decisions are kept whole: replies, labels and check runs too. `full`: every comment and pull
    request is read, not only those changed since the last sync (the ledger skips what took effect)."""

    def __init__(self, pipeline: Pipeline, *, out: Callable[[str], None] = print, live: bool = False, full: bool = False) -> None:
        self.pipeline = pipeline
        self.store = pipeline.store
        self.out = out
        self.live = live
        self.full = full

    @property
    def github(self) -> GitHubApi:
        return self.pipeline.github

    async def sync(self, slugs: list[str] | None = None, *, write_board: bool = True) -> SyncReport:
        rules = self.pipeline.rules
        wanted = slugs or list(rules.campaigns)
        unknown = [s for s in wanted if s not in rules.campaigns]
        if unknown:
            raise ValueError(f"unknown campaign(s): {', '.join(unknown)} (known: {', '.join(rules.campaigns)})")
        report = SyncReport()
        start = self.github.request_count()
        # The board is written once, at the end (the running flusher waits meanwhile).
        async with self.pipeline.boards_held():
            for slug in wanted:
                await self._sync_campaign(rules.campaigns[slug], report)
                report.campaigns.append(slug)
        if write_board:
            for slug in report.campaigns:
                await self.pipeline.flush_board(slug)
        report.api_calls = self.github.request_count() - start
        self.out(report.summary())
        return report

    async def _sync_campaign(self, rules: CampaignRules, report: SyncReport) -> None:
        slug, camp = rules.slug, rules.campaign
        info = await self.store.board_info(slug)
        inst_id = info.get("installation_id")
        if inst_id is None:
            anchor = camp.tracker_repo or next(iter(rules.repos()), None)
            if anchor is None:
                return
            inst_id = await self.github.repo_installation(anchor)
        inst = await self.github.installation(inst_id)
        before = len((await self.store.state(slug)).claims)
        events: list[tuple[datetime, int, str, dict]] = []
        marks: dict[str, datetime] = {}
        issues = [(camp.tracker_repo, camp.tracker_number)] if camp.tracker_repo and camp.tracker_number else []
        for task in rules.tasks.values():
            if task.issue:
                repo, _, n = task.issue.partition("#")
                issues.append((repo, int(n)))
        if self.live:  # every comment of the campaign's repositories, PR discussions too: one read a repository
            await self._repo_comments(inst, inst_id, rules, issues, events, marks, report)
            issues = []
        for repo, number in issues:
            source = f"comments:{repo.lower()}#{number}"
            mark = None if self.full else await self.store.sync_mark(slug, source)
            comments = await inst.list_comments(repo, number, since=mark)
            report.comments_read += len(comments)
            self.out(f"{slug}: {repo}#{number}: {len(comments)} comment(s)")
            for c in comments:
                events.append((written_at(c), 0, "issue_comment", comment_payload(repo, number, c, inst_id)))
                marks[source] = max(marks.get(source, mark or _ts(None)), _ts(c.get("updated_at")))
        repos = list(camp.repos) + ([camp.rfc.repo] if camp.rfc and camp.rfc.repo else [])
        for repo in list({r.lower(): r for r in repos}.values()):
            source = f"pulls:{repo.lower()}"
            mark = None if self.full else await self.store.sync_mark(slug, source)
            pulls = await self._changed_pulls(inst, repo, mark)
            report.prs_read += len(pulls)
            self.out(f"{slug}: {repo}: {len(pulls)} pull request(s) changed")
            for pr in pulls:
                action = "closed" if pr.get("state") == "closed" else "opened"
                payload = {
                    "action": action,
                    "number": pr["number"],
                    "pull_request": pr,
                    "repository": {"full_name": repo},
                    "installation": {"id": inst_id},
                    "sender": pr.get("user") or {"login": "ghost"},
                }
                events.append((_ts(pr.get("created_at")), 1, "pull_request", payload))
                marks[source] = max(marks.get(source, mark or _ts(None)), _ts(pr.get("updated_at")))
        events.sort(key=lambda e: (e[0], e[1]))
        for when, _, event, payload in events:
            await self._apply(slug, when, event, payload, report)
        for source, mark in marks.items():
            await self.store.set_sync_mark(slug, source, mark)
        after = len((await self.store.state(slug)).claims)
        report.claims_recorded += max(0, after - before)

    async def _repo_comments(
        self,
        inst: InstallationApi,
        inst_id: int,
        rules: CampaignRules,
        issues: list[tuple[str, int]],
        events: list[tuple[datetime, int, str, dict]],
        marks: dict[str, datetime],
        report: SyncReport,
    ) -> None:
        """The comments of the campaign's tracker, task issues and pull requests since the mark, read
        repository by repository (live mode: what runs of `bot action` have not seen yet)."""
        slug, camp = rules.slug, rules.campaign
        repos = [r for r, _ in issues] + list(camp.repos) + ([camp.rfc.repo] if camp.rfc and camp.rfc.repo else [])
        wanted = {(r.lower(), n) for r, n in issues}
        for repo in list({r.lower(): r for r in repos}.values()):
            source = f"repo-comments:{repo.lower()}"
            mark = None if self.full else await self.store.sync_mark(slug, source)
            comments = await inst.list_repo_comments(repo, since=mark)
            for c in comments:
                number = int(str(c.get("issue_url", "")).rsplit("/", 1)[-1] or 0)
                on_pull = "/pull/" in str(c.get("html_url", ""))
                if not on_pull and (repo.lower(), number) not in wanted:
                    continue
                report.comments_read += 1
                payload = comment_payload(repo, number, c, inst_id, on_pull=on_pull)
                events.append((_ts(c.get("created_at")), 0, "issue_comment", payload))
            if comments:
                marks[source] = max([mark or _ts(None)] + [_ts(c.get("updated_at")) for c in comments])
            self.out(f"{slug}: {repo}: {len(comments)} comment(s) since the last run")

    async def _changed_pulls(self, inst: InstallationApi, repo: str, mark: datetime | None) -> list[dict]:
        """Every PR (any state) updated at or after `mark`, newest first, page by page."""
        out: list[dict] = []
        page = 1
        while True:
            batch = await inst.list_pulls(repo, page=page, per_page=PAGE)
            fresh = [p for p in batch if mark is None or _ts(p.get("updated_at")) >= mark]
            out += fresh
            if len(batch) < PAGE or len(fresh) < len(batch):
                return out
            page += 1

    async def _apply(self, slug: str, when: datetime, event: str, payload: dict, report: SyncReport) -> None:
        """One historical event through the pipeline's one way of handling a delivery, quietly."""
        keep_review = event == "pull_request" and payload["pull_request"].get("state") == "open"
        edited_at = _ts(payload["comment"].get("updated_at")) if event == "issue_comment" else None
        handled = await self.pipeline.handle(
            None,
            event,
            payload,
            at=when,
            edited_at=edited_at,
            quiet=None if self.live else (lambda decision: quiet(decision, keep_review=keep_review)),
        )
        if handled.outcome == "ignored":
            return
        if event == "pull_request":
            report.prs_matched += 1
        if handled.outcome == "already_applied":
            report.already_applied += 1
        elif handled.decision is not None:
            claims = sum(1 for c in handled.decision.changes if isinstance(c, PutClaim))
            log.info("sync %s %s: %d claim update(s)", slug, event, claims)
