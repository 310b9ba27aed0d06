"""Hostile input and faults (issue 8), end to end: signed deliveries into the bot's real server,
the bot's calls into the fake GitHub, everything on 127.0.0.1. Each test is one of the issue's
cases: what an attacker (or an accident) does, and what a user would notice."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from bot.core.board import BOARD_END, BOARD_START, BODY_LIMIT
from tests import payloads
from tests.conftest import STORE_BACKENDS
from tests.harness import Harness

pytestmark = pytest.mark.asyncio

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=STORE_BACKENDS)
async def bot(request, tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, backend=request.param) as h:
        yield h


@pytest.fixture
async def sqlite_bot(tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, backend="sqlite") as h:
        yield h


def replies_to(h: Harness, user: str) -> list[str]:
    return [c["body"] for c in h.bot_comments() if f"@{user}" in c["body"]]


async def healthz(h: Harness) -> tuple[int, dict, float]:
    started = time.monotonic()
    async with h.session.get(h.url + "/healthz") as resp:
        return resp.status, await resp.json(), time.monotonic() - started


# ---- 1. one comment must never freeze the bot ------------------------------------------------------
HOSTILE_COMMENTS = [
    "a" + " " * 65_534 + "b",
    "【提交】：3" + "[" * 65_000,
]


@pytest.mark.parametrize("hostile", HOSTILE_COMMENTS, ids=["spaces", "brackets"])
async def test_healthz_and_a_normal_claim_are_answered_while_a_hostile_comment_is_read(sqlite_bot, hostile):
    bot = sqlite_bot
    await bot.comment("【报名】：1", user="warmup")  # first-use costs (templates, token) are not the hostile comment's
    await bot.settle()
    cid = bot.gh.add_comment("org/Paddle", 100, "hello", user="mallory")["id"]
    sent = asyncio.gather(
        bot.comment(hostile, user="mallory", comment_id=cid),
        bot.comment(hostile + " ", user="mallory", action="edited", comment_id=cid, old=hostile),
    )
    await asyncio.sleep(0.05)
    await bot.comment("【报名】：2", user="bob")
    slowest = 0.0
    deadline = time.monotonic() + 60
    while not replies_to(bot, "bob") and time.monotonic() < deadline:
        status, _, took = await healthz(bot)
        assert status == 200
        slowest = max(slowest, took)
        await asyncio.sleep(0.1)
    assert replies_to(bot, "bob"), "the normal claim was not answered"
    assert all(s == 202 for s, _ in await sent)
    assert slowest < 1.0, f"/healthz took {slowest:.2f} s"
    await bot.settle(60)
    state = await bot.store.state("h9")
    assert [c.user for c in state.claims_on(2)] == ["bob"]


# ---- 6. one malformed delivery never fails its batch ---------------------------------------------------
async def test_a_malformed_payload_among_42_gets_its_own_4xx_and_the_others_are_processed(bot):
    async def claim(i: int) -> tuple[int, dict]:
        user = f"user{i:02d}"
        cid = bot.gh.add_comment("org/Paddle", 100, "【报名】：2", user=user)["id"]
        p = payloads.issue_comment("created", repo="org/Paddle", issue_number=100, comment_id=cid, body="【报名】：2", user=user)
        if i == 21:
            p["action"] = ["created"]
        return await bot.post("issue_comment", p)

    results = await asyncio.gather(*(claim(i) for i in range(43)))
    bad = results[21]
    assert 400 <= bad[0] < 500 and "action" in bad[1]["error"]
    assert [s for i, (s, _) in enumerate(results) if i != 21] == [202] * 42
    await bot.settle(60)
    counts = await bot.store.delivery_counts()
    assert counts.get("done") == 42 and not counts.get("failed")
    answered = {u for u in (f"user{i:02d}" for i in range(43)) if replies_to(bot, u)}
    assert len(answered) == 42 and "user21" not in answered


async def test_the_inbox_stores_every_good_delivery_of_a_group_when_one_row_fails(store):
    async def add(i: int):
        action = {"created": True} if i == 7 else "created"  # no database takes an object here
        return await store.add_delivery(f"d-{i}", "issue_comment", action, b"{}")  # type: ignore[arg-type]

    results = await asyncio.gather(*(add(i) for i in range(43)), return_exceptions=True)
    assert isinstance(results[7], Exception)
    assert [r for i, r in enumerate(results) if i != 7] == [True] * 42
    assert (await store.delivery_counts()).get("pending") == 42


# ---- 10. state loss is not silent -------------------------------------------------------------------
async def test_healthz_fails_when_the_sqlite_file_is_deleted(sqlite_bot):
    bot = sqlite_bot
    assert (await healthz(bot))[0] == 200
    path = Path(str(bot.tmp_path / "bot.db"))
    path.unlink()
    status, data, _ = await healthz(bot)
    assert status == 503 and any("missing" in p for p in data["problems"])


async def test_healthz_fails_when_the_disk_is_full(sqlite_bot, monkeypatch):
    import shutil as real_shutil

    import bot.runtime.health

    usage = real_shutil.disk_usage(sqlite_bot.tmp_path)
    monkeypatch.setattr(bot.runtime.health.shutil, "disk_usage", lambda path: usage._replace(free=4096))
    status, data, _ = await healthz(sqlite_bot)
    assert status == 503 and any("disk full" in p for p in data["problems"])


async def test_healthz_fails_when_the_database_refuses_writes(sqlite_bot):
    from sqlalchemy import event

    @event.listens_for(sqlite_bot.store.db.engine, "begin")
    def _read_only(conn):
        conn.exec_driver_sql("PRAGMA query_only = ON")

    sqlite_bot.store.db.engine.dispose()
    status, data, _ = await healthz(sqlite_bot)
    assert status == 503 and any("cannot be written" in p for p in data["problems"])


async def test_an_empty_store_keeps_the_trackers_board_and_says_so(bot):
    # The tracker shows a board the bot wrote with an earlier database: 2 people on task 1.
    old_board = f"{BOARD_START}\n| 1 | | Fuse | @alice, @bob | |\n{BOARD_END}"
    bot.gh.add_issue("org/Paddle", 100, title="Hackathon 9th", body="Organiser text\n\n" + old_board + "\n")
    await bot.comment("【报名】：2", user="carol")
    await bot.settle()
    assert replies_to(bot, "carol")
    assert old_board in bot.tracker()  # not rewritten from 2 people to 1
    status, data, _ = await healthz(bot)
    assert status == 200 and any("bot sync h9" in w for w in data["warnings"])


# ---- 11. a demoted collaborator loses maintainer rights at once -----------------------------------------
async def test_a_member_event_clears_the_permission_cache(bot):
    bot.gh.set_permission("org/Paddle", "helper", "write")
    await bot.comment("/close-task 2", user="helper")
    await bot.settle()
    assert 2 in (await bot.store.state("h9")).closed_tasks
    bot.gh.set_permission("org/Paddle", "helper", "read")
    event = {
        "action": "edited",
        "member": payloads.user("helper"),
        "repository": payloads.repository("org/Paddle"),
        "sender": payloads.user("boss"),
        "installation": {"id": 1},
    }
    status, _ = await bot.post("member", event)
    assert status == 202
    await bot.comment("/reopen 2", user="helper")
    await bot.settle()
    assert 2 in (await bot.store.state("h9")).closed_tasks  # refused: no longer a maintainer
    assert any("only the campaign's maintainers" in b for b in replies_to(bot, "helper"))


# ---- 8. the board never pushes the tracker body past GitHub's limit ------------------------------------------
async def test_a_62000_character_organiser_text_keeps_the_tracker_under_the_limit(bot):
    organiser = "# Hackathon 9th\n\n" + ("Read the rules of the campaign carefully. " * 1500)[:62_000] + "\n"
    bot.gh.add_issue("org/Paddle", 100, title="Hackathon 9th", body=organiser)
    for i, user in enumerate(["alice", "bob", "carol"]):
        await bot.comment(f"【报名】：{i + 1}", user=user)
    await bot.settle()
    body = bot.tracker()
    assert len(body) <= BODY_LIMIT
    assert body.startswith(organiser)
    assert BOARD_START in body and BOARD_END in body
    state = await bot.store.state("h9")
    assert f"{len(state.claims)} of 3 tasks claimed" in body or f"@{state.claims[0].user}" in body


# ---- 11. startup errors are one clear line ------------------------------------------------------------------------
def _serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    base = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "RULES_DIR": str(ROOT / "rules"),
        "DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
        "PORT": "0",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        check=False,
        cwd=tmp_path,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _broken_rules(tmp_path: Path) -> str:
    d = tmp_path / "broken" / "camp"
    d.mkdir(parents=True)
    (d / "campaign.yml").write_text("name: [unclosed\n")
    return str(tmp_path / "broken")


def _busy_port() -> tuple[socket.socket, str]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s, str(s.getsockname()[1])


STARTUP_CASES = {
    "broken rules file": (lambda p: {"RULES_DIR": _broken_rules(p)}, "campaign.yml:"),
    "missing RULES_DIR": (lambda p: {"RULES_DIR": str(p / "nowhere")}, "RULES_DIR"),
    "read-only database": (lambda p: {"DATABASE_URL": f"sqlite:///file:{p}/ro.db?mode=ro&uri=true"}, "readonly"),
    "bad PORT": (lambda p: {"PORT": "eighty"}, "PORT"),
    "bad WORKERS": (lambda p: {"WORKERS": "0"}, "WORKERS"),
    "unreadable PRIVATE_KEY_PATH": (lambda p: {"APP_ID": "1", "PRIVATE_KEY_PATH": str(p / "no.pem")}, "PRIVATE_KEY_PATH"),
    "bad PRIVATE_KEY": (lambda p: {"APP_ID": "1", "PRIVATE_KEY": "not a key"}, "PRIVATE_KEY"),
    "bad LOG_LEVEL": (lambda p: {"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
}


@pytest.mark.parametrize("case", list(STARTUP_CASES))
async def test_startup_errors_are_one_line_without_traceback(tmp_path, case):
    make_env, says = STARTUP_CASES[case]
    env = make_env(tmp_path)
    if case == "read-only database":
        (tmp_path / "ro.db").touch()
    done = await asyncio.to_thread(_serve, tmp_path, **env)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("bot serve: ") and says in lines[0], lines[0]


async def test_a_port_in_use_is_one_line(tmp_path):
    sock, port = _busy_port()
    try:
        done = await asyncio.to_thread(_serve, tmp_path, PORT=port)
    finally:
        sock.close()
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert "Traceback" not in done.stderr and f"PORT={port}" in last and "cannot listen" in last, done.stderr


async def test_healthz_is_ok_on_a_working_bot(bot):
    async with aiohttp.ClientSession() as s, s.get(bot.url + "/healthz") as resp:
        assert resp.status == 200 and (await resp.json())["status"] == "ok"


# ---- 2. a PR title does not get around the per-person limit ---------------------------------------------------
@pytest.fixture
async def big_bot(request, tmp_path):
    """A campaign of 20 open tasks, at most 3 per person."""
    from bot.rules.models import Rules, Task
    from tests.conftest import make_rules

    tasks = {i: Task(id=i, title=f"Task {i}", difficulty="基础", track="framework") for i in range(1, 21)}
    rules = make_rules(tasks=tasks)
    async with Harness(Rules(campaigns={rules.slug: rules}), tmp_path) as h:
        yield h


async def test_a_pr_title_naming_20_tasks_is_credited_only_up_to_the_limit(big_bot):
    bot = big_bot
    await bot.comment("【报名】：1、2、3", user="greedy")
    await bot.comment("【报名】：4", user="greedy")
    await bot.settle()
    state = await bot.store.state("h9")
    assert sorted(c.task for c in state.claims_of("greedy")) == [1, 2, 3]  # the 4th claim was refused
    await bot.pull_request("opened", 7, title="【Hackathon 9th No.1-20】 wip", user="greedy", files=["README.md"])
    await bot.settle()
    state = await bot.store.state("h9")
    mine = sorted(c.task for c in state.claims_of("greedy"))
    limit = bot.rules.campaigns["h9"].campaign.claim_policy.max_claims_per_user
    assert mine == [1, 2, 3] and len(mine) == limit  # the held tasks moved on; nothing beyond the limit
    [checklist] = [c["body"] for c in bot.gh.comments("org/Paddle", 7)]
    assert "not credited" in checklist and f"at most {limit} at once" in checklist
    assert "names 20 tasks" in checklist  # the title hint
    assert "ready" not in bot.gh.labels("org/Paddle", 7)
    board = bot.tracker()
    assert "| @greedy | 3 |" in board


async def test_a_pr_on_free_tasks_by_someone_under_the_limit_is_credited_in_title_order(big_bot):
    bot = big_bot
    await bot.comment("【报名】：5", user="dana")
    await bot.settle()
    await bot.pull_request("opened", 8, title="【Hackathon 9th No.9, 5, 7, 6】 docs", user="dana", files=["README.md"])
    await bot.settle()
    state = await bot.store.state("h9")
    assert sorted(c.task for c in state.claims_of("dana")) == [5, 6, 7]  # held 5 first, then the lowest numbers


# ---- 8. replies over GitHub's limit are cut with a summary -------------------------------------------------------
async def test_a_comment_naming_10000_unknown_tasks_gets_a_reply_under_the_limit(bot):
    numbers = "、".join(str(n) for n in range(10, 10_010))  # 10,000 task numbers this campaign does not have
    await bot.comment(f"【报名】：2、{numbers}", user="flood")
    await bot.settle()
    [reply] = replies_to(bot, "flood")
    assert len(reply) <= 65_536
    assert "more lines not shown" in reply or "more line not shown" in reply
    assert [c.user for c in (await bot.store.state("h9")).claims_on(2)] == ["flood"]  # the valid claim is kept
