"""`e2e-uncheckable` (issue 20 item 7): "checked" means something was checked.

A task whose rules name only a repository (how importers write "this repository" when the text
names no files), or nothing at all, cannot be checked: its PRs get neither `ready` nor a
`success` check run, whatever they touch, and the checklist says what a maintainer must look at.
A checkable task's good PR still gets both. `bot rules check` names the tasks that cannot be
checked. End to end: the rules are a folder on disk (as organisers write them), loaded as `bot
serve` loads them; the bot runs against the fake GitHub; expectations come from the rules and the
store, never from copied output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.core.actions import Conclusion
from bot.core.model import CampaignState, PullRequest, Stage
from bot.core.review import CHECKLIST_MARKER, ChangedFile, check_conclusion, review_pr
from bot.rules import load_rules
from bot.rules.check import check
from bot.rules.models import CampaignRules
from tests.harness import Harness

CAMPAIGN = """name: Hackathon 9th
key: Hackathon 9th
tracker: org/Paddle#100
repos: [org/Paddle, org/docs]
rfc: {repo: org/community, path: rfcs/}
language: en
claim_policy: {max_claims_per_user: 3, max_claimants_per_task: 2}
"""
TASKS = {
    # checkable: target paths and required tests
    3: """id: 3
title: JIT support
targets:
  - repo: org/Paddle
    paths: [python/paddle/jit/**]
tests: [test/dygraph_to_static/**]
""",
    # a repository and nothing else: what an importer writes for "this repository"
    5: """id: 5
title: Improve the framework
targets:
  - repo: org/Paddle
    paths: []
acceptance: [CI green, a benchmark in the description]
""",
    # no targets at all
    6: """id: 6
title: Anything goes
""",
    # checkable through its RFC alone (a repository, no paths, no tests)
    7: """id: 7
title: Design and build it
targets:
  - repo: org/Paddle
rfc: {required: true}
""",
    # one holder at most: a PR naming it beside task 3 is only partly credited
    8: """id: 8
title: Solo work
max_claimants: 1
targets:
  - repo: org/Paddle
    paths: [python/paddle/jit/**]
""",
}
JIT = "python/paddle/jit/api.py"
JIT_TEST = "test/dygraph_to_static/test_jit.py"


def write_rules(root: Path) -> Path:
    folder = root / "rules" / "h9"
    folder.mkdir(parents=True)
    (folder / "campaign.yml").write_text(CAMPAIGN)
    for tid, text in TASKS.items():
        (folder / f"{tid:03d}.yml").write_text(text)
    return root / "rules"


@pytest.fixture
def rules_dir(tmp_path) -> Path:
    return write_rules(tmp_path)


@pytest.fixture
async def bot(rules_dir, tmp_path):
    async with Harness(load_rules(rules_dir), tmp_path) as h:
        yield h


def campaign(h: Harness) -> CampaignRules:
    return h.rules.campaigns["h9"]


def checklist_of(h: Harness, number: int, repo: str = "org/Paddle") -> str:
    [c] = [c for c in h.bot_comments(repo, number) if c["body"].startswith(CHECKLIST_MARKER)]
    return c["body"]


def last_run(h: Harness, number: int, repo: str = "org/Paddle") -> dict:
    head = h.gh.pull(repo, number)["head"]["sha"]
    run = [r for r in h.gh.check_runs(repo) if r["head_sha"] == head][-1]  # the newest on the head commit
    assert run["output"]["summary"].strip() == checklist_of(h, number, repo).removeprefix(CHECKLIST_MARKER).strip()
    return run


def test_the_rules_hold_what_the_scenarios_need(rules_dir):
    tasks = load_rules(rules_dir).campaigns["h9"].tasks
    assert [t for t in tasks if not tasks[t].checkable] == [5, 6]
    assert tasks[5].target_repos() and not any(tg.paths for tg in tasks[5].targets) and not tasks[6].targets
    assert tasks[7].checkable and not tasks[7].tests and not any(tg.paths for tg in tasks[7].targets)


async def test_prs_on_tasks_that_cannot_be_checked_get_neither_success_nor_ready(bot):
    rules = campaign(bot)
    prs = {21: (5, "alice"), 22: (6, "bob")}
    for number, (tid, user) in prs.items():
        await bot.pull_request("opened", number, title=f"【Hackathon 9th No.{tid}】tidy up", user=user, files=["README.md"])
    # a checkable task's good PR still gets both
    await bot.pull_request("opened", 23, title="【Hackathon 9th No.3】jit support", user="carol", files=[JIT, JIT_TEST])
    await bot.settle()
    state = await bot.store.state("h9")
    for number, (tid, user) in {**prs, 23: (3, "carol")}.items():
        run, labels = last_run(bot, number), set(bot.gh.labels("org/Paddle", number))
        checkable = rules.tasks[tid].checkable
        assert (run["conclusion"] == "success") is checkable, (tid, run["conclusion"])
        assert ("ready" in labels) is checkable, (tid, labels)
        # the PR counts as the author's work all the same: only the review could not be done
        assert state.claim(tid, user).stage == Stage.SUBMITTED
        body = checklist_of(bot, number)
        if not checkable:
            assert run["conclusion"] == "action_required" and "Not checked" in body and "All checks pass" not in body
            assert "`README.md`" in body  # what a maintainer must look at
            for repo in rules.tasks[tid].target_repos():
                assert f"`{repo}`" in body
            for criterion in rules.tasks[tid].acceptance:
                assert criterion in body
    # pushing more files changes nothing: whatever the PR touches, the bot cannot call it ready
    await bot.pull_request("synchronize", 21, files=["README.md", JIT, JIT_TEST])
    await bot.settle()
    assert last_run(bot, 21)["conclusion"] == "action_required" and "ready" not in bot.gh.labels("org/Paddle", 21)


async def test_a_repository_only_task_still_checks_the_repository(bot):
    rules = campaign(bot)
    await bot.pull_request("opened", 4, repo="org/docs", title="【Hackathon 9th No.5】tidy up", user="dave", files=["README.md"])
    await bot.settle()
    run, body = last_run(bot, 4, "org/docs"), checklist_of(bot, 4, "org/docs")
    assert run["conclusion"] == "failure" and rules.campaign.labels.outside_targets in bot.gh.labels("org/docs", 4)
    # the wrong-repository line names the repository, without a glob
    [repo] = rules.tasks[5].target_repos()
    assert f"go to `{repo}`, not org/docs" in body and "**" not in body.split("Repository**", 1)[1].splitlines()[0]


async def test_a_task_checkable_through_its_rfc_alone(bot):
    """Decision: the RFC is what the bot verifies on such a task, so its code PR is ready once the RFC
    check passes; the checklist says the files themselves were not checked."""
    rules = campaign(bot)
    title = "【Hackathon 9th No.7】build it"
    await bot.pull_request("opened", 31, title=title, user="erin", files=["README.md"])
    await bot.settle()
    assert last_run(bot, 31)["conclusion"] == "failure" and rules.campaign.labels.needs_rfc in bot.gh.labels("org/Paddle", 31)
    rfc_repo, rfc_dir = rules.tasks[7].rfc_location(rules.campaign)
    bot.gh.add_pull(rfc_repo, 12, title="RFC: build it", user="erin", files=[f"{rfc_dir.rstrip('/')}/build_it.md"], merged=True)
    await bot.pull_request("edited", 31, body=f"Design: https://github.com/{rfc_repo}/pull/12")
    await bot.settle()
    body = checklist_of(bot, 31)
    assert last_run(bot, 31)["conclusion"] == "success" and "ready" in bot.gh.labels("org/Paddle", 31)
    assert "which files changed was not checked" in body


async def test_a_partly_credited_pr_gets_a_check_run_for_its_credited_part(bot):
    await bot.comment("【报名】：8", user="frank")
    await bot.settle()
    title = "【Hackathon 9th No.3, 8】jit support"
    await bot.pull_request("opened", 41, title=title, user="gina", files=[JIT])  # task 3's tests missing
    await bot.settle()
    state = await bot.store.state("h9")
    assert state.claim(3, "gina") is not None and state.claim(8, "gina") is None  # 3 credited, 8 held by frank
    # the credited part fails: the check run says so (it used to be `neutral` for the whole PR)
    assert last_run(bot, 41)["conclusion"] == "failure"
    await bot.pull_request("synchronize", 41, files=[JIT, JIT_TEST])
    await bot.settle()
    # the credited part passes, but task 8 is someone else's: a maintainer decides, never `success`
    run = last_run(bot, 41)
    assert run["conclusion"] == "action_required" and "ready" not in bot.gh.labels("org/Paddle", 41)
    # only task 8 named, held by frank: nothing credited, `neutral` as before
    await bot.pull_request("opened", 42, title="【Hackathon 9th No.8】jit support", user="hank", files=[JIT])
    await bot.settle()
    assert last_run(bot, 42)["conclusion"] == "neutral"


def test_bot_rules_check_names_both_tasks(rules_dir, capsys):
    rules = load_rules(rules_dir).campaigns["h9"]
    unchecked = sorted(t for t in rules.tasks if not rules.tasks[t].checkable)
    assert main(["rules", "check", str(rules_dir)]) == 0  # warnings, not errors: the campaign runs
    out = capsys.readouterr().out
    for tid in rules.tasks:
        named = f"/h9/{tid:03d}.yml:" in out and f"task {tid} names" in out
        assert named is (tid in unchecked), (tid, out)
    summary = [p for p in check(rules_dir) if p.field == "tasks"]
    assert len(summary) == 1 and summary[0].severity == "warning" and summary[0].file.endswith("campaign.yml")
    assert summary[0].message.endswith(": " + ", ".join(map(str, unchecked)))


def test_whatever_the_files_a_task_that_cannot_be_checked_is_never_ready(rules_dir):
    """Pure: over several file sets, a review is `ready` / `success` only for a checkable task."""
    rules = load_rules(rules_dir).campaigns["h9"]
    file_sets = [["README.md"], [JIT], [JIT, JIT_TEST], ["docs/a.md", "setup.py"], []]
    for tid in (3, 5, 6):
        pr = PullRequest("h9", "org/Paddle", 1, "ann", "t", (tid,), "code", "open", "u")
        for files in file_sets:
            r = review_pr(rules, pr, [ChangedFile(f, "added") for f in files], "", CampaignState())
            if not rules.tasks[tid].checkable:
                assert not r.ready and check_conclusion(r) == Conclusion.ACTION_REQUIRED, (tid, files)
            elif check_conclusion(r) == Conclusion.SUCCESS:
                assert r.ready and files


def test_an_rfc_pr_where_no_rfc_directory_is_known_is_not_checked_either():
    """An RFC PR is checked by where its document lands; with no RFC directory set anywhere the bot
    verified nothing, so the PR is not `ready` (it says so)."""
    from bot.core.review import render_checklist
    from bot.rules.models import Target, Task, TaskRfc
    from tests.conftest import make_rules

    task = Task(
        id=9,
        title="Design",
        targets=[Target(repo="org/Paddle", paths=["x/**"])],
        rfc=TaskRfc(required=True, repo="org/community"),
    )
    rules = make_rules(tasks={9: task}, rfc=None)
    assert task.rfc_location(rules.campaign)[1] is None
    pr = PullRequest("h9", "org/community", 3, "ann", "t", (9,), "rfc", "open", "u")
    r = review_pr(rules, pr, [ChangedFile("docs/design.md", "added")], "", CampaignState())
    assert not r.ready and check_conclusion(r) == Conclusion.ACTION_REQUIRED
    assert [i.code for i in r.items if i.params.get("task") == 9][-1] == "unchecked"
    assert "no RFC directory" in render_checklist(r, rules, "en")
