"""Fixtures of the shell's stage tests: a fake clock, a store on it (SQLite in tmp_path), a
recording GitHub, and small helpers to queue actions and to wait for a condition."""

from __future__ import annotations

import asyncio
import inspect
import shutil
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.core.actions import Action, Decision, Reply
from bot.core.replies import reply_marker
from bot.store import OutboxItem, Store
from bot.store.schema import outbox
from tests.fakes import RecordingGitHub

LEASE = 30.0  # seconds a lease lasts in these tests
REPO = "org/Paddle"


@pytest.fixture
async def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


async def new_store(path: Path, clock: FakeClock, slugs: list[str], template_dir: Path) -> Store:
    """A store on the fake clock (leases, retries and board delays follow it) with `slugs`
    registered: a copy of a database migrated once per test process (migrating takes five times as long)."""
    template = template_dir / f"stages-{'-'.join(slugs)}.db"
    if not template.exists():
        first = Store(f"sqlite+aiosqlite:///{template}.new")
        await first.init(slugs)
        await first.close()
        Path(f"{template}.new").rename(template)
    shutil.copyfile(template, path)
    s = Store(f"sqlite+aiosqlite:///{path}", lease_seconds=LEASE, clock=clock)
    await s.init(slugs)
    return s


@pytest.fixture
async def store(tmp_path, tmp_path_factory, clock, rules):
    """The campaign `h9`'s store, on the fake clock."""
    s = await new_store(tmp_path / "bot.db", clock, [rules.slug], tmp_path_factory.getbasetemp())
    yield s
    await s.close()


@pytest.fixture
def gh() -> RecordingGitHub:
    return RecordingGitHub()


async def queue(store: Store, *actions: Action, installation: int | None = 1, slug: str = "h9") -> list[OutboxItem]:
    """Decide `actions` (as a worker would, for one delivery) and return the outbox items leased to the caller."""
    _, items = await store.commit(slug, lambda state: Decision(actions=list(actions)), installation_id=installation)
    return items


def reply(comment_id: int, user: str, text: str = "claimed No.1", *, number: int = 100, repo: str = REPO) -> Reply:
    """The bot's answer to comment `comment_id` by `user` (its marker first, as `render_reply` writes it)."""
    return Reply(repo, number, comment_id, f"{reply_marker(comment_id)}\n@{user} {text}")


async def outbox_rows(store: Store) -> list[dict]:
    def txn(conn) -> list[dict]:
        return [dict(r._mapping) for r in conn.execute(select(outbox).order_by(outbox.c.id))]

    return await store.read(txn)


async def until(condition: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0) -> None:
    """Wait (on real time, in steps of 5 ms) until `condition()` holds; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {condition}")
        await asyncio.sleep(0.005)


async def stopped(task: asyncio.Task, clock: FakeClock, *, step: float = 1.0, timeout: float = 10.0) -> None:
    """Wait for a stage's loop to end once told to stop, moving the fake clock (by `step`) so that its sleep ends."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not task.done():
        if loop.time() > deadline:
            task.cancel()
            raise AssertionError(f"{task.get_name()} did not stop")
        await clock.advance(step)
        await asyncio.sleep(0.005)
    await task
