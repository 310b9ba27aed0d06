"""Hostile input and faults, round two (issue 23), end to end: signed deliveries into the bot's
real server, the bot's calls into the fake GitHub (GitHub's limits), everything on 127.0.0.1.
One test per finding, named after it: what an attacker with a GitHub account does, and what
an organiser or participant would notice."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests import payloads
from tests.harness import Harness

pytestmark = pytest.mark.asyncio

JIT = "python/paddle/jit/api.py"
JIT_TEST = "test/dygraph_to_static/test_jit.py"


@pytest.fixture
async def bot(tmp_path, all_rules):
    async with Harness(all_rules, tmp_path) as h:
        yield h


def replies_to(h: Harness, user: str, number: int = 100, repo: str = "org/Paddle") -> list[str]:
    return [c["body"] for c in h.bot_comments(repo, number) if f"@{user}" in c["body"]]


async def healthz_seconds(h: Harness) -> float:
    started = time.monotonic()
    async with h.session.get(h.url + "/healthz") as resp:
        assert resp.status == 200
        await resp.read()
    return time.monotonic() - started


async def pr_comment(
    h: Harness, number: int, body: str, user: str, *, repo: str = "org/Paddle", action: str = "created", cid: int | None = None
) -> tuple[int, int]:
    """Someone comments on a pull request (or edits their comment): (status, comment id)."""
    if cid is None:
        cid = h.gh.add_comment(repo, number, body, user=user)["id"]
    changes = {"body": {"from": "/done"}} if action == "edited" else None
    p = payloads.issue_comment(
        action, repo=repo, issue_number=number, comment_id=cid, body=body, user=user, is_pull=True, changes=changes
    )
    status, _ = await h.post("issue_comment", p)
    return status, cid


# ---- 1. a PR comment never freezes the bot -----------------------------------------------------------
async def test_1_liveness_during_a_hostile_pr_comment(bot):
    """`/done` + 40,000 spaces + one character took 5-10 s of regular-expression time on the event
    loop, on any PR of an installed repository; now it is read (linearly) off the loop, and a
    repository outside every campaign is dropped before it is read at all."""
    await bot.comment("【报名】：1", user="warmup")  # first-use costs are not the hostile comment's
    await bot.pull_request("opened", 7, title="【Hackathon 9th No.3】jit", user="alice", files=[JIT, JIT_TEST])
    await bot.pull_request("opened", 8, title="Fix a typo", user="bob", files=["README.md"])
    bot.gh.add_repo("elsewhere/tool")
    bot.gh.add_pull("elsewhere/tool", 3, title="unrelated", user="carol")
    await bot.settle()
    hostile = "/done" + " " * 40_000 + "x"
    sent = asyncio.gather(
        pr_comment(bot, 7, hostile, "mallory"),
        pr_comment(bot, 7, hostile + "y", "mallory"),
        pr_comment(bot, 8, hostile, "mallory"),
        pr_comment(bot, 3, hostile, "mallory", repo="elsewhere/tool"),
        pr_comment(bot, 7, "/recheck" + "\t" * 60_000 + "x", "mallory"),
    )
    await asyncio.sleep(0.05)
    await bot.comment("【报名】：2", user="bob")
    # The bot runs on this test's event loop: a stall shows as a long gap between two turns here.
    slowest, last = 0.0, time.monotonic()
    deadline = last + 30
    while not (replies_to(bot, "bob") and sent.done() and await bot.pipeline.idle(0.01)) and time.monotonic() < deadline:
        await healthz_seconds(bot)
        await asyncio.sleep(0.05)
        slowest, last = max(slowest, time.monotonic() - last), time.monotonic()
    assert replies_to(bot, "bob"), "the normal claim was not answered"
    assert all(status == 202 for status, _ in await sent)
    await bot.settle()
    assert slowest < 0.5, f"the event loop stalled for {slowest:.2f} s"
    state = await bot.store.state("h9")
    assert [c.user for c in state.claims_on(2)] == ["bob"]
    assert state.claim(3, "alice") is not None  # nothing was done for the hostile text
    assert not bot.bot_comments("elsewhere/tool", 3)
