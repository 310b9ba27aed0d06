"""The expiry sweeper: holders reminded before their claims lapse, lapsed claims released with one
notice on the tracker, nothing twice. The campaign's claims lapse after 14 days without a PR
(reminder 3 days before); time is the fake clock's."""

from __future__ import annotations

import asyncio

from bot.core.actions import Decision, PutClaim
from bot.core.model import Claim, Stage
from bot.core.replies import notice_marker
from bot.rules.models import ClaimPolicy, Rules
from bot.runtime.executor import Executor
from bot.runtime.leases import Leases
from bot.runtime.sweepers import ExpirySweeper
from bot.store import ActionStatus
from tests.conftest import make_campaign, make_rules
from tests.fakes import LOGIN
from tests.runtime.conftest import outbox_rows, stopped, until

DAY = 86400.0
TRACKER = ("org/Paddle", 100)


async def claim(store, clock, task: int, user: str, stage: Stage = Stage.CLAIMED, slug: str = "h9") -> None:
    c = Claim(campaign=slug, task=task, user=user, stage=stage, claimed_at=clock.now())
    await store.commit(slug, lambda state: Decision(changes=[PutClaim(c)]), installation_id=1)


def holders(state) -> set[tuple[int, str]]:
    return {(c.task, c.user) for c in state.claims}


def sweeper_of(rules, store, gh, clock, **kw) -> ExpirySweeper:
    executor = Executor(store, gh, Leases(store, clock), bot_login=lambda: LOGIN, clock=clock, reply_gap=0.0)
    return ExpirySweeper(rules, store, clock=clock, execute=executor.execute, **kw)


async def test_a_lapsed_claim_is_released_with_one_notice(all_rules, store, gh, clock):
    await claim(store, clock, 1, "alice")
    await claim(store, clock, 2, "bob")
    await clock.advance(5 * DAY)
    await claim(store, clock, 3, "carol")  # claimed later: not lapsed yet
    sweeper = sweeper_of(all_rules, store, gh, clock)
    await clock.advance(9 * DAY + 1)  # alice's and bob's 14 days are over
    await store.take_dirty_board(0)  # (the board flusher wrote the claims)
    await store.release_board("h9")
    assert await sweeper.sweep_once() == 2
    assert holders(await store.current_state("h9")) == {(3, "carol")}
    [notice] = gh.posted(*TRACKER)
    assert "@alice" in notice and "@bob" in notice and "@carol" not in notice
    assert (await store.board_info("h9"))["board_dirty"]  # the board shows their tasks free again
    assert await sweeper.sweep_once() == 0  # a second sweep (a restart, another replica) finds nothing
    assert len(gh.posted(*TRACKER)) == 1


async def test_a_holder_is_reminded_once_before_the_claim_lapses(all_rules, store, gh, clock):
    await claim(store, clock, 1, "alice")
    sweeper = sweeper_of(all_rules, store, gh, clock)
    await clock.advance(10 * DAY)
    assert await sweeper.sweep_once() == 0 and gh.posted(*TRACKER) == []  # not due yet
    await clock.advance(1 * DAY + 1)  # three days before the lapse
    await sweeper.sweep_once()
    [reminder] = gh.posted(*TRACKER)
    assert "@alice" in reminder
    await clock.advance(DAY)
    await sweeper.sweep_once()
    assert len(gh.posted(*TRACKER)) == 1  # reminded once
    assert holders(await store.current_state("h9")) == {(1, "alice")}  # still held until it lapses


async def test_claims_with_a_pr_and_campaigns_without_expiry_never_lapse(store, gh, clock, tmp_path):
    forever = make_rules("forever", campaign=make_campaign(claim_policy=ClaimPolicy(), tracker="org/Paddle#101"))
    await store.init(["forever"])
    rules = Rules(campaigns={"h9": make_rules(), "forever": forever})
    await claim(store, clock, 1, "alice", Stage.SUBMITTED)  # a PR is open for it
    await claim(store, clock, 1, "bob", slug="forever")
    await clock.advance(100 * DAY)
    assert await sweeper_of(rules, store, gh, clock).sweep_once() == 0
    assert holders(await store.current_state("h9")) == {(1, "alice")}
    assert holders(await store.current_state("forever")) == {(1, "bob")}
    assert gh.writes() == []


async def test_the_notice_is_queued_with_the_release_and_posted_once_even_if_posting_is_retried(all_rules, store, gh, clock):
    await claim(store, clock, 1, "alice")
    await clock.advance(14 * DAY + 1)
    sweeper = ExpirySweeper(all_rules, store, clock=clock)  # no executor: the outbox keeps the notice
    assert await sweeper.sweep_once() == 1
    [row] = await outbox_rows(store)
    assert row["kind"] == "Notice" and row["status"] == ActionStatus.PENDING
    assert row["payload"]["body"].startswith(notice_marker(row["payload"]["key"]))  # found, not repeated, on a retry
    assert holders(await store.current_state("h9")) == set()  # released in the same transaction


async def test_the_loop_sweeps_every_period_and_survives_a_failing_sweep(all_rules, store, gh, clock, monkeypatch):
    sweeper = sweeper_of(all_rules, store, gh, clock, every=600.0)
    real, runs = sweeper.sweep_once, []

    async def sweep_once() -> int:
        runs.append(clock.monotonic())
        if len(runs) == 1:
            raise OSError("database is locked")
        return await real()

    monkeypatch.setattr(sweeper, "sweep_once", sweep_once)
    await claim(store, clock, 1, "alice")
    stopping = False
    loop = asyncio.create_task(sweeper.run(lambda: stopping), name="expiry")
    try:
        await asyncio.wait_for(sweeper.swept.wait(), 2)  # the first sweep (it failed) is over
        await clock.advance(14 * DAY + 1)  # the sleep of 600 s ends: the next sweep runs
        await until(lambda: len(gh.posted(*TRACKER)) == 1)
        assert runs == [0.0, 14 * DAY + 1]
        assert holders(await store.current_state("h9")) == set()
    finally:
        stopping = True
        await stopped(loop, clock, step=600)
    assert len(gh.posted(*TRACKER)) == 1
