"""Where everyone stands (issue 22): points, the leaderboard, a person's page, `/mine`, credit withdrawn
for work a maintainer marks invalid.

The pure parts are tested directly (points, ranking, ties, split, partial); the `e2e-standing` scenario
runs the real bot against the fake GitHub. Every figure the bot shows is compared with what the store
holds (claims, PRs, history), worked out here again from the rules, never with copied output."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.core.actions import PutClaim, PutPull, Reply, apply_changes
from bot.core.commands import Verb, parse_comment, render_command
from bot.core.decide import CommentFacts, PullFacts, Withdrawal, decide_comment, decide_pull
from bot.core.model import STAGE_RANK, CampaignState, Claim, PrState, PullRequest, Stage, StageEvent
from bot.core.report import build_report
from bot.core.report import to_json as report_json
from bot.core.review import CHECKLIST_MARKER, managed_labels
from bot.core.standing import (
    build_standings,
    format_points,
    points_unit,
    read_reward,
    task_points,
)
from bot.core.titles import parse_title
from bot.rules.models import Rules, Target, Task
from tests import browser, payloads
from tests.conftest import STORE_BACKENDS, make_campaign, make_rules
from tests.harness import Harness

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def claim(task: int, user: str, stage: Stage = Stage.CLAIMED, when: datetime | None = None) -> Claim:
    return Claim("h9", task, user, stage, when or at(1))


def state_of(*claims: Claim, prs: tuple[PullRequest, ...] = ()) -> CampaignState:
    return CampaignState(claims=tuple(claims), prs=prs)


def task(tid: int, track: str, reward=None, difficulty: str | None = None) -> Task:
    repo = "org/Paddle" if track == "framework" else "org/docs"
    return Task(
        id=tid,
        title=f"{track.title()} task {tid}",
        track=track,
        reward=reward,
        difficulty=difficulty,
        targets=[Target(repo=repo, paths=[f"t{tid}/**"])],
    )


def rules_with(rewards: dict[int, object] | None = None, **campaign):
    """Six tasks in two tracks (odd: framework in org/Paddle, even: docs in org/docs)."""
    rewards = rewards or {}
    tasks = {t: task(t, "framework" if t % 2 else "docs", rewards.get(t), "基础" if t <= 3 else "进阶") for t in range(1, 7)}
    return make_rules(campaign=make_campaign(**campaign), tasks=tasks)


# ---- points ---------------------------------------------------------------------------------------
def test_a_reward_reads_as_a_number_with_an_optional_unit():
    assert read_reward(500).amount == 500 and read_reward(500).unit == ""
    assert read_reward(0.1).amount == Decimal("0.1")
    assert (read_reward("0.1🌟").amount, read_reward("0.1🌟").unit) == (Decimal("0.1"), "🌟")
    assert (read_reward(" 300 元 ").amount, read_reward(" 300 元 ").unit) == (Decimal(300), "元")
    for bad in ("a T-shirt", "3-5", "100+", "1/2", "", "🌟", "-3", -3, float("nan"), True, None, "1,000"):
        assert read_reward(bad) is None, bad


def test_task_points_are_the_reward_else_the_difficulty_else_one():
    rules = rules_with({1: 5, 2: "0.5🌟", 3: "a mug"}, points={"基础": 2, "进阶": 3})
    assert [task_points(rules, rules.tasks[t]) for t in range(1, 7)] == [5, Decimal("0.5"), 2, 3, 3, 3]
    plain = rules_with({3: "a mug"})
    assert task_points(plain, plain.tasks[3]) == 1 and task_points(plain, plain.tasks[5]) == 1


def test_the_unit_is_given_only_when_every_task_earns_in_it():
    assert points_unit(rules_with(dict.fromkeys(range(1, 7), "0.1🌟"))) == "🌟"
    assert points_unit(rules_with({**dict.fromkeys(range(1, 6), "0.1🌟"), 6: 1})) is None  # one plain number
    assert points_unit(rules_with({1: "0.1🌟"})) is None  # the others earn plain points
    assert points_unit(rules_with(dict.fromkeys(range(1, 7), 2))) is None


def test_completed_earns_the_points_partly_done_half_or_what_the_campaign_says():
    rules = rules_with({1: 4, 2: 6})
    st = state_of(claim(1, "ann", Stage.COMPLETED), claim(2, "ann", Stage.PARTLY_DONE), claim(3, "ann", Stage.SUBMITTED))
    ann = build_standings(rules, st).person("ANN")
    assert ann is not None and ann.points == 4 + 6 / 2
    assert (ann.completed, ann.partly_done, ann.in_progress) == (1, 1, 1)
    assert [h.points for h in ann.tasks] == [4, 3, 0]
    quarter = rules_with({1: 4, 2: 6}, partial=0.25)
    assert build_standings(quarter, st).person("ann").points == Decimal("5.5")


def test_several_credited_people_each_earn_the_points_unless_split():
    st = state_of(claim(1, "ann", Stage.COMPLETED), claim(1, "bo", Stage.COMPLETED), claim(1, "cy", Stage.PARTLY_DONE))
    each = build_standings(rules_with({1: 3}), st)
    assert [(s.login, s.points) for s in each.leaderboard] == [("ann", 3), ("bo", 3), ("cy", Decimal("1.5"))]
    split = build_standings(rules_with({1: 3}, split=True), st)
    assert [(s.login, s.points) for s in split.leaderboard] == [("ann", 1), ("bo", 1), ("cy", Decimal("0.5"))]
    thirds = build_standings(rules_with({1: 1}, split=True), state_of(*(claim(1, u, Stage.COMPLETED) for u in "xyz")))
    assert {s.points for s in thirds.leaderboard} == {Decimal("0.3333")}  # rounded to 4 places, so ties stay ties
    assert len({s.rank for s in thirds.leaderboard}) == 1


def test_ties_go_to_whoever_reached_their_points_first():
    rules = rules_with()
    st = state_of(
        claim(1, "late", Stage.COMPLETED, at(1)),
        claim(2, "early", Stage.COMPLETED, at(2)),
        claim(3, "none", Stage.SUBMITTED, at(1)),
        claim(4, "zero", Stage.CLAIMED, at(1)),
    )
    history = [
        StageEvent(at(1), 1, "late", Stage.CLAIMED),
        StageEvent(at(9), 1, "late", Stage.COMPLETED),
        StageEvent(at(2), 2, "early", Stage.CLAIMED),
        StageEvent(at(5), 2, "early", Stage.COMPLETED),
    ]
    s = build_standings(rules, st, history)
    assert [(p.login, p.rank) for p in s.leaderboard] == [("early", 1), ("late", 2), ("none", 3), ("zero", 3)]
    assert s.person("early").reached_at == at(5) and s.person("zero").reached_at is None
    # without the history, a claim counts from its claim: late claimed first
    assert [p.login for p in build_standings(rules, st).leaderboard][:2] == ["late", "early"]
    # the same moment: the same rank, the next one skipped (1, 1, 3)
    same = state_of(claim(1, "a", Stage.COMPLETED), claim(2, "b", Stage.COMPLETED), claim(3, "c", Stage.PARTLY_DONE))
    assert [p.rank for p in build_standings(rules, same).leaderboard] == [1, 1, 3]


def test_people_with_only_uncredited_prs_have_a_page_but_no_rank():
    rules = rules_with()
    pr = PullRequest(
        "h9", "org/Paddle", 9, "drive-by", "t", (1, 99), "code", PrState.OPEN, "https://github.com/org/Paddle/pull/9"
    )
    s = build_standings(rules, state_of(claim(1, "ann"), prs=(pr,)))
    other = s.person("drive-by")
    assert other is not None and other.rank is None and [h.task for h in other.tasks] == [1] and other.tasks[0].prs == (pr,)
    assert [p.login for p in s.leaderboard] == ["ann"] and s.person("nobody") is None


def test_format_points_has_no_exponent_and_no_trailing_zeros():
    assert [format_points(Decimal(x)) for x in ("100", "2.5000", "0.0500", "1E+2")] == ["100", "2.5", "0.05", "100"]


# ---- /mine: the command and the reply -----------------------------------------------------------------
@pytest.mark.parametrize("text", ["/mine", "【我的任务】", "[我的任务]：", "my tasks", "My tasks?", "@hackathon-bot my tasks"])
def test_mine_has_three_forms(text):
    assert parse_comment(text, bot_login="hackathon-bot").commands[0].action is Verb.MINE


@pytest.mark.parametrize("text", ["I released my tasks", "```\n/mine\n```", "> /mine", "`/mine`", "<!-- /mine -->"])
def test_mine_in_prose_code_or_quotes_is_no_command(text):
    assert parse_comment(text).commands == []


def test_mine_renders_and_reads_back():
    [cmd] = parse_comment("/mine").commands
    assert parse_comment(render_command(cmd)).commands == [cmd]


def mine(rules, st, user, *, public_url=None, history=()):
    d = decide_comment(rules, st, CommentFacts("org/Paddle", 100, 77, user, "/mine", history=history, public_url=public_url), NOW)
    assert d.changes == []  # /mine changes nothing
    [reply] = [a for a in d.actions if isinstance(a, Reply)]
    return reply.body


def test_mine_lists_only_the_commenters_tasks_with_points_rank_and_lapse_day():
    rules = rules_with({1: 3})
    st = state_of(
        claim(1, "ann", Stage.COMPLETED),
        claim(2, "ann", Stage.CLAIMED, at(10)),
        claim(2, "bo", Stage.SUBMITTED),
        claim(3, "cy"),
    )
    body = mine(rules, st, "ann")
    standings = build_standings(rules, st)
    ann = standings.person("ann")
    lapse = (at(10) + timedelta(days=rules.campaign.claim_policy.claim_expiry_days)).strftime("%Y-%m-%d")
    assert "No.1" in body and "No.2" in body and "No.3" not in body
    assert "@bo" not in body and "@cy" not in body  # nobody else's claims
    assert f"{format_points(ann.points)} points, rank {ann.rank} of {standings.people}" in body
    assert f"lapses on {lapse}" in body
    assert "/campaigns/" not in body  # no public address: no link
    linked = mine(rules, st, "ann", public_url="https://bot.example.org")
    assert "https://bot.example.org/campaigns/h9/people/ann" in linked


def test_mine_from_someone_with_nothing_says_how_to_claim():
    body = mine(rules_with(), state_of(claim(1, "ann")), "newcomer")
    assert "You hold no task" in body and "claim 1" in body and "@ann" not in body
    zh = mine(rules_with(language="zh"), state_of(claim(1, "ann")), "newcomer")
    assert "还没有任务" in zh and "【报名】：1" in zh


# ---- credit withdrawn -----------------------------------------------------------------------------------
def pull_facts(number: int, title: str, author: str, *, merged: bool, labels=()) -> PullFacts:
    return PullFacts(
        repo="org/Paddle",
        number=number,
        title=title,
        body="",
        author=author,
        state="closed" if merged else "open",
        merged=merged,
        url=f"https://github.com/org/Paddle/pull/{number}",
        labels=tuple(labels),
        ref=parse_title(title, ["Hackathon 9th"]),
        head_sha="" if merged else "abc",
    )


def test_a_withdrawn_pr_credits_nobody_until_the_mark_is_taken_off():
    rules = rules_with({1: 2})
    merged = pull_facts(7, "【Hackathon 9th No.1】x", "ann", merged=True)
    st = apply_changes(CampaignState(), decide_pull(rules, CampaignState(), merged, [], NOW).changes)
    assert st.claim(1, "ann").stage == Stage.COMPLETED
    d = decide_pull(rules, st, replace(merged, labels=("invalid",)), [], NOW, Withdrawal(True, "boss"))
    withdrawn = apply_changes(st, d.changes)
    assert withdrawn.claim(1, "ann").stage == Stage.CLAIMED and withdrawn.prs[0].withdrawn_by == "boss"
    assert build_standings(rules, withdrawn).person("ann").points == 0
    assert report_json(build_report(rules, withdrawn))["people"] == []
    # a later delivery of the PR (its payload still lists the label, or not) changes nothing on its own
    for labels in (("invalid",), ()):
        again = decide_pull(rules, withdrawn, replace(merged, labels=labels), [], NOW)
        assert not [c for c in again.changes if not (isinstance(c, PutPull) and c.pr == withdrawn.prs[0])]
    back = apply_changes(withdrawn, decide_pull(rules, withdrawn, merged, [], NOW, Withdrawal(False, "boss")).changes)
    assert back.claim(1, "ann").stage == Stage.COMPLETED and back.prs[0].withdrawn_by is None
    assert build_standings(rules, back).person("ann").points == 2


def test_an_open_withdrawn_pr_gets_a_neutral_check_run_saying_why():
    rules = rules_with()
    opened = pull_facts(8, "【Hackathon 9th No.1】x", "ann", merged=False)
    d = decide_pull(rules, CampaignState(), opened, [], NOW, Withdrawal(True, "boss"))
    [run] = [a for a in d.actions if type(a).__name__ == "CheckRun"]
    assert run.conclusion == "neutral" and "marked invalid" in run.title.lower()
    assert "@boss" in run.summary and "ready" not in [a for a in d.actions if type(a).__name__ == "SetLabels"][0].labels
    assert not [c for c in d.changes if isinstance(c, PutClaim)]  # no credit, not even a claim


def test_the_invalid_label_is_never_one_the_bot_manages():
    rules = rules_with()
    assert "invalid" not in managed_labels(rules) and "spam" not in managed_labels(rules)


# ---- e2e-standing ---------------------------------------------------------------------------------------
REWARDS = {3: 5, 4: 1, 6: 1}


def e2e_rules() -> Rules:
    return Rules(campaigns={"h9": rules_with(REWARDS)})


def expected_points(rules, state: CampaignState) -> dict[str, Decimal]:
    """Points worked out again from the store's claims: completed tasks' rewards (1 without one), half for partly done."""
    out: dict[str, Decimal] = {}
    for c in state.claims:
        reward = rules.tasks[c.task].reward
        value = Decimal(str(reward)) if reward is not None else Decimal(1)
        share = {Stage.COMPLETED: value, Stage.PARTLY_DONE: value / 2}.get(c.stage, Decimal(0))
        out[c.user] = out.get(c.user, Decimal(0)) + share
    return out


def track_figures(rules, state: CampaignState) -> dict[str, tuple[int, int, int, int]]:
    """Per track from the store: tasks, claimed, submitted, completed."""
    out = {}
    for track in sorted({t.track for t in rules.tasks.values()}):
        ids = [t.id for t in rules.tasks.values() if t.track == track]
        best = {tid: max((STAGE_RANK[c.stage] for c in state.claims_on(tid)), default=None) for tid in ids}
        ranks = [r for r in best.values() if r is not None]
        out[track] = (
            len(ids),
            len(ranks),
            sum(r >= STAGE_RANK[Stage.RFC_SUBMITTED] for r in ranks),
            sum(r == STAGE_RANK[Stage.COMPLETED] for r in ranks),
        )
    return out


async def get_json(h: Harness, path: str) -> tuple[int, dict | None]:
    async with h.session.get(h.url + path) as resp:
        return resp.status, (await resp.json() if resp.status == 200 else None)


async def get_text(h: Harness, path: str) -> tuple[int, str]:
    async with h.session.get(h.url + path) as resp:
        return resp.status, await resp.text()


async def open_and_merge(h: Harness, number: int, tid: int, user: str) -> None:
    repo = "org/Paddle" if tid % 2 else "org/docs"
    await h.pull_request("opened", number, repo=repo, title=f"【Hackathon 9th No.{tid}】work", user=user, files=[f"t{tid}/a.py"])
    await h.settle()
    await h.pull_request("closed", number, repo=repo, merged=True, state="closed")
    await h.settle()


async def label(h: Harness, number: int, name: str, sender: str, *, repo: str = "org/docs", on: bool = True) -> None:
    """Someone puts a label on a PR (or takes it off) on the fake GitHub, then the webhook arrives."""
    issue = h.gh._get_issue(repo, number)
    if on and name not in issue.labels:
        issue.labels.append(name)
    elif not on and name in issue.labels:
        issue.labels.remove(name)
    pr = h.gh.pull(repo, number)
    p = payloads.pull_request(
        "labeled" if on else "unlabeled",
        repo=repo,
        number=number,
        title=pr["title"],
        user=pr["user"]["login"],
        merged=pr["merged"],
        state=pr["state"],
        head_sha=pr["head"]["sha"],
        sender=sender,
    )
    p["pull_request"]["labels"] = pr["labels"]
    p["label"] = {"name": name}
    status, _ = await h.post("pull_request", p)
    assert status == 202
    await h.settle()


def board_tracks(body: str) -> dict[str, tuple[int, int, int, int]]:
    rows = re.findall(r"^\| (\w+) \| (\d+) \| (\d+) \(\d+%\) \| (\d+) \(\d+%\) \| (\d+) \(\d+%\) \|$", body, re.MULTILINE)
    return {name: tuple(map(int, n)) for name, *n in rows}


def completed_by(body: str, tid: int) -> str:
    [row] = [line for line in body.splitlines() if line.startswith(f"| {tid} |")]
    return row.split("|")[-2]  # the last cell: who completed the task


async def assert_leaderboard_is_the_stores(h: Harness, rules) -> list[dict]:
    state = await h.store.state("h9")
    want = expected_points(rules, state)
    _, data = await get_json(h, "/campaigns/h9.json")
    board = data["leaderboard"]
    assert {p["login"]: Decimal(str(p["points"])) for p in board} == want
    assert [Decimal(str(p["points"])) for p in board] == sorted(want.values(), reverse=True)
    for p in board:
        mine = [c for c in state.claims_of(p["login"])]
        assert p["completed"] == sum(c.stage == Stage.COMPLETED for c in mine)
        assert p["in_progress"] == sum(c.stage not in (Stage.COMPLETED, Stage.PARTLY_DONE) for c in mine)
        assert p["unit"] is None and isinstance(p["rank"], int)
    return board


@pytest.mark.parametrize("backend", STORE_BACKENDS)
async def test_e2e_standing(tmp_path, backend):
    rules_all = e2e_rules()
    rules = rules_all.campaigns["h9"]
    async with Harness(rules_all, tmp_path, backend=backend) as h:
        h.gh.set_permission("org/docs", "mallory", "triage")
        await h.comment("【报名】：2、4", user="alice")
        await h.comment("【报名】：3", user="uma")
        await h.comment("claim 6", user="ben")
        await h.settle()
        await open_and_merge(h, 31, 3, "uma")
        await open_and_merge(h, 32, 4, "ben")  # task 4 has room for a second person: the PR is ben's claim
        await open_and_merge(h, 33, 6, "ben")

        # the leaderboard: uma's reward of 5 above ben's two rewards of 1
        board = await assert_leaderboard_is_the_stores(h, rules)
        state = await h.store.state("h9")
        assert [p["login"] for p in board][:2] == ["uma", "ben"]
        assert [p["rank"] for p in board] == [1, 2, 3]

        # /mine: alice's tasks 2 and 4 with the day her claims lapse, her points and rank; nobody else's
        await h.comment("/mine", user="alice")
        await h.settle()
        reply = h.replies()[-1]["body"]
        mine_ = sorted(state.claims_of("alice"), key=lambda c: c.task)
        assert [c.task for c in mine_] == [2, 4]
        for c in mine_:
            lapse = (c.claimed_at + timedelta(days=rules.campaign.claim_policy.claim_expiry_days)).strftime("%Y-%m-%d")
            assert f"No.{c.task} " in reply and f"lapses on {lapse}" in reply
        alice = next(p for p in board if p["login"] == "alice")
        assert f"{alice['points']} points, rank {alice['rank']} of {len(board)}" in reply
        assert "@ben" not in reply and "@uma" not in reply and "No.3" not in reply and "No.6" not in reply

        # with a public address, /mine (here on a PR, where only slash lines count) links to the page
        h.pipeline.router.public_url = "https://bot.example.org"
        cid = h.gh.add_comment("org/docs", 33, "/mine", user="ben")["id"]
        p = payloads.issue_comment(
            "created", repo="org/docs", issue_number=33, comment_id=cid, body="/mine", user="ben", is_pull=True
        )
        await h.post("issue_comment", p)
        await h.settle()
        [ben_reply] = [r["body"] for r in h.replies("org/docs", 33) if "Your tasks" in r["body"]]
        assert "https://bot.example.org/campaigns/h9/people/ben" in ben_reply
        assert "No.4" in ben_reply and "No.6" in ben_reply and "@alice" not in ben_reply

        # alice's page names her tasks; an unknown login is a 404
        status, html = await get_text(h, "/campaigns/h9/people/alice")
        assert status == 200 and 'name="viewport"' in html
        assert [int(t) for t in re.findall(r'data-task="(\d+)"', html)] == [c.task for c in mine_]
        assert re.findall(r'data-lapses="([\d-]+)"', html) == [
            (c.claimed_at + timedelta(days=14)).strftime("%Y-%m-%d") for c in mine_
        ]
        status, person = await get_json(h, "/campaigns/h9/people/Alice.json")
        assert status == 200 and person["login"] == "alice" and person["rank"] == alice["rank"]
        assert [(t["id"], t["stage"]) for t in person["tasks"]] == [(c.task, c.stage.value) for c in mine_]
        assert (await get_text(h, "/campaigns/h9/people/nobody-here"))[0] == 404
        assert (await get_json(h, "/campaigns/h9/people/nobody-here.json"))[0] == 404

        # a label from someone without write permission changes nothing (and stays where they put it)
        before = await h.store.state("h9")
        await label(h, 33, "invalid", "mallory")
        assert await h.store.state("h9") == before and "invalid" in h.gh.labels("org/docs", 33)
        await label(h, 33, "invalid", "mallory", on=False)

        # a maintainer's invalid label on ben's merged PR for task 6: its completion leaves the board,
        # ben keeps task 4's point
        tracker_before = h.tracker()
        assert "@ben" in completed_by(tracker_before, 6)
        await label(h, 33, "invalid", "boss")
        state = await h.store.state("h9")
        assert next(p for p in state.prs if p.number == 33).withdrawn_by == "boss"
        assert state.claim(6, "ben").stage != Stage.COMPLETED
        board = await assert_leaderboard_is_the_stores(h, rules)
        ben = next(p for p in board if p["login"] == "ben")
        assert Decimal(str(ben["points"])) == Decimal(str(rules.tasks[4].reward))
        assert "invalid" in h.gh.labels("org/docs", 33)  # the bot leaves the maintainer's label alone
        await h.settle()
        body = h.tracker()
        assert "@ben" not in completed_by(body, 6)
        assert board_tracks(body) == track_figures(rules, state)
        _, csv_text = await get_text(h, "/campaigns/h9/report.csv")
        assert not [line for line in csv_text.splitlines() if line.startswith("ben,6,")]
        checklist = next(c["body"] for c in h.bot_comments("org/docs", 33) if c["body"].startswith(CHECKLIST_MARKER))
        assert "@boss" in checklist and "invalid" in checklist

        # a later delivery of the PR (an edit; its payload still lists the label) changes nothing on its own
        await h.pull_request("edited", 33, repo="org/docs", title="【Hackathon 9th No.6】work, edited")
        await h.settle()
        assert (await h.store.state("h9")).claim(6, "ben").stage == state.claim(6, "ben").stage

        # taking the label off gives the credit back
        await label(h, 33, "invalid", "boss", on=False)
        state = await h.store.state("h9")
        assert state.claim(6, "ben").stage == Stage.COMPLETED
        await assert_leaderboard_is_the_stores(h, rules)
        await h.settle()
        assert "@ben" in completed_by(h.tracker(), 6)

        # per-track figures: on the board, in the JSON and on the page, as the store has them
        want = track_figures(rules, state)
        assert board_tracks(h.tracker()) == want
        _, data = await get_json(h, "/campaigns/h9.json")
        for t in data["tracks"]:
            assert (t["tasks"], t["claimed"], t["submitted"], t["completed"]) == want[t["name"]]
            assert t["completed_rate"] == round(100 * want[t["name"]][3] / want[t["name"]][0], 1)
        _, page = await get_text(h, "/campaigns/h9")
        for name, (tasks, claimed, submitted, completed) in want.items():
            row = re.search(rf'<tr data-track="{name}"><td>{name}</td>(.*?)</tr>', page).group(1)
            assert [int(n) for n in re.findall(r'<td class="num">(\d+)', row)] == [tasks, claimed, submitted, completed]


async def test_a_spam_label_on_an_open_pr_makes_its_check_neutral(tmp_path):
    async with Harness(e2e_rules(), tmp_path) as h:
        h.gh.add_pull("org/Paddle", 40, title="【Hackathon 9th No.1】spam", user="spammer", files=["t1/a.py"])
        await h.pull_request("opened", 40)
        await h.settle()
        first = h.gh.check_runs("org/Paddle")[-1]
        assert first["conclusion"] != "neutral"
        assert (await h.store.state("h9")).claim(1, "spammer") is not None
        await label(h, 40, "spam", "boss", repo="org/Paddle")
        run = h.gh.check_runs("org/Paddle")[-1]
        assert run["conclusion"] == "neutral" and "invalid" in run["output"]["title"]
        assert "@boss" in run["output"]["summary"]
        state = await h.store.state("h9")
        assert state.claim(1, "spammer").stage == Stage.CLAIMED  # the PR's credit withdrawn


# ---- the JSON shapes docs/dashboard.md documents ----------------------------------------------------------
DOC = Path(__file__).resolve().parent.parent / "docs" / "dashboard.md"


def documented() -> tuple[dict, dict]:
    """The JSON examples of docs/dashboard.md: the campaign's, then a person's."""
    campaign, person = [json.loads(b) for b in re.findall(r"```json\n(.*?)\n```", DOC.read_text(), re.DOTALL)]
    return campaign, person


def same_shape(doc, real, where: str = "$") -> None:
    """`real` has exactly the documented keys, with values of the documented types (null in either matches:
    the document says which fields may be null); lists are compared by their first items."""
    if doc is None or real is None:
        return
    if isinstance(doc, dict):
        assert isinstance(real, dict) and set(real) == set(doc), f"{where}: keys {sorted(real)} vs documented {sorted(doc)}"
        for key in doc:
            same_shape(doc[key], real[key], f"{where}.{key}")
    elif isinstance(doc, list):
        assert isinstance(real, list), where
        if doc and real:
            same_shape(doc[0], real[0], where + "[0]")
    elif isinstance(doc, bool):
        assert isinstance(real, bool), where
    elif isinstance(doc, (int, float)):
        assert isinstance(real, (int, float)) and not isinstance(real, bool), f"{where}: {real!r} is no number"
    else:
        assert type(real) is type(doc), f"{where}: {type(real).__name__} vs documented {type(doc).__name__}"


def test_the_json_is_shaped_as_docs_dashboard_md_says():
    from bot.core.dashboard import build_dashboard, person_json, to_json
    from bot.core.review import task_url

    rules = rules_with({1: 2})
    pr = PullRequest("h9", "org/Paddle", 7, "ann", "t", (1,), "code", PrState.MERGED, "https://github.com/org/Paddle/pull/7")
    st = state_of(claim(1, "ann", Stage.COMPLETED), claim(2, "ann", Stage.PARTLY_DONE), claim(3, "ann"), prs=(pr,))
    history = [StageEvent(at(1), 1, "ann", Stage.CLAIMED), StageEvent(at(2), 1, "ann", Stage.COMPLETED)]
    d = build_dashboard(rules, st, history, NOW)
    campaign_doc, person_doc = documented()
    real = json.loads(json.dumps(to_json(d)))  # as served
    same_shape(campaign_doc, real)
    assert real["leaderboard"] and real["tracks"] and real["tasks"][0]["holders"][0]["prs"]
    ann = d.standings.person("ann")
    urls = {h.task: task_url(rules, rules.tasks[h.task]) for h in ann.tasks}
    real_person = json.loads(json.dumps(person_json(d, ann, urls)))
    same_shape(person_doc, real_person)
    assert real_person["tasks"][0]["prs"] and real_person["tasks"][-1]["lapses_at"]


@pytest.mark.skipif(not browser.available(), reason="needs /usr/bin/chromium (.ci/run installs it)")
async def test_a_persons_page_reads_on_a_phone(tmp_path):
    async with Harness(e2e_rules(), tmp_path) as h, browser.Browser() as b:
        await h.comment("【报名】：2、4、6", user="a-participant-with-a-rather-long-login")
        await h.settle()
        await open_and_merge(h, 31, 3, "a-participant-with-a-rather-long-login")
        login = "a-participant-with-a-rather-long-login"
        state = await h.store.state("h9")
        page = await b.open(f"{h.url}/campaigns/h9/people/{login}", 390, 844, mobile=True)
        got = await page.eval(
            """(() => ({tasks: Array.from(document.querySelectorAll('ul.mine li')).map(l => Number(l.dataset.task)),
                 points: document.querySelector('[data-person=points]').textContent,
                 overflow: document.documentElement.scrollWidth > window.innerWidth + 1}))()"""
        )
        assert got["tasks"] == sorted(c.task for c in state.claims_of(login))
        assert got["points"] == format_points(expected_points(e2e_rules().campaigns["h9"], state)[login])
        assert not got["overflow"], "the page scrolls sideways on a phone"
        assert page.errors == []
        await page.close()


def test_rules_check_warns_of_a_reward_that_is_no_number_and_of_points_for_no_difficulty(tmp_path):
    from bot.rules.check import check

    root = tmp_path / "rules" / "c"
    root.mkdir(parents=True)
    (root / "campaign.yml").write_text(
        "name: Test\nkey: Hackathon 9th\ntracker: o/r#1\nrepos: [o/r]\npoints: {基础: 2, 史诗: 9}\npartial: 0.25\nsplit: true\n"
    )
    target = "targets:\n  - repo: o/r\n    paths: [x/**]\n"
    (root / "007.yml").write_text(f"id: 7\ntitle: Seven\ndifficulty: 基础\nreward: a T-shirt\n{target}")
    (root / "008.yml").write_text(f"id: 8\ntitle: Eight\nreward: 0.1🌟\n{target}")
    found = [(p.file.rsplit("/", 1)[-1], p.line, p.field, p.severity, p.message) for p in check(tmp_path / "rules")]
    assert [f[:4] for f in found] == [("campaign.yml", 5, "points.史诗", "warning"), ("007.yml", 4, "reward", "warning")]
    assert "'a T-shirt' is not a number" in found[1][4] and "earns 2 point(s)" in found[1][4]


def test_mine_on_a_task_issue_is_the_same_answer_and_claims_nothing():
    rules = rules_with()
    st = state_of(claim(2, "ann"), claim(1, "bo"))
    on_tracker = decide_comment(rules, st, CommentFacts("org/Paddle", 100, 5, "ann", "【我的任务】"), NOW)
    on_issue = decide_comment(rules, st, CommentFacts("org/Paddle", 201, 5, "ann", "/mine", task_issue=rules.tasks[1]), NOW)
    assert on_issue.changes == [] and on_tracker.changes == []
    [a], [b] = on_tracker.actions, [x for x in on_issue.actions if isinstance(x, Reply)]
    assert a.body.split("\n", 1)[1] == b.body.split("\n", 1)[1] and "No.2" in a.body and "No.1" not in a.body
