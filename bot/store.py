"""The store: deliveries (the durable inbox), claims, pull requests, the outbox of GitHub actions,
the bot's own comments, and per-campaign board bookkeeping. SQLAlchemy 2 Core, async; one
schema on SQLite (the embedded default) and PostgreSQL (several replicas).

Guarantees the rest of the bot relies on:
- `add_delivery` is idempotent on the delivery id: a redelivery is acknowledged, never stored twice.
- `lease_delivery` hands a pending delivery to exactly one worker of any replica (row lock with
  SKIP LOCKED on PostgreSQL; SQLite is single-process and has one writer thread). A worker that
  dies holding a lease loses it after `lease_seconds`, and the delivery is retaken; a worker whose
  lease was taken over cannot commit (its lease token no longer matches).
- `commit` decides and records a delivery (state changes, queued actions, "done") in ONE
  transaction, under the campaign's row lock: a delivery takes effect exactly once, and
  concurrent claims on one campaign are decided one after the other.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import itertools
import json
import queue
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Callable

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy import Connection, create_engine, event

from bot.actions import (
    Action,
    Change,
    Decision,
    apply_changes,
    make_state,
    DropClaim,
    PutClaim,
    PutPull,
    SetTaskClosed,
    action_from_dict,
    action_to_dict,
)
from bot.model import CampaignState, Claim, PullRequest, Stage

metadata = MetaData()


class UTCDateTime(TypeDecorator):
    """Timestamps are stored and returned as aware UTC datetimes on both backends."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001, D102
        if isinstance(value, datetime):
            value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):  # noqa: ANN001, D102
        if isinstance(value, datetime):
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


deliveries = Table(
    "deliveries", metadata,
    Column("id", String(64), primary_key=True),
    Column("event", String(64), nullable=False),
    Column("action", String(64)),
    Column("payload", Text, nullable=False),
    Column("received_at", UTCDateTime(), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),  # pending | processing | done | failed | ignored
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_owner", String(64)),
    Column("lease_until", UTCDateTime()),
    Column("error", Text),
    Column("finished_at", UTCDateTime()),
    # Deliveries about one subject (a pull request) are processed one after the other, in order.
    Column("subject", String(300), index=True),
)

campaigns = Table(
    "campaigns", metadata,
    Column("slug", String(128), primary_key=True),
    Column("board_dirty", Boolean, nullable=False, default=False),
    Column("dirty_since", UTCDateTime()),
    Column("board_hash", String(64)),
    Column("board_edits", Integer, nullable=False, default=0),
    Column("board_lease_owner", String(64)),
    Column("board_lease_until", UTCDateTime()),
    Column("version", BigInteger, nullable=False, default=0),
    Column("installation_id", BigInteger),  # the installation that reaches the tracker, learnt from deliveries
    Column("board_error", Text),  # why the last board edit failed for good (shown by `bot status`)
    Column("board_failures", Integer, nullable=False, default=0),
)

claims = Table(
    "claims", metadata,
    Column("campaign", String(128), primary_key=True),
    Column("task", Integer, primary_key=True),
    Column("user_key", String(128), primary_key=True),
    Column("user", String(128), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("team", String(256)),
    Column("link", Text),
    Column("claimed_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

pulls = Table(
    "pulls", metadata,
    Column("repo", String(256), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("campaign", String(128), nullable=False, index=True),
    Column("author", String(128), nullable=False),
    Column("title", Text, nullable=False),
    Column("tasks", JSON, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("state", String(8), nullable=False),
    Column("url", Text, nullable=False),
    Column("part", Boolean, nullable=False, default=False),
    Column("revert", Boolean, nullable=False, default=False),
)

closed_tasks = Table(
    "closed_tasks", metadata,
    Column("campaign", String(128), primary_key=True),
    Column("task", Integer, primary_key=True),
)

outbox = Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(64), index=True),
    Column("installation_id", BigInteger),
    Column("payload", JSON, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("target", String(300), nullable=False, index=True),  # "owner/repo#number"
    Column("status", String(16), nullable=False, index=True),  # pending | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_owner", String(64)),
    Column("lease_until", UTCDateTime()),
    Column("error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
)

bot_comments = Table(
    "bot_comments", metadata,
    Column("repo", String(256), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("role", String(32), primary_key=True),  # "checklist"
    Column("comment_id", BigInteger, nullable=False),
    Column("body_hash", String(64), nullable=False),
)


def body_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)


class LeaseLost(Exception):
    """The lease ran out and someone else took the work: this worker's outcome must not count."""


def new_token() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Delivery:
    id: str
    event: str
    payload: dict
    attempts: int
    token: str | None = None  # this lease; only its holder may finish the delivery


@dataclass(frozen=True)
class Outcome:
    """What became of one performed action (see Store.finish_actions)."""

    id: int
    status: str  # done | pending (retry after retry_in) | failed
    error: str | None = None
    retry_in: float | None = None
    token: str | None = None
    refund: bool = False


@dataclass(frozen=True)
class OutboxItem:
    id: int
    delivery_id: str | None
    installation_id: int | None
    action: Action
    attempts: int
    token: str | None = None


class _DbThread:
    """SQLite's one writer: a thread that runs whole transactions, one after the other, urgent
    ones (acknowledging deliveries) first. One hop between the event loop and the database per
    transaction, instead of one per statement."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.PriorityQueue = queue.PriorityQueue()
        self._seq = itertools.count()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            _, _, job = self._jobs.get()
            if job is None:
                return
            fn, fut, loop = job
            try:
                result = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting coroutine
                loop.call_soon_threadsafe(_settle, fut, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, fut, result, None)

    def submit(self, fn: Callable[[], Any], urgent: bool = False) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._jobs.put((0 if urgent else 1, next(self._seq), (fn, fut, loop)))
        return fut

    def stop(self) -> None:
        self._jobs.put((9, next(self._seq), None))
        self._thread.join(timeout=10)


def _settle(fut: asyncio.Future, result: Any, exc: BaseException | None) -> None:
    if fut.cancelled():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


def _upsert(conn: Connection, table: Table, key: dict, values: dict) -> None:
    """Insert the row, or update it when its primary key exists: one statement (INSERT ... ON
    CONFLICT DO UPDATE) on both SQLite and PostgreSQL."""
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    conn.execute(dialect_insert(table).values(**key, **values).on_conflict_do_update(index_elements=list(key), set_=values))


class _DbPool:
    """PostgreSQL: transactions run on a small pool of threads with a synchronous driver, so a
    transaction holding a campaign's row lock is never waiting for a busy event loop; urgent
    ones (acknowledging deliveries) have threads of their own."""

    def __init__(self, threads: int) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="hackathon-bot-db")
        self._urgent = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="hackathon-bot-db-intake")

    def submit(self, fn: Callable[[], Any], urgent: bool = False) -> asyncio.Future:
        return asyncio.get_running_loop().run_in_executor(self._urgent if urgent else self._pool, fn)

    def stop(self) -> None:
        self._pool.shutdown(wait=True)
        self._urgent.shutdown(wait=True)


def _sync_url(url: str) -> str:
    """The synchronous driver for a configured URL (the async names are accepted for compatibility)."""
    for async_name, sync_name in (("sqlite+aiosqlite", "sqlite+pysqlite"), ("postgresql+asyncpg", "postgresql+psycopg"),
                                  ("postgresql://", "postgresql+psycopg://")):
        if url.startswith(async_name):
            return sync_name + url[len(async_name):]
    return url


class Store:
    """Every transaction is one synchronous function over a SQLAlchemy Connection (the closures
    below), run by `_write`/`_read` off the event loop: on SQLite in the one database thread, on
    PostgreSQL on a pool of threads (psycopg). `DATABASE_URL` may name the async drivers
    (`sqlite+aiosqlite`, `postgresql+asyncpg`); the store uses their synchronous counterparts."""

    def __init__(self, url: str, *, lease_seconds: float = 60.0, echo: bool = False):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.lease = timedelta(seconds=lease_seconds)
        self.owner = uuid.uuid4().hex[:16]
        # Campaign states by version, so a decision does not reload every claim (see `commit`).
        self._cache: dict[str, tuple[int, CampaignState]] = {}
        self._intake: list[tuple[dict, asyncio.Future]] = []
        self._intake_task: asyncio.Task | None = None
        if self.is_sqlite:
            self.sync_engine = create_engine(_sync_url(url), echo=echo, connect_args={"timeout": 30, "check_same_thread": False})
            self._runner: _DbThread | _DbPool = _DbThread("hackathon-bot-db")

            @event.listens_for(self.sync_engine, "connect")
            def _pragmas(dbapi_conn, _record):  # noqa: ANN001
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()
        else:
            self.sync_engine = create_engine(_sync_url(url), echo=echo, pool_size=10, max_overflow=4, pool_pre_ping=True)
            self._runner = _DbPool(threads=2)

    # ---- running transactions -------------------------------------------------------------------
    async def _write(self, fn: Callable[[Connection], Any], *, urgent: bool = False) -> Any:
        """Run `fn(conn)` in one write transaction."""
        def job() -> Any:
            with self.sync_engine.begin() as conn:
                return fn(conn)

        return await self._runner.submit(job, urgent)

    async def _read(self, fn: Callable[[Connection], Any]) -> Any:
        def job() -> Any:
            with self.sync_engine.connect() as conn:
                return fn(conn)

        return await self._runner.submit(job)

    async def read(self, fn: Callable[[Connection], Any]) -> Any:
        """Run `fn(sync_connection)` for reading (tests and tools)."""
        return await self._read(fn)

    def _for_update(self, q):  # noqa: ANN001, ANN202
        return q if self.is_sqlite else q.with_for_update()

    def _skip_locked(self, q):  # noqa: ANN001, ANN202
        return q if self.is_sqlite else q.with_for_update(skip_locked=True)

    # ---- lifecycle --------------------------------------------------------------------------------
    async def init(self, campaign_slugs: list[str] | tuple[str, ...] = ()) -> None:
        """Bring the schema up to date (Alembic migrations) and register the campaigns."""
        from bot.migrate import upgrade_connection

        def txn(conn: Connection) -> None:
            upgrade_connection(conn)
            existing = set(conn.execute(select(campaigns.c.slug)).scalars())
            for slug in campaign_slugs:
                if slug not in existing:
                    conn.execute(insert(campaigns).values(slug=slug, board_dirty=False, board_edits=0, board_failures=0,
                                                          version=0))

        await self._write(txn)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._runner.stop)
        self.sync_engine.dispose()

    # ---- inbox ------------------------------------------------------------------------------------
    async def add_delivery(self, delivery_id: str, event: str, action: str | None, payload: bytes | str,
                           status: str = "pending", subject: str | None = None) -> bool:
        """Store a delivery; False when this id was already stored (a redelivery).

        Deliveries arriving together are committed together (one transaction for the group, ahead
        of the workers' writes), so acknowledging stays fast while workers are busy."""
        text = payload.decode() if isinstance(payload, bytes) else payload
        values = dict(id=delivery_id, event=event, action=action, payload=text, received_at=utcnow(), status=status,
                      attempts=0, subject=subject)
        fut = asyncio.get_running_loop().create_future()
        self._intake.append((values, fut))
        if self._intake_task is None or self._intake_task.done():
            self._intake_task = asyncio.create_task(self._drain_intake())
        return await fut

    def _insert_ignoring_duplicates(self, conn: Connection, values: dict) -> bool:
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        stmt = dialect_insert(deliveries).values(**values).on_conflict_do_nothing(index_elements=["id"]).returning(deliveries.c.id)
        return conn.execute(stmt).first() is not None

    async def _drain_intake(self) -> None:
        while self._intake:
            batch, self._intake = self._intake, []
            try:
                results = await self._write(lambda conn: [self._insert_ignoring_duplicates(conn, v) for v, _ in batch],
                                            urgent=True)
            except Exception as exc:  # nothing of the group was stored: each request answers an error
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for (_, fut), stored in zip(batch, results):
                if not fut.done():
                    fut.set_result(stored)

    async def lease_delivery(self) -> Delivery | None:
        """Take one delivery to process (see `lease_deliveries`)."""
        taken = await self.lease_deliveries(1)
        return taken[0] if taken else None

    async def lease_deliveries(self, limit: int) -> list[Delivery]:
        """Take up to `limit` deliveries to process, oldest first: pending ones, and those held by a
        worker whose lease ran out; never one whose subject (a pull request) has an earlier delivery
        still in hand. One lease token for the batch; each delivery is still finished on its own."""
        def txn(conn: Connection) -> list[Delivery]:
            now = utcnow()
            busy = deliveries.alias("busy")
            q = (select(deliveries.c.id).where(
                    deliveries.c.status.in_(["pending", "processing"]),
                    or_(deliveries.c.status == "pending", deliveries.c.lease_until < now),
                    or_(deliveries.c.subject.is_(None),
                        ~select(busy.c.id).where(busy.c.subject == deliveries.c.subject, busy.c.id != deliveries.c.id,
                                                 busy.c.status.in_(["pending", "processing"]),
                                                 or_(busy.c.lease_until >= now,
                                                     busy.c.received_at < deliveries.c.received_at)).exists()))
                 .order_by(deliveries.c.received_at).limit(limit))
            ids = list(conn.execute(self._skip_locked(q)).scalars())
            if not ids:
                return []
            token = new_token()
            rows = conn.execute(
                update(deliveries).where(deliveries.c.id.in_(ids))
                .values(status="processing", lease_owner=token, lease_until=now + self.lease, attempts=deliveries.c.attempts + 1)
                .returning(deliveries.c.id, deliveries.c.event, deliveries.c.payload, deliveries.c.attempts, deliveries.c.received_at))
            return [Delivery(r.id, r.event, json.loads(r.payload), r.attempts, token)
                    for r in sorted(rows, key=lambda r: r.received_at)]

        return await self._write(txn)

    @staticmethod
    def _held(table: Table, row_id: Any, token: str | None):  # noqa: ANN205
        cond = table.c.id == row_id
        return cond if token is None else and_(cond, table.c.lease_owner == token)

    async def finish_delivery(self, delivery_id: str, status: str, error: str | None = None, *, token: str | None = None) -> None:
        await self._write(lambda conn: conn.execute(
            update(deliveries).where(self._held(deliveries, delivery_id, token))
            .values(status=status, error=error, finished_at=utcnow(), lease_owner=None, lease_until=None)))

    async def release_delivery(self, delivery_id: str, error: str, *, retry_in: float = 0.0, token: str | None = None,
                               refund: bool = False) -> None:
        """Give a delivery back for another try (after `retry_in` seconds). `refund`: this try
        does not count toward the attempts (GitHub asked us to wait; nothing was wrong)."""
        vals: dict[str, Any] = dict(status="processing", error=error, lease_owner=None,
                                    lease_until=utcnow() + timedelta(seconds=retry_in))
        if refund:
            vals["attempts"] = deliveries.c.attempts - 1
        await self._write(lambda conn: conn.execute(update(deliveries).where(self._held(deliveries, delivery_id, token))
                                                    .values(**vals)))

    async def renew(self, tokens: list[str]) -> set[str]:
        """Extend the leases of work still in hand (deliveries, actions, this process's board edits).
        Returns the tokens whose lease was lost (someone else took the work)."""
        def txn(conn: Connection) -> set[str]:
            until = utcnow() + self.lease
            lost: set[str] = set()
            for token in tokens:
                n = conn.execute(update(deliveries).where(deliveries.c.lease_owner == token).values(lease_until=until)).rowcount
                n += conn.execute(update(outbox).where(outbox.c.lease_owner == token, outbox.c.status == "pending")
                                  .values(lease_until=until)).rowcount
                if n == 0:
                    lost.add(token)
            conn.execute(update(campaigns).where(campaigns.c.board_lease_owner == self.owner).values(board_lease_until=until))
            return lost

        return await self._write(txn)

    async def delivery_counts(self) -> dict[str, int]:
        def txn(conn: Connection) -> dict[str, int]:
            counts = {s: n for s, n in conn.execute(select(deliveries.c.status, func.count()).group_by(deliveries.c.status))}
            counts.update({f"actions_{s}": n for s, n in
                           conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))})
            return counts

        return await self._read(txn)

    async def failures(self, limit: int = 50) -> list[dict]:
        """Failed deliveries, actions and board edits, newest first, for `bot status` and GET /status."""
        def txn(conn: Connection) -> list[dict]:
            rows = conn.execute(select(deliveries.c.id, deliveries.c.event, deliveries.c.action, deliveries.c.error,
                                       deliveries.c.attempts, deliveries.c.finished_at)
                                .where(deliveries.c.status == "failed").order_by(deliveries.c.finished_at.desc()).limit(limit))
            out = [{"type": "delivery", "id": r.id, "event": f"{r.event}.{r.action}" if r.action else r.event,
                    "error": r.error, "attempts": r.attempts, "at": r.finished_at.isoformat() if r.finished_at else None}
                   for r in rows]
            rows = conn.execute(select(outbox.c.id, outbox.c.delivery_id, outbox.c.payload, outbox.c.error, outbox.c.attempts)
                                .where(outbox.c.status == "failed").order_by(outbox.c.id.desc()).limit(limit))
            out += [{"type": "action", "id": r.id, "delivery": r.delivery_id, "action": r.payload.get("kind"),
                     "target": f"{r.payload.get('repo')}#{r.payload.get('number')}", "error": r.error, "attempts": r.attempts}
                    for r in rows]
            rows = conn.execute(select(campaigns.c.slug, campaigns.c.board_error, campaigns.c.board_failures)
                                .where(campaigns.c.board_error.is_not(None)))
            out += [{"type": "board", "id": r.slug, "error": r.board_error, "attempts": r.board_failures} for r in rows]
            return out

        return await self._read(txn)

    # ---- campaign state ---------------------------------------------------------------------------
    @staticmethod
    def _load_state(conn: Connection, campaign: str) -> CampaignState:
        cl = [Claim(campaign, r.task, r.user, Stage(r.stage), r.claimed_at, team=r.team, link=r.link)
              for r in conn.execute(select(claims).where(claims.c.campaign == campaign))]
        prs = [PullRequest(campaign, r.repo, r.number, r.author, r.title, tuple(r.tasks), r.kind, r.state, r.url,
                           part=r.part, revert=r.revert)
               for r in conn.execute(select(pulls).where(pulls.c.campaign == campaign))]
        closed = frozenset(conn.execute(select(closed_tasks.c.task).where(closed_tasks.c.campaign == campaign)).scalars())
        return make_state(cl, prs, closed)

    async def state(self, campaign: str) -> CampaignState:
        return await self._read(lambda conn: self._load_state(conn, campaign))

    def _locked_state(self, conn: Connection, campaign: str) -> tuple[int, CampaignState]:
        """Take the campaign's row lock; its state from the cache when the version matches."""
        version = conn.execute(self._for_update(select(campaigns.c.version).where(campaigns.c.slug == campaign))).scalar()
        if version is None:
            conn.execute(insert(campaigns).values(slug=campaign, board_dirty=False, board_edits=0, board_failures=0, version=0))
            version = 0
        cached = self._cache.get(campaign)
        if cached and cached[0] == version:
            return version, cached[1]
        return version, self._load_state(conn, campaign)

    @staticmethod
    def _apply(conn: Connection, campaign: str, changes: list[Change]) -> None:
        now = utcnow()
        for ch in changes:
            match ch:
                case PutClaim(claim=c):
                    _upsert(conn, claims, dict(campaign=campaign, task=c.task, user_key=c.user.lower()),
                            dict(user=c.user, stage=c.stage.value, team=c.team, link=c.link, claimed_at=c.claimed_at,
                                 updated_at=now))
                case DropClaim(task=t, user=u):
                    conn.execute(delete(claims).where(claims.c.campaign == campaign, claims.c.task == t, claims.c.user_key == u.lower()))
                case PutPull(pr=p):
                    _upsert(conn, pulls, dict(repo=p.repo, number=p.number),
                            dict(campaign=campaign, author=p.author, title=p.title, tasks=list(p.tasks), kind=p.kind,
                                 state=p.state, url=p.url, part=p.part, revert=p.revert))
                case SetTaskClosed(task=t, closed=flag):
                    conn.execute(delete(closed_tasks).where(closed_tasks.c.campaign == campaign, closed_tasks.c.task == t))
                    if flag:
                        conn.execute(insert(closed_tasks).values(campaign=campaign, task=t))

    async def commit(self, campaign: str, build: Callable[[CampaignState], Decision], *, delivery_id: str | None = None,
                     installation_id: int | None = None, token: str | None = None) -> tuple[Decision, list[OutboxItem]]:
        """Decide and record one delivery in ONE transaction under the campaign's row lock: read the
        state, `build(state)` the decision (pure), apply its changes, queue its actions (leased to the
        caller, who performs them next; if it dies first its lease runs out and any replica's sweeper
        takes them), mark the board dirty and the delivery done.

        Raises LeaseLost (and nothing is written) when the delivery's lease `token` is no longer held:
        another worker took the delivery over, and its outcome is the one that counts."""
        def txn(conn: Connection) -> tuple[Decision, list[OutboxItem], int, CampaignState]:
            now = utcnow()
            if delivery_id is not None:
                done = conn.execute(update(deliveries).where(self._held(deliveries, delivery_id, token),
                                                             deliveries.c.status.in_(["processing", "pending"]))
                                    .values(status="done", finished_at=now, lease_owner=None, lease_until=None, error=None))
                if done.rowcount != 1:
                    raise LeaseLost(delivery_id)
            version, state = self._locked_state(conn, campaign)
            decision = build(state)
            if decision.changes:
                self._apply(conn, campaign, decision.changes)
                # A fresh random stamp, not version + 1: a transaction that fails to commit leaves a
                # stamp nobody else can ever write, so the cache entry below can never be mistaken.
                version, state = secrets.randbits(62), apply_changes(state, decision.changes)
            items = []
            lease = new_token()
            for a in decision.actions:
                aid = conn.execute(insert(outbox).values(delivery_id=delivery_id, installation_id=installation_id,
                                                         payload=action_to_dict(a), kind=type(a).__name__,
                                                         target=f"{a.repo}#{a.number}", status="pending", attempts=1,
                                                         lease_owner=lease, lease_until=now + self.lease,
                                                         created_at=now).returning(outbox.c.id)).scalar_one()
                items.append(OutboxItem(aid, delivery_id, installation_id, a, 1, lease))
            vals: dict[str, Any] = {}
            if decision.changes:
                vals["version"] = version
            if decision.board or decision.changes:
                vals.update(board_dirty=True, dirty_since=func.coalesce(campaigns.c.dirty_since, now))
                if installation_id is not None:
                    vals["installation_id"] = installation_id
                if decision.board == "force":  # /refresh: edit the tracker even if the board looks unchanged
                    vals["board_hash"] = None
            if vals:
                conn.execute(update(campaigns).where(campaigns.c.slug == campaign).values(**vals))
            # Cached before the commit, while the row lock is still held: whoever takes the lock next
            # reads this stamp and finds the state ready (set after the commit, it raced with them).
            self._cache[campaign] = (version, state)
            return decision, items

        return await self._write(txn)

    async def pull_campaign(self, repo: str, number: int) -> str | None:
        """The campaign a pull request was recorded under, if any."""
        q = select(pulls.c.campaign).where(pulls.c.repo == repo, pulls.c.number == number)
        return await self._read(lambda conn: conn.execute(q).scalar())

    # ---- outbox -----------------------------------------------------------------------------------
    async def lease_actions(self, limit: int = 20) -> list[OutboxItem]:
        """Take pending actions nobody holds (retries, and those of a worker that died) and count an attempt on each."""
        def txn(conn: Connection) -> list[OutboxItem]:
            now = utcnow()
            q = (select(outbox.c.id).where(outbox.c.status == "pending",
                                           or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now))
                 .order_by(outbox.c.id).limit(limit))
            taken = list(conn.execute(self._skip_locked(q)).scalars())
            if not taken:
                return []
            token = new_token()
            rows = conn.execute(update(outbox).where(outbox.c.id.in_(taken))
                                .values(lease_owner=token, lease_until=now + self.lease, attempts=outbox.c.attempts + 1)
                                .returning(outbox.c.id, outbox.c.delivery_id, outbox.c.installation_id, outbox.c.payload,
                                           outbox.c.attempts))
            return sorted((OutboxItem(r.id, r.delivery_id, r.installation_id, action_from_dict(r.payload), r.attempts, token)
                           for r in rows), key=lambda i: i.id)

        return await self._write(txn)

    async def finish_action(self, action_id: int, status: str = "done", error: str | None = None, retry_in: float | None = None,
                            *, token: str | None = None, refund: bool = False) -> None:
        await self.finish_actions([Outcome(action_id, status, error, retry_in, token, refund)])

    async def finish_actions(self, outcomes: list[Outcome]) -> None:
        """Record what became of several actions, in one transaction."""
        if not outcomes:
            return

        def txn(conn: Connection) -> None:
            now = utcnow()
            for o in outcomes:
                vals: dict[str, Any] = dict(status=o.status, error=o.error, lease_owner=None)
                vals["lease_until"] = now + timedelta(seconds=o.retry_in) if o.retry_in is not None else None
                if o.refund:
                    vals["attempts"] = outbox.c.attempts - 1
                conn.execute(update(outbox).where(self._held(outbox, o.id, o.token)).values(**vals))

        await self._write(txn)

    async def superseded(self, item: OutboxItem) -> bool:
        """Is there a newer action of the same kind on the same target? (A checklist or label set
        from an older push must not overwrite a newer one, whatever order they are performed in.)"""
        a = item.action
        q = select(outbox.c.id).where(outbox.c.kind == type(a).__name__, outbox.c.target == f"{a.repo}#{a.number}",
                                      outbox.c.id > item.id, outbox.c.status != "failed").limit(1)
        return await self._read(lambda conn: conn.execute(q).first() is not None)

    async def bot_comment(self, repo: str, number: int, role: str) -> tuple[int, str] | None:
        q = select(bot_comments.c.comment_id, bot_comments.c.body_hash).where(
            bot_comments.c.repo == repo, bot_comments.c.number == number, bot_comments.c.role == role)
        row = await self._read(lambda conn: conn.execute(q).first())
        return (row.comment_id, row.body_hash) if row else None

    async def put_bot_comment(self, repo: str, number: int, role: str, comment_id: int, body: str) -> None:
        await self._write(lambda conn: _upsert(conn, bot_comments, dict(repo=repo, number=number, role=role),
                                               dict(comment_id=comment_id, body_hash=body_hash(body))))

    # ---- board ------------------------------------------------------------------------------------
    async def take_dirty_board(self, older_than: float) -> str | None:
        """Lease one campaign whose board changed at least `older_than` seconds ago (one replica at a time).
        Clears the dirty flag first, so changes made while the edit is in flight mark it dirty again."""
        def txn(conn: Connection) -> str | None:
            now = utcnow()
            q = (select(campaigns.c.slug).where(campaigns.c.board_dirty.is_(True),
                                                campaigns.c.dirty_since <= now - timedelta(seconds=older_than),
                                                or_(campaigns.c.board_lease_until.is_(None), campaigns.c.board_lease_until < now))
                 .order_by(campaigns.c.dirty_since).limit(1))
            slug = conn.execute(self._skip_locked(q)).scalar()
            if slug is not None:
                conn.execute(update(campaigns).where(campaigns.c.slug == slug)
                             .values(board_dirty=False, dirty_since=None, board_lease_owner=self.owner,
                                     board_lease_until=now + self.lease))
            return slug

        return await self._write(txn)

    async def release_board(self, slug: str, *, edited_hash: str | None = None, failed: bool = False,
                            error: str | None = None) -> None:
        """End a board edit. `edited_hash`: the board now on the tracker. `failed`: try again later
        (backing off). `error`: GitHub refused for good; recorded and shown, not retried until the
        next change or /refresh."""
        def txn(conn: Connection) -> None:
            vals: dict[str, Any] = dict(board_lease_owner=None, board_lease_until=None)
            if edited_hash is not None:
                vals.update(board_hash=edited_hash, board_edits=campaigns.c.board_edits + 1, board_error=None, board_failures=0)
            if failed:
                failures = conn.execute(select(campaigns.c.board_failures).where(campaigns.c.slug == slug)).scalar() or 0
                wait = min(300.0, 2.0 ** min(int(failures), 10))
                vals.update(board_dirty=True, dirty_since=utcnow() + timedelta(seconds=wait),
                            board_failures=campaigns.c.board_failures + 1)
            if error is not None:
                vals.update(board_error=error, board_failures=campaigns.c.board_failures + 1)
            conn.execute(update(campaigns).where(campaigns.c.slug == slug, campaigns.c.board_lease_owner == self.owner)
                         .values(**vals))

        await self._write(txn)

    async def mark_board_dirty(self, slug: str) -> None:
        await self._write(lambda conn: conn.execute(
            update(campaigns).where(campaigns.c.slug == slug)
            .values(board_dirty=True, dirty_since=func.coalesce(campaigns.c.dirty_since, utcnow()))))

    async def board_info(self, slug: str) -> dict:
        row = await self._read(lambda conn: conn.execute(select(campaigns).where(campaigns.c.slug == slug)).first())
        return dict(row._mapping) if row else {}

    async def pending_work(self) -> int:
        """Deliveries not yet done plus actions not yet performed plus boards to write (0 means idle)."""
        def txn(conn: Connection) -> int:
            d = conn.execute(select(func.count()).select_from(deliveries)
                             .where(deliveries.c.status.in_(["pending", "processing"]))).scalar_one()
            a = conn.execute(select(func.count()).select_from(outbox).where(outbox.c.status == "pending")).scalar_one()
            b = conn.execute(select(func.count()).select_from(campaigns).where(
                or_(campaigns.c.board_dirty.is_(True), campaigns.c.board_lease_owner.is_not(None)))).scalar_one()
            return d + a + b

        return await self._read(txn)
