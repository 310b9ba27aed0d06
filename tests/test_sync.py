"""`bot sync`: adopting a campaign that is already running, from GitHub itself (issue 10).

A tracker with 40 historical comments and two PRs on the fake GitHub, a fresh database: after
the sync the board lists exactly the holders a person reading the thread would list (computed
here from the scenario's own events, not from the bot), the merged PR's task is completed,
nothing is posted on the historical comments, a re-sync changes nothing, edits and deletions
made meanwhile are handled as the README says, and a new live claim is answered normally."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.rules.models import ClaimPolicy, Rules
from bot.runtime.sync import Syncer
from tests.conftest import STORE_BACKENDS, make_campaign, make_rules
from tests.harness import Harness

TASKS = 14
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def campaign_rules() -> Rules:
    base = make_rules().tasks[2]  # a docs task in org/docs
    tasks = {i: base.model_copy(update={"id": i, "title": f"Docs task {i}"}) for i in range(1, TASKS + 1)}
    r = make_rules(tasks=tasks, campaign=make_campaign(claim_policy=ClaimPolicy(max_claimants_per_task=1)))
    return Rules(campaigns={"h9": r})


# The thread as people wrote it: (author, text, meaning). The meaning is what a person reading the
# thread understands; the expectation is computed from it, the bot only reads the text.
HISTORY: list[tuple[str, str, tuple]] = [
    ("alice", "【报名】：1", ("claim", (1,))),
    ("bob", "【报名】：2、3", ("claim", (2, 3))),
    ("carol", "Hello, how do I start?", ("chatter",)),
    ("dave", "【报名】：1", ("claim", (1,))),  # alice was first: refused
    ("erin", "claim No.4", ("claim", (4,))),
    ("bob", "【取消报名】：3", ("release", (3,))),
    ("frank", "【报名】：3", ("claim", (3,))),
    ("boss", "/assign @gina 5", ("assign", "gina", (5,))),
    ("gina", "Thanks!", ("chatter",)),
    ("heidi", "【提交】：6", ("claim", (6,))),  # a submission report on a free task claims it
    ("alice", "Quoting the rules:\n```\n【报名】：7\n```", ("chatter",)),  # code is never a claim
    ("ivan", "【报名】：8", ("claim", (8,))),
    ("judy", "【报名】：9", ("claim", (9,))),
    ("mallory", "/assign @mallory 10", ("chatter",)),  # not a maintainer: refused
    ("ken", "【报名】：11", ("claim", (11,))),
] + [(f"fan{i}", "+1, looking forward to it", ("chatter",)) for i in range(25)]
assert len(HISTORY) == 40
PULLS = [  # (number, author, title, merged, state)
    (50, "erin", "【Hackathon 9th No.4】docs for task 4", True, "closed"),
    (51, "leo", "【Hackathon 9th No.12】docs for task 12", False, "open"),  # an unclaimed free task: the PR claims it
]


def expected_holders() -> dict[int, set[str]]:
    holders: dict[int, set[str]] = {}
    for author, _, meaning in HISTORY:
        match meaning:
            case ("claim", tasks):
                for t in tasks:
                    if not holders.get(t):  # one claimant per task: the first one holds it
                        holders[t] = {author}
            case ("release", tasks):
                for t in tasks:
                    holders.get(t, set()).discard(author)
            case ("assign", user, tasks):
                for t in tasks:
                    holders.setdefault(t, set()).add(user)
    for _, author, title, _, _ in PULLS:
        t = int(re.search(r"No\.(\d+)", title).group(1))
        if not holders.get(t):
            holders.setdefault(t, set()).add(author)
    return {t: u for t, u in holders.items() if u}


def board_rows(tracker: str) -> dict[int, set[str]]:
    rows = {}
    for line in tracker.splitlines():
        m = re.match(r"^\|\s*(\d+)\s*\|", line)
        if m and int(m.group(1)) <= TASKS:
            names = set(re.findall(r"@([A-Za-z0-9-]+)", line))
            if names:
                rows[int(m.group(1))] = names
    return rows


def seed(h: Harness) -> dict[str, int]:
    ids = {}
    for i, (author, text, _) in enumerate(HISTORY):
        c = h.gh.add_comment("org/Paddle", 100, text, user=author, created_at=iso(BASE + timedelta(minutes=i)))
        ids.setdefault(author, c["id"])
    h.gh.set_permission("org/Paddle", "mallory", "read")
    for k, (number, author, title, merged, state) in enumerate(PULLS):
        h.gh.add_pull("org/docs", number, title=title, user=author, files=["docs/api/x.md"], merged=merged, state=state)
        h.gh.set_times(
            "org/docs", number, created_at=iso(BASE + timedelta(minutes=50 + k)), updated_at=iso(BASE + timedelta(minutes=90 + k))
        )
    return ids


@pytest.fixture(params=STORE_BACKENDS)
async def bot(request, tmp_path):
    async with Harness(campaign_rules(), tmp_path, backend=request.param) as h:
        yield h


def writes(h: Harness, since: int) -> list[str]:
    return [f"{r.method} {r.path}" for r in h.gh.requests[since:] if r.method != "GET" and "/access_tokens" not in r.path]


async def test_adopting_a_running_campaign_reads_the_thread_like_a_person(bot):
    ids = seed(bot)
    lines: list[str] = []
    report = await Syncer(bot.pipeline, out=lines.append).sync(["h9"])
    await bot.settle()

    expected = expected_holders()
    assert board_rows(bot.tracker()) == expected
    state = await bot.store.state("h9")
    assert {t: {c.user for c in state.claims_on(t)} for t in range(1, TASKS + 1) if state.claims_on(t)} == expected
    [done] = state.claims_on(4)
    assert (done.user, done.stage.value) == ("erin", "completed")  # the merged PR
    [alice] = state.claims_of("alice")
    assert alice.claimed_at == BASE  # the claim keeps the comment's time
    # quiet: nothing posted on the historical comments; the open PR got its checklist, the merged one nothing
    assert bot.bot_comments() == []
    assert len(bot.bot_comments("org/docs", 51)) == 1 and bot.bot_comments("org/docs", 50) == []
    assert (report.comments_read, report.prs_matched) == (40, 2)
    assert report.claims_recorded == sum(len(u) for u in expected.values())
    assert report.api_calls > 0 and lines[-1] == report.summary()

    # A re-sync changes nothing and writes nothing.
    mark = len(bot.gh.requests)
    again = await Syncer(bot.pipeline, out=lines.append).sync(["h9"])
    await bot.settle()
    assert writes(bot, mark) == []
    assert again.claims_recorded == 0 and await bot.store.state("h9") == state

    # While the bot is away: ivan edits his claim to add task 7, frank deletes his comment.
    bot.gh.edit_comment(ids["ivan"], "【报名】：8\n【报名】：7", updated_at=iso(datetime.now(UTC) + timedelta(seconds=1)))
    bot.gh.delete_comment(ids["frank"])
    third = await Syncer(bot.pipeline, out=lines.append).sync(["h9"])
    await bot.settle()
    # only what changed since the last sync: the edit, and the newest comment already read (`since`
    # is inclusive: a comment updated in the same second as the mark is read again, and skipped)
    assert third.comments_read == 2 and third.already_applied >= 1
    state = await bot.store.state("h9")
    assert sorted(c.task for c in state.claims_of("ivan")) == [7, 8]
    assert [c.user for c in state.claims_on(3)] == ["frank"]  # a deleted comment changes nothing
    assert bot.bot_comments() == []

    # A new live claim afterwards is answered normally.
    await bot.comment("【报名】：13", user="zoe")
    await bot.settle()
    [reply] = bot.bot_comments()
    assert "@zoe" in reply["body"]
    assert board_rows(bot.tracker())[13] == {"zoe"}
