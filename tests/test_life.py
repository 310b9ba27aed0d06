"""A campaign's whole life, as people see it: claims that tell when they lapse, one reminder, one
lapse notice, renewals, closing the campaign with its results, and replies that read as sentences."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest

from bot.core.actions import (
    BoardChange,
    DropClaim,
    Notice,
    PutClaim,
    Reply,
    SetCampaignClosed,
    apply_changes,
)
from bot.core.decide import (
    CommentFacts,
    comment_lang,
    decide_comment,
    decide_pull,
    lapse_claims,
)
from bot.core.expiry import lapses_at, remind_at, when
from bot.core.model import CampaignState, Claim, PullRequest, Stage
from bot.core.replies import render_help
from bot.core.report import SCHEMA_PATH, build_report, reward_total, to_csv, to_json
from bot.rules.models import ClaimPolicy
from tests.conftest import STORE_BACKENDS, make_campaign, make_rules, make_tasks
from tests.harness import Harness, ShiftedClock

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)


def comment(body, author="alice", *, maintainer=False, number=100, cid=555):
    return CommentFacts(
        repo="org/Paddle",
        number=number,
        comment_id=cid,
        author=author,
        body=body,
        is_maintainer=maintainer,
        bot_login="hackathon-bot",
    )


def reply_of(decision) -> str:
    [r] = [a for a in decision.actions if isinstance(a, Reply)]
    return r.body


def notices(decision) -> list[Notice]:
    return [a for a in decision.actions if isinstance(a, Notice)]


def rewarded_rules(**campaign):
    tasks = make_tasks()
    tasks[2] = tasks[2].model_copy(update={"reward": "0.1🌟"})
    tasks[3] = tasks[3].model_copy(update={"reward": "0.2🌟"})
    return make_rules(campaign=make_campaign(**campaign), tasks=tasks)


# ---- the expiry, told --------------------------------------------------------------------------------
def test_a_claim_reply_says_when_it_lapses_and_help_states_the_expiry(rules):
    d = decide_comment(rules, CampaignState(), comment("claim 2"), NOW)
    body = reply_of(d)
    assert "lapse after 14 days" in body and f"on {when(NOW + 14 * DAY)}" in body and "2026-03-16" in body
    assert "lapse after 14 days" in render_help(rules, "en") and "/renew 12" in render_help(rules, "en")
    zh = make_rules(campaign=make_campaign(language="zh"))
    assert "14 天内没有 PR 的报名会失效" in render_help(zh, "zh") and "【续期】" in render_help(zh, "zh")
    never = make_rules(campaign=make_campaign(claim_policy=ClaimPolicy()))
    assert "lapse" not in reply_of(decide_comment(never, CampaignState(), comment("claim 2"), NOW))
    assert "lapse" not in render_help(never, "en")


def test_the_reminder_comes_three_days_before_the_lapse_by_default_or_when_configured(rules):
    c = Claim("h9", 2, "bob", Stage.CLAIMED, NOW)
    assert lapses_at(rules, c) == NOW + 14 * DAY and remind_at(rules, c) == NOW + 11 * DAY
    short = make_rules(campaign=make_campaign(claim_policy=ClaimPolicy(claim_expiry_days=4)))
    assert remind_at(short, c) == NOW + 2 * DAY  # half-way through a period under a week
    set_ = make_rules(campaign=make_campaign(claim_policy=ClaimPolicy(claim_expiry_days=14, remind_after_days=7)))
    assert remind_at(set_, c) == NOW + 7 * DAY
    assert lapses_at(rules, replace(c, stage=Stage.SUBMITTED)) is None
    with pytest.raises(ValueError, match="remind_after_days must be less than claim_expiry_days"):
        ClaimPolicy(claim_expiry_days=5, remind_after_days=5)


def test_one_reminder_then_one_lapse_notice_each_naming_people_tasks_and_dates(rules):
    st = CampaignState(
        claims=(
            Claim("h9", 1, "bob", Stage.CLAIMED, NOW),
            Claim("h9", 2, "bob", Stage.CLAIMED, NOW),
            Claim("h9", 3, "carol", Stage.CLAIMED, NOW + DAY),
            Claim("h9", 2, "dora", Stage.SUBMITTED, NOW - 40 * DAY),
        )
    )
    assert lapse_claims(rules, st, NOW + 10 * DAY).changes == []  # nothing due yet: no comment either
    assert lapse_claims(rules, st, NOW + 10 * DAY).actions == []

    d = lapse_claims(rules, st, NOW + 11 * DAY + timedelta(minutes=1))
    assert [(type(c).__name__, c.claim.user, c.claim.task) for c in d.changes] == [("PutClaim", "bob", 1), ("PutClaim", "bob", 2)]
    [n] = notices(d)
    assert (n.repo, n.number) == ("org/Paddle", 100) and n.body.startswith("<!-- hackathon-bot:notice:")
    assert "@bob: No.1, No.2 lapse on 2026-03-16" in n.body and "/renew 1 2" in n.body
    assert "carol" not in n.body and "dora" not in n.body
    st = apply_changes(st, d.changes)
    assert lapse_claims(rules, st, NOW + 11.5 * DAY).changes == []  # reminded once per period: never again
    d = lapse_claims(rules, st, NOW + 12 * DAY + timedelta(minutes=1))  # carol's turn
    assert [c.claim.user for c in d.changes] == ["carol"] and "@carol: No.3 lapses on 2026-03-17" in notices(d)[0].body
    st = apply_changes(st, d.changes)

    d = lapse_claims(rules, st, NOW + 14 * DAY + timedelta(minutes=1))
    assert d.changes == [DropClaim(1, "bob"), DropClaim(2, "bob")] and d.board is BoardChange.MOVED
    [n] = notices(d)
    assert "@bob: your claim on No.1, No.2 (since 2026-03-02) has lapsed" in n.body and "Reminder" not in n.body
    st = apply_changes(st, d.changes)
    assert lapse_claims(rules, st, NOW + 14 * DAY + timedelta(minutes=2)).actions == []
    assert [c.user for c in st.claims] == ["dora", "carol"]  # a claim at a PR stage never lapses


def test_a_crowded_sweep_is_split_into_notices_github_accepts(rules):
    st = CampaignState(
        claims=tuple(
            Claim("h9", 1 + i % 3, f"user-with-a-long-login-{i}", Stage.CLAIMED, NOW - (5 * DAY if i % 2 else 0 * DAY))
            for i in range(250)
        )
    )
    d = lapse_claims(rules, st, NOW + 12 * DAY)
    bodies = [n.body for n in notices(d)]
    assert len(bodies) == 3 and all(len(b) < 65536 for b in bodies)
    assert len({n.key for n in notices(d)}) == 3
    for i in range(250):  # everyone is addressed exactly once
        assert sum(f"@user-with-a-long-login-{i}:" in b for b in bodies) == 1


def test_the_notice_is_in_the_campaigns_language():
    zh = make_rules(campaign=make_campaign(language="zh"))
    st = CampaignState(claims=(Claim("h9", 2, "bob", Stage.CLAIMED, NOW),))
    [n] = notices(lapse_claims(zh, st, NOW + 12 * DAY))
    assert "@bob：No.2 将于 2026-03-16 失效" in n.body and "【续期】：2" in n.body


def test_renew_once_per_period_from_the_reminder_until_the_lapse(rules):
    st = CampaignState(claims=(Claim("h9", 2, "alice", Stage.CLAIMED, NOW), Claim("h9", 3, "alice", Stage.SUBMITTED, NOW)))
    early = decide_comment(rules, st, comment("/renew 2"), NOW + 5 * DAY)
    assert early.changes == [] and "from 2026-03-13" in reply_of(early)
    d = decide_comment(rules, st, comment("【续期】：2"), NOW + 12 * DAY)
    assert d.changes == [PutClaim(replace(st.claim(2, "alice"), renewed_at=NOW + 12 * DAY))]
    assert "Renewed No.2 for another 14 days" in reply_of(d) and "2026-03-28" in reply_of(d)
    st = apply_changes(st, d.changes)
    again = decide_comment(rules, st, comment("/renew 2"), NOW + 13 * DAY)  # same period: refused
    assert again.changes == [] and "once per period" in reply_of(again)
    assert lapse_claims(rules, st, NOW + 20 * DAY).changes == []  # the old lapse date passed: still held
    assert "need" in reply_of(decide_comment(rules, st, comment("/renew 3"), NOW)) and "with a PR never lapses" in reply_of(
        decide_comment(rules, st, comment("/renew 3"), NOW)
    )
    assert "have not claimed No.1" in reply_of(decide_comment(rules, st, comment("/renew 1"), NOW))
    lapsed = decide_comment(rules, st, comment("/renew 2"), NOW + 40 * DAY)
    assert lapsed.changes == [] and "has lapsed" in reply_of(lapsed)


# ---- closing the campaign ----------------------------------------------------------------------------
def _finished_state() -> CampaignState:
    return CampaignState(
        claims=(
            Claim("h9", 2, "alice", Stage.COMPLETED, NOW),
            Claim("h9", 3, "alice", Stage.COMPLETED, NOW),
            Claim("h9", 1, "bob", Stage.CLAIMED, NOW),
        ),
        prs=(
            PullRequest(
                "h9",
                "org/docs",
                5,
                "alice",
                "【Hackathon 9th No.2】docs",
                (2,),
                "code",
                "merged",
                "https://github.com/org/docs/pull/5",
            ),
        ),
    )


def test_close_campaign_refuses_new_claims_posts_the_results_and_reopen_undoes_it():
    rules = rewarded_rules()
    st = _finished_state()
    refused = decide_comment(rules, st, comment("/close-campaign", author="mallory"), NOW)
    assert refused.changes == [] and "only the campaign's maintainers" in reply_of(refused)

    d = decide_comment(rules, st, comment("/close-campaign", author="boss", maintainer=True), NOW)
    assert d.changes == [SetCampaignClosed(NOW)] and d.board is BoardChange.MOVED
    body = reply_of(d)
    assert "The campaign is closed" in body and "Results of Hackathon 9th" in body
    report = build_report(rules, st)
    row = next(line for line in body.splitlines() if "| @alice |" in line)
    assert row.startswith(f"| {report.people[0].rank} | @alice | {report.people[0].points.normalize():f} |")
    for line in report.people[0].lines:  # what the results table says is what the store holds
        assert f"No.{line.task} {line.title} ({line.difficulty}, {line.reward})" in row
    assert row.endswith(f"| {report.people[0].reward} |") and report.people[0].reward == "0.3🌟"
    closed = apply_changes(st, d.changes)

    claim = decide_comment(rules, closed, comment("claim 1", author="zed"), NOW)
    assert claim.changes == [] and "the campaign is closed to new claims" in reply_of(claim)
    assigned = decide_comment(rules, closed, comment("/assign @zed 1", author="boss", maintainer=True), NOW)
    assert assigned.changes  # a maintainer still can
    again = decide_comment(rules, closed, comment("/close-campaign", author="boss", maintainer=True), NOW)
    assert again.changes == [] and "closed since 2026-03-02" in reply_of(again)

    d = decide_comment(rules, closed, comment("/reopen-campaign", author="boss", maintainer=True), NOW)
    assert d.changes == [SetCampaignClosed(None)] and "open again" in reply_of(d)
    assert decide_comment(rules, apply_changes(closed, d.changes), comment("claim 1", author="zed"), NOW).changes


def test_a_task_the_rule_file_marks_reserved_or_closed_takes_no_claims():
    from bot.rules.models import TaskStatus

    tasks = make_tasks()
    tasks[2] = tasks[2].model_copy(update={"status": TaskStatus.reserved})
    rules = make_rules(tasks=tasks)
    d = decide_comment(rules, CampaignState(), comment("claim 2"), NOW)
    assert d.changes == [] and "No.2 is closed to new claims" in reply_of(d)
    assert decide_comment(rules, CampaignState(), comment("/assign @zed 2", author="boss", maintainer=True), NOW).changes


def test_closing_from_a_task_issue_posts_the_results_on_the_tracker():
    rules = rewarded_rules()
    d = decide_comment(rules, _finished_state(), comment("/close-campaign", author="boss", maintainer=True, number=201), NOW)
    [n] = notices(d)
    assert (n.repo, n.number) == ("org/Paddle", 100) and "Results of Hackathon 9th" in n.body
    assert "Results of" not in reply_of(d)


def test_the_results_are_in_the_campaigns_language():
    rules = rewarded_rules(language="zh")
    body = reply_of(decide_comment(rules, _finished_state(), comment("/close-campaign", author="boss", maintainer=True), NOW))
    assert "本活动已结束" in body and "Hackathon 9th 结果" in body and "奖励合计：0.3🌟" in body


def test_the_closed_board_says_so_with_a_final_summary():
    from bot.core.board import render_board

    rules = rewarded_rules()
    st = replace(_finished_state(), closed_at=NOW)
    board = render_board(rules, st, "en")
    assert "This campaign closed on 2026-03-02: final results.** 2 of 3 tasks completed by 1 person" in board
    assert "closed on" not in render_board(rules, _finished_state(), "en")
    assert "本活动已于 2026-03-02 结束" in render_board(rules, st, "zh")


# ---- results and rewards ------------------------------------------------------------------------------
def test_rewards_add_up_only_when_they_share_a_unit():
    assert reward_total(["0.1🌟", "0.2🌟"]) == "0.3🌟"
    assert reward_total(["500", "300"]) == "800"
    assert reward_total(["500", "0.1🌟"]) is None and reward_total(["500", None]) is None and reward_total([]) is None


def test_the_report_json_validates_against_the_shipped_schema_and_csv_lists_author_task_difficulty_reward():
    rules = rewarded_rules()
    st = _finished_state()
    report = build_report(rules, st)
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    data = to_json(report)
    jsonschema.validate(data, schema)
    # points: the rewards as numbers (0.1 + 0.2); no unit, as task 1 has no reward (it would earn 1 plain point)
    assert data["totals"] == {"tasks": 3, "completed_tasks": 2, "people": 1, "reward": "0.3🌟", "points": 0.3, "unit": None}
    assert data["tasks"][0] == {
        "id": 2,
        "title": rules.tasks[2].title,
        "difficulty": rules.tasks[2].difficulty,
        "reward": "0.1🌟",
        "completed_by": ["alice"],
        "partly_done_by": [],
    }
    bad = dict(data, people=[{"user": "x"}])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert [(r["user"], int(r["task"]), r["difficulty"], r["reward"]) for r in rows] == [
        (c.user, c.task, rules.tasks[c.task].difficulty, rules.tasks[c.task].reward)
        for c in st.claims
        if c.stage == Stage.COMPLETED
    ]


# ---- replies people can read -----------------------------------------------------------------------
def test_status_names_the_holders_and_their_stage_in_words(rules):
    st = CampaignState(
        claims=(Claim("h9", 1, "alice", Stage.CLAIMED, NOW), Claim("h9", 1, "bob", Stage.SUBMITTED, NOW)),
        prs=(PullRequest("h9", "org/Paddle", 9, "bob", "t", (1,), "code", "open", "u"),),
    )
    body = reply_of(decide_comment(rules, st, comment("/status 1"), NOW))
    assert "@alice: claimed on 2026-03-02, lapses on 2026-03-16 without a PR" in body
    assert "@bob: PR submitted, in review (PR #9)" in body and "full (2 of 2 places taken)" in body
    assert "[2/2]" not in body


def test_done_says_who_completed_it(rules):
    st = CampaignState(claims=(Claim("h9", 1, "alice", Stage.SUBMITTED, NOW), Claim("h9", 1, "bob", Stage.CLAIMED, NOW)))
    body = reply_of(decide_comment(rules, st, comment("/done 1", author="boss", maintainer=True), NOW))
    assert "Marked No.1 completed by @alice, @bob" in body
    nobody = reply_of(decide_comment(rules, CampaignState(), comment("/done 2", author="boss", maintainer=True), NOW))
    assert "Nobody holds No.2, so nobody was credited" in nobody and "/done 2 @user" in nobody


def test_an_english_comment_on_a_zh_campaign_gets_the_campaigns_language_and_an_english_gloss():
    zh = make_rules(campaign=make_campaign(language="zh"))
    body = reply_of(decide_comment(zh, CampaignState(), comment("claim 2, please"), NOW))
    main, gloss = body.rstrip("\n").rsplit("\n\n", 1)
    assert "已报名 No.2" in main and "\n" not in gloss
    assert gloss.startswith("<sub>In English: ✅ Claimed No.2.") and "lapse after 14 days" in gloss
    # a comment in the campaign's own language: no gloss
    assert "In English" not in reply_of(decide_comment(zh, CampaignState(), comment("【报名】：2"), NOW))
    # configured to answer in the comment's language
    own = make_rules(campaign=make_campaign(language="zh", reply_language="comment"))
    body = reply_of(decide_comment(own, CampaignState(), comment("claim 2, please"), NOW))
    assert "Claimed No.2" in body and "已报名" not in body and "In English" not in body
    # and the other way round: a Chinese comment on an English campaign
    en = make_rules()
    body = reply_of(decide_comment(en, CampaignState(), comment("我想做这个 【报名】：2"), NOW))
    assert "Claimed No.2" in body and "<sub>中文：✅ 已报名 No.2" in body


def test_comment_language_ignores_code_and_numbers():
    assert comment_lang("【报名】：3") == "zh"
    assert comment_lang("I would like to claim No.3") == "en"
    assert comment_lang("3") is None
    assert comment_lang("claim No.3") is None and comment_lang("/done 5 @bob") is None  # commands say nothing
    assert comment_lang("```\n中文\n```\nclaim 3, thanks") == "en"


def test_a_merged_pr_after_closing_still_counts(rules):
    from bot.core.decide import PullFacts
    from bot.core.titles import parse_title

    st = replace(CampaignState(claims=(Claim("h9", 2, "alice", Stage.SUBMITTED, NOW),)), closed_at=NOW)
    title = "【Hackathon 9th No.2】docs"
    facts = PullFacts(
        repo="org/docs",
        number=5,
        title=title,
        body="",
        author="alice",
        state="closed",
        merged=True,
        url="https://github.com/org/docs/pull/5",
        labels=(),
        ref=parse_title(title),
    )
    d = decide_pull(rules, st, facts, [], NOW)
    assert apply_changes(st, d.changes).claim(2, "alice").stage == Stage.COMPLETED


# ---- end to end: time passes on an injected clock -------------------------------------------------
@pytest.fixture(params=STORE_BACKENDS)
def backend(request):
    return request.param


def _notices(h) -> list[str]:
    return [c["body"] for c in h.bot_comments() if c["body"].startswith("<!-- hackathon-bot:notice:")]


async def test_one_reminder_then_one_lapse_notice_the_board_frees_the_task_and_a_restart_repeats_nothing(
    tmp_path, all_rules, backend
):
    from bot.app import assemble

    clock = ShiftedClock(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
    async with Harness(all_rules, tmp_path, backend=backend, clock=clock) as h:
        await h.comment("【报名】：2", user="bob")
        await h.comment("【报名】：3", user="carol")
        await h.settle()
        await h.pull_request("opened", 7, title="【Hackathon 9th No.3】jit", user="carol", files=["python/paddle/jit/a.py"])
        await h.settle()
        [reply] = [c["body"] for c in h.bot_comments() if "@bob" in c["body"]]
        assert "lapse after 14 days" in reply and "2026-01-19" in reply
        assert "@bob (since 01-05)" in h.tracker()

        clock.advance(11.5 * 86400)
        assert await h.pipeline.lapse_expired_claims() == 0  # the sweep the pipeline runs every 10 minutes
        await h.settle()
        [reminder] = _notices(h)
        assert "@bob: No.2 lapses on 2026-01-19" in reminder and "/renew 2" in reminder and "carol" not in reminder
        assert (await h.store.state("h9")).claim(2, "bob").reminded_at is not None
        await h.pipeline.lapse_expired_claims()
        await h.settle()
        assert len(_notices(h)) == 1  # once per period

        clock.advance(3 * 86400)
        assert await h.pipeline.lapse_expired_claims() == 1
        await h.settle()
        reminder_again, lapsed = _notices(h)
        assert reminder_again == reminder and "@bob: your claim on No.2 (since 2026-01-05) has lapsed" in lapsed
        state = await h.store.state("h9")
        assert state.claim(2, "bob") is None and state.claim(3, "carol") is not None  # a claim with a PR stays
        board = h.tracker()
        assert "@bob" not in board and "@carol" in board

        # a restart (a new process on the same store): its first sweep finds nothing to say
        await h.pipeline.stop(grace=1)
        again = await assemble(
            h.settings, rules=h.rules, store=h.store, github=h.gateway, clock=clock, trace=h.dry_lines.append, metrics=h.metrics
        )
        await again.pipeline.start()
        try:
            assert await again.pipeline.lapse_expired_claims() == 0
            assert await again.pipeline.idle(30)
        finally:
            await again.pipeline.stop(grace=1)
            await again.session.close()
        assert len(_notices(h)) == 2


async def test_bot_report_after_a_scenario_lists_the_merged_prs_author_with_task_difficulty_and_reward(
    tmp_path, monkeypatch, capsys
):
    from bot.cli import main
    from bot.rules.models import Rules

    rules = rewarded_rules().model_copy(update={"slug": "acme"})
    rules_dir = tmp_path / "rules" / "acme"
    rules_dir.mkdir(parents=True)
    (rules_dir / "campaign.yml").write_text(
        json.dumps(rules.campaign.model_dump(mode="json", exclude_defaults=True), ensure_ascii=False)
    )
    for t in rules.tasks.values():
        (rules_dir / f"{t.id}.yml").write_text(json.dumps(t.model_dump(mode="json", exclude_defaults=True), ensure_ascii=False))
    async with Harness(Rules(campaigns={"acme": rules}), tmp_path) as h:
        await h.comment("【报名】：3", user="carol")
        await h.settle()
        await h.pull_request(
            "opened",
            7,
            title="【Hackathon 9th No.3】jit",
            user="carol",
            files=["python/paddle/jit/a.py", "test/dygraph_to_static/test_a.py"],
        )
        await h.settle()
        await h.pull_request("closed", 7, merged=True, state="closed")
        await h.settle()
        url = h.store.url
        state = await h.store.state("acme")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("RULES_DIR", str(tmp_path / "rules"))
    assert await asyncio.to_thread(main, ["report", "acme", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    [done] = [c for c in state.claims if c.stage == Stage.COMPLETED]
    pr = state.prs[0]
    assert [(r["user"], int(r["task"]), r["difficulty"], r["reward"], r["prs"]) for r in rows] == [
        (done.user, done.task, rules.tasks[done.task].difficulty, rules.tasks[done.task].reward, pr.url)
    ]
    assert await asyncio.to_thread(main, ["report", "acme", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
    assert data["people"][0]["tasks"][0]["completed_at"] is not None  # from the stage history
    assert await asyncio.to_thread(main, ["report", "acme", "--format", "md"]) == 0
    assert "@carol" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["report", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no campaign 'nope'; known: acme" in err


async def test_a_rehearsal_shows_the_reminder_before_the_lapse_notice():
    from pathlib import Path

    from bot.cli.simulate import run

    result = await run(Path(__file__).resolve().parent.parent / "examples" / "simulate-en.yml")
    text = result.text
    reminder = text.index("**Reminder: claims without a PR lapse after 14 days.**")
    lapse = text.index("**Lapsed claims: no PR within 14 days")
    assert reminder < lapse
    lines = text[lapse:].split("\n\n", 1)[1].splitlines()
    people = lines[: next(i for i, line in enumerate(lines) if not line.strip().startswith("- @"))]
    lapsed_users = {line.strip().split(":")[0].removeprefix("- @") for line in people}
    state = result.states["acme"]
    assert lapsed_users and all(not state.claims_of(u) for u in lapsed_users)
