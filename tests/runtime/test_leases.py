"""Leases of work in hand: held, renewed by the heartbeat, lost when someone else took the work
(a stalled process), and work under a lost lease does not act. All on the fake clock."""

from __future__ import annotations

import asyncio

from bot.runtime.executor import Executor
from bot.runtime.leases import RENEWALS, Leases
from bot.store import ActionStatus
from tests.fakes import LOGIN
from tests.runtime.conftest import LEASE, REPO, outbox_rows, queue, reply, stopped


def executor_of(store, gh, leases, clock) -> Executor:
    return Executor(store, gh, leases, bot_login=lambda: LOGIN, clock=clock, reply_gap=0.0)


async def test_a_lease_taken_over_is_lost_and_its_work_does_not_act(store, gh, clock):
    stalled = Leases(store, clock)
    mine = await queue(store, reply(1, "alice"))
    stalled.hold(mine[0].token)
    await clock.advance(LEASE + 1)  # this process stalled: no heartbeat renewed the lease
    theirs = await store.lease_actions()  # another replica's sweep takes the action over
    assert [i.id for i in theirs] == [mine[0].id] and theirs[0].token != mine[0].token
    await stalled.renew_once()
    assert stalled.lost(mine[0].token)
    await executor_of(store, gh, stalled, clock).execute(mine)  # the stalled worker wakes up
    assert gh.calls == []  # ... and does nothing on GitHub
    other = Leases(store, clock)
    await executor_of(store, gh, other, clock).execute(theirs)
    assert gh.posted(REPO, 100) == [reply(1, "alice").body]  # posted once, by the one holding the lease
    assert [r["status"] for r in await outbox_rows(store)] == [ActionStatus.DONE]


def counting_renewals(store, monkeypatch, *, fail_first: bool = False) -> list[list[str]]:
    """The tokens of each renewal the store is asked for (the first one failing, if asked)."""
    real, asked = store.renew, []

    async def renew(tokens):
        asked.append(list(tokens))
        if fail_first and len(asked) == 1:
            raise OSError("database is locked")
        return await real(tokens)

    monkeypatch.setattr(store, "renew", renew)
    return asked


async def beats(clock, asked: list, n: int) -> None:
    """Move the clock a second at a time until `n` more heartbeats have asked for a renewal."""
    loop = asyncio.get_running_loop()
    deadline, target = loop.time() + 10.0, len(asked) + n
    while len(asked) < target:
        assert loop.time() < deadline, f"{len(asked)} renewals, {target} expected"
        await clock.advance(1)
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.02)  # the last renewal's transaction


async def test_the_heartbeat_keeps_the_leases_of_work_in_hand(store, clock, monkeypatch):
    leases = Leases(store, clock)
    [item] = await queue(store, reply(1, "alice"))
    leases.hold(item.token)
    asked = counting_renewals(store, monkeypatch)
    stopping = False
    beat = asyncio.create_task(leases.heartbeat(lambda: stopping), name="heartbeat")
    try:
        await beats(clock, asked, 2 * RENEWALS + 1)  # RENEWALS beats per lease period
        assert clock.monotonic() > 2 * LEASE
        assert await store.lease_actions() == []  # still ours: nobody takes it over
        assert not leases.lost(item.token)
        leases.release(item.token)  # done with it (or crashed): the heartbeat stops renewing it
        await beats(clock, asked, RENEWALS + 1)
        assert asked[-1] == [] and [i.id for i in await store.lease_actions()] == [item.id]
    finally:
        stopping = True
        await stopped(beat, clock)


async def test_a_lease_held_twice_stays_held_until_both_holders_let_go(store, clock):
    leases = Leases(store, clock)
    [item] = await queue(store, reply(1, "alice"))
    leases.hold(item.token)  # e.g. handed to the executor's lane ...
    leases.hold(item.token)  # ... and performed by a tool at the same time
    leases.release(item.token)
    await clock.advance(LEASE - 1)
    await leases.renew_once()
    await clock.advance(LEASE - 1)
    assert await store.lease_actions() == []  # renewed for the holder that remains
    leases.release(item.token)
    await clock.advance(LEASE - 1)
    await leases.renew_once()  # renews nothing of it any more
    await clock.advance(2)
    assert [i.id for i in await store.lease_actions()] == [item.id]


async def test_the_heartbeat_goes_on_after_the_database_fails_once(store, clock, monkeypatch):
    leases = Leases(store, clock)
    [item] = await queue(store, reply(1, "alice"))
    leases.hold(item.token)
    asked = counting_renewals(store, monkeypatch, fail_first=True)
    stopping = False
    beat = asyncio.create_task(leases.heartbeat(lambda: stopping), name="heartbeat")
    try:
        await beats(clock, asked, 2 * RENEWALS + 1)  # the first beat fails; the second comes before the lease runs out
        assert clock.monotonic() > 2 * LEASE
        assert await store.lease_actions() == []  # the later beats renewed it
    finally:
        stopping = True
        await stopped(beat, clock)
