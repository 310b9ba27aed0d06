"""The executor: the one place that performs decided actions on GitHub, as a stage of its own.

Workers decide and commit, then `submit` the delivery's outbox items and move on: deciding never
waits on GitHub writes. Each installation has a lane (one task) that performs its items in
order through the gateway's typed methods (the gateway makes writes one at a time, within the
installation's budget) and records their outcomes. The sweep hands the lanes what was left
behind (retries, and the actions of a worker or replica that crashed).

Coalesced replies: a reply to an issue the bot answered less than `reply_gap` seconds ago (the
setting REPLY_GAP) waits for the gap (other work of the lane goes on meanwhile), or only until the burst is over (no new
reply to the issue for a while that follows the burst's pace: `settle_after`) while the write
budget is mostly unspent; when its turn
comes, every reply queued for that issue by then is merged into as few comments as GitHub's
size limit allows (`bot.coalesce`), each person addressed by name. At a quiet time a reply goes alone, as it was.
Failure policy: a permanent 4xx is recorded as failed; a transient error (5xx, timeout, rate
limit) is retried later with backoff (GitHub's own wait honoured without using up a try) until
`max_attempts`. In dry-run the gateway is `DryRunGitHub`, which sends nothing; `trace` (replay,
simulate) sees every action the executor takes up, as a JSON line.

Idempotence on crash: an action that was attempted before (its attempt count > 1) first looks
for its own marker on GitHub (a reply to comment N carries `reply:N`, a merged comment the
markers of every reply it carries; a notice its key; the checklist carries its marker) and
adopts what it finds instead of posting again. A merged comment succeeds or fails for all its
replies together. Only comments authored by the bot
itself are considered, so a participant cannot forge a marker to hijack them. A checklist or a
label set that a newer push superseded is skipped.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from bot.clock import SYSTEM, Clock
from bot.core.actions import (
    AddLabels,
    Assign,
    CheckRun,
    ImportCollections,
    Notice,
    Reply,
    SetLabels,
    UpsertChecklist,
    action_to_dict,
)
from bot.core.coalesce import coalesce, leading_markers
from bot.core.replies import notice_marker, reply_marker
from bot.core.review import CHECKLIST_MARKER
from bot.core.texts import Lang
from bot.github.api import GitHubApi, GitHubError, InstallationApi, PermanentError
from bot.logs import action_line
from bot.metrics import Metrics
from bot.runtime.allowance import Allowance
from bot.runtime.leases import Leases
from bot.store import ActionStatus, OutboxItem, Outcome, Store, body_hash

log = logging.getLogger(__name__)

REPLY_SETTLE = 0.3  # seconds with no new reply to an issue after which its queued replies may go early
SETTLE_FLOOR = 0.1  # ... or fewer, down to this, when they came fast (see `settle_after`)
SETTLE_GAPS = 10  # ... the burst is over after this many times its mean gap between replies without one
EARLY_BELOW = 0.5  # ... while the installation has used less than this share of its write budget


def settle_after(waiting: int, waited: float, *, floor: float = SETTLE_FLOOR, ceiling: float = REPLY_SETTLE) -> float:
    """How long without a new reply to an issue means its burst is over: `SETTLE_GAPS` times the
    mean gap between the `waiting` replies queued over the last `waited` seconds, between `floor`
    and `ceiling`. A flood of a hundred or more a second is over after 0.1 s of silence; a burst of
    a few a second (gaps of 0.3 s happen in it by chance) only after 0.3 s, as before."""
    gap = waited / waiting if waiting > 1 else ceiling
    return min(ceiling, max(floor, SETTLE_GAPS * gap))


def retry_plan(attempts: int, exc: Exception) -> tuple[float, bool]:
    """(seconds to wait, whether this try is refunded). GitHub's own wait (Retry-After, rate-limit
    reset) is honoured and does not use up an attempt; other failures back off exponentially."""
    asked = getattr(exc, "retry_after", None)
    backoff = min(60.0, 2.0**attempts)
    if asked:
        return max(float(asked), backoff), True
    return backoff, False


def short_error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 500 else text[:497] + "..."


REVIEW_ACTIONS = (UpsertChecklist, SetLabels, CheckRun)


def _review_key(item: OutboxItem) -> tuple:
    return (item.installation_id, item.action.repo.lower(), item.action.number)


class _Lane:
    """One installation's queue of outbox items and the task performing them: items performed
    one by one in order, and replies to be merged, kept per issue (so choosing the next batch
    costs one look per issue, however many replies wait)."""

    def __init__(self) -> None:
        self.items: deque[tuple[int, OutboxItem]] = deque()  # (arrival, item)
        self.replies: dict[tuple[str, int], list[tuple[int, OutboxItem]]] = {}  # (repo, number) -> arrivals
        self.wake = asyncio.Event()
        self.task: asyncio.Task | None = None
        self._arrivals = itertools.count()

    def push(self, item: OutboxItem, mergeable: bool) -> None:
        entry = (next(self._arrivals), item)
        if mergeable:
            a = item.action
            self.replies.setdefault((a.repo, a.number), []).append(entry)
        else:
            self.items.append(entry)

    def __bool__(self) -> bool:
        return bool(self.items or self.replies)


class Executor:
    def __init__(
        self,
        store: Store,
        gateway: GitHubApi,
        leases: Leases,
        *,
        bot_login: Callable[[], str],
        trace: Callable[[str], None] | None = None,
        max_attempts: int = 5,
        clock: Clock = SYSTEM,
        metrics: Metrics | None = None,
        language_of: Callable[[str], Lang] = lambda repo: "zh",
        reply_gap: float,
        importer: Callable[[str, str], Awaitable[str]] | None = None,
        person_window: float = 0.0,
        person_cap: int = 1_000_000,
    ) -> None:
        self.store = store
        self.metrics = metrics or Metrics()
        self.gateway = gateway
        self.leases = leases
        self._bot_login = bot_login
        self.trace = trace
        self.max_attempts = max_attempts
        self.clock = clock
        self.language_of = language_of
        self.reply_gap = reply_gap
        self.importer = importer  # (campaign, requested by) -> what the import did
        self.reply_settle = REPLY_SETTLE
        self.reply_settle_floor = SETTLE_FLOOR
        self._stopped = False
        self._lanes: dict[int | None, _Lane] = {}
        self._last_reply: dict[tuple[int | None, str, int], float] = {}  # (installation, repo, number) -> monotonic
        self._last_queued: dict[tuple[int | None, str, int], float] = {}  # when the newest reply to it was queued
        self._first_queued: dict[tuple[int | None, str, int], float] = {}  # ... and the oldest still waiting
        self._queued: set[int] = set()  # ids of items in a lane
        # one person's replies: one comment per window, a capped number an hour (see `allowance`)
        self.people = Allowance(person_window, person_cap)
        # one PR's review (checklist, labels, check run): the same pacing; what a burst of edits or
        # pushes queues meanwhile waits, and only the newest of each kind is performed (`superseded`)
        # (three kinds of write: three times a person's share an hour)
        self.reviews = Allowance(person_window, 3 * person_cap)

    # ---- the stage ----------------------------------------------------------------------------
    def submit(self, items: list[OutboxItem]) -> None:
        """Queue items for their installation's lane (returns at once; their leases stay held)."""
        for item in items:
            if item.id in self._queued:
                continue
            self._queued.add(item.id)
            self.leases.hold(item.token)
            if isinstance(item.action, REVIEW_ACTIONS):
                loop = asyncio.get_running_loop()
                slot = self.reviews.next_slot(_review_key(item), loop.time())
                if slot > loop.time():
                    loop.call_at(slot, self._queue, item)
                    continue
            self._queue(item)

    def _queue(self, item: OutboxItem) -> None:
        """Put one submitted item in its installation's lane (and start the lane's task)."""
        if self._stopped:  # (a held review whose time came after `stop`) its lease runs out; any sweep performs it
            self._queued.discard(item.id)
            self.leases.release(item.token)
            return
        lane = self._lanes.get(item.installation_id)
        if lane is None:
            lane = self._lanes[item.installation_id] = _Lane()
        mergeable = isinstance(item.action, Reply)
        lane.push(item, mergeable)
        if mergeable:
            key = (item.installation_id, item.action.repo, item.action.number)
            self._last_queued[key] = asyncio.get_running_loop().time()
            self._first_queued.setdefault(key, self._last_queued[key])
        if lane.task is None or lane.task.done():
            lane.task = asyncio.create_task(self._run_lane(item.installation_id, lane), name=f"executor-{item.installation_id}")
        lane.wake.set()

    def start(self) -> None:
        """(Again) accept work after `stop`."""
        self._stopped = False

    def wake(self) -> None:
        """Make every lane look at its queue again now (after its pacing settings changed)."""
        for lane in self._lanes.values():
            lane.wake.set()

    def queued(self) -> int:
        return len(self._queued)

    async def stop(self) -> None:
        """Stop the lanes; what they held stays pending in the outbox (its lease runs out, the
        sweep of any replica performs it)."""
        self._stopped = True  # a lane whose cancel is swallowed by a wake at the same moment still ends
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run_lane(self, installation_id: int | None, lane: _Lane) -> None:
        while lane and not self._stopped:
            batch, wait = self._take(installation_id, lane)
            if not batch:
                lane.wake.clear()
                try:
                    await asyncio.wait_for(lane.wake.wait(), timeout=wait)
                except TimeoutError:
                    pass
                continue
            try:
                await self._run_batch(batch)
            except Exception:
                log.exception("executor lane %s failed on %d item(s); they are retried", installation_id, len(batch))
            finally:
                for item in batch:
                    self._queued.discard(item.id)
                    self.leases.release(item.token)

    def _take(self, installation_id: int | None, lane: _Lane) -> tuple[list[OutboxItem], float]:
        """The next batch to perform, the earliest to arrive of: the next item performed alone, and
        the replies to each issue no longer held by its reply gap (every queued reply to that
        issue, merged). ([], seconds to wait) when all wait.

        A reply waits until `reply_gap` after the bot's last reply to its issue, or, sooner, until
        no new reply to that issue has been queued for a while (`settle_after`: the burst is over)
        while the installation has used less than `EARLY_BELOW` of its write budget."""
        now = asyncio.get_running_loop().time()  # pacing against GitHub runs on real time
        soonest = 60.0
        early: bool | None = None  # computed once, when a reply waits
        best: tuple[int, tuple[str, int] | None] | None = None  # (arrival, issue or None for the next lone item)
        if lane.items:
            best = (lane.items[0][0], None)
        for issue, entries in lane.replies.items():
            if best is not None and entries[0][0] > best[0]:
                continue
            key = (installation_id, *issue)
            ready_at = self._last_reply.get(key, -1e18) + self.reply_gap
            if ready_at > now:
                if early is None:
                    early = self._budget_spent(installation_id or 0) < EARLY_BELOW
                if early:
                    last = self._last_queued.get(key, now)
                    settle = settle_after(
                        len(entries),
                        last - self._first_queued.get(key, last),
                        floor=self.reply_settle_floor,
                        ceiling=self.reply_settle,
                    )
                    ready_at = min(ready_at, last + settle)
            if ready_at > now:
                soonest = min(soonest, ready_at - now)
                continue
            # a person the bot answered less than a window ago waits for their next slot (folded)
            slots = [self._person_slot(installation_id, item, now) for _, item in entries]
            if min(slots) > now:
                soonest = min(soonest, min(slots) - now)
                continue
            best = (next(e[0] for e, at in zip(entries, slots) if at <= now), issue)
        if best is None:
            return [], max(0.01, soonest)
        if best[1] is None:
            return [lane.items.popleft()[1]], 0.0
        entries = lane.replies.pop(best[1])
        go = [e for e in entries if self._person_slot(installation_id, e[1], now) <= now]
        stay = [e for e in entries if e not in go]
        if stay:
            lane.replies[best[1]] = stay
            self._first_queued[(installation_id, *best[1])] = now
        else:
            self._first_queued.pop((installation_id, *best[1]), None)
        return [item for _, item in go], 0.0

    def _person_slot(self, installation_id: int | None, item: OutboxItem, now: float) -> float:
        """When the next reply to the person `item` answers may go (now, or their next slot)."""
        user = getattr(item.action, "user", "")
        return self.people.next_slot((installation_id, user.lower()), now) if user else now

    def _budget_spent(self, installation_id: int) -> float:
        """The share of the installation's write budget used."""
        return self.gateway.budget_spent(installation_id)

    async def _run_batch(self, batch: list[OutboxItem]) -> None:
        if isinstance(batch[0].action, Reply):
            outcomes = await self._replies(batch)
        else:
            item = batch[0]
            outcomes = [] if self.leases.lost(item.token) else [await self._execute_one(item)]
        await self.store.finish_actions(outcomes)

    async def perform_all(self, items: list[OutboxItem]) -> None:
        """Perform items in order as one batch (`bot action`): the replies to one issue merged into
        as few comments as fit, as the lanes merge them under load; then record every outcome."""
        await self.execute(items, merge=True)

    async def execute(self, items: list[OutboxItem], *, merge: bool = False) -> None:
        """Perform actions in order, then record their outcomes together. `merge`: the replies to
        one issue go out merged (each issue's replies where its first one stood)."""
        batches: list[list[OutboxItem]] = []
        by_issue: dict[tuple[str, int], list[OutboxItem]] = {}
        for item in items:
            if merge and isinstance(item.action, Reply):
                key = (item.action.repo, item.action.number)
                if key not in by_issue:
                    batches.append(by_issue.setdefault(key, []))
                by_issue[key].append(item)
            else:
                batches.append([item])
        tokens = {i.token for i in items}
        for t in tokens:
            self.leases.hold(t)
        outcomes: list[Outcome] = []
        try:
            for batch in batches:
                if isinstance(batch[0].action, Reply) and merge:
                    outcomes += await self._replies(batch)
                elif not self.leases.lost(batch[0].token):  # else its lease ran out and someone else performs it
                    outcomes.append(await self._execute_one(batch[0]))
        finally:
            try:
                await self.store.finish_actions(outcomes)
            finally:
                for t in tokens:
                    self.leases.release(t)

    async def sweep(self, stopping: Callable[[], bool]) -> None:
        """Hand the lanes the actions left behind: retries, and those of a worker that crashed."""
        while not stopping():
            try:
                if self.queued() < 500:
                    items = await self.store.lease_actions(limit=100)
                    if items:
                        self.submit(items)
                        continue
            except Exception:
                log.exception("outbox sweep failed")
            await self.clock.sleep(0.5)

    # ---- coalesced replies ----------------------------------------------------------------------
    async def _replies(self, batch: list[OutboxItem]) -> list[Outcome]:
        """Post the replies of `batch` (all to one issue), merged when there are several; replies
        already on GitHub (an earlier try that got through) are adopted, not posted again."""
        items = [i for i in batch if not self.leases.lost(i.token)]
        if not items:
            return []
        for i in items:
            self._traced(i)
        first = items[0]
        assert isinstance(first.action, Reply)
        repo, number = first.action.repo, first.action.number
        key = (first.installation_id, repo, number)
        started = self.clock.monotonic()
        outcomes: list[Outcome] = []
        try:
            inst = await self.gateway.installation(first.installation_id)
            if any(i.attempts > 1 for i in items):
                posted = await self._own_markers(inst, repo, number)
                for i in [i for i in items if reply_marker(i.action.comment_id) in posted]:  # type: ignore[union-attr]
                    self._done(i, "skipped", started, "already on GitHub")
                    outcomes.append(Outcome(i.id, ActionStatus.DONE, token=i.token))
                    items.remove(i)
        except (TimeoutError, GitHubError, OSError) as exc:
            return [self._failed(i, exc, started) for i in items]
        # One person's identical replies (a toggled claim, a repeated command) are said once: each
        # text once, in the order of its last occurrence (the last one says where things stand).
        same: dict[str, list[OutboxItem]] = {}
        for i in items:
            body = i.action.body  # type: ignore[union-attr]
            same[body] = [*same.pop(body, []), i]
        bodies = list(same)
        # Merging hundreds of replies is milliseconds of pure work: off the event loop then.
        merged = (
            await asyncio.to_thread(coalesce, bodies, self.language_of(repo))
            if len(bodies) > 50
            else coalesce(bodies, self.language_of(repo))
        )
        for m in merged:
            carried = [i for k in m.carries for i in same[bodies[k]]]
            try:
                loop = asyncio.get_running_loop()
                self._last_reply[key] = loop.time()
                await inst.create_comment(repo, number, m.body)
                self._last_reply[key] = loop.time()
            except (TimeoutError, GitHubError, OSError) as exc:
                outcomes += [self._failed(i, exc, started) for i in carried]
                continue
            outcomes += [Outcome(i.id, ActionStatus.DONE, token=i.token) for i in carried]
            for user in {i.action.user.lower() for i in carried if i.action.user}:  # type: ignore[union-attr]
                self.people.use((first.installation_id, user), loop.time())
            for i in carried:
                self._done(i, "done", started)
            if len(carried) > 1:
                log.info("replies to %s#%s: %d merged into one comment (%d chars)", repo, number, len(carried), len(m.body))
        return outcomes

    def _done(self, item: OutboxItem, outcome: str, started: float, error: str | None = None) -> None:
        """The one log line (and metric) of a performed action."""
        kind = type(item.action).__name__
        action_line(
            log,
            kind,
            f"{item.action.repo}#{item.action.number}",
            outcome,
            self.clock.monotonic() - started,
            delivery=item.delivery_id,
            attempt=item.attempts,
            error=error,
        )
        self.metrics.action_done(kind, outcome)

    def _failed(self, item: OutboxItem, exc: Exception, started: float) -> Outcome:
        """The outcome of an action GitHub did not take: failed for good, or pending for a retry."""
        if isinstance(exc, PermanentError):
            self._done(item, "failed", started, f"{short_error(exc)}; GitHub refused it for good, `bot status` lists it")
            return Outcome(item.id, ActionStatus.FAILED, short_error(exc), token=item.token)
        wait, refund = retry_plan(item.attempts, exc)
        if item.attempts >= self.max_attempts and not refund:
            self._done(item, "failed", started, f"{short_error(exc)} after {item.attempts} tries; `bot status` lists it")
            return Outcome(item.id, ActionStatus.FAILED, short_error(exc), token=item.token)
        self._done(item, "retry", started, f"{short_error(exc)}; retried in {wait:.0f} s")
        return Outcome(item.id, ActionStatus.PENDING, short_error(exc), retry_in=wait, token=item.token, refund=refund)

    async def _own_markers(self, inst: InstallationApi, repo: str, number: int) -> set[str]:
        """The markers at the top of the bot's own comments on an issue."""
        login = self._bot_login().lower()
        found: set[str] = set()
        for c in await inst.list_comments(repo, number):
            if (c.get("user") or {}).get("login", "").lower() == login:
                found |= leading_markers(c.get("body") or "")
        return found

    async def _execute_one(self, item: OutboxItem) -> Outcome:
        started = self.clock.monotonic()
        self._traced(item)
        try:
            outcome = "done" if await self._perform(item) else "skipped"
        except (TimeoutError, GitHubError, OSError) as exc:
            return self._failed(item, exc, started)
        if outcome == "done" and isinstance(item.action, REVIEW_ACTIONS):  # a write: the PR's slot is used
            self.reviews.use(_review_key(item), asyncio.get_running_loop().time())
        self._done(item, outcome, started)
        return Outcome(item.id, ActionStatus.DONE, token=item.token)

    def _traced(self, item: OutboxItem) -> None:
        if self.trace is not None:
            self.trace(json.dumps(action_to_dict(item.action), ensure_ascii=False))

    async def _perform(self, item: OutboxItem) -> bool:
        """Perform one action; False when there was nothing to do (superseded, or already done)."""
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
            case ImportCollections(campaign=slug, requested_by=who):
                if self.importer is None:
                    log.warning("/import of %s asked by %s: this bot has no catalog of repository campaigns", slug, who)
                    return False
                await self.importer(slug, who)
        return True

    async def _check_run(self, inst: InstallationApi, run: CheckRun) -> bool:
        """Create the check run unless the same one (head commit, conclusion, text) was created last."""
        key = f"{run.head_sha}\n{run.conclusion}\n{run.title}\n{run.summary}"
        stored = await self.store.bot_comment(run.repo, run.number, "check")
        if stored is not None and stored[1] == body_hash(key):
            return False
        created = await inst.create_check_run(
            run.repo, head_sha=run.head_sha, name=run.name, conclusion=run.conclusion, title=run.title, summary=run.summary
        )
        await self.store.put_bot_comment(run.repo, run.number, "check", created["id"], key)
        return True

    async def _find_own(self, inst: InstallationApi, repo: str, number: int, marker: str) -> dict | None:
        login = self._bot_login().lower()
        for c in await inst.list_comments(repo, number):
            body = c.get("body") or ""
            if (c.get("user") or {}).get("login", "").lower() == login and (
                body.startswith(marker) or marker in leading_markers(body)
            ):
                return c
        return None

    async def _upsert_checklist(self, inst: InstallationApi, repo: str, number: int, body: str, retry: bool) -> None:
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
