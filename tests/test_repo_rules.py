"""`e2e-repo-rules`: campaigns configured on GitHub, end to end against the fake GitHub with
several installations. A campaign lives in `.github/hackathon/<slug>/` on a repository's default
branch; RULES_DIR is empty."""

from __future__ import annotations

import pytest

from bot.rules.models import Rules
from bot.runtime.catalog import CHECK_NAME
from tests import payloads
from tests.harness import Harness

REPO = "org/camp"
TRACKER = 1
FOLDER = ".github/hackathon/h9"


def campaign_yml(tracker: str = f"{REPO}#{TRACKER}", repos: str = REPO, extra: str = "") -> str:
    return (
        "name: Hackathon 9th\nkey: Hackathon 9th\n"
        f"tracker: {tracker}\nrepos: [{repos}]\nmaintainers: [boss]\nlanguage: en\n"
        "claim_policy:\n  max_claimants_per_task: 1\n" + extra
    )


def task_yml(n: int, title: str = "") -> str:
    return f"id: {n}\ntitle: {title or f'Task {n}'}\ntargets:\n  - repo: {REPO}\n    paths: ['src/**']\ntests: ['tests/**']\n"


def seed(gh, files: dict[str, str | None] | None = None) -> str:
    """The campaign repository: its tracker issue and a first commit holding the campaign folder."""
    gh.add_repo(REPO)
    gh.add_issue(REPO, TRACKER, title="Hackathon 9th tracker", body="Claim tasks here.\n")
    return gh.commit_files(
        REPO, files or {f"{FOLDER}/campaign.yml": campaign_yml(), f"{FOLDER}/001.yml": task_yml(1), "README.md": "camp"}
    )


async def push(h: Harness, changes: dict[str, str | None], *, repo: str = REPO, installation_id: int = 1) -> str:
    """Commit `changes` on the default branch, then GitHub's push delivery arrives."""
    before = h.gh.branch_head(repo) or "0" * 40
    after = h.gh.commit_files(repo, changes)
    how = {p: ("removed" if t is None else "modified") for p, t in changes.items()}
    status, _ = await h.post(
        "push", payloads.push(repo=repo, before=before, after=after, changed=how, installation_id=installation_id)
    )
    assert status == 202
    await h.settle()
    return after


def rules_runs(h: Harness, sha: str, repo: str = REPO) -> list[dict]:
    return [r for r in h.gh.check_runs(repo) if r["name"] == CHECK_NAME and r["head_sha"] == sha]


@pytest.fixture
async def camp(tmp_path):
    h = Harness(Rules(), tmp_path)
    seed(h.gh)
    async with h:
        await h.bot.rules.discover()
        yield h


async def test_a_campaign_is_found_in_a_repository_and_takes_claims(camp):
    assert list(camp.bot.rules.campaigns) == ["h9"]
    status, _ = await camp.comment("claim 1", user="alice", repo=REPO, number=TRACKER)
    assert status == 202
    await camp.settle()
    assert (await camp.store.state("h9")).claim(1, "alice") is not None
    [reply] = camp.bot_comments(repo=REPO, number=TRACKER)
    assert "@alice" in reply["body"]
    assert "@alice" in camp.gh.issue(REPO, TRACKER)["body"]  # on the board
    assert camp.gh.issue(REPO, TRACKER)["body"].startswith("Claim tasks here.")


async def test_a_task_added_by_a_push_takes_claims_at_once(camp):
    sha = await push(camp, {f"{FOLDER}/002.yml": task_yml(2, "A new task")})
    assert 2 in camp.bot.rules.campaigns["h9"].tasks
    [run] = rules_runs(camp, sha)
    assert run["conclusion"] == "success"
    await camp.comment("claim 2", user="bob", repo=REPO, number=TRACKER)
    await camp.settle()
    assert (await camp.store.state("h9")).claim(2, "bob") is not None
    assert "A new task" in camp.gh.issue(REPO, TRACKER)["body"]


async def test_an_unchanged_repository_costs_nothing_to_read_again(camp):
    before = len(camp.gh.requests)
    await camp.bot.rules.discover()
    reads = [r for r in camp.gh.requests[before:] if r.path.startswith(f"/repos/{REPO}")]
    assert [r.status for r in reads] == [304]  # the default branch's head, unchanged


async def test_a_broken_push_keeps_the_last_good_rules_and_fails_its_commit(camp):
    good = camp.bot.rules.campaigns["h9"]
    sha = await push(camp, {f"{FOLDER}/001.yml": "id: 1\ntitle: [unclosed\n", f"{FOLDER}/002.yml": task_yml(2)})
    [run] = rules_runs(camp, sha)
    assert run["conclusion"] == "failure"
    [note] = run["annotations"]
    assert note["path"] == f"{FOLDER}/001.yml" and note["annotation_level"] == "failure"
    serving = camp.bot.rules.campaigns["h9"]
    assert serving.tasks == good.tasks and serving.origin.commit == good.origin.commit  # the old rules serve
    # claims keep working on the old rules
    await camp.comment("claim 1", user="alice", repo=REPO, number=TRACKER)
    await camp.settle()
    assert (await camp.store.state("h9")).claim(1, "alice") is not None
    # and it is said: /healthz, bot status's source, the dashboard
    async with camp.session.get(camp.url + "/healthz") as r:
        warnings = (await r.json())["warnings"]
    assert any(REPO in w and "001.yml" in w for w in warnings)
    [source] = await camp.store.rule_sources()
    assert source["commit"] == sha and any(p["file"] == f"{FOLDER}/001.yml" for p in source["problems"])
    async with camp.session.get(camp.url + "/campaigns/h9.json") as r:
        refused = (await r.json())["rules_refused"]
    assert refused["commit"] == sha[:7] and refused["serving"] == good.origin.commit[:7]
    # fixed: served again, and the dashboard no longer warns
    fixed = await push(camp, {f"{FOLDER}/001.yml": task_yml(1, "Fixed")})
    assert camp.bot.rules.campaigns["h9"].tasks[1].title == "Fixed"
    assert rules_runs(camp, fixed)[0]["conclusion"] == "success"


async def test_a_pull_request_changing_rules_gets_the_rules_check(camp):
    base = camp.gh.branch_head(REPO)
    bad = camp.gh.commit_files(REPO, {f"{FOLDER}/003.yml": "id: 4\ntitle: wrong id\n"}, move=False)
    camp.gh.add_pull(REPO, 10, title="Add task 3", user="organiser", files=[f"{FOLDER}/003.yml"], head_sha=bad)
    await camp.pull_request("opened", 10, repo=REPO)
    await camp.settle()
    [run] = rules_runs(camp, bad)
    assert run["conclusion"] == "failure"
    assert [n["path"] for n in run["annotations"]] == [f"{FOLDER}/003.yml"]
    assert "does not match the file name" in run["annotations"][0]["message"]
    assert 3 not in camp.bot.rules.campaigns["h9"].tasks and 4 not in camp.bot.rules.campaigns["h9"].tasks  # never loaded
    good = camp.gh.commit_files(REPO, {f"{FOLDER}/003.yml": task_yml(3)}, move=False)
    camp.gh.add_pull(REPO, 11, title="Add task 3", user="organiser", files=[f"{FOLDER}/003.yml"], head_sha=good)
    await camp.pull_request("opened", 11, repo=REPO)
    await camp.settle()
    assert rules_runs(camp, good)[0]["conclusion"] == "success"
    assert camp.gh.branch_head(REPO) == base
    # a PR that touches no campaign folder gets no rules check
    docs = camp.gh.commit_files(REPO, {"README.md": "more"}, move=False)
    camp.gh.add_pull(REPO, 12, title="Docs", user="organiser", files=["README.md"], head_sha=docs)
    await camp.pull_request("opened", 12, repo=REPO)
    await camp.settle()
    assert rules_runs(camp, docs) == []


async def test_prs_in_a_work_repository_without_campaign_folders_cost_no_rules_read(tmp_path):
    h = Harness(Rules(), tmp_path)
    seed(h.gh, {f"{FOLDER}/campaign.yml": campaign_yml(repos=f"{REPO}, org/work"), f"{FOLDER}/001.yml": task_yml(1)})
    h.gh.add_repo("org/work")
    async with h:
        await h.bot.rules.discover()
        assert "h9" in h.bot.rules.campaigns
        h.gh.add_pull("org/work", 5, title="Fix a typo", user="someone", files=["README.md"])
        before = len(h.gh.requests)
        await h.pull_request("opened", 5, repo="org/work")
        await h.settle()
        assert [r.path for r in h.gh.requests[before:] if "/pulls/5" in r.path] == []  # not a task PR, not rules


async def test_a_pull_request_cannot_make_its_author_a_maintainer(camp):
    pr_head = camp.gh.commit_files(
        REPO,
        {f"{FOLDER}/campaign.yml": campaign_yml().replace("maintainers: [boss]", "maintainers: [boss, mallory]")},
        move=False,
    )
    camp.gh.add_pull(REPO, 13, title="me too", user="mallory", files=[f"{FOLDER}/campaign.yml"], head_sha=pr_head)
    await camp.pull_request("opened", 13, repo=REPO, user="mallory")
    await camp.settle()
    assert rules_runs(camp, pr_head)[0]["conclusion"] == "success"  # valid, but only checked
    assert camp.bot.rules.campaigns["h9"].campaign.maintainers == ["boss"]
    await camp.comment("/assign @eve 1", user="mallory", repo=REPO, number=TRACKER)
    await camp.settle()
    assert (await camp.store.state("h9")).claim(1, "eve") is None


async def test_a_campaign_in_another_installation_naming_our_tracker_gets_nowhere(tmp_path):
    h = Harness(Rules(), tmp_path)
    seed(h.gh)
    h.gh.add_installation(2, "intruder", ["intruder/camp"])
    h.gh.add_issue("intruder/camp", 1, title="their tracker")
    evil = h.gh.commit_files(
        "intruder/camp",
        {
            ".github/hackathon/steal/campaign.yml": campaign_yml(tracker=f"{REPO}#{TRACKER}", repos=REPO),
            ".github/hackathon/steal/001.yml": task_yml(1),
        },
    )
    async with h:
        await h.bot.rules.discover()
        assert sorted(h.bot.rules.campaigns) == ["h9"]
        [run] = rules_runs(h, evil, repo="intruder/camp")
        assert run["conclusion"] == "failure"
        assert any("not a repository of this installation" in n["message"] for n in run["annotations"])
        await h.comment("claim 1", user="alice", repo=REPO, number=TRACKER)
        await h.settle()
        # installation 2's token never touched our repository
        assert not [r for r in h.gh.requests if r.installation_id == 2 and r.path.startswith(f"/repos/{REPO}")]
        assert (await h.store.state("h9")).claim(1, "alice") is not None
        assert (await h.store.state("steal")).claims == ()


async def test_a_slug_in_rules_dir_and_in_a_repository_is_refused_naming_both(tmp_path, all_rules):
    h = Harness(all_rules, tmp_path)  # RULES_DIR's h9
    sha = seed(h.gh)
    async with h:
        await h.bot.rules.discover()
        assert h.bot.rules.campaigns["h9"].origin is None  # RULES_DIR's keeps serving
        [run] = rules_runs(h, sha)
        assert run["conclusion"] == "failure"
        assert any("also defined in RULES_DIR" in n["message"] for n in run["annotations"])


async def test_the_last_good_rules_survive_a_restart_on_a_broken_branch(tmp_path):
    h = Harness(Rules(), tmp_path)
    seed(h.gh)
    async with h:
        await h.bot.rules.discover()
        await push(h, {f"{FOLDER}/campaign.yml": "name: [broken\n"})
        assert "h9" in h.bot.rules.campaigns
    again = Harness(Rules(), tmp_path)
    again.gh = h.gh  # the same GitHub; a new process with the same database
    async with again:
        await again.bot.rules.discover()
        assert again.bot.rules.campaigns["h9"].tasks.keys() == {1}
        await again.comment("claim 1", user="carol", repo=REPO, number=TRACKER)
        await again.settle()
        assert (await again.store.state("h9")).claim(1, "carol") is not None


async def test_a_removed_folder_stops_the_campaign_and_keeps_its_claims(camp):
    await camp.comment("claim 1", user="alice", repo=REPO, number=TRACKER)
    await camp.settle()
    await push(camp, {f"{FOLDER}/campaign.yml": None, f"{FOLDER}/001.yml": None})
    assert "h9" not in camp.bot.rules.campaigns
    assert (await camp.store.state("h9")).claim(1, "alice") is not None


async def test_installation_events_add_and_remove_campaigns(camp):
    camp.gh.add_installation(3, "other", ["other/camp"])
    camp.gh.add_issue("other/camp", 5, title="tracker")
    camp.gh.commit_files(
        "other/camp",
        {
            ".github/hackathon/o1/campaign.yml": campaign_yml(tracker="other/camp#5", repos="other/camp"),
            ".github/hackathon/o1/001.yml": task_yml(1).replace(REPO, "other/camp"),
        },
    )
    await camp.post(
        "installation", payloads.installation_event("created", installation_id=3, account="other", repos=["other/camp"])
    )
    await camp.settle()
    assert camp.bot.rules.campaigns["o1"].origin.installation_id == 3
    await camp.post(
        "installation_repositories",
        payloads.installation_repositories("removed", installation_id=3, account="other", removed=["other/camp"]),
    )
    await camp.settle()
    assert "o1" not in camp.bot.rules.campaigns


COLLECTION = """# Hackathon 9th task collection

## Framework

### NO.1 Add the lu_solve API

Add `paddle.linalg.lu_solve` in [Paddle](https://github.com/org/camp) under `src/linalg`.

- Tests: `tests/linalg/test_lu_solve.py`

### NO.2 Add the baddbmm API

Add `paddle.baddbmm` in [Paddle](https://github.com/org/camp) under `src/math`.
"""


async def test_a_pushed_collection_yields_one_import_pull_request_with_task_files(tmp_path):
    h = Harness(Rules(), tmp_path)
    seed(
        h.gh,
        {
            f"{FOLDER}/campaign.yml": campaign_yml(extra="collections: [docs/tasks.md]\n"),
            "docs/tasks.md": "# nothing yet\n",
        },
    )
    async with h:
        await h.bot.rules.discover()
        assert h.bot.rules.campaigns["h9"].tasks == {}  # loads with no tasks until the import is merged
        await push(h, {"docs/tasks.md": COLLECTION})
        [pr] = [p for p in h.gh.pulls(REPO) if p["head"]["ref"] == "hackathon-bot/import-h9"]
        files = h.gh.files_at(REPO, pr["head"]["sha"])
        task_files = sorted(p for p in files if p.startswith(f"{FOLDER}/0"))
        assert task_files == [f"{FOLDER}/001.yml", f"{FOLDER}/002.yml"]
        assert "lu_solve" in files[f"{FOLDER}/001.yml"]
        assert "Import" in pr["title"] and "docs/tasks.md" in pr["body"]
        assert h.gh.files_at(REPO).get(f"{FOLDER}/001.yml") is None  # nothing lands before the organiser merges
        # the collection changes again: the same pull request is updated, no second one
        await push(h, {"docs/tasks.md": COLLECTION + "\n### NO.3 Add the cdist API\n\nAdd `paddle.cdist` under `src/math`.\n"})
        again = [p for p in h.gh.pulls(REPO) if p["head"]["ref"] == "hackathon-bot/import-h9"]
        assert [p["number"] for p in again] == [pr["number"]]
        assert f"{FOLDER}/003.yml" in h.gh.files_at(REPO, again[0]["head"]["sha"])
        # merged: the campaign serves its tasks
        head = h.gh.files_at(REPO, again[0]["head"]["sha"])
        await push(h, {p: t for p, t in head.items() if p.startswith(FOLDER)})
        assert sorted(h.bot.rules.campaigns["h9"].tasks) == [1, 2, 3]


async def test_a_maintainers_import_command_opens_the_pull_request(tmp_path):
    h = Harness(Rules(), tmp_path)
    seed(
        h.gh,
        {f"{FOLDER}/campaign.yml": campaign_yml(extra="collections: [docs/tasks.md]\n"), "docs/tasks.md": COLLECTION},
    )
    async with h:
        await h.bot.rules.discover()
        await h.comment("/import", user="mallory", repo=REPO, number=TRACKER)
        await h.settle()
        assert h.gh.pulls(REPO) == []  # not a maintainer: refused
        await h.comment("/import", user="boss", repo=REPO, number=TRACKER)
        await h.settle()
        [pr] = h.gh.pulls(REPO)
        assert pr["head"]["ref"] == "hackathon-bot/import-h9" and "@boss" in pr["body"]
        replies = [c["body"] for c in h.bot_comments(repo=REPO, number=TRACKER)]
        assert any("hackathon-bot/import-h9" in b for b in replies)


async def test_a_withdrawn_tasks_claim_stays_recorded_and_counts_toward_no_limit(tmp_path):
    h = Harness(Rules(), tmp_path)
    limit = "claim_policy:\n  max_claimants_per_task: 1\n  max_claims_per_user: 1\n"
    seed(
        h.gh,
        {
            f"{FOLDER}/campaign.yml": campaign_yml().replace("claim_policy:\n  max_claimants_per_task: 1\n", limit),
            f"{FOLDER}/001.yml": task_yml(1),
            f"{FOLDER}/002.yml": task_yml(2),
        },
    )
    async with h:
        await h.bot.rules.discover()
        await h.comment("claim 2", user="alice", repo=REPO, number=TRACKER)
        await h.settle()
        await h.comment("claim 1", user="alice", repo=REPO, number=TRACKER)
        await h.settle()
        assert (await h.store.state("h9")).claim(1, "alice") is None  # at her limit of one
        await push(h, {f"{FOLDER}/002.yml": None})  # task 2 leaves the rules
        await h.comment("claim 1", user="alice", repo=REPO, number=TRACKER)
        await h.settle()
        state = await h.store.state("h9")
        assert state.claim(1, "alice") is not None  # the withdrawn task no longer counts
        assert state.claim(2, "alice") is not None  # and its claim stays recorded
        board = h.gh.issue(REPO, TRACKER)["body"]
        assert "No.2 (@alice)" in board and "Withdrawn" in board
