"""Fairness between installations: one installation's flood must not delay another's claims.

Two installations of the App, each with its own campaign and tracker: A (`bench/Paddle`, the
campaign of bench_load.py) and B (`bench-b/Proj`, a small campaign). `bot serve` runs with its
shipped defaults against the fake GitHub (GitHub's limits: 80 content-creating requests a minute
and 500 an hour per installation), in its own process, as in production.

  1. quiet: B alone sends one claim a second for --seconds;
  2. flood: A sends --count claims as fast as the bot acknowledges them (--concurrency in flight)
     while B goes on with one claim a second.
For each of B's claims: the time from its delivery's acknowledgement until its reply is on GitHub
(the fake's record of the reply comment carrying its marker), and until B's tracker shows the
claimer on the board. Printed: p50/p99/max of both, quiet and under the flood, and their ratio
(the bar: B's p99 under A's flood within 2x of B's quiet p99).

Run: .venv/bin/python bench/bench_fairness.py [--count 3000] [--seconds 30] [--database-url ...]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (str(ROOT), str(ROOT / "bench")):
    if p not in sys.path:
        sys.path.insert(0, p)

import bench_load as load
from aiohttp import web

from tests import payloads

REPO_B = "bench-b/Proj"
SLUG_B = "bench-b"
INSTALLATION_A, INSTALLATION_B = 1, 2
MARKER = re.compile(r"<!-- hackathon-bot:reply:(\d+) -->")


def write_rules(root: Path, tasks: int) -> Path:
    load.write_rules(root, tasks)
    d = root / SLUG_B
    d.mkdir(parents=True, exist_ok=True)
    (d / "campaign.yml").write_text(
        f"name: B campaign\nkey: Sprint B\ntracker: {REPO_B}#1\nrepos: [{REPO_B}]\nlanguage: en\n"
        "claim_policy:\n  max_claims_per_user: 3\n",
        encoding="utf-8",
    )
    for i in range(1, 201):
        (d / f"{i:03d}.yml").write_text(
            f"id: {i}\ntitle: B task {i}\ntargets:\n  - repo: {REPO_B}\n    paths: ['src/{i}/**']\n", encoding="utf-8"
        )
    return root


class FairGitHub(load.BenchGitHub):
    """bench_load's fake, with B's repository in an installation of its own."""

    def _routes(self, r: web.UrlDispatcher) -> None:
        super()._routes(r)
        r.add_get("/_bench/tracker_b", self._b_tracker_b)
        r.add_get("/_bench/replies", self._b_replies)

    async def _b_tracker_b(self, request: web.Request) -> web.Response:
        return web.json_response({"body": self.issue(REPO_B, 1)["body"] or ""})

    async def _b_replies(self, request: web.Request) -> web.Response:
        """comment id -> when (monotonic, system-wide) its reply reached the fake, for B's tracker."""
        out: dict[str, float] = {}
        for r in self.requests:
            if r.method == "POST" and r.path == f"/repos/{REPO_B}/issues/1/comments" and r.status == 201 and r.ended:
                for cid in MARKER.findall((r.json or {}).get("body", "")):
                    out.setdefault(cid, r.ended)
        return web.json_response(out)


async def _fake_main() -> None:
    gh = FairGitHub()
    url = await gh.start()
    gh.add_repo(load.REPO)
    gh.add_repo(load.RFC_REPO)
    gh.add_issue(load.REPO, load.TRACKER_NUMBER, title="A", body=load.TRACKER_BODY)
    gh.add_installation(INSTALLATION_B, "bench-b", [REPO_B])
    gh.add_issue(REPO_B, 1, title="B", body="B tracker\n")
    print(f"READY {url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await gh.stop()


class FairFake(load.FakeProc):
    script = __file__

    async def tracker_b(self) -> str:
        return (await self._get("/_bench/tracker_b"))["body"]

    async def replies(self) -> dict[str, float]:
        return await self._get("/_bench/replies")


class FairStack(load.Stack):
    async def __aenter__(self) -> FairStack:
        orig = load.FakeProc
        load.FakeProc = FairFake  # type: ignore[misc]
        try:
            await super().__aenter__()
        finally:
            load.FakeProc = orig  # type: ignore[misc]
        return self


def b_claim(k: int) -> tuple[int, str, bytes, dict[str, str]]:
    cid = 90_000_000 + k
    user = f"b{k:04d}"
    p = payloads.issue_comment(
        "created",
        repo=REPO_B,
        issue_number=1,
        comment_id=cid,
        body=f"claim {k % 200 + 1}",
        user=user,
        installation_id=INSTALLATION_B,
    )
    body, headers = payloads.delivery("issue_comment", p, load.SECRET, f"bench-b-{k}")
    return cid, user, body, headers


async def b_stream(
    st: FairStack, start: int, out: list[tuple[int, str, float]], *, seconds: float, until: asyncio.Event | None = None
) -> None:
    """One claim of B a second for `seconds` (or until `until` is set, at least 10); each appended
    to `out` as (comment id, user, acknowledged at: monotonic)."""
    k = start
    t0 = time.monotonic()
    while (time.monotonic() - t0 < seconds) if until is None else (k - start < 10 or not until.is_set()):
        cid, user, body, headers = b_claim(k)
        status = await load.post(st.session, st.bot.url, body, headers)
        assert status == 202, status
        out.append((cid, user, time.monotonic()))
        k += 1
        await asyncio.sleep(max(0.0, t0 + (k - start) - time.monotonic()))


class Watcher:
    """Polls the fake GitHub while claims are sent: when each claim's reply reached GitHub, and when
    B's tracker first showed its claimer (both measured from the claim's acknowledgement)."""

    def __init__(self, st: FairStack) -> None:
        self.st = st
        self.sent: list[tuple[int, str, float]] = []
        self.reply: dict[int, float] = {}
        self.board: dict[int, float] = {}

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set() or len(self.reply) < len(self.sent) or len(self.board) < len(self.sent):
            replies = await self.st.fake.replies()
            tracker = await self.st.fake.tracker_b()
            now = time.monotonic()
            for cid, user, acked in list(self.sent):
                if cid not in self.reply and str(cid) in replies:
                    self.reply[cid] = replies[str(cid)] - acked
                if cid not in self.board and f"@{user}" in tracker:
                    self.board[cid] = now - acked
            await asyncio.sleep(0.05)

    def figures(self) -> tuple[list[float], list[float]]:
        return sorted(self.reply.values()), sorted(self.board.values())


async def watched(st: FairStack, stream) -> tuple[list[tuple[int, str, float]], list[float], list[float]]:
    w = Watcher(st)
    stop = asyncio.Event()
    poller = asyncio.create_task(w.run(stop))
    await stream(w.sent)
    stop.set()
    await asyncio.wait_for(poller, 120)
    return (w.sent, *w.figures())


def figures(name: str, values: list[float], n: int) -> str:
    if not values:
        return f"{name}: none of {n}"
    return (
        f"{name}: p50 {load.pct(values, 50):.2f} s, p99 {load.pct(values, 99):.2f} s, max {values[-1]:.2f} s ({len(values)}/{n})"
    )


async def run(args: argparse.Namespace) -> None:
    rules = write_rules(Path(tempfile.mkdtemp(prefix="bench-fair-rules-")), args.tasks)
    async with FairStack(args, rules, tag="fair") as st:
        await load.warm_up(st, load.Claims(args.tasks, prefix="w"))
        await b_stream(st, 9000, [], seconds=2)  # B's token minted, its tracker read once
        await asyncio.sleep(5)
        quiet, q_reply, q_board = await watched(st, lambda out: b_stream(st, 0, out, seconds=args.seconds))
        await asyncio.sleep(5)
        deliveries = load.Claims(args.tasks).build(args.count)
        a_done = asyncio.Event()
        base = await st.bot.counts()
        timing: dict[str, float] = {}

        async def a_flood() -> None:
            t0 = time.perf_counter()
            queue = list(reversed(deliveries))

            async def poster() -> None:
                while queue:
                    body, headers = queue.pop()
                    await load.post(st.session, st.bot.url, body, headers)

            await asyncio.gather(*(poster() for _ in range(args.concurrency)))
            timing["acked"] = time.perf_counter() - t0
            while load.finished_since(await st.bot.counts(), base) < args.count:  # (B's count too: a bound)
                await asyncio.sleep(0.1)
            timing["decided"] = time.perf_counter() - t0
            a_done.set()

        async def both(out: list) -> None:
            await asyncio.gather(a_flood(), b_stream(st, 1000, out, seconds=0, until=a_done))

        loaded, l_reply, l_board = await watched(st, both)
    print(f"B alone, one claim a second for {args.seconds:g} s:")
    print("  " + figures("reply", q_reply, len(quiet)))
    print("  " + figures("board", q_board, len(quiet)))
    print(
        f"A's flood of {args.count} claims (acknowledged in {timing['acked']:.1f} s, decided in {timing['decided']:.1f} s)"
        f" with B going on, one claim a second ({len(loaded)} claims):"
    )
    print("  " + figures("reply", l_reply, len(loaded)))
    print("  " + figures("board", l_board, len(loaded)))
    for name, q, lo in (("reply", q_reply, l_reply), ("board", q_board, l_board)):
        if q and lo:
            print(f"  {name} p99 under the flood / quiet: {load.pct(lo, 99) / load.pct(q, 99):.2f}x (bar: <= 2x)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=3000, help="claims of A's flood (default 3000)")
    p.add_argument("--concurrency", type=int, default=32, help="A's posts in flight (default 32)")
    p.add_argument("--seconds", type=float, default=30.0, help="B's quiet run, one claim a second (default 30)")
    p.add_argument("--tasks", type=int, default=2000, help="tasks of A's campaign (default 2000)")
    p.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    p.add_argument("--fake-github", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.fake_github:
        asyncio.run(_fake_main())
        return
    for name in ("workers", "board_delay", "log_level", "py_spy", "py_spy_idle"):
        setattr(args, name, None)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
