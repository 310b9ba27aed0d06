"""The store: deliveries (the durable inbox), claims, pull requests, the outbox of GitHub actions,
the bot's own comments, and per-campaign board bookkeeping. SQLAlchemy 2 Core, async; one
schema on SQLite (the embedded default) and PostgreSQL (several replicas).

Guarantees the rest of the bot relies on:
- `add_delivery` is idempotent on the delivery id: a redelivery is acknowledged, never stored twice.
- `lease_delivery` hands a pending delivery to exactly one worker of any replica (row lock with
  SKIP LOCKED on PostgreSQL; SQLite is single-process and serialises writers). A worker that
  dies holding a lease loses it after `lease_seconds`, and the delivery is retaken.
- `commit_decision` applies a delivery's state changes, queues its actions and marks it done in
  ONE transaction, under the campaign's row lock: a delivery takes effect exactly once, and
  concurrent claims on one campaign are decided one after the other.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, AsyncIterator

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
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.actions import (
    Action,
    Change,
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


class _WriteGate:
    """SQLite takes one writer at a time: writers queue here (in order) instead of failing with
    "database is locked". Urgent writers (acknowledging deliveries) go before the queue."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._urgent = 0

    @contextlib.asynccontextmanager
    async def hold(self, urgent: bool = False) -> AsyncIterator[None]:
        if urgent:
            self._urgent += 1
            try:
                await self._lock.acquire()
            finally:
                self._urgent -= 1
        else:
            while True:
                await self._lock.acquire()
                if not self._urgent:
                    break
                self._lock.release()  # let the urgent writer waiting behind us in
                await asyncio.sleep(0)
        try:
            yield
        finally:
            self._lock.release()


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


class Store:
    def __init__(self, url: str, *, lease_seconds: float = 60.0, echo: bool = False):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=20, max_overflow=20, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self.lease = timedelta(seconds=lease_seconds)
        self.owner = uuid.uuid4().hex[:16]
        # SQLite allows one writer at a time; queue writers here instead of failing on "database is locked".
        self._gate = _WriteGate() if self.is_sqlite else None
        # Campaign states by version, so a decision does not reload every claim (see campaign_txn).
        self._cache: dict[str, tuple[int, CampaignState]] = {}
        self._open: dict[int, dict] = {}  # id(conn) -> the campaign transaction in progress on it
        self._intake: list[tuple[dict, asyncio.Future]] = []
        self._intake_task: asyncio.Task | None = None
        if self.is_sqlite:
            from sqlalchemy import event

            @event.listens_for(self.engine.sync_engine, "connect")
            def _pragmas(dbapi_conn, _record):  # noqa: ANN001
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()

    # ---- lifecycle ------------------------------------------------------------------------
    async def init(self, campaign_slugs: list[str] = ()) -> None:
        """Bring the schema up to date (Alembic migrations) and register the campaigns."""
        from bot.migrate import upgrade

        await upgrade(self.engine)
        async with self.write() as conn:
            existing = set((await conn.execute(select(campaigns.c.slug))).scalars())
            for slug in campaign_slugs:
                if slug not in existing:
                    await conn.execute(insert(campaigns).values(slug=slug, board_dirty=False, board_edits=0, board_failures=0, version=0))

    async def close(self) -> None:
        await self.engine.dispose()

    @contextlib.asynccontextmanager
    async def write(self, urgent: bool = False) -> AsyncIterator[AsyncConnection]:
        """A write transaction (serialised in-process on SQLite; `urgent` ones go first)."""
        if self._gate is None:
            async with self.engine.begin() as conn:
                yield conn
        else:
            async with self._gate.hold(urgent):
                async with self.engine.begin() as conn:
                    yield conn

    # ---- inbox ----------------------------------------------------------------------------
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

    async def _drain_intake(self) -> None:
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        while self._intake:
            batch, self._intake = self._intake, []
            try:
                async with self.write(urgent=True) as conn:
                    results = []
                    for values, _ in batch:
                        res = await conn.execute(dialect_insert(deliveries).values(**values)
                                                 .on_conflict_do_nothing(index_elements=["id"]))
                        results.append(res.rowcount == 1)
            except Exception as exc:  # nothing of the group was stored: each request answers an error
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for (_, fut), stored in zip(batch, results):
                if not fut.done():
                    fut.set_result(stored)

    async def lease_delivery(self) -> Delivery | None:
        """Take one delivery to process: pending, or held by a worker whose lease ran out; never one
        whose subject (a pull request) has an earlier delivery still in hand."""
        now = utcnow()
        busy = deliveries.alias("busy")
        async with self.write() as conn:
            q = (select(deliveries.c.id).where(
                    or_(deliveries.c.status == "pending",
                        and_(deliveries.c.status == "processing", deliveries.c.lease_until < now)),
                    or_(deliveries.c.subject.is_(None),
                        ~select(busy.c.id).where(busy.c.subject == deliveries.c.subject, busy.c.id != deliveries.c.id,
                                                 or_(and_(busy.c.status == "processing", busy.c.lease_until >= now),
                                                     and_(busy.c.status.in_(["pending", "processing"]),
                                                          busy.c.received_at < deliveries.c.received_at))).exists()))
                 .order_by(deliveries.c.received_at).limit(1))
            if not self.is_sqlite:
                q = q.with_for_update(skip_locked=True)
            row_id = (await conn.execute(q)).scalar()
            if row_id is None:
                return None
            token = new_token()
            row = (await conn.execute(
                update(deliveries).where(deliveries.c.id == row_id)
                .values(status="processing", lease_owner=token, lease_until=now + self.lease, attempts=deliveries.c.attempts + 1)
                .returning(deliveries.c.id, deliveries.c.event, deliveries.c.payload, deliveries.c.attempts))).one()
        return Delivery(row.id, row.event, json.loads(row.payload), row.attempts, token)

    @staticmethod
    def _held(table: Table, row_id: Any, token: str | None):
        cond = table.c.id == row_id
        return cond if token is None else and_(cond, table.c.lease_owner == token)

    async def finish_delivery(self, delivery_id: str, status: str, error: str | None = None, *, token: str | None = None) -> None:
        async with self.write() as conn:
            await conn.execute(update(deliveries).where(self._held(deliveries, delivery_id, token))
                               .values(status=status, error=error, finished_at=utcnow(), lease_owner=None, lease_until=None))

    async def release_delivery(self, delivery_id: str, error: str, *, retry_in: float = 0.0, token: str | None = None,
                               refund: bool = False) -> None:
        """Give a delivery back for another try (after `retry_in` seconds). `refund`: this try
        does not count toward the attempts (GitHub asked us to wait; nothing was wrong)."""
        vals: dict[str, Any] = dict(status="processing", error=error, lease_owner=None,
                                    lease_until=utcnow() + timedelta(seconds=retry_in))
        if refund:
            vals["attempts"] = deliveries.c.attempts - 1
        async with self.write() as conn:
            await conn.execute(update(deliveries).where(self._held(deliveries, delivery_id, token)).values(**vals))

    async def renew(self, tokens: list[str]) -> set[str]:
        """Extend the leases of work still in hand (deliveries, actions, this process's board edits).
        Returns the tokens whose lease was lost (someone else took the work)."""
        until = utcnow() + self.lease
        lost: set[str] = set()
        async with self.write() as conn:
            for token in tokens:
                n = (await conn.execute(update(deliveries).where(deliveries.c.lease_owner == token)
                                        .values(lease_until=until))).rowcount
                n += (await conn.execute(update(outbox).where(outbox.c.lease_owner == token, outbox.c.status == "pending")
                                         .values(lease_until=until))).rowcount
                if n == 0:
                    lost.add(token)
            await conn.execute(update(campaigns).where(campaigns.c.board_lease_owner == self.owner)
                               .values(board_lease_until=until))
        return lost

    async def delivery_counts(self) -> dict[str, int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(deliveries.c.status, func.count()).group_by(deliveries.c.status))
            counts = {s: n for s, n in rows}
            rows = await conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
            counts.update({f"actions_{s}": n for s, n in rows})
            return counts

    async def failures(self, limit: int = 50) -> list[dict]:
        """Failed deliveries and failed actions, newest first, for `bot status` and GET /status."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(deliveries.c.id, deliveries.c.event, deliveries.c.action, deliveries.c.error,
                                             deliveries.c.attempts, deliveries.c.finished_at)
                                      .where(deliveries.c.status == "failed").order_by(deliveries.c.finished_at.desc()).limit(limit))
            out = [{"type": "delivery", "id": r.id, "event": f"{r.event}.{r.action}" if r.action else r.event,
                    "error": r.error, "attempts": r.attempts, "at": r.finished_at.isoformat() if r.finished_at else None}
                   for r in rows]
            rows = await conn.execute(select(outbox.c.id, outbox.c.delivery_id, outbox.c.payload, outbox.c.error, outbox.c.attempts)
                                      .where(outbox.c.status == "failed").order_by(outbox.c.id.desc()).limit(limit))
            out += [{"type": "action", "id": r.id, "delivery": r.delivery_id, "action": r.payload.get("kind"),
                     "target": f"{r.payload.get('repo')}#{r.payload.get('number')}", "error": r.error, "attempts": r.attempts}
                    for r in rows]
            rows = await conn.execute(select(campaigns.c.slug, campaigns.c.board_error, campaigns.c.board_failures)
                                      .where(campaigns.c.board_error.is_not(None)))
            out += [{"type": "board", "id": r.slug, "error": r.board_error, "attempts": r.board_failures} for r in rows]
            return out

    # ---- campaign state -------------------------------------------------------------------------
    async def state(self, campaign: str, conn: AsyncConnection | None = None) -> CampaignState:
        if conn is None:
            async with self.engine.connect() as c:
                return await self.state(campaign, c)
        crow = await conn.execute(select(claims).where(claims.c.campaign == campaign))
        cl = [Claim(campaign, r.task, r.user, Stage(r.stage), r.claimed_at, team=r.team, link=r.link) for r in crow]
        prow = await conn.execute(select(pulls).where(pulls.c.campaign == campaign))
        prs = [PullRequest(campaign, r.repo, r.number, r.author, r.title, tuple(r.tasks), r.kind, r.state, r.url,
                           part=r.part, revert=r.revert) for r in prow]
        closed = frozenset((await conn.execute(select(closed_tasks.c.task).where(closed_tasks.c.campaign == campaign))).scalars())
        return make_state(cl, prs, closed)

    @contextlib.asynccontextmanager
    async def campaign_txn(self, campaign: str) -> AsyncIterator[tuple[AsyncConnection, CampaignState]]:
        """A write transaction holding the campaign's row lock, with its current state.

        The state comes from the cache when the campaign's version (bumped by every change, by
        any replica) is the one cached; changes applied in the transaction update the cache once
        it commits."""
        async with self.write() as conn:
            q = select(campaigns.c.version).where(campaigns.c.slug == campaign)
            if not self.is_sqlite:
                q = q.with_for_update()
            version = (await conn.execute(q)).scalar()
            if version is None:
                await conn.execute(insert(campaigns).values(slug=campaign, board_dirty=False, board_edits=0, board_failures=0, version=0))
                version = 0
            cached = self._cache.get(campaign)
            state = cached[1] if cached and cached[0] == version else await self.state(campaign, conn)
            box = {"campaign": campaign, "version": version, "state": state}
            self._open[id(conn)] = box
            try:
                yield conn, state
            finally:
                self._open.pop(id(conn), None)
        self._cache[campaign] = (box["version"], box["state"])  # reached only when the transaction committed

    async def apply(self, conn: AsyncConnection, campaign: str, changes: list[Change]) -> None:
        if not changes:
            return
        now = utcnow()
        await conn.execute(update(campaigns).where(campaigns.c.slug == campaign).values(version=campaigns.c.version + 1))
        box = self._open.get(id(conn))
        if box is not None and box["campaign"] == campaign:
            box["version"] += 1
            box["state"] = apply_changes(box["state"], changes)
        for ch in changes:
            match ch:
                case PutClaim(claim=c):
                    key = dict(campaign=campaign, task=c.task, user_key=c.user.lower())
                    vals = dict(user=c.user, stage=c.stage.value, team=c.team, link=c.link, claimed_at=c.claimed_at, updated_at=now)
                    res = await conn.execute(update(claims).where(*(claims.c[k] == v for k, v in key.items())).values(**vals))
                    if res.rowcount == 0:
                        await conn.execute(insert(claims).values(**key, **vals))
                case DropClaim(task=t, user=u):
                    await conn.execute(delete(claims).where(claims.c.campaign == campaign, claims.c.task == t,
                                                            claims.c.user_key == u.lower()))
                case PutPull(pr=p):
                    vals = dict(campaign=campaign, author=p.author, title=p.title, tasks=list(p.tasks), kind=p.kind,
                                state=p.state, url=p.url, part=p.part, revert=p.revert)
                    res = await conn.execute(update(pulls).where(pulls.c.repo == p.repo, pulls.c.number == p.number).values(**vals))
                    if res.rowcount == 0:
                        await conn.execute(insert(pulls).values(repo=p.repo, number=p.number, **vals))
                case SetTaskClosed(task=t, closed=flag):
                    await conn.execute(delete(closed_tasks).where(closed_tasks.c.campaign == campaign, closed_tasks.c.task == t))
                    if flag:
                        await conn.execute(insert(closed_tasks).values(campaign=campaign, task=t))

    async def commit_decision(self, conn: AsyncConnection, campaign: str, delivery_id: str | None, installation_id: int | None,
                              changes: list[Change], actions: list[Action], board: bool | str, *,
                              token: str | None = None) -> list[OutboxItem]:
        """Inside `campaign_txn`: apply changes, queue actions, mark the board dirty, mark the delivery
        done. Returns the queued actions, already leased to the caller, who performs them next (if it
        dies first, its lease runs out and the sweeper of any replica takes them). Raises LeaseLost (rolling everything back) when the delivery's lease
        `token` is no longer held: another worker took it over and its outcome is the one that counts."""
        if delivery_id is not None:
            done = await conn.execute(update(deliveries).where(self._held(deliveries, delivery_id, token),
                                                               deliveries.c.status.in_(["processing", "pending"]))
                                      .values(status="done", finished_at=utcnow(), lease_owner=None, lease_until=None, error=None))
            if done.rowcount != 1:
                raise LeaseLost(delivery_id)
        await self.apply(conn, campaign, changes)
        now = utcnow()
        items = []
        lease = new_token()
        for a in actions:
            res = await conn.execute(insert(outbox).values(delivery_id=delivery_id, installation_id=installation_id,
                                                           payload=action_to_dict(a), kind=type(a).__name__,
                                                           target=f"{a.repo}#{a.number}", status="pending", attempts=1,
                                                           lease_owner=lease, lease_until=now + self.lease,
                                                           created_at=now).returning(outbox.c.id))
            items.append(OutboxItem(res.scalar_one(), delivery_id, installation_id, a, 1, lease))
        if board or changes:
            vals: dict[str, Any] = dict(board_dirty=True, dirty_since=func.coalesce(campaigns.c.dirty_since, now))
            if installation_id is not None:
                vals["installation_id"] = installation_id
            if board == "force":  # /refresh: edit the tracker even if the board looks unchanged
                vals["board_hash"] = None
            await conn.execute(update(campaigns).where(campaigns.c.slug == campaign).values(**vals))
        return items

    # ---- outbox -------------------------------------------------------------------------------
    async def lease_actions(self, ids: list[int] | None = None, limit: int = 20) -> list[OutboxItem]:
        """Take pending actions (the given ids, or any whose lease ran out) and count an attempt on each."""
        now = utcnow()
        async with self.write() as conn:
            q = select(outbox.c.id).where(outbox.c.status == "pending",
                                          or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now))
            if ids is not None:
                q = q.where(outbox.c.id.in_(ids))
            q = q.order_by(outbox.c.id).limit(limit)
            if not self.is_sqlite:
                q = q.with_for_update(skip_locked=True)
            taken = list((await conn.execute(q)).scalars())
            if not taken:
                return []
            token = new_token()
            rows = await conn.execute(update(outbox).where(outbox.c.id.in_(taken))
                                      .values(lease_owner=token, lease_until=now + self.lease, attempts=outbox.c.attempts + 1)
                                      .returning(outbox.c.id, outbox.c.delivery_id, outbox.c.installation_id, outbox.c.payload,
                                                 outbox.c.attempts))
            items = [OutboxItem(r.id, r.delivery_id, r.installation_id, action_from_dict(r.payload), r.attempts, token)
                     for r in rows]
        return sorted(items, key=lambda i: i.id)

    async def finish_action(self, action_id: int, status: str = "done", error: str | None = None, retry_in: float | None = None,
                            *, token: str | None = None, refund: bool = False) -> None:
        await self.finish_actions([Outcome(action_id, status, error, retry_in, token, refund)])

    async def finish_actions(self, outcomes: list["Outcome"]) -> None:
        """Record what became of several actions, in one transaction."""
        if not outcomes:
            return
        now = utcnow()
        async with self.write() as conn:
            for o in outcomes:
                vals: dict[str, Any] = dict(status=o.status, error=o.error, lease_owner=None)
                vals["lease_until"] = now + timedelta(seconds=o.retry_in) if o.retry_in is not None else None
                if o.refund:
                    vals["attempts"] = outbox.c.attempts - 1
                await conn.execute(update(outbox).where(self._held(outbox, o.id, o.token)).values(**vals))

    async def superseded(self, item: OutboxItem) -> bool:
        """Is there a newer action of the same kind on the same target? (A checklist or label set
        from an older push must not overwrite a newer one, whatever order they are performed in.)"""
        a = item.action
        async with self.engine.connect() as conn:
            q = select(outbox.c.id).where(outbox.c.kind == type(a).__name__, outbox.c.target == f"{a.repo}#{a.number}",
                                          outbox.c.id > item.id, outbox.c.status != "failed").limit(1)
            return (await conn.execute(q)).first() is not None

    async def bot_comment(self, repo: str, number: int, role: str) -> tuple[int, str] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(bot_comments.c.comment_id, bot_comments.c.body_hash).where(
                bot_comments.c.repo == repo, bot_comments.c.number == number, bot_comments.c.role == role))).first()
            return (row.comment_id, row.body_hash) if row else None

    async def put_bot_comment(self, repo: str, number: int, role: str, comment_id: int, body: str) -> None:
        async with self.write() as conn:
            res = await conn.execute(update(bot_comments).where(bot_comments.c.repo == repo, bot_comments.c.number == number,
                                                                bot_comments.c.role == role)
                                     .values(comment_id=comment_id, body_hash=body_hash(body)))
            if res.rowcount == 0:
                await conn.execute(insert(bot_comments).values(repo=repo, number=number, role=role, comment_id=comment_id,
                                                               body_hash=body_hash(body)))

    # ---- board -------------------------------------------------------------------------------
    async def take_dirty_board(self, older_than: float) -> str | None:
        """Lease one campaign whose board changed at least `older_than` seconds ago (one replica at a time).
        Clears the dirty flag first, so changes made while the edit is in flight mark it dirty again."""
        now = utcnow()
        async with self.write() as conn:
            q = (select(campaigns.c.slug).where(campaigns.c.board_dirty.is_(True),
                                                campaigns.c.dirty_since <= now - timedelta(seconds=older_than),
                                                or_(campaigns.c.board_lease_until.is_(None), campaigns.c.board_lease_until < now))
                 .order_by(campaigns.c.dirty_since).limit(1))
            if not self.is_sqlite:
                q = q.with_for_update(skip_locked=True)
            slug = (await conn.execute(q)).scalar()
            if slug is None:
                return None
            await conn.execute(update(campaigns).where(campaigns.c.slug == slug)
                               .values(board_dirty=False, dirty_since=None, board_lease_owner=self.owner,
                                       board_lease_until=now + self.lease))
            return slug

    async def release_board(self, slug: str, *, edited_hash: str | None = None, failed: bool = False,
                            error: str | None = None) -> None:
        """End a board edit. `edited_hash`: the board now on the tracker. `failed`: try again later
        (backing off). `error`: GitHub refused for good; recorded and shown, not retried until the
        next change or /refresh."""
        vals: dict[str, Any] = dict(board_lease_owner=None, board_lease_until=None)
        if edited_hash is not None:
            vals.update(board_hash=edited_hash, board_edits=campaigns.c.board_edits + 1, board_error=None, board_failures=0)
        if failed:
            info = await self.board_info(slug)
            wait = min(300.0, 2.0 ** min(int(info.get("board_failures") or 0), 10))
            vals.update(board_dirty=True, dirty_since=utcnow() + timedelta(seconds=wait),
                        board_failures=campaigns.c.board_failures + 1)
        if error is not None:
            vals.update(board_error=error, board_failures=campaigns.c.board_failures + 1)
        async with self.write() as conn:
            await conn.execute(update(campaigns).where(campaigns.c.slug == slug, campaigns.c.board_lease_owner == self.owner)
                               .values(**vals))

    async def mark_board_dirty(self, slug: str) -> None:
        now = utcnow()
        async with self.write() as conn:
            await conn.execute(update(campaigns).where(campaigns.c.slug == slug)
                               .values(board_dirty=True, dirty_since=func.coalesce(campaigns.c.dirty_since, now)))

    async def board_info(self, slug: str) -> dict:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(campaigns).where(campaigns.c.slug == slug))).first()
            return dict(row._mapping) if row else {}

    async def pending_work(self) -> int:
        """Deliveries not yet done plus actions not yet performed plus dirty boards (0 means idle)."""
        async with self.engine.connect() as conn:
            d = (await conn.execute(select(func.count()).select_from(deliveries)
                                    .where(deliveries.c.status.in_(["pending", "processing"])))).scalar_one()
            a = (await conn.execute(select(func.count()).select_from(outbox).where(outbox.c.status == "pending"))).scalar_one()
            b = (await conn.execute(select(func.count()).select_from(campaigns).where(
                or_(campaigns.c.board_dirty.is_(True), campaigns.c.board_lease_owner.is_not(None))))).scalar_one()
            return d + a + b
