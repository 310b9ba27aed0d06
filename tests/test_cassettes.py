"""Golden recordings (vcrpy cassettes) of the bot's GitHub traffic in the key scenarios: an extra,
missing or changed API call is a visible diff in ``tests/cassettes/*.yaml``.

How it works (machinery in tests/cassette_tools.py)
* Each scenario runs the real server and pipeline in-process (`CassetteHarness`, a `Harness`)
  inside a vcrpy cassette. Only the bot's calls to GitHub are recorded: the test's webhook POSTs to
  the bot go through the same aiohttp client and are excluded by URL. The cassette opens after the
  bot has started, so the start-up ``GET /app`` is not in it; the first token mint is.
* Requests match on method + path + query + body compared as parsed JSON; never on host or port
  (random per run; files say ``http://api.github.test``). Identical requests (the tracker ``GET``)
  are answered in recorded order.
* Replay is the default and what CI runs: ``record_mode="none"``, vcr answers every call and the
  fake GitHub is never reached. A call the cassette does not hold fails the test at once with a
  diff against the closest recorded call; a recorded call never made fails it at the end
  (`cassette.all_played`, checked on exit with the list of what was missed); so does any request
  that reaches the fake GitHub during replay. Replay never writes a cassette (read-only persister).
  The last tests below prove these three failures happen, with the call named.
* Re-record with ``RECORD_CASSETTES=1 .venv/bin/pytest tests/test_cassettes.py``: the file is deleted
  and recorded afresh (``record_mode="all"``) against the fake GitHub; in that mode the scenarios also
  assert against the fake's state. Review the diff of ``tests/cassettes/`` like code.
* Files are review artefacts: bodies are decoded JSON (``json:``), comment and board texts are YAML
  blocks; no Authorization header, JWT or installation token is written (tokens become
  ``ghs_REDACTED`` expiring in 2099, so a replay never thinks its token is stale).

Determinism (replay needs the same requests whatever the scheduling), by construction:
* One worker; deliveries are sent one after another, so they are processed in arrival order and
  claim-policy outcomes (a full task) do not depend on timing.
* Scenarios settle after each step, so every step's board edit happens before the next step.
* The claim burst holds the board flusher while the 20 claims are processed (as if they all
  arrived within one board delay, whatever the machine's speed), then lets the delay elapse: one
  ``GET`` + one ``PATCH`` of the tracker, exactly. Likewise it holds the replies after the first
  until the other 19 are all queued (as if they all came within the reply gap), then lets the gap
  end: one merged comment. No matcher ignores any part of a body.
* User comment ids come from a counter of the test's own (not from the fake, whose ids also
  count the bot's comments, which replay never creates); a PR's labels in its payloads are those
  the bot last set (read from the calls), which is what GitHub would send back.
"""

from __future__ import annotations

import json
import re

import pytest

from bot.rules.models import Rules
from tests import payloads
from tests.cassette_tools import API_PLACEHOLDER, CASSETTES, RECORD, SCRUBBED_TOKEN, CassetteHarness, ReadableYaml, count
from tests.conftest import make_rules
from tests.harness import TRACKER_BODY

TRACKER = r"^/repos/org/Paddle/issues/100$"
REPLIES = r"^/repos/org/Paddle/issues/100/comments$"
TOKEN = r"/access_tokens$"


def burst_rules() -> Rules:
    base = make_rules()
    tasks = {i: base.tasks[2].model_copy(update={"id": i, "title": f"Task {i}"}) for i in range(1, 11)}
    return Rules(campaigns={"h9": make_rules(tasks=tasks)})


# ------------------------------------------------------------------ scenarios


async def claim_burst(h: CassetteHarness) -> None:
    """20 claim comments within the board delay: the first at a quiet time gets its own reply; the
    19 arriving while the bot's reply gap on the tracker runs are answered in ONE merged comment;
    one board edit. Task 1 fills up (2 claimants per task) before user19 asks for it; user20
    names a task that does not exist."""
    h.hold_board()
    h.hold_replies()
    comments = [(f"user{k:02d}", f"【报名】：{(k - 1) % 9 + 1}") for k in range(1, 19)]
    comments += [("user19", "【报名】：1、10"), ("user20", "【报名】：99")]
    for i, (user, text) in enumerate(comments):
        status, _ = await h.comment(text, user=user)
        assert status == 202
        if i == 0:
            await h.wait_for(lambda calls: count(calls, "POST", REPLIES) == 1)
    await h.wait_for(lambda calls: h.pipeline.executor.queued() == 19)  # the 19 later replies, decided and waiting
    h.release_replies()
    await h.wait_for(lambda calls: count(calls, "POST", REPLIES) == 2)
    h.release_board()
    await h.settle()


async def claim_task_3(h: CassetteHarness) -> None:
    await h.comment("【报名】：3", user="alice")
    await h.settle()


PR_TITLE = "【Hackathon 9th No.3】jit support"


async def pr_lifecycle(h: CassetteHarness) -> list[list]:
    """alice claims task 3, opens a PR without tests, pushes the tests, the PR is merged.
    Returns the calls of each PR step."""
    await claim_task_3(h)
    steps = []
    for action, kwargs in [
        ("opened", dict(title=PR_TITLE, files=["python/paddle/jit/api.py"])),
        ("synchronize", dict(files=["python/paddle/jit/api.py", "test/dygraph_to_static/test_jit.py"])),
        ("closed", dict(merged=True, state="closed")),
    ]:
        mark = len(h.calls)
        status, _ = await h.pull_request(action, 7, **kwargs)
        assert status == 202
        await h.settle()
        steps.append(h.since(mark))
    return steps


MAINTAINER_STEPS = [
    ("boss", "/assign @bob 2"),  # a campaign maintainer: no permission lookup
    ("mallory", "/assign @eve 3"),  # read permission: looked up, politely refused
    ("helper", "/assign @carol 3"),  # write permission: looked up, allowed
    ("boss", "/close-task 1"),
    ("dave", "/status"),  # anyone
    ("dave", "/help"),
    ("helper", "/assign @dave 2"),  # permission cached: no second lookup
]


async def maintainer_commands(h: CassetteHarness) -> list[list]:
    h.gh.set_permission("org/Paddle", "helper", "write")
    h.gh.set_permission("org/Paddle", "mallory", "read")
    steps = []
    for user, text in MAINTAINER_STEPS:
        mark = len(h.calls)
        await h.comment(text, user=user)
        await h.settle()
        steps.append(h.since(mark))
    return steps


# ------------------------------------------------------------------ the pinned scenarios


async def test_claim_burst(tmp_path):
    async with CassetteHarness("claim_burst", burst_rules(), tmp_path) as h:
        await claim_burst(h)
        calls = h.calls
        first, merged = [c.json["body"] for c in calls if c.method == "POST" and re.search(REPLIES, c.path)]
        assert first.count("hackathon-bot:reply:") == 1 and "@user01" in first  # alone at a quiet time
        assert merged.count("hackathon-bot:reply:") == 19  # the rest: one comment, every marker
        assert [f"user{k:02d}" for k in range(2, 21)] == re.findall(r"^@(user\d+)", merged, re.M)
        assert count(calls, "PATCH", TRACKER) == 1  # coalesced
        assert count(calls, "GET", TRACKER) == 2  # read, and re-read right before the write (a free 304)
        assert count(calls, "POST", TOKEN) == 1  # the token is cached
        assert len(calls) == 1 + 2 + 3  # nothing else
        [edit] = [c for c in calls if c.method == "PATCH"]
        board = edit.json["body"]
        assert board.startswith(TRACKER_BODY)
        assert all(f"@user{k:02d}" in board for k in range(1, 20)) and "@user20" not in board
        state = await h.store.state("h9")
        assert {c.task for c in state.claims_of("user19")} == {10}  # task 1 was full
        assert list(state.claims_of("user20")) == []
        if h.recording:
            assert len(h.bot_comments()) == 2


async def test_pr_opened_pushed_merged(tmp_path, all_rules):
    async with CassetteHarness("pr_lifecycle", all_rules, tmp_path) as h:
        opened, pushed, merged = await pr_lifecycle(h)
        files = r"^/repos/org/Paddle/pulls/7/files$"
        for step, reads in ((opened, 1), (pushed, 1), (merged, 0)):
            assert count(step, "GET", files) == reads  # once per head commit: the merge pushed none
            assert len([c for c in step if not re.search(TRACKER, c.path)]) <= 4  # the bar: <= 4 per PR event
        # one checklist comment, created once and then edited in place
        [created] = [c for c in opened if c.method == "POST" and c.path.endswith("/issues/7/comments")]
        assert not any(c.method == "POST" and c.path.endswith("/comments") for c in pushed + merged)
        assert any(c.method == "PATCH" and "/issues/comments/" in c.path for c in pushed)
        assert created.json["body"].startswith("<!--")
        assert h.labels_set_by_bot("org/Paddle", 7) and "ready" in h.labels_set_by_bot("org/Paddle", 7)
        # merged: the board shows task 3 completed by alice
        last_board = [c for c in h.calls if c.method == "PATCH" and re.search(TRACKER, c.path)][-1]
        assert "alice" in last_board.json["body"]
        assert (await h.store.state("h9")).claim(3, "alice").stage.value == "completed"


async def test_maintainer_commands(tmp_path, all_rules):
    async with CassetteHarness("maintainer_commands", all_rules, tmp_path) as h:
        steps = await maintainer_commands(h)
        perm = r"/collaborators/[^/]+/permission$"
        looked_up = [[c.path.split("/")[-2] for c in step if re.search(perm, c.path)] for step in steps]
        assert looked_up == [[], ["mallory"], ["helper"], [], [], [], []]
        for (user, _), step in zip(MAINTAINER_STEPS, steps):
            [reply] = [c for c in step if c.method == "POST" and re.search(REPLIES, c.path)]
            assert f"@{user}" in reply.json["body"]
        state = await h.store.state("h9")
        assert state.claim(2, "bob") is not None and state.claim(3, "carol") is not None
        assert state.claim(3, "eve") is None and state.claim(2, "dave") is not None
        assert 1 in state.closed_tasks


async def test_forged_signatures_cause_no_github_traffic(tmp_path, all_rules):
    async with CassetteHarness("forged_signature", all_rules, tmp_path) as h:
        p = payloads.issue_comment(
            "created", repo="org/Paddle", issue_number=100, comment_id=7_000_001, body="【报名】：2", user="mallory"
        )
        assert (await h.post("issue_comment", p, secret="wrong"))[0] == 401
        assert (await h.post("issue_comment", p, secret=None))[0] == 401
        assert (await h.post("issue_comment", p, headers={"X-Hub-Signature-256": "sha1=abc"}))[0] == 401
        await h.settle()
        assert h.calls == []
    assert ReadableYaml().deserialize(h.path.read_text())["interactions"] == []


# ------------------------------------------------------------------ the machinery catches differences


@pytest.mark.skipif(RECORD, reason="replay-only check")
async def test_an_extra_call_fails_with_the_call_named(tmp_path, all_rules):
    async with CassetteHarness("forged_signature", all_rules, tmp_path, record=False, verify=False) as h:
        await h.comment("【报名】：2")  # a valid claim: the bot wants to talk to GitHub
        with pytest.raises(AssertionError, match=r"extra call: POST /app/installations/\d+/access_tokens"):
            await h.settle(timeout=5)
        assert h.unexpected


@pytest.mark.skipif(RECORD, reason="replay-only check")
async def test_a_missing_call_fails_with_the_call_named(tmp_path, all_rules):
    async with CassetteHarness("pr_lifecycle", all_rules, tmp_path, record=False, verify=False) as h:
        await claim_task_3(h)  # the first step only: every call it makes is in the cassette
        assert h.unexpected == []
        problems = h.problems()
    assert "recorded call never made: GET /repos/org/Paddle/pulls/7/files" in problems
    with pytest.raises(AssertionError, match="re-record with RECORD_CASSETTES=1"):
        h.verify()


@pytest.mark.skipif(RECORD, reason="replay-only check")
async def test_a_changed_body_fails_with_a_diff(tmp_path, all_rules):
    async with CassetteHarness("pr_lifecycle", all_rules, tmp_path, record=False, verify=False) as h:
        await h.comment("【报名】：2", user="alice")  # the cassette holds a claim of task 3
        with pytest.raises(AssertionError) as err:
            await h.settle(timeout=5)
    assert "extra call: POST /repos/org/Paddle/issues/100/comments" in str(err.value)
    assert re.search(r"^[-+] ", str(err.value), re.M)  # a unified diff of the bodies


# ------------------------------------------------------------------ the files themselves


NAMES = ["claim_burst", "pr_lifecycle", "maintainer_commands", "forged_signature"]


@pytest.mark.parametrize("name", NAMES)
def test_cassettes_hold_no_secrets_and_read_as_json(name):
    text = (CASSETTES / f"{name}.yaml").read_text()
    assert not re.search(r"(?i)^\s*authorization:", text, re.M)
    assert not re.search(r"ghs_(?!REDACTED)", text)
    assert "eyJ" not in text  # no JWT (base64 of '{"')
    assert "127.0.0.1" not in text
    data = ReadableYaml().deserialize(text)
    for it in data["interactions"]:
        assert it["request"]["uri"].startswith(API_PLACEHOLDER)
        if SCRUBBED_TOKEN[:4] in it["response"]["body"]["string"]:
            assert SCRUBBED_TOKEN in it["response"]["body"]["string"]


def test_readable_yaml_round_trips_bodies():
    data = {
        "version": 1,
        "interactions": [
            {
                "request": {
                    "method": "PATCH",
                    "uri": "http://x/repos/o/r/issues/1",
                    "headers": {"accept": ["a"]},
                    "body": '{"body": "# 标题\\n\\n| a | b |\\n  indented\\ntrailing  \\n"}',
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Type": ["application/json"]},
                    "body": {"string": '{"id": 1, "body": "line\\n\\tline\\u0007bell"}'},
                },
            },
            {
                "request": {"method": "GET", "uri": "http://x/a", "headers": {}, "body": None},
                "response": {"status": {"code": 204, "message": "No Content"}, "headers": {}, "body": {"string": "not json"}},
            },
        ],
    }
    s = ReadableYaml()
    text = s.serialize(data)
    assert "json:" in text and "# 标题" in text  # decoded, not escaped
    back = s.deserialize(text)
    for a, b in zip(data["interactions"], back["interactions"]):
        ra, rb = a["request"], b["request"]
        assert (ra["method"], ra["uri"]) == (rb["method"], rb["uri"])
        assert (json.loads(ra["body"]) if ra["body"] else None) == (json.loads(rb["body"]) if rb["body"] else None)
        sa, sb = a["response"]["body"]["string"], b["response"]["body"]["string"]
        assert sa == sb or json.loads(sa) == json.loads(sb)
