"""e2e-replicas (issue 23, finding 11): two `bot serve` replicas on one PostgreSQL database with
their shipped defaults (lease, board delay, write budget), the fake GitHub at GitHub's limits.

A burst of claims shared between the replicas, ten deliveries sent to both, a 50-way race on a
one-place task, then a second burst during which one replica is killed with -9. Everything
happens exactly once (each claim recorded once, each comment answered once, one winner of the
race), and every claim, those the dead replica had acknowledged included, is answered and on the
board within 20 s of its acknowledgement: the dead replica's leases run out in LEASE_SECONDS
(10 s) and the other replica takes its work over.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import aiohttp
import pytest

from bot.core.board import BOARD_END, BOARD_START
from bot.store import Store
from tests import payloads
from tests.conftest import PG_URL
from tests.fakegithub import FakeGitHub
from tests.harness import split_replies
from tests.test_crash import REPO, SECRET, TRACKER, TRACKER_BODY, BotProcess, db_for, post, wait_settled, write_rules

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.slow,
    pytest.mark.skipif(not PG_URL, reason="replicas share a PostgreSQL database (DATABASE_URL_PG)"),
]

SOLO = 101  # a task one person may hold
WITHIN = 20.0  # seconds from acknowledgement to the reply, and to the board


def shipped(bot: BotProcess) -> BotProcess:
    """The replica with the shipped lease, board delay and budget (test_crash shortens the first two)."""
    for key in ("LEASE_SECONDS", "BOARD_DELAY"):
        bot.env.pop(key, None)
    return bot


class Watch:
    """When each claimer's reply, and their name on the board, first showed on the fake GitHub."""

    def __init__(self, gh: FakeGitHub, comment_user: dict[int, str]) -> None:
        self.gh = gh
        self.comment_user = comment_user
        self.replied: dict[str, float] = {}
        self.boarded: dict[str, float] = {}
        self._task: asyncio.Task | None = None

    def look(self) -> None:
        now = time.monotonic()
        mine = [c for c in self.gh.comments(REPO, TRACKER) if c["user"]["login"] == FakeGitHub.bot_login]
        for r in split_replies(mine):
            m = re.match(r"<!-- hackathon-bot:reply:(\d+) -->", r["body"])
            user = self.comment_user.get(int(m.group(1))) if m else None
            if user is not None:
                self.replied.setdefault(user, now)
        body = self.gh.issue(REPO, TRACKER)["body"] or ""
        if BOARD_START in body:
            for login in re.findall(r"@([A-Za-z0-9-]+)", body[body.index(BOARD_START) : body.index(BOARD_END)]):
                self.boarded.setdefault(login, now)

    async def run(self) -> None:
        while True:
            self.look()
            await asyncio.sleep(0.05)

    def __enter__(self) -> Watch:
        self._task = asyncio.get_running_loop().create_task(self.run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def test_two_replicas_one_killed_mid_burst_everything_once_and_answered_within_20_s(tmp_path: Path):
    async with FakeGitHub() as gh:  # GitHub's limits: 80 writes a minute, 500 an hour
        gh.add_repo(REPO)
        gh.add_issue(REPO, TRACKER, title="Hackathon 9th", body=TRACKER_BODY)
        gh.latency = 0.01
        rules = write_rules(tmp_path)
        (rules / "h9" / f"{SOLO}.yml").write_text(
            f"id: {SOLO}\ntitle: The one-place task\ndifficulty: 基础\ntrack: framework\nmax_claimants: 1\n"
            f"targets:\n  - repo: {REPO}\n    paths: ['python/solo/**']\n"
        )
        url = await db_for("postgres", tmp_path)
        # who claims what: 120 in the first burst, 50 racing for SOLO, 120 in the burst with the kill
        claims: dict[str, int] = {f"a{i:03d}": i % 100 + 1 for i in range(120)}
        claims |= {f"r{i:02d}": SOLO for i in range(50)}
        claims |= {f"k{i:03d}": (i + 50) % 100 + 1 for i in range(120)}
        delivery: dict[str, tuple[bytes, dict]] = {}
        comment_user: dict[int, str] = {}
        for user, task in claims.items():
            body = f"/claim {task}"
            cid = gh.add_comment(REPO, TRACKER, body, user=user)["id"]
            comment_user[cid] = user
            p = payloads.issue_comment("created", repo=REPO, issue_number=TRACKER, comment_id=cid, body=body, user=user)
            delivery[user] = payloads.delivery("issue_comment", p, SECRET, f"delivery-{user}")
        acked: dict[str, float] = {}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=128)) as session:
            bots = [shipped(BotProcess(f"replica-{i}", gh, url, rules, tmp_path)) for i in (1, 2)]
            try:
                await asyncio.gather(*(b.start(session) for b in bots))
            except BaseException:  # a half-started replica would take later tests' deliveries
                await asyncio.gather(*(b.stop() for b in bots))
                raise
            store = Store(url)
            try:
                with Watch(gh, comment_user) as watch:

                    async def send(user: str, to: list[BotProcess]) -> list[int | None]:
                        got = list(await asyncio.gather(*(post(session, b.url, *delivery[user]) for b in to)))
                        if 202 in got:
                            acked.setdefault(user, time.monotonic())
                        return got

                    # 1. a burst shared by both; ten of its deliveries sent to both (GitHub redelivering)
                    first = [u for u in claims if u.startswith("a")]
                    results = await asyncio.gather(
                        *(send(u, bots if i % 12 == 0 else [bots[i % 2]]) for i, u in enumerate(first))
                    )
                    assert all(s == 202 for r in results for s in r), results
                    # 2. fifty people race for the one-place task, through both replicas at once
                    racers = [u for u in claims if u.startswith("r")]
                    results = await asyncio.gather(*(send(u, [bots[i % 2]]) for i, u in enumerate(racers)))
                    assert all(r == [202] for r in results), results
                    await asyncio.sleep(1.0)
                    # 3. another burst; replica 1 is killed with -9 once it has acknowledged 30 of it
                    third = [u for u in claims if u.startswith("k")]
                    killed = asyncio.Event()
                    took: list[str] = []
                    lost: list[str] = []

                    async def send_killing(i: int, user: str) -> None:
                        await asyncio.sleep(i * 0.02)  # a burst of 50 a second
                        target = bots[i % 2]
                        if target is bots[0] and killed.is_set():
                            lost.append(user)
                            return
                        got = await send(user, [target])
                        if got == [202] and target is bots[0]:
                            took.append(user)
                            if len(took) >= 30 and not killed.is_set():
                                bots[0].kill9()
                                killed.set()
                        elif got != [202]:
                            lost.append(user)  # refused or reset by the dying process

                    await asyncio.gather(*(send_killing(i, u) for i, u in enumerate(third)))
                    await bots[0].wait_dead()
                    assert killed.is_set() and len(took) >= 30
                    for user in lost:  # what the load balancer (or GitHub's redelivery) sends again
                        assert await send(user, [bots[1]]) == [202], user
                    assert set(acked) == set(claims)
                    everyone = list(claims)
                    await wait_settled(store, [bots[1]], session, gh, [u for u in everyone if claims[u] != SOLO], timeout=180)
                    watch.look()

                # exactly once: each claim recorded once, one winner of the race, each comment answered once
                state = await store.state("h9")
                held: dict[str, list[int]] = {}
                for c in state.claims:
                    held.setdefault(c.user, []).append(c.task)
                [winner] = [c.user for c in state.claims_on(SOLO)]
                assert {u: t for u, t in claims.items() if t != SOLO or u == winner} == {u: ts[0] for u, ts in held.items()}
                assert all(len(ts) == 1 for ts in held.values())
                mine = [c for c in gh.comments(REPO, TRACKER) if c["user"]["login"] == FakeGitHub.bot_login]
                answered: dict[int, int] = {}
                for r in split_replies(mine):
                    m = re.match(r"<!-- hackathon-bot:reply:(\d+) -->", r["body"])
                    assert m, r["body"][:80]
                    answered[int(m.group(1))] = answered.get(int(m.group(1)), 0) + 1
                assert answered == dict.fromkeys(comment_user, 1)
                refused = [r for r in split_replies(mine) if f"No.{SOLO}" in r["body"] and "Claimed" not in r["body"]]
                assert len(refused) == 49
                assert gh.secondary_limited == 0
                counts = await store.delivery_counts()
                assert counts.get("failed", 0) == 0 and counts.get("actions_failed", 0) == 0, counts
                # every claim answered and on the board within 20 s of its acknowledgement
                late_reply = {u: round(watch.replied[u] - acked[u], 1) for u in claims if watch.replied[u] - acked[u] > WITHIN}
                assert not late_reply, late_reply
                on_board = [u for u in claims if claims[u] != SOLO or u == winner]
                late_board = {u: round(watch.boarded[u] - acked[u], 1) for u in on_board if watch.boarded[u] - acked[u] > WITHIN}
                assert not late_board, late_board
                orphans = [u for u in took if u not in lost]  # acknowledged by the dead replica
                slowest = max(max(watch.replied[u], watch.boarded[u]) - acked[u] for u in orphans)
                print(
                    f"\nclaims the dead replica had acknowledged: {len(orphans)}; slowest answered/boarded after {slowest:.1f} s"
                )
            finally:
                await store.close()
                await asyncio.gather(*(b.stop() for b in bots))
