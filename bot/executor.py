"""The executor: the one place that performs decided actions on GitHub.

It takes outbox items (queued by a decision, or left behind by a retry or a crashed worker),
performs each through the gateway's typed methods, and records their outcomes together.
Failure policy: a permanent 4xx is recorded as failed; a transient error (5xx, timeout, rate
limit) is retried later with backoff (GitHub's own wait honoured without using up a try) until
`max_attempts`. In dry-run (no gateway) each action is printed as a JSON line instead.

Idempotence on crash: an action that was attempted before (its attempt count > 1) first looks
for its own marker on GitHub (a reply to comment N carries `reply:N`; a notice its key; the
checklist carries its marker) and adopts what it finds instead of posting again. Only comments authored by the bot
itself are considered, so a participant cannot forge a marker to hijack them. A checklist or a
label set that a newer push superseded is skipped.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Callable

from bot.actions import AddLabels, Assign, CheckRun, Notice, Reply, SetLabels, UpsertChecklist, action_to_dict
from bot.clock import SYSTEM, Clock
from bot.github import GitHubError, PermanentError
from bot.leases import Leases
from bot.logs import action_line
from bot.metrics import Metrics
from bot.replies import notice_marker, reply_marker
from bot.review import CHECKLIST_MARKER
from bot.store import ActionStatus, OutboxItem, Outcome, Store, body_hash

log = logging.getLogger(__name__)


def retry_plan(attempts: int, exc: Exception) -> tuple[float, bool]:
    """(seconds to wait, whether this try is refunded). GitHub's own wait (Retry-After, rate-limit
    reset) is honoured and does not use up an attempt; other failures back off exponentially."""
    asked = getattr(exc, "retry_after", None)
    backoff = min(60.0, 2.0 ** attempts)
    if asked:
        return max(float(asked), backoff), True
    return backoff, False


def short_error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 500 else text[:497] + "..."


class Executor:
    def __init__(self, store: Store, gateway: Any | None, leases: Leases, *, bot_login: Callable[[], str],
                 out: Callable[[str], None], max_attempts: int = 5, clock: Clock = SYSTEM,
                 metrics: Metrics | None = None) -> None:
        self.store = store
        self.metrics = metrics or Metrics()
        self.gateway = gateway  # None: dry-run
        self.leases = leases
        self._bot_login = bot_login
        self.out = out
        self.max_attempts = max_attempts
        self.clock = clock

    async def execute(self, items: list[OutboxItem]) -> None:
        """Perform actions in order, then record their outcomes together."""
        tokens = {i.token for i in items}
        for t in tokens:
            self.leases.hold(t)
        outcomes: list[Outcome] = []
        try:
            for item in items:
                if self.leases.lost(item.token):
                    continue  # its lease ran out and someone else performs it
                outcomes.append(await self._execute_one(item))
        finally:
            try:
                await self.store.finish_actions(outcomes)
            finally:
                for t in tokens:
                    self.leases.release(t)

    async def sweep(self, stopping: Callable[[], bool]) -> None:
        """Perform actions left behind: retries, and those of a worker that crashed."""
        while not stopping():
            try:
                items = await self.store.lease_actions(limit=20)
                if items:
                    await self.execute(items)
                    continue
            except Exception:
                log.exception("outbox sweep failed")
            await self.clock.sleep(0.5)

    async def _execute_one(self, item: OutboxItem) -> Outcome:
        started = self.clock.monotonic()
        kind = type(item.action).__name__
        target = f"{item.action.repo}#{item.action.number}"

        def done(outcome: str, error: str | None = None) -> None:
            action_line(log, kind, target, outcome, self.clock.monotonic() - started, delivery=item.delivery_id,
                        attempt=item.attempts, error=error)
            self.metrics.action_done(kind, outcome)

        try:
            if self.gateway is None or item.installation_id is None:
                self.out(json.dumps(action_to_dict(item.action), ensure_ascii=False))
                outcome = "dry_run"
            else:
                outcome = "done" if await self._perform(item) else "skipped"
        except PermanentError as exc:
            done("failed", f"{short_error(exc)}; GitHub refused it for good, `bot status` lists it")
            return Outcome(item.id, ActionStatus.FAILED, short_error(exc), token=item.token)
        except (GitHubError, OSError, asyncio.TimeoutError) as exc:
            wait, refund = retry_plan(item.attempts, exc)
            if item.attempts >= self.max_attempts and not refund:
                done("failed", f"{short_error(exc)} after {item.attempts} tries; `bot status` lists it")
                return Outcome(item.id, ActionStatus.FAILED, short_error(exc), token=item.token)
            done("retry", f"{short_error(exc)}; retried in {wait:.0f} s")
            return Outcome(item.id, ActionStatus.PENDING, short_error(exc), retry_in=wait, token=item.token, refund=refund)
        done(outcome)
        return Outcome(item.id, ActionStatus.DONE, token=item.token)

    async def _perform(self, item: OutboxItem) -> bool:
        """Perform one action; False when there was nothing to do (superseded, or already done)."""
        assert self.gateway is not None and item.installation_id is not None
        if isinstance(item.action, (UpsertChecklist, SetLabels, CheckRun)) and await self.store.superseded(item):
            return False  # a newer push already decided this PR's checklist, labels or check
        inst = await self.gateway.installation(item.installation_id)
        retry = item.attempts > 1
        match item.action:
            case Reply(repo=repo, number=number, comment_id=cid, body=body):
                if retry and await self._find_own(inst, repo, number, reply_marker(cid)):
                    return False
                await inst.create_comment(repo, number, body)
            case UpsertChecklist(repo=repo, number=number, body=body):
                await self._upsert_checklist(inst, repo, number, body, retry)
            case SetLabels(repo=repo, number=number, labels=labels):
                await inst.replace_labels(repo, number, list(labels))
            case AddLabels(repo=repo, number=number, labels=labels):
                await inst.add_labels(repo, number, list(labels))
            case Assign(repo=repo, number=number, users=users):
                await inst.add_assignees(repo, number, list(users))
            case Notice(repo=repo, number=number, key=key, body=body):
                if retry and await self._find_own(inst, repo, number, notice_marker(key)):
                    return False
                await inst.create_comment(repo, number, body)
            case CheckRun():
                return await self._check_run(inst, item.action)
        return True

    async def _check_run(self, inst: Any, run: CheckRun) -> bool:
        """Create the check run unless the same one (head commit, conclusion, text) was created last."""
        key = f"{run.head_sha}\n{run.conclusion}\n{run.title}\n{run.summary}"
        stored = await self.store.bot_comment(run.repo, run.number, "check")
        if stored is not None and stored[1] == body_hash(key):
            return False
        created = await inst.create_check_run(run.repo, head_sha=run.head_sha, name=run.name, conclusion=run.conclusion,
                                              title=run.title, summary=run.summary)
        await self.store.put_bot_comment(run.repo, run.number, "check", created["id"], key)
        return True

    async def _find_own(self, inst: Any, repo: str, number: int, marker: str) -> dict | None:
        login = self._bot_login().lower()
        for c in await inst.list_comments(repo, number):
            if (c.get("user") or {}).get("login", "").lower() == login and (c.get("body") or "").startswith(marker):
                return c
        return None

    async def _upsert_checklist(self, inst: Any, repo: str, number: int, body: str, retry: bool) -> None:
        stored = await self.store.bot_comment(repo, number, "checklist")
        if stored is None and retry:
            found = await self._find_own(inst, repo, number, CHECKLIST_MARKER)
            if found:
                stored = (found["id"], body_hash(found.get("body") or ""))
        if stored is not None:
            if stored[1] == body_hash(body):
                return
            try:
                await inst.edit_comment(repo, stored[0], body)
            except PermanentError as exc:
                if exc.status != 404:  # the comment was deleted by someone: post a new one
                    raise
            else:
                await self.store.put_bot_comment(repo, number, "checklist", stored[0], body)
                return
        created = await inst.create_comment(repo, number, body)
        await self.store.put_bot_comment(repo, number, "checklist", created["id"], body)
