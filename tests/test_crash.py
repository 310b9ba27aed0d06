"""Crash safety and replicas with the real `bot serve` (python -m bot serve) in subprocesses,
talking to the fake GitHub over loopback: what an organiser needs to trust in a campaign's
first hours.

- `kill -9` in the middle of a burst of 500 claims (replies being merged, the fake enforcing
  GitHub's secondary limit, the bot its shipped write budget), start again: every acknowledged
  claim is recorded and on the board exactly once, every comment gets exactly one reply (alone
  or in a merged comment), nothing failed, no 403.
- Two replicas on one PostgreSQL database share the deliveries (including redeliveries of the
  same X-GitHub-Delivery to both): nothing processed twice, nothing lost, and the tracker's
  board is edited by one replica at a time.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from bot.core.board import BOARD_END, BOARD_START
from bot.core.replies import reply_marker
from bot.runtime.server import WEBHOOK_PATH
from bot.store import Store
from tests import payloads
from tests.conftest import PG_URL, STORE_BACKENDS, fresh_store
from tests.fakegithub import FakeGitHub
from tests.harness import split_replies

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

SECRET = "crash-test-secret"
STATUS_TOKEN = "crash-test-operator-token"
OPERATOR = {"Authorization": f"Bearer {STATUS_TOKEN}"}
REPO, TRACKER = "org/Paddle", 100
TRACKER_BODY = "# Hackathon 9th\n\nClaim with /claim N.\n"
AFTER_BOARD = "\n## Notes\nWritten by the organiser below the board.\n"
TASKS = 100


def write_rules(root: Path) -> Path:
    camp = root / "rules" / "h9"
    camp.mkdir(parents=True)
    (camp / "campaign.yml").write_text(
        "name: Hackathon 9th\n"
        "key: Hackathon 9th\n"
        f"tracker: {REPO}#{TRACKER}\n"
        f"repos: [{REPO}]\n"
        "maintainers: [boss]\n"
        "language: en\n"
        "claim_policy:\n  max_claims_per_user: 3\n  max_claimants_per_task: 10\n"
        "rfc:\n  repo: org/community\n  path: rfcs/\n"
    )
    for i in range(1, TASKS + 1):
        (camp / f"{i:03d}.yml").write_text(
            f"id: {i}\ntitle: Task number {i}\ndifficulty: 基础\ntrack: framework\n"
            f"targets:\n  - repo: {REPO}\n    paths: ['python/t{i}/**']\n"
        )
    return root / "rules"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BotProcess:
    """`python -m bot serve` with the environment a deployment would give it."""

    def __init__(self, name: str, gh: FakeGitHub, db_url: str, rules_dir: Path, workdir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"{name}.log"
        self.workdir = workdir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "GITHUB_", "APP_ID", "PRIVATE_KEY"))}
        self.env.update(
            APP_ID=str(gh.app_id),
            PRIVATE_KEY=gh.private_key_pem,
            WEBHOOK_SECRET=SECRET,
            STATUS_TOKEN=STATUS_TOKEN,
            GITHUB_API_URL=gh.base_url,
            DATABASE_URL=db_url,
            RULES_DIR=str(rules_dir),
            PORT=str(self.port),
            LEASE_SECONDS="2",
            BOARD_DELAY="0.5",
            LOG_LEVEL="WARNING",
        )  # GitHub's limits, the shipped budget
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, session: aiohttp.ClientSession) -> None:
        with open(self.log, "ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "serve", env=self.env, cwd=self.workdir, stdout=out, stderr=out
            )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                assert self.proc.returncode is None, self.log.read_text()
                try:
                    async with session.get(self.url + "/healthz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            raise AssertionError(f"bot serve did not come up:\n{self.log.read_text()}")
        except BaseException:  # never leave a half-started replica behind: it would take later tests' deliveries
            await self.stop()
            raise

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL: no cleanup, no grace

    async def wait_dead(self) -> None:
        if self.proc is not None:
            await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 25)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()

    async def counts(self, session: aiohttp.ClientSession) -> dict:
        async with session.get(self.url + "/healthz", headers=OPERATOR) as r:
            return (await r.json())["counts"]


class Burst:
    """N claim comments by distinct people (p000, p001, ...), each on the tracker, each a delivery."""

    def __init__(self, gh: FakeGitHub, n: int):
        self.users = [f"p{i:03d}" for i in range(n)]
        self.task = {u: i % TASKS + 1 for i, u in enumerate(self.users)}
        self.comment_id: dict[str, int] = {}
        self.delivery: dict[str, tuple[bytes, dict]] = {}
        for u in self.users:
            body = f"/claim {self.task[u]}"
            cid = gh.add_comment(REPO, TRACKER, body, user=u)["id"]
            self.comment_id[u] = cid
            p = payloads.issue_comment("created", repo=REPO, issue_number=TRACKER, comment_id=cid, body=body, user=u)
            self.delivery[u] = payloads.delivery("issue_comment", p, SECRET, f"delivery-{u}")


async def post(session: aiohttp.ClientSession, url: str, body: bytes, headers: dict) -> int | None:
    """The status of one delivery, or None when it did not get an answer (refused, reset, timed out)."""
    try:
        async with session.post(url + WEBHOOK_PATH, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=15)) as r:
            await r.read()
            return r.status
    except (TimeoutError, aiohttp.ClientError):
        return None


async def wait_settled(
    store: Store, bots: list[BotProcess], session: aiohttp.ClientSession, gh: FakeGitHub, users: list[str], timeout: float = 90.0
) -> str:
    """Until the store has nothing pending, /healthz agrees, and the board shows everyone and stops changing."""
    deadline = time.monotonic() + timeout
    stable_since, last = None, None
    while time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        if await store.pending_work():
            stable_since = None
            continue
        counts = [await b.counts(session) for b in bots]
        if any(c.get("pending") or c.get("processing") or c.get("actions_pending") for c in counts):
            continue
        body = gh.issue(REPO, TRACKER)["body"] or ""
        if body != last:
            last, stable_since = body, time.monotonic()
        elif time.monotonic() - stable_since > 1.5 and all(f"@{u}" in body for u in users):
            return body
    logs = "\n".join(b.log.read_text()[-3000:] for b in bots)
    raise AssertionError(f"not settled: pending={await store.pending_work()}\n{logs}")


async def check_outcome(store: Store, gh: FakeGitHub, burst: Burst, board: str) -> None:
    state = await store.state("h9")
    claims = {}
    for c in state.claims:
        assert c.user not in claims, f"{c.user} holds two claims"
        claims[c.user] = c.task
    assert claims == burst.task  # every acknowledged claim, nothing else
    replies: dict[int, list[str]] = {}
    mine = [c for c in gh.comments(REPO, TRACKER) if c["user"]["login"] == FakeGitHub.bot_login]
    for r in split_replies(mine):  # replies merged under load are split back, one per comment answered
        m = re.match(r"<!-- hackathon-bot:reply:(\d+) -->", r["body"])
        assert m, r["body"][:80]
        replies.setdefault(int(m.group(1)), []).append(r["body"])
    dupes = {cid: len(b) for cid, b in replies.items() if len(b) != 1}
    assert not dupes, f"comments with more than one reply: {dupes}"
    for u in burst.users:
        [reply] = replies.get(burst.comment_id[u], [None])
        assert reply is not None, f"{u} got no reply"
        assert reply.startswith(reply_marker(burst.comment_id[u]))
        assert f"Claimed No.{burst.task[u]}" in reply, reply  # not "you already hold": processed once
    assert board.startswith(TRACKER_BODY) and board.count(BOARD_START) == 1 and board.count(BOARD_END) == 1
    rows = board[board.index(BOARD_START) : board.index(BOARD_END)]
    for u in burst.users:
        row = next(line for line in rows.splitlines() if re.search(rf"Task number {burst.task[u]}\b", line))
        assert row.count(f"@{u}") == 1, row
    assert len(mine) < len(burst.users) // 4  # under load, replies were merged
    assert gh.secondary_limited == 0  # the bot kept within GitHub's secondary limit
    assert await store.failures() == []
    counts = await store.delivery_counts()
    assert counts.get("failed", 0) == 0 and counts.get("actions_failed", 0) == 0, counts


async def db_for(backend: str, tmp_path: Path) -> str:
    s = await fresh_store(backend, tmp_path)  # PostgreSQL: a clean schema; the bot migrates it
    await s.close()
    return f"sqlite+aiosqlite:///{tmp_path}/bot.db" if backend == "sqlite" else PG_URL


@pytest.mark.parametrize("backend", STORE_BACKENDS)
async def test_kill_9_in_a_burst_of_500_claims_loses_nothing_and_duplicates_nothing(backend, tmp_path):
    async with FakeGitHub() as gh:
        gh.add_repo(REPO)
        gh.add_issue(REPO, TRACKER, title="Hackathon 9th", body=TRACKER_BODY)
        gh.latency = 0.01  # so GitHub calls are in flight when the process dies
        rules = write_rules(tmp_path)
        url = await db_for(backend, tmp_path)
        burst = Burst(gh, 500)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
            bot = BotProcess("bot-1", gh, url, rules, tmp_path)
            await bot.start(session)
            acked: set[str] = set()
            unanswered: list[str] = []
            killed = asyncio.Event()
            sem = asyncio.Semaphore(64)

            async def send(u: str) -> None:
                async with sem:
                    if killed.is_set():
                        unanswered.append(u)
                        return
                    status = await post(session, bot.url, *burst.delivery[u])
                    if status == 202:
                        acked.add(u)
                        if len(acked) >= 250 and not killed.is_set():
                            bot.kill9()
                            killed.set()
                    else:
                        assert status is None, f"delivery of {u} got {status}"
                        unanswered.append(u)

            await asyncio.gather(*(send(u) for u in burst.users))
            await bot.wait_dead()
            assert 250 <= len(acked) < 500
            store = Store(url)
            try:
                mid = await store.delivery_counts()
                # the crash left work behind: some deliveries or their GitHub actions were not finished
                assert mid.get("pending", 0) + mid.get("processing", 0) + mid.get("actions_pending", 0) > 0, mid
                bot2 = BotProcess("bot-2", gh, url, rules, tmp_path)
                await bot2.start(session)
                try:
                    for u in unanswered:  # what GitHub would redeliver: same delivery id
                        status = await post(session, bot2.url, *burst.delivery[u])
                        assert status == 202, (u, status)
                        acked.add(u)
                    assert acked == set(burst.users)
                    board = await wait_settled(store, [bot2], session, gh, burst.users)
                    await check_outcome(store, gh, burst, board)
                finally:
                    await bot2.stop()
            finally:
                await store.close()


def board_edit_windows(gh: FakeGitHub) -> list[tuple[str, float, float]]:
    """(client, start, end) of each board edit of the tracker: from the replica's read of the issue
    to the end of its write."""
    path = f"/repos/{REPO}/issues/{TRACKER}"
    last_get: dict[str, float] = {}
    windows = []
    for r in sorted(gh.requests, key=lambda r: r.started):
        if r.path != path or r.client is None:
            continue
        if r.method == "GET":
            last_get[r.client] = r.started
        elif r.method == "PATCH":
            windows.append((r.client, last_get.get(r.client, r.started), r.ended or r.started))
    return windows


@pytest.mark.skipif(not PG_URL, reason="replicas share a PostgreSQL database (DATABASE_URL_PG)")
async def test_two_replicas_on_one_postgres_share_deliveries_without_doubling(tmp_path):
    async with FakeGitHub() as gh:
        gh.add_repo(REPO)
        gh.add_issue(REPO, TRACKER, title="Hackathon 9th", body=TRACKER_BODY)
        gh.latency = 0.01
        # reading and writing the tracker is slow, so two unserialised board edits would overlap
        gh.slow_next("*", rf"^/repos/{REPO}/issues/{TRACKER}$", 0.15, times=10_000)
        rules = write_rules(tmp_path)
        url = await db_for("postgres", tmp_path)
        burst = Burst(gh, 300)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
            bots = [BotProcess(f"replica-{i}", gh, url, rules, tmp_path) for i in (1, 2)]
            try:
                await asyncio.gather(*(b.start(session) for b in bots))
            except BaseException:
                await asyncio.gather(*(b.stop() for b in bots))
                raise
            store = Store(url)
            try:
                sem = asyncio.Semaphore(24)
                redelivered = burst.users[::20]  # 10 deliveries GitHub sends again, once to each replica

                async def send(i: int, u: str) -> list[int | None]:
                    async with sem:
                        if u in redelivered:
                            return list(await asyncio.gather(*(post(session, b.url, *burst.delivery[u]) for b in bots)))
                        return [await post(session, bots[i % 2].url, *burst.delivery[u])]

                results = []
                # a burst of 200 at once, then waves a board delay apart (so the board is edited often)
                for lo, hi in [(0, 200)] + [(n, n + 10) for n in range(200, 300, 10)]:
                    results += await asyncio.gather(*(send(i, u) for i, u in enumerate(burst.users) if lo <= i < hi))
                    await asyncio.sleep(0.8)
                assert all(s == 202 for r in results for s in r), results
                board = await wait_settled(store, bots, session, gh, burst.users)
                # both replicas did work
                writers = {r.client for r in gh.requests if r.method == "POST" and r.path.endswith(f"/issues/{TRACKER}/comments")}
                assert len(writers) == 2, writers
                # board edits never overlapped in time
                windows = board_edit_windows(gh)
                assert len({w[0] for w in windows}) == 2 and len(windows) >= 4, windows  # both replicas edited, often
                for a, b in zip(windows, windows[1:]):
                    if a[0] != b[0]:
                        assert b[1] >= a[2], f"board edits overlap: {a} and {b}"
                for i, a in enumerate(windows):
                    for b in windows[i + 1 :]:
                        if a[0] != b[0]:
                            assert b[1] >= a[2] or a[1] >= b[2], f"board edits overlap: {a} and {b}"
                await check_outcome(store, gh, burst, board)
            finally:
                await store.close()
                await asyncio.gather(*(b.stop() for b in bots))
