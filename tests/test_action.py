"""`e2e-action`: the bot as a GitHub Action, against the fake GitHub. Each run gets a fresh empty
directory holding only the rule files in its workspace (nothing on a runner's disk survives a
run); the state lives on the repository's `hackathon-bot/state` branch."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bot.runtime import action as act
from bot.runtime.state_branch import BRANCH
from bot.settings import Settings
from tests.fakegithub import FakeGitHub
from tests.fakes import SimulatedTime

ROOT = Path(__file__).resolve().parents[1]
REPO = "org/camp"
TOKEN = "ghs_workflow_token_of_the_run"
FOLDER = ".github/hackathon/h9"
MARKER = re.compile(r"<!-- hackathon-bot:reply:(\d+) -->")
WRITES = ("POST", "PATCH", "PUT", "DELETE")
CAMPAIGN = (
    "name: Hackathon 9th\nkey: Hackathon 9th\n"
    f"tracker: {REPO}#1\nrepos: [{REPO}]\nmaintainers: [boss]\nlanguage: en\n"
    "claim_policy:\n  max_claimants_per_task: 1\n  claim_expiry_days: 14\n"
)


def task(n: int) -> str:
    return f"id: {n}\ntitle: Task {n}\ntargets:\n  - repo: {REPO}\n    paths: ['src/**']\ntests: ['tests/**']\n"


class Runs:
    """Runs of `bot action`, each in a fresh directory (a new runner), against one fake GitHub."""

    START = 30.0  # simulated seconds between two runs

    def __init__(self, gh: FakeGitHub, tmp: Path, tasks: int = 50) -> None:
        self.gh, self.tmp, self.tasks = gh, tmp, tasks
        self.next_id = 1000
        self.per_run: list[int] = []
        self.time = SimulatedTime()
        gh.clock = self.time.clock

    def env(self, event: str, run_id: int) -> act.ActionEnv:
        base = self.tmp / f"run-{run_id}"
        rules = base / "workspace" / FOLDER
        rules.mkdir(parents=True)
        (rules / "campaign.yml").write_text(CAMPAIGN)
        for n in range(1, self.tasks + 1):
            (rules / f"{n:03d}.yml").write_text(task(n))
        (base / "temp").mkdir()
        return act.ActionEnv(
            event=event,
            repository=REPO,
            token=TOKEN,
            api_url=self.gh.base_url,
            workspace=base / "workspace",
            run_id=run_id,
            temp=base / "temp",
        )

    async def run(self, event: str = "issue_comment") -> act.RunReport:
        self.next_id += 1
        run_id = self.next_id
        self.gh.set_run(run_id, REPO, "in_progress")
        before = len(self.gh.requests)
        try:
            options = {"clock": self.time.clock, "sleep": self.time.sleep}
            report = await act.run(self.env(event, run_id), Settings(_env_file=None), gateway_options=options)
        finally:
            self.gh.set_run(run_id, REPO, "completed", "success")
        self.per_run.append(len(self.gh.requests) - before)
        self.time.now += self.START
        return report


@pytest.fixture
async def gh():
    fake = FakeGitHub()
    await fake.start()
    fake.add_token(TOKEN)
    fake.add_issue(REPO, 1, title="Hackathon 9th tracker", body="Claim here.\n")
    fake.commit_files(REPO, {"README.md": "camp"})
    yield fake
    await fake.stop()


def replies_by_comment(gh: FakeGitHub) -> dict[int, int]:
    """comment id -> how many times the bot answered it (its reply markers on the tracker)."""
    out: dict[int, int] = {}
    for c in gh.comments(REPO, 1):
        if c["user"]["login"] == "github-actions[bot]":
            for cid in MARKER.findall(c["body"]):
                out[int(cid)] = out.get(int(cid), 0) + 1
    return out


def claim(gh: FakeGitHub, user: str, n: int) -> int:
    return gh.add_comment(REPO, 1, f"claim {n}", user=user)["id"]


async def test_one_claim_one_run_one_reply_on_the_board(gh, tmp_path):
    runs = Runs(gh, tmp_path)
    cid = claim(gh, "alice", 3)
    report = await runs.run()
    assert replies_by_comment(gh) == {cid: 1}
    assert "@alice" in gh.issue(REPO, 1)["body"] and gh.issue(REPO, 1)["body"].startswith("Claim here.")
    assert report.saved and gh.branch_head(REPO, BRANCH) is not None


async def test_40_claims_with_every_fourth_run_then_schedule_each_answered_once(gh, tmp_path):
    runs = Runs(gh, tmp_path)
    ids = []
    for k in range(40):
        ids.append(claim(gh, f"user{k:02d}", k + 1))
        if k % 4 == 3:  # only every fourth comment's run is not cancelled
            await runs.run()
    await runs.run("schedule")
    board = gh.issue(REPO, 1)["body"]
    assert all(f"@user{k:02d}" in board for k in range(40))
    assert replies_by_comment(gh) == {cid: 1 for cid in ids}
    # a workflow_dispatch run right after reads everything again and changes nothing
    writes_before = sum(1 for r in gh.requests if r.method in WRITES)
    await runs.run("workflow_dispatch")
    assert sum(1 for r in gh.requests if r.method in WRITES) == writes_before
    # a pull_request_target run posts the checklist and the check run
    head = gh.commit_files(REPO, {"src/a.py": "x", "tests/test_a.py": "y"}, move=False)
    gh.add_pull(REPO, 7, title="【Hackathon 9th No.1】a", user="user00", files=["src/a.py", "tests/test_a.py"], head_sha=head)
    await runs.run("pull_request_target")
    [checklist] = [c for c in gh.comments(REPO, 7) if c["user"]["login"] == "github-actions[bot]"]
    assert "hackathon-bot:checklist" in checklist["body"]
    [check] = [r for r in gh.check_runs(REPO) if r["head_sha"] == head]
    assert check["name"] == "hackathon/checklist" and check["conclusion"] == "success"
    assert sum(runs.per_run) <= 400 and max(runs.per_run) <= 60, runs.per_run


async def test_a_quiet_run_makes_no_write_and_under_ten_requests(gh, tmp_path):
    runs = Runs(gh, tmp_path)
    claim(gh, "alice", 3)
    await runs.run()
    before = len(gh.requests)
    await runs.run("schedule")
    quiet = gh.requests[before:]
    assert len(quiet) < 10 and not [r for r in quiet if r.method in WRITES], [(r.method, r.path) for r in quiet]


async def test_overlapping_runs_lose_nothing_and_double_nothing(gh, tmp_path):
    runs = Runs(gh, tmp_path)
    first = [claim(gh, f"early{k}", k + 1) for k in range(3)]
    await runs.run()
    later = [claim(gh, f"late{k}", k + 10) for k in range(5)]
    # a workflow_dispatch beside a comment run: both start from the same state
    await asyncio.gather(runs.run("issue_comment"), runs.run("workflow_dispatch"))
    assert replies_by_comment(gh) == {cid: 1 for cid in first + later}
    board = gh.issue(REPO, 1)["body"]
    assert all(f"@late{k}" in board for k in range(5))


async def test_a_run_killed_halfway_is_finished_by_the_next_run(gh, tmp_path, monkeypatch):
    runs = Runs(gh, tmp_path)
    cids = [claim(gh, f"user{k}", k + 1) for k in range(4)]
    real = act.Syncer

    class Killed(Exception):
        pass

    async def die(self, items):  # the runner is killed once the decisions are saved, before any write
        raise Killed

    monkeypatch.setattr("bot.runtime.executor.Executor.perform_all", die)
    with pytest.raises(Killed):
        await runs.run()
    assert replies_by_comment(gh) == {}
    monkeypatch.undo()
    assert act.Syncer is real
    await runs.run()
    assert replies_by_comment(gh) == {cid: 1 for cid in cids}
    assert all(f"@user{k}" in gh.issue(REPO, 1)["body"] for k in range(4))


async def test_a_run_killed_after_posting_does_not_post_twice(gh, tmp_path, monkeypatch):
    runs = Runs(gh, tmp_path)
    cid = claim(gh, "alice", 1)
    real_save = act.StateBranch.save
    calls = {"n": 0}

    async def save_then_die(self, db, parent, message):
        calls["n"] += 1
        if calls["n"] == 2:  # the outcomes' save: the reply is on GitHub, the state does not know yet
            raise RuntimeError("runner lost")
        return await real_save(self, db, parent, message)

    monkeypatch.setattr(act.StateBranch, "save", save_then_die)
    with pytest.raises(RuntimeError):
        await runs.run()
    monkeypatch.undo()
    assert replies_by_comment(gh) == {cid: 1}
    await runs.run("schedule")
    assert replies_by_comment(gh) == {cid: 1}  # the next run found its marker instead of posting again


def test_action_yml_runs_bot_action_and_the_workflow_has_a_concurrency_group():
    yaml = YAML(typ="safe")
    action = yaml.load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert any("bot action" in (step.get("run") or "") for step in action["runs"]["steps"])
    assert {"token", "rules-path", "dry-run"} <= set(action["inputs"])
    workflow = yaml.load((ROOT / "examples" / "workflow" / "hackathon-bot.yml").read_text())
    assert "cancel-in-progress" not in workflow["concurrency"] and "github.repository" in workflow["concurrency"]["group"]
    triggers = workflow.get("on") or workflow.get(True)
    assert {"issue_comment", "issues", "pull_request_target", "schedule", "workflow_dispatch"} <= set(triggers)
    assert set(triggers["pull_request_target"]["types"]) == {"opened", "edited", "synchronize", "reopened", "closed"}
    docs = (ROOT / "docs" / "action.md").read_text()
    assert (ROOT / "examples" / "workflow" / "hackathon-bot.yml").read_text().strip() in docs


async def test_the_command_runs_in_a_workflows_environment_and_says_what_it_did(gh, tmp_path):
    runs = Runs(gh, tmp_path)
    claim(gh, "alice", 2)
    env = runs.env("issue_comment", 4242)
    gh.set_run(4242, REPO, "in_progress")
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))},
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "issue_comment",
        "GITHUB_EVENT_PATH": str(tmp_path / "event.json"),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": gh.base_url,
        "GITHUB_WORKSPACE": str(env.workspace),
        "GITHUB_RUN_ID": "4242",
        "RUNNER_TEMP": str(env.temp),
    }
    (tmp_path / "event.json").write_text("{}")
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "action"],
        env=environ,
        cwd=env.temp,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1].startswith("bot action: ")
    assert "@alice" in gh.issue(REPO, 1)["body"]
    outside = {k: v for k, v in environ.items() if k != "GITHUB_ACTIONS"}
    refused = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "action"],
        env=outside,
        cwd=env.temp,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("bot action: GITHUB_ACTIONS")
