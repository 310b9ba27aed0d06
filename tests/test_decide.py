"""decide: the campaign's policy on claims, maintainer commands and pull requests, as pure functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.actions import AddLabels, Assign, BoardChange, DropClaim, Reply, SetLabels, UpsertChecklist, apply_changes
from bot.core.decide import CommentFacts, PullFacts, decide_comment, decide_pull
from bot.core.model import CampaignState, Claim, PullRequest, Stage
from bot.core.review import CHECKLIST_MARKER, ChangedFile
from bot.core.titles import parse_title
from tests.conftest import make_campaign, make_rules

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def comment(body, author="alice", *, old=None, maintainer=False, task_issue=None, number=100, cid=555):
    return CommentFacts(
        repo="org/Paddle",
        number=number,
        comment_id=cid,
        author=author,
        body=body,
        old_body=old,
        is_maintainer=maintainer,
        task_issue=task_issue,
        bot_login="hackathon-bot",
    )


def claim(task, user, stage=Stage.CLAIMED, at=NOW):
    return Claim("h9", task, user, stage, at)


def codes(decision):
    return [(n.code, n.tasks) for n in decision.notes]


def after(state, decision):
    return apply_changes(state, decision.changes)


# ---- claims ------------------------------------------------------------------------------------------
def test_claim_records_and_replies_with_what_to_deliver(rules):
    d = decide_comment(rules, CampaignState(), comment("【报名】：1、2"), NOW)
    assert codes(d) == [("claimed", (1, 2))]
    st = after(CampaignState(), d)
    assert {(c.task, c.user, c.stage) for c in st.claims} == {(1, "alice", Stage.CLAIMED), (2, "alice", Stage.CLAIMED)}
    [reply] = d.actions
    assert isinstance(reply, Reply) and reply.comment_id == 555 and reply.number == 100
    assert "@alice" in reply.body
    # what to deliver: the RFC location and the required tests of task 1
    assert "org/community" in reply.body and "test_fused_attention" in reply.body
    assert d.board is BoardChange.MOVED


def test_unknown_task_and_known_task_in_one_reply(rules):
    d = decide_comment(rules, CampaignState(), comment("claim 2, 99"), NOW)
    assert codes(d) == [("claimed", (2,)), ("unknown_task", (99,))]
    assert len(d.actions) == 1 and "99" in d.actions[0].body


def test_task_capacity_holds_and_names_the_holder(rules):
    st = CampaignState(claims=(claim(3, "bob"),))
    d = decide_comment(rules, st, comment("/claim 3"), NOW)
    assert codes(d) == [("task_full", (3,))]
    assert d.notes[0].extra["holders"] == {3: ["bob"]}
    assert d.changes == []
    assert "bob" in d.actions[0].body


def test_per_user_limit_counts_claims_made_in_the_same_comment(rules):
    r = make_rules(tasks={i: rules.tasks[2].model_copy(update={"id": i}) for i in range(1, 6)})
    d = decide_comment(r, CampaignState(), comment("【报名】：1-5"), NOW)
    assert codes(d) == [("claimed", (1, 2, 3)), ("user_limit", (4, 5))]
    assert d.notes[1].extra["limit"] == 3


def test_completed_tasks_do_not_count_toward_the_user_limit(rules):
    r = make_rules(tasks={i: rules.tasks[2].model_copy(update={"id": i}) for i in range(1, 6)})
    st = CampaignState(claims=tuple(claim(i, "alice", Stage.COMPLETED) for i in (1, 2, 3)))
    d = decide_comment(r, st, comment("【报名】：4"), NOW)
    assert codes(d) == [("claimed", (4,))]


def test_claiming_twice_says_already_claimed(rules):
    st = CampaignState(claims=(claim(2, "Alice"),))
    d = decide_comment(rules, st, comment("claim 2"), NOW)
    assert codes(d) == [("already_claimed", (2,))] and d.changes == []


def test_closed_and_completed_tasks_refuse_claims(rules):
    st = CampaignState(claims=(claim(2, "bob", Stage.COMPLETED),), closed_tasks=frozenset({1}))
    d = decide_comment(rules, st, comment("claim 1, 2"), NOW)
    assert codes(d) == [("task_closed", (1,)), ("task_completed", (2,))]


def test_an_expired_claim_gives_way(rules):
    old = claim(3, "bob", at=NOW - timedelta(days=30))
    d = decide_comment(rules, CampaignState(claims=(old,)), comment("claim 3"), NOW)
    assert codes(d) == [("claimed", (3,))]
    assert DropClaim(3, "bob") in d.changes
    assert [c.user for c in after(CampaignState(claims=(old,)), d).claims] == ["alice"]


def test_an_expired_claim_with_a_pr_stage_never_lapses(rules):
    old = claim(3, "bob", Stage.SUBMITTED, at=NOW - timedelta(days=30))
    d = decide_comment(rules, CampaignState(claims=(old,)), comment("claim 3"), NOW)
    assert codes(d) == [("task_full", (3,))]


def test_unclaim_only_releases_your_own(rules):
    st = CampaignState(claims=(claim(1, "bob"), claim(2, "alice")))
    d = decide_comment(rules, st, comment("【取消报名】：1、2"), NOW)
    assert codes(d) == [("unclaimed", (2,)), ("not_claimed", (1,))]
    assert [(c.task, c.user) for c in after(st, d).claims] == [(1, "bob")]


def test_submit_moves_the_stage_and_keeps_the_link(rules):
    st = CampaignState(claims=(claim(1, "alice"),))
    d = decide_comment(rules, st, comment("【提交提案】：1\n【提案链接】：https://github.com/org/community/pull/9"), NOW)
    [c] = after(st, d).claims
    assert c.stage == Stage.RFC_SUBMITTED and c.link == "https://github.com/org/community/pull/9"
    assert codes(d) == [("submitted", (1,))]


def test_submit_on_a_free_task_claims_it_at_that_stage(rules):
    d = decide_comment(rules, CampaignState(), comment("【提交】：2"), NOW)
    [c] = after(CampaignState(), d).claims
    assert (c.task, c.stage) == (2, Stage.SUBMITTED)


def test_submit_on_someone_elses_full_task_is_refused(rules):
    st = CampaignState(claims=(claim(3, "bob"),))
    d = decide_comment(rules, st, comment("【提交】：3"), NOW)
    assert codes(d) == [("task_full", (3,))] and d.changes == []


def test_team_format_claims_with_the_team(rules):
    text = "【队名】：飞桨小队\n\n【序号】：2\n【状态】：报名\n"
    d = decide_comment(rules, CampaignState(), comment(text), NOW)
    [c] = after(CampaignState(), d).claims
    assert (c.task, c.team) == (2, "飞桨小队")


def test_plain_chat_gets_no_reply(rules):
    d = decide_comment(rules, CampaignState(), comment("Thanks, looking forward to it!"), NOW)
    assert d.actions == [] and d.changes == [] and d.board is BoardChange.NONE


def test_a_near_miss_gets_a_hint_and_no_claim(rules):
    d = decide_comment(rules, CampaignState(), comment("报名:3"), NOW)
    assert d.changes == []
    assert [n.code for n in d.notes] == ["hint"]
    assert "【报名】" in d.actions[0].body


def test_an_edited_comment_only_runs_new_commands(rules):
    st = CampaignState(claims=(claim(1, "alice"),))
    d = decide_comment(rules, st, comment("【报名】：1、2", old="【报名】：1"), NOW)
    assert codes(d) == [("claimed", (2,))]


def test_an_edit_that_adds_nothing_is_silent(rules):
    d = decide_comment(rules, CampaignState(), comment("【报名】：1 (typo fixed)", old="【报名】：1"), NOW)
    assert d.actions == [] and d.changes == []


# ---- per-task issues ---------------------------------------------------------------------------------------
def test_bare_claim_on_a_task_issue_claims_that_task_labels_and_assigns(rules):
    d = decide_comment(rules, CampaignState(), comment("/claim", task_issue=rules.tasks[1], number=201), NOW)
    assert codes(d) == [("claimed", (1,))]
    assert AddLabels("org/Paddle", 201, ("claimed",)) in d.actions
    assert Assign("org/Paddle", 201, ("alice",)) in d.actions


def test_claim_on_a_task_issue_that_is_full_does_not_assign(rules):
    st = CampaignState(claims=(claim(1, "bob"), claim(1, "carol")))
    d = decide_comment(rules, st, comment("认领", task_issue=rules.tasks[1], number=201), NOW)
    assert codes(d) == [("task_full", (1,))]
    assert not any(isinstance(a, (Assign, AddLabels)) for a in d.actions)


# ---- maintainer commands -------------------------------------------------------------------------------------
def test_non_maintainers_get_a_polite_refusal(rules):
    d = decide_comment(rules, CampaignState(), comment("/assign @bob 2"), NOW)
    assert [n.code for n in d.notes] == ["not_maintainer"] and d.changes == []
    assert "/assign" in d.actions[0].body


def test_assign_overrides_limits(rules):
    st = CampaignState(claims=(claim(3, "bob"),))
    d = decide_comment(rules, st, comment("/assign @carol 3", author="boss", maintainer=True), NOW)
    assert codes(d) == [("assigned", (3,))]
    assert {c.user for c in after(st, d).claims_on(3)} == {"bob", "carol"}


def test_unassign_done_reopen_close(rules):
    st = CampaignState(claims=(claim(1, "bob"), claim(2, "carol")))
    text = "/unassign @bob 1\n/done 2 @carol\n/close-task 3"
    d = decide_comment(rules, st, comment(text, author="boss", maintainer=True), NOW)
    st2 = after(st, d)
    assert st2.claim(1, "bob") is None
    assert st2.claim(2, "carol").stage == Stage.COMPLETED
    assert 3 in st2.closed_tasks
    d2 = decide_comment(rules, st2, comment("/reopen 3\n/reopen 2", author="boss", maintainer=True, cid=556), NOW)
    st3 = after(st2, d2)
    assert 3 not in st3.closed_tasks
    assert st3.claim(2, "carol").stage == Stage.SUBMITTED


def test_done_without_user_completes_every_claimant(rules):
    st = CampaignState(claims=(claim(1, "bob"), claim(1, "carol")))
    d = decide_comment(rules, st, comment("/done 1", author="boss", maintainer=True), NOW)
    assert {c.stage for c in after(st, d).claims} == {Stage.COMPLETED}


def test_refresh_forces_a_board_edit(rules):
    d = decide_comment(rules, CampaignState(), comment("/refresh", author="boss", maintainer=True), NOW)
    assert d.board is BoardChange.FORCE


def test_help_and_status_reply_in_the_campaign_language():
    zh = make_rules(campaign=make_campaign(language="zh"))
    d = decide_comment(zh, CampaignState(claims=(claim(1, "bob"),)), comment("/help\n/status 1"), NOW)
    [reply] = d.actions
    assert "/assign" in reply.body and "@bob" in reply.body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in reply.body)


# ---- pull requests ------------------------------------------------------------------------------------
def pull(title, author="alice", *, repo="org/Paddle", number=7, state="open", merged=False, body="", labels=()):
    return PullFacts(
        repo=repo,
        number=number,
        title=title,
        body=body,
        author=author,
        state=state,
        merged=merged,
        url=f"https://github.com/{repo}/pull/{number}",
        labels=tuple(labels),
        ref=parse_title(title),
    )


FILES_OK = [
    ChangedFile("paddle/phi/kernels/fusion/attn.cu", "added"),
    ChangedFile("test/legacy_test/test_fused_attention_op.py", "added"),
]


def test_code_pr_without_rfc_needs_rfc_and_credits_submitted(rules):
    st = CampaignState(claims=(claim(1, "alice"),))
    d = decide_pull(rules, st, pull("【Hackathon 9th No.1】fuse attention"), FILES_OK, NOW)
    st2 = after(st, d)
    assert st2.claim(1, "alice").stage == Stage.SUBMITTED
    [pr] = st2.prs
    assert (pr.kind, pr.state, pr.tasks) == ("code", "open", (1,))
    checklist = next(a for a in d.actions if isinstance(a, UpsertChecklist))
    assert checklist.body.startswith(CHECKLIST_MARKER)
    labels = next(a for a in d.actions if isinstance(a, SetLabels)).labels
    assert "needs-rfc" in labels and "hackathon" in labels and "ready" not in labels


def test_rfc_pr_then_merge_then_code_pr_is_ready(rules):
    st = CampaignState(claims=(claim(1, "alice"),))
    rfc_files = [ChangedFile("rfcs/Paddle/20261122_fused_attention.md", "added")]
    d1 = decide_pull(rules, st, pull("【Hackathon 9th No.1】RFC", repo="org/community", number=3), rfc_files, NOW)
    st1 = after(st, d1)
    assert st1.claim(1, "alice").stage == Stage.RFC_SUBMITTED
    d2 = decide_pull(
        rules, st1, pull("【Hackathon 9th No.1】RFC", repo="org/community", number=3, state="closed", merged=True), rfc_files, NOW
    )
    st2 = after(st1, d2)
    assert st2.claim(1, "alice").stage == Stage.RFC_ACCEPTED
    d3 = decide_pull(rules, st2, pull("【Hackathon 9th No.1】kernel", labels=("hackathon",)), FILES_OK, NOW)
    labels = next(a for a in d3.actions if isinstance(a, SetLabels)).labels
    assert set(labels) == {"hackathon", "ready"}
    d4 = decide_pull(rules, after(st2, d3), pull("【Hackathon 9th No.1】kernel", state="closed", merged=True), FILES_OK, NOW)
    assert after(after(st2, d3), d4).claim(1, "alice").stage == Stage.COMPLETED


def test_part_pr_merged_is_partly_done(rules):
    st = CampaignState(claims=(claim(2, "alice"),))
    d = decide_pull(
        rules,
        st,
        pull("【Hackathon 9th No.2】docs -part", repo="org/docs", state="closed", merged=True),
        [ChangedFile("docs/api/jit.md", "modified")],
        NOW,
    )
    assert after(st, d).claim(2, "alice").stage == Stage.PARTLY_DONE


def test_closed_unmerged_steps_back(rules):
    st = CampaignState(
        claims=(claim(2, "alice", Stage.SUBMITTED),),
        prs=(PullRequest("h9", "org/docs", 7, "alice", "t", (2,), "code", "open", "u"),),
    )
    d = decide_pull(
        rules,
        st,
        pull("【Hackathon 9th No.2】docs", repo="org/docs", state="closed"),
        [ChangedFile("docs/api/jit.md", "modified")],
        NOW,
    )
    assert after(st, d).claim(2, "alice").stage == Stage.CLAIMED


def test_revert_never_credits(rules):
    st = CampaignState(claims=(claim(2, "alice"),))
    d = decide_pull(
        rules,
        st,
        pull('Revert "【Hackathon 9th No.2】docs"', repo="org/docs", state="closed", merged=True),
        [ChangedFile("docs/api/jit.md", "modified")],
        NOW,
    )
    st2 = after(st, d)
    assert st2.claim(2, "alice").stage == Stage.CLAIMED
    assert st2.prs[0].revert


def test_pr_from_someone_who_did_not_claim_a_free_task_claims_it(rules):
    d = decide_pull(
        rules,
        CampaignState(),
        pull("【Hackathon 9th No.2】docs", author="dave", repo="org/docs"),
        [ChangedFile("docs/api/jit.md", "modified")],
        NOW,
    )
    assert after(CampaignState(), d).claim(2, "dave").stage == Stage.SUBMITTED


def test_pr_on_a_full_task_is_not_credited_and_flagged(rules):
    st = CampaignState(claims=(claim(3, "bob"),))
    d = decide_pull(
        rules,
        st,
        pull("【Hackathon 9th No.3】jit", author="dave"),
        [ChangedFile("python/paddle/jit/api.py", "modified"), ChangedFile("test/dygraph_to_static/test_x.py", "added")],
        NOW,
    )
    st2 = after(st, d)
    assert st2.claim(3, "dave") is None
    labels = next(a for a in d.actions if isinstance(a, SetLabels)).labels
    assert "needs-claim" in labels
    assert "bob" in next(a for a in d.actions if isinstance(a, UpsertChecklist)).body


def test_files_outside_targets_are_listed(rules):
    st = CampaignState(claims=(claim(3, "alice"),))
    files = [
        ChangedFile("python/paddle/jit/api.py", "modified"),
        ChangedFile("setup.py", "modified"),
        ChangedFile("test/dygraph_to_static/test_x.py", "added"),
    ]
    d = decide_pull(rules, st, pull("【Hackathon 9th No.3】jit"), files, NOW)
    body = next(a for a in d.actions if isinstance(a, UpsertChecklist)).body
    assert "setup.py" in body


def test_missing_tests_label(rules):
    st = CampaignState(claims=(claim(3, "alice"),))
    d = decide_pull(rules, st, pull("【Hackathon 9th No.3】jit"), [ChangedFile("python/paddle/jit/api.py", "modified")], NOW)
    assert "needs-tests" in next(a for a in d.actions if isinstance(a, SetLabels)).labels


def test_labels_not_set_when_unchanged_and_foreign_labels_kept(rules):
    st = CampaignState(claims=(claim(2, "alice"),))
    p = pull("【Hackathon 9th No.2】docs", repo="org/docs", labels=("hackathon", "ready", "contributor"))
    d = decide_pull(rules, st, p, [ChangedFile("docs/api/jit.md", "modified")], NOW)
    assert not any(isinstance(a, SetLabels) for a in d.actions)
    p2 = replace(p, labels=("needs-tests", "contributor"))
    d2 = decide_pull(rules, st, p2, [ChangedFile("docs/api/jit.md", "modified")], NOW)
    assert set(next(a for a in d2.actions if isinstance(a, SetLabels)).labels) == {"contributor", "hackathon", "ready"}


def test_same_pr_twice_changes_nothing_the_second_time(rules):
    st = CampaignState(claims=(claim(2, "alice"),))
    p = pull("【Hackathon 9th No.2】docs", repo="org/docs")
    files = [ChangedFile("docs/api/jit.md", "modified")]
    d1 = decide_pull(rules, st, p, files, NOW)
    st1 = after(st, d1)
    d2 = decide_pull(rules, st1, p, files, NOW)
    assert d2.changes == [] and d2.board is BoardChange.NONE
    assert [a.body for a in d1.actions if isinstance(a, UpsertChecklist)] == [
        a.body for a in d2.actions if isinstance(a, UpsertChecklist)
    ]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_checklist_language_follows_the_campaign(lang):
    r = make_rules(campaign=make_campaign(language=lang))
    d = decide_pull(
        r, CampaignState(), pull("【Hackathon 9th No.2】docs", repo="org/docs"), [ChangedFile("docs/api/jit.md", "modified")], NOW
    )
    body = next(a for a in d.actions if isinstance(a, UpsertChecklist)).body
    has_cjk = any("\u4e00" <= ch <= "\u9fff" for ch in body.replace("基础", "").replace("进阶", ""))
    assert has_cjk == (lang == "zh")


def test_apply_changes_matches_a_full_rebuild():
    """The incremental update gives exactly the canonical state a fresh load would."""
    import random

    from bot.core.actions import DropClaim, PutClaim, PutPull, SetTaskClosed, make_state

    rng = random.Random(7)
    users = ["amy", "Bob", "carol", "DAVE", "eve"]
    state = CampaignState()
    truth_claims: dict = {}
    truth_prs: dict = {}
    for step in range(400):
        kind = rng.random()
        if kind < 0.5:
            c = claim(rng.randint(1, 9), rng.choice(users), at=NOW + timedelta(minutes=rng.randint(0, 3)))
            ch = PutClaim(c)
            truth_claims[(c.task, c.user.lower())] = c
        elif kind < 0.75:
            t, u = rng.randint(1, 9), rng.choice(users)
            ch = DropClaim(t, u.upper())
            truth_claims.pop((t, u.lower()), None)
        elif kind < 0.95:
            p = PullRequest("h9", rng.choice(["org/A", "org/b"]), rng.randint(1, 5), "x", f"t{step}", (1,), "code", "open", "u")
            ch = PutPull(p)
            truth_prs[(p.repo.lower(), p.number)] = p
        else:
            ch = SetTaskClosed(rng.randint(1, 9), rng.random() < 0.5)
        state.claims_on(1), state.claims_of("amy")  # build the indexes, so they are carried over
        state = apply_changes(state, [ch])
        fresh = make_state(state.claims, state.prs, state.closed_tasks)
        for u in users + ["nobody"]:
            assert state.claims_of(u) == fresh.claims_of(u)
        for t in range(0, 11):
            assert state.claims_on(t) == fresh.claims_on(t)
    assert state.claims == make_state(truth_claims.values(), truth_prs.values(), ()).claims
    assert state.prs == make_state(truth_claims.values(), truth_prs.values(), ()).prs


def test_lapsed_claims_are_released_and_the_board_updates(rules):
    fresh = claim(1, "amy", at=NOW - timedelta(days=2))
    lapsed = claim(2, "bob", at=NOW - timedelta(days=15))
    working = claim(3, "carol", Stage.SUBMITTED, at=NOW - timedelta(days=40))
    from bot.core.decide import lapse_claims

    d = lapse_claims(rules, CampaignState(claims=(fresh, lapsed, working)), NOW)
    assert d.changes == [DropClaim(2, "bob")] and d.board is BoardChange.MOVED
    quiet = lapse_claims(rules, CampaignState(claims=(fresh, working)), NOW)
    assert quiet.changes == [] and quiet.board is BoardChange.NONE
    no_expiry = make_rules(
        campaign=make_campaign(claim_policy=make_campaign().claim_policy.model_copy(update={"claim_expiry_days": None}))
    )
    assert lapse_claims(no_expiry, CampaignState(claims=(lapsed,)), NOW).changes == []


def test_a_title_edited_to_another_task_moves_the_credit(rules):
    st = CampaignState(claims=(claim(2, "alice"),))
    files = [ChangedFile("docs/api/jit.md", "modified")]
    d1 = decide_pull(rules, st, pull("【Hackathon 9th No.2】docs", repo="org/docs"), files, NOW)
    st1 = after(st, d1)
    assert st1.claim(2, "alice").stage == Stage.SUBMITTED
    d2 = decide_pull(rules, st1, pull("【Hackathon 9th No.1】docs", repo="org/docs"), files, NOW)
    st2 = after(st1, d2)
    assert st2.claim(2, "alice").stage == Stage.CLAIMED  # no PR names No.2 any more
    assert st2.claim(1, "alice").stage == Stage.SUBMITTED


def test_a_title_edited_to_name_no_task_gives_the_credit_back(rules):
    st = CampaignState(claims=(claim(2, "alice"),))
    files = [ChangedFile("docs/api/jit.md", "modified")]
    st1 = after(st, decide_pull(rules, st, pull("【Hackathon 9th No.2】docs", repo="org/docs"), files, NOW))
    d = decide_pull(rules, st1, pull("Fix a typo in the docs", repo="org/docs"), [], NOW)
    st2 = after(st1, d)
    assert st2.claim(2, "alice").stage == Stage.CLAIMED and d.board is BoardChange.MOVED and d.actions == []
    assert st2.prs[0].tasks == ()
    # a PR the bot never recorded, without a task: nothing at all
    assert decide_pull(rules, CampaignState(), pull("chore: bump deps", repo="org/docs"), [], NOW).changes == []


# ---- PR credit under the comment-claim limits (issue 8) ------------------------------------------------
def _many_tasks_rules(n: int = 20):
    from bot.rules.models import Task

    return make_rules(tasks={i: Task(id=i, title=f"Task {i}", difficulty="基础") for i in range(1, n + 1)})


def test_a_pr_over_the_per_person_limit_moves_held_tasks_and_claims_nothing_more():
    rules = _many_tasks_rules()
    state = CampaignState(claims=(claim(4, "greedy"), claim(9, "greedy"), claim(11, "greedy")))
    d = decide_pull(
        rules, state, pull("【Hackathon 9th No.1-20】 wip", author="greedy"), [ChangedFile("README.md", "modified")], NOW
    )
    new = after(state, d)
    assert sorted(c.task for c in new.claims_of("greedy")) == [4, 9, 11]
    assert {c.stage for c in new.claims_of("greedy")} == {Stage.SUBMITTED}
    [checklist] = [a for a in d.actions if isinstance(a, UpsertChecklist)]
    assert checklist.body.count("not credited") == 17 and "names 20 tasks" in checklist.body
    assert not any(isinstance(a, SetLabels) and "ready" in a.labels for a in d.actions)


def test_a_pr_under_the_limit_takes_the_lowest_new_tasks_up_to_it():
    rules = _many_tasks_rules()
    state = CampaignState(claims=(claim(15, "dana"),))
    d = decide_pull(rules, state, pull("【Hackathon 9th No.3, 15, 8, 1】", author="dana"), [], NOW)
    assert sorted(c.task for c in after(state, d).claims_of("dana")) == [1, 3, 15]


def test_a_merged_pr_is_credited_whatever_the_limit():
    rules = _many_tasks_rules()
    state = CampaignState(claims=(claim(4, "greedy"), claim(9, "greedy"), claim(11, "greedy")))
    d = decide_pull(rules, state, pull("【Hackathon 9th No.12】", author="greedy", state="closed", merged=True), [], NOW)
    assert after(state, d).claim(12, "greedy").stage == Stage.COMPLETED


def test_a_pr_on_a_task_closed_to_claims_is_not_credited():
    rules = _many_tasks_rules()
    state = CampaignState(closed_tasks=frozenset({5}))
    d = decide_pull(rules, state, pull("【Hackathon 9th No.5】", author="erin"), [], NOW)
    assert after(state, d).claim(5, "erin") is None


def test_the_bare_claim_check_is_linear_on_hostile_comments():
    import time

    from bot.core.decide import BARE_CLAIM

    for body in ("claim" + " " * 65_000 + "x", "@bot " * 13_000, "认领" + "\t" * 65_000 + "!x"):
        started = time.process_time()
        assert BARE_CLAIM.match(body) is None
        assert time.process_time() - started < 0.5
    assert BARE_CLAIM.match("  @hackathon-bot claim！ ") and BARE_CLAIM.match("【报名】")


def test_board_changes_combine_to_the_stronger():
    """A decision made of two (a PR comment's commands, then the PR reviewed again) keeps the
    stronger board change: a /refresh is not lost to a review that merely moved the board."""
    N, M, F = BoardChange.NONE, BoardChange.MOVED, BoardChange.FORCE
    assert [a | b for a in (N, M, F) for b in (N, M, F)] == [N, M, F, M, M, F, F, F, F]
    assert [bool(x) for x in (N, M, F)] == [False, True, True]
    assert BoardChange.moved_if(True) is M and BoardChange.moved_if(False) is N


# ---- the state a decision leads to --------------------------------------------------------------
_COMMENTS = [
    "【报名】：{t}",
    "/claim {t}",
    "/unclaim {t}",
    "【报名】：{t}-{u}",
    "【提交】：{t}",
    "/done {t}",
    "/assign @{who} {t}",
    "/unassign @{who} {t}",
    "/close {t}",
    "/reopen {t}",
    "/renew {t}",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_COMMENTS),
            st.integers(1, 5),
            st.integers(1, 5),
            st.sampled_from(["alice", "Bob", "carol"]),
            st.booleans(),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_the_state_a_comment_decision_carries_is_the_state_its_changes_make(rules, script):
    """The store takes `decision.after` instead of applying the changes again: the board and every
    later decision see exactly what applying them would give."""
    r = make_rules(tasks={i: rules.tasks[2].model_copy(update={"id": i}) for i in range(1, 6)})
    state = CampaignState()
    for text, t, u, who, maintainer in script:
        d = decide_comment(r, state, comment(text.format(t=t, u=u, who=who), author=who, maintainer=maintainer), NOW)
        applied = apply_changes(state, d.changes)
        assert d.after is not None
        assert d.after == applied
        for task in range(1, 6):
            assert d.after.claims_on(task) == applied.claims_on(task)
        for user in ("alice", "bob", "carol"):
            assert d.after.claims_of(user) == applied.claims_of(user)
        state = d.after
