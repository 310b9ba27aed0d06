"""Requests of the bot as a GitHub Action (`bot action`): per run and per claim.

A burst of --claims claims on the tracker, of which only one run in --every executes (a
`concurrency` group cancels the rest), then a `schedule` run and a `workflow_dispatch` run. The
fake GitHub enforces GitHub's limits (80 content-creating requests a minute, 500 an hour); time is
simulated (the fake's limits and the bot's write pacing share a clock, and runs start --start
seconds apart, as GitHub's runners take 20-60 s to start), so the bench takes seconds while the
limits hold as they would over the simulated minutes. Printed: requests per run (all, and the
content-creating ones), per claim, the quiet runs' cost, and that every claim got one reply.

Run: .venv/bin/python bench/bench_action.py [--claims 100] [--every 4] [--start 30]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.runtime import action as act
from bot.settings import Settings
from tests.fakegithub import FakeGitHub
from tests.fakes import SimulatedTime

REPO = "bench/camp"
TOKEN = "ghs_bench_workflow_token"
FOLDER = ".github/hackathon/bench"
WRITES = ("POST", "PATCH", "PUT", "DELETE")
MARKER = re.compile(r"<!-- hackathon-bot:reply:(\d+) -->")


def workspace(base: Path, tasks: int) -> Path:
    rules = base / "workspace" / FOLDER
    rules.mkdir(parents=True)
    (rules / "campaign.yml").write_text(
        f"name: Bench\nkey: Hackathon 99th\ntracker: {REPO}#1\nrepos: [{REPO}]\nlanguage: zh\n"
        "claim_policy:\n  max_claims_per_user: 3\n  max_claimants_per_task: 1\n  claim_expiry_days: 14\n"
    )
    for n in range(1, tasks + 1):
        (rules / f"{n:03d}.yml").write_text(f"id: {n}\ntitle: 任务 {n}\ntargets:\n  - repo: {REPO}\n    paths: ['src/{n}/**']\n")
    (base / "temp").mkdir()
    return base / "workspace"


async def main(args: argparse.Namespace) -> None:
    sim = SimulatedTime()
    gh = FakeGitHub()
    gh.clock = sim.clock  # GitHub's secondary limit counts on the simulated clock
    await gh.start()
    gh.add_token(TOKEN)
    gh.add_issue(REPO, 1, title="Bench tracker", body="Claim below.\n")
    gh.commit_files(REPO, {"README.md": "bench"})
    tmp = Path(tempfile.mkdtemp(prefix="bench-action-"))
    per_run: list[tuple[str, int, int]] = []
    run_id = 0

    async def one(event: str) -> None:
        nonlocal run_id
        run_id += 1
        base = tmp / f"run-{run_id}"
        env = act.ActionEnv(
            event=event,
            repository=REPO,
            token=TOKEN,
            api_url=gh.base_url,
            workspace=workspace(base, args.claims),
            run_id=run_id,
            temp=base / "temp",
        )
        gh.set_run(run_id, REPO, "in_progress")
        before = len(gh.requests)
        await act.run(env, Settings(_env_file=None), gateway_options={"clock": sim.clock, "sleep": sim.sleep})
        gh.set_run(run_id, REPO, "completed", "success")
        made = gh.requests[before:]
        per_run.append((event, len(made), sum(1 for r in made if r.method in WRITES)))
        sim.now += args.start  # the next run's runner starts a while later

    t0 = time.perf_counter()
    ids = []
    for k in range(args.claims):
        ids.append(gh.add_comment(REPO, 1, f"【报名】：{k + 1}", user=f"u{k:03d}")["id"])
        if k % args.every == args.every - 1:
            await one("issue_comment")
    await one("schedule")
    quiet_schedule = per_run[-1]
    await one("workflow_dispatch")
    quiet_dispatch = per_run[-1]
    wall = time.perf_counter() - t0
    answered: dict[int, int] = {}
    for c in gh.comments(REPO, 1):
        if c["user"]["login"] == "github-actions[bot]":
            for cid in MARKER.findall(c["body"]):
                answered[int(cid)] = answered.get(int(cid), 0) + 1
    board = gh.issue(REPO, 1)["body"]
    claim_runs = [r for r in per_run if r[0] == "issue_comment"]
    total = sum(r[1] for r in per_run)
    print(
        f"{args.claims} claims, one run in {args.every} executes: {len(claim_runs)} claim runs + 1 schedule + 1 workflow_dispatch"
    )
    print(
        f"  requests per claim run: mean {sum(r[1] for r in claim_runs) / len(claim_runs):.1f}, max {max(r[1] for r in claim_runs)}"
        f" (content-creating: mean {sum(r[2] for r in claim_runs) / len(claim_runs):.1f}, max {max(r[2] for r in claim_runs)})"
    )
    print(f"  requests per claim: {total / args.claims:.2f} ({total} in all runs, {gh.secondary_limited} refused by the limit)")
    print(f"  the schedule run after: {quiet_schedule[1]} requests, {quiet_schedule[2]} writes")
    print(
        f"  a workflow_dispatch run after (reads everything, nothing new): {quiet_dispatch[1]} requests, {quiet_dispatch[2]} writes"
    )
    once = sum(1 for cid in ids if answered.get(cid) == 1)
    on_board = sum(1 for k in range(args.claims) if f"@u{k:03d}" in board)
    print(f"  answered exactly once: {once}/{args.claims}; on the board: {on_board}/{args.claims}; {wall:.1f} s of wall time")
    await gh.stop()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--claims", type=int, default=100)
    p.add_argument("--every", type=int, default=4, help="one run in this many executes (default 4)")
    p.add_argument("--start", type=float, default=30.0, help="simulated seconds between two runs (default 30)")
    asyncio.run(main(p.parse_args()))
