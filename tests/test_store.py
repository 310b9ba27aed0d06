"""The store on SQLite and PostgreSQL: the inbox, leases, one-transaction decisions, the outbox, board leases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.actions import BoardChange, Decision, DropClaim, PutClaim, PutPull, Reply, SetLabels, SetTaskClosed, UpsertChecklist
from bot.core.model import Claim, PrKind, PrState, PullRequest, Stage
from bot.store import LeaseLost, Store
from tests.conftest import STORE_BACKENDS, fresh_store

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def deciding(changes=(), actions=(), board=BoardChange.NONE, seen=None):
    """A decision that ignores the state (and records the state it was given in `seen`)."""

    def build(state):
        if seen is not None:
            seen.append(state)
        return Decision(changes=list(changes), actions=list(actions), board=board)

    return build


async def test_a_redelivery_is_stored_once(store):
    assert await store.add_delivery("d1", "issue_comment", "created", b'{"a": 1}') is True
    assert await store.add_delivery("d1", "issue_comment", "created", b'{"a": 1}') is False
    assert (await store.delivery_counts()) == {"pending": 1}


async def test_each_delivery_is_leased_to_one_worker(store):
    for i in range(20):
        await store.add_delivery(f"d{i}", "issue_comment", "created", b"{}")
    leased = await asyncio.gather(*(store.lease_delivery() for _ in range(30)))
    ids = [d.id for d in leased if d is not None]
    assert sorted(ids) == sorted(f"d{i}" for i in range(20))  # all of them, none twice


async def test_a_lease_that_runs_out_is_retaken(store):
    await store.add_delivery("d1", "issue_comment", "created", b"{}")
    first = await store.lease_delivery()
    assert first.attempts == 1 and await store.lease_delivery() is None
    store.lease = timedelta(seconds=-1)  # as if the worker died long ago
    await store.release_delivery("d1", "worker died", retry_in=-1)
    again = await store.lease_delivery()
    assert again.id == "d1" and again.attempts == 2


async def test_a_decision_commits_state_actions_and_done_together(store):
    await store.add_delivery("d1", "issue_comment", "created", b"{}")
    d = await store.lease_delivery()
    claim = Claim("h9", 2, "Alice", Stage.CLAIMED, NOW, team="t", link="https://x")
    pr = PullRequest("h9", "org/docs", 5, "alice", "t", (2, 3), "code", "open", "https://u", part=True)
    seen = []
    _, items = await store.commit(
        "h9",
        deciding(
            [PutClaim(claim), PutPull(pr), SetTaskClosed(3, True)],
            [Reply("org/Paddle", 100, 7, "hi"), SetLabels("org/docs", 5, ("a", "b"))],
            True,
            seen,
        ),
        delivery_id=d.id,
        installation_id=42,
        token=d.token,
    )
    assert seen[0].claims == ()
    state = await store.state("h9")
    assert state.claims == (claim,)
    assert state.claims[0].claimed_at == NOW and state.claims[0].claimed_at.tzinfo is not None
    assert state.prs == (pr,)
    assert (state.prs[0].kind, state.prs[0].state) == (PrKind.CODE, PrState.OPEN)  # typed again when read
    assert type(state.prs[0].kind) is PrKind and type(state.prs[0].state) is PrState
    assert state.closed_tasks == {3}
    assert await store.lease_actions() == []  # leased to the worker that decided
    assert [i.action for i in items] == [Reply("org/Paddle", 100, 7, "hi"), SetLabels("org/docs", 5, ("a", "b"))]
    assert all(i.installation_id == 42 for i in items)
    counts = await store.delivery_counts()
    assert counts["done"] == 1 and counts["actions_pending"] == 2
    info = await store.board_info("h9")
    assert info["board_dirty"] and info["installation_id"] == 42


async def test_a_failed_transaction_leaves_nothing(store):
    await store.add_delivery("d1", "issue_comment", "created", b"{}")
    d = await store.lease_delivery()
    # an action that cannot be stored (not JSON-serialisable) fails the transaction midway
    with pytest.raises(Exception):  # noqa: B017 (whatever the driver raises for it)
        await store.commit(
            "h9",
            deciding([PutClaim(Claim("h9", 2, "a", Stage.CLAIMED, NOW))], [Reply("o/r", 1, 1, object())], True),
            delivery_id=d.id,
            token=d.token,
        )
    assert (await store.state("h9")).claims == ()
    assert (await store.delivery_counts()) == {"processing": 1}


async def test_a_worker_whose_lease_was_taken_over_cannot_commit(store):
    await store.add_delivery("d1", "issue_comment", "created", b"{}")
    slow = await store.lease_delivery()
    await store.release_delivery("d1", "lease ran out", retry_in=-1)  # as if its lease expired
    fast = await store.lease_delivery()
    await store.commit(
        "h9",
        deciding([PutClaim(Claim("h9", 2, "a", Stage.CLAIMED, NOW))], [Reply("o/r", 1, 1, "x")]),
        delivery_id="d1",
        token=fast.token,
    )
    with pytest.raises(LeaseLost):
        await store.commit(
            "h9",
            deciding([PutClaim(Claim("h9", 3, "a", Stage.CLAIMED, NOW))], [Reply("o/r", 1, 1, "y")]),
            delivery_id="d1",
            token=slow.token,
        )
    assert [c.task for c in (await store.state("h9")).claims] == [2]
    assert (await store.delivery_counts())["actions_pending"] == 1


async def test_claims_are_keyed_case_insensitively_and_updated_in_place(store):
    await store.commit("h9", deciding([PutClaim(Claim("h9", 2, "Alice", Stage.CLAIMED, NOW))]))
    await store.commit("h9", deciding([PutClaim(Claim("h9", 2, "alice", Stage.SUBMITTED, NOW))]))
    [c] = (await store.state("h9")).claims
    assert c.stage == Stage.SUBMITTED
    await store.commit("h9", deciding([DropClaim(2, "ALICE")]))
    assert (await store.state("h9")).claims == ()


async def test_an_action_is_leased_once_and_retried_after_its_lease(store):
    _, [item] = await store.commit("h9", deciding(actions=[Reply("o/r", 1, 1, "x")]), installation_id=1)
    aid = item.id
    assert item.attempts == 1 and await store.lease_actions() == []
    await store.finish_action(aid, "pending", "502", retry_in=-1)
    [again] = await store.lease_actions()
    assert again.attempts == 2
    await store.finish_action(aid, "failed", "PermanentError: 422")
    [failure] = await store.failures()
    assert failure["type"] == "action" and failure["error"] == "PermanentError: 422"


async def test_board_lease_and_coalescing(store):
    await store.mark_board_dirty("h9")
    assert await store.take_dirty_board(older_than=60) is None  # too fresh: wait for more changes
    assert await store.take_dirty_board(older_than=0) == "h9"
    assert await store.take_dirty_board(older_than=0) is None  # clean now
    await store.mark_board_dirty("h9")  # changed while the edit was in flight
    assert await store.take_dirty_board(older_than=0) is None  # still leased by the first edit
    await store.release_board("h9", edited_hash="abc")
    assert await store.take_dirty_board(older_than=0) == "h9"
    info = await store.board_info("h9")
    assert info["board_hash"] == "abc" and info["board_edits"] == 1


async def test_what_a_decision_does_to_the_board(store):
    """NONE leaves the board alone, MOVED asks for an edit, FORCE also forgets the text last
    written (a maintainer's /refresh: the tracker is rewritten even if the board looks the same)."""

    async def edited():
        await store.mark_board_dirty("h9")
        assert await store.take_dirty_board(older_than=0) == "h9"
        await store.release_board("h9", edited_hash="abc")

    await edited()
    await store.commit("h9", deciding(board=BoardChange.NONE))
    info = await store.board_info("h9")
    assert not info["board_dirty"] and info["board_hash"] == "abc"
    await store.commit("h9", deciding(board=BoardChange.MOVED))
    info = await store.board_info("h9")
    assert info["board_dirty"] and info["board_hash"] == "abc"
    assert await store.take_dirty_board(older_than=0) == "h9"
    await store.release_board("h9", edited_hash="abc")
    await store.commit("h9", deciding(board=BoardChange.FORCE))
    info = await store.board_info("h9")
    assert info["board_dirty"] and info["board_hash"] is None


async def test_failed_deliveries_are_listed(store):
    await store.add_delivery("bad", "pull_request", "opened", b"{}")
    await store.finish_delivery("bad", "failed", "ValidationError: pull_request missing")
    [f] = await store.failures()
    assert f["id"] == "bad" and f["event"] == "pull_request.opened" and "missing" in f["error"]


@pytest.mark.parametrize("backend", STORE_BACKENDS)
async def test_migrations_are_idempotent_and_two_stores_share_one_database(backend, tmp_path):
    a = await fresh_store(backend, tmp_path)
    await a.init(["h9"])
    b = Store(a.url)
    await b.init(["h9", "h10"])  # a second replica starting: no error, schema already there
    await a.add_delivery("d1", "issue_comment", "created", b"{}")
    assert (await b.lease_delivery()).id == "d1"
    assert await a.lease_delivery() is None
    await a.close()
    await b.close()


@pytest.mark.parametrize("backend", STORE_BACKENDS)
async def test_the_migrations_build_exactly_the_schema_the_code_declares(backend, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.store import metadata

    s = await fresh_store(backend, tmp_path)
    await s.init([])
    diff = await s.read(lambda c: compare_metadata(MigrationContext.configure(c), metadata))
    await s.close()
    assert diff == []


async def test_deliveries_about_one_pull_request_are_processed_in_order(store):
    await store.add_delivery("pr-1", "pull_request", "opened", b"{}", subject="pr:org/Paddle#7")
    await store.add_delivery("pr-2", "pull_request", "synchronize", b"{}", subject="pr:org/Paddle#7")
    await store.add_delivery("other", "pull_request", "opened", b"{}", subject="pr:org/Paddle#8")
    first = await store.lease_delivery()
    second = await store.lease_delivery()
    assert (first.id, second.id) == ("pr-1", "other")  # pr-2 waits for pr-1
    assert await store.lease_delivery() is None
    await store.finish_delivery("pr-1", "done")
    assert (await store.lease_delivery()).id == "pr-2"


async def test_an_older_checklist_is_superseded_by_a_newer_one(store):
    _, [old] = await store.commit("h9", deciding(actions=[UpsertChecklist("org/Paddle", 7, "old")]))
    _, [new, other] = await store.commit(
        "h9", deciding(actions=[UpsertChecklist("org/Paddle", 7, "new"), UpsertChecklist("org/Paddle", 8, "other")])
    )
    assert await store.superseded(old) is True
    assert await store.superseded(new) is False and await store.superseded(other) is False


async def test_the_state_cache_follows_changes_made_by_another_replica(store):
    seen = []
    await store.commit("h9", deciding([PutClaim(Claim("h9", 2, "alice", Stage.CLAIMED, NOW))], seen=seen))
    assert seen[-1].claims == ()
    other = Store(store.url)  # a second replica on the same database
    await other.commit("h9", deciding([PutClaim(Claim("h9", 3, "bob", Stage.CLAIMED, NOW))], seen=seen))
    assert [c.user for c in seen[-1].claims] == ["alice"]
    await other.close()
    await store.commit("h9", deciding(seen=seen))  # the cached state is stale: reloaded
    assert sorted(c.user for c in seen[-1].claims) == ["alice", "bob"]
    assert (await store.state("h9")) == seen[-1]


async def test_the_cached_state_is_the_stored_state(store):
    seen = []
    for i, user in enumerate(["zed", "Amy", "bob"]):
        await store.commit("h9", deciding([PutClaim(Claim("h9", 2, user, Stage.CLAIMED, NOW + timedelta(minutes=i % 2)))]))
    await store.commit(
        "h9",
        deciding(
            [
                PutPull(PullRequest("h9", "org/b", 2, "bob", "t", (2,), "code", "open", "u")),
                PutPull(PullRequest("h9", "org/A", 9, "amy", "t", (2,), "code", "open", "u")),
            ]
        ),
    )
    await store.commit("h9", deciding(seen=seen))
    assert seen[-1] == await store.state("h9")


async def test_a_rolled_back_transaction_does_not_poison_the_cache(store):
    def fails_after_changes(state):
        return Decision(changes=[PutClaim(Claim("h9", 2, "alice", Stage.CLAIMED, NOW))], actions=[Reply("o/r", 1, 1, object())])

    seen = []
    await store.commit("h9", deciding(seen=seen))
    with pytest.raises(Exception):  # noqa: B017 (the builder's own error, whatever it is)
        await store.commit("h9", fails_after_changes)
    await store.commit("h9", deciding(seen=seen))
    assert seen[-1].claims == ()


async def _leased(store, n):
    for i in range(n):
        await store.add_delivery(f"g{i}", "issue_comment", "created", b"{}")
    return await store.lease_deliveries(n)


async def test_commits_that_arrive_together_are_decided_one_after_the_other(store):
    """Thirty claims on one task with room for five, committed at once: each decision sees the
    claims of those before it, so exactly five hold it and every delivery is done once."""
    batch = await _leased(store, 30)

    def claim_if_room(user):
        def build(state):
            holders = [c for c in state.claims if c.task == 1]
            if len(holders) >= 5:
                return Decision(actions=[Reply("o/r", 1, 1, f"{user}: full")])
            return Decision(
                changes=[PutClaim(Claim("h9", 1, user, Stage.CLAIMED, NOW))], actions=[Reply("o/r", 1, 1, f"{user}: yours")]
            )

        return build

    results = await asyncio.gather(
        *(
            store.commit("h9", claim_if_room(f"u{i}"), delivery_id=d.id, token=d.token, installation_id=1)
            for i, d in enumerate(batch)
        )
    )
    state = await store.state("h9")
    assert sorted(c.user for c in state.claims) == sorted(f"u{i}" for i in range(5))
    replies = [items[0].action.body for _, items in results]
    assert replies == [f"u{i}: yours" if i < 5 else f"u{i}: full" for i in range(30)]
    assert len({items[0].id for _, items in results}) == 30  # each its own outbox row
    assert (await store.delivery_counts()) == {"done": 30, "actions_pending": 30}


async def test_a_commit_whose_decision_fails_fails_alone(store):
    batch = await _leased(store, 3)

    def broken(state):
        raise RuntimeError("a bug in deciding")

    builds = [
        deciding([PutClaim(Claim("h9", 1, "a", Stage.CLAIMED, NOW))]),
        broken,
        deciding([PutClaim(Claim("h9", 2, "b", Stage.CLAIMED, NOW))]),
    ]
    results = await asyncio.gather(
        *(store.commit("h9", b, delivery_id=d.id, token=d.token) for b, d in zip(builds, batch)), return_exceptions=True
    )
    assert isinstance(results[1], RuntimeError) and not isinstance(results[0], Exception)
    assert [(c.task, c.user) for c in (await store.state("h9")).claims] == [(1, "a"), (2, "b")]
    assert (await store.delivery_counts()) == {"done": 2, "processing": 1}  # the failed one is retried later


async def test_a_lost_lease_fails_only_its_own_commit(store):
    batch = await _leased(store, 3)
    results = await asyncio.gather(
        *(
            store.commit(
                "h9",
                deciding([PutClaim(Claim("h9", i, "a", Stage.CLAIMED, NOW))]),
                delivery_id=d.id,
                token="someone-else" if i == 1 else d.token,
            )
            for i, d in enumerate(batch)
        ),
        return_exceptions=True,
    )
    assert isinstance(results[1], LeaseLost)
    assert [c.task for c in (await store.state("h9")).claims] == [0, 2]


async def test_a_group_whose_transaction_fails_is_retried_one_by_one(store):
    """One commit that cannot be stored fails the group's transaction: the others are committed
    alone, and only the culprit fails."""
    batch = await _leased(store, 4)
    builds = [
        deciding([PutClaim(Claim("h9", i, "a", Stage.CLAIMED, NOW))], [Reply("o/r", 1, 1, object() if i == 2 else f"r{i}")])
        for i in range(4)
    ]
    results = await asyncio.gather(
        *(store.commit("h9", b, delivery_id=d.id, token=d.token) for b, d in zip(builds, batch)), return_exceptions=True
    )
    assert [isinstance(r, Exception) for r in results] == [False, False, True, False]
    assert [c.task for c in (await store.state("h9")).claims] == [0, 1, 3]
    assert (await store.delivery_counts()) == {"done": 3, "processing": 1, "actions_pending": 3}


@pytest.mark.parametrize("backend", [b for b in STORE_BACKENDS if b == "postgres"])
async def test_connections_the_server_dropped_cost_no_delivery(backend, tmp_path):
    """PostgreSQL drops every connection (a restart, a failover): the next delivery is still
    stored and decided, not refused (pooled connections are not pinged before each use)."""
    from sqlalchemy import text

    store = await fresh_store(backend, tmp_path)
    await store.init(["h9"])
    for i in range(3):
        assert await store.add_delivery(f"before-{i}", "issue_comment", "created", b"{}") is True
    await store.read(
        lambda conn: conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).all()
    )
    assert await store.add_delivery("after", "issue_comment", "created", b"{}") is True
    [d] = [d for d in await store.lease_deliveries(10) if d.id == "after"]
    await store.commit("h9", deciding([PutClaim(Claim("h9", 1, "a", Stage.CLAIMED, NOW))]), delivery_id=d.id, token=d.token)
    assert [c.user for c in (await store.state("h9")).claims] == ["a"]
    await store.close()


@given(st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.one_of(st.none(), st.timezones())))
def test_a_timestamp_is_stored_in_sqlite_exactly_as_sqlalchemy_writes_it(moment):
    """SQLite compares stored timestamps as text (the inbox's order, lease expiry): the one-step
    writer must produce SQLAlchemy's own DATETIME text for every moment, aware or naive."""
    from sqlalchemy.dialects import sqlite

    from bot.store.schema import UTCDateTime

    dialect = sqlite.dialect()
    t = UTCDateTime()
    stock = t.impl.dialect_impl(dialect).bind_processor(dialect)
    try:
        expected = stock(t.process_bind_param(moment, dialect))
    except OverflowError:  # an aware moment that does not fit in UTC's year range: neither can store it
        return
    assert t.dialect_impl(dialect).bind_processor(dialect)(moment) == expected


async def test_a_closed_campaign_stays_closed_when_its_state_is_read_back(store):
    """A state read from the database (a restart, another replica) keeps the campaign closed."""
    from datetime import UTC, datetime

    from bot.core.actions import Decision, SetCampaignClosed
    from bot.store import Store

    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    await store.commit("h9", lambda st: Decision(changes=[SetCampaignClosed(at)]))
    restarted = Store(store.url)  # another process on the same database: nothing cached
    try:
        assert (await restarted.state("h9")).closed_at == at
        assert (await restarted.current_state("h9")).closed_at == at
    finally:
        await restarted.close()
