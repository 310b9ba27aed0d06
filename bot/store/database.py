"""The database runner: the engine, and where transactions run.

Every transaction is one synchronous function over a SQLAlchemy Connection, run off the event
loop: on SQLite in one database thread (SQLite has one writer; urgent transactions, the
acknowledgements of deliveries, go first), on PostgreSQL on a small pool of threads with
psycopg, so a transaction holding a row lock never waits for a busy event loop. `DATABASE_URL`
may name the async drivers (`sqlite+aiosqlite`, `postgresql+asyncpg`); their synchronous
counterparts are used.

The hot path's statements (intake, the group commit) are `Prepared` writes and `Query` reads:
compiled once per dialect and run on the driver's cursor by `run_writes` / `run_reads`, which
on PostgreSQL send a transaction's statements in one pipeline (a round trip for the lot).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Table, bindparam, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot import jsonio


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
            except BaseException as exc:  # handed to the waiting coroutine
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


def dialect_insert(table: Table, dialect: str):
    """The dialect's INSERT of `table` (SQLite's or PostgreSQL's: both know ON CONFLICT)."""
    if dialect == "sqlite":
        return sqlite_insert(table)
    return pg_insert(table)


def upsert(conn: Connection, table: Table, key: dict, values: dict) -> None:
    """Insert the row, or update it when its primary key exists: one statement (INSERT ... ON
    CONFLICT DO UPDATE) on both SQLite and PostgreSQL."""
    conn.execute(
        dialect_insert(table, conn.dialect.name)
        .values(**key, **values)
        .on_conflict_do_update(index_elements=list(key), set_=values)
    )


@functools.cache
def upsert_statement(dialect: str, table: Table, key: tuple[str, ...], columns: tuple[str, ...]):
    stmt = dialect_insert(table, dialect)
    return stmt.on_conflict_do_update(index_elements=list(key), set_={c: stmt.excluded[c] for c in columns if c not in key})


class Prepared:
    """A write statement compiled once per dialect (and set of columns given) and run on the
    driver's own cursor by `run_writes`: no compilation, parameter objects or result objects per
    call, only SQLAlchemy's type processing of each value (so what is stored is what `execute`
    stores). `build(dialect name)` makes the statement; `returning`: it returns one row per row
    given (INSERT ... RETURNING)."""

    def __init__(self, build: Callable[[str], Any], *, returning: bool = False) -> None:
        self._build = build
        self.returning = returning
        self._compiled: dict[tuple[str, tuple[str, ...]], tuple[str, list[tuple[str, Any, Any]], bool]] = {}

    def compiled(self, dialect: Any, keys: tuple[str, ...]) -> tuple[str, list[tuple[str, Any, Any]], bool]:
        """(SQL, [(parameter name, value processor or None, value when a row has none)], positional)."""
        hit = self._compiled.get((dialect.name, keys))
        if hit is None:
            stmt = self._build(dialect.name)
            compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
            params = _binds(compiled, dialect, stmt.table if stmt.is_insert else None)
            hit = self._compiled[(dialect.name, keys)] = (compiled.string, params, bool(compiled.positional))
        return hit


_REQUIRED = bindparam("x", required=True).value


def _binds(compiled: Any, dialect: Any, table: Any = None) -> list[tuple[str, Any, Any]]:
    """The parameters a compiled statement takes, in the driver's order: (name, SQLAlchemy's value
    processor for its type or None, the value when none is given: the statement's own literal, or
    for an INSERT into `table` the column's Python-side default, which `execute` would add)."""
    names = compiled.positiontup if compiled.positional else [n for n in compiled.binds if f"%({n})s" in compiled.string]
    params = []
    for name in names or ():
        bind = compiled.binds[name]
        default: Any = bind.value if bind.value is not _REQUIRED else None
        column = table.c.get(name) if table is not None else None
        if default is None and column is not None and column.default is not None and column.default.is_scalar:
            default = column.default.arg
        params.append((name, bind.type.dialect_impl(dialect).bind_processor(dialect), default))
    return params


def _values(params: list[tuple[str, Any, Any]], given: dict) -> list[Any]:
    """The driver's values for one set of `given` parameters (see `_binds`)."""
    out = []
    for name, process, default in params:
        value = given.get(name, default)
        out.append(process(value) if process is not None else value)
    return out


class Query:
    """A read for `run_reads`. `build(dialect name)` makes it; on PostgreSQL a list parameter is
    an array (`= ANY(:ids)`), so the statement is compiled once and sent with others in one
    pipeline; on SQLite (no round trips to save) it runs through SQLAlchemy as any statement."""

    def __init__(self, build: Callable[[str], Any]) -> None:
        self._build = build
        self._stmts: dict[str, Any] = {}
        self._compiled: dict[str, tuple[str, list[tuple[str, Any, Any]], list[Any]]] = {}

    def statement(self, dialect: str) -> Any:
        stmt = self._stmts.get(dialect)
        if stmt is None:
            stmt = self._stmts[dialect] = self._build(dialect)
        return stmt

    def compiled(self, dialect: Any) -> tuple[str, list[tuple[str, Any, Any]], list[Any]]:
        """(SQL, [(parameter name, processor, value when not given)], [result column processor])."""
        hit = self._compiled.get(dialect.name)
        if hit is None:
            stmt = self.statement(dialect.name)
            compiled = stmt.compile(dialect=dialect)
            params = _binds(compiled, dialect)
            results = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in stmt.selected_columns]
            hit = self._compiled[dialect.name] = (compiled.string, params, results)
        return hit


def run_reads(conn: Connection, queries: list[tuple[Query, dict]]) -> list[list[tuple]]:
    """The rows of each query (tuples), run in the connection's transaction: on PostgreSQL in one
    pipeline (with the transaction's BEGIN: one round trip for all of them)."""
    dialect = conn.dialect
    if dialect.name == "sqlite":
        return [[tuple(r) for r in conn.execute(q.statement("sqlite"), params)] for q, params in queries]
    raw: Any = conn.connection.dbapi_connection
    cursors = []
    with raw.pipeline() as pipeline:
        for q, given in queries:
            sql, params, results = q.compiled(dialect)
            cur = raw.cursor()
            cur.execute(sql, dict(zip([n for n, _, _ in params], _values(params, given))))
            cursors.append((cur, results))
        pipeline.sync()
        out = []
        for cur, results in cursors:
            rows = cur.fetchall()
            if any(results):
                rows = [tuple(p(v) if p is not None else v for p, v in zip(results, r)) for r in rows]
            out.append([tuple(r) for r in rows])
            cur.close()
    return out


def run_writes(conn: Connection, steps: list[tuple[Prepared, list[dict]]], *, commit: bool = False) -> list[list[Any]]:
    """Run each prepared statement over its rows, in order, in the connection's transaction: one
    executemany each on SQLite; on PostgreSQL all of them in one pipeline (one round trip for the
    lot, instead of one per statement). Returns, per step, the first column of each returned row
    (for `returning` steps; [] for the others). `commit`: these are the transaction's last words;
    on PostgreSQL its COMMIT goes in the same pipeline (SQLAlchemy's own commit then has nothing
    left to do); on SQLite the transaction commits as usual."""
    dialect = conn.dialect
    raw: Any = conn.connection.dbapi_connection
    plans: list[tuple[Prepared, str, list[Any]]] = []
    for prep, rows in steps:
        if not rows:
            plans.append((prep, "", []))
            continue
        sql, params, positional = prep.compiled(dialect, tuple(rows[0]))
        names = [n for n, _, _ in params]
        values = [tuple(_values(params, row)) if positional else dict(zip(names, _values(params, row))) for row in rows]
        plans.append((prep, sql, values))
    out: list[list[Any]] = []
    if dialect.name == "sqlite":
        cur = raw.cursor()
        for prep, sql, values in plans:
            got: list[Any] = []
            if values and prep.returning:  # (sqlite3's executemany returns no rows)
                for v in values:
                    cur.execute(sql, v)
                    got += [r[0] for r in cur.fetchall()]
            elif values:
                cur.executemany(sql, values)
            out.append(got)
        cur.close()
        return out
    cursors = []
    with raw.pipeline():
        for prep, sql, values in plans:
            cur = raw.cursor()
            if values:
                cur.executemany(sql, values, returning=prep.returning)
            cursors.append((prep, cur, bool(values)))
        if commit:
            raw.commit()
    for prep, cur, ran in cursors:
        got = []
        if ran and prep.returning:
            got = [r[0] for _ in cur.results() for r in cur.fetchall()]
        out.append(got)
        cur.close()
    return out


class _Checkpointer:
    """SQLite: copies the write-ahead log into the database file once a second, in a thread of its
    own (a passive checkpoint never blocks the writer). Left to the writer, a commit now and then
    paid for the checkpoint and its fsync: tens to hundreds of milliseconds during which no
    delivery could be acknowledged."""

    EVERY = 1.0  # seconds

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hackathon-bot-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.EVERY):
            try:
                with self._engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:  # a busy or vanished file: the next round tries again
                continue

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


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


def sync_url(url: str) -> str:
    """The synchronous driver for a configured URL (the async names are accepted for compatibility)."""
    for async_name, sync_name in (
        ("sqlite+aiosqlite", "sqlite+pysqlite"),
        ("postgresql+asyncpg", "postgresql+psycopg"),
        ("postgresql://", "postgresql+psycopg://"),
    ):
        if url.startswith(async_name):
            return sync_name + url[len(async_name) :]
    return url


_JSON: dict[str, Any] = {"json_serializer": jsonio.dumps, "json_deserializer": jsonio.loads}  # JSON columns


class Database:
    """An engine and its runner: `write` and `read` run one transaction off the event loop."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._runner: _DbThread | _DbPool
        self._conn: Connection | None = None  # SQLite: the database thread's connection (see `_own`)
        if self.is_sqlite:
            self.engine = create_engine(
                sync_url(url), echo=echo, connect_args={"timeout": 30, "check_same_thread": False}, **_JSON
            )
            self._runner = _DbThread("hackathon-bot-db")

            @event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn, _record):
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer below does it, off the writer
                cur.close()

            self._checkpointer = _Checkpointer(self.engine)
        else:
            # No ping before each transaction (a round trip each, a quarter of the CPU per delivery):
            # after a server restart the first transaction on a stale connection fails, SQLAlchemy
            # then drops every pooled connection, and the failed work is retried (intake retries
            # a failed group row by row at once; deliveries and actions are retried later).
            self.engine = create_engine(sync_url(url), echo=echo, pool_size=10, max_overflow=4, pool_pre_ping=False, **_JSON)
            self._runner = _DbPool(threads=2)

    def _own(self) -> Connection:
        """SQLite: the database thread's one connection, kept from one transaction to the next (a
        pool check-out per transaction cost more than most of them); opened again after a failure."""
        conn = self._conn
        if conn is None or conn.closed or conn.invalidated:
            conn = self._conn = self.engine.connect()
        return conn

    def _in_transaction(self, fn: Callable[[Connection], Any]) -> Any:
        if not self.is_sqlite:
            with self.engine.begin() as conn:
                return fn(conn)
        conn = self._own()
        try:
            with conn.begin():
                return fn(conn)
        except BaseException:
            self._conn = None  # whatever went wrong, the next transaction starts on a fresh connection
            conn.close()
            raise

    async def write(self, fn: Callable[[Connection], Any], *, urgent: bool = False) -> Any:
        """Run `fn(conn)` in one write transaction."""
        return await self._runner.submit(functools.partial(self._in_transaction, fn), urgent)

    async def read(self, fn: Callable[[Connection], Any], *, urgent: bool = False) -> Any:
        """Run `fn(conn)` for reading (`urgent`: ahead of the workers' transactions, as `write`)."""
        return await self._runner.submit(functools.partial(self._in_transaction, fn), urgent)

    def for_update(self, q):
        """`q` with a row lock (SQLite's single writer needs none)."""
        return q if self.is_sqlite else q.with_for_update()

    def skip_locked(self, q):
        """`q` taking only rows nobody else holds (several replicas share the tables)."""
        return q if self.is_sqlite else q.with_for_update(skip_locked=True)

    def insert_ignoring(self, table: Table, values: dict, key: list[str]):
        """INSERT ... ON CONFLICT DO NOTHING RETURNING the key (None when the row existed)."""
        return (
            dialect_insert(table, self.engine.dialect.name)
            .values(**values)
            .on_conflict_do_nothing(index_elements=key)
            .returning(*[table.c[k] for k in key])
        )

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._runner.stop)
        if self.is_sqlite:
            await asyncio.get_running_loop().run_in_executor(None, self._checkpointer.stop)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.engine.dispose()
