"""Check runs (issue 12 item 2), uncheckable tasks (issue 11 item 4) and PR-title hints (issue 11 item 6).

End to end against the fake GitHub: each check run is compared with the checklist comment the
bot posted on the same PR and with the labels it set, never with copied text."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.core.actions import CheckRun, action_from_dict, action_to_dict
from bot.core.decide import PullFacts, decide_pull
from bot.core.model import CampaignState, Claim, PullRequest, Stage
from bot.core.review import (
    CHECKLIST_MARKER,
    ChangedFile,
    Conclusion,
    check_conclusion,
    review_pr,
)
from bot.core.titles import parse_title
from bot.rules.models import Rules, Task
from tests import payloads
from tests.conftest import make_rules, make_tasks
from tests.harness import Harness

JIT = "python/paddle/jit/api.py"
JIT_TEST = "test/dygraph_to_static/test_jit.py"


def rules_with_free_task():
    tasks = {**make_tasks(), 4: Task(id=4, title="Improve anything", difficulty="基础")}
    return Rules(campaigns={"h9": make_rules(tasks=tasks)})


@pytest.fixture
async def bot(tmp_path):
    async with Harness(rules_with_free_task(), tmp_path) as h:
        yield h


def checklist_of(h: Harness, number: int, repo: str = "org/Paddle") -> str:
    [c] = [c for c in h.bot_comments(repo, number) if c["body"].startswith(CHECKLIST_MARKER)]
    return c["body"]


async def push(h: Harness, number: int, sha: str, files: list[str], repo: str = "org/Paddle") -> None:
    h.gh.update_pull(repo, number, head_sha=sha)
    await h.pull_request("synchronize", number, repo=repo, files=files)
    await h.settle()


def assert_check_matches_checklist(run: dict, h: Harness, number: int) -> None:
    body = checklist_of(h, number)
    assert run["name"] == "hackathon/checklist" and run["status"] == "completed"
    assert run["output"]["summary"].strip() == body.removeprefix(CHECKLIST_MARKER).strip()
    labels = set(h.gh.labels("org/Paddle", number))
    assert (run["conclusion"] == "success") == ("ready" in labels)
    if "❌" in body:
        assert run["conclusion"] == "failure"


async def test_a_pr_opened_and_pushed_gets_a_check_run_on_each_head_sha(bot):
    await bot.comment("【报名】：3")
    await bot.settle()
    first = payloads.sha_for("org/Paddle", 7, "one")
    bot.gh.add_pull("org/Paddle", 7, title="【Hackathon 9th No.3】jit support", user="alice", files=[JIT], head_sha=first)
    await bot.pull_request("opened", 7)
    await bot.settle()
    [run1] = bot.gh.check_runs("org/Paddle")
    assert run1["head_sha"] == first and run1["conclusion"] == "failure"
    assert_check_matches_checklist(run1, bot, 7)

    second = payloads.sha_for("org/Paddle", 7, "two")
    await push(bot, 7, second, [JIT, JIT_TEST])
    run1_again, run2 = bot.gh.check_runs("org/Paddle")
    assert run1_again == run1 and run2["head_sha"] == second and run2["conclusion"] == "success"
    assert_check_matches_checklist(run2, bot, 7)

    # the same push delivered again: no new check run (nor any other write)
    await bot.pull_request("synchronize", 7)
    await bot.settle()
    assert len(bot.gh.check_runs("org/Paddle")) == 2
    # a push that changes nothing in the checklist still gets its check on the new head
    third = payloads.sha_for("org/Paddle", 7, "three")
    await push(bot, 7, third, [JIT, JIT_TEST])
    runs = bot.gh.check_runs("org/Paddle")
    assert [r["head_sha"] for r in runs] == [first, second, third] and runs[-1]["conclusion"] == "success"
    # merged: the checks of a merged PR gate nothing, no new run
    await bot.pull_request("closed", 7, merged=True, state="closed")
    await bot.settle()
    assert len(bot.gh.check_runs("org/Paddle")) == 3


async def test_a_pr_on_a_task_someone_else_holds_is_neutral(bot):
    await bot.comment("【报名】：3", user="bob")
    await bot.settle()
    await bot.pull_request("opened", 8, title="【Hackathon 9th No.3】mine too", user="alice", files=[JIT, JIT_TEST])
    await bot.settle()
    [run] = bot.gh.check_runs("org/Paddle")
    assert run["conclusion"] == "neutral"
    assert "needs-claim" in bot.gh.labels("org/Paddle", 8)
    assert run["output"]["summary"].strip() == checklist_of(bot, 8).removeprefix(CHECKLIST_MARKER).strip()
    assert (await bot.store.state("h9")).claim(3, "alice") is None  # not credited


async def test_a_task_the_bot_cannot_check_is_never_ready(bot):
    await bot.pull_request("opened", 9, title="【Hackathon 9th No.4】improve things", user="alice", files=["any/where.py"])
    await bot.settle()
    body = checklist_of(bot, 9)
    assert "no target paths, no required tests, no RFC" in body and "All checks pass" not in body
    assert "ready" not in bot.gh.labels("org/Paddle", 9)
    [run] = bot.gh.check_runs("org/Paddle")
    assert run["conclusion"] == "action_required"
    # the PR still counts as the author's claim: only the review could not be done
    assert (await bot.store.state("h9")).claim(4, "alice").stage == Stage.SUBMITTED


async def test_a_near_miss_title_gets_the_hint_once_and_ordinary_prs_stay_silent(bot):
    await bot.pull_request("opened", 10, title="Hackathon 9th 3 jit support", user="alice", files=[JIT])
    await bot.pull_request("opened", 11, title="Fix a typo in the README", user="carol", files=["README.md"])
    await bot.settle()
    hint = checklist_of(bot, 10)
    assert "Hackathon 9th No.3" in hint  # the title to write, from the title parser's hint
    assert bot.bot_comments(number=11) == [] and bot.gh.labels("org/Paddle", 11) == []
    assert bot.gh.labels("org/Paddle", 10) == [] and bot.gh.check_runs("org/Paddle") == []
    assert (await bot.store.state("h9")).prs == ()  # nothing credited, nothing recorded
    # pushes and a re-opened delivery do not post it again
    await bot.pull_request("synchronize", 10, files=[JIT, JIT_TEST])
    await bot.pull_request("edited", 10)
    await bot.settle()
    assert len(bot.bot_comments(number=10)) == 1 and bot.gh.count("PATCH", r"/issues/comments/") == 0
    # the title fixed: the same comment becomes the real checklist
    bot.gh.update_pull("org/Paddle", 10, title="【Hackathon 9th No.3】jit support")
    await bot.pull_request("edited", 10)
    await bot.settle()
    [c] = bot.bot_comments(number=10)
    assert "**No.3 Solo task**" in c["body"] and (await bot.store.state("h9")).claim(3, "alice") is not None


async def test_a_task_pr_in_a_repository_outside_the_campaign_is_told_where_it_goes(bot):
    bot.gh.add_repo("alice/playground")
    await bot.pull_request(
        "opened", 3, repo="alice/playground", title="【Hackathon 9th No.3】jit support", user="alice", files=[JIT]
    )
    await bot.settle()
    body = checklist_of(bot, 3, repo="alice/playground")
    # the repository is named, without a glob (the task's paths matter once the PR is there)
    assert "go to `org/Paddle`, not alice/playground" in body and "python/paddle/jit/**" not in body
    assert bot.gh.labels("alice/playground", 3) == [] and bot.gh.check_runs("alice/playground") == []
    state = await bot.store.state("h9")
    assert state.prs == () and state.claims == ()


# ---- the conclusion, pure ------------------------------------------------------------------------


def facts(title: str, *, author: str = "alice", sha: str = "abc", state: str = "open", merged: bool = False) -> PullFacts:
    return PullFacts(
        repo="org/Paddle",
        number=5,
        title=title,
        body="",
        author=author,
        state=state,
        merged=merged,
        url="https://github.com/org/Paddle/pull/5",
        labels=(),
        ref=parse_title(title),
        head_sha=sha,
    )


def test_conclusion_follows_the_review():
    rules = make_rules()
    now = datetime(2026, 1, 2, tzinfo=UTC)
    held = CampaignState(claims=(Claim("h9", 3, "bob", Stage.CLAIMED, now),))
    cases = [
        (
            "【Hackathon 9th No.3】x",
            [ChangedFile(JIT, "modified"), ChangedFile(JIT_TEST, "added")],
            CampaignState(),
            Conclusion.SUCCESS,
        ),
        ("【Hackathon 9th No.3】x", [ChangedFile(JIT, "modified")], CampaignState(), Conclusion.FAILURE),
        ("【Hackathon 9th No.3】x", [ChangedFile(JIT, "modified"), ChangedFile(JIT_TEST, "added")], held, Conclusion.NEUTRAL),
        ('Revert "【Hackathon 9th No.3】x"', [ChangedFile(JIT, "modified")], CampaignState(), Conclusion.NEUTRAL),
    ]
    for title, files, state, expected in cases:
        d = decide_pull(rules, state, facts(title), files, now)
        [run] = [a for a in d.actions if type(a).__name__ == "CheckRun"]
        assert run.conclusion == expected.value, title
        assert run.head_sha == "abc" and run.name == "hackathon/checklist"
    # no head sha known, or not open: no check run
    for f in (facts("【Hackathon 9th No.3】x", sha=""), facts("【Hackathon 9th No.3】x", state="closed", merged=True)):
        assert not [a for a in decide_pull(rules, CampaignState(), f, [], now).actions if type(a).__name__ == "CheckRun"]


def test_conclusion_of_an_unchecked_task_is_action_required():
    tasks = {**make_tasks(), 4: Task(id=4, title="Improve anything")}
    rules = make_rules(tasks=tasks)
    pr = facts("【Hackathon 9th No.4】x")
    r = review_pr(
        rules,
        PullRequest("h9", "org/Paddle", 5, "alice", pr.title, (4,), "code", "open", pr.url),
        [ChangedFile("x.py", "added")],
        "",
        CampaignState(),
    )
    assert check_conclusion(r) == Conclusion.ACTION_REQUIRED and not r.ready


def test_a_queued_check_run_keeps_its_conclusion():
    """The outbox stores actions as JSON: the conclusion is GitHub's string there and a Conclusion again when read."""
    run = CheckRun("o/r", 5, "a" * 40, Conclusion.ACTION_REQUIRED, "t", "s")
    stored = json.loads(json.dumps(action_to_dict(run)))
    assert stored["conclusion"] == "action_required"
    back = action_from_dict(stored)
    assert back == run and back.conclusion is Conclusion.ACTION_REQUIRED
    with pytest.raises(ValueError):
        CheckRun("o/r", 5, "a" * 40, "maybe", "t", "s")  # type: ignore[arg-type]
