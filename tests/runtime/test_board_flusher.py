"""The board flusher: the tracker issue shows the campaign's current board, the organiser's text
around it kept. Driven on the fake clock (board delay, backoff) against the recording GitHub."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.core.actions import Decision, PutClaim
from bot.core.board import BOARD_END, BOARD_START
from bot.core.model import Claim, Stage
from bot.github.api import PermanentError, TransientError
from bot.rules.models import Rules
from bot.runtime.board_flusher import REREADS, BoardFlusher
from tests.conftest import make_rules
from tests.runtime.conftest import new_store, stopped, until

TRACKER = ("org/paddle", 100)  # (the recording GitHub keys issues by lower-cased repository)
ORGANISER = "# Hackathon 9th tasks\n\nClaim with 【报名】：N below.\n"


@pytest.fixture
def traced() -> list[str]:
    return []


@pytest.fixture
def flusher(all_rules, store, gh, clock, traced) -> BoardFlusher:
    gh.bodies[TRACKER] = ORGANISER
    return BoardFlusher(all_rules, store, gh, board_delay=2.0, clock=clock, trace=traced.append)


@pytest.fixture
async def other_store(tmp_path, tmp_path_factory, clock):
    """Another database for the same campaign (restored from a backup, rebuilt, or lost and started afresh)."""
    s = await new_store(tmp_path / "other.db", clock, ["h9"], tmp_path_factory.getbasetemp())
    yield s
    await s.close()


async def claim(store, clock, task: int, user: str, slug: str = "h9") -> None:
    c = Claim(campaign=slug, task=task, user=user, stage=Stage.CLAIMED, claimed_at=clock.now())
    await store.commit(slug, lambda state: Decision(changes=[PutClaim(c)]), installation_id=1)


async def flush_dirty(flusher: BoardFlusher, store) -> bool | None:
    """What the flusher's loop does once a dirty board's delay is over: lease it and flush it (None: none dirty)."""
    taken = await store.take_dirty_board_since(0)
    return None if taken is None else await flusher.flush(*taken)


def tracker(gh) -> str:
    return gh.bodies[TRACKER]


def board_of(body: str) -> str:
    return body[body.index(BOARD_START) : body.index(BOARD_END) + len(BOARD_END)]


async def test_the_board_is_spliced_into_the_tracker_keeping_the_organisers_text(flusher, store, gh, clock, traced):
    await claim(store, clock, 1, "alice")
    assert await flush_dirty(flusher, store) is True
    body = tracker(gh)
    assert body.startswith(ORGANISER) and "@alice" in board_of(body)
    [edit] = gh.writes()
    assert edit.method == "edit_issue" and edit.args["priority"]  # the board goes before queued replies
    info = await store.board_info("h9")
    assert info["board_edits"] == 1 and not info["board_dirty"] and info["board_lease_owner"] is None
    [line] = [json.loads(x) for x in traced]
    assert line["kind"] == "UpdateBoard" and line["board"] == board_of(body)


async def test_the_board_is_not_written_when_unchanged(flusher, store, gh, clock):
    await claim(store, clock, 1, "alice")
    await flush_dirty(flusher, store)
    calls = len(gh.calls)
    await store.mark_board_dirty("h9")  # a change that leaves the board as it is (a reply, a renewal)
    assert await flush_dirty(flusher, store) is False
    assert len(gh.calls) == calls  # not even read: the board's hash is the one last written
    assert not (await store.board_info("h9"))["board_dirty"]


async def test_a_tracker_already_showing_the_board_is_not_edited(flusher, store, other_store, gh, clock, all_rules):
    await claim(store, clock, 1, "alice")
    await flush_dirty(flusher, store)
    await claim(other_store, clock, 1, "alice")  # a store rebuilt from GitHub (`bot sync`): it never wrote the board
    rebuilt = BoardFlusher(all_rules, other_store, gh, board_delay=2.0, clock=clock)
    assert await flush_dirty(rebuilt, other_store) is False
    assert [c.method for c in gh.writes()] == ["edit_issue"]  # the first store's edit only
    assert (await other_store.board_info("h9"))["board_hash"] == (await store.board_info("h9"))["board_hash"]


async def test_an_organisers_edit_between_read_and_write_is_kept(flusher, store, gh, clock):
    reads = []

    def organiser_edits_once(inst, args) -> None:
        reads.append(args)
        if len(reads) == 2:  # the organiser saved after the flusher's first read, before its re-read
            gh.bodies[TRACKER] = ORGANISER + "\nNew: task 3 is reserved for newcomers.\n"

    gh.before("get_issue", organiser_edits_once)
    await claim(store, clock, 1, "alice")
    assert await flush_dirty(flusher, store) is True
    body = tracker(gh)
    assert "task 3 is reserved for newcomers" in body and "@alice" in board_of(body)
    assert len(gh.of("edit_issue")) == 1 and len(reads) == 3  # the new text was read again before the write


async def test_a_tracker_that_keeps_changing_is_left_alone_and_retried_with_backoff(flusher, store, gh, clock):
    editing = True

    def organiser_keeps_editing(inst, args) -> None:
        if editing:
            gh.bodies[TRACKER] += "."

    gh.before("get_issue", organiser_keeps_editing)
    await claim(store, clock, 1, "alice")
    assert await flush_dirty(flusher, store) is False
    assert gh.writes() == [] and len(gh.of("get_issue")) == REREADS + 1
    info = await store.board_info("h9")
    assert info["board_dirty"] and info["board_failures"] == 1 and info["board_lease_owner"] is None
    editing = False  # the organiser is done
    assert await store.take_dirty_board_since(0) is None  # backing off
    await clock.advance(1.1)
    assert await flush_dirty(flusher, store) is True
    assert (await store.board_info("h9"))["board_failures"] == 0


async def test_a_transient_failure_is_retried_with_backoff(flusher, store, gh, clock):
    gh.fail_next(TransientError(502, "Bad Gateway"), method="edit_issue", times=2)
    await claim(store, clock, 1, "alice")
    assert await flush_dirty(flusher, store) is False
    await clock.advance(1.1)
    assert await flush_dirty(flusher, store) is False  # failed again: now waits 2 s
    await clock.advance(1.1)
    assert await flush_dirty(flusher, store) is None
    await clock.advance(1.0)
    assert await flush_dirty(flusher, store) is True
    assert "@alice" in board_of(tracker(gh))


async def test_a_tracker_github_refuses_records_the_error_and_the_board_is_released(flusher, store, gh, clock):
    gh.fail_next(PermanentError(410, "Issue is deleted", method="PATCH", url="/repos/org/Paddle/issues/100"))
    await claim(store, clock, 1, "alice")
    assert await flush_dirty(flusher, store) is False
    info = await store.board_info("h9")
    assert info["board_lease_owner"] is None and not info["board_dirty"]  # released, not retried in a loop
    [failure] = [f for f in await store.failures() if f["type"] == "board"]
    assert failure["id"] == "h9" and "410" in failure["error"]  # `bot status` and /status show it
    await claim(store, clock, 2, "bob")  # the next change tries again
    assert await flush_dirty(flusher, store) is True
    assert [f for f in await store.failures() if f["type"] == "board"] == []


async def test_a_store_that_lost_its_state_never_empties_the_board(flusher, store, other_store, gh, clock, all_rules):
    await claim(store, clock, 1, "alice")
    await flush_dirty(flusher, store)
    shown = tracker(gh)
    lost = BoardFlusher(all_rules, other_store, gh, board_delay=2.0, clock=clock)  # the database was lost: a new one
    await other_store.mark_board_dirty("h9")  # (any change, e.g. someone else's claim)
    assert await flush_dirty(lost, other_store) is False
    assert tracker(gh) == shown  # @alice is still on the board
    [warning] = lost.guard.warnings()  # on /healthz too
    assert "bot sync h9" in warning and "@alice" in warning
    [failure] = [f for f in await other_store.failures() if f["type"] == "board"]
    assert "bot sync h9" in failure["error"]


async def test_a_campaign_without_a_tracker_is_released_without_a_call(store, gh, clock):
    rules = Rules(campaigns={"h9": make_rules(tracker=None)})
    await claim(store, clock, 1, "alice")
    assert await flush_dirty(BoardFlusher(rules, store, gh, board_delay=2.0, clock=clock), store) is False
    assert gh.calls == [] and (await store.board_info("h9"))["board_lease_owner"] is None


async def test_a_burst_of_changes_within_board_delay_gives_one_edit(flusher, store, gh, clock):
    stopping = False
    loop = asyncio.create_task(flusher.run(lambda: stopping), name="board")

    async def tick(seconds: float) -> None:
        for _ in range(round(seconds / 0.2)):  # the loop looks every 0.2 s (board_delay / 4 at most)
            await clock.advance(0.2)
            await asyncio.sleep(0.003)

    try:
        for user in ("alice", "bob", "carol"):
            await claim(store, clock, 1 if user != "carol" else 2, user)
            await tick(0.6)
        assert gh.writes() == []  # 1.8 s after the first change: still waiting
        await tick(0.4)
        await until(lambda: len(gh.writes()) == 1)
        board = board_of(tracker(gh))
        assert all(f"@{u}" in board for u in ("alice", "bob", "carol"))
        await claim(store, clock, 3, "dave")
        await tick(1.0)
        assert len(gh.writes()) == 1
        await tick(1.2)
        await until(lambda: len(gh.writes()) == 2)
        assert "@dave" in board_of(tracker(gh))
    finally:
        stopping = True
        await stopped(loop, clock, step=0.2)
