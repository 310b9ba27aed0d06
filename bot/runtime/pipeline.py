"""The pipeline: wires the shell's stages around the pure `decide` and runs them.

    inbox --lease (a batch per idle workers)--> worker: route (`routing`: which campaign? which
          facts?) --> commit: decide (pure) + state, outbox, delivery done in ONE transaction
    outbox --> executor (`executor`) --> GitHub
    dirty campaigns --(after board_delay, one replica at a time)--> board flusher --> tracker issue
    sweepers (`sweepers`): reminders and lapsed claims; the executor's sweep: retries and orphaned actions

Leases (`leases`): every delivery and action in hand carries a lease token that a heartbeat
renews; one whose lease was taken over (a stalled process) can neither commit nor act.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import ValidationError

from bot.clock import SYSTEM, Clock
from bot.core.actions import BoardChange, Decision
from bot.core.ledger import Skipped
from bot.core.texts import Lang
from bot.github.api import GitHubApi, GitHubError, PermanentError
from bot.github.events import CATALOG_EVENTS
from bot.logs import delivery_line
from bot.metrics import Metrics
from bot.rules.models import RulesView
from bot.runtime.allowance import Allowance, person_cap
from bot.runtime.board_flusher import BoardFlusher
from bot.runtime.catalog import Catalog
from bot.runtime.executor import Executor, retry_plan, short_error
from bot.runtime.leases import Leases
from bot.runtime.routing import Facts, GatewayFacts, Ignored, Router, web_hosts
from bot.runtime.sweepers import ExpirySweeper
from bot.settings import Settings
from bot.store import Delivery, DeliveryStatus, LeaseLost, OutboxItem, Store, new_token

log = logging.getLogger(__name__)

HANDOFF_DEPTH = 4  # deliveries handed to workers straight from intake: up to this many per worker
PARSED_KEEP = 1024  # payloads of deliveries left in the inbox kept parsed for the dispatcher, at most


Outcome = Literal["ignored", "failed", "retry", "already_applied", "done"]


@dataclass(frozen=True)
class Handled:
    """What became of one delivery (or of one event `bot sync` read): its outcome, the campaign
    it concerned and the decision taken (None unless it was decided now)."""

    outcome: Outcome
    campaign: str | None = None
    decision: Decision | None = None


class Pipeline:
    """The stages of one process around `decide`. Its tuning comes from `Settings` (the one place
    of every default); `facts` replaces GitHub as the source of PR files, PRs and permissions
    (`bot simulate`); `trace` sees every action taken up and every board written, as JSON lines
    (`bot replay`, `bot simulate`, tests)."""

    def __init__(
        self,
        rules: RulesView,
        store: Store,
        github: GitHubApi,
        *,
        settings: Settings,
        facts: Facts | None = None,
        trace: Callable[[str], None] | None = None,
        clock: Clock = SYSTEM,
        metrics: Metrics | None = None,
        bot_login: str = "hackathon-bot[bot]",
    ):
        self.rules = rules
        self.catalog = rules if isinstance(rules, Catalog) else None  # campaigns that change while the bot runs
        self.metrics = metrics or Metrics()
        self.store = store
        self.github = github
        self.workers = settings.workers
        self.max_attempts = settings.max_attempts
        self.bot_login = bot_login
        self.clock = clock
        self.leases = Leases(store, clock)
        self.router = Router(
            rules,
            store,
            facts or GatewayFacts(github),
            bot_login=lambda: self.bot_login,
            clock=clock,
            public_url=settings.public_url if settings.dashboard else None,
            hosts=web_hosts(settings.github_api_url),
        )
        self.executor = Executor(
            store,
            github,
            self.leases,
            bot_login=lambda: self.bot_login,
            trace=trace,
            max_attempts=settings.max_attempts,
            clock=clock,
            metrics=self.metrics,
            language_of=self._language_of,
            reply_gap=settings.reply_gap,
            importer=self.catalog.import_collections if self.catalog is not None else None,
            person_window=settings.person_window,
            person_cap=person_cap(settings.max_writes_per_hour),
        )
        # one person's board edits: one per window, a capped number an hour (see `allowance`)
        self.board_people = Allowance(settings.person_window, person_cap(settings.max_writes_per_hour))
        self.board = BoardFlusher(
            rules, store, github, board_delay=settings.board_delay, trace=trace, clock=clock, metrics=self.metrics
        )
        self.expiry = ExpirySweeper(rules, store, clock=clock, execute=self.executor.execute)
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task] = []
        self._inflight = 0
        self._running = False
        self._backlog = 0  # deliveries intake left in the inbox for the dispatcher (0: none waits)
        self._parsed: dict[str, dict] = {}  # their payloads, parsed by intake (the oldest PARSED_KEEP)
        # `bot action` decides first and performs later (once its decisions are saved on GitHub):
        # a list here collects the outbox items instead of performing them.
        self.deferred: list[OutboxItem] | None = None
        self._languages: dict[str, Lang] = {}  # repository -> its campaign's language ...
        self._languages_of: object = None  # ... for this snapshot of the campaigns

    def _language_of(self, repo: str) -> Lang:
        """The language of the campaign a repository belongs to (replies merged there use it)."""
        campaigns = self.rules.campaigns
        if self._languages_of is not campaigns:  # the campaigns changed (a reload)
            self._languages = {r: c.campaign.language for c in campaigns.values() for r in c.repos()}
            self._languages_of = campaigns
        return self._languages.get(repo.lower(), "zh")

    # ---- what the other parts of the shell ask of the pipeline -----------------------------------
    def use_github(self, github: GitHubApi) -> None:
        """Talk to GitHub through another client from now on (tests: a gateway with short timeouts)."""
        self.github = self.executor.gateway = self.board.gateway = github
        if isinstance(self.router.facts, GatewayFacts):
            self.router.facts = GatewayFacts(github)

    async def learn_login(self) -> None:
        """Read the App's login from GitHub (its own comments are recognised by it)."""
        try:
            self.bot_login = await self.github.app_login()
        except GitHubError as exc:  # keep serving; markers still match the default login
            log.warning("could not read the app's login (%s); using %s until a restart", exc, self.bot_login)

    def set_board_delay(self, seconds: float) -> None:
        """How long a board edit waits so that a burst gives one edit."""
        self.board.board_delay = seconds

    @contextlib.asynccontextmanager
    async def boards_held(self) -> AsyncIterator[None]:
        """No board is written meanwhile (`bot sync` writes each once, at the end)."""
        delay = self.board.board_delay
        self.board.board_delay = 1e7  # ~4 months
        try:
            yield
        finally:
            self.board.board_delay = delay

    def forget_permissions(self, repo: str | None = None) -> None:
        """Someone's rights changed (a `member` or `organization` event): forget cached permissions."""
        self.router.forget_permissions(repo)

    def warnings(self) -> list[str]:
        """What looks wrong without failing the health check (a store that looks lost)."""
        return self.board.guard.warnings() + (self.catalog.problems() if self.catalog is not None else [])

    async def close(self) -> None:
        """Let go of what the pipeline holds besides the store (the worker process that reads long texts)."""
        await self.router.budget.close()

    async def perform(self, items: list[OutboxItem]) -> None:
        """Perform outbox items now, in order (tools that run the stages by hand)."""
        await self.executor.execute(items)

    # ---- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        await self.learn_login()
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue()
        self._slot_free = asyncio.Event()
        stopping = self._is_stopping
        self._running = True
        self.executor.start()
        self._tasks = [asyncio.create_task(self._worker(i), name=f"worker-{i}") for i in range(self.workers)]
        self._tasks += [
            asyncio.create_task(coro, name=name)
            for name, coro in (
                ("dispatcher", self._dispatcher()),
                ("outbox", self.executor.sweep(stopping)),
                ("expiry", self.expiry.run(stopping)),
                ("board", self.board.run(stopping)),
                ("heartbeat", self.leases.heartbeat(stopping)),
            )
        ]

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
        deadline = self.clock.monotonic() + grace
        while self._inflight and self.clock.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.executor.stop()
        self._running = False

    def _is_stopping(self) -> bool:
        return self._stopping

    def wake(self) -> None:
        self._wake.set()

    # ---- intake ---------------------------------------------------------------------------------
    async def receive(
        self, delivery_id: str, event: str, action: str | None, body: bytes, payload: dict, subject: str | None
    ) -> bool:
        """Store an acknowledged delivery in the inbox; False when it was stored before (a
        redelivery). While this process has room, the delivery is stored leased to it and handed
        to a worker at once (no lease transaction, no second parse of its JSON); a delivery about a
        subject (a pull request) waits for the dispatcher, which keeps each subject in order, and
        while deliveries wait for the dispatcher none overtakes them (first come, first served)."""
        handed = None
        if (
            self._running
            and not self._stopping
            and subject is None
            and not self._backlog
            and self._inflight < self.workers * HANDOFF_DEPTH
        ):
            handed = Delivery(delivery_id, event, payload, 1, new_token())
            self._inflight += 1  # the slot is this delivery's from now on, stored or not
            self.leases.hold(handed.token)
        try:
            stored = await self.store.add_delivery(
                delivery_id, event, action, body, subject=subject, lease=handed.token if handed else None
            )
        except BaseException:
            if handed is not None:
                self._done_with(handed)
            raise
        if handed is None:
            if stored:
                self._backlog += 1
                if len(self._parsed) < PARSED_KEEP:
                    self._parsed[delivery_id] = payload
                self.wake()
        elif stored:
            self._queue.put_nowait(handed)
        else:
            self._done_with(handed)
        return stored

    # ---- dispatcher and workers -----------------------------------------------------------------
    async def _dispatcher(self) -> None:
        """Lease deliveries in batches (one transaction for as many as there are idle workers) and
        hand them to the workers."""
        while not self._stopping:
            free = self.workers - self._inflight
            if free <= 0:
                self._slot_free.clear()
                await self._slot_free.wait()
                continue
            backlog = self._backlog
            try:
                batch = await self.store.lease_deliveries(free, self._parsed)
            except Exception:  # the database blinked: wait and retry
                log.exception("leasing deliveries failed")
                await asyncio.sleep(1.0)
                continue
            for d in batch:
                self._parsed.pop(d.id, None)
            if len(batch) < free and self._backlog == backlog:
                self._backlog = 0  # the inbox is empty: intake may hand deliveries over again
                self._parsed.clear()  # (what is left was taken by another replica)
            if not batch:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=0.5 + random.random() * 0.5)
                except TimeoutError:
                    pass
                continue
            for d in batch:
                self._inflight += 1
                self.leases.hold(d.token)
                self._queue.put_nowait(d)

    def _done_with(self, delivery: Delivery) -> None:
        self.leases.release(delivery.token)
        self._inflight -= 1
        self._slot_free.set()

    async def _worker(self, index: int) -> None:
        while not self._stopping:
            delivery = await self._queue.get()
            started = self.clock.monotonic()
            try:
                await self.handle(delivery.id, delivery.event, delivery.payload, delivery.attempts, delivery.token)
            except LeaseLost:
                log.info("delivery %s was taken over by another worker; its outcome counts", delivery.id)
                self.metrics.delivery_done(delivery.event, "taken_over", self.clock.monotonic() - started)
            except Exception as exc:  # a bug or an outage: record it, keep the worker alive
                log.exception("delivery %s crashed", delivery.id)
                gave_up = delivery.attempts >= self.max_attempts and not retry_plan(delivery.attempts, exc)[1]
                self.metrics.delivery_done(delivery.event, "failed" if gave_up else "retry", self.clock.monotonic() - started)
                try:
                    await self._retry_later(delivery.id, delivery.attempts, exc, delivery.token)
                except Exception:
                    log.exception("could not record the failure of %s", delivery.id)
            finally:
                self._done_with(delivery)

    async def handle(
        self,
        delivery_id: str | None,
        event: str,
        payload: dict,
        attempts: int = 1,
        token: str | None = None,
        *,
        at: datetime | None = None,
        edited_at: datetime | None = None,
        quiet: Callable[[Decision], Decision] | None = None,
    ) -> Handled:
        """Process one delivery end to end: route it, decide and commit in one transaction, perform.
        This is the one way every source of events takes: the inbox's workers, `bot sync`,
        `bot replay`, `bot simulate`. A historical event (`bot sync`) says when it happened (`at`;
        an edited comment's new text: `edited_at`) and passes `quiet`, which keeps of its decision
        only what may still be done on GitHub."""
        started = self.clock.monotonic()

        def done(outcome: str, campaign: str | None = None, detail: str = "") -> None:
            seconds = self.clock.monotonic() - started
            delivery_line(log, delivery_id, event, campaign, outcome, seconds, detail or None)
            self.metrics.delivery_done(event, outcome, seconds)

        said: str | None = None
        try:
            if event in CATALOG_EVENTS:  # which campaigns exist changed: the catalog reads them again
                said, routed = await self._catalog_work(event, payload), None
            else:
                if event == "pull_request" and quiet is None and self.catalog is not None:
                    said = await self.catalog.check_pull(payload)  # a PR that changes campaign folders
                routed = await self.router.route(event, payload)
        except Ignored as why:
            if delivery_id:
                await self.store.finish_delivery(delivery_id, DeliveryStatus.IGNORED, str(why) or None, token=token)
            done("ignored", detail=str(why))
            return Handled("ignored")
        except (ValidationError, PermanentError) as exc:
            if delivery_id:
                await self.store.finish_delivery(delivery_id, DeliveryStatus.FAILED, short_error(exc), token=token)
            done("failed", detail=f"{short_error(exc)}; `bot status` lists it")
            return Handled("failed")
        except (TimeoutError, GitHubError, OSError) as exc:
            await self._retry_later(delivery_id, attempts, exc, token)
            gave_up = delivery_id is not None and attempts >= self.max_attempts and not retry_plan(attempts, exc)[1]
            outcome: Outcome = "failed" if gave_up else "retry"
            done(outcome, detail=short_error(exc))
            return Handled(outcome)
        if said:
            log.info("delivery %s %s: %s", delivery_id, event, said)
        if routed is None:
            if delivery_id:
                await self.store.finish_delivery(delivery_id, DeliveryStatus.DONE, None, token=token)
            done("done", detail=said or "")
            return Handled("done")
        if self.leases.lost(token):
            raise LeaseLost(delivery_id)
        now = at or self.clock.now()
        edit_now = edited_at or now
        shape = quiet or _as_decided
        build, edit = routed.build, routed.edit
        # the board edit this person's change calls for waits for their next slot (0: now)
        person = (routed.rules.slug, routed.actor.lower()) if routed.actor and at is None else None
        mono = self.clock.monotonic()
        defer = self.board_people.next_slot(person, mono) - mono if person else 0.0
        decision, items = await self.store.commit(
            routed.rules.slug,
            lambda state: shape(build(state, now)),
            delivery_id=delivery_id,
            installation_id=routed.installation_id,
            token=token,
            effect=routed.effect,
            edit=(lambda state, applied: shape(edit(state, edit_now, applied))) if edit else None,
            board_defer=defer,
        )
        slug = routed.rules.slug
        if person and not isinstance(decision, Skipped) and (decision.changes or decision.board is not BoardChange.NONE):
            self.board_people.use(person, mono + defer)
        if isinstance(decision, Skipped):
            done("already_applied", slug, f"{decision.why}: {routed.effect.subject if routed.effect else ''}")
            return Handled("already_applied", slug)
        done("done", slug, f"{len(decision.actions)} action(s), {len(decision.changes)} change(s)")
        if items:
            if self._running:
                self.executor.submit(items)  # performed by the executor stage; deciding goes on
            elif self.deferred is not None:
                self.deferred += items  # `bot action`: performed once the decisions are saved
            else:
                await self.executor.execute(items)  # tools (replay, sync) and tests without the stages
        return Handled("done", slug, decision)

    async def _catalog_work(self, event: str, payload: dict) -> str:
        """A push or an installation change: the catalog reads the campaign folders again."""
        if self.catalog is None:
            return "no catalog: campaigns come from RULES_DIR only"
        return await self.catalog.on_event(event, payload)

    async def _retry_later(self, delivery_id: str | None, attempts: int, exc: Exception, token: str | None = None) -> None:
        if delivery_id is None:
            raise exc
        wait, refund = retry_plan(attempts, exc)
        if attempts >= self.max_attempts and not refund:
            await self.store.finish_delivery(delivery_id, DeliveryStatus.FAILED, short_error(exc), token=token)
        else:
            await self.store.release_delivery(delivery_id, short_error(exc), retry_in=wait, token=token, refund=refund)

    # ---- entry points for tools and tests --------------------------------------------------------
    async def flush_board(self, slug: str) -> bool:
        return await self.board.flush(slug)

    async def flush_boards(self) -> int:
        """Write now every board a change left dirty (tools, and `bot action` at the end of a run).
        Returns how many trackers were edited."""
        edited = 0
        while slug := await self.store.take_dirty_board(0.0):
            edited += await self.board.flush(slug)
        return edited

    async def lapse_expired_claims(self) -> int:
        return await self.expiry.sweep_once()

    async def idle(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is pending (tests and benchmarks). True when idle."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if await self.store.pending_work() == 0 and self._inflight == 0:
                return True
            await asyncio.sleep(0.05)
        return False


def _as_decided(decision: Decision) -> Decision:
    return decision
