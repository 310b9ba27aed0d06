"""Load benchmark of `bot serve` on loopback: acknowledgement latency, end-to-end throughput,
peak memory, and how a burst of claims coalesces into tracker edits.

Everything runs on 127.0.0.1. Three processes: this script (the load generator), a fake GitHub
(tests/fakegithub.py, in a child process of this script so its work does not disturb the
generator's clock) and `python -m bot serve` (a child process configured through its
environment, as in production). Each run gets a fresh bot, a fresh fake and a fresh database.

Per API latency (--latency, default 0 and 100 ms) one run measures:
  a) ack: an open-loop generator sends signed claim comments at a fixed rate (--rate for
     --seconds); each request's time to the 202 is recorded (p50/p90/p99/max), and how far
     the generator itself lagged behind its schedule (so a slow client cannot hide as a fast
     server).
  b) throughput: --count more claims posted as fast as acknowledgements come back
     (--concurrency in flight), then /healthz is polled until every delivery is done and
     every reply is posted; events/s = count / (first post -> last reply posted).
  c) memory: the bot's RSS high-water mark (VmHWM in /proc/PID/status) at the end of the run.
Then one more run (API latency 0, the default BOARD_DELAY of 2 s):
  d) burst: --burst claims within --burst-seconds; counts tracker edits (PATCH of the tracker
     issue at the fake) and the time from the first claim until the tracker shows every claimer.

Run:
  .venv/bin/python bench/bench_load.py                 # full: ~3 minutes
  .venv/bin/python bench/bench_load.py --quick         # < 1 minute, smaller figures
  .venv/bin/python bench/bench_load.py --database-url postgresql+asyncpg://bot:bot@127.0.0.1:54329/bench
The PostgreSQL database is emptied (schema public dropped) before each run: give it a
database of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp
from aiohttp import web

from tests import payloads
from tests.fakegithub import FakeGitHub

SECRET = "bench-secret"
STATUS_TOKEN = "bench-operator-token"  # /healthz's counts are the operator's (STATUS_TOKEN)
REPO = "bench/Paddle"
RFC_REPO = "bench/community"
TRACKER_NUMBER = 1
TRACKER_BODY = "# Hackathon 99th tasks\n\nClaim with 【报名】：N below.\n"
KEY = "Hackathon 99th"
SLUG = "bench"
WEBHOOK = "/api/github/webhooks"
HARD_TIMEOUT = 300.0  # no wait in this script lasts longer than this
REPLY_MARKER = re.compile(r"<!-- hackathon-bot:reply:(\d+) -->")


# ---------------------------------------------------------------------------------------- rules


def write_rules(root: Path, tasks: int) -> Path:
    """A rules tree with one campaign of `tasks` tasks (claims: 3 per person, 5 per task)."""
    d = root / SLUG
    d.mkdir(parents=True, exist_ok=True)
    (d / "campaign.yml").write_text(
        f"name: Bench campaign\nkey: {KEY}\ntracker: {REPO}#{TRACKER_NUMBER}\nrepos:\n  - {REPO}\n"
        "maintainers: [boss]\nlanguage: zh\n"
        "claim_policy:\n  max_claims_per_user: 3\n  max_claimants_per_task: 5\n  claim_expiry_days: 14\n"
        f"rfc:\n  repo: {RFC_REPO}\n  path: rfcs/\n",
        encoding="utf-8",
    )
    for i in range(1, tasks + 1):
        (d / f"{i:04d}.yml").write_text(
            f"id: {i}\ntitle: 为 Paddle 新增 API_{i}\ndifficulty: {'基础' if i % 2 else '进阶'}\n"
            f"track: {['API', '框架', '套件'][i % 3]}\n"
            f"targets:\n  - repo: {REPO}\n    paths: ['python/paddle/api_{i}/**']\n"
            f"tests: ['test/api_{i}/**']\nrfc:\n  required: false\nacceptance: [CI green]\n"
            f"source:\n  file: bench.md\n  line: {i}\n  anchor: task{i}\n",
            encoding="utf-8",
        )
    return root


# ---------------------------------------------------------------------- the fake, as a process


class BenchGitHub(FakeGitHub):
    """The fake GitHub plus control routes under /_bench (not recorded, no latency)."""

    def _routes(self, r: web.UrlDispatcher) -> None:
        super()._routes(r)
        r.add_get("/_bench/info", self._b_info)
        r.add_post("/_bench/config", self._b_config)
        r.add_post("/_bench/pull", self._b_pull)
        r.add_get("/_bench/requests", self._b_requests)
        r.add_get("/_bench/tracker", self._b_tracker)
        r.add_get("/_bench/writes", self._b_writes)
        r.add_get("/_bench/answered", self._b_answered)

    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        if request.path.startswith("/_bench/"):
            return await handler(request)
        return await FakeGitHub._middleware(self, request, handler)

    async def _b_info(self, request: web.Request) -> web.Response:
        return web.json_response({"app_id": self.app_id, "private_key": self.private_key_pem})

    async def _b_config(self, request: web.Request) -> web.Response:
        data = await request.json()
        if "latency" in data:
            self.latency = float(data["latency"])
        if "writes_per_minute" in data:
            self.writes_per_minute = int(data["writes_per_minute"])
        if "writes_per_hour" in data:
            self.writes_per_hour = int(data["writes_per_hour"])
        return web.json_response({"latency": self.latency})

    async def _b_pull(self, request: web.Request) -> web.Response:
        d = await request.json()
        repo, number = d.pop("repo"), d.pop("number")
        if repo in self._repos and number in self._repos[repo].issues:
            pr = self.update_pull(repo, number, **d)
        else:
            pr = self.add_pull(repo, number, **d)
        return web.json_response(pr)

    async def _b_requests(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", 0))
        rows = [[r.method, r.path, r.status] for r in self.requests[since:]]
        return web.json_response({"total": len(self.requests), "requests": rows})

    async def _b_writes(self, request: web.Request) -> web.Response:
        """Requests since `since` as [method, path, status, ended (monotonic, system-wide), installation,
        body text of a comment or tracker write or None]."""
        since = int(request.query.get("since", 0))
        rows = []
        for r in self.requests[since:]:
            text = r.json.get("body") if isinstance(r.json, dict) and r.method in ("POST", "PATCH") else None
            rows.append([r.method, r.path, r.status, r.ended, r.installation_id, text if isinstance(text, str) else None])
        return web.json_response({"total": len(self.requests), "requests": rows})

    async def _b_answered(self, request: web.Request) -> web.Response:
        """How many distinct comments the bot's comments answer so far (their reply markers), read
        from the fake's own records, so that waiting for the replies costs the bot nothing."""
        seen: set[str] = getattr(self, "_answered", set())
        scanned: int = getattr(self, "_answered_scanned", 0)
        for r in self.requests[scanned:]:
            if r.ended is None:  # not answered yet (the fake's latency): read it next time
                break
            scanned += 1
            text = r.json.get("body") if isinstance(r.json, dict) and r.method in ("POST", "PATCH") else None
            if isinstance(text, str) and r.status in (200, 201):
                seen.update(REPLY_MARKER.findall(text))
        self._answered, self._answered_scanned = seen, scanned
        return web.json_response({"answered": len(seen)})

    async def _b_tracker(self, request: web.Request) -> web.Response:
        return web.json_response({"body": self.issue(REPO, TRACKER_NUMBER)["body"] or ""})


async def _fake_main() -> None:
    gh = BenchGitHub()
    url = await gh.start()
    gh.add_repo(REPO)
    gh.add_repo(RFC_REPO)
    gh.add_issue(REPO, TRACKER_NUMBER, title="Hackathon 99th", body=TRACKER_BODY)
    print(f"READY {url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await gh.stop()


class FakeProc:
    """The fake GitHub in a child process; control through /_bench routes."""

    script = __file__  # started as `python <script> --fake-github`

    def __init__(self, session: aiohttp.ClientSession, logdir: Path):
        self.session = session
        self.logdir = logdir
        self.proc: subprocess.Popen | None = None
        self.url = ""

    async def start(self) -> FakeProc:
        self.proc = subprocess.Popen(
            [sys.executable, self.script, "--fake-github"],
            stdout=subprocess.PIPE,
            stderr=open(self.logdir / "fake.log", "ab"),
            cwd=ROOT,
            text=True,
        )
        line = await asyncio.wait_for(asyncio.to_thread(self.proc.stdout.readline), 60)
        if not line.startswith("READY "):
            raise RuntimeError(f"fake GitHub did not start: {line!r} (see {self.logdir / 'fake.log'})")
        self.url = line.split()[1]
        return self

    async def _get(self, path: str) -> dict:
        async with self.session.get(self.url + path) as r:
            r.raise_for_status()
            return await r.json()

    async def _post(self, path: str, data: dict) -> dict:
        async with self.session.post(self.url + path, json=data) as r:
            r.raise_for_status()
            return await r.json()

    async def info(self) -> dict:
        return await self._get("/_bench/info")

    async def set_latency(self, seconds: float) -> None:
        await self._post("/_bench/config", {"latency": seconds})

    async def set_limits(self, per_minute: int, per_hour: int) -> None:
        await self._post("/_bench/config", {"writes_per_minute": per_minute, "writes_per_hour": per_hour})

    async def writes(self, since: int = 0) -> list[list]:
        return (await self._get(f"/_bench/writes?since={since}"))["requests"]

    async def put_pull(self, **fields) -> dict:
        return await self._post("/_bench/pull", fields)

    async def requests(self, since: int = 0) -> tuple[int, list[tuple[str, str, int]]]:
        d = await self._get(f"/_bench/requests?since={since}")
        return d["total"], [tuple(r) for r in d["requests"]]

    async def answered(self) -> int:
        return (await self._get("/_bench/answered"))["answered"]

    async def tracker(self) -> str:
        return (await self._get("/_bench/tracker"))["body"]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------------------- the bot, as a process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def reset_database(url: str) -> None:
    """Empty a PostgreSQL database (drop and recreate schema public)."""
    from sqlalchemy import create_engine, text

    from bot.store import sync_url as _sync_url

    engine = create_engine(_sync_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


class BotProc:
    """`python -m bot serve` in a child process (cwd: a scratch dir, so no stray .env is read)."""

    def __init__(self, session: aiohttp.ClientSession, workdir: Path, env: dict[str, str], command: list[str] | None = None):
        self.command = command or ["-m", "bot", "serve"]
        self.session = session
        self.workdir = workdir
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = workdir / "bot.log"

    async def start(self, timeout: float = 120.0) -> float:
        """Start and wait for /healthz; returns the start-up time in seconds."""
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RULES_DIR", "PORT")}
        env.update(self.env, HOST="127.0.0.1", PORT=str(self.port))
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, *self.command], cwd=self.workdir, env=env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"bot serve exited with {self.proc.returncode}; see {self.log}:\n" + self.log.read_text()[-3000:]
                )
            try:
                async with self.session.get(self.url + "/healthz") as r:
                    if r.status == 200:
                        return time.perf_counter() - t0
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError(f"bot serve did not answer /healthz within {timeout:.0f} s; see {self.log}")

    async def counts(self) -> dict[str, int]:
        async with self.session.get(self.url + "/healthz", headers={"Authorization": f"Bearer {STATUS_TOKEN}"}) as r:
            return (await r.json())["counts"]

    def cpu(self) -> float:
        """CPU seconds (user + system) the process has used so far (from /proc/PID/stat)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def vm(self) -> dict[str, int]:
        """VmHWM and VmRSS in KiB (from /proc/PID/status)."""
        out = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(("VmHWM:", "VmRSS:")):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0])
        return out

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Stack:
    """A fresh fake GitHub + database + `bot serve`, torn down on exit."""

    def __init__(
        self,
        args: argparse.Namespace,
        rules_dir: Path,
        *,
        latency_ms: float = 0.0,
        board_delay: float | None = None,
        tag: str = "run",
        reference: bool = False,
    ):
        self.reference = reference  # run bench/ref_bot.py instead of the bot
        self.args = args
        self.rules_dir = rules_dir
        self.latency = latency_ms / 1000
        self.board_delay = board_delay
        self.tag = tag

    async def __aenter__(self) -> Stack:
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000))
        self.workdir = Path(tempfile.mkdtemp(prefix=f"bench-{self.tag}-"))
        self.fake = await FakeProc(self.session, self.workdir).start()
        await self.fake.set_latency(self.latency)
        info = await self.fake.info()
        db = self.args.database_url or f"sqlite+aiosqlite:///{self.workdir}/bot.db"
        if not db.startswith("sqlite"):
            await reset_database(db)
        env = {
            "APP_ID": str(info["app_id"]),
            "PRIVATE_KEY": info["private_key"],
            "WEBHOOK_SECRET": SECRET,
            "STATUS_TOKEN": STATUS_TOKEN,
            "GITHUB_API_URL": self.fake.url,
            "DATABASE_URL": db,
            "RULES_DIR": str(self.rules_dir),
            **({"LOG_LEVEL": self.args.log_level} if self.args.log_level else {}),
        }
        # the bot's shipped defaults otherwise (write budget and log level included)
        if self.args.workers:
            env["WORKERS"] = str(self.args.workers)
        board_delay = self.board_delay if self.board_delay is not None else self.args.board_delay
        if board_delay is not None:
            env["BOARD_DELAY"] = str(board_delay)
        if self.reference:
            # The reference posts one reply per event and knows no budget: GitHub's limit would stop it
            # after 80, so its fake is told to allow everything (the bot's fake keeps GitHub's limits).
            await self.fake.set_limits(10**9, 10**9)
        self.bot = BotProc(
            self.session,
            self.workdir,
            env,
            command=[str(ROOT / "bench" / "ref_bot.py")] if self.reference else ["-m", "bot", "serve"],
        )
        try:
            self.startup = await self.bot.start()
        except BaseException:
            self.fake.stop()
            raise
        self.profiler = None
        if self.args.py_spy:
            self.profile = self.workdir / f"py-spy-{self.tag}.txt"
            self.profiler = subprocess.Popen(
                [
                    self.args.py_spy,
                    "record",
                    "--pid",
                    str(self.bot.proc.pid),
                    "--rate",
                    "250",
                    *(["--threads"] if self.args.py_spy_idle else []),
                    *(["--idle"] if self.args.py_spy_idle else ["--gil"]),
                    "--format",
                    "raw",
                    "-o",
                    str(self.profile),
                ],
                stdout=subprocess.DEVNULL,
                stderr=open(self.workdir / "py-spy.log", "ab"),
            )
        return self

    async def __aexit__(self, *exc) -> None:
        if self.profiler is not None:
            self.profiler.send_signal(signal.SIGINT)
            self.profiler.wait(30)
            print(f"   py-spy profile (collapsed stacks) of the bot: {self.profile}")
        self.bot.stop()
        self.fake.stop()
        await self.session.close()


# ---------------------------------------------------------------------------------- deliveries


class Claims:
    """Signed claim comments on the tracker, built ahead of time (signing is not timed).
    Claimer k is `user-<k>`, claiming task (k mod tasks) + 1."""

    def __init__(self, tasks: int, prefix: str = "u"):
        self.tasks = tasks
        self.prefix = prefix
        self.next = 0

    def user(self, k: int) -> str:
        return f"{self.prefix}{k:05d}"

    def build(self, n: int) -> list[tuple[bytes, dict[str, str]]]:
        out = []
        for _ in range(n):
            k = self.next
            self.next += 1
            cid = 10_000_000 + 100_000 * ord(self.prefix[0]) + k  # distinct per prefix: one comment, one id
            p = payloads.issue_comment(
                "created",
                repo=REPO,
                issue_number=TRACKER_NUMBER,
                comment_id=cid,
                body=f"【报名】：{k % self.tasks + 1}",
                user=self.user(k),
            )
            out.append(payloads.delivery("issue_comment", p, SECRET, f"bench-{self.prefix}-{k}"))
        return out


async def post(session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]) -> int:
    async with session.post(url + WEBHOOK, data=body, headers=headers) as r:
        await r.read()
        return r.status


def pct(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[i]


async def ack_phase(stack: Stack, deliveries: list, rate: float) -> dict:
    """Open loop: request i starts at t0 + i/rate whatever happened to earlier ones."""
    session, url = stack.session, stack.bot.url
    lat: list[float] = []
    lag: list[float] = []
    statuses: dict[int, int] = {}

    async def one(body: bytes, headers: dict) -> None:
        t = time.perf_counter()
        try:
            s = await asyncio.wait_for(post(session, url, body, headers), 30)
        except (TimeoutError, aiohttp.ClientError):
            s = 0
        lat.append(time.perf_counter() - t)
        statuses[s] = statuses.get(s, 0) + 1

    tasks = []
    t0 = time.perf_counter()
    for i, (body, headers) in enumerate(deliveries):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        lag.append(max(0.0, time.perf_counter() - due))
        tasks.append(asyncio.create_task(one(body, headers)))
    sent = time.perf_counter() - t0
    await asyncio.gather(*tasks)
    lat.sort()
    return {
        "n": len(deliveries),
        "sent_in": sent,
        "rate": len(deliveries) / sent if sent else float("inf"),
        "p50": pct(lat, 50),
        "p90": pct(lat, 90),
        "p99": pct(lat, 99),
        "max": lat[-1],
        "lag_max": max(lag),
        "statuses": statuses,
    }


def finished_since(counts: dict[str, int], base: dict[str, int]) -> int:
    """Deliveries finished (done, ignored or failed) since `base` (both from /healthz)."""
    return sum(counts.get(k, 0) - base.get(k, 0) for k in ("done", "ignored", "failed"))


async def with_failures(stack: Stack, base: dict[str, int], out: dict) -> dict:
    """`out` with the deliveries and actions that failed since `base`, and the bot's counts now."""
    c = await stack.bot.counts()
    out["failed"] = c.get("failed", 0) - base.get("failed", 0)
    out["actions_failed"] = c.get("actions_failed", 0) - base.get("actions_failed", 0)
    out["counts"] = c
    return out


async def wait_processed(stack: Stack, base: dict[str, int], n: int, t0: float, timeout: float) -> dict:
    """Poll /healthz until `n` more deliveries are finished and n more actions performed."""
    out: dict = {"deliveries_done_at": None, "actions_done_at": None}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        c = await stack.bot.counts()
        a = c.get("actions_done", 0) + c.get("actions_failed", 0) - base.get("actions_done", 0) - base.get("actions_failed", 0)
        now = time.perf_counter()
        if out["deliveries_done_at"] is None and finished_since(c, base) >= n:
            out["deliveries_done_at"] = now - t0
        if out["deliveries_done_at"] is not None and a >= n and c.get("actions_pending", 0) == 0:
            out["actions_done_at"] = now - t0
            break
        await asyncio.sleep(0.05)
    return await with_failures(stack, base, out)


async def wait_answered(stack: Stack, base: dict[str, int], answered0: int, n: int, t0: float, timeout: float) -> dict:
    """Wait until `n` more comments are answered, as the fake GitHub sees it (as the reference bot
    is timed), looking at the bot itself (/healthz, which reads its database) only 4 times a
    second: polling it 20 times a second cost the bot a few percent of its time."""
    out: dict = {"deliveries_done_at": None, "actions_done_at": None}
    deadline = time.monotonic() + timeout
    polls = 0
    while time.monotonic() < deadline:
        answered = await stack.fake.answered() - answered0
        now = time.perf_counter()
        if out["deliveries_done_at"] is None and (polls % 5 == 0 or answered >= n):
            if finished_since(await stack.bot.counts(), base) >= n:
                out["deliveries_done_at"] = time.perf_counter() - t0
        polls += 1
        if answered >= n:
            out["actions_done_at"] = now - t0
            break
        await asyncio.sleep(0.05)
    return await with_failures(stack, base, out)


async def throughput_phase(stack: Stack, deliveries: list, concurrency: int, timeout: float) -> dict:
    """Closed loop for the posting (at most `concurrency` in flight), then wait for the effects."""
    session, url = stack.session, stack.bot.url
    base = await stack.bot.counts()
    queue = list(reversed(deliveries))
    statuses: dict[int, int] = {}

    async def poster() -> None:
        while queue:
            body, headers = queue.pop()
            s = await post(session, url, body, headers)
            statuses[s] = statuses.get(s, 0) + 1

    answered0 = await stack.fake.answered()
    t0, cpu0 = time.perf_counter(), stack.bot.cpu()
    await asyncio.gather(*(poster() for _ in range(concurrency)))
    acked = time.perf_counter() - t0
    done = await wait_answered(stack, base, answered0, len(deliveries), t0, timeout)
    n = len(deliveries)
    return {
        "n": n,
        "acked_in": acked,
        "statuses": statuses,
        **done,
        "cpu_ms": 1000 * (stack.bot.cpu() - cpu0) / n,
        "events_per_s": n / done["actions_done_at"] if done["actions_done_at"] else 0.0,
        "deliveries_per_s": n / done["deliveries_done_at"] if done["deliveries_done_at"] else 0.0,
    }


async def warm_up(stack: Stack, claims: Claims) -> None:
    """One claim end to end (the installation token is minted here, as after any restart)."""
    base = await stack.bot.counts()
    [(body, headers)] = claims.build(1)
    await post(stack.session, stack.bot.url, body, headers)
    await wait_processed(stack, base, 1, time.perf_counter(), 30)


async def run_latency(args: argparse.Namespace, rules_dir: Path, latency_ms: float) -> dict:
    async with Stack(args, rules_dir, latency_ms=latency_ms, tag=f"lat{latency_ms:g}") as st:
        claims = Claims(args.tasks)
        await warm_up(st, claims)
        idle = st.bot.vm()
        res: dict = {"latency_ms": latency_ms, "startup_s": st.startup, "rss_idle_kib": idle["VmRSS"]}
        ack_deliveries = claims.build(int(args.rate * args.seconds))
        res["ack"] = await ack_phase(st, ack_deliveries, args.rate)
        res["ack_drain"] = await wait_processed(st, {}, claims.next, time.perf_counter(), HARD_TIMEOUT)
        res["throughput"] = await throughput_phase(st, claims.build(args.count), args.concurrency, HARD_TIMEOUT)
        res["vm"] = st.bot.vm()
        _, reqs = await st.fake.requests()
        res["api_calls"] = len(reqs)
        res["log"] = str(st.bot.log)
        return res


WRITES = ("POST", "PATCH", "PUT", "DELETE")


async def lone_claim(st: Stack, claims: Claims) -> dict:
    """One claim at a quiet time: the API calls it costs (304 answers apart: GitHub does not count them)."""
    await asyncio.sleep(4.0)  # past the bot's reply gap and board delay: a quiet time
    total0, _ = await st.fake.requests()
    await warm_up(st, claims)
    await asyncio.sleep(st.args.board_wait)
    _, reqs = await st.fake.requests(total0)
    calls = [(m, p, s) for m, p, s in reqs if "/access_tokens" not in p and p != "/app"]
    return {"counted": [f"{m} {p}" for m, p, s in calls if s != 304], "free": [f"{m} {p}" for m, p, s in calls if s == 304]}


async def run_burst(args: argparse.Namespace, rules_dir: Path) -> dict:
    """`args.burst` claims from as many people within `args.burst_seconds`, the bot and the fake as
    shipped (BOARD_DELAY 2 s, 80 writes/min and 500/h): per claimer, the time from the
    acknowledgement of their claim to the first tracker edit showing them and to the first comment
    answering them."""
    async with Stack(args, rules_dir, latency_ms=0, tag="burst") as st:
        claims = Claims(args.tasks, prefix="b")
        warm = Claims(args.tasks, prefix="w")
        await warm_up(st, warm)
        lone = await lone_claim(st, warm)
        await asyncio.sleep(4.0)
        total0, _ = await st.fake.requests()
        deliveries = claims.build(args.burst)
        users = [claims.user(k) for k in range(args.burst)]
        acked_at: dict[str, float] = {}
        statuses: dict[int, int] = {}

        async def one(u: str, body: bytes, headers: dict) -> None:
            t = time.perf_counter()
            s = await post(st.session, st.bot.url, body, headers)
            acked_at[u] = time.monotonic()
            lat.append(time.perf_counter() - t)
            statuses[s] = statuses.get(s, 0) + 1

        lat: list[float] = []
        tasks = []
        t0 = time.perf_counter()
        for i, (u, (body, headers)) in enumerate(zip(users, deliveries)):
            delay = t0 + i * args.burst_seconds / args.burst - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(u, body, headers)))
        await asyncio.gather(*tasks)
        deadline = time.monotonic() + HARD_TIMEOUT
        while time.monotonic() < deadline:
            c = await st.bot.counts()
            if not (c.get("pending", 0) or c.get("processing", 0) or c.get("actions_pending", 0)):
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(args.board_wait + 1.0)  # any trailing board edit
        writes = await st.fake.writes(total0)
        tracker = f"/repos/{REPO}/issues/{TRACKER_NUMBER}"
        board_at: dict[str, float] = {}
        reply_at: dict[str, float] = {}
        answered: dict[str, int] = {}
        for m, p, status, ended, _inst, text in writes:
            if text is None or status not in (200, 201):
                continue
            if m == "PATCH" and p == tracker:
                for u in users:
                    if u not in board_at and f"@{u}" in text:
                        board_at[u] = ended
            elif m == "POST" and p == tracker + "/comments":
                for u in re.findall(r"^@(b\d{5})\b", text, re.M):
                    reply_at.setdefault(u, ended)
                    answered[u] = answered.get(u, 0) + 1
        board_lat = sorted(board_at[u] - acked_at[u] for u in users if u in board_at)
        reply_lat = sorted(reply_at[u] - acked_at[u] for u in users if u in reply_at)
        lat.sort()
        creating = [w for w in writes if w[0] in WRITES and w[4] is not None]
        return {
            "n": args.burst,
            "seconds": args.burst_seconds,
            "statuses": statuses,
            "ack_p50": pct(lat, 50),
            "ack_p99": pct(lat, 99),
            "board_missing": args.burst - len(board_lat),
            "board_p50": pct(board_lat, 50),
            "board_p99": pct(board_lat, 99),
            "reply_missing": args.burst - len(reply_lat),
            "reply_p50": pct(reply_lat, 50),
            "reply_p99": pct(reply_lat, 99),
            "twice": sum(1 for n in answered.values() if n > 1),
            "writes": len(creating),
            "reply_comments": sum(1 for w in creating if w[0] == "POST" and w[1] == tracker + "/comments"),
            "board_edits": sum(1 for w in creating if w[0] == "PATCH" and w[1] == tracker),
            "refused_403": sum(1 for w in writes if w[2] == 403),
            "free_304": sum(1 for w in writes if w[2] == 304),
            "lone": lone,
            "vm": st.bot.vm(),
            "log": str(st.bot.log),
        }


async def run_reference(args: argparse.Namespace, rules_dir: Path) -> dict:
    """bench/ref_bot.py's events/s on the throughput phase, against its own fresh fake GitHub."""
    async with Stack(args, rules_dir, latency_ms=0, tag="reference", reference=True) as st:
        claims = Claims(args.tasks, prefix="r")
        deliveries = claims.build(args.count)
        total0, _ = await st.fake.requests()
        queue = list(reversed(deliveries))
        statuses: dict[int, int] = {}

        async def poster() -> None:
            while queue:
                body, headers = queue.pop()
                s = await post(st.session, st.bot.url, body, headers)
                statuses[s] = statuses.get(s, 0) + 1

        t0, cpu0 = time.perf_counter(), st.bot.cpu()
        await asyncio.gather(*(poster() for _ in range(args.concurrency)))
        deadline = time.monotonic() + HARD_TIMEOUT
        while time.monotonic() < deadline:
            _, reqs = await st.fake.requests(total0)
            if sum(1 for m, p, s in reqs if m == "POST" and p.endswith("/comments") and s == 201) >= args.count:
                break
            await asyncio.sleep(0.05)
        took = time.perf_counter() - t0
        return {
            "n": args.count,
            "statuses": statuses,
            "events_per_s": args.count / took,
            "cpu_ms": 1000 * (st.bot.cpu() - cpu0) / args.count,
        }


# -------------------------------------------------------------------------------------- output


def ms(x: float) -> str:
    return f"{1000 * x:.1f}"


def report_latency(r: dict, args: argparse.Namespace) -> None:
    a, t, vm = r["ack"], r["throughput"], r["vm"]
    lat = r["latency_ms"]
    print(
        f"\n== API latency {lat:g} ms  (bot start-up {r['startup_s']:.1f} s, RSS after warm-up {r['rss_idle_kib'] / 1024:.0f} MiB)"
    )
    print(
        f"a) ack, open loop {args.rate:g}/s for {args.seconds:g} s: {a['n']} sent in {a['sent_in']:.2f} s "
        f"(achieved {a['rate']:.0f}/s, generator lag max {ms(a['lag_max'])} ms), statuses {a['statuses']}"
    )
    print(
        f"   ack latency ms: p50 {ms(a['p50'])}  p90 {ms(a['p90'])}  p99 {ms(a['p99'])}  max {ms(a['max'])}"
        f"   [bar p99 < 50 ms at 200/s: {'PASS' if a['p99'] < 0.050 else 'MISS'}]"
    )
    d = r["ack_drain"]
    print(f"   backlog of that phase processed {d['actions_done_at'] and round(d['actions_done_at'], 2)} s after it ended")
    bar = 200 if lat == 0 else 100 if lat <= 100 else None
    verdict = "" if bar is None else f"   [bar >= {bar}/s: {'PASS' if t['events_per_s'] >= bar else 'MISS'}]"
    print(
        f"b) throughput: {t['n']} claims, {args.concurrency} in flight, all acked in {t['acked_in']:.2f} s, "
        f"statuses {t['statuses']}"
    )
    print(
        f"   deliveries done after {t['deliveries_done_at']:.2f} s ({t['deliveries_per_s']:.0f}/s); every reply posted after "
        f"{t['actions_done_at']:.2f} s -> {t['events_per_s']:.0f} events/s{verdict}"
        if t["actions_done_at"]
        else f"   NOT DONE within {HARD_TIMEOUT:.0f} s: {t['counts']}"
    )
    print(f"   CPU of the bot process: {t['cpu_ms']:.2f} ms per event")
    if t["failed"] or t["actions_failed"]:
        print(f"   failures: {t['failed']} deliveries, {t['actions_failed']} actions (see {r['log']})")
    print(
        f"c) peak memory (VmHWM) {vm['VmHWM'] / 1024:.0f} MiB, RSS at end {vm['VmRSS'] / 1024:.0f} MiB; "
        f"{r['api_calls']} API calls at the fake"
    )


def report_burst(b: dict) -> None:
    def bar(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    print(
        f"\n== burst: {b['n']} claims from {b['n']} people in {b['seconds']:g} s, as shipped (BOARD_DELAY 2 s, "
        f"80 writes/min and 500/h at the bot and at the fake); statuses {b['statuses']}"
    )
    print(f"d) ack p50 {ms(b['ack_p50'])} ms, p99 {ms(b['ack_p99'])} ms")
    print(
        f"   on the board after their ack: p50 {b['board_p50']:.2f} s, p99 {b['board_p99']:.2f} s, missing {b['board_missing']}"
        f"   [bar p99 <= 5 s: {bar(b['board_p99'] <= 5 and not b['board_missing'])}]"
    )
    print(
        f"   answered after their ack:     p50 {b['reply_p50']:.2f} s, p99 {b['reply_p99']:.2f} s, missing {b['reply_missing']}"
        f"   [bar p99 <= 30 s: {bar(b['reply_p99'] <= 30 and not b['reply_missing'])}]"
    )
    print(
        f"   content-creating requests: {b['writes']} ({b['reply_comments']} reply comments, {b['board_edits']} board edits)"
        f"   [bar <= 25: {bar(b['writes'] <= 25)}]; 403 answers {b['refused_403']} [bar 0: {bar(b['refused_403'] == 0)}]; "
        f"answered twice {b['twice']} [bar 0: {bar(b['twice'] == 0)}]; free 304 reads {b['free_304']}"
    )
    lone = b["lone"]
    print(
        f"e) a lone claim at a quiet time: {len(lone['counted'])} calls {lone['counted']} + free (304) {lone['free']}"
        f"   [bar <= 3: {bar(len(lone['counted']) <= 3)}]"
    )


async def amain(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-rules-") as tmp:
        t = time.perf_counter()
        rules_dir = write_rules(Path(tmp), args.tasks)
        print(
            f"rules: 1 campaign, {args.tasks} tasks ({time.perf_counter() - t:.1f} s to write); "
            f"database {args.database_url or 'SQLite (fresh file per run)'}; workers {args.workers or 'default'}; "
            f"{os.cpu_count()} CPUs",
            flush=True,
        )
        bot_eps = None
        for lat in args.latency:
            r = await run_latency(args, rules_dir, lat)
            report_latency(r, args)
            if lat == 0:
                bot_eps = r["throughput"]["events_per_s"]
        if bot_eps is not None and not args.no_reference:
            ref = await run_reference(args, rules_dir)
            ratio = bot_eps / ref["events_per_s"] if ref["events_per_s"] else float("nan")
            print(
                f"\n== reference bot (bench/ref_bot.py: verify, parse, reply; no store), same throughput phase, "
                f"API latency 0: {ref['events_per_s']:.0f} events/s (statuses {ref['statuses']}; "
                f"CPU {ref['cpu_ms']:.2f} ms per event)"
            )
            print(
                f"   the bot {bot_eps:.0f} events/s = {ratio:.2f}x the reference   [bar >= 0.8x: "
                f"{'PASS' if ratio >= 0.8 else 'MISS'}]"
            )
            if args.rounds > 1:
                # A shared machine's speed drifts between the two runs: more rounds, bot and reference
                # alternating, and their median ratio.
                pairs = [(bot_eps, ref["events_per_s"])]
                for _ in range(args.rounds - 1):
                    again = (await run_latency(args, rules_dir, 0.0))["throughput"]["events_per_s"]
                    pairs.append((again, (await run_reference(args, rules_dir))["events_per_s"]))
                ratios = sorted(b / r for b, r in pairs if r)
                median = ratios[len(ratios) // 2] if len(ratios) % 2 else sum(ratios[len(ratios) // 2 - 1 :][:2]) / 2
                print(
                    f"   {args.rounds} rounds (bot, reference events/s): "
                    + ", ".join(f"{b:.0f}/{r:.0f} = {b / r:.2f}x" for b, r in pairs if r)
                    + f"; median {median:.2f}x   [bar >= 0.8x: {'PASS' if median >= 0.8 else 'MISS'}]"
                )
        if args.burst:
            b = await run_burst(args, rules_dir)
            report_burst(b)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=200.0, help="deliveries per second in the ack phase (default 200)")
    p.add_argument("--seconds", type=float, default=10.0, help="length of the ack phase (default 10)")
    p.add_argument("--count", type=int, default=2000, help="deliveries in the throughput phase (default 2000)")
    p.add_argument("--concurrency", type=int, default=32, help="posts in flight in the throughput phase (default 32)")
    p.add_argument(
        "--latency",
        type=lambda s: [float(x) for x in s.split(",")],
        default=[0.0, 100.0],
        help="fake GitHub API latency in ms, comma-separated: one run each (default 0,100)",
    )
    p.add_argument("--database-url", default=None, help="default: a fresh SQLite file per run")
    p.add_argument("--workers", type=int, default=None, help="WORKERS for the bot (default: the bot's own)")
    p.add_argument("--tasks", type=int, default=2000, help="tasks in the generated campaign (default 2000)")
    p.add_argument("--burst", type=int, default=None, help="claims in the burst run (0: skip; default 300)")
    p.add_argument("--burst-seconds", type=float, default=10.0, help="the burst is spread over this (default 10)")
    p.add_argument(
        "--board-delay",
        type=float,
        default=None,
        help="BOARD_DELAY for the bot in the latency runs (default: the bot's own, 2 s; the burst run always uses 2 s)",
    )
    p.add_argument("--board-wait", type=float, default=2.5, help="seconds for a pending board edit to land (default 2.5)")
    p.add_argument("--log-level", default=None, help="LOG_LEVEL for the bot (default: the bot's own, INFO)")
    p.add_argument(
        "--py-spy-idle",
        action="store_true",
        help="with --py-spy: sample every thread, waiting ones too (where the time goes, not only the CPU)",
    )
    p.add_argument(
        "--py-spy",
        metavar="PATH",
        default=None,
        help="profile the bot: attach this py-spy to it for each run, write collapsed stacks next to its log",
    )
    p.add_argument("--no-reference", action="store_true", help="skip the reference bot's run")
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="throughput ratio: this many rounds of the bot's run then the reference's, and their median",
    )
    p.add_argument("--quick", action="store_true", help="a smaller run that finishes in under a minute")
    p.add_argument("--fake-github", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:  # same shape, fewer deliveries: under a minute
        args.seconds, args.count, args.burst_seconds = min(args.seconds, 2.0), min(args.count, 300), min(args.burst_seconds, 5.0)
        args.tasks = min(args.tasks, 500)
    if args.burst is None:
        args.burst = 300
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.fake_github:
        asyncio.run(_fake_main())
        return
    t = time.perf_counter()
    asyncio.run(amain(args))
    print(f"\ntotal {time.perf_counter() - t:.0f} s", flush=True)


if __name__ == "__main__":
    main()
