"""`bot sync` adopting a running campaign: API calls and time (issue 10).

A tracker with 600 historical comments (claims on 300 tasks, releases, submissions, chatter) and
300 task PRs in the campaign's repository (240 merged or closed, 60 open), on the fake GitHub
(real HTTP on 127.0.0.1, GitHub's pagination: 100 per page). A fresh SQLite database; the bot as
shipped: MAX_WRITES_PER_MINUTE=80 (the open PRs' checklists and labels are the only writes, and
they are paced by it). Prints the calls by kind, the time of the first sync, and of a re-sync
with nothing changed.

Run: .venv/bin/python bench/bench_sync.py [--comments 600] [--pulls 300] [--open 60]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.rules.models import ClaimPolicy, Rules
from bot.runtime.sync import Syncer
from tests.conftest import make_campaign, make_rules
from tests.harness import Harness

TASKS = 300


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def kind(method: str, path: str) -> str:
    if path.endswith("/access_tokens") or path == "/app" or path.endswith("/installation"):
        return "app (token, login, installation)"
    if method == "GET" and path.endswith("/comments"):
        return "GET comments (pages)"
    if method == "GET" and path.endswith("/pulls"):
        return "GET pulls (pages)"
    if path.endswith("/files"):
        return "GET PR files"
    if "/permission" in path:
        return "GET permission"
    return f"{method} {'tracker' if path.endswith('/issues/100') else 'PR comment/labels'}"


async def run(n_comments: int, n_pulls: int, n_open: int) -> None:
    base = make_rules().tasks[2]
    tasks = {i: base.model_copy(update={"id": i, "title": f"Docs task {i}"}) for i in range(1, TASKS + 1)}
    rules = make_rules(tasks=tasks, campaign=make_campaign(claim_policy=ClaimPolicy(max_claimants_per_task=2)))
    start = datetime.now(UTC) - timedelta(days=5)
    with tempfile.TemporaryDirectory() as tmp:
        async with Harness(Rules(campaigns={"h9": rules}), Path(tmp), max_writes_per_minute=80) as h:
            for i in range(n_comments):
                user, task = f"user{i % 250}", i % TASKS + 1
                text = ["【报名】：{t}", "【提交】：{t}", "+1", "【取消报名】：{t}", "claim No.{t}"][i % 5].format(t=task)
                h.gh.add_comment("org/Paddle", 100, text, user=user, created_at=iso(start + timedelta(minutes=i)))
            for k in range(n_pulls):
                merged, state = (False, "open") if k < n_open else ((True, "closed") if k % 4 else (False, "closed"))
                h.gh.add_pull(
                    "org/docs",
                    1000 + k,
                    title=f"【Hackathon 9th No.{k % TASKS + 1}】docs",
                    user=f"user{k % 250}",
                    files=["docs/api/x.md"],
                    merged=merged,
                    state=state,
                )
                h.gh.set_times("org/docs", 1000 + k, created_at=iso(start + timedelta(minutes=2 * k + 1)))
            await h.settle()
            mark = len(h.gh.requests)
            t0 = time.perf_counter()
            report = await Syncer(h.pipeline, out=lambda line: None).sync(["h9"])
            first = time.perf_counter() - t0
            calls = Counter(kind(r.method, r.path) for r in h.gh.requests[mark:])
            print(f"first sync: {report.summary()}")
            print(f"  {first:.1f} s, {sum(calls.values())} requests at the fake GitHub:")
            for k, v in sorted(calls.items(), key=lambda kv: -kv[1]):
                print(f"    {v:5d}  {k}")
            state = await h.store.state("h9")
            print(f"  store: {len(state.claims)} claims, {len(state.prs)} PRs")
            mark = len(h.gh.requests)
            t0 = time.perf_counter()
            again = await Syncer(h.pipeline, out=lambda line: None).sync(["h9"])
            print(
                f"re-sync, nothing changed: {time.perf_counter() - t0:.2f} s, {len(h.gh.requests) - mark} requests "
                f"({again.comments_read} comments and {again.prs_read} PRs read again at the marks)"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--comments", type=int, default=600)
    ap.add_argument("--pulls", type=int, default=300)
    ap.add_argument("--open", type=int, default=60)
    a = ap.parse_args()
    asyncio.run(run(a.comments, a.pulls, a.open))


if __name__ == "__main__":
    main()
