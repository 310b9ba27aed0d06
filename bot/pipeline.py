"""The imperative shell around `decide`: the dispatcher and workers that drain the inbox, the
executor that performs actions on GitHub, and the board flusher that keeps each tracker current.

    inbox --lease (a batch per idle workers)--> worker: route (which campaign? which facts?)
          --fetch facts (PR files, permission)--> commit: decide (pure) + state, outbox, delivery
          done in one transaction --> execute the outbox --> GitHub
    dirty campaigns --(after board_delay, one replica at a time)--> render board --> tracker issue

Leases: every delivery and action in hand carries a lease token that a heartbeat renews; one
whose lease was taken over (a stalled process) can neither commit nor act.

Idempotence on crash: an action that was attempted before (its attempt count > 1) first looks
for its own marker on GitHub (a reply to comment N carries `reply:N`; the checklist carries its
marker) and adopts what it finds instead of posting again. Only comments authored by the bot
itself are considered, so a participant cannot forge a marker to hijack them.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from dataclasses import dataclass, replace
from typing import Any, Callable

from pydantic import ValidationError

from bot import events as ev
from bot.actions import Action, AddLabels, Assign, Decision, Reply, SetLabels, UpsertChecklist, action_to_dict, now_utc
from bot.board import render_board, splice_board
from bot.commands import ParseResult
from bot.decide import MAINTAINER_ACTIONS, CommentFacts, PullFacts, decide_comment, decide_pull, lapse_claims
from bot.github import GitHubError, PermanentError
from bot.replies import reply_marker
from bot.review import CHECKLIST_MARKER, ChangedFile
from bot.rules.models import CampaignRules, Rules
from bot.store import LeaseLost, OutboxItem, Outcome, Store, body_hash
from bot.titles import key_matches, parse_title

log = logging.getLogger("bot.pipeline")

WRITE_PERMISSIONS = {"admin", "maintain", "write"}
PERMISSION_TTL = 600.0


class Ignored(Exception):
    """A delivery that concerns no campaign (or is the bot's own doing): acknowledged, recorded, not acted on."""


@dataclass
class Routed:
    """One delivery's decision for one campaign, ready to commit."""

    rules: CampaignRules
    build: Callable[..., Decision]  # (state, now) -> Decision
    installation_id: int | None


class Pipeline:
    def __init__(self, rules: Rules, store: Store, gateway: Any | None, *, workers: int = 32, board_delay: float = 2.0,
                 max_attempts: int = 5, out: Callable[[str], None] | None = None, bot_login: str = "hackathon-bot[bot]"):
        self.rules = rules
        self.store = store
        self.gateway = gateway  # None: dry-run
        self.workers = workers
        self.board_delay = board_delay
        self.max_attempts = max_attempts
        self.out = out or (lambda line: log.info("dry-run: %s", line))
        self.bot_login = bot_login
        self.expiry_every = 600.0  # seconds between sweeps for lapsed claims
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task] = []
        self._permissions: dict[tuple[str, str], tuple[str, float]] = {}
        self._inflight = 0
        self._held: dict[str, int] = {}  # lease tokens of work in hand -> how many holders; renewed by the heartbeat
        self._lost: set[str] = set()  # tokens whose lease someone else took: stop acting on them

    # ---- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        if self.gateway is not None:
            try:
                self.bot_login = await self.gateway.app_login()
            except GitHubError as exc:  # keep serving; markers still match the default login
                log.warning("could not read the app's login: %s", exc)
        self._queue: asyncio.Queue = asyncio.Queue()
        self._slot_free = asyncio.Event()
        self._tasks = [asyncio.create_task(self._worker(i), name=f"worker-{i}") for i in range(self.workers)]
        self._tasks.append(asyncio.create_task(self._dispatcher(), name="dispatcher"))
        self._tasks.append(asyncio.create_task(self._outbox_sweeper(), name="outbox"))
        self._tasks.append(asyncio.create_task(self._expiry_sweeper(), name="expiry"))
        self._tasks.append(asyncio.create_task(self._board_flusher(), name="board"))
        self._tasks.append(asyncio.create_task(self._heartbeat(), name="heartbeat"))

    async def stop(self, grace: float = 20.0) -> None:
        """Stop taking work; let in-flight deliveries finish (what is left stays in the inbox)."""
        self._stopping = True
        self._wake.set()
        self._slot_free.set()
        while self._tasks and not self._queue.empty():  # leased but not started: hand back at once
            d = self._queue.get_nowait()
            try:
                await self.store.release_delivery(d.id, "stopped before processing", token=d.token, refund=True)
            except Exception:
                log.exception("could not hand back %s (its lease will run out)", d.id)
            self._done_with(d)
        deadline = time.monotonic() + grace
        while self._inflight and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def wake(self) -> None:
        self._wake.set()

    @property
    def bot_slug(self) -> str:
        return self.bot_login.removesuffix("[bot]")

    # ---- workers --------------------------------------------------------------------------------
    async def _dispatcher(self) -> None:
        """Lease deliveries in batches (one transaction for as many as there are idle workers) and
        hand them to the workers."""
        while not self._stopping:
            free = self.workers - self._inflight
            if free <= 0:
                self._slot_free.clear()
                await self._slot_free.wait()
                continue
            try:
                batch = await self.store.lease_deliveries(free)
            except Exception:  # the database blinked: wait and retry
                log.exception("leasing deliveries failed")
                await asyncio.sleep(1.0)
                continue
            if not batch:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=0.5 + random.random() * 0.5)
                except TimeoutError:
                    pass
                continue
            for d in batch:
                self._inflight += 1
                self._hold(d.token)
                self._queue.put_nowait(d)

    def _done_with(self, delivery) -> None:  # noqa: ANN001
        self._release(delivery.token)
        self._inflight -= 1
        self._slot_free.set()

    async def _worker(self, index: int) -> None:
        while not self._stopping:
            delivery = await self._queue.get()
            try:
                await self.handle(delivery.id, delivery.event, delivery.payload, delivery.attempts, delivery.token)
            except LeaseLost:
                log.info("delivery %s was taken over by another worker; its outcome counts", delivery.id)
            except Exception as exc:  # a bug or an outage: record it, keep the worker alive
                log.exception("delivery %s crashed", delivery.id)
                try:
                    await self._retry_later(delivery.id, delivery.attempts, exc, delivery.token)
                except Exception:
                    log.exception("could not record the failure of %s", delivery.id)
            finally:
                self._done_with(delivery)

    # ---- leases ---------------------------------------------------------------------------------
    def _hold(self, token: str | None) -> None:
        if token:
            self._held[token] = self._held.get(token, 0) + 1

    def _release(self, token: str | None) -> None:
        if token and token in self._held:
            self._held[token] -= 1
            if not self._held[token]:
                del self._held[token]
                self._lost.discard(token)

    async def _heartbeat(self) -> None:
        """Keep the leases of work in hand alive, so slow GitHub calls never let another worker
        (or replica) take the same delivery or action; learn which leases were lost anyway."""
        every = max(0.05, self.store.lease.total_seconds() / 3)
        while not self._stopping:
            await asyncio.sleep(every)
            try:
                self._lost |= await self.store.renew(list(self._held))
            except Exception:
                log.exception("renewing leases failed")

    async def handle(self, delivery_id: str | None, event: str, payload: dict, attempts: int = 1,
                     token: str | None = None) -> list[Action]:
        """Process one delivery end to end. Returns the actions it queued (for replay)."""
        try:
            routed = await self.route(event, payload)
        except Ignored as why:
            if delivery_id:
                await self.store.finish_delivery(delivery_id, "ignored", str(why) or None, token=token)
            return []
        except (ValidationError, PermanentError) as exc:
            log.warning("delivery %s failed: %s", delivery_id, exc)
            if delivery_id:
                await self.store.finish_delivery(delivery_id, "failed", _short(exc), token=token)
            return []
        except (GitHubError, OSError, asyncio.TimeoutError) as exc:
            return await self._retry_later(delivery_id, attempts, exc, token)
        if token in self._lost:
            raise LeaseLost(delivery_id)
        actions: list[Action] = []
        items: list[OutboxItem] = []
        for r in routed:
            decision, queued = await self.store.commit(r.rules.slug, lambda state, r=r: r.build(state, now_utc()),
                                                       delivery_id=delivery_id, installation_id=r.installation_id, token=token)
            items += queued
            actions += decision.actions
        if not routed and delivery_id:
            await self.store.finish_delivery(delivery_id, "ignored", token=token)
        if items:
            await self.execute(items)
        return actions

    def _retry_plan(self, attempts: int, exc: Exception) -> tuple[float, bool]:
        """(seconds to wait, whether this try is refunded). GitHub's own wait (Retry-After, rate-limit
        reset) is honoured and does not use up an attempt; other failures back off exponentially."""
        asked = getattr(exc, "retry_after", None)
        backoff = min(60.0, 2.0 ** attempts)
        if asked:
            return max(float(asked), backoff), True
        return backoff, False

    async def _retry_later(self, delivery_id: str | None, attempts: int, exc: Exception, token: str | None = None) -> list[Action]:
        if delivery_id is None:
            raise exc
        wait, refund = self._retry_plan(attempts, exc)
        if attempts >= self.max_attempts and not refund:
            await self.store.finish_delivery(delivery_id, "failed", _short(exc), token=token)
        else:
            await self.store.release_delivery(delivery_id, _short(exc), retry_in=wait, token=token, refund=refund)
        return []

    # ---- routing: which campaign, which facts ------------------------------------------------------
    async def route(self, event: str, payload: dict) -> list[Routed]:
        if event == "issue_comment":
            return await self._route_comment(ev.IssueCommentEvent.model_validate(payload))
        if event == "pull_request":
            return await self._route_pull(ev.PullRequestEvent.model_validate(payload))
        raise Ignored(f"event {event} is not handled")

    async def _route_comment(self, e: ev.IssueCommentEvent) -> list[Routed]:
        if e.action == "deleted":
            raise Ignored("deleted comments change nothing: accepted claims stay recorded")
        if e.comment.user.is_bot or e.comment.user.login.lower() == self.bot_login.lower():
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
                             old_body=old, task_issue=task, bot_login=self.bot_slug)
        parsed = facts.read()
        facts = replace(facts, is_maintainer=await self._is_maintainer(rules, e, author, parsed))
        inst = e.installation.id if e.installation else None
        return [Routed(rules, lambda state, now: decide_comment(rules, state, facts, now, parsed), inst)]

    async def _is_maintainer(self, rules: CampaignRules, e: ev.IssueCommentEvent, author: str, parsed: ParseResult) -> bool:
        if author.lower() in {m.lower() for m in rules.campaign.maintainers}:
            return True
        if not any(c.action in MAINTAINER_ACTIONS for c in parsed.commands) or self.gateway is None or not e.installation:
            return False
        key = (e.repository.full_name.lower(), author.lower())
        cached = self._permissions.get(key)
        if cached and cached[1] > time.monotonic():
            return cached[0] in WRITE_PERMISSIONS
        inst = await self.gateway.installation(e.installation.id)
        perm = await inst.collaborator_permission(e.repository.full_name, author)
        self._permissions[key] = (perm, time.monotonic() + PERMISSION_TTL)
        return perm in WRITE_PERMISSIONS

    async def _route_pull(self, e: ev.PullRequestEvent) -> list[Routed]:
        if e.action not in ev.PR_ACTIONS:
            raise Ignored(f"pull_request.{e.action} changes nothing")
        pr = e.pull_request
        repo = e.repository.full_name
        candidates = self.rules.for_repo(repo)
        if not candidates:
            raise Ignored("repository outside every campaign")
        ref = parse_title(pr.title)
        if not ref.tasks:
            # A PR the bot knows whose title no longer names a task gives its credit back.
            known = await self.store.pull_campaign(repo, pr.number)
            if known is None or known not in self.rules.campaigns:
                raise Ignored("title references no task")
            matching = [self.rules.campaigns[known]]
        else:
            matching = [c for c in candidates if key_matches(ref.key, c.campaign.key)]
        if len(matching) > 1:  # an edition-less key: keep the campaigns that know every referenced task
            matching = [c for c in matching if all(t in c.tasks for t in ref.tasks)] or matching[:1]
        if not matching:
            raise Ignored(f"title key {ref.key!r} matches no campaign of {repo}")
        inst = e.installation.id if e.installation else None
        files = await self._pr_files(repo, pr.number, inst) if ref.tasks else []
        facts = PullFacts(repo=repo, number=pr.number, title=pr.title, body=pr.body or "", author=pr.user.login,
                          state=pr.state, merged=bool(pr.merged), url=pr.html_url, labels=tuple(l.name for l in pr.labels),
                          ref=ref)
        return [Routed(c, (lambda c: lambda state, now: decide_pull(c, state, facts, files, now))(c), inst) for c in matching[:1]]

    async def _pr_files(self, repo: str, number: int, installation_id: int | None) -> list[ChangedFile]:
        if self.gateway is None or installation_id is None:
            return []
        inst = await self.gateway.installation(installation_id)
        return [ChangedFile(f["filename"], f.get("status", "modified"), f.get("previous_filename"))
                for f in await inst.pr_files(repo, number)]

    # ---- executor ---------------------------------------------------------------------------------
    async def execute(self, items: list[OutboxItem]) -> None:
        """Perform actions in order, then record their outcomes together."""
        tokens = {i.token for i in items}
        for t in tokens:
            self._hold(t)
        outcomes: list[Outcome] = []
        try:
            for item in items:
                if item.token in self._lost:
                    continue  # its lease ran out and someone else performs it
                outcomes.append(await self._execute_one(item))
        finally:
            try:
                await self.store.finish_actions(outcomes)
            finally:
                for t in tokens:
                    self._release(t)

    async def _execute_one(self, item: OutboxItem) -> Outcome:
        try:
            if self.gateway is None or item.installation_id is None:
                self.out(json.dumps(action_to_dict(item.action), ensure_ascii=False))
            else:
                await self._perform(item)
        except PermanentError as exc:
            log.warning("action %s failed for good: %s", item.id, exc)
            return Outcome(item.id, "failed", _short(exc), token=item.token)
        except (GitHubError, OSError, asyncio.TimeoutError) as exc:
            wait, refund = self._retry_plan(item.attempts, exc)
            if item.attempts >= self.max_attempts and not refund:
                return Outcome(item.id, "failed", _short(exc), token=item.token)
            return Outcome(item.id, "pending", _short(exc), retry_in=wait, token=item.token, refund=refund)
        return Outcome(item.id, "done", token=item.token)

    async def _perform(self, item: OutboxItem) -> None:
        if isinstance(item.action, (UpsertChecklist, SetLabels)) and await self.store.superseded(item):
            return  # a newer push already decided this PR's checklist or labels
        inst = await self.gateway.installation(item.installation_id)
        retry = item.attempts > 1
        match item.action:
            case Reply(repo=repo, number=number, comment_id=cid, body=body):
                if retry and await self._find_own(inst, repo, number, reply_marker(cid)):
                    return
                await inst.create_comment(repo, number, body)
            case UpsertChecklist(repo=repo, number=number, body=body):
                await self._upsert_checklist(inst, repo, number, body, retry)
            case SetLabels(repo=repo, number=number, labels=labels):
                await inst.replace_labels(repo, number, list(labels))
            case AddLabels(repo=repo, number=number, labels=labels):
                await inst.request("POST", f"/repos/{repo}/issues/{number}/labels", data={"labels": list(labels)})
            case Assign(repo=repo, number=number, users=users):
                await inst.add_assignees(repo, number, list(users))

    async def _find_own(self, inst: Any, repo: str, number: int, marker: str) -> dict | None:
        for c in await inst.list_comments(repo, number):
            if (c.get("user") or {}).get("login", "").lower() == self.bot_login.lower() and (c.get("body") or "").startswith(marker):
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

    async def lapse_expired_claims(self) -> int:
        """Drop lapsed claims in every campaign that has an expiry; returns how many were dropped."""
        dropped = 0
        for slug, rules in self.rules.campaigns.items():
            if rules.campaign.claim_policy.claim_expiry_days:
                decision, _ = await self.store.commit(slug, lambda state, rules=rules: lapse_claims(rules, state, now_utc()))
                dropped += len(decision.changes)
        return dropped

    async def _expiry_sweeper(self) -> None:
        while not self._stopping:
            try:
                if dropped := await self.lapse_expired_claims():
                    log.info("%d lapsed claim(s) released", dropped)
            except Exception:
                log.exception("releasing lapsed claims failed")
            await asyncio.sleep(self.expiry_every)

    async def _outbox_sweeper(self) -> None:
        """Performs actions left behind: retries, and those of a worker that crashed."""
        while not self._stopping:
            try:
                items = await self.store.lease_actions(limit=20)
                if items:
                    await self.execute(items)
                    continue
            except Exception:
                log.exception("outbox sweep failed")
            await asyncio.sleep(0.5)

    # ---- board ------------------------------------------------------------------------------------
    async def _board_flusher(self) -> None:
        while not self._stopping:
            try:
                slug = await self.store.take_dirty_board(self.board_delay)
                if slug is None:
                    await asyncio.sleep(min(0.2, self.board_delay / 4 or 0.05))
                    continue
                await self.flush_board(slug)
            except Exception:
                log.exception("board flush failed")
                await asyncio.sleep(1.0)

    async def flush_board(self, slug: str) -> bool:
        """Render one campaign's board into its tracker issue. True when the tracker was edited."""
        rules = self.rules.campaigns.get(slug)
        if rules is None or rules.campaign.tracker is None:
            await self.store.release_board(slug)
            return False
        info = await self.store.board_info(slug)
        board = render_board(rules, await self.store.state(slug), rules.campaign.language)
        digest = body_hash(board)
        if digest == info.get("board_hash"):
            await self.store.release_board(slug)
            return False
        inst_id = info.get("installation_id")
        if self.gateway is None or inst_id is None:
            self.out(json.dumps({"kind": "UpdateBoard", "campaign": slug, "tracker": rules.campaign.tracker,
                                 "board": board}, ensure_ascii=False))
            await self.store.release_board(slug, edited_hash=digest)
            return True
        repo, number = rules.campaign.tracker_repo, rules.campaign.tracker_number
        try:
            inst = await self.gateway.installation(inst_id)
            issue = await inst.get_issue(repo, number)
            old = issue.get("body") or ""
            new = splice_board(old, board)
            if new != old:
                await inst.request("PATCH", f"/repos/{repo}/issues/{number}", data={"body": new}, priority=True)
        except PermanentError as exc:
            log.error("board of %s refused by GitHub: %s", slug, exc)
            await self.store.release_board(slug, error=_short(exc))
            return False
        except (GitHubError, OSError, asyncio.TimeoutError) as exc:
            log.warning("board of %s not written yet: %s", slug, exc)
            await self.store.release_board(slug, failed=True)
            return False
        await self.store.release_board(slug, edited_hash=digest)
        return new != old

    async def idle(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is pending (tests and benchmarks). True when idle."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.store.pending_work() == 0 and self._inflight == 0:
                return True
            await asyncio.sleep(0.05)
        return False


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 500 else text[:497] + "..."

