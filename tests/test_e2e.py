"""End to end over real HTTP: signed deliveries into the bot's server, the bot's calls into a fake GitHub."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from bot.core.board import BOARD_END, BOARD_START
from bot.core.review import CHECKLIST_MARKER
from bot.rules.models import ClaimPolicy, Rules
from bot.settings import Settings
from tests import payloads
from tests.conftest import STORE_BACKENDS, make_campaign, make_rules
from tests.harness import TRACKER_BODY, Harness

pytestmark = pytest.mark.asyncio


@pytest.fixture(params=STORE_BACKENDS)
async def bot(request, tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, backend=request.param) as h:
        yield h


def api_calls(h: Harness, since: int, *, free: bool = False) -> list[str]:
    """The bot's API calls since request `since`: those counted against the rate limit, or (`free`)
    the conditional reads GitHub answered 304 (not counted)."""
    return [
        f"{r.method} {r.path}"
        for r in h.gh.requests[since:]
        if "/access_tokens" not in r.path and r.path != "/app" and (r.status == 304) == free
    ]


async def test_a_claim_gets_one_reply_and_lands_on_the_board(bot):
    status, data = await bot.comment("【报名】：1、2")
    assert status == 202 and data["status"] == "queued"
    await bot.settle()
    [reply] = bot.bot_comments()
    assert "@alice" in reply["body"]
    body = bot.tracker()
    assert body.startswith(TRACKER_BODY)  # the organiser's text is kept
    assert BOARD_START in body and BOARD_END in body
    board = body[body.index(BOARD_START) :]
    assert "@alice" in board and "Fuse the attention kernel" in board


async def test_a_claim_comment_costs_at_most_three_api_calls(bot):
    await bot.comment("warm up the token", user="zed")
    await bot.settle()
    before = len(bot.gh.requests)
    await bot.comment("【报名】：2")
    await bot.settle()
    calls = api_calls(bot, before)
    assert len(calls) <= 3, calls
    assert any(c.startswith("POST /repos/org/Paddle/issues/100/comments") for c in calls)
    assert any(c.startswith("PATCH /repos/org/Paddle/issues/100") for c in calls)
    # the next claim: the re-read right before the board write is a conditional request, answered
    # 304 (free); the first read is not (the reply just posted changed the issue's comment count)
    before = len(bot.gh.requests)
    await bot.comment("【报名】：3", user="bob")
    await bot.settle()
    assert len(api_calls(bot, before)) <= 3, api_calls(bot, before)
    assert api_calls(bot, before, free=True) == ["GET /repos/org/Paddle/issues/100"]


async def test_the_board_is_not_written_over_an_organiser_edit_made_meanwhile(bot):
    await bot.comment("【报名】：2")
    await bot.settle()
    path = "/repos/org/Paddle/issues/100"
    before = len(bot.gh.requests)
    bot.gh.slow_next("GET", f"^{path}$", 0.5, times=2)  # the bot's read and re-read each take half a second
    await bot.comment("【报名】：3", user="bob")
    for _ in range(200):  # the first read has been answered: the organiser edits the tracker now
        if any(r.method == "GET" and r.path == path and r.status for r in bot.gh.requests[before:]):
            break
        await asyncio.sleep(0.02)
    tracker = bot.gh._get_issue("org/Paddle", 100)
    tracker.body = tracker.body.replace("# Hackathon", "# Edited Hackathon")
    await bot.settle()
    body = bot.tracker()
    assert body.startswith("# Edited Hackathon") and "@bob" in body  # the edit kept, the board current
    reads = [r.status for r in bot.gh.requests[before:] if r.method == "GET" and r.path == path]
    assert len(reads) >= 3  # read, re-read (changed), re-read (unchanged), then the write


async def test_a_redelivery_is_acknowledged_and_not_processed_twice(bot):
    cid = bot.gh.add_comment("org/Paddle", 100, "【报名】：2", user="alice")["id"]
    s1, d1 = await bot.comment("【报名】：2", comment_id=cid, delivery="dup-1")
    s2, d2 = await bot.comment("【报名】：2", comment_id=cid, delivery="dup-1")
    assert (s1, d1["status"], s2, d2["status"]) == (202, "queued", 202, "duplicate")
    await bot.settle()
    assert len(bot.bot_comments()) == 1


async def test_forged_or_missing_signatures_get_401_and_nothing_happens(bot):
    p = payloads.issue_comment("created", repo="org/Paddle", issue_number=100, comment_id=1, body="【报名】：2", user="mallory")
    assert (await bot.post("issue_comment", p, secret="wrong"))[0] == 401
    assert (await bot.post("issue_comment", p, secret=None))[0] == 401
    assert (await bot.post("issue_comment", p, headers={"X-Hub-Signature-256": "sha1=abc"}))[0] == 401
    await bot.settle()
    assert (await bot.store.delivery_counts()) == {}
    assert bot.bot_comments() == []


async def test_bad_input_gets_clear_answers(bot):
    assert (await bot.post("issue_comment", b"{not json"))[0] == 400
    status, data = await bot.post("watch", {"action": "started"})
    assert status == 202 and data["status"] == "ignored"
    status, data = await bot.post("ping", {"zen": "Keep it logically awesome."})
    assert status == 200
    # a comment by a bot (including this one) is ignored: no loops
    await bot.comment("【报名】：2", user="other-bot[bot]", user_type="Bot")
    # a comment somewhere no campaign lives is ignored
    bot.gh.add_issue("org/Paddle", 999, title="unrelated")
    await bot.comment("【报名】：2", number=999)
    await bot.settle()
    assert bot.bot_comments() == [] and bot.bot_comments(number=999) == []


async def test_oversized_body_gets_413(bot):
    bot.settings.max_body_bytes = 2048
    bot.app._client_max_size = 2048
    status, _ = await bot.post("issue_comment", b'{"x": "' + b"a" * 5000 + b'"}')
    assert status == 413


async def test_pr_checklist_is_one_comment_edited_in_place(bot):
    await bot.comment("【报名】：3")
    await bot.settle()
    title = "【Hackathon 9th No.3】jit support"
    await bot.pull_request("opened", 7, title=title, files=["python/paddle/jit/api.py"])
    await bot.settle()
    [c1] = bot.bot_comments(number=7)
    assert c1["body"].startswith(CHECKLIST_MARKER)
    assert set(bot.gh.labels("org/Paddle", 7)) == {"hackathon", "needs-tests"}
    before = len(bot.gh.requests)
    await bot.pull_request("synchronize", 7, files=["python/paddle/jit/api.py", "test/dygraph_to_static/test_jit.py"])
    await bot.settle()
    [c2] = bot.bot_comments(number=7)
    assert c2["id"] == c1["id"] and c2["body"] != c1["body"]
    assert set(bot.gh.labels("org/Paddle", 7)) == {"hackathon", "ready"}
    calls = api_calls(bot, before)
    # files, edit, labels, check run (+ the board's read and edit for the stage change)
    assert len([c for c in calls if "/issues/100" not in c]) <= 4 and len(calls) <= 4 + 2
    # the same push again: nothing to edit
    before = len(bot.gh.requests)
    await bot.pull_request("synchronize", 7)
    await bot.settle()
    calls = api_calls(bot, before)
    assert not any(c.startswith("PATCH") or c.startswith("POST") or c.startswith("PUT") for c in calls), calls
    # merged: the board says completed
    await bot.pull_request("closed", 7, merged=True, state="closed")
    await bot.settle()
    state = await bot.store.state("h9")
    assert state.claim(3, "alice").stage.value == "completed"
    assert "alice" in bot.tracker()


async def test_pr_files_are_paginated(bot):
    files = [f"python/paddle/jit/f{i}.py" for i in range(250)] + ["test/dygraph_to_static/test_big.py"]
    before = len(bot.gh.requests)
    await bot.pull_request("opened", 8, title="【Hackathon 9th No.3】big", files=files)
    await bot.settle()
    assert bot.gh.count("GET", r"/pulls/8/files") == 3
    calls = api_calls(bot, before)
    # 3 pages of files, checklist, labels, check run (+ the board's read and edit)
    assert len([c for c in calls if "/issues/100" not in c]) <= 4 + 2 and len(calls) <= 4 + 2 + 2
    assert set(bot.gh.labels("org/Paddle", 8)) == {"hackathon", "ready"}


async def test_maintainer_commands_need_permission(bot):
    bot.gh.set_permission("org/Paddle", "helper", "write")
    await bot.comment("/assign @bob 2", user="mallory")
    await bot.comment("/assign @carol 3", user="helper")
    await bot.comment("/close-task 1", user="boss")  # listed in the campaign's maintainers
    await bot.settle()
    state = await bot.store.state("h9")
    assert state.claim(2, "bob") is None
    assert state.claim(3, "carol") is not None
    assert 1 in state.closed_tasks
    refusal = next(c for c in bot.bot_comments() if "@mallory" in c["body"])
    assert "/assign" in refusal["body"]


async def test_a_burst_of_claims_coalesces_board_edits(tmp_path):
    tasks = {i: make_rules().tasks[2].model_copy(update={"id": i, "title": f"Task {i}"}) for i in range(1, 301)}
    r = make_rules(tasks=tasks, campaign=make_campaign(claim_policy=ClaimPolicy()))
    # The bot's shipped write budget against GitHub's secondary limit (the fake's default), and its reply gap.
    async with Harness(
        Rules(campaigns={"h9": r}),
        tmp_path,
        board_delay=1.0,
        workers=16,
        max_writes_per_minute=80,
        reply_gap=Settings.model_fields["reply_gap"].default,
    ) as h:
        sends = [h.comment(f"【报名】：{i}", user=f"user{i}") for i in range(1, 301)]
        results = await asyncio.gather(*sends)
        assert all(s == 202 for s, _ in results)
        await h.settle(timeout=60)
        board = h.tracker()
        on_board = set(re.findall(r"@(user\d+)", board))
        assert on_board == {f"user{i}" for i in range(1, 301)}
        # board edits coalesce: at most one per BOARD_DELAY however long deciding the burst takes
        edits = sorted(r.started for r in h.gh.requests if r.method == "PATCH" and r.path == "/repos/org/Paddle/issues/100")
        assert edits and all(b - a >= 0.9 * h.board_delay for a, b in zip(edits, edits[1:])), edits
        # replies coalesce: every claimer is addressed exactly once, in far fewer comments
        replies = h.bot_comments()
        assert 1 <= len(replies) <= 20
        addressed = [u for c in replies for u in re.findall(r"^@(user\d+)\b", c["body"], re.M)]
        assert sorted(addressed) == sorted(f"user{i}" for i in range(1, 301))
        claims = [c for c in h.gh.comments("org/Paddle", 100) if c["user"]["login"].startswith("user")]
        markers = [m for c in replies for m in re.findall(r"hackathon-bot:reply:(\d+)", c["body"])]
        assert sorted(int(m) for m in markers) == sorted(c["id"] for c in claims)
        assert h.gh.secondary_limited == 0


async def test_github_5xx_is_retried_and_the_reply_lands_once(bot):
    bot.gh.fail_next("POST", r"/issues/100/comments$", 502, times=2)
    await bot.comment("【报名】：2")
    await bot.settle()
    assert len(bot.bot_comments()) == 1


async def test_a_permanent_error_is_recorded_and_visible(bot):
    bot.gh.fail_next("POST", r"/issues/100/comments$", 422, times=1)
    await bot.comment("【报名】：2")
    await bot.settle()
    assert bot.bot_comments() == []
    async with bot.session.get(bot.url + "/status") as resp:
        data = await resp.json()
    [failure] = data["failures"]
    assert failure["type"] == "action" and "422" in failure["error"]
    # the claim itself stays recorded
    assert (await bot.store.state("h9")).claim(2, "alice") is not None


async def test_healthz(bot):
    async with bot.session.get(bot.url + "/healthz") as resp:
        assert resp.status == 200
        assert (await resp.json())["status"] == "ok"


async def test_edited_comment_only_new_claims(bot):
    cid = bot.gh.add_comment("org/Paddle", 100, "【报名】：2", user="alice")["id"]
    await bot.comment("【报名】：2", comment_id=cid)
    await bot.settle()
    await bot.comment("【报名】：2、3", comment_id=cid, action="edited", old="【报名】：2")
    await bot.settle()
    state = await bot.store.state("h9")
    assert {c.task for c in state.claims_of("alice")} == {2, 3}
    second = bot.bot_comments()[-1]["body"]
    assert "3" in second


async def test_task_issue_claim_assigns_and_labels(bot):
    await bot.comment("/claim", number=201, user="alice")
    await bot.settle()
    issue = bot.gh.issue("org/Paddle", 201)
    assert [a["login"] for a in issue["assignees"]] == ["alice"]
    assert "claimed" in [l["name"] for l in issue["labels"]]
    assert (await bot.store.state("h9")).claim(1, "alice") is not None


async def test_dry_run_sends_nothing_and_logs_actions(tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, dry_run=True) as h:
        await h.comment("【报名】：2")
        await h.settle()
        assert h.bot_comments() == []
        kinds = [json.loads(line)["kind"] for line in h.dry_lines]
        assert "Reply" in kinds and "UpdateBoard" in kinds
        assert h.gh.requests == []


async def test_a_quick_push_after_opening_leaves_the_newest_checklist(bot):
    await bot.comment("【报名】：3")
    await bot.settle()
    bot.gh.latency = 0.05
    bot.gh.add_pull("org/Paddle", 9, title="【Hackathon 9th No.3】jit", user="alice", files=["python/paddle/jit/api.py"])
    opened = payloads.pull_request("opened", repo="org/Paddle", number=9, title="【Hackathon 9th No.3】jit", user="alice")
    await bot.post("pull_request", opened)
    bot.gh.update_pull("org/Paddle", 9, files=["python/paddle/jit/api.py", "test/dygraph_to_static/test_jit.py"])
    pushed = payloads.pull_request("synchronize", repo="org/Paddle", number=9, title="【Hackathon 9th No.3】jit", user="alice")
    await bot.post("pull_request", pushed)
    await bot.settle()
    [checklist] = bot.bot_comments(number=9)
    assert "test_jit.py" in checklist["body"]
    assert set(bot.gh.labels("org/Paddle", 9)) == {"hackathon", "ready"}


async def test_lapsed_claims_leave_the_board(bot):
    from datetime import timedelta

    from bot.core.actions import BoardChange, Decision, PutClaim
    from bot.core.model import Claim, Stage
    from bot.store import utcnow

    await bot.pipeline.expiry.swept.wait()  # the sweep at start is over: only the call below releases it
    old = Claim("h9", 2, "sleepy", Stage.CLAIMED, utcnow() - timedelta(days=30))
    await bot.store.commit("h9", lambda state: Decision(changes=[PutClaim(old)], board=BoardChange.MOVED), installation_id=1)
    await bot.settle()
    assert "@sleepy" in bot.tracker()
    assert await bot.pipeline.lapse_expired_claims() == 1
    await bot.settle()
    assert "@sleepy" not in bot.tracker()
    assert (await bot.store.state("h9")).claims == ()


async def test_a_pr_retitled_away_from_its_task_gives_the_credit_back(bot):
    await bot.comment("【报名】：3")
    await bot.pull_request("opened", 11, title="【Hackathon 9th No.3】jit", files=["python/paddle/jit/api.py"])
    await bot.settle()
    assert (await bot.store.state("h9")).claim(3, "alice").stage.value == "submitted"
    await bot.pull_request("edited", 11, title="Refactor jit helpers")
    await bot.settle()
    assert (await bot.store.state("h9")).claim(3, "alice").stage.value == "claimed"


def _reply_posts(h: Harness) -> list[float]:
    """When the bot's comments on the tracker arrived at GitHub."""
    return sorted(r.started for r in h.gh.requests if r.method == "POST" and r.path == "/repos/org/Paddle/issues/100/comments")


async def test_the_end_of_a_burst_is_answered_without_waiting_the_whole_reply_gap(tmp_path, all_rules):
    """With the write budget mostly unspent, replies queued behind the gap go out as soon as the
    burst is over (no new claim for a moment), merged; they do not wait the whole gap."""
    async with Harness(all_rules, tmp_path, max_writes_per_minute=80) as h:
        h.pipeline.executor.reply_gap = 20.0
        h.pipeline.executor.reply_settle_floor = h.pipeline.executor.reply_settle  # 0.3 s: a slow machine's claims stay one burst
        await h.comment("【报名】：1", user="first")
        await h.wait_for(lambda: len(h.bot_comments()) == 1)
        results = await asyncio.gather(*(h.comment(f"【报名】：{i}", user=f"user{i}") for i in range(2, 9)))
        assert all(s == 202 for s, _ in results)
        await h.wait_for(lambda: len(h.bot_comments()) == 2, timeout=15)
        first, merged = _reply_posts(h)
        assert merged - first < 10.0  # half the gap: it went early
        assert sorted(re.findall(r"^@(user\d+)", h.bot_comments()[1]["body"], re.M)) == sorted(f"user{i}" for i in range(2, 9))


async def test_with_half_the_write_budget_spent_replies_wait_the_whole_gap(tmp_path, all_rules):
    """Early replies never eat into a budget that is getting short: past half of it, queued
    replies wait the whole gap (and merge)."""
    async with Harness(all_rules, tmp_path, max_writes_per_minute=8) as h:
        h.pipeline.executor.reply_gap = 4.0
        await h.comment("【报名】：1", user="first")  # its reply and the board edit: 2 of 8 writes a minute
        await h.wait_for(lambda: len(h.bot_comments()) == 1 and BOARD_START in h.tracker())
        inst = await h.pipeline.github.installation((await h.store.board_info("h9"))["installation_id"])
        h.gh.add_issue("org/Paddle", 101, title="Elsewhere")
        for _ in range(2):  # two more writes of the installation: half its budget is spent
            await inst.create_comment("org/Paddle", 101, "elsewhere")
        results = await asyncio.gather(*(h.comment(f"【报名】：{i}", user=f"user{i}") for i in range(2, 5)))
        assert all(s == 202 for s, _ in results)
        await h.wait_for(lambda: len(h.bot_comments()) == 2, timeout=30)
        first, merged = _reply_posts(h)
        assert merged - first >= 0.9 * 4.0
        assert h.gh.secondary_limited == 0


async def test_claims_are_decided_in_the_order_they_arrived_even_past_the_hand_over_limit(tmp_path):
    """One worker, so most deliveries wait in the inbox: none that arrives later overtakes them
    (first come, first served), whether it was handed to the worker or waited for the dispatcher."""
    tasks = {i: make_rules().tasks[2].model_copy(update={"id": i, "title": f"Task {i}"}) for i in range(1, 31)}
    r = make_rules(tasks=tasks, campaign=make_campaign(claim_policy=ClaimPolicy()))
    async with Harness(Rules(campaigns={"h9": r}), tmp_path, workers=1) as h:
        results = await asyncio.gather(*(h.comment(f"【报名】：{i}", user=f"user{i}") for i in range(1, 21)))
        assert all(s == 202 for s, _ in results)
        for i in range(21, 31):  # while the first ones still wait in the inbox
            status, _ = await h.comment(f"【报名】：{i}", user=f"user{i}")
            assert status == 202
        await h.settle()
        from sqlalchemy import select

        from bot.store.schema import deliveries

        rows = await h.store.read(
            lambda conn: conn.execute(select(deliveries.c.payload).order_by(deliveries.c.received_at, deliveries.c.id)).all()
        )
        arrived = [json.loads(r.payload)["comment"]["user"]["login"] for r in rows]
        decided = [e.user for _, e in await h.store.history_since("h9")]
        assert sorted(decided) == sorted(f"user{i}" for i in range(1, 31))
        assert decided == arrived
