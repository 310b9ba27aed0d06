"""The effects ledger: a comment's commands take effect once per comment id and content, a pull
request event once per PR state, whatever the delivery id (issue 8 item 5, issue 10).

End to end: signed deliveries into the bot, the bot's calls into the fake GitHub; what users
see (replies, assignments on the board) is compared with the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.ledger import Applied, Verdict, comment_effect, pull_effect, verdict
from tests import payloads
from tests.conftest import STORE_BACKENDS
from tests.harness import Harness

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


# ---- the pure verdict ------------------------------------------------------------------------------
def applied(e) -> Applied:
    return Applied(e.fingerprint, e.version, e.body)


def test_a_comment_is_new_then_a_replay_then_an_edit():
    first = comment_effect("Org/Paddle", 7, "claim 3", T0)
    assert verdict(first, None) is Verdict.NEW
    assert verdict(comment_effect("org/paddle", 7, "claim 3", T0), applied(first)) is Verdict.REPLAY
    edited = comment_effect("org/Paddle", 7, "claim 3, 4", T0 + timedelta(minutes=1))
    assert verdict(edited, applied(first)) is Verdict.CHANGED
    # the original text replayed after the edit took effect is older: nothing
    assert verdict(first, applied(edited)) is Verdict.STALE
    # another comment id is another subject
    assert comment_effect("org/Paddle", 8, "claim 3", T0).subject != first.subject


def test_a_pull_request_state_is_what_the_bot_reads_of_it():
    def pr(**kw):
        base = {
            "head_sha": "a" * 40,
            "title": "【Hackathon 9th No.3】x",
            "body": "",
            "state": "open",
            "merged": False,
            "files": [("a.py", "added")],
            "updated_at": T0,
        }
        return pull_effect("org/Paddle", 7, **{**base, **kw})

    opened = pr()
    assert verdict(pr(updated_at=T0 + timedelta(seconds=5)), applied(opened)) is Verdict.REPLAY  # a label moved updated_at
    for change in (
        {"head_sha": "b" * 40},
        {"title": "other"},
        {"state": "closed"},
        {"merged": True},
        {"files": [("a.py", "added"), ("t.py", "added")]},
        {"body": "RFC: link"},
    ):
        assert verdict(pr(updated_at=T0 + timedelta(seconds=9), **change), applied(opened)) is Verdict.CHANGED
    merged = pr(merged=True, updated_at=T0 + timedelta(hours=1))
    assert verdict(opened, applied(merged)) is Verdict.STALE  # the opened event replayed after the merge


# ---- end to end --------------------------------------------------------------------------------------
@pytest.fixture(params=STORE_BACKENDS)
async def bot(request, tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, backend=request.param) as h:
        yield h


def replies_to(h: Harness, comment_id: int) -> list[dict]:
    return [c for c in h.bot_comments() if f"reply:{comment_id}" in c["body"]]


async def test_the_same_signed_body_under_a_new_delivery_id_gets_no_second_reply(bot):
    cid = bot.gh.add_comment("org/Paddle", 100, "【报名】：2", user="alice")["id"]
    p = payloads.issue_comment("created", repo="org/Paddle", issue_number=100, comment_id=cid, body="【报名】：2", user="alice")
    body = payloads.encode(p)
    assert (await bot.post("issue_comment", body, delivery="first"))[0] == 202
    await bot.settle()
    calls = len(bot.gh.requests)
    status, data = await bot.post("issue_comment", body, delivery="captured-and-replayed")
    assert (status, data["status"]) == (202, "queued")  # acknowledged like any delivery...
    await bot.settle()
    assert len(replies_to(bot, cid)) == 1  # ...but nothing happens: no second reply
    assert len(bot.gh.requests) == calls  # not one call to GitHub
    state = await bot.store.state("h9")
    assert [(c.task, c.user) for c in state.claims] == [(2, "alice")]


async def test_a_captured_assign_replayed_after_unassign_leaves_the_person_unassigned(bot):
    cid = bot.gh.add_comment("org/Paddle", 100, "/assign @bob 2", user="boss")["id"]
    captured = payloads.encode(
        payloads.issue_comment("created", repo="org/Paddle", issue_number=100, comment_id=cid, body="/assign @bob 2", user="boss")
    )
    await bot.post("issue_comment", captured)
    await bot.settle()
    assert [c.user for c in (await bot.store.state("h9")).claims_on(2)] == ["bob"]
    await bot.comment("/unassign @bob 2", user="boss")
    await bot.settle()
    assert list((await bot.store.state("h9")).claims_on(2)) == []
    await bot.post("issue_comment", captured, delivery="replayed")
    await bot.settle()
    assert list((await bot.store.state("h9")).claims_on(2)) == []
    assert "@bob" not in bot.tracker().split("<!--", 1)[-1]
    assert len(replies_to(bot, cid)) == 1


async def test_an_edit_counts_what_is_new_against_what_was_applied_not_what_the_payload_claims(bot):
    cid = bot.gh.add_comment("org/Paddle", 100, "【报名】：1", user="alice")["id"]
    await bot.comment("【报名】：1", user="alice", comment_id=cid)
    await bot.settle()
    await bot.comment("【取消报名】：1", user="alice")  # alice releases task 1 in another comment
    await bot.settle()
    # An edit of the first comment whose `changes.from` pretends the comment was empty: the
    # ledger knows `【报名】：1` already took effect, so only task 2 is new.
    await bot.comment("【报名】：1\n【报名】：2", user="alice", comment_id=cid, action="edited", old="")
    await bot.settle()
    state = await bot.store.state("h9")
    assert sorted(c.task for c in state.claims_of("alice")) == [2]
    # the same edit again, under another id: nothing
    await bot.comment("【报名】：1\n【报名】：2", user="alice", comment_id=cid, action="edited", old="【报名】：1")
    await bot.settle()
    assert len(replies_to(bot, cid)) == 2  # the claim and the edit, nothing for the replay


async def test_a_pull_request_event_replayed_under_a_new_id_does_nothing(bot):
    await bot.comment("【报名】：3", user="alice")
    await bot.settle()
    await bot.pull_request("opened", 7, title="【Hackathon 9th No.3】jit", files=["python/paddle/jit/api.py"], user="alice")
    await bot.settle()
    pr = bot.gh.pull("org/Paddle", 7)
    p = payloads.pull_request("opened", repo="org/Paddle", number=7, title=pr["title"], user="alice", head_sha=pr["head"]["sha"])
    p["pull_request"]["updated_at"] = "2026-01-01T00:00:00Z"  # captured earlier
    calls = len(bot.gh.requests)
    await bot.post("pull_request", p, delivery="pr-replayed")
    await bot.settle()
    # the files of this head commit are known already: nothing is read, nothing is written
    assert [r.method for r in bot.gh.requests[calls:] if "/access_tokens" not in r.path] == []
    # the merge, then the opened event replayed: the task stays completed
    await bot.pull_request("closed", 7, merged=True, state="closed")
    await bot.settle()
    await bot.post("pull_request", p, delivery="pr-replayed-after-merge")
    await bot.settle()
    [claim] = (await bot.store.state("h9")).claims_on(3)
    assert (claim.user, claim.stage.value) == ("alice", "completed")
