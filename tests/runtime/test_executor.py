"""The executor on its own: reply pacing and merging, failures and retries, idempotence, lanes.

Reply pacing runs on the event loop's clock (real time): those tests use gaps of a few tenths
of a second and measure them on the times the recording GitHub noted. Retries and leases run
on the store's clock, the fake one, moved by the tests."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.core.actions import AddLabels, CheckRun, Notice, SetLabels, UpsertChecklist
from bot.core.coalesce import leading_markers
from bot.core.replies import notice_marker, reply_marker
from bot.core.review import CHECKLIST_MARKER
from bot.github.api import PermanentError, TransientError
from bot.runtime.executor import EARLY_BELOW, Executor
from bot.runtime.leases import Leases
from bot.store import ActionStatus
from tests.fakes import LOGIN
from tests.runtime.conftest import LEASE, REPO, outbox_rows, queue, reply, stopped, until


@pytest.fixture
def traced() -> list[str]:
    return []


@pytest.fixture
async def executor(store, gh, clock, traced):
    ex = Executor(store, gh, Leases(store, clock), bot_login=lambda: LOGIN, clock=clock, reply_gap=3.0, trace=traced.append)
    yield ex
    await ex.stop()


async def statuses(store) -> list[str]:
    return [r["status"] for r in await outbox_rows(store)]


async def all_done(store) -> bool:
    return set(await statuses(store)) == {ActionStatus.DONE}


# ---- pacing and merging (real time: the event loop's clock) ----------------------------------


async def test_replies_queued_for_one_issue_within_the_gap_go_out_as_one_comment_addressing_each_person(store, gh, executor):
    gh.spent[1] = 0.9  # the write budget mostly used: replies wait for the whole gap
    executor.reply_gap = 0.2
    executor.submit(await queue(store, reply(1, "zoe")))
    await until(lambda: len(gh.posted(REPO, 100)) == 1)
    for cid, user in ((2, "alice"), (3, "bob"), (4, "carol")):
        executor.submit(await queue(store, reply(cid, user)))
    await until(lambda: all_done(store))
    first, merged = gh.posted(REPO, 100)
    assert first == reply(1, "zoe").body  # at a quiet time a reply goes alone, as it was
    assert all(f"@{u}" in merged for u in ("alice", "bob", "carol")) and "@zoe" not in merged
    assert leading_markers(merged) == {reply_marker(2), reply_marker(3), reply_marker(4)}  # a retry finds each
    calls = gh.of("create_comment")
    assert calls[1].at - calls[0].at >= 0.2 - 0.01  # the three waited for the gap


async def test_a_reply_to_an_issue_answered_less_than_reply_gap_ago_waits_one_to_another_issue_does_not(store, gh, executor):
    gh.spent[1] = 0.9
    executor.reply_gap = 0.25
    executor.submit(await queue(store, reply(1, "alice", number=100)))
    await until(lambda: len(gh.of("create_comment")) == 1)
    executor.submit(await queue(store, reply(2, "bob", number=100), reply(3, "carol", number=200)))
    submitted = asyncio.get_running_loop().time()
    await until(lambda: all_done(store))
    first, other, again = gh.of("create_comment")
    assert (other.args["number"], again.args["number"]) == (200, 100)  # the later reply to another issue went first
    assert other.at - submitted < 0.2  # ... at once
    assert again.at - first.at >= 0.25 - 0.01  # the same issue's: after the gap


@pytest.mark.parametrize("spent, goes_early", [(EARLY_BELOW - 0.01, True), (EARLY_BELOW, False)])
async def test_a_waiting_reply_goes_once_its_burst_settles_only_while_the_write_budget_is_mostly_unspent(
    store, gh, executor, spent, goes_early
):
    gh.spent[1] = spent
    executor.reply_gap = 30.0
    executor.reply_settle = executor.reply_settle_floor = 0.05
    executor.submit(await queue(store, reply(1, "alice")))
    await until(lambda: len(gh.posted(REPO, 100)) == 1)
    executor.submit(await queue(store, reply(2, "bob")))
    if goes_early:
        await until(lambda: len(gh.posted(REPO, 100)) == 2)
        first, second = gh.of("create_comment")
        assert 0.05 - 0.01 <= second.at - first.at < 3.0  # after the burst settled, long before the gap of 30 s
    else:
        await asyncio.sleep(0.2)  # four times the settle time: nothing is posted within it
        assert len(gh.posted(REPO, 100)) == 1
        assert await statuses(store) == [ActionStatus.DONE, ActionStatus.PENDING]


async def test_one_installation_waiting_on_github_does_not_hold_another(store, gh, executor):
    released = asyncio.Event()

    async def slow(inst, args) -> None:
        if inst.installation_id == 1:
            await released.wait()

    gh.before("create_comment", slow)
    executor.submit(await queue(store, reply(1, "alice"), installation=1))
    executor.submit(await queue(store, reply(2, "bob", number=7), installation=2))
    await until(lambda: any(c.installation_id == 2 for c in gh.of("create_comment")))
    assert await statuses(store) == [ActionStatus.PENDING, ActionStatus.DONE]
    released.set()
    await until(lambda: all_done(store))


# ---- failures and retries (the store's clock: fake) -------------------------------------------


async def test_a_permanent_4xx_marks_the_action_failed_and_is_not_retried(store, gh, clock, executor):
    gh.fail_next(PermanentError(422, "Validation Failed", method="POST", url="/repos/org/Paddle/issues/100/comments"))
    await executor.execute(await queue(store, reply(1, "alice")))
    [row] = await outbox_rows(store)
    assert row["status"] == ActionStatus.FAILED and "422" in row["error"]
    assert [f["action"] for f in await store.failures()] == ["Reply"]  # `bot status` lists it
    await clock.advance(3600)
    assert await store.lease_actions() == []  # never tried again
    assert len(gh.of("create_comment")) == 1


async def test_a_5xx_is_retried_with_backoff_and_then_posted_once(store, gh, clock, executor):
    gh.fail_next(TransientError(502, "Bad Gateway"))
    await executor.execute(await queue(store, reply(1, "alice")))
    [row] = await outbox_rows(store)
    assert row["status"] == ActionStatus.PENDING and "502" in row["error"]
    await clock.advance(1.9)
    assert await store.lease_actions() == []  # backing off: 2 s after a first try
    await clock.advance(0.2)
    [again] = await store.lease_actions()
    assert again.attempts == 2
    await executor.execute([again])
    assert await statuses(store) == [ActionStatus.DONE]
    assert gh.posted(REPO, 100) == [reply(1, "alice").body]  # the failed try posted nothing, the retry once


async def test_tries_run_out_after_max_attempts_but_a_wait_github_asked_for_uses_none(store, gh, clock, executor):
    executor.max_attempts = 1
    gh.fail_next(TransientError(403, "secondary rate limit", retry_after=60), method="create_comment")
    gh.fail_next(TransientError(503, "Service Unavailable"), method="add_labels")
    await executor.execute(await queue(store, reply(1, "alice"), AddLabels(REPO, 5, ("hackathon",))))
    asked, unavailable = await outbox_rows(store)
    assert unavailable["status"] == ActionStatus.FAILED and "503" in unavailable["error"]
    assert asked["status"] == ActionStatus.PENDING and asked["attempts"] == 0  # this try was given back
    await clock.advance(59)
    assert await store.lease_actions() == []  # GitHub's 60 s are honoured
    await clock.advance(2)
    [again] = await store.lease_actions()
    await executor.execute([again])
    assert gh.posted(REPO, 100) == [reply(1, "alice").body]


async def test_a_merged_comment_that_fails_retries_every_reply_it_carried_together(store, gh, clock, executor):
    gh.fail_next(TransientError(500, "Internal Server Error"))
    executor.submit(await queue(store, reply(1, "alice"), reply(2, "bob"), reply(3, "carol")))
    await until(lambda: _settled(store))
    assert await statuses(store) == [ActionStatus.PENDING] * 3
    [tried] = gh.of("create_comment")
    assert leading_markers(tried.args["body"]) == {reply_marker(1), reply_marker(2), reply_marker(3)}
    assert gh.posted(REPO, 100) == []
    await clock.advance(2.1)
    executor.submit(await store.lease_actions())
    await until(lambda: all_done(store))
    [merged] = gh.comments[(REPO.lower(), 100)]
    assert leading_markers(merged["body"]) == {reply_marker(1), reply_marker(2), reply_marker(3)}


async def _settled(store) -> bool:
    """Every action's outcome recorded (none held any more)."""
    return all(r["lease_owner"] is None for r in await outbox_rows(store))


# ---- idempotence: markers -----------------------------------------------------------------------


async def _retaken(store, clock, *actions):
    """Items decided, tried once by a worker that died (its outcome never recorded), and taken up again."""
    await queue(store, *actions)
    await clock.advance(LEASE + 1)
    items = await store.lease_actions()
    assert items and all(i.attempts == 2 for i in items)
    return items


async def test_a_retried_reply_finds_its_own_marker_and_is_not_posted_twice(store, gh, clock, executor):
    gh.add_comment(REPO, 100, reply(1, "alice").body, user=LOGIN)  # the first try got through
    gh.add_comment(REPO, 100, reply(2, "bob").body, user="mallory")  # a participant forging the bot's marker
    await executor.execute(await _retaken(store, clock, reply(1, "alice"), reply(2, "bob")))
    assert [c.args["body"] for c in gh.of("create_comment")] == [reply(2, "bob").body]  # a forged marker does not count
    assert await statuses(store) == [ActionStatus.DONE] * 2


async def test_a_retried_notice_is_found_by_its_key(store, gh, clock, executor):
    notice = Notice(REPO, 100, "lapse:2026-03-01", f"{notice_marker('lapse:2026-03-01')}\nreleased: No.1")
    gh.add_comment(REPO, 100, notice.body, user=LOGIN)
    await executor.execute(await _retaken(store, clock, notice))
    assert gh.writes() == [] and await statuses(store) == [ActionStatus.DONE]


async def test_retried_merged_replies_post_only_those_not_already_on_github(store, gh, clock, executor):
    already = f"{reply_marker(1)}\n{reply_marker(2)}\n@alice claimed No.1\n\n@bob claimed No.1"
    gh.add_comment(REPO, 100, already, user=LOGIN)  # replies 1 and 2 went out merged before a crash
    executor.submit(await _retaken(store, clock, reply(1, "alice"), reply(2, "bob"), reply(3, "carol")))
    await until(lambda: all_done(store))
    assert [c.args["body"] for c in gh.of("create_comment")] == [reply(3, "carol").body]


async def test_the_checklist_is_created_once_then_edited_in_place_and_unchanged_text_costs_nothing(store, gh, executor):
    first = f"{CHECKLIST_MARKER}\n- [ ] claim"
    await executor.execute(await queue(store, UpsertChecklist(REPO, 50, first)))
    await executor.execute(await queue(store, UpsertChecklist(REPO, 50, first)))
    assert [c.method for c in gh.writes()] == ["create_comment"]
    await executor.execute(await queue(store, UpsertChecklist(REPO, 50, first + "\n- [x] tests")))
    [checklist] = gh.comments[(REPO.lower(), 50)]  # one checklist per PR
    _, edited = gh.writes()
    assert edited.method == "edit_comment" and edited.args["comment_id"] == checklist["id"]
    assert checklist["body"] == first + "\n- [x] tests"


async def test_a_checklist_deleted_by_someone_is_posted_again(store, gh, executor):
    await executor.execute(await queue(store, UpsertChecklist(REPO, 50, f"{CHECKLIST_MARKER}\nv1")))
    gh.comments[(REPO.lower(), 50)].clear()  # a maintainer deleted it
    await executor.execute(await queue(store, UpsertChecklist(REPO, 50, f"{CHECKLIST_MARKER}\nv2")))
    assert [c.method for c in gh.writes()] == ["create_comment", "edit_comment", "create_comment"]
    assert await statuses(store) == [ActionStatus.DONE] * 2


async def test_a_checklist_or_labels_from_an_older_push_are_skipped(store, gh, executor):
    old = await queue(store, UpsertChecklist(REPO, 50, f"{CHECKLIST_MARKER}\nold"), SetLabels(REPO, 50, ("old",)))
    new = await queue(store, UpsertChecklist(REPO, 50, f"{CHECKLIST_MARKER}\nnew"), SetLabels(REPO, 50, ("new",)))
    await executor.execute(new)
    await executor.execute(old)  # performed late (a retry): must not overwrite the newer push's
    assert [c["body"] for c in gh.comments[(REPO.lower(), 50)]] == [f"{CHECKLIST_MARKER}\nnew"]
    assert [c.args["labels"] for c in gh.of("replace_labels")] == [["new"]]
    assert await statuses(store) == [ActionStatus.DONE] * 4


async def test_the_same_check_run_is_created_once(store, gh, executor):
    run = CheckRun(REPO, 50, "a" * 40, "success", "Ready", "All checks pass")
    await executor.execute(await queue(store, run))
    await executor.execute(await queue(store, run))
    await executor.execute(await queue(store, CheckRun(REPO, 50, "b" * 40, "success", "Ready", "All checks pass")))
    assert [c.args["head_sha"][0] for c in gh.of("create_check_run")] == ["a", "b"]


# ---- the stage: sweep, trace ----------------------------------------------------------------------


async def test_the_sweep_performs_what_a_crashed_worker_left_once_its_lease_runs_out(store, gh, clock, executor):
    await queue(store, reply(1, "alice"))  # decided; the worker died before handing it to the executor
    stopping = False
    sweep = asyncio.create_task(executor.sweep(lambda: stopping))
    try:
        await asyncio.sleep(0.05)
        assert gh.calls == []  # its lease still runs
        await clock.advance(LEASE + 1)
        await until(lambda: all_done(store))
    finally:
        stopping = True
        await stopped(sweep, clock)
    assert gh.posted(REPO, 100) == [reply(1, "alice").body]


async def test_trace_sees_every_action_taken_up_as_a_json_line(store, gh, executor, traced):
    await executor.execute(await queue(store, reply(1, "alice"), SetLabels(REPO, 50, ("hackathon",))))
    lines = [json.loads(line) for line in traced]
    assert [(d["kind"], d["number"]) for d in lines] == [("Reply", 100), ("SetLabels", 50)]
    assert lines[0]["body"] == reply(1, "alice").body
