"""The store's queries: the inbox (deliveries), campaign state (claims, pull requests, closed
tasks), the outbox of GitHub actions, the bot's own comments, and per-campaign board bookkeeping.

Guarantees the rest of the bot relies on:
- `add_delivery` is idempotent on the delivery id: a redelivery is acknowledged, never stored twice.
- `lease_deliveries` hands a pending delivery to exactly one worker of any replica (row lock with
  SKIP LOCKED on PostgreSQL; SQLite is single-process and has one writer thread). A worker that
  dies holding a lease loses it after `lease_seconds`, and the delivery is retaken; a worker whose
  lease was taken over cannot commit (its lease token no longer matches).
- `commit` decides and records a delivery (state changes, their stage history, queued actions, "done") in ONE
  transaction, under the campaign's row lock: a delivery takes effect exactly once, and
  concurrent claims on one campaign are decided one after the other.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Connection, Table, and_, any_, bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from bot import jsonio
from bot.clock import SYSTEM, Clock
from bot.core.actions import (
    BoardChange,
    Change,
    Decision,
    DropClaim,
    PutClaim,
    PutPull,
    SetCampaignClosed,
    SetTaskClosed,
    action_from_dict,
    action_to_dict,
    apply_changes,
    make_state,
    stage_events,
)
from bot.core.ledger import Applied, Effect, Skipped, Verdict, verdict
from bot.core.model import CampaignState, Claim, PullRequest, Stage, StageEvent
from bot.store.database import Database, Prepared, Query, dialect_insert, run_reads, run_writes, upsert, upsert_statement
from bot.store.migrate import upgrade_connection
from bot.store.records import ActionStatus, Delivery, DeliveryStatus, LeaseLost, OutboxItem, Outcome, body_hash, new_token
from bot.store.schema import (
    UTCDateTime,
    bot_comments,
    campaigns,
    claims,
    closed_tasks,
    deliveries,
    effects,
    history,
    jobs,
    outbox,
    pulls,
    redeliveries,
    rule_snapshots,
    rule_sources,
    sync_marks,
)

BOARD_BACKOFF_CAP = 30.0  # seconds: after an outage, the board catches up within a minute
COMMIT_GROUP = 64  # commits for one campaign decided in one transaction at most (see `Store.commit`)
COMMIT_LINGER = 0.01  # seconds a campaign's first commit waits for others to join (under load only)
INTAKE_LINGER = 0.002  # seconds the first delivery of a group waits for others to join its transaction


@dataclass
class _Commit:
    """One `Store.commit` waiting for its campaign's next group transaction."""

    build: Callable[[CampaignState], Decision]
    delivery_id: str | None
    installation_id: int | None
    token: str | None
    effect: Effect | None
    edit: Callable[[CampaignState, str], Decision] | None
    fut: asyncio.Future
    board_defer: float = 0.0


# The group commit's statements, built once (FOR UPDATE is left out by SQLite's compiler).
def _in(column: Any, name: str, dialect: str) -> Any:
    """`column IN :name` for a list: an array on PostgreSQL (one statement text whatever its length)."""
    if dialect == "sqlite":
        return column.in_(bindparam(name, expanding=True))
    return column == any_(bindparam(name, type_=ARRAY(column.type)))


_HOLDERS = Query(
    lambda d: (
        select(deliveries.c.id, deliveries.c.lease_owner)
        .where(
            _in(deliveries.c.id, "ids", d),
            or_(deliveries.c.status == DeliveryStatus.PROCESSING.value, deliveries.c.status == DeliveryStatus.PENDING.value),
        )
        .with_for_update()
    )
)
_LEDGER = Query(
    lambda d: select(effects.c.subject, effects.c.fingerprint, effects.c.version, effects.c.body).where(
        _in(effects.c.subject, "subjects", d)
    )
)
_VERSION = Query(lambda _: select(campaigns.c.version).where(campaigns.c.slug == bindparam("slug")).with_for_update())

# Intake: the deliveries of a group; a delivery already stored (a redelivery) returns no row.
_INTAKE = Prepared(
    lambda d: dialect_insert(deliveries, d).on_conflict_do_nothing(index_elements=["id"]).returning(deliveries.c.id),
    returning=True,
)

# Its writes, run by `run_writes` (one pipeline on PostgreSQL).
_DONE = Prepared(
    lambda _: (
        update(deliveries)
        .where(deliveries.c.id == bindparam("did"))
        .values(status=DeliveryStatus.DONE.value, finished_at=bindparam("now"), lease_owner=None, lease_until=None, error=None)
    )
)
_PUT_EFFECT = Prepared(
    lambda d: upsert_statement(
        d, effects, ("subject",), ("subject", "campaign", "fingerprint", "version", "body", "delivery_id", "applied_at")
    )
)
_PUT_CLAIM = Prepared(
    lambda d: upsert_statement(
        d,
        claims,
        ("campaign", "task", "user_key"),
        (
            "campaign",
            "task",
            "user_key",
            "user",
            "stage",
            "team",
            "link",
            "claimed_at",
            "updated_at",
            "renewed_at",
            "reminded_at",
        ),
    )
)
_DROP_CLAIM = Prepared(
    lambda _: delete(claims).where(
        claims.c.campaign == bindparam("c"), claims.c.task == bindparam("t"), claims.c.user_key == bindparam("u")
    )
)
_PUT_PULL = Prepared(
    lambda d: upsert_statement(
        d,
        pulls,
        ("repo", "number"),
        ("repo", "number", "campaign", "author", "title", "tasks", "kind", "state", "url", "part", "revert", "withdrawn_by"),
    )
)
_OPEN_TASK = Prepared(
    lambda _: delete(closed_tasks).where(closed_tasks.c.campaign == bindparam("c"), closed_tasks.c.task == bindparam("t"))
)
_CLOSE_TASK = Prepared(lambda _: insert(closed_tasks))
_CLOSE_CAMPAIGN = Prepared(
    lambda _: update(campaigns).where(campaigns.c.slug == bindparam("c")).values(closed_at=bindparam("at", type_=UTCDateTime()))
)
_HISTORY = Prepared(lambda _: insert(history))
_OUTBOX = Prepared(lambda _: insert(outbox).returning(outbox.c.id), returning=True)
_DIRTY = Prepared(
    lambda _: (
        update(campaigns)
        .where(campaigns.c.slug == bindparam("b_slug"))
        .values(
            version=bindparam("b_version"),
            board_dirty=True,
            # the oldest change the tracker does not show; a deferred one (see `commit`) counts from
            # when it is due, and never delays a change due earlier
            dirty_since=case(
                (campaigns.c.dirty_since < bindparam("b_now", type_=UTCDateTime()), campaigns.c.dirty_since),
                else_=bindparam("b_due", type_=UTCDateTime()),
            ),
            installation_id=func.coalesce(bindparam("b_inst", type_=BigInteger()), campaigns.c.installation_id),
        )
    )
)
_FORCE_BOARD = Prepared(lambda _: update(campaigns).where(campaigns.c.slug == bindparam("c")).values(board_hash=None))
_NEW_VERSION = Prepared(
    lambda _: update(campaigns).where(campaigns.c.slug == bindparam("c")).values(version=bindparam("v", type_=BigInteger()))
)

# Leasing deliveries (see `Store.lease_deliveries`), oldest first; SKIP LOCKED on PostgreSQL.
_BUSY = deliveries.alias("busy")
_WAITING = select(deliveries.c.id, deliveries.c.received_at).where(
    or_(
        deliveries.c.subject.is_(None),
        ~select(_BUSY.c.id)
        .where(
            _BUSY.c.subject == deliveries.c.subject,
            _BUSY.c.id != deliveries.c.id,
            _BUSY.c.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.PROCESSING.value]),
            or_(_BUSY.c.lease_until >= bindparam("now", type_=UTCDateTime()), _BUSY.c.received_at < deliveries.c.received_at),
        )
        .exists(),
    )
)
_PENDING = (
    _WAITING.where(deliveries.c.status == DeliveryStatus.PENDING.value)
    .order_by(deliveries.c.received_at)
    .limit(bindparam("n"))
    .with_for_update(skip_locked=True)
)
_EXPIRED = (
    _WAITING.where(
        deliveries.c.status == DeliveryStatus.PROCESSING.value, deliveries.c.lease_until < bindparam("now", type_=UTCDateTime())
    )
    .order_by(deliveries.c.received_at)
    .limit(bindparam("n"))
    .with_for_update(skip_locked=True)
)
_LEASE = (
    update(deliveries)
    .where(deliveries.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status=DeliveryStatus.PROCESSING.value,
        lease_owner=bindparam("tok"),
        lease_until=bindparam("until"),
        attempts=deliveries.c.attempts + 1,
    )
    .returning(deliveries.c.id, deliveries.c.event, deliveries.c.payload, deliveries.c.attempts, deliveries.c.received_at)
)

_FINISH = (
    update(outbox)
    .where(outbox.c.id == bindparam("oid"))
    .values(
        status=bindparam("st"),
        error=bindparam("err"),
        lease_owner=None,
        lease_until=bindparam("until"),
        attempts=outbox.c.attempts - bindparam("back"),
    )
)
_FINISH_HELD = _FINISH.where(outbox.c.lease_owner == bindparam("tok"))


def _settle(fut: asyncio.Future, outcome: Any) -> None:
    """Hand a commit its outcome (an exception is raised in the waiting coroutine)."""
    if fut.done():  # the waiter was cancelled (shutdown)
        return
    if isinstance(outcome, BaseException):
        fut.set_exception(outcome)
    else:
        fut.set_result(outcome)


class Store:
    """Every query is one transaction: a synchronous function over a Connection (the closures
    below), run off the event loop by the `Database`."""

    def __init__(self, url: str, *, lease_seconds: float = 60.0, echo: bool = False, clock: Clock = SYSTEM):
        self.db = Database(url, echo=echo)
        self.url = url
        self.is_sqlite = self.db.is_sqlite
        self.clock = clock
        self.lease = timedelta(seconds=lease_seconds)
        self.owner = uuid.uuid4().hex[:16]
        # Campaign states by version, so a decision does not reload every claim (see `commit`).
        self._cache: dict[str, tuple[int, CampaignState]] = {}
        self._intake: list[tuple[dict, asyncio.Future]] = []
        self._intake_task: asyncio.Task | None = None
        self._commits: dict[str, list[_Commit]] = {}
        self._committers: dict[str, asyncio.Task] = {}
        self._grouped: dict[str, bool] = {}  # the campaign's last group held several commits

    async def _write(self, fn: Callable[[Connection], Any], *, urgent: bool = False) -> Any:
        return await self.db.write(fn, urgent=urgent)

    async def _read(self, fn: Callable[[Connection], Any], *, urgent: bool = False) -> Any:
        return await self.db.read(fn, urgent=urgent)

    async def read(self, fn: Callable[[Connection], Any]) -> Any:
        """Run `fn(sync_connection)` for reading (tests and tools)."""
        return await self.db.read(fn)

    # ---- lifecycle --------------------------------------------------------------------------------
    async def init(self, campaign_slugs: list[str] | tuple[str, ...] = ()) -> None:
        """Bring the schema up to date (Alembic migrations) and register the campaigns."""

        def txn(conn: Connection) -> None:
            upgrade_connection(conn)
            existing = set(conn.execute(select(campaigns.c.slug)).scalars())
            for slug in campaign_slugs:
                if slug not in existing:
                    conn.execute(
                        insert(campaigns).values(slug=slug, board_dirty=False, board_edits=0, board_failures=0, version=0)
                    )

        await self._write(txn)

    async def register_campaigns(self, campaign_slugs: list[str]) -> None:
        """Campaigns that appear while the bot runs (read from a repository) get their row."""

        def txn(conn: Connection) -> None:
            existing = set(conn.execute(select(campaigns.c.slug)).scalars())
            for slug in campaign_slugs:
                if slug not in existing:
                    conn.execute(
                        insert(campaigns).values(slug=slug, board_dirty=False, board_edits=0, board_failures=0, version=0)
                    )

        await self._write(txn)

    async def close(self) -> None:
        await self.db.close()

    # ---- inbox ------------------------------------------------------------------------------------
    async def add_delivery(
        self,
        delivery_id: str,
        event: str,
        action: str | None,
        payload: bytes | str,
        status: DeliveryStatus = DeliveryStatus.PENDING,
        subject: str | None = None,
        *,
        lease: str | None = None,
    ) -> bool:
        """Store a delivery; False when this id was already stored (a redelivery). `lease`: the
        delivery is stored already leased under this token (its first attempt), for the caller to
        process at once instead of waiting for `lease_deliveries`.

        Deliveries arriving together are committed together (one transaction for the group, ahead
        of the workers' writes), so acknowledging stays fast while workers are busy."""
        text = payload.decode() if isinstance(payload, bytes) else payload
        now = self.clock.now()
        values = dict(
            id=delivery_id,
            event=event,
            action=action,
            payload=text,
            received_at=now,
            status=status,
            attempts=0,
            subject=subject,
            lease_owner=None,
            lease_until=None,
        )
        if lease is not None:
            values.update(status=DeliveryStatus.PROCESSING, attempts=1, lease_owner=lease, lease_until=now + self.lease)
        fut = asyncio.get_running_loop().create_future()
        self._intake.append((values, fut))
        if self._intake_task is None or self._intake_task.done():
            self._intake_task = asyncio.create_task(self._drain_intake())
        return await fut

    def _insert_group(self, batch: list[tuple[dict, asyncio.Future]], conn: Connection) -> list[bool]:
        """Insert the deliveries of a group (with the COMMIT, one round trip on PostgreSQL); for each,
        whether it was new (False: a redelivery, or the same id given twice in the group)."""
        inserted = set(run_writes(conn, [(_INTAKE, [v for v, _ in batch])], commit=True)[0])
        out = []
        for v, _ in batch:
            out.append(v["id"] in inserted)
            inserted.discard(v["id"])
        return out

    async def _drain_intake(self) -> None:
        await asyncio.sleep(INTAKE_LINGER)  # deliveries arriving together share one transaction
        while self._intake:
            batch, self._intake = self._intake, []
            try:
                results = await self._write(functools.partial(self._insert_group, batch), urgent=True)
            except Exception:  # one bad row fails the group: store each alone, so only it answers an error
                for item in batch:
                    fut = item[1]
                    try:
                        [stored] = await self._write(functools.partial(self._insert_group, [item]), urgent=True)
                    except Exception as exc:
                        if not fut.done():
                            fut.set_exception(exc)
                    else:
                        if not fut.done():
                            fut.set_result(stored)
                continue
            for (_, fut), stored in zip(batch, results):
                if not fut.done():
                    fut.set_result(stored)

    async def lease_delivery(self) -> Delivery | None:
        """Take one delivery to process (see `lease_deliveries`)."""
        taken = await self.lease_deliveries(1)
        return taken[0] if taken else None

    async def lease_deliveries(self, limit: int, parsed: Mapping[str, dict] | None = None) -> list[Delivery]:
        """Take up to `limit` deliveries to process, oldest first: pending ones, and those held by a
        worker whose lease ran out; never one whose subject (a pull request) has an earlier delivery
        still in hand. One lease token for the batch; each delivery is still finished on its own.
        `parsed`: payloads this process already parsed, by delivery id (their JSON is not read again)."""

        def txn(conn: Connection) -> list[tuple]:
            now = self.clock.now()
            # Two walks of the (status, received_at) index, each stopping after `limit` rows: a
            # backlog of thousands costs no more than a few (one query over both statuses sorted
            # every waiting row on each lease).
            found = [*conn.execute(_PENDING, {"n": limit, "now": now}), *conn.execute(_EXPIRED, {"n": limit, "now": now})]
            ids = [r.id for r in sorted(found, key=lambda r: r.received_at)[:limit]]
            if not ids:
                return []
            token = new_token()
            rows = conn.execute(_LEASE, {"ids": ids, "tok": token, "until": now + self.lease})
            return [(r.id, r.event, r.payload, r.attempts, token) for r in sorted(rows, key=lambda r: r.received_at)]

        known = parsed or {}
        return [
            Delivery(i, event, known.get(i) or jsonio.loads(text), attempts, token)
            for i, event, text, attempts, token in await self._write(txn)
        ]

    @staticmethod
    def _held(table: Table, row_id: Any, token: str | None):
        cond = table.c.id == row_id
        return cond if token is None else and_(cond, table.c.lease_owner == token)

    async def finish_delivery(
        self, delivery_id: str, status: DeliveryStatus, error: str | None = None, *, token: str | None = None
    ) -> None:
        await self._write(
            lambda conn: conn.execute(
                update(deliveries)
                .where(self._held(deliveries, delivery_id, token))
                .values(status=status, error=error, finished_at=self.clock.now(), lease_owner=None, lease_until=None)
            )
        )

    async def release_delivery(
        self, delivery_id: str, error: str, *, retry_in: float = 0.0, token: str | None = None, refund: bool = False
    ) -> None:
        """Give a delivery back for another try (after `retry_in` seconds). `refund`: this try
        does not count toward the attempts (GitHub asked us to wait; nothing was wrong)."""
        vals: dict[str, Any] = dict(
            status=DeliveryStatus.PROCESSING,
            error=error,
            lease_owner=None,
            lease_until=self.clock.now() + timedelta(seconds=retry_in),
        )
        if refund:
            vals["attempts"] = deliveries.c.attempts - 1
        await self._write(
            lambda conn: conn.execute(update(deliveries).where(self._held(deliveries, delivery_id, token)).values(**vals))
        )

    async def renew(self, tokens: list[str]) -> set[str]:
        """Extend the leases of work still in hand (deliveries, actions, this process's board edits).
        Returns the tokens whose lease was lost (someone else took the work)."""

        def txn(conn: Connection) -> set[str]:
            until = self.clock.now() + self.lease
            if not tokens:
                held: set[str] = set()
            else:
                held = set(
                    conn.execute(
                        update(deliveries)
                        .where(deliveries.c.status == DeliveryStatus.PROCESSING, deliveries.c.lease_owner.in_(tokens))
                        .values(lease_until=until)
                        .returning(deliveries.c.lease_owner)
                    ).scalars()
                )
                held |= set(
                    conn.execute(
                        update(outbox)
                        .where(outbox.c.status == ActionStatus.PENDING, outbox.c.lease_owner.in_(tokens))
                        .values(lease_until=until)
                        .returning(outbox.c.lease_owner)
                    ).scalars()
                )
            conn.execute(update(campaigns).where(campaigns.c.board_lease_owner == self.owner).values(board_lease_until=until))
            return set(tokens) - held

        return await self._write(txn, urgent=True)

    async def delivery_counts(self) -> dict[str, int]:
        def txn(conn: Connection) -> dict[str, int]:
            counts = {s: n for s, n in conn.execute(select(deliveries.c.status, func.count()).group_by(deliveries.c.status))}
            counts.update(
                {f"actions_{s}": n for s, n in conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))}
            )
            return counts

        return await self._read(txn)

    async def failures(self, limit: int = 50) -> list[dict]:
        """Failed deliveries, actions and board edits, newest first, for `bot status` and GET /status."""

        def txn(conn: Connection) -> list[dict]:
            rows = conn.execute(
                select(
                    deliveries.c.id,
                    deliveries.c.event,
                    deliveries.c.action,
                    deliveries.c.error,
                    deliveries.c.attempts,
                    deliveries.c.finished_at,
                )
                .where(deliveries.c.status == DeliveryStatus.FAILED)
                .order_by(deliveries.c.finished_at.desc())
                .limit(limit)
            )
            out = [
                {
                    "type": "delivery",
                    "id": r.id,
                    "event": f"{r.event}.{r.action}" if r.action else r.event,
                    "error": r.error,
                    "attempts": r.attempts,
                    "at": r.finished_at.isoformat() if r.finished_at else None,
                }
                for r in rows
            ]
            rows = conn.execute(
                select(outbox.c.id, outbox.c.delivery_id, outbox.c.payload, outbox.c.error, outbox.c.attempts)
                .where(outbox.c.status == ActionStatus.FAILED)
                .order_by(outbox.c.id.desc())
                .limit(limit)
            )
            out += [
                {
                    "type": "action",
                    "id": r.id,
                    "delivery": r.delivery_id,
                    "action": r.payload.get("kind"),
                    "target": f"{r.payload.get('repo')}#{r.payload.get('number')}",
                    "error": r.error,
                    "attempts": r.attempts,
                }
                for r in rows
            ]
            rows = conn.execute(
                select(campaigns.c.slug, campaigns.c.board_error, campaigns.c.board_failures).where(
                    campaigns.c.board_error.is_not(None)
                )
            )
            out += [{"type": "board", "id": r.slug, "error": r.board_error, "attempts": r.board_failures} for r in rows]
            return out

        return await self._read(txn)

    # ---- campaign state ---------------------------------------------------------------------------
    @staticmethod
    def _load_state(conn: Connection, campaign: str) -> CampaignState:
        cl = [
            Claim(
                campaign,
                r.task,
                r.user,
                Stage(r.stage),
                r.claimed_at,
                team=r.team,
                link=r.link,
                renewed_at=r.renewed_at,
                reminded_at=r.reminded_at,
            )
            for r in conn.execute(select(claims).where(claims.c.campaign == campaign))
        ]
        prs = [
            PullRequest(
                campaign,
                r.repo,
                r.number,
                r.author,
                r.title,
                tuple(r.tasks),
                r.kind,
                r.state,
                r.url,
                part=r.part,
                revert=r.revert,
                withdrawn_by=r.withdrawn_by,
            )
            for r in conn.execute(select(pulls).where(pulls.c.campaign == campaign))
        ]
        closed = frozenset(conn.execute(select(closed_tasks.c.task).where(closed_tasks.c.campaign == campaign)).scalars())
        closed_at = conn.execute(select(campaigns.c.closed_at).where(campaigns.c.slug == campaign)).scalar()
        return make_state(cl, prs, closed, closed_at)

    async def state(self, campaign: str, *, urgent: bool = False) -> CampaignState:
        """The campaign's state (`urgent`: the board flusher's read, ahead of the workers' commits)."""
        return await self._read(lambda conn: self._load_state(conn, campaign), urgent=urgent)

    def _locked_state(self, conn: Connection, campaign: str, version: int | None) -> tuple[int, CampaignState]:
        """The campaign's state from the cache when `version` (read under the campaign's row lock,
        see `_VERSION`) matches; a campaign without a row gets one."""
        if version is None:
            conn.execute(insert(campaigns).values(slug=campaign, board_dirty=False, board_edits=0, board_failures=0, version=0))
            version = 0
        cached = self._cache.get(campaign)
        if cached and cached[0] == version:
            return version, cached[1]
        return version, self._load_state(conn, campaign)

    @staticmethod
    def _change_steps(campaign: str, changes: list[Change], now: datetime) -> list[tuple[Prepared, list[dict]]]:
        """The writes of `changes`, in order (for `run_writes`): a run of changes of one kind is one
        statement over many rows."""
        steps: list[tuple[Prepared, list[dict]]] = []
        for kind, group in itertools.groupby(changes, key=type):
            run = list(group)
            if kind is PutClaim:
                steps.append(
                    (
                        _PUT_CLAIM,
                        [
                            dict(
                                campaign=campaign,
                                task=c.task,
                                user_key=c.user.lower(),
                                user=c.user,
                                stage=c.stage.value,
                                team=c.team,
                                link=c.link,
                                claimed_at=c.claimed_at,
                                updated_at=now,
                                renewed_at=c.renewed_at,
                                reminded_at=c.reminded_at,
                            )
                            for c in (ch.claim for ch in run if isinstance(ch, PutClaim))
                        ],
                    )
                )
            elif kind is DropClaim:
                steps.append(
                    (
                        _DROP_CLAIM,
                        [{"c": campaign, "t": ch.task, "u": ch.user.lower()} for ch in run if isinstance(ch, DropClaim)],
                    )
                )
            elif kind is PutPull:
                steps.append(
                    (
                        _PUT_PULL,
                        [
                            dict(
                                repo=p.repo,
                                number=p.number,
                                campaign=campaign,
                                author=p.author,
                                title=p.title,
                                tasks=list(p.tasks),
                                kind=p.kind,
                                state=p.state,
                                url=p.url,
                                part=p.part,
                                revert=p.revert,
                                withdrawn_by=p.withdrawn_by,
                            )
                            for p in (ch.pr for ch in run if isinstance(ch, PutPull))
                        ],
                    )
                )
            else:
                for ch in run:
                    match ch:
                        case SetTaskClosed(task=t, closed=flag):
                            steps.append((_OPEN_TASK, [{"c": campaign, "t": t}]))
                            if flag:
                                steps.append((_CLOSE_TASK, [{"campaign": campaign, "task": t}]))
                        case SetCampaignClosed(at=at):
                            steps.append((_CLOSE_CAMPAIGN, [{"c": campaign, "at": at}]))
                        case _:
                            raise TypeError(f"unknown change {ch!r}")
        return steps

    async def commit(
        self,
        campaign: str,
        build: Callable[[CampaignState], Decision],
        *,
        delivery_id: str | None = None,
        installation_id: int | None = None,
        token: str | None = None,
        effect: Effect | None = None,
        edit: Callable[[CampaignState, str], Decision] | None = None,
        board_defer: float = 0.0,
    ) -> tuple[Decision, list[OutboxItem]]:
        """Decide and record one delivery in ONE transaction under the campaign's row lock: read the
        state, `build(state)` the decision (pure), apply its changes, queue its actions (leased to the
        caller, who performs them next; if it dies first its lease runs out and any replica's sweeper
        takes them), mark the board dirty and the delivery done.

        Group commit: commits asked for one campaign while its transaction runs (or, under load,
        within `COMMIT_LINGER` of the first) wait and then go together, decided one after the
        other over the state each leaves, in one transaction (`COMMIT_GROUP` at most). Each keeps
        its own outcome: a lost lease or a failing `build` fails only its own commit, and when the
        group's transaction fails each is retried alone.

        Raises LeaseLost (and nothing is written) when the delivery's lease `token` is no longer held:
        another worker took the delivery over, and its outcome is the one that counts.

        `effect` (the effects ledger, `bot.ledger`): what the delivery takes effect as. When the
        ledger already holds that content (or a newer one) nothing is decided and a `Skipped`
        decision is returned; when it holds an older content of a comment, `edit(state, applied
        body)` decides only what is new. The applied effect is recorded in this transaction.

        `board_defer`: seconds the board edit this delivery calls for may wait (a person's writes
        are paced, see `bot.runtime.allowance`): the board is marked dirty as of then, unless a
        change already waits for an earlier edit."""
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        self._commits.setdefault(campaign, []).append(
            _Commit(build, delivery_id, installation_id, token, effect, edit, fut, board_defer)
        )
        task = self._committers.get(campaign)
        if task is None or task.done():
            self._committers[campaign] = asyncio.create_task(self._drain_commits(campaign))
        return await fut

    async def _drain_commits(self, campaign: str) -> None:
        queue = self._commits[campaign]
        if self._grouped.get(campaign):  # under load (the last group was shared): let others join this one
            await asyncio.sleep(COMMIT_LINGER)
        while queue:
            group = queue[:COMMIT_GROUP]
            del queue[:COMMIT_GROUP]
            self._grouped[campaign] = len(group) > 1
            try:
                outcomes = await self._write(functools.partial(self._commit_group, campaign, group))
            except Exception as exc:  # the group's transaction failed: each alone, so only the culprit fails
                if len(group) == 1:
                    _settle(group[0].fut, exc)
                    continue
                for one in group:
                    try:
                        [outcome] = await self._write(functools.partial(self._commit_group, campaign, [one]))
                    except Exception as alone:
                        outcome = alone
                    _settle(one.fut, outcome)
                continue
            for one, outcome in zip(group, outcomes, strict=True):
                _settle(one.fut, outcome)

    def _commit_group(self, campaign: str, group: list[_Commit], conn: Connection) -> list[Any]:
        """One transaction for a group of commits (see `commit`): reads first (leases, the campaign's
        locked state, the ledger), then each decision in order over the state the previous one left,
        then every write at once. Returns each commit's outcome: (decision, items) or an exception."""
        now = self.clock.now()
        ids = [c.delivery_id for c in group if c.delivery_id is not None]
        subjects = [c.effect.subject for c in group if c.effect is not None]
        # The campaign's row lock, the deliveries' leases, the ledger: one round trip on PostgreSQL.
        found = iter(
            run_reads(
                conn,
                [
                    (_VERSION, {"slug": campaign}),
                    *([(_HOLDERS, {"ids": ids})] if ids else []),
                    *([(_LEDGER, {"subjects": subjects})] if subjects else []),
                ],
            )
        )
        row = next(found)
        version, state = self._locked_state(conn, campaign, row[0][0] if row else None)
        holders: dict[str, str | None] = dict(next(found)) if ids else {}  # type: ignore[arg-type]
        ledger = {subject: Applied(fingerprint, at, body) for subject, fingerprint, at, body in (next(found) if subjects else [])}

        outcomes: list[Any] = []
        done: list[str] = []
        ledger_rows: dict[str, dict] = {}
        changes: list[Change] = []
        history_rows: list[dict] = []
        outbox_rows: list[dict] = []
        queued: list[tuple[int, _Commit, Decision, str, int]] = []  # (outcome index, commit, decision, lease, first row)
        dirty, force, installation = False, False, None
        due: datetime | None = None  # when the board edit this group calls for is due
        for c in group:
            if c.delivery_id is not None:
                if c.delivery_id not in holders or (c.token is not None and holders[c.delivery_id] != c.token):
                    outcomes.append(LeaseLost(c.delivery_id))
                    continue
                del holders[c.delivery_id]  # a delivery is done once, even if asked twice in one group
                done.append(c.delivery_id)
            try:
                decision, applied = self._decide_once(state, c, ledger.get(c.effect.subject) if c.effect else None)
            except Exception as exc:  # a bug in deciding this one: it fails alone, the others go on
                if c.delivery_id is not None:
                    done.pop()
                outcomes.append(exc)
                continue
            if applied is not None and c.effect is not None:
                ledger[c.effect.subject] = applied
                ledger_rows[c.effect.subject] = dict(
                    subject=c.effect.subject,
                    campaign=campaign,
                    fingerprint=applied.fingerprint,
                    version=applied.version,
                    body=applied.body,
                    delivery_id=c.delivery_id,
                    applied_at=now,
                )
            if decision.changes:
                history_rows += [
                    {
                        "campaign": campaign,
                        "task": e.task,
                        "user": e.user,
                        "stage": e.stage.value if e.stage else None,
                        "at": e.at,
                    }
                    for e in stage_events(state, decision.changes, now)
                ]
                changes += decision.changes
                state = decision.after if decision.after is not None else apply_changes(state, decision.changes)
            lease = new_token()
            queued.append((len(outcomes), c, decision, lease, len(outbox_rows)))
            outbox_rows += [
                dict(
                    delivery_id=c.delivery_id,
                    installation_id=c.installation_id,
                    payload=action_to_dict(a),
                    kind=type(a).__name__,
                    target=f"{a.repo}#{a.number}",
                    status=ActionStatus.PENDING,
                    attempts=1,
                    lease_owner=lease,
                    lease_until=now + self.lease,
                    created_at=now,
                )
                for a in decision.actions
            ]
            outcomes.append(None)
            if decision.board is not BoardChange.NONE or decision.changes:
                dirty = True
                at = now + timedelta(seconds=c.board_defer) if c.board_defer > 0 else now
                due = at if due is None else min(due, at)
                installation = c.installation_id if c.installation_id is not None else installation
                force = force or decision.board is BoardChange.FORCE

        if changes:
            # A fresh random stamp, not version + 1: a transaction that fails to commit leaves a
            # stamp nobody else can ever write, so the cache entry below can never be mistaken.
            version = secrets.randbits(62)
        steps: list[tuple[Prepared, list[dict]]] = [
            (_DONE, [{"did": d, "now": now} for d in done]),
            (_PUT_EFFECT, list(ledger_rows.values())),
            *self._change_steps(campaign, changes, now),
            (_HISTORY, history_rows),
        ]
        outbox_at = len(steps)
        steps.append((_OUTBOX, outbox_rows))
        if dirty:  # (changes always make the board dirty)
            steps.append(
                (
                    _DIRTY,
                    [
                        {
                            "b_slug": campaign,
                            "b_version": version,
                            "b_now": due or now,
                            "b_due": due or now,
                            "b_inst": installation,
                        }
                    ],
                )
            )
            if force:  # /refresh: edit the tracker even if the board looks unchanged
                steps.append((_FORCE_BOARD, [{"c": campaign}]))
        elif changes:
            steps.append((_NEW_VERSION, [{"c": campaign, "v": version}]))
        # Cached before the commit, while the row lock is still held: whoever takes the lock next
        # reads this stamp and finds the state ready (set after the commit, it raced with them).
        self._cache[campaign] = (version, state)
        ids_out = run_writes(conn, steps, commit=True)[outbox_at]  # (with its COMMIT: one round trip on PostgreSQL)
        for index, c, decision, lease, first in queued:
            outcomes[index] = (
                decision,
                [
                    OutboxItem(ids_out[first + k], c.delivery_id, c.installation_id, a, 1, lease)
                    for k, a in enumerate(decision.actions)
                ],
            )
        return outcomes

    @staticmethod
    def _decide_once(state: CampaignState, c: _Commit, applied: Applied | None) -> tuple[Decision, Applied | None]:
        """The decision, unless the ledger says the effect already happened; and the ledger's entry
        after it (None: nothing to record)."""
        effect = c.effect
        if effect is None:
            return c.build(state), None
        v = verdict(effect, applied)
        if v in (Verdict.REPLAY, Verdict.STALE):
            return Skipped(why=v.value), None
        if v is Verdict.CHANGED and applied is not None and applied.body is not None and c.edit is not None:
            decision = c.edit(state, applied.body)
        else:
            decision = c.build(state)
        newest = (
            effect.version
            if applied is None or applied.version is None or effect.version is None
            else max(effect.version, applied.version)
        )
        return decision, Applied(effect.fingerprint, newest, effect.body)

    async def applied_effect(self, subject: str) -> Applied | None:
        """What the effects ledger holds for a comment or pull request (see `bot.ledger`)."""
        q = select(effects.c.fingerprint, effects.c.version, effects.c.body).where(effects.c.subject == subject)
        row = await self._read(lambda conn: conn.execute(q).first())
        return Applied(row.fingerprint, row.version, row.body) if row else None

    async def known_deliveries(self, guids: list[str]) -> set[str]:
        """Which of these delivery GUIDs the inbox holds."""
        if not guids:
            return set()
        q = select(deliveries.c.id).where(deliveries.c.id.in_(guids))
        return await self._read(lambda conn: set(conn.execute(q).scalars()))

    async def claim_redelivery(self, hook_delivery_id: int, guid: str, event: str | None) -> bool:
        """Record that this process asks GitHub to redeliver `hook_delivery_id`; False when some
        replica already did (the primary key elects exactly one)."""
        values = {
            "hook_delivery_id": hook_delivery_id,
            "guid": guid,
            "event": event,
            "asked_at": self.clock.now(),
            "asked_by": self.owner,
        }
        return await self._write(
            lambda conn: conn.execute(self.db.insert_ignoring(redeliveries, values, ["hook_delivery_id"])).first() is not None
        )

    async def record_job(self, name: str, info: dict) -> None:
        """A periodic job's last run (shown by `bot status` and GET /status)."""
        await self._write(lambda conn: upsert(conn, jobs, {"name": name}, {"last_run_at": self.clock.now(), "info": info}))

    async def jobs_info(self) -> dict[str, dict]:
        def txn(conn: Connection) -> dict[str, dict]:
            return {
                r.name: {"last_run_at": r.last_run_at.isoformat() if r.last_run_at else None, **(r.info or {})}
                for r in conn.execute(select(jobs.c.name, jobs.c.last_run_at, jobs.c.info))
            }

        return await self._read(txn)

    # ---- bot action: a run's outcomes, copied onto a newer state another run saved meanwhile ----------
    async def action_outcomes(self) -> dict:
        """Which actions are no longer pending, and each campaign's last board written."""

        def txn(conn: Connection) -> dict:
            done = [r.id for r in conn.execute(select(outbox.c.id).where(outbox.c.status != ActionStatus.PENDING))]
            boards = {r.slug: r.board_hash for r in conn.execute(select(campaigns.c.slug, campaigns.c.board_hash))}
            return {"done": done, "boards": boards}

        return await self._read(txn)

    async def apply_action_outcomes(self, outcomes: dict) -> None:
        """Record another store's `action_outcomes` here (the same actions, by id: one state descends from the other)."""

        def txn(conn: Connection) -> None:
            if outcomes["done"]:
                done = update(outbox).where(outbox.c.id.in_(outcomes["done"]), outbox.c.status == ActionStatus.PENDING)
                conn.execute(done.values(status=ActionStatus.DONE, lease_owner=None, lease_until=None))
            for slug, digest in outcomes["boards"].items():
                if digest:
                    conn.execute(update(campaigns).where(campaigns.c.slug == slug).values(board_hash=digest, board_dirty=False))

        await self._write(txn)

    # ---- campaign folders read from repositories -----------------------------------------------------
    async def put_rule_source(self, repo: str, installation_id: int, commit: str | None, problems: list[dict]) -> None:
        """What the last read of a repository's campaign folders found."""
        values = {"installation_id": installation_id, "commit": commit, "problems": problems, "checked_at": self.clock.now()}
        await self._write(lambda conn: upsert(conn, rule_sources, {"repo": repo.lower()}, values))

    async def drop_rule_source(self, repo: str) -> None:
        await self._write(lambda conn: conn.execute(delete(rule_sources).where(rule_sources.c.repo == repo.lower())))

    async def rule_sources(self) -> list[dict]:
        """Every repository read for campaign folders: repo, installation_id, commit, problems, checked_at."""
        q = select(rule_sources).order_by(rule_sources.c.repo)

        def txn(conn: Connection) -> list[dict]:
            return [
                {**r._asdict(), "problems": r.problems or [], "checked_at": r.checked_at.isoformat()} for r in conn.execute(q)
            ]

        return await self._read(txn)

    async def put_rule_snapshot(self, slug: str, repo: str, installation_id: int, commit: str, files: dict[str, str]) -> None:
        """The files of a campaign's last good version (served again after a restart on a bad push)."""
        values = {
            "repo": repo,
            "installation_id": installation_id,
            "commit": commit,
            "files": files,
            "saved_at": self.clock.now(),
        }
        await self._write(lambda conn: upsert(conn, rule_snapshots, {"slug": slug}, values))

    async def rule_snapshots(self) -> dict[str, dict]:
        """slug -> {repo, installation_id, commit, files} of every campaign's last good version."""
        q = select(rule_snapshots)

        def txn(conn: Connection) -> dict[str, dict]:
            return {r.slug: r._asdict() for r in conn.execute(q)}

        return await self._read(txn)

    async def drop_rule_snapshot(self, slug: str) -> None:
        await self._write(lambda conn: conn.execute(delete(rule_snapshots).where(rule_snapshots.c.slug == slug)))

    async def sync_mark(self, campaign: str, source: str) -> datetime | None:
        """The newest updated_at `bot sync` already read from `source` for `campaign` (None: never)."""
        q = select(sync_marks.c.mark).where(sync_marks.c.campaign == campaign, sync_marks.c.source == source)
        return await self._read(lambda conn: conn.execute(q).scalar())

    async def set_sync_mark(self, campaign: str, source: str, mark: datetime) -> None:
        await self._write(lambda conn: upsert(conn, sync_marks, {"campaign": campaign, "source": source}, {"mark": mark}))

    async def history(self, campaign: str) -> list[StageEvent]:
        """The campaign's stage history, oldest first (the dashboard's time series)."""
        return sorted((e for _, e in await self.history_since(campaign)), key=lambda e: e.at)

    async def history_since(self, campaign: str, after: int = 0) -> list[tuple[int, StageEvent]]:
        """(row id, event) of the history rows recorded after row `after`, in id order (append-only,
        so a reader can keep what it read and ask only for what is new)."""
        q = (
            select(history.c.id, history.c.task, history.c.user, history.c.stage, history.c.at)
            .where(history.c.campaign == campaign, history.c.id > after)
            .order_by(history.c.id)
        )
        return await self._read(
            lambda conn: [(r.id, StageEvent(r.at, r.task, r.user, Stage(r.stage) if r.stage else None)) for r in conn.execute(q)]
        )

    async def current_state(self, campaign: str, *, urgent: bool = False) -> CampaignState:
        """The campaign's state; from this process's cache when it is the newest version (one
        small query instead of reading every claim and PR). `urgent`: as `state`."""

        def txn(conn: Connection) -> CampaignState:
            version = conn.execute(select(campaigns.c.version).where(campaigns.c.slug == campaign)).scalar()
            cached = self._cache.get(campaign)
            if cached and cached[0] == version:
                return cached[1]
            return self._load_state(conn, campaign)

        return await self._read(txn, urgent=urgent)

    async def pull_campaign(self, repo: str, number: int) -> str | None:
        """The campaign a pull request was recorded under, if any."""
        q = select(pulls.c.campaign).where(pulls.c.repo == repo, pulls.c.number == number)
        return await self._read(lambda conn: conn.execute(q).scalar())

    # ---- outbox -----------------------------------------------------------------------------------
    async def lease_actions(self, limit: int = 20, *, held_too: bool = False) -> list[OutboxItem]:
        """Take pending actions nobody holds (retries, and those of a worker that died) and count an
        attempt on each. `held_too`: whoever held them is known to be gone (`bot action` inheriting
        an earlier run's actions), so their leases do not matter."""

        def txn(conn: Connection) -> list[OutboxItem]:
            now = self.clock.now()
            free = outbox.c.status == ActionStatus.PENDING
            if not held_too:
                free = and_(free, or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now))
            q = select(outbox.c.id).where(free).order_by(outbox.c.id).limit(limit)
            taken = list(conn.execute(self.db.skip_locked(q)).scalars())
            if not taken:
                return []
            token = new_token()
            rows = conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(taken))
                .values(lease_owner=token, lease_until=now + self.lease, attempts=outbox.c.attempts + 1)
                .returning(outbox.c.id, outbox.c.delivery_id, outbox.c.installation_id, outbox.c.payload, outbox.c.attempts)
            )
            return sorted(
                (
                    OutboxItem(r.id, r.delivery_id, r.installation_id, action_from_dict(r.payload), r.attempts, token)
                    for r in rows
                ),
                key=lambda i: i.id,
            )

        return await self._write(txn)

    async def finish_action(
        self,
        action_id: int,
        status: ActionStatus = ActionStatus.DONE,
        error: str | None = None,
        retry_in: float | None = None,
        *,
        token: str | None = None,
        refund: bool = False,
    ) -> None:
        await self.finish_actions([Outcome(action_id, ActionStatus(status), error, retry_in, token, refund)])

    async def finish_actions(self, outcomes: list[Outcome]) -> None:
        """Record what became of several actions, in one transaction."""
        if not outcomes:
            return

        def txn(conn: Connection) -> None:
            now = self.clock.now()
            rows = [
                {
                    "oid": o.id,
                    "tok": o.token,
                    "st": o.status,
                    "err": o.error,
                    "back": 1 if o.refund else 0,
                    "until": now + timedelta(seconds=o.retry_in) if o.retry_in is not None else None,
                }
                for o in outcomes
            ]
            for with_token in (True, False):
                group = [r for r in rows if (r["tok"] is not None) == with_token]
                if group:
                    conn.execute(_FINISH_HELD if with_token else _FINISH, group)

        await self._write(txn, urgent=True)

    async def superseded(self, item: OutboxItem) -> bool:
        """Is there a newer action of the same kind on the same target? (A checklist or label set
        from an older push must not overwrite a newer one, whatever order they are performed in.)
        A newer review of the PR (every review carries a checklist) supersedes an older label set
        or check run too, even when it had none of its own: it found the PR's labels (or check)
        already as they should be, so the older one must not change them any more."""
        a = item.action
        kind = type(a).__name__
        q = (
            select(outbox.c.id)
            .where(
                outbox.c.kind.in_(sorted({kind, "UpsertChecklist"})),
                or_(outbox.c.kind == kind, outbox.c.delivery_id.is_distinct_from(item.delivery_id)),
                outbox.c.target == f"{a.repo}#{a.number}",
                outbox.c.id > item.id,
                outbox.c.status != ActionStatus.FAILED,
            )
            .limit(1)
        )
        return await self._read(lambda conn: conn.execute(q).first() is not None)

    async def bot_comment(self, repo: str, number: int, role: str) -> tuple[int, str] | None:
        q = select(bot_comments.c.comment_id, bot_comments.c.body_hash).where(
            bot_comments.c.repo == repo, bot_comments.c.number == number, bot_comments.c.role == role
        )
        row = await self._read(lambda conn: conn.execute(q).first())
        return (row.comment_id, row.body_hash) if row else None

    async def put_bot_comment(self, repo: str, number: int, role: str, comment_id: int, body: str) -> None:
        await self._write(
            lambda conn: upsert(
                conn,
                bot_comments,
                dict(repo=repo, number=number, role=role),
                dict(comment_id=comment_id, body_hash=body_hash(body)),
            )
        )

    # ---- board ------------------------------------------------------------------------------------
    async def take_dirty_board(self, older_than: float) -> str | None:
        """Lease one campaign whose board changed at least `older_than` seconds ago (one replica at a time).
        Clears the dirty flag first, so changes made while the edit is in flight mark it dirty again."""
        taken = await self.take_dirty_board_since(older_than)
        return taken[0] if taken else None

    async def take_dirty_board_since(self, older_than: float) -> tuple[str, datetime] | None:
        """`take_dirty_board`, with the time of the oldest change the board does not show yet."""

        def txn(conn: Connection) -> tuple[str, datetime] | None:
            now = self.clock.now()
            q = (
                select(campaigns.c.slug, campaigns.c.dirty_since)
                .where(
                    or_(
                        and_(campaigns.c.board_dirty.is_(True), campaigns.c.dirty_since <= now - timedelta(seconds=older_than)),
                        # an edit whose replica died after taking it (and clearing the flag): redo it
                        campaigns.c.board_lease_owner.is_not(None),
                    ),
                    or_(campaigns.c.board_lease_until.is_(None), campaigns.c.board_lease_until < now),
                )
                .order_by(campaigns.c.dirty_since)
                .limit(1)
            )
            row = conn.execute(self.db.skip_locked(q)).first()
            if row is None:
                return None
            conn.execute(
                update(campaigns)
                .where(campaigns.c.slug == row.slug)
                .values(board_dirty=False, dirty_since=None, board_lease_owner=self.owner, board_lease_until=now + self.lease)
            )
            return row.slug, row.dirty_since

        return await self._write(txn, urgent=True)

    async def release_board(
        self, slug: str, *, edited_hash: str | None = None, failed: bool = False, error: str | None = None
    ) -> None:
        """End a board edit. `edited_hash`: the board now on the tracker. `failed`: try again later
        (backing off). `error`: GitHub refused for good; recorded and shown, not retried until the
        next change or /refresh."""

        def txn(conn: Connection) -> None:
            vals: dict[str, Any] = dict(board_lease_owner=None, board_lease_until=None)
            if edited_hash is not None:
                vals.update(board_hash=edited_hash, board_edits=campaigns.c.board_edits + 1, board_error=None, board_failures=0)
            if failed:
                failures = conn.execute(select(campaigns.c.board_failures).where(campaigns.c.slug == slug)).scalar() or 0
                wait = min(BOARD_BACKOFF_CAP, 2.0 ** min(int(failures), 10))
                vals.update(
                    board_dirty=True,
                    dirty_since=self.clock.now() + timedelta(seconds=wait),
                    board_failures=campaigns.c.board_failures + 1,
                )
            if error is not None:
                vals.update(board_error=error, board_failures=campaigns.c.board_failures + 1)
            conn.execute(
                update(campaigns).where(campaigns.c.slug == slug, campaigns.c.board_lease_owner == self.owner).values(**vals)
            )

        await self._write(txn, urgent=True)

    async def mark_board_dirty(self, slug: str) -> None:
        await self._write(
            lambda conn: conn.execute(
                update(campaigns)
                .where(campaigns.c.slug == slug)
                .values(board_dirty=True, dirty_since=func.coalesce(campaigns.c.dirty_since, self.clock.now()))
            )
        )

    async def board_info(self, slug: str) -> dict:
        row = await self._read(lambda conn: conn.execute(select(campaigns).where(campaigns.c.slug == slug)).first(), urgent=True)
        return dict(row._mapping) if row else {}

    async def pending_work(self) -> int:
        """Deliveries not yet done plus actions not yet performed plus boards to write (0 means idle)."""

        def txn(conn: Connection) -> int:
            d = conn.execute(
                select(func.count())
                .select_from(deliveries)
                .where(deliveries.c.status.in_([DeliveryStatus.PENDING, DeliveryStatus.PROCESSING]))
            ).scalar_one()
            a = conn.execute(select(func.count()).select_from(outbox).where(outbox.c.status == ActionStatus.PENDING)).scalar_one()
            b = conn.execute(
                select(func.count())
                .select_from(campaigns)
                .where(or_(campaigns.c.board_dirty.is_(True), campaigns.c.board_lease_owner.is_not(None)))
            ).scalar_one()
            return d + a + b

        return await self._read(txn)
