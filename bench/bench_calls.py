"""GitHub API calls per event, counted at the fake GitHub: what one delivery costs in requests.

The same stack as bench_load.py (a fake GitHub in a child process, `python -m bot serve` in
another, a fresh SQLite database), with a small BOARD_DELAY so each event's board edit lands
before the next event. After each delivery the script waits until the bot is idle (every
delivery done, every action performed, and no new request at the fake for a while), then
counts the requests the fake received since the delivery, by kind.

Scenario: a warm-up claim (the installation token is minted then, once per hour per
installation; GET /app once per process: both are listed but not charged to events), then for
each PR size (10, 250 and 3,000 changed files by default) a new participant claims a task and
opens a code PR for it with that many changed files (all inside the task's targets, one of
them a required test), pushes a file outside the targets (synchronize: the checklist changes),
pushes again with nothing changed (the checklist must not be edited), and the PR is merged
(closed with merged=true).

Bars (issue 4): a claim comment <= 3 calls; a PR event <= 4 + 1 per 100 changed files, read as
4 + ceil(files / 100) (one page of the PR's file list per 100 files).

Run: .venv/bin/python bench/bench_calls.py [--sizes 10,250,3000]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load import KEY, REPO, SECRET, TRACKER_NUMBER, Stack, post, write_rules

from tests import payloads

TRACKER = f"/repos/{REPO}/issues/{TRACKER_NUMBER}"
KINDS = [  # (label, method, path regex), first match wins
    ("token mint", "POST", r"^/app/installations/\d+/access_tokens$"),
    ("GET /app", "GET", r"^/app$"),
    ("GET tracker", "GET", "^" + re.escape(TRACKER) + "$"),
    ("PATCH tracker (board)", "PATCH", "^" + re.escape(TRACKER) + "$"),
    ("POST comment", "POST", r"^/repos/[^/]+/[^/]+/issues/\d+/comments$"),
    ("PATCH comment", "PATCH", r"^/repos/[^/]+/[^/]+/issues/comments/\d+$"),
    ("GET comments", "GET", r"^/repos/[^/]+/[^/]+/issues/\d+/comments$"),
    ("GET PR files (page)", "GET", r"^/repos/[^/]+/[^/]+/pulls/\d+/files$"),
    ("GET PR", "GET", r"^/repos/[^/]+/[^/]+/pulls/\d+$"),
    ("PUT labels", "PUT", r"/labels$"),
    ("POST labels", "POST", r"/labels$"),
    ("POST assignees", "POST", r"/assignees$"),
    ("GET permission", "GET", r"/permission$"),
    ("POST check run", "POST", r"/check-runs$"),
]
NOT_CHARGED = {"token mint", "GET /app"}


def kind_of(method: str, path: str) -> str:
    for label, m, rx in KINDS:
        if m == method and re.search(rx, path):
            return label
    return f"{method} {path}"


async def settle(st: Stack, quiet: float) -> None:
    """Until the bot is idle: nothing pending in /healthz and no request at the fake for `quiet` s."""
    deadline = time.monotonic() + 120
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        c = await st.bot.counts()
        busy = c.get("pending", 0) + c.get("processing", 0) + c.get("actions_pending", 0)
        total, _ = await st.fake.requests(10**9)
        if total != last or busy:
            last, since = total, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the bot did not settle within 120 s")


async def measure(st: Stack, quiet: float, send) -> tuple[int, dict[str, int], list]:
    """Send one delivery (awaitable `send`), settle, and count the fake's requests since."""
    before, _ = await st.fake.requests(10**9)
    status = await send()
    if status != 202:
        raise RuntimeError(f"delivery answered {status}")
    await settle(st, quiet)
    _, reqs = await st.fake.requests(before)
    kinds: dict[str, int] = {}
    for m, p, _s in reqs:
        k = kind_of(m, p)
        kinds[k] = kinds.get(k, 0) + 1
    charged = sum(n for k, n in kinds.items() if k not in NOT_CHARGED)
    return charged, kinds, reqs


def claim_sender(st: Stack, user: str, task: int, comment_id: int):
    async def send() -> int:
        p = payloads.issue_comment(
            "created", repo=REPO, issue_number=TRACKER_NUMBER, comment_id=comment_id, body=f"【报名】：{task}", user=user
        )
        body, headers = payloads.delivery("issue_comment", p, SECRET)
        return await post(st.session, st.bot.url, body, headers)

    return send


def pr_sender(
    st: Stack, action: str, number: int, user: str, task: int, files: list[str] | None, merged: bool = False, state: str = "open"
):
    async def send() -> int:
        fields = dict(repo=REPO, number=number, title=f"【{KEY} No.{task}】 add API_{task}", body="", user=user)
        if files is not None:
            fields["files"] = files
        if action != "opened":
            fields = dict(
                repo=REPO, number=number, files=files, state=state, merged=merged, head_sha=payloads.sha_for(REPO, number, action)
            )
            fields = {k: v for k, v in fields.items() if v is not None}
        pr = await st.fake.put_pull(**fields)
        p = payloads.pull_request(
            action,
            repo=REPO,
            number=number,
            title=pr["title"],
            body=pr["body"] or "",
            user=pr["user"]["login"],
            merged=pr["merged"],
            state=pr["state"],
            head_sha=pr["head"]["sha"],
        )
        p["pull_request"]["labels"] = pr["labels"]
        body, headers = payloads.delivery("pull_request", p, SECRET)
        return await post(st.session, st.bot.url, body, headers)

    return send


def show(name: str, charged: int, kinds: dict[str, int], bar: float | None) -> bool:
    detail = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    verdict = "" if bar is None else f"  [bar <= {bar:g}: {'PASS' if charged <= bar else 'MISS'}]"
    print(f"{name:<44} {charged:>3} calls{verdict}   ({detail})")
    return bar is None or charged <= bar


async def amain(args: argparse.Namespace) -> int:
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-calls-rules-") as tmp:
        rules_dir = write_rules(Path(tmp), 50)
        args.database_url = args.database_url
        async with Stack(args, rules_dir, board_delay=args.board_delay, tag="calls") as st:
            charged, kinds, _ = await measure(st, args.quiet, claim_sender(st, "warm", 50, 90_000_001))
            show("warm-up claim (first event after start)", charged, kinds, None)
            cid = 90_000_100
            for i, n in enumerate(args.sizes):
                task, user, number = i + 1, f"dev{n}", 1000 + i
                cid += 1
                charged, kinds, _ = await measure(st, args.quiet, claim_sender(st, user, task, cid))
                ok &= show(f"claim comment ({user} claims task {task})", charged, kinds, 3)
                files = [f"python/paddle/api_{task}/f{j}.py" for j in range(n - 1)] + [f"test/api_{task}/test_api_{task}.py"]
                bar = 4 + math.ceil(n / 100)
                charged, kinds, _ = await measure(st, args.quiet, pr_sender(st, "opened", number, user, task, files))
                ok &= show(f"PR opened, {n:,} files", charged, kinds, bar)
                pushed = [f"docs/notes_{task}.md"] + files[1:]  # now one file lies outside the task's targets
                charged, kinds, _ = await measure(st, args.quiet, pr_sender(st, "synchronize", number, user, task, pushed))
                ok &= show(f"PR synchronize, {n:,} files (1 outside)", charged, kinds, bar)
                charged, kinds, _ = await measure(st, args.quiet, pr_sender(st, "synchronize", number, user, task, pushed))
                ok &= show("PR synchronize again, nothing changed", charged, kinds, bar)
                charged, kinds, _ = await measure(
                    st, args.quiet, pr_sender(st, "closed", number, user, task, None, merged=True, state="closed")
                )
                ok &= show(f"PR closed merged, {n:,} files", charged, kinds, bar)
    print("all bars met" if ok else "a bar was missed")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[10, 250, 3000],
        help="changed files per PR, comma-separated (default 10,250,3000)",
    )
    p.add_argument("--board-delay", type=float, default=0.3, help="BOARD_DELAY for the bot (default 0.3 s)")
    p.add_argument("--quiet", type=float, default=1.0, help="seconds without a request that count as idle (default 1)")
    p.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    p.add_argument("--log-level", default="WARNING")
    args = p.parse_args(argv)
    args.workers, args.py_spy = None, None
    return asyncio.run(amain(args))


if __name__ == "__main__":
    raise SystemExit(main())
