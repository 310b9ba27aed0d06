"""PR review: the checks a participant sees on their PR, the labels it gets, the checklist text."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from bot.core.model import CampaignState, Claim, PullRequest, Stage
from bot.core.review import (
    CHECKLIST_MARKER,
    SHOW_FILES,
    ChangedFile,
    CheckCode,
    CheckItem,
    CheckStatus,
    ClaimReason,
    Review,
    RfcEvidence,
    RfcFound,
    RfcVerdict,
    managed_labels,
    render_checklist,
    review_pr,
    rfc_link_verdict,
    rfc_links,
)
from bot.rules.models import ClaimPolicy, Labels, RfcDefaults, Source, Target, Task, TaskRfc
from tests.conftest import make_rules

T0 = datetime(2024, 3, 1, 12, 0)
PADDLE = "PaddlePaddle/Paddle"
COMMUNITY = "PaddlePaddle/community"


CAMPAIGN = dict(
    bare=True,
    repos=[PADDLE],
    rfc=RfcDefaults(repo=COMMUNITY, path="rfcs/APIs/"),
    claim_policy=ClaimPolicy(max_claimants_per_task=1),
)
TASKS = {
    1: Task(
        id=1,
        title="为 Paddle 新增 foo API",
        difficulty="基础",
        targets=[Target(repo=PADDLE, paths=["python/paddle/tensor/**", "paddle/phi/kernels/**"])],
        tests=["test/legacy_test/test_foo*.py"],
        rfc=TaskRfc(required=True),
        source=Source(file="c.md", anchor="task1"),
    ),
    2: Task(id=2, title="No rules at all"),
    3: Task(id=3, title="Shared task", max_claimants=2, targets=[Target(repo="PaddlePaddle/docs", paths=[])]),
    4: Task(id=4, title="Own RFC dir", rfc=TaskRfc(required=True, path="rfcs/Special")),
}
RULES = make_rules(tasks=TASKS, **CAMPAIGN)


def pr(tasks=(1,), *, author="alice", kind="code", repo=PADDLE, number=50, state="open", revert=False) -> PullRequest:
    return PullRequest(
        campaign="h9",
        repo=repo,
        number=number,
        author=author,
        title="t",
        tasks=tuple(tasks),
        kind=kind,
        state=state,
        url=f"https://github.com/{repo}/pull/{number}",
        revert=revert,
    )


def claim(task, user, stage=Stage.CLAIMED, minutes=0) -> Claim:
    return Claim(campaign="h9", task=task, user=user, stage=stage, claimed_at=T0 + timedelta(minutes=minutes))


GOOD_FILES = [ChangedFile("python/paddle/tensor/math.py", "modified"), ChangedFile("test/legacy_test/test_foo_op.py", "added")]
MERGED_RFC = pr(kind="rfc", repo=COMMUNITY, number=7, state="merged")


def item(review: Review, code: str, task: int | None = None) -> CheckItem:
    found = [i for i in review.items if i.code == code and (task is None or i.params.get("task") == task)]
    assert len(found) == 1, (code, review.items)
    return found[0]


def good_state(**kw) -> CampaignState:
    return CampaignState(claims=(claim(1, "alice"),), prs=(MERGED_RFC,), **kw)


# ---- a PR that does everything right


def test_complete_code_pr_passes_and_is_labelled_ready():
    rules = RULES
    r = review_pr(rules, pr(), GOOD_FILES, "", good_state())
    assert [(i.code, i.status) for i in r.items] == [("claim", "pass"), ("targets", "pass"), ("tests", "pass"), ("rfc", "pass")]
    assert r.ready
    assert r.labels == ("hackathon", "ready")
    assert item(r, "tests").params["files"] == ["test/legacy_test/test_foo_op.py"]


def test_labels_follow_the_campaign_names_and_are_sorted():
    rules = make_rules(
        tasks=TASKS, labels=Labels(campaign="HappyOpenSource", ready="lgtm-bot", needs_tests="需要单测"), **CAMPAIGN
    )
    r = review_pr(rules, pr(), GOOD_FILES[:1], "", good_state())
    assert r.labels == tuple(sorted({"HappyOpenSource", "需要单测"}))
    assert managed_labels(rules) == {
        "HappyOpenSource",
        "needs-rfc",
        "需要单测",
        "outside-targets",
        "needs-claim",
        "lgtm-bot",
        "claimed",
    }


# ---- claim


def test_claim_matches_the_author_case_insensitively():
    r = review_pr(RULES, pr(author="Alice"), GOOD_FILES, "", good_state())
    assert item(r, "claim").status == "pass"


def test_pr_on_a_task_held_by_others_warns_names_them_and_needs_claim():
    state = CampaignState(claims=(claim(1, "bob"),), prs=(MERGED_RFC,))
    r = review_pr(RULES, pr(), GOOD_FILES, "", state)
    c = item(r, "claim")
    assert (c.status, c.params["reason"], c.params["holders"]) == ("warn", "held", ["bob"])
    assert "needs-claim" in r.labels and "ready" not in r.labels and not r.ready
    text = render_checklist(r, RULES, "en")
    assert "@bob" in text and "0 items to fix" not in text


def test_pr_on_a_free_task_is_recorded_as_the_authors_claim():
    r = review_pr(RULES, pr(), GOOD_FILES, "", CampaignState(prs=(MERGED_RFC,)))
    c = item(r, "claim")
    assert (c.status, c.params["reason"]) == ("warn", "implicit")
    assert "needs-claim" not in r.labels and r.ready
    assert "recorded this PR as their claim" in render_checklist(r, RULES, "en")
    assert "已将此 PR 记为报名" in render_checklist(r, RULES, "zh")


def test_task_with_room_left_is_free_even_when_someone_else_holds_it():
    r = review_pr(
        RULES,
        pr((3,)),
        [ChangedFile("docs/a.md", "added")],
        "",
        CampaignState(claims=(claim(3, "bob"),)),
    )
    assert item(r, "claim").params["reason"] == "implicit"
    full = CampaignState(claims=(claim(3, "bob"), claim(3, "carol", minutes=1)))
    r = review_pr(RULES, pr((3,)), [ChangedFile("docs/a.md", "added")], "", full)
    assert item(r, "claim").params["holders"] == ["bob", "carol"]


def test_no_per_task_limit_means_never_full():
    state = CampaignState(claims=tuple(claim(2, f"u{i}") for i in range(5)))
    r = review_pr(
        make_rules(tasks=TASKS, **{**CAMPAIGN, "claim_policy": ClaimPolicy(max_claimants_per_task=None)}), pr((2,)), [], "", state
    )
    assert item(r, "claim").params["reason"] == "implicit"


def test_pr_on_a_closed_task_is_not_an_implicit_claim():
    r = review_pr(RULES, pr((2,)), [], "", CampaignState(closed_tasks=frozenset({2})))
    assert item(r, "claim").params["reason"] == "closed"


# ---- targets


def test_files_outside_the_targets_are_listed_as_a_warning():
    files = GOOD_FILES + [ChangedFile("README.md", "modified"), ChangedFile("setup.py", "removed")]
    r = review_pr(RULES, pr(), files, "", good_state())
    t = item(r, "targets")
    assert (t.status, t.params["outside"], t.params["more"]) == ("warn", ["README.md", "setup.py"], 0)
    assert "outside-targets" not in r.labels
    text = render_checklist(r, RULES, "en")
    assert "`README.md`" in text and "`setup.py`" in text


def test_nothing_inside_the_targets_fails_with_label():
    r = review_pr(RULES, pr(), [ChangedFile("docs/x.md", "added")], "", good_state())
    assert item(r, "targets").status == "fail"
    assert "outside-targets" in r.labels and "ready" not in r.labels


def test_a_pr_in_a_repository_the_task_does_not_target_is_outside():
    r = review_pr(RULES, pr(repo="PaddlePaddle/docs"), GOOD_FILES, "", good_state())
    assert item(r, "targets").status == "fail"


def test_renaming_a_file_from_outside_into_the_targets_counts_as_outside():
    files = [
        ChangedFile("python/paddle/tensor/new.py", "renamed", previous_filename="tools/old.py"),
        ChangedFile("python/paddle/tensor/ok.py", "modified"),
    ]
    r = review_pr(RULES, pr(), files, "", good_state())
    assert item(r, "targets").params["outside"] == ["python/paddle/tensor/new.py"]


def test_long_outside_lists_are_cut_with_a_count():
    files = [ChangedFile("python/paddle/tensor/a.py", "modified")] + [
        ChangedFile(f"other/f{i:04}.py", "added") for i in range(3000)
    ]
    r = review_pr(RULES, pr(), files, "", good_state())
    t = item(r, "targets")
    assert len(t.params["outside"]) == SHOW_FILES and t.params["more"] == 3000 - SHOW_FILES
    for lang, word in (("en", f"and {3000 - SHOW_FILES} more"), ("zh", f"另有 {3000 - SHOW_FILES} 个")):
        text = render_checklist(r, RULES, lang)
        assert word in text and "other/f0020.py" not in text and "other/f0019.py" in text


def test_task_without_targets_or_tests_is_not_checked_and_never_ready():
    # issue 11 item 4: the bot cannot check such a PR, so it says so and does not call it ready
    state = CampaignState(claims=(claim(2, "alice"),))
    r = review_pr(RULES, pr((2,)), [ChangedFile("anything.py", "added")], "", state)
    assert item(r, "unchecked").status == "warn"
    assert not [i for i in r.items if i.code in ("targets", "tests")]
    assert not r.ready and "ready" not in r.labels
    en, zh = render_checklist(r, RULES, "en"), render_checklist(r, RULES, "zh")
    assert "no target paths, no required tests, no RFC" in en and "by hand" in en and "All checks pass" not in en
    assert "`anything.py`" in en and "人工检查" in zh and "全部检查通过" not in zh


def test_task_without_targets_but_with_tests_skips_only_the_target_check():
    rules = RULES
    task = rules.tasks[2].model_copy(update={"tests": ["test/**"]})
    rules = rules.model_copy(update={"tasks": {**rules.tasks, 2: task}})
    state = CampaignState(claims=(claim(2, "alice"),))
    r = review_pr(rules, pr((2,)), [ChangedFile("test/test_x.py", "added")], "", state)
    assert item(r, "targets").status == "skip" and item(r, "tests").status == "pass" and r.ready


def test_pr_in_a_repository_the_task_does_not_target_says_where_it_goes():
    r = review_pr(RULES, pr((3,)), [ChangedFile("docs/x.md", "added")], "", CampaignState(claims=(claim(3, "alice"),)))
    t = item(r, "targets")
    assert t.status == "fail" and t.params["wrong_repo"] == PADDLE and not r.ready
    text = render_checklist(r, RULES, "en")
    assert "PaddlePaddle/docs" in text and f"not {PADDLE}" in text
    assert "PaddlePaddle/docs" in render_checklist(r, RULES, "zh")


# ---- tests


def test_missing_tests_fail_with_label_and_removed_tests_do_not_count():
    files = [ChangedFile("python/paddle/tensor/math.py", "modified"), ChangedFile("test/legacy_test/test_foo_old.py", "removed")]
    r = review_pr(RULES, pr(), files, "", good_state())
    t = item(r, "tests")
    assert t.status == "fail" and t.params["globs"] == ["test/legacy_test/test_foo*.py"]
    assert "needs-tests" in r.labels and not r.ready
    assert "`test/legacy_test/test_foo*.py`" in render_checklist(r, RULES, "en")


@pytest.mark.parametrize("status", ["added", "modified", "renamed"])
def test_added_modified_or_renamed_tests_pass(status):
    files = [
        ChangedFile("python/paddle/tensor/x.py", "modified"),
        ChangedFile("test/legacy_test/test_foo2.py", status, "test/legacy_test/test_foo.py" if status == "renamed" else None),
    ]
    assert item(review_pr(RULES, pr(), files, "", good_state()), "tests").status == "pass"


# ---- rfc (code PR)


def test_rfc_merged_by_someone_else_does_not_count():
    other = pr(kind="rfc", repo=COMMUNITY, number=7, state="merged", author="bob")
    r = review_pr(RULES, pr(), GOOD_FILES, "", CampaignState(claims=(claim(1, "alice"),), prs=(other,)))
    assert item(r, "rfc").status == "fail" and "needs-rfc" in r.labels


def test_open_rfc_is_a_warning_under_review():
    rfc = pr(kind="rfc", repo=COMMUNITY, number=7, state="open")
    r = review_pr(RULES, pr(), GOOD_FILES, "", CampaignState(claims=(claim(1, "alice"),), prs=(rfc,)))
    i = item(r, "rfc")
    assert (i.status, i.params["number"]) == ("warn", 7) and "needs-rfc" not in r.labels and r.ready
    assert "under review" in render_checklist(r, RULES, "en")
    assert "评审中" in render_checklist(r, RULES, "zh")


def test_closed_unmerged_rfc_does_not_count():
    rfc = pr(kind="rfc", repo=COMMUNITY, number=7, state="closed")
    r = review_pr(RULES, pr(), GOOD_FILES, "", CampaignState(claims=(claim(1, "alice"),), prs=(rfc,)))
    assert item(r, "rfc").status == "fail"


@pytest.mark.parametrize(
    "body,verdict",
    [
        ("RFC: https://github.com/PaddlePaddle/community/pull/812", None),  # GitHub is asked
        ("see https://github.com/paddlepaddle/COMMUNITY/blob/master/rfcs/APIs/20240301_foo.md for details", None),
        ("[设计文档](https://github.com/PaddlePaddle/community/tree/master/rfcs/APIs/foo)", RfcVerdict.DIRECTORY),
        ("https://github.com/PaddlePaddle/community/tree/master/rfcs/APIs", RfcVerdict.DIRECTORY),
        ("https://github.com/PaddlePaddle/community/blob/master/rfcs/APIs", RfcVerdict.DIRECTORY),
        ("https://github.com/PaddlePaddle/community/blob/master/README.md", RfcVerdict.OUTSIDE),
        ("https://github.com/PaddlePaddle/Paddle/pull/812", RfcVerdict.OTHER_REPO),
        ("https://evil.example/PaddlePaddle/community/pull/812", RfcVerdict.OTHER_HOST),
        ("<!-- https://github.com/PaddlePaddle/community/pull/812 -->", RfcVerdict.HIDDEN),
        ("`https://github.com/PaddlePaddle/community/pull/812`", RfcVerdict.HIDDEN),
    ],
)
def test_what_a_link_in_the_body_is_as_far_as_it_tells(body, verdict):
    [link] = rfc_links(body)
    assert rfc_link_verdict(link, COMMUNITY, "rfcs/APIs/", ("github.com",)) == verdict


def test_no_link_in_the_body():
    assert rfc_links("I wrote an RFC somewhere") == () == rfc_links("")


@pytest.mark.parametrize(
    "verdict,status",
    [
        (RfcVerdict.MERGED, "pass"),
        (RfcVerdict.FILE, "pass"),
        (RfcVerdict.OPEN, "warn"),
        (RfcVerdict.CLOSED, "fail"),
        (RfcVerdict.MISSING, "fail"),
        (RfcVerdict.OUTSIDE, "fail"),
        (RfcVerdict.DIRECTORY, "fail"),
        (RfcVerdict.OTHER_HOST, "fail"),
        (RfcVerdict.HIDDEN, "fail"),
    ],
)
def test_a_link_counts_only_as_what_github_showed_it_is(verdict, status):
    url = "https://github.com/PaddlePaddle/community/pull/812"
    evidence = {1: (RfcEvidence(url, verdict, 812),)}
    r = review_pr(make_rules(), pr(), GOOD_FILES, url, CampaignState(claims=(claim(1, "alice"),)), rfc=evidence)
    i = item(r, "rfc")
    assert i.status == status
    assert ("needs-rfc" in r.labels) == (status == "fail")
    if status == "fail":  # the checklist says what the link was found to be instead
        assert i.params["found"] == [{"link": url, "verdict": verdict.value, "number": 812}]
        text = render_checklist(r, make_rules(), "en")
        assert url in text and "not one" in text


def test_a_link_without_evidence_never_counts():
    body = "RFC: https://github.com/PaddlePaddle/community/pull/812"
    r = review_pr(make_rules(), pr(), GOOD_FILES, body, CampaignState(claims=(claim(1, "alice"),)))
    assert item(r, "rfc").status == "fail"


def test_rfc_not_required_is_skipped():
    task = RULES.tasks[3].model_copy(update={"targets": [Target(repo="PaddlePaddle/docs", paths=["docs/**"])]})
    rules = RULES.model_copy(update={"tasks": {**RULES.tasks, 3: task}})
    r = review_pr(
        rules,
        pr((3,), repo="PaddlePaddle/docs"),
        [ChangedFile("docs/a.md", "added")],
        "",
        CampaignState(claims=(claim(3, "alice"),)),
    )
    assert item(r, "rfc").status == "skip" and r.ready


# ---- RFC PR


def test_rfc_pr_with_its_file_under_the_rfc_directory_passes():
    files = [ChangedFile("rfcs/APIs/20240301_foo.md", "added"), ChangedFile("rfcs/APIs/images/a.png", "added")]
    r = review_pr(RULES, pr(kind="rfc", repo=COMMUNITY), files, "", CampaignState(claims=(claim(1, "alice"),)))
    assert [(i.code, i.status) for i in r.items] == [("claim", "pass"), ("rfc_file", "pass")]
    assert r.labels == ("hackathon", "ready")


def test_rfc_pr_uses_the_tasks_own_rfc_directory():
    files = [ChangedFile("rfcs/APIs/x.md", "added")]
    r = review_pr(RULES, pr((4,), kind="rfc", repo=COMMUNITY), files, "", CampaignState())
    assert item(r, "rfc_file").status == "fail" and not r.ready
    assert "`rfcs/Special`" in render_checklist(r, RULES, "en")
    ok = review_pr(RULES, pr((4,), kind="rfc", repo=COMMUNITY), [ChangedFile("rfcs/Special/x.md", "added")], "", CampaignState())
    assert item(ok, "rfc_file").status == "pass"


def test_rfc_pr_that_only_deletes_or_is_in_the_wrong_repo_fails():
    r = review_pr(RULES, pr(kind="rfc", repo=COMMUNITY), [ChangedFile("rfcs/APIs/old.md", "removed")], "", CampaignState())
    assert item(r, "rfc_file").status == "fail"
    r = review_pr(RULES, pr(kind="rfc", repo="someone/fork"), [ChangedFile("rfcs/APIs/x.md", "added")], "", CampaignState())
    assert item(r, "rfc_file").params["wrong_repo"] == "someone/fork"
    assert "someone/fork" in render_checklist(r, RULES, "en")


# ---- unknown tasks, several tasks, hints, reverts


def test_unknown_task_ids_fail_and_are_named():
    r = review_pr(RULES, pr((1, 404, 405)), GOOD_FILES, "", good_state())
    assert item(r, "unknown_task").params["tasks"] == [404, 405] and not r.ready
    assert "No.404, No.405" in render_checklist(r, RULES, "en")
    assert "No.404、No.405" in render_checklist(r, RULES, "zh")


def test_several_tasks_get_one_section_each():
    r = review_pr(RULES, pr((1, 2, 1)), GOOD_FILES, "", good_state())
    assert [i.params["task"] for i in r.items if i.code == "claim"] == [1, 2]
    text = render_checklist(r, RULES, "en")
    assert text.index("No.1 ") < text.index("No.2 ")
    assert "[No.1 为 Paddle 新增 foo API](https://github.com/PaddlePaddle/Paddle/issues/9#task1)" in text


class FakeMessage:
    def __init__(self, zh, en):
        self.zh, self.en = zh, en

    def text(self, lang):
        return self.zh if lang == "zh" else self.en


def test_title_hints_are_warnings_shown_in_the_checklist_language():
    r = review_pr(
        RULES,
        pr(),
        GOOD_FILES,
        "",
        good_state(),
        title_hints=("Write `Hackathon`, not `Hackthon`.", FakeMessage("请写 Hackathon", "Write Hackathon")),
    )
    assert [i.status for i in r.items if i.code == "title"] == ["warn", "warn"] and r.ready
    assert "Write Hackathon" in render_checklist(r, RULES, "en")
    assert "请写 Hackathon" in render_checklist(r, RULES, "zh")


def test_revert_gets_one_item_and_only_the_campaign_label():
    r = review_pr(RULES, pr(revert=True), [ChangedFile("x", "modified")], "", CampaignState())
    assert [i.code for i in r.items] == ["revert"] and r.labels == ("hackathon",) and not r.ready
    assert "never credited" in render_checklist(r, RULES, "en")
    assert "不计入" in render_checklist(r, RULES, "zh")


# ---- the checklist text


def _busy_review(rules):
    files = [
        ChangedFile("x<!-- hackathon-bot:checklist -->y.py", "added"),
        ChangedFile("a`b|c.py", "added"),
        ChangedFile("python/paddle/tensor/-->z.py", "modified"),
    ]
    return review_pr(
        rules,
        pr((1, 2, 3, 99)),
        files,
        "",
        CampaignState(claims=(claim(3, "bob"), claim(3, "eve"))),
        title_hints=("bad <!-- title --> here",),
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_checklist_starts_with_the_marker_and_user_text_cannot_add_markers(lang):
    rules = RULES
    text = render_checklist(_busy_review(rules), rules, lang)
    assert text.startswith(CHECKLIST_MARKER + "\n")
    assert text.count("<!--") == 1 and text.count("-->") == 1
    assert "``a`b|c.py``" in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_checklist_is_deterministic(lang):
    rules = RULES
    assert render_checklist(_busy_review(rules), rules, lang) == render_checklist(_busy_review(rules), rules, lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_item_kind_renders_in_both_languages(lang):
    rules = RULES
    reviews = [
        _busy_review(rules),
        review_pr(rules, pr(), GOOD_FILES, "", good_state()),
        review_pr(
            rules,
            pr(),
            GOOD_FILES,
            "https://github.com/PaddlePaddle/community/pull/3",
            CampaignState(),
            rfc={1: (RfcEvidence("https://github.com/PaddlePaddle/community/pull/3", RfcVerdict.MERGED, 3),)},
        ),
        review_pr(  # every kind of link that is not a design document, said in the checklist
            rules,
            pr(),
            GOOD_FILES,
            "",
            CampaignState(),
            rfc={1: tuple(RfcEvidence(f"https://x/{v}", v) for v in RfcVerdict if v not in ("merged", "open", "file"))},
        ),
        review_pr(rules, pr(), GOOD_FILES, "", CampaignState(prs=(pr(kind="rfc", repo=COMMUNITY, number=7),))),
        review_pr(rules, pr((2,)), [], "", CampaignState(closed_tasks=frozenset({2}))),
        review_pr(rules, pr((1, 4), kind="rfc", repo=COMMUNITY), [ChangedFile("rfcs/APIs/a.md", "added")], "", CampaignState()),
        review_pr(rules, pr(kind="rfc", repo="x/y"), [], "", CampaignState()),
        review_pr(rules, pr(revert=True), [], "", CampaignState()),
        review_pr(rules, dataclasses.replace(pr(), withdrawn_by="boss"), GOOD_FILES, "", good_state()),
        review_pr(rules, pr((4,)), GOOD_FILES, "", CampaignState()),  # checkable through its RFC alone
    ]
    policy = rules.campaign.claim_policy.model_copy(update={"max_claims_per_user": 1})
    limited = rules.model_copy(update={"campaign": rules.campaign.model_copy(update={"claim_policy": policy})})
    reviews.append(review_pr(limited, pr((1, 2)), GOOD_FILES, "", good_state(), title_names=2, over_limit={2: 1}))
    seen = set()
    for r in reviews:
        text = render_checklist(r, rules, lang)
        for i in r.items:
            seen.add((i.code, i.status))
        assert "None" not in text and "{{" not in text
        assert len([line for line in text.splitlines() if line.startswith("- ")]) == len(r.items)  # a line per item
    assert {c for c, _ in seen} == set(CheckCode)
    assert {s for _, s in seen} == set(CheckStatus)
    assert {i.params["reason"] for r in reviews for i in r.items if "reason" in i.params} == set(ClaimReason)
    assert {i.params["how"] for r in reviews for i in r.items if i.params.get("how")} == set(RfcFound)
    found = render_checklist(reviews[3], rules, lang)
    assert all(f"https://x/{v}" in found for v in RfcVerdict if v not in ("merged", "open", "file"))
    assert not any(f"https://x/{v}`: {v}" in found or f"https://x/{v}`：{v}" in found for v in RfcVerdict)  # each said in words


def test_all_pass_summary_differs_from_problems_summary():
    rules = RULES
    good = render_checklist(review_pr(rules, pr(), GOOD_FILES, "", good_state()), rules, "en")
    bad = render_checklist(review_pr(rules, pr(), GOOD_FILES[:1], "", good_state()), rules, "en")
    assert "All checks pass" in good and "1 item to fix" in bad


def test_required_test_files_count_as_inside_the_targets():
    r = review_pr(RULES, pr(), GOOD_FILES, "", good_state())
    assert item(r, "targets").params["outside"] == []
    r = review_pr(RULES, pr(repo="x/other"), GOOD_FILES, "", good_state())
    assert item(r, "targets").status == "fail"
