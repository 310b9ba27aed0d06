"""The bot's replies: what a participant or maintainer reads after commenting."""

from __future__ import annotations

import re
from datetime import datetime

import jinja2
import pytest

from bot.core import texts
from bot.core.model import CampaignState, Claim, Note, NoteCode, PullRequest, Stage
from bot.core.replies import HELPER_MACROS, render_help, render_reply, render_status, reply_marker
from bot.rules.models import ClaimPolicy, RfcDefaults, Source, Target, Task, TaskRfc
from tests.conftest import make_rules

T0 = datetime(2024, 3, 1)


RULES = make_rules(
    bare=True,
    rfc=RfcDefaults(repo="PaddlePaddle/community", path="rfcs/APIs"),
    maintainers=["lead"],
    claim_policy=ClaimPolicy(max_claims_per_user=3, max_claimants_per_task=2),
    tasks={
        12: Task(
            id=12,
            title="新增 foo API",
            rfc=TaskRfc(required=True),
            targets=[Target(repo="PaddlePaddle/Paddle", paths=["python/paddle/tensor/**"])],
            tests=["test/legacy_test/test_foo*.py"],
            acceptance=["精度对齐 PyTorch", "文档 <!-- 完整 -->"],
            source=Source(file="c.md", anchor="task12"),
        ),
        13: Task(id=13, title="整理 docs", targets=[Target(repo="PaddlePaddle/docs")]),
        14: Task(id=14, title="Free-form"),
    },
)

# One representative note per code, and what each language must say about it.
EXAMPLES = {
    "claimed": (Note("claimed", (14,)), "已报名 No.14", "Claimed No.14"),
    "already_claimed": (Note("already_claimed", (12,)), "你已报名 No.12", "already hold No.12"),
    "task_full": (
        Note("task_full", (12,), extra={"holders": {12: ["bob", "carol"]}}),
        "No.12（@bob、@carol）",
        "No.12 (by @bob, @carol)",
    ),
    "task_closed": (Note("task_closed", (13,)), "No.13 已关闭报名", "No.13 is closed"),
    "task_completed": (Note("task_completed", (13,)), "No.13 已完成", "No.13 is already completed"),
    "user_limit": (
        Note("user_limit", (14,), extra={"limit": 3, "held": [1, 2, 3]}),
        "最多认领 3 个任务（你已认领 No.1、No.2、No.3）",
        "at most 3 tasks at once (you hold No.1, No.2, No.3)",
    ),
    "unknown_task": (Note("unknown_task", (999,)), "本活动没有 No.999", "No.999 is not a task"),
    "unclaimed": (Note("unclaimed", (12,)), "已取消报名 No.12", "Released No.12"),
    "not_claimed": (Note("not_claimed", (13,)), "你尚未报名 No.13", "You have not claimed No.13"),
    "submitted": (
        Note("submitted", (12,), extra={"stage": "rfc", "link": "https://github.com/PaddlePaddle/community/pull/5"}),
        "No.12 的设计文档（RFC）：[链接](https://github.com/PaddlePaddle/community/pull/5)",
        "design document (RFC) for No.12: [link](https://github.com/PaddlePaddle/community/pull/5)",
    ),
    "assigned": (Note("assigned", (12, 13), user="dave"), "已将 No.12、No.13 分配给 @dave", "Assigned No.12, No.13 to @dave"),
    "unassigned": (Note("unassigned", (12,), user="dave"), "已将 @dave 从 No.12 移除", "Removed @dave from No.12"),
    "done": (Note("done", (12,), user="dave"), "No.12 标记为完成（完成者 @dave）", "Marked No.12 completed by @dave"),
    "reopened": (Note("reopened", (13,)), "已重新开放 No.13", "Reopened No.13"),
    "closed_by_maintainer": (Note("closed_by_maintainer", (13,)), "已关闭 No.13 的报名", "Closed No.13 to new claims"),
    "refreshed": (Note("refreshed"), "看板将根据记录重建", "board will be rebuilt"),
    "not_maintainer": (
        Note("not_maintainer", extra={"command": "/assign"}),
        "只有本活动的维护者可以使用 `/assign`",
        "only the campaign's maintainers can use `/assign`",
    ),
    "hint": (Note("hint", detail="TEXT-OF-HINT"), "💡 TEXT-OF-HINT", "💡 TEXT-OF-HINT"),
    "error": (Note("error", detail="TEXT-OF-ERROR"), "❌ TEXT-OF-ERROR", "❌ TEXT-OF-ERROR"),
    "claim_needs_task": (Note("claim_needs_task"), "要报名哪个任务", "Which task?"),
    "campaign_closed": (
        Note("campaign_closed", (12,)),
        "未报名：No.12；本活动已结束报名",
        "Not claimed: No.12; the campaign is closed",
    ),
    "renewed": (
        Note("renewed", (12,), extra={"days": 14, "lapses": "2024-03-29"}),
        "已为 No.12 续期 14 天：如仍没有 PR，将于 2024-03-29 失效",
        "Renewed No.12 for another 14 days: it lapses on 2024-03-29",
    ),
    "renew_too_early": (
        Note("renew_too_early", (12,), extra={"opens": "2024-03-12"}),
        "可从 2024-03-12（收到提醒时）起续期",
        "once per period, from 2024-03-12",
    ),
    "renew_not_needed": (
        Note("renew_not_needed", (12,), extra={"no_expiry": False}),
        "已有 PR 的报名不会失效",
        "a claim with a PR never lapses",
    ),
    "renew_lapsed": (Note("renew_lapsed", (12,)), "你对 No.12 的报名已失效", "your claim on No.12 has lapsed"),
    "campaign_closed_now": (Note("campaign_closed_now"), "本活动已结束", "The campaign is closed"),
    "campaign_already_closed": (
        Note("campaign_already_closed", extra={"since": "2024-03-01"}),
        "本活动已于 2024-03-01 结束",
        "closed since 2024-03-01",
    ),
    "campaign_not_closed": (Note("campaign_not_closed"), "本活动尚未结束", "The campaign is not closed"),
    "campaign_reopened": (Note("campaign_reopened"), "本活动已重新开放", "The campaign is open again"),
    "import_started": (
        Note("import_started", extra={"branch": "hackathon-bot/import-h9", "collections": ["docs/9th.md"]}),
        "正在从 `docs/9th.md` 导入任务",
        "Importing the tasks from `docs/9th.md`",
    ),
    "import_unavailable": (
        Note("import_unavailable", extra={"in_repo": True}),
        "没有列出 `collections:`",
        "lists no `collections:`",
    ),
}


def test_examples_cover_every_note_code():
    assert set(EXAMPLES) == set(NoteCode)


def _macro_names(lang: str) -> set[str]:
    module = texts.macros(lang, "replies.j2")
    return {name for name, value in vars(module).items() if isinstance(value, jinja2.runtime.Macro)}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_note_codes_and_reply_macros_match_both_ways(lang):
    """Every NoteCode member has its macro in the language's replies.j2, and every macro there is a
    member or one of the named helpers (a macro nobody can produce is dead text, a code without one would raise)."""
    names = _macro_names(lang)
    assert {c.value for c in NoteCode} - names == set()
    assert names - {c.value for c in NoteCode} == set(HELPER_MACROS)


def test_a_note_code_is_checked_when_the_note_is_made():
    assert Note("claimed", (1,)).code is NoteCode.CLAIMED
    with pytest.raises(ValueError):
        Note("claimd", (1,))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("code", list(NoteCode))
def test_every_note_code_has_its_text(code, lang):
    note, zh, en = EXAMPLES[code]
    out = render_reply(RULES, [note], lang, user="alice", comment_id=4242)
    assert out.startswith(reply_marker(4242) + "\n@alice ")
    assert (zh if lang == "zh" else en) in out
    assert "None" not in out and "{{" not in out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_code_reads_differently(lang):
    lines = {render_reply(RULES, [n], lang, user="a", comment_id=1).split("\n")[1] for n, _, _ in EXAMPLES.values()}
    assert len(lines) == len(EXAMPLES)


def test_reply_marker():
    assert reply_marker(987654321) == "<!-- hackathon-bot:reply:987654321 -->"


def test_unknown_code_is_a_programming_error():
    with pytest.raises(ValueError):
        render_reply(RULES, [Note("claimd", (1,))], "en", user="a", comment_id=1)


# ---- shape


def test_several_groups_are_one_bullet_each_and_same_code_notes_merge():
    notes = [
        Note("claimed", (12,)),
        Note("unknown_task", (500,)),
        Note("claimed", (13,)),
        Note("task_full", (1,), extra={"holders": {1: ["x"]}}),
        Note("task_full", (2,), extra={"holders": {2: ["y"]}}),
        Note("assigned", (12,), user="p"),
        Note("assigned", (13,), user="q"),
    ]
    out = render_reply(RULES, notes, "en", user="alice", comment_id=1)
    bullets = [line for line in out.splitlines() if line.startswith("- ") and not line.startswith("- **")]
    assert bullets == [
        "- ✅ Claimed No.12, No.13. Good luck!",
        "- ❌ No.500 is not a task of this campaign.",
        "- ⚠️ Not claimed, already taken: No.1 (by @x); No.2 (by @y).",
        "- ✅ Assigned No.12 to @p.",
        "- ✅ Assigned No.13 to @q.",
    ]


def test_user_limit_notes_with_different_holdings_stay_apart():
    notes = [Note("user_limit", (5,), extra={"limit": 1, "held": [1]}), Note("user_limit", (6,), extra={"limit": 1, "held": [2]})]
    assert render_reply(RULES, notes, "en", user="a", comment_id=1).count("at most 1 task at once") == 2


@pytest.mark.parametrize(
    "lang,head,rfc,code,tests,acc",
    [
        (
            "en",
            "what to deliver",
            "a PR to PaddlePaddle/community adding it under `rfcs/APIs`",
            "a PR to PaddlePaddle/Paddle changing `python/paddle/tensor/**`, titled `【Hackathon 9th No.12】`",
            "add or change `test/legacy_test/test_foo*.py`",
            "  - 精度对齐 PyTorch",
        ),
        (
            "zh",
            "提交内容",
            "向 PaddlePaddle/community 提 PR，在 `rfcs/APIs` 下新建文档",
            "向 PaddlePaddle/Paddle 提 PR，修改 `python/paddle/tensor/**`，标题以 `【Hackathon 9th No.12】` 开头",
            "新增或修改 `test/legacy_test/test_foo*.py`",
            "  - 精度对齐 PyTorch",
        ),
    ],
)
def test_one_claimed_task_shows_what_to_deliver_inline(lang, head, rfc, code, tests, acc):
    out = render_reply(RULES, [Note("claimed", (12,))], lang, user="alice", comment_id=1)
    for frag in (head, rfc, code, tests, acc, "(https://github.com/PaddlePaddle/Paddle/issues/9#task12)"):
        assert frag in out
    assert "<details>" not in out
    assert out.count("<!--") == 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_several_claimed_tasks_are_collapsed(lang):
    out = render_reply(RULES, [Note("claimed", (12, 13, 14))], lang, user="alice", comment_id=1)
    assert out.count("<details>") == 3 and out.count("</details>") == 3
    assert "<summary>No.12 新增 foo API" in out and "PaddlePaddle/docs" in out
    assert out.index("No.12 新增") < out.index("No.13 整理") < out.index("No.14 Free")


def test_no_deliverables_for_claims_that_failed():
    out = render_reply(RULES, [Note("task_full", (12,), extra={"holders": {12: ["b"]}})], "en", user="a", comment_id=1)
    assert "deliver" not in out


# ---- escaping and determinism


class FakeMessage:
    def text(self, lang):
        return {"zh": "中文提示", "en": "english hint"}[lang]


def test_details_in_message_objects_are_rendered_in_the_reply_language():
    assert "中文提示" in render_reply(RULES, [Note("hint", detail=FakeMessage())], "zh", user="a", comment_id=1)
    assert "english hint" in render_reply(RULES, [Note("hint", detail=FakeMessage())], "en", user="a", comment_id=1)


def test_user_text_cannot_spoof_markers_or_links():
    notes = [
        Note("hint", detail="x <!-- hackathon-bot:reply:1 --> y\nsecond line"),
        Note("assigned", (1,), user="ev<i>l|"),
        Note("submitted", (12,), extra={"stage": "code", "link": "javascript:alert(1)"}),
    ]
    out = render_reply(RULES, notes, "en", user="a](http://x)<!--", comment_id=7)
    assert out.count("<!--") == 1 and out.count("-->") == 1
    assert "javascript" not in out and "<i>" not in out and not re.search(r"(?<!\\)\]\(http://x\)", out)
    assert "Recorded your work for No.12." in out
    assert "x <\u200b!-- hackathon-bot:reply:1 --\u200b> y second line" in out


def test_reply_is_deterministic():
    notes = [n for n, _, _ in EXAMPLES.values()]
    assert render_reply(RULES, notes, "zh", user="a", comment_id=3) == render_reply(
        RULES, list(notes), "zh", user="a", comment_id=3
    )


# ---- /help and /status


@pytest.mark.parametrize("lang,limits", [("zh", "每人同时最多认领 3 个任务"), ("en", "At most 3 tasks per person")])
def test_help_lists_every_command(lang, limits):
    out = render_help(RULES, lang)
    for cmd in (
        "/assign @user",
        "/unassign @user",
        "/done 12",
        "/reopen",
        "/close-task",
        "/status",
        "/refresh",
        "/help",
        "【报名】",
        "【取消报名】",
        "【提交提案】",
        "【提交作品】",
        "【队名】",
        "`【Hackathon 9th No.12】`",
        "@lead",
    ):
        assert cmd in out, cmd
    assert limits in out


def _state():
    return CampaignState(
        claims=(Claim("h9", 12, "alice", Stage.SUBMITTED, T0), Claim("h9", 13, "bob", Stage.COMPLETED, T0)),
        prs=(PullRequest("h9", "PaddlePaddle/Paddle", 77, "alice", "t", (12,), "code", "open", "u"),),
        closed_tasks=frozenset({14}),
    )


@pytest.mark.parametrize(
    "lang,summary",
    [
        ("en", "3 tasks; 2 claimed (67%), 2 submitted (67%), 1 completed (33%); 1 closed; 2 participants"),
        ("zh", "共 3 个任务；已报名 2（67%），已提交 2（67%），已完成 1（33%）；已关闭 1；参与者 2 人"),
    ],
)
def test_status_without_ids_gives_the_numbers(lang, summary):
    assert summary in render_status(RULES, _state(), (), lang)


@pytest.mark.parametrize(
    "lang,lines",
    [
        (
            "en",
            [
                "@alice: PR submitted, in review (PR #77); 1 of 2 places free.",
                "No.14 Free-form: closed to new claims; free, nobody holds it (2 places).",
                "No.404: not a task",
            ],
        ),
        (
            "zh",
            [
                "@alice：已提交 PR，评审中（PR #77）；还可报名 1 人（共 2 人）。",
                "No.14 Free-form：已关闭报名；尚无人报名（可报名 2 人）。",
                "No.404：本活动没有此任务",
            ],
        ),
    ],
)
def test_status_with_ids_describes_each_task(lang, lines):
    out = render_status(RULES, _state(), (12, 14, 404, 12), lang)
    for frag in lines:
        assert frag in out
    assert out.count("No.12") == 1
    assert out == render_status(RULES, _state(), (12, 14, 404, 12), lang)


# ---- over-long replies are cut, never refused by GitHub (issue 8) --------------------------------------------
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import texts as _texts


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=3000), max_size=80), st.sampled_from(["zh", "en"]), st.integers(2000, 70000))
def test_fit_keeps_every_body_under_the_limit_and_says_what_it_cut(lines, lang, limit):
    body = "<!-- marker -->\n" + "\n".join(lines)
    out = _texts.fit(body, lang, limit)
    assert len(out) <= limit
    if len(body) <= limit:
        assert out == body
    else:
        kept = out.rsplit("\n\n", 1)[0]
        assert body.startswith(kept.rstrip("\n")) and ("65,536" in out)
