"""An end-to-end harness: the bot's real aiohttp app and pipeline on 127.0.0.1, talking to the
fake GitHub (tests/fakegithub.py) over real HTTP, with deliveries signed like GitHub's."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.app import assemble
from bot.clock import SYSTEM, Clock, SystemClock
from bot.github.api import GitHubApi
from bot.github.dryrun import DryRunGitHub
from bot.github.gateway import Gateway
from bot.metrics import Metrics
from bot.rules.models import Rules
from bot.runtime.server import WEBHOOK_PATH
from bot.settings import Settings
from tests import payloads
from tests.conftest import fresh_store
from tests.fakegithub import FakeGitHub

SECRET = "it's a secret to everybody"
STATUS_TOKEN = "operator-token-for-the-tests"  # the test's own session sends it (see `Harness.public`)
TRACKER_BODY = "# Hackathon 9th tasks\n\nClaim with 【报名】：N below.\n"


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve `app` on a free port of 127.0.0.1; returns its runner and base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


class ShiftedClock(SystemClock):
    """A clock for end-to-end runs: it starts at `start` and runs at real speed (sleeps are real, so
    the pipeline's loops keep turning), and `advance` moves it forward at once (days pass for claims).
    Dates the bot shows are then the same on every run."""

    def __init__(self, start: datetime = datetime(2026, 1, 5, tzinfo=UTC)) -> None:
        self._start, self._t0, self._offset = start, time.monotonic(), 0.0

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0 + self._offset)

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def epoch(self) -> float:
        """Real epoch seconds plus what `advance` added (a gateway's clock that follows this one)."""
        return time.time() + self._offset


class SkippingClock(ShiftedClock):
    """A `ShiftedClock` whose sleeps end as soon as `advance` moves it past their end (they wait on
    this clock's time, not the real one): a harness with `skip_waits` moves it ahead while the bot waits."""

    def __init__(self, start: datetime = datetime(2026, 1, 5, tzinfo=UTC)) -> None:
        super().__init__(start)
        self._moved: asyncio.Event | None = None

    def advance(self, seconds: float) -> None:
        super().advance(seconds)
        if self._moved is not None:  # wake the sleepers: each checks its own end
            self._moved.set()
            self._moved = None

    async def sleep(self, seconds: float) -> None:
        end = self.monotonic() + seconds
        while (left := end - self.monotonic()) > 0:
            if self._moved is None:
                self._moved = asyncio.Event()
            moved = asyncio.ensure_future(self._moved.wait())
            try:  # not wait_for: on 3.11 it can swallow a cancel that comes as the event is set
                await asyncio.wait({moved}, timeout=left)
            finally:
                moved.cancel()


class Harness:
    """The bot as served, with three waits shortened so scenarios finish in a fraction of a second:
    `board_delay` (shipped 2 s), `reply_gap` (shipped 3 s) and `person_window` (shipped 30 s). All
    keep their effect (edits and replies queued within them still coalesce); a test about the
    shipped pacing passes the shipped value.

    `skip_waits`: the bot's clock is a `SkippingClock` (the gateway's follows it) that `settle` moves
    a second ahead every 50 ms: waits on the bot's clock (a retry after the wait GitHub asked for,
    the gateway's pause after a rate limit) pass 20 times faster; leases stay held, as the heartbeat
    renews them on the same clock. Waits on real time (the reply gap, HTTP timeouts) are unchanged."""

    def __init__(
        self,
        rules: Rules,
        tmp_path: Path,
        *,
        backend: str = "sqlite",
        board_delay: float = 0.3,
        reply_gap: float = 0.3,
        person_window: float = 0.3,
        workers: int = 8,
        max_writes_per_minute: int = 100_000,
        lease_seconds: float = 30.0,
        dry_run: bool = False,
        clock: Clock | None = None,
        skip_waits: bool = False,
    ):
        self.rules = rules
        self.tmp_path = tmp_path
        self.backend = backend
        self.board_delay = board_delay
        self.reply_gap = reply_gap
        self.person_window = person_window
        self.workers = workers
        self.max_writes = max_writes_per_minute
        self.lease_seconds = lease_seconds
        self.dry_run = dry_run
        self.skip_waits = skip_waits
        self.clock = clock or (SkippingClock() if skip_waits else SYSTEM)
        assert not skip_waits or isinstance(self.clock, SkippingClock), "skip_waits moves the bot's clock: a SkippingClock"
        self.gh = FakeGitHub()
        self.dry_lines: list[str] = []
        self._ids = itertools.count(9_000_001)

    async def __aenter__(self) -> Harness:
        await self.gh.start()
        for c in self.rules.campaigns.values():
            for repo in c.repos():
                self.gh.add_repo(self._real_case(c, repo))
            if c.campaign.tracker:
                self.gh.add_issue(c.campaign.tracker_repo, c.campaign.tracker_number, title=c.campaign.name, body=TRACKER_BODY)
            for t in c.tasks.values():
                if t.issue:
                    repo, _, n = t.issue.partition("#")
                    self.gh.add_issue(repo, int(n), title=t.title, body=t.summary)
        self.settings = Settings(
            webhook_secret=SECRET,
            app_id=None if self.dry_run else str(self.gh.app_id),
            private_key=None if self.dry_run else self.gh.private_key_pem,
            github_api_url=self.gh.base_url,
            workers=self.workers,
            board_delay=self.board_delay,
            reply_gap=self.reply_gap,
            person_window=self.person_window,
            max_attempts=4,
            status_token=STATUS_TOKEN,
            _env_file=None,
        )
        self.metrics = Metrics()
        # the test's own requests (webhooks, pages), as the operator; `public` is anyone's
        self.session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {STATUS_TOKEN}"})
        self.public = aiohttp.ClientSession()
        self.gh_session = aiohttp.ClientSession(trace_configs=[self.metrics.trace_config()])  # the bot's, to GitHub
        self.gateway: GitHubApi = (
            DryRunGitHub()
            if self.dry_run
            else Gateway(
                api_url=self.gh.base_url,
                app_id=self.gh.app_id,
                private_key=self.gh.private_key_pem,
                session=self.gh_session,
                max_creates_per_minute=self.max_writes,
                max_wait=5.0,
                **({"clock": self.clock.epoch, "sleep": self.clock.sleep} if isinstance(self.clock, SkippingClock) else {}),
            )
        )
        self.store = await fresh_store(self.backend, self.tmp_path, lease_seconds=self.lease_seconds, clock=self.clock)
        await self.store.init(list(self.rules.campaigns))
        self.bot = await assemble(
            self.settings,
            rules=self.rules,
            store=self.store,
            github=self.gateway,
            trace=self.dry_lines.append,
            metrics=self.metrics,
            clock=self.clock,
        )
        self.pipeline, self.app = self.bot.pipeline, self.bot.web
        self.runner, self.url = await serve(self.app)
        await self.pipeline.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.pipeline.stop(grace=2)
        await self.runner.cleanup()
        await self.session.close()
        await self.public.close()
        await self.gh_session.close()
        await self.bot.close()
        await self.gh.stop()

    @staticmethod
    def _real_case(c, repo: str) -> str:
        names = (
            list(c.campaign.repos)
            + ([c.campaign.rfc.repo] if c.campaign.rfc else [])
            + ([c.campaign.tracker_repo] if c.campaign.tracker_repo else [])
        )
        return next((n for n in names if n.lower() == repo), repo)

    # ---- sending deliveries ---------------------------------------------------------------------
    async def post(
        self,
        event: str,
        payload: dict | bytes,
        *,
        delivery: str | None = None,
        secret: str | None = SECRET,
        headers: dict | None = None,
    ) -> tuple[int, dict]:
        body = payload if isinstance(payload, bytes) else payloads.encode(payload)
        h = payloads.headers(event, body, secret or "", delivery or str(uuid.uuid4()))
        if secret is None:
            h.pop("X-Hub-Signature-256", None)
        h.update(headers or {})
        async with self.session.post(self.url + WEBHOOK_PATH, data=body, headers=h) as resp:
            try:
                data = await resp.json()
            except (aiohttp.ContentTypeError, ValueError):
                data = {}
            return resp.status, data

    async def comment(
        self,
        body: str,
        user: str = "alice",
        *,
        repo: str = "org/Paddle",
        number: int = 100,
        action: str = "created",
        comment_id: int | None = None,
        old: str | None = None,
        user_type: str = "User",
        delivery: str | None = None,
    ) -> tuple[int, dict]:
        """A person comments on an issue: the comment exists on the fake GitHub, then the webhook arrives."""
        if comment_id is None:
            comment_id = self.gh.add_comment(repo, number, body, user=user, user_type=user_type)["id"]
        changes = {"body": {"from": old}} if old is not None else None
        p = payloads.issue_comment(
            action,
            repo=repo,
            issue_number=number,
            comment_id=comment_id,
            body=body,
            user=user,
            user_type=user_type,
            changes=changes,
        )
        return await self.post("issue_comment", p, delivery=delivery)

    async def pull_request(
        self,
        action: str,
        number: int,
        *,
        repo: str = "org/Paddle",
        title: str | None = None,
        user: str = "alice",
        files: list | None = None,
        merged: bool | None = None,
        state: str | None = None,
        body: str | None = None,
        delivery: str | None = None,
    ) -> tuple[int, dict]:
        """A PR is opened/pushed/edited/closed on the fake GitHub, then the webhook arrives."""
        exists = True
        try:
            self.gh.pull(repo, number)
        except Exception:
            exists = False
        if not exists:
            self.gh.add_pull(repo, number, title=title or "", body=body or "", user=user, files=files or [])
        else:
            self.gh.update_pull(repo, number, title=title, body=body, files=files, state=state, merged=merged)
        pr = self.gh.pull(repo, number)
        p = payloads.pull_request(
            action,
            repo=repo,
            number=number,
            title=pr["title"],
            body=pr["body"] or "",
            user=pr["user"]["login"],
            merged=pr["merged"],
            state=pr["state"],
            head_sha=pr["head"]["sha"],
        )
        p["pull_request"]["labels"] = pr["labels"]
        return await self.post("pull_request", p, delivery=delivery)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        """Until `predicate()` holds (polling; fails after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "timed out waiting"
            await asyncio.sleep(0.02)

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait until the bot has nothing left to do (with `skip_waits`, moving its clock meanwhile)."""
        if not isinstance(self.clock, SkippingClock):
            assert await self.pipeline.idle(timeout), "the bot did not finish its work in time"
            return
        deadline = time.monotonic() + timeout
        while not await self.pipeline.idle(0.05):
            assert time.monotonic() < deadline, "the bot did not finish its work in time"
            self.clock.advance(1.0)

    def tracker(self, repo: str = "org/Paddle", number: int = 100) -> str:
        return self.gh.issue(repo, number)["body"] or ""

    def bot_comments(self, repo: str = "org/Paddle", number: int = 100) -> list[dict]:
        return [c for c in self.gh.comments(repo, number) if c["user"]["login"] == FakeGitHub.bot_login]

    def replies(self, repo: str = "org/Paddle", number: int = 100) -> list[dict]:
        """The bot's replies, one per comment answered (see `split_replies`)."""
        return split_replies(self.bot_comments(repo, number))


def split_replies(comments: list[dict]) -> list[dict]:
    """The bot's replies in `comments` (the bot's own), one per comment answered, whether posted
    alone or merged with others into one comment (then split back by its markers):
    {"body": marker + text, "comment": id of the comment on GitHub}."""
    out = []
    for c in comments:
        lines = c["body"].split("\n")
        markers = []
        while lines and re.fullmatch(r"<!-- hackathon-bot:reply:\d+ -->", lines[0]):
            markers.append(lines.pop(0))
        if len(markers) <= 1:
            out.append({"body": c["body"], "comment": c["id"]})
            continue
        parts = "\n".join(lines[1:]).strip("\n").split("\n\n---\n\n")  # after the merged comment's heading
        assert len(parts) == len(markers), c["body"]
        out += [{"body": m + "\n" + p.strip("\n") + "\n", "comment": c["id"]} for m, p in zip(markers, parts)]
    return out
