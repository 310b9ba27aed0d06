"""Render boards of 300 tasks / 1,000 claims, 2,000 / 4,000 and 5,000 / 8,000 and print time, size and layout.

Two mixes of stages: busy (about 40% of claims past "claimed", with PRs) and early (8%).
The layout column says what the board had to give up to fit the issue body (see
bot.board.render_board): "links" = title links kept, "PR refs" = PR references kept,
"compact" = only claimed or closed tasks have a row, "ids" = no titles, "+N" = claimants
cut per row, "cut" = rows cut. Bars: 2,000/4,000 under ~40 ms, 300/1,000 under ~15 ms.

Run: python bench/bench_board.py [repeats]
"""

from __future__ import annotations

import random
import re
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from bot.core.board import render_board, splice_board
from bot.core.model import CampaignState, Claim, PullRequest, Stage
from bot.rules.models import Campaign, CampaignRules, ClaimPolicy, Source, Target, Task


def build(n_tasks: int = 300, n_claims: int = 1000, seed: int = 9, weights=(60, 8, 6, 12, 4, 10)):
    rnd = random.Random(seed)
    camp = Campaign(
        name="Hackathon 9th",
        key="Hackathon 9th",
        tracker="PaddlePaddle/Paddle#70000",
        collection_url="https://github.com/PaddlePaddle/Paddle/issues/70001",
        claim_policy=ClaimPolicy(max_claimants_per_task=5),
    )
    tracks = ["API", "套件", "框架", None]
    tasks = {
        i: Task(
            id=i,
            title=f"为 Paddle 新增 API_{i} | 支持复数 <complex>",
            difficulty=rnd.choice(["基础", "进阶"]),
            track=tracks[i % 4],
            targets=[Target(repo="PaddlePaddle/Paddle", paths=["python/**"])],
            source=Source(file="c.md", anchor=f"task{i}"),
        )
        for i in range(1, n_tasks + 1)
    }
    rules = CampaignRules(slug="h9", dir=Path("rules/h9"), campaign=camp, tasks=tasks)
    users = [f"user-{k:03d}" for k in range(400)]
    claims, prs, seen = [], [], set()
    t0 = datetime(2024, 3, 1)
    while len(claims) < n_claims:
        t, u = rnd.randint(1, n_tasks), rnd.choice(users)
        if (t, u) in seen:
            continue
        seen.add((t, u))
        stage = rnd.choices(list(Stage), weights=weights)[0]
        claims.append(Claim("h9", t, u, stage, t0 + timedelta(minutes=len(claims))))
        if stage.rank >= Stage.RFC_SUBMITTED.rank:
            n = 60000 + len(prs)
            prs.append(
                PullRequest(
                    "h9",
                    "PaddlePaddle/community",
                    n,
                    u,
                    "t",
                    (t,),
                    "rfc",
                    "merged" if stage.rank >= Stage.RFC_ACCEPTED.rank else "open",
                    f"https://x/{n}",
                )
            )
        if stage.rank >= Stage.SUBMITTED.rank:
            n = 70000 + len(prs)
            prs.append(
                PullRequest(
                    "h9",
                    "PaddlePaddle/Paddle",
                    n,
                    u,
                    "t",
                    (t,),
                    "code",
                    "merged" if stage == Stage.COMPLETED else "open",
                    f"https://x/{n}",
                )
            )
    state = CampaignState(claims=tuple(claims), prs=tuple(prs), closed_tasks=frozenset(range(1, n_tasks + 1, 37)))
    return rules, state


def layout(board: str) -> str:
    if "| No. | Difficulty |" in board or "| 序号 | 难度 |" in board:
        bits = ["full"]
        if "](" in board:
            bits.append("links")
        if re.search(r"[(（,，]PR ", board):
            bits.append("PR refs")
        return ", ".join(bits)
    if "| No. | Task |" in board or "| 序号 | 任务 |" in board:
        return "compact"
    bits = ["ids"]
    if re.search(r"(, |、)\+\d+ \|", board):
        bits.append("+N")
    if "/status" in board:
        bits.append("cut")
    return ", ".join(bits)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    sizes = ((300, 1000), (2000, 4000), (5000, 8000))
    scenarios = {"busy": (60, 8, 6, 12, 4, 10), "early": (92, 2, 1, 3, 1, 1)}
    for n_tasks, n_claims in sizes:
        for name, weights in scenarios.items():
            rules, state = build(n_tasks, n_claims, weights=weights)
            render_board(rules, state, "zh")  # warm the template cache
            for lang in ("zh", "en"):
                times = []
                for _ in range(repeats):
                    t = time.perf_counter()
                    board = render_board(rules, state, lang)
                    times.append(time.perf_counter() - t)
                times.sort()
                body = splice_board("# 任务总览\n\n说明文字\n", board)
                print(
                    f"{n_tasks:>5,} tasks {n_claims:>5,} claims {len(state.prs):>5,} PRs {name:<5} {lang}: "
                    f"median {1000 * times[len(times) // 2]:6.1f} ms, max {1000 * times[-1]:6.1f} ms over {repeats}; "
                    f"board {len(board):>6,} chars (body {len(body):>6,} of 65,536); layout: {layout(board)}"
                )


if __name__ == "__main__":
    main()
