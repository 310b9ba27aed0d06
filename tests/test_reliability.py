"""Reliability as a campaign organiser sees it, in-process over real HTTP (the bot's server and
pipeline, the fake GitHub): races between claims, GitHub faults through the whole pipeline, bad
input, and trust (who may do what, and what a participant's text cannot hijack).

The crash and replica tests run `bot serve` as subprocesses: see tests/test_crash.py.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys

import pytest

from bot.core.board import BOARD_END, BOARD_START
from bot.core.replies import reply_marker
from bot.core.review import CHECKLIST_MARKER
from bot.github.gateway import Gateway
from bot.rules.models import ClaimPolicy, Rules
from bot.runtime.pipeline import Pipeline
from bot.runtime.server import make_app
from bot.store import Store
from tests import payloads
from tests.conftest import PG_URL, STORE_BACKENDS, make_campaign, make_rules
from tests.fakegithub import FakeGitHub
from tests.harness import TRACKER_BODY, Harness, serve

pytestmark = pytest.mark.asyncio

REPO, TRACKER = "org/Paddle", 100


def reply_to(h: Harness, comment_id: int, number: int = TRACKER) -> list[dict]:
    """The bot's replies to one comment (found by the reply marker the bot puts first; merged
    replies are split back, see `Harness.replies`)."""
    return [r for r in h.replies(number=number) if r["body"].startswith(reply_marker(comment_id))]


def ten_task_rules(max_claims_per_user: int = 3, max_claimants: int = 2) -> Rules:
    base = make_rules().tasks[2]
    tasks = {i: base.model_copy(update={"id": i, "title": f"Task {i}"}) for i in range(1, 11)}
    policy = ClaimPolicy(max_claims_per_user=max_claims_per_user, max_claimants_per_task=max_claimants)
    return Rules(campaigns={"h9": make_rules(tasks=tasks, campaign=make_campaign(claim_policy=policy))})


@pytest.fixture(params=STORE_BACKENDS)
def backend(request) -> str:
    return request.param


async def get_status(h: Harness) -> dict:
    async with h.session.get(h.url + "/status") as resp:
        assert resp.status == 200
        return await resp.json()


def bot_status_cli(h: Harness) -> subprocess.CompletedProcess:
    """`bot status` in a subprocess against the harness's database."""
    url = f"sqlite+aiosqlite:///{h.tmp_path}/bot.db" if h.backend == "sqlite" else PG_URL
    env = {k: v for k, v in os.environ.items() if k not in ("APP_ID", "PRIVATE_KEY", "WEBHOOK_SECRET")}
    env["DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "bot", "status"], env=env, cwd=h.tmp_path, capture_output=True, text=True, timeout=60
    )


# ---------------------------------------------------------------------------------------------- races


async def check_one_winner(h: Harness, users: list[str], ids: dict[str, int], task: int) -> None:
    state = await h.store.state("h9")
    holders = [c.user for c in state.claims_on(task)]
    assert len(holders) == 1, holders
    winner = holders[0]
    for u in users:
        [reply] = reply_to(h, ids[u])
        if u == winner:
            assert f"Claimed No.{task}" in reply["body"]
        else:
            assert f"Claimed No.{task}" not in reply["body"]
            assert mentions(reply["body"], winner), reply["body"]  # the refusal names the holder
    board = h.tracker()
    assert mentions(board, winner)
    assert not any(mentions(board, u) for u in users if u != winner)


def mentions(text: str, login: str) -> bool:
    """`@login` as a whole login (so @racer1 is not found inside @racer10)."""
    return re.search(rf"@{re.escape(login)}(?![\w-])", text) is not None


async def race_solo_task(h: Harness, posters: list) -> None:
    users = [f"racer{i}" for i in range(50)]
    ids = {u: h.gh.add_comment(REPO, TRACKER, "/claim 3", user=u)["id"] for u in users}
    sends = [posters[i % len(posters)].comment("/claim 3", user=u, comment_id=ids[u]) for i, u in enumerate(users)]
    assert all(s == 202 for s, _ in await asyncio.gather(*sends))
    await h.settle(60)
    await check_one_winner(h, users, ids, 3)


async def race_user_limit(h: Harness, posters: list) -> None:
    ids = [h.gh.add_comment(REPO, TRACKER, f"/claim {t}", user="greedy")["id"] for t in range(1, 11)]
    sends = [
        posters[i % len(posters)].comment(f"/claim {t}", user="greedy", comment_id=ids[i]) for i, t in enumerate(range(1, 11))
    ]
    assert all(s == 202 for s, _ in await asyncio.gather(*sends))
    await h.settle(60)
    state = await h.store.state("h9")
    assert len(state.claims_of("greedy")) == 3
    replies = [reply_to(h, cid) for cid in ids]
    assert all(len(r) == 1 for r in replies)
    assert sum("✅ Claimed" in r[0]["body"] for r in replies) == 3
    assert sum("at most 3 task" in r[0]["body"] for r in replies) == 7


async def test_fifty_concurrent_claims_for_a_solo_task_give_one_winner(backend, tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, backend=backend, workers=16) as h:
        await race_solo_task(h, [h])


async def test_per_user_limit_holds_under_concurrency(backend, tmp_path):
    async with Harness(ten_task_rules(), tmp_path, backend=backend, workers=16) as h:
        await race_user_limit(h, [h])


class SecondReplica:
    """Another bot process in miniature: its own store connection pool, gateway, pipeline and
    HTTP server, on the harness's PostgreSQL database (no schema reset)."""

    def __init__(self, h: Harness):
        self.h = h

    async def __aenter__(self) -> SecondReplica:
        h = self.h
        self.store = Store(PG_URL, lease_seconds=h.lease_seconds)
        await self.store.init(list(h.rules.campaigns))
        self.gateway = Gateway(
            api_url=h.gh.base_url,
            app_id=h.gh.app_id,
            private_key=h.gh.private_key_pem,
            session=h.session,
            max_creates_per_minute=h.max_writes,
            max_wait=5.0,
        )
        self.pipeline = Pipeline(h.rules, self.store, self.gateway, settings=h.settings)
        self.runner, self.url = await serve(make_app(h.settings, self.store, self.pipeline))
        await self.pipeline.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.pipeline.stop(grace=2)
        await self.runner.cleanup()
        await self.store.close()

    async def comment(self, body: str, user: str, *, comment_id: int) -> tuple[int, dict]:
        p = payloads.issue_comment("created", repo=REPO, issue_number=TRACKER, comment_id=comment_id, body=body, user=user)
        raw = payloads.encode(p)
        async with self.h.session.post(
            self.url + "/api/github/webhooks",
            data=raw,
            headers=payloads.headers("issue_comment", raw, self.h.settings.webhook_secret),
        ) as r:
            return r.status, await r.json()


@pytest.mark.skipif(not PG_URL, reason="needs DATABASE_URL_PG")
async def test_races_hold_with_two_pipelines_on_one_postgres(tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, backend="postgres", workers=16) as h, SecondReplica(h) as r2:
        await race_solo_task(h, [h, r2])


@pytest.mark.skipif(not PG_URL, reason="needs DATABASE_URL_PG")
async def test_user_limit_holds_with_two_pipelines_on_one_postgres(tmp_path):
    async with Harness(ten_task_rules(), tmp_path, backend="postgres", workers=16) as h, SecondReplica(h) as r2:
        await race_user_limit(h, [h, r2])


# ---------------------------------------------------------------------------------------------- GitHub faults


def posts(h: Harness, path_re: str = r"/issues/100/comments$") -> list:
    return [r for r in h.gh.requests if r.method == "POST" and re.search(path_re, r.path)]


async def test_429_with_retry_after_is_honoured_and_the_reply_lands_once(backend, tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, backend=backend) as h:
        h.gh.fail_next("POST", r"/issues/100/comments$", 429, headers={"Retry-After": "1"})
        _, _ = await h.comment("/claim 2")
        await h.settle()
        assert len(h.bot_comments()) == 1
        first, second = posts(h)
        assert second.started - first.started >= 0.9  # waited as GitHub asked
        assert (await get_status(h))["failures"] == []


async def test_a_timed_out_reply_is_retried_without_posting_twice(backend, tmp_path, all_rules):
    """GitHub may finish a request whose client gave up: the retry must not post a second reply."""
    async with Harness(all_rules, tmp_path, backend=backend) as h:
        h.pipeline.use_github(
            Gateway(
                api_url=h.gh.base_url,
                app_id=h.gh.app_id,
                private_key=h.gh.private_key_pem,
                session=h.session,
                max_creates_per_minute=h.max_writes,
                max_wait=5.0,
                timeout=0.5,
            )
        )
        h.gh.slow_next("POST", r"/issues/100/comments$", 1.5)
        status, _ = await h.comment("/claim 2")
        assert status == 202
        await h.settle()
        await h.wait_for(lambda: all(r.status for r in h.gh.requests))  # the slow request has finished on GitHub's side
        await h.settle()
        # it timed out once; the retry looked for its own reply on GitHub instead of posting blindly
        assert h.gh.count("GET", r"/issues/100/comments$") >= 1
        assert len(h.bot_comments()) == 1, [c["body"][:60] for c in h.bot_comments()]
        assert (await h.store.state("h9")).claim(2, "alice") is not None


async def test_a_timed_out_board_edit_is_retried(backend, tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, backend=backend) as h:
        h.pipeline.use_github(
            Gateway(
                api_url=h.gh.base_url,
                app_id=h.gh.app_id,
                private_key=h.gh.private_key_pem,
                session=h.session,
                max_creates_per_minute=h.max_writes,
                max_wait=5.0,
                timeout=0.5,
            )
        )
        h.gh.slow_next("GET", r"^/repos/org/Paddle/issues/100$", 1.5)
        await h.comment("/claim 2")
        await h.settle()
        assert "@alice" in h.tracker()
        assert h.tracker().startswith(TRACKER_BODY)


async def test_secondary_rate_limit_403_is_waited_out(backend, tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, backend=backend) as h:
        h.gh.fail_next(
            "POST",
            r"/issues/100/comments$",
            403,
            headers={"Retry-After": "2"},
            body={
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                "documentation_url": "https://docs.github.com/rest",
            },
        )
        await h.comment("/claim 2")
        await h.settle()
        assert len(h.bot_comments()) == 1
        first, second = posts(h)
        assert second.started - first.started >= 1.9
        assert (await get_status(h))["failures"] == []


@pytest.mark.slow
async def test_a_long_rate_limit_wait_is_honoured_not_hammered(backend, tmp_path, all_rules):
    """A secondary limit asking for 30 s: the bot must not try again within those 30 s."""
    async with Harness(all_rules, tmp_path, backend=backend) as h:
        h.gh.fail_next(
            "POST",
            r"/issues/100/comments$",
            403,
            headers={"Retry-After": "30"},
            times=100,
            body={"message": "You have exceeded a secondary rate limit.", "documentation_url": "x"},
        )
        await h.comment("/claim 2")
        await asyncio.sleep(5)
        assert len(posts(h)) == 1, [round(r.started - posts(h)[0].started, 1) for r in posts(h)]


@pytest.mark.slow
async def test_a_permanent_404_fails_the_delivery_visibly_and_is_not_retried(backend, tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, backend=backend) as h:
        h.gh.fail_next("GET", r"/pulls/7/files$", 404, times=100)
        status, data = await h.pull_request("opened", 7, title="【Hackathon 9th No.3】jit", files=["python/paddle/jit/a.py"])
        assert status == 202
        await h.settle()
        await asyncio.sleep(2.5)  # time enough for retries, were there any
        assert h.gh.count("GET", r"/pulls/7/files$") == 1
        [failure] = (await get_status(h))["failures"]
        assert failure["type"] == "delivery" and failure["id"] == data["delivery"] and "404" in failure["error"]
        assert failure["event"] == "pull_request.opened"
        cli = await asyncio.to_thread(bot_status_cli, h)
        assert cli.returncode != 0
        assert data["delivery"] in cli.stdout and "FAILED" in cli.stdout


@pytest.mark.slow
async def test_a_permanent_422_on_a_reply_is_visible_in_bot_status(backend, tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, backend=backend) as h:
        cli = await asyncio.to_thread(bot_status_cli, h)
        assert cli.returncode == 0, cli.stdout + cli.stderr
        h.gh.fail_next("POST", r"/issues/100/comments$", 422)
        await h.comment("/claim 2")
        await h.settle()
        await asyncio.sleep(2.5)
        assert len(posts(h)) == 1 and h.bot_comments() == []
        cli = await asyncio.to_thread(bot_status_cli, h)
        assert cli.returncode != 0 and "422" in cli.stdout


@pytest.mark.slow
async def test_a_tracker_that_github_refuses_is_reported_not_retried_forever(backend, tmp_path, all_rules):
    """The tracker issue is gone (404 on every read): the board cannot be written; that must show
    in /status, and the bot must stop hammering GitHub."""
    async with Harness(all_rules, tmp_path, backend=backend, board_delay=0.2) as h:
        h.gh.fail_next("*", r"^/repos/org/Paddle/issues/100$", 404, times=1000)
        await h.comment("/claim 2")
        await asyncio.sleep(4)
        tries = h.gh.count("GET", r"^/repos/org/Paddle/issues/100$")
        assert tries <= 3, f"the board of a missing tracker was tried {tries} times in 4 s"
        failures = (await get_status(h))["failures"]
        assert any("404" in (f.get("error") or "") for f in failures), failures


# ---------------------------------------------------------------------------------------------- bad input


async def test_oversized_body_gets_413_at_the_default_limit(tmp_path, all_rules):
    async with Harness(all_rules, tmp_path) as h:
        assert h.settings.max_body_bytes == 25 * 1024 * 1024  # GitHub's cap, untouched
        big = b'{"x": "' + b"a" * (26 * 1024 * 1024) + b'"}'
        status, _ = await h.post("issue_comment", big)
        assert status == 413
        assert await h.store.delivery_counts() == {}
        # just under GitHub's cap is still a delivery
        near = payloads.issue_comment(
            "created", repo=REPO, issue_number=TRACKER, comment_id=1, body="/claim 2\n" + "x" * (24 * 1024 * 1024), user="alice"
        )
        status, data = await h.post("issue_comment", near)
        assert status == 202 and data["status"] == "queued"


async def test_bad_input_is_answered_and_never_acted_on(backend, tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, backend=backend) as h:
        assert (await h.post("issue_comment", b'{"action": "created", "comment": '))[0] == 400
        assert (await h.post("issue_comment", b"[1, 2, 3]"))[0] == 400
        status, data = await h.post("deployment_status", {"action": "created"})
        assert status == 202 and data["status"] == "ignored"
        # a repository that belongs to no campaign
        h.gh.add_issue("elsewhere/project", 100, title="their tracker")
        status, data = await h.comment("/claim 2", repo="elsewhere/project", number=100)
        assert status == 202
        # another bot's comment
        await h.comment("/claim 2", user="dependabot[bot]", user_type="Bot")
        await h.settle()
        assert h.bot_comments(repo="elsewhere/project", number=100) == [] and h.bot_comments() == []
        assert (await h.store.state("h9")).claims == ()
        assert h.gh.count("PATCH") == 0
        counts = await h.store.delivery_counts()
        assert counts.get("ignored") == 2 and counts.get("done", 0) == 0


async def test_the_bots_own_reply_coming_back_as_a_webhook_is_ignored(backend, tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, backend=backend) as h:
        await h.comment("/claim 2\n/claim 3")
        await h.settle()
        [reply] = h.bot_comments()
        before = len(h.gh.requests)
        # GitHub tells the App about its own comment (the reply repeats "/claim" wording)
        p = payloads.issue_comment(
            "created",
            repo=REPO,
            issue_number=TRACKER,
            comment_id=reply["id"],
            body=reply["body"] + "\n/claim 1",
            user=FakeGitHub.bot_login,
            user_type="Bot",
        )
        assert (await h.post("issue_comment", p))[0] == 202
        # and the same login sent as a plain user (some proxies drop the type)
        p = payloads.issue_comment(
            "created", repo=REPO, issue_number=TRACKER, comment_id=reply["id"], body="/claim 1", user=FakeGitHub.bot_login
        )
        assert (await h.post("issue_comment", p))[0] == 202
        await h.settle()
        assert len(h.bot_comments()) == 1
        assert (await h.store.state("h9")).claims_of(FakeGitHub.bot_login) == []
        assert [r for r in h.gh.requests[before:] if r.method in ("POST", "PATCH")] == []


# ---------------------------------------------------------------------------------------------- trust


async def test_a_participant_cannot_release_someone_elses_claim(backend, tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, backend=backend) as h:
        await h.comment("/claim 2", user="alice")
        await h.settle()
        _, d1 = await h.comment("/unclaim 2", user="mallory")
        _, d2 = await h.comment("【取消报名】：2", user="mallory")
        _, d3 = await h.comment("/unassign @alice 2", user="mallory")
        await h.settle()
        assert (await h.store.state("h9")).claim(2, "alice") is not None
        assert "@alice" in h.tracker()
        mallory = [r["body"] for r in h.replies() if "@mallory" in r["body"]]
        assert len(mallory) == 3
        assert not any("Released" in b or "Removed" in b for b in mallory)
        assert any("/unassign" in b for b in mallory)  # the maintainer command is refused by name


@pytest.mark.parametrize("permission", ["read", "triage"])
async def test_maintainer_commands_are_refused_below_write(tmp_path, all_rules, permission):
    async with Harness(all_rules, tmp_path) as h:
        h.gh.set_permission(REPO, "helper", permission)
        await h.comment("/claim 2", user="alice")
        await h.settle()
        await h.comment("/assign @helper 1\n/unassign @alice 2\n/close-task 3\n/done 2", user="helper")
        await h.settle()
        state = await h.store.state("h9")
        assert state.claim(1, "helper") is None and state.claim(2, "alice") is not None
        assert state.claim(2, "alice").stage.value == "claimed" and 3 not in state.closed_tasks
        refusal = next(r["body"] for r in h.replies() if "@helper" in r["body"])
        for cmd in ("/assign", "/unassign", "/close-task", "/done"):
            assert cmd in refusal
        assert "✅" not in refusal


async def test_a_forged_reply_marker_is_not_adopted_as_the_bots_reply(backend, tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, backend=backend, skip_waits=True) as h:
        cid = h.gh.add_comment(REPO, TRACKER, "/claim 2", user="alice")["id"]
        forged = h.gh.add_comment(REPO, TRACKER, reply_marker(cid) + "\n@alice ✅ Claimed No.2 (not really)", user="mallory")
        # the first reply is refused with a wait longer than the gateway sleeps: the action is retried
        # later (after the 6 s GitHub asked for, skipped on the bot's clock), and looks for its marker first
        h.gh.fail_next("POST", r"/issues/100/comments$", 429, headers={"Retry-After": "6"})  # > the gateway's max_wait
        await h.comment("/claim 2", comment_id=cid)
        await h.settle(30)
        assert len(reply_to(h, cid)) == 1
        assert h.gh.comments(REPO, TRACKER)[1]["body"] == forged["body"]


async def test_a_forged_checklist_marker_is_never_edited_or_adopted(backend, tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, backend=backend, skip_waits=True) as h:
        h.gh.add_pull(REPO, 7, title="【Hackathon 9th No.3】jit", user="alice", files=["python/paddle/jit/a.py"])
        fake = h.gh.add_comment(REPO, 7, CHECKLIST_MARKER + "\n- [x] everything is ready, merge me", user="mallory")
        h.gh.fail_next("POST", r"/issues/7/comments$", 429, headers={"Retry-After": "6"})  # > the gateway's max_wait
        await h.pull_request("opened", 7)
        await h.settle(30)
        await h.pull_request("synchronize", 7, files=["python/paddle/jit/a.py", "test/dygraph_to_static/test_a.py"])
        await h.settle(30)
        comments = h.gh.comments(REPO, 7)
        assert comments[0]["body"] == fake["body"] and comments[0]["user"]["login"] == "mallory"
        [checklist] = h.bot_comments(number=7)
        assert checklist["body"].startswith(CHECKLIST_MARKER)
        assert h.gh.count("PATCH", rf"/issues/comments/{fake['id']}$") == 0


async def test_hostile_titles_and_team_names_cannot_break_the_board(backend, tmp_path):
    base = make_rules()
    evil = f"Evil {BOARD_END} | col | {BOARD_START} <b>x</b>"
    tasks = dict(base.tasks)
    tasks[2] = tasks[2].model_copy(update={"title": evil})
    rules = Rules(campaigns={"h9": make_rules(tasks=tasks)})
    async with Harness(rules, tmp_path, backend=backend) as h:
        after = "\n## FAQ\nThe organiser's notes after the board.\n"
        h.gh.add_issue(REPO, TRACKER, title="tracker", body=TRACKER_BODY)
        await h.comment("/claim 2", user="alice")
        await h.settle()
        body = h.tracker()
        h.gh.add_issue(REPO, TRACKER, title="tracker", body=body + after)  # the organiser adds a section below
        await h.comment(f"【队名】：team {BOARD_END} | x\n【序号】：2\n【状态】：报名", user="bob")
        await h.comment("/claim 1", user="carol")
        await h.settle()
        body = h.tracker()
        assert body.startswith(TRACKER_BODY) and body.endswith(after)
        assert body.count(BOARD_START) == 1 and body.count(BOARD_END) == 1
        board = body[body.index(BOARD_START) : body.index(BOARD_END)]
        assert "@bob" in board and "@carol" in board and "@alice" in board
        # every table row keeps its column count: a "|" in a title or a team cannot add cells
        for table in _tables(board):
            widths = {_cells(row) for row in table}
            assert len(widths) == 1, table
        # another update still keeps the organiser's section once
        await h.comment("/unclaim 1", user="carol")
        await h.settle()
        body = h.tracker()
        assert body.endswith(after) and body.count(after) == 1 and "@carol" not in body


def _tables(text: str) -> list[list[str]]:
    tables, cur = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            cur.append(line)
        elif cur:
            tables.append(cur)
            cur = []
    return tables + ([cur] if cur else [])


def _cells(row: str) -> int:
    """Cells in a Markdown table row (escaped pipes and pipes inside code spans do not split)."""
    n, i, code = 0, 0, 0
    while i < len(row):
        ch = row[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "`":
            j = i
            while j < len(row) and row[j] == "`":
                j += 1
            run = j - i
            code = 0 if code == run else (run if code == 0 else code)
            i = j
            continue
        if ch == "|" and not code:
            n += 1
        i += 1
    return n


# ---------------------------------------------------------------------------------------------- shared write budget


class SteppedClock:
    """Epoch seconds that move only when someone sleeps on them (GitHub's window is on this clock too)."""

    def __init__(self) -> None:
        import time

        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


@pytest.mark.parametrize("backend", STORE_BACKENDS)
async def test_two_replicas_share_one_write_budget_through_the_store(backend, tmp_path):
    import aiohttp

    from bot.store.budget import StoreBudget
    from tests.conftest import fresh_store

    clock = SteppedClock()
    store = await fresh_store(backend, tmp_path)
    await store.init([])
    async with FakeGitHub() as gh, aiohttp.ClientSession() as session:
        gh.clock = clock  # GitHub's window follows the same stepped time
        gh.add_issue(REPO, TRACKER, title="Tracker")
        replicas = [
            Gateway(
                api_url=gh.base_url,
                app_id=gh.app_id,
                private_key=gh.private_key_pem,
                session=session,
                budget=StoreBudget(store, per_minute=8, per_hour=500),
                sleep=clock.sleep,
                clock=clock,
            )
            for _ in range(2)
        ]
        insts = [await g.installation(1) for g in replicas]
        sent: list[float] = []

        async def write(i: int) -> None:
            await insts[i % 2].create_comment(REPO, TRACKER, f"c{i}")
            sent.append(clock())

        for i in range(20):
            await write(i)
        assert len(gh.comments(REPO, TRACKER)) == 20
        for t in sent:  # 7 ordinary writes a minute between BOTH replicas (one of 8 kept for the board)
            assert sum(1 for u in sent if t <= u < t + 60) <= 7
        assert gh.secondary_limited == 0
        # a 403 seen by one replica pauses the other too
        await replicas[0].budget.pause(1, clock() + 300)
        before = clock()
        await insts[1].create_comment(REPO, TRACKER, "after the pause")
        assert clock() - before >= 300
    await store.close()
