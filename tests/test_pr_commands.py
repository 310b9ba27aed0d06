"""Commands where people work (issue 12 item 3): in a task PR's comments and on a task's own issue,
with the tracker's permission rules; `/recheck` reviews a PR again. End to end against the fake GitHub."""

from __future__ import annotations

import pytest

from bot.core.decide import bare_commands
from bot.core.model import Stage
from bot.core.review import CHECKLIST_MARKER
from tests import payloads
from tests.harness import Harness

JIT = "python/paddle/jit/api.py"
JIT_TEST = "test/dygraph_to_static/test_jit.py"
TITLE = "【Hackathon 9th No.3】jit support"


@pytest.fixture
async def bot(tmp_path, all_rules):
    async with Harness(all_rules, tmp_path) as h:
        yield h


async def pr_comment(h: Harness, number: int, body: str, user: str, *, repo: str = "org/Paddle") -> None:
    """Someone comments on a pull request: the webhook's issue carries `pull_request`."""
    cid = h.gh.add_comment(repo, number, body, user=user)["id"]
    p = payloads.issue_comment("created", repo=repo, issue_number=number, comment_id=cid, body=body, user=user, is_pull=True)
    status, _ = await h.post("issue_comment", p)
    assert status == 202
    await h.settle()


def replies(h: Harness, number: int) -> list[str]:
    return [c["body"] for c in h.bot_comments(number=number) if not c["body"].startswith(CHECKLIST_MARKER)]


async def open_pr(h: Harness, number: int = 7, files: list[str] | None = None, user: str = "alice") -> None:
    await h.pull_request("opened", number, title=TITLE, user=user, files=files or [JIT, JIT_TEST])
    await h.settle()


async def test_done_in_a_pr_comment_by_a_maintainer_completes_the_task(bot):
    await open_pr(bot)
    assert (await bot.store.state("h9")).claim(3, "alice").stage == Stage.SUBMITTED
    await pr_comment(bot, 7, "/done", user="boss")  # a campaign maintainer
    state = await bot.store.state("h9")
    assert state.claim(3, "alice").stage == Stage.COMPLETED
    [reply] = replies(bot, 7)
    assert "No.3" in reply and "@boss" in reply
    assert "alice" in bot.tracker()


async def test_done_in_a_pr_comment_by_a_stranger_is_refused(bot):
    await open_pr(bot)
    bot.gh.set_permission("org/Paddle", "mallory", "read")
    await pr_comment(bot, 7, "/done 3", user="mallory")
    assert (await bot.store.state("h9")).claim(3, "alice").stage == Stage.SUBMITTED
    [refusal] = replies(bot, 7)
    assert "@mallory" in refusal and "/done" in refusal
    # a collaborator with write permission may
    bot.gh.set_permission("org/Paddle", "helper", "write")
    await pr_comment(bot, 7, "/done", user="helper")
    assert (await bot.store.state("h9")).claim(3, "alice").stage == Stage.COMPLETED


async def test_claim_and_unclaim_in_a_pr_comment_act_on_the_prs_task(bot):
    await bot.pull_request(
        "opened", 8, title="【Hackathon 9th No.1】fused attention", user="alice", files=["paddle/phi/kernels/fusion/attn.cu"]
    )
    await bot.settle()
    await pr_comment(bot, 8, "/claim", user="bob")
    assert (await bot.store.state("h9")).claim(1, "bob") is not None
    await pr_comment(bot, 8, "/unclaim", user="bob")
    assert (await bot.store.state("h9")).claim(1, "bob") is None
    assert len(replies(bot, 8)) == 2


async def test_ordinary_pr_discussion_is_ignored_without_an_api_call(bot):
    await open_pr(bot)
    before = len(bot.gh.requests)
    await pr_comment(bot, 7, "LGTM, thanks! Could you also claim 4 and 5 later?", user="boss")
    await pr_comment(bot, 7, "```\n/done\n```", user="boss")
    assert replies(bot, 7) == []
    assert [r for r in bot.gh.requests[before:] if "/comments" not in r.path or r.method != "POST"] == []
    assert (await bot.store.state("h9")).claim(3, "alice").stage == Stage.SUBMITTED


async def test_recheck_reviews_the_pr_again(bot):
    await open_pr(bot, files=[JIT])
    assert "needs-tests" in bot.gh.labels("org/Paddle", 7)
    [before] = [c for c in bot.bot_comments(number=7) if c["body"].startswith(CHECKLIST_MARKER)]
    # files changed on GitHub but the push's delivery never arrived
    sha = payloads.sha_for("org/Paddle", 7, "later")
    bot.gh.update_pull("org/Paddle", 7, files=[JIT, JIT_TEST], head_sha=sha)
    await pr_comment(bot, 7, "/recheck", user="alice")
    [after] = [c for c in bot.bot_comments(number=7) if c["body"].startswith(CHECKLIST_MARKER)]
    assert after["id"] == before["id"] and after["body"] != before["body"]
    assert "ready" in bot.gh.labels("org/Paddle", 7) and "needs-tests" not in bot.gh.labels("org/Paddle", 7)
    runs = bot.gh.check_runs("org/Paddle")
    assert runs[-1]["head_sha"] == sha and runs[-1]["conclusion"] == "success"
    assert runs[-1]["output"]["summary"].strip() == after["body"].removeprefix(CHECKLIST_MARKER).strip()
    # nothing changed since: a second /recheck writes nothing
    writes = bot.gh.count("POST", r"check-runs") + bot.gh.count("PATCH", r"/issues/comments/")
    await pr_comment(bot, 7, "/recheck", user="alice")
    assert bot.gh.count("POST", r"check-runs") + bot.gh.count("PATCH", r"/issues/comments/") == writes


async def test_a_command_on_a_pr_the_bot_never_saw_fetches_it(bot):
    bot.gh.add_pull("org/Paddle", 9, title=TITLE, user="carol", files=[JIT, JIT_TEST])  # its delivery was lost
    await pr_comment(bot, 9, "/done", user="boss")
    state = await bot.store.state("h9")
    assert state.claim(3, "carol").stage == Stage.COMPLETED
    assert any(p.number == 9 for p in state.prs)  # reviewed on the way: it is known from now on
    assert [c for c in bot.bot_comments(number=9) if c["body"].startswith(CHECKLIST_MARKER)]


async def test_commands_on_a_task_issue_act_on_that_task(bot):
    # task 1's own issue is org/Paddle#201
    bot.gh.set_permission("org/Paddle", "mallory", "read")
    await bot.comment("/claim", user="alice", number=201)
    await bot.settle()
    assert (await bot.store.state("h9")).claim(1, "alice") is not None
    await bot.comment("/done", user="mallory", number=201)
    await bot.settle()
    assert (await bot.store.state("h9")).claim(1, "alice").stage == Stage.CLAIMED
    await bot.comment("/done @alice", user="boss", number=201)
    await bot.settle()
    assert (await bot.store.state("h9")).claim(1, "alice").stage == Stage.COMPLETED


def test_bare_commands_are_read_outside_code_and_only_when_new():
    assert bare_commands("/done\n/recheck\n/claim @x\n/done @bob") == [("done", None), ("recheck", None), ("done", "bob")]
    assert bare_commands("> /done\n```\n/recheck\n```\n<!-- /claim -->") == []
    assert bare_commands("/done 3") == []  # numbered: the parser reads it
    assert bare_commands("/done\n/recheck", old_body="/done") == [("recheck", None)]


async def test_a_bare_done_on_a_pr_whose_title_names_no_task_gets_a_hint(bot):
    """Decision (issue 20): the maintainer learns why nothing happened and both ways out (the task in
    the title, or in the command), instead of silence; nothing is recorded."""
    await bot.comment("【报名】：3", user="alice")
    await bot.pull_request("opened", 9, title="jit support", user="alice", files=[JIT, JIT_TEST])
    await bot.settle()
    before = await bot.store.state("h9")
    await pr_comment(bot, 9, "/done", user="boss")
    [hint] = replies(bot, 9)
    rules = bot.rules.campaigns["h9"]
    assert "@boss" in hint and "`/done`" in hint and "`/done 12`" in hint
    assert f"`【{rules.campaign.key} No.12】`" in hint
    assert await bot.store.state("h9") == before  # nothing recorded
    # the same maintainer naming the task in the command is obeyed, there as on the tracker
    await pr_comment(bot, 9, "/done 3 @alice", user="boss")
    assert (await bot.store.state("h9")).claim(3, "alice").stage == Stage.COMPLETED
    assert "No.3" in replies(bot, 9)[-1]


async def test_discussion_on_a_pr_that_names_no_task_gets_nothing(bot):
    await bot.pull_request("opened", 9, title="jit support", user="alice", files=[JIT])
    await bot.settle()
    await pr_comment(bot, 9, "LGTM, thanks! Looks done to me.", user="boss")
    await pr_comment(bot, 9, "/recheck", user="alice")
    [hint] = replies(bot, 9)  # only the /recheck, which had nothing to check, is answered
    assert "`/recheck`" in hint and "/done 12" not in hint
