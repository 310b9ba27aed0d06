"""The comment command language: every example of issue 3, realistic variants, properties."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.commands import (
    MAX_RANGE,
    MAX_TASK_ID,
    Command,
    command_problem,
    format_tasks,
    new_commands,
    parse_comment,
    render_command,
)
from bot.core.messages import Message, known_codes

BOT = "hackathon-bot"


def cmds(text: str, **kw) -> list[Command]:
    return parse_comment(text, bot_login=BOT, **kw).commands


def claim(*tasks: int, **kw) -> Command:
    return Command("claim", tuple(tasks), **kw)


def codes(msgs: list[Message]) -> list[str]:
    return [m.code for m in msgs]


# --- claims: the issue's examples ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, tasks",
    [
        ("【报名】：2、3", (2, 3)),
        ("【报名】：2-5", (2, 3, 4, 5)),
        ("【报名】：88-93", (88, 89, 90, 91, 92, 93)),
        ("【报名】：7、9-11、31", (7, 9, 10, 11, 31)),
        ("【报名】: 19,21,23", (19, 21, 23)),
        ("【报名】：19，21，23", (19, 21, 23)),
        ("【报名】：2 、 3 、 4", (2, 3, 4)),
        ("【报名】37、38", (37, 38)),
        ("[报名]：2", (2,)),
        ("【报名】：1、3、2-3", (1, 2, 3)),
        ("【报名】：40      SDGD优化器", (40,)),
    ],
)
def test_zh_claim_forms_from_the_issue(text, tasks):
    assert cmds(text) == [Command("claim", tasks)]


@pytest.mark.parametrize(
    "text, tasks",
    [
        ("claim No.93", (93,)),
        ("claim 93, 94", (93, 94)),
        ("/claim 93", (93,)),
        ("@hackathon-bot claim 93", (93,)),
    ],
)
def test_en_claim_forms_from_the_issue(text, tasks):
    assert cmds(text) == [Command("claim", tasks)]


@pytest.mark.parametrize("text", ["【取消报名】：3", "unclaim No.3", "/unclaim 3"])
def test_unclaim_forms(text):
    assert cmds(text) == [Command("unclaim", (3,))]


# --- claims: what real participants also type ----------------------------------------------------


@pytest.mark.parametrize(
    "text, tasks",
    [
        ("【报名】：９３", (93,)),  # full-width digits
        ("【报名】：No．93", (93,)),  # full-width dot
        ("【报名】：No.93、No.94", (93, 94)),
        ("【报名】：#12", (12,)),
        ("【报名】：12。", (12,)),  # trailing full stop
        ("【报名】：12，谢谢！", (12,)),
        ("【报名】：40号任务", (40,)),
        ("【报名】：5 2024年春季学期有时间", (5,)),  # a year in the prose is no task
        ("【报名】：5 6号", (5,)),
        ("【报名】：5 6", (5, 6)),
        ("【报名】:3 ", (3,)),
        ("【 报名 】：5", (5,)),
        ("［报名］：6", (6,)),
        ("[报名】：7", (7,)),  # mixed brackets
        ("**【报名】**：8", (8,)),  # bold label
        ("【报名】：**8**", (8,)),
        ("【报名】：2~4", (2, 3, 4)),
        ("【报名】：2～4", (2, 3, 4)),
        ("【报名】：2 - 4", (2, 3, 4)),
        ("【报名】：2到4", (2, 3, 4)),
        ("【报名】：2 和 5", (2, 5)),
        ("【报名】：2; 5", (2, 5)),
        ("Claim No.93", (93,)),
        ("CLAIM: 93", (93,)),
        ("claim #93", (93,)),
        ("claim No.93 and No.94", (93, 94)),
        ("I'd like to claim No.93, thanks!", (93,)),
        ("@hackathon-bot /claim 93", (93,)),
        ("  /CLAIM 93", (93,)),
    ],
)
def test_realistic_claim_variants(text, tasks):
    assert cmds(text) == [Command("claim", tasks)]


def test_several_claims_in_one_comment_keep_their_order():
    text = "大家好！\n【报名】：5\n另外 claim No.7\n\n[报名]：3"
    assert cmds(text) == [claim(5), claim(7), claim(3)]


def test_claim_text_crlf_line_endings():
    assert cmds("hi\r\n【报名】：5\r\n/unclaim 6\r\n") == [claim(5), Command("unclaim", (6,))]


def test_identical_commands_in_a_comment_count_once():
    assert cmds("【报名】：5\n【报名】：5") == [claim(5)]


@pytest.mark.parametrize("text", ["reclaim 3", "claimed 3 yesterday", "unclaimed 3", "the claim is weak"])
def test_words_containing_claim_are_not_claims(text):
    assert cmds(text) == []


def test_mention_of_another_bot_login_is_not_a_line_command():
    assert cmds("@other-bot assign @x 3") == []


# --- submit --------------------------------------------------------------------------------------


def test_submit_without_stage():
    assert cmds("【提交】：24") == [Command("submit", (24,))]


def test_submit_rfc_with_link_line():
    text = "【提交提案】：60\n【提案链接】：https://github.com/PaddlePaddle/community/pull/900"
    assert cmds(text) == [Command("submit", (60,), stage="rfc", link="https://github.com/PaddlePaddle/community/pull/900")]


def test_submit_code_with_link_line():
    text = "【提交作品】：60\n【作品链接】：https://github.com/PaddlePaddle/Paddle/pull/5"
    assert cmds(text) == [Command("submit", (60,), stage="code", link="https://github.com/PaddlePaddle/Paddle/pull/5")]


@pytest.mark.parametrize(
    "text, link",
    [
        ("【提交】：24 https://github.com/a/b/pull/1", "https://github.com/a/b/pull/1"),
        ("【提交】：24\n【链接】：https://github.com/a/b/pull/1。", "https://github.com/a/b/pull/1"),
        ("【提交】：24\n【链接】：[PR](https://github.com/a/b/pull/1)", "https://github.com/a/b/pull/1"),
    ],
)
def test_submit_link_on_the_line_or_plain_link_line(text, link):
    assert cmds(text) == [Command("submit", (24,), link=link)]


def test_rfc_link_gives_a_stageless_submit_its_stage():
    assert cmds("【提交】：24\n【提案链接】：https://x.org/r") == [Command("submit", (24,), stage="rfc", link="https://x.org/r")]


def test_links_go_to_the_submit_they_follow():
    text = "【提交提案】：1\n【提案链接】：https://x.org/1\n【提交提案】：2\n【提案链接】：https://x.org/2"
    assert cmds(text) == [
        Command("submit", (1,), stage="rfc", link="https://x.org/1"),
        Command("submit", (2,), stage="rfc", link="https://x.org/2"),
    ]


def test_link_line_before_its_submit_still_attaches():
    assert cmds("【提案链接】：https://x.org/1\n【提交提案】：3") == [
        Command("submit", (3,), stage="rfc", link="https://x.org/1")
    ]


def test_a_code_link_does_not_go_to_an_rfc_submit():
    r = parse_comment("【提交提案】：3\n【作品链接】：https://x.org/1")
    assert r.commands == [Command("submit", (3,), stage="rfc")] and codes(r.hints) == ["link_without_submit"]


def test_slash_submit():
    assert cmds("/submit rfc 3 https://x.org/pr/3") == [Command("submit", (3,), stage="rfc", link="https://x.org/pr/3")]


def test_link_without_url_or_without_submit_is_a_hint():
    r = parse_comment("【提交作品】：5\n【作品链接】：稍后补充")
    assert r.commands == [Command("submit", (5,), stage="code")]
    assert codes(r.hints) == ["link_not_url"]
    r = parse_comment("【提案链接】：https://x.org/1")
    assert r.commands == [] and codes(r.hints) == ["link_without_submit"]


# --- team format ---------------------------------------------------------------------------------


def test_team_format_claim_and_submit_rfc():
    text = "【队名】：飞桨小分队\n\n【序号】：128\n\n【状态】：报名 & 提交rfc\n\n【链接】：https://github.com/PaddlePaddle/community/pull/1"
    link = "https://github.com/PaddlePaddle/community/pull/1"
    assert cmds(text) == [
        Command("claim", (128,), link=link, team="飞桨小分队"),
        Command("submit", (128,), stage="rfc", link=link, team="飞桨小分队"),
    ]


@pytest.mark.parametrize(
    "status, expected",
    [
        ("报名", [("claim", None)]),
        ("提交提案", [("submit", "rfc")]),
        ("提交作品", [("submit", "code")]),
        ("提交RFC", [("submit", "rfc")]),
        ("报名 & 提交rfc", [("claim", None), ("submit", "rfc")]),
        ("报名、提交 RFC", [("claim", None), ("submit", "rfc")]),
    ],
)
def test_team_format_status_values(status, expected):
    text = f"【队名】：A队\n【序号】：7\n【状态】：{status}"
    assert [(c.action, c.stage) for c in cmds(text)] == expected
    assert all(c.team == "A队" and c.tasks == (7,) and c.link is None for c in cmds(text))


def test_two_team_blocks_in_one_comment():
    text = "【队名】：A\n【序号】：1\n【状态】：报名\n\n【队名】：A\n【序号】：2\n【状态】：报名"
    assert cmds(text) == [claim(1, team="A"), claim(2, team="A")]


def test_team_block_missing_status_gets_a_hint():
    r = parse_comment("【队名】：A\n【序号】：1")
    assert r.commands == [] and codes(r.hints) == ["team_incomplete"]
    assert "【状态】" in r.hints[0].text("zh")


def test_unknown_team_status_gets_a_hint_listing_the_values():
    r = parse_comment("【队名】：A\n【序号】：1\n【状态】：进行中")
    assert r.commands == [] and codes(r.hints) == ["team_status_unknown"]
    assert "报名" in r.hints[0].text("en") and "进行中" in r.hints[0].text("en")


def test_team_name_that_looks_like_a_command_is_only_a_name():
    assert cmds("【队名】：claim 3 【报名】：4\n【序号】：1\n【状态】：报名") == [claim(1, team="claim 3 【报名】：4")]


# --- maintainer commands -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("/assign @user 12 13", Command("assign", (12, 13), user="user")),
        ("/assign 12, 13 @user", Command("assign", (12, 13), user="user")),
        ("/unassign @user 12", Command("unassign", (12,), user="user")),
        ("/done 12", Command("done", (12,))),
        ("/done 12 @user", Command("done", (12,), user="user")),
        ("/reopen 12", Command("reopen", (12,))),
        ("/close-task 12", Command("close-task", (12,))),
        ("/close_task 12", Command("close-task", (12,))),
        ("/status", Command("status")),
        ("/status 12", Command("status", (12,))),
        ("/refresh", Command("refresh")),
        ("/help", Command("help")),
        ("/HELP", Command("help")),
        ("/Assign @Some-User No.12", Command("assign", (12,), user="Some-User")),
        ("@hackathon-bot assign @user 12", Command("assign", (12,), user="user")),
        ("/done 12 @user thanks for the great work", Command("done", (12,), user="user")),
    ],
)
def test_maintainer_commands(text, expected):
    assert cmds(text) == [expected]


def test_maintainer_commands_one_per_line():
    text = "/assign @a 1\n/done 2 @b\n/refresh"
    assert cmds(text) == [Command("assign", (1,), user="a"), Command("done", (2,), user="b"), Command("refresh")]


@pytest.mark.parametrize(
    "text, code",
    [
        ("/assign 12", "missing_user"),
        ("/assign @user", "missing_tasks"),
        ("/done", "missing_tasks"),
        ("/assign @a @b 12", "too_many_users"),
    ],
)
def test_maintainer_command_errors(text, code):
    r = parse_comment(text)
    assert r.commands == [] and codes(r.errors) == [code]


def test_misspelt_slash_command_gets_a_hint_and_paths_are_ignored():
    r = parse_comment("/clam 3")
    assert r.commands == [] and codes(r.hints) == ["unknown_command"]
    assert "/claim" in r.hints[0].text("en")
    r = parse_comment("/usr/local/bin is the path")
    assert r.commands == [] and r.hints == [] and r.errors == []


def test_maintainer_command_only_at_line_start():
    assert cmds("please run /assign @a 1 for me") == []


# --- ignored regions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "```\n【报名】：3\n```",
        "~~~md\n【报名】：3\n~~~",
        "```\n【报名】：3",  # unclosed fence runs to the end
        "> 【报名】：3",
        "> 报名格式：\n> 【报名】：3",
        "   > claim No.3",
        "`【报名】：3`",
        "格式是 `claim No.3` 哦",
        "<!-- 【报名】：3 -->",
        "<!--\n【报名】：3\n-->",
        "```\n/assign @a 3\n```",
    ],
)
def test_code_quotes_and_html_comments_are_ignored(text):
    r = parse_comment(text)
    assert r.commands == [] and r.errors == []


def test_text_after_a_code_block_still_counts():
    assert cmds("> 请按格式报名：\n> 【报名】：1\n\n```\n【报名】：2\n```\n【报名】：3") == [claim(3)]


# --- errors: 0, negatives, absurd ranges ---------------------------------------------------------


@pytest.mark.parametrize(
    "text, code",
    [
        ("【报名】：0", "task_zero"),
        ("claim No.0", "task_zero"),
        ("【报名】：-3", "task_negative"),
        ("【报名】：1-100000", "range_too_large"),
        (f"【报名】：1-{MAX_RANGE + 1}", "range_too_large"),
        ("【报名】：5-2", "range_reversed"),
        (f"【报名】：{MAX_TASK_ID + 1}", "task_too_big"),
        ("/assign @a 0", "task_zero"),
    ],
)
def test_bad_numbers_are_errors_and_record_nothing(text, code):
    r = parse_comment(text)
    assert r.commands == [] and codes(r.errors) == [code]


def test_range_at_the_cap_is_fine():
    assert cmds(f"【报名】：1-{MAX_RANGE}") == [claim(*range(1, MAX_RANGE + 1))]


def test_error_text_names_the_item_and_the_cap():
    r = parse_comment("【报名】：1-100000")
    for lang in ("zh", "en"):
        text = r.errors[0].text(lang)
        assert "1-100000" in text and str(MAX_RANGE) in text


# --- near misses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, code, suggestion",
    [
        ("1、2", "near_miss_bare_numbers", "【报名】：1、2"),
        ("93", "near_miss_bare_numbers", "【报名】：93"),
        ("报名:3", "near_miss_no_brackets", "【报名】：3"),
        ("报名：3、4", "near_miss_no_brackets", "【报名】：3、4"),
        ("我想报名：3", "near_miss_no_brackets", "【报名】：3"),
        ("取消报名：3", "near_miss_no_brackets", "【取消报名】：3"),
        ("提交提案：3", "near_miss_no_brackets", "【提交提案】：3"),
        ("【报名：3】", "near_miss_no_brackets", "【报名】：3"),
        ("claim", "claim_no_number", "claim No.3"),
        ("/claim", "claim_no_number", "/claim 3"),
        ("claim No.", "claim_no_number", "claim No.3"),
        ("【报名】：", "label_no_number", "【报名】：3"),
        ("【报名】：SDGD优化器", "label_no_number", "【报名】：3"),
    ],
)
def test_near_misses_are_hints_with_the_correct_form(text, code, suggestion):
    r = parse_comment(text, bot_login=BOT)
    assert r.commands == [] and r.errors == []
    assert codes(r.hints) == [code]
    for lang in ("zh", "en"):
        assert suggestion in r.hints[0].text(lang)


@pytest.mark.parametrize(
    "text",
    [
        "报名截止时间是什么时候？",
        "我已经报名了，请问什么时候开始？",
        "请问 claim 之后多久要提交？",
        "+1",
        "LGTM",
    ],
)
def test_ordinary_sentences_are_neither_commands_nor_hints(text):
    r = parse_comment(text)
    assert r.commands == [] and r.hints == [] and r.errors == []


def test_bare_numbers_do_not_hint_when_the_comment_has_a_command():
    r = parse_comment("【报名】：5\n6")
    assert r.commands == [claim(5)] and r.hints == []


# --- edited comments -----------------------------------------------------------------------------


def test_edit_keeps_only_new_commands():
    old = "【报名】：5"
    new = "【报名】：5\n【报名】：6\n/unclaim 2"
    assert new_commands(old, new).commands == [claim(6), Command("unclaim", (2,))]


def test_edit_that_changes_nothing_yields_nothing():
    text = "【报名】：5\n报名:3"
    r = new_commands(text, text + "\n（已编辑）")
    assert r.commands == [] and r.hints == [] and r.errors == []


def test_edit_fixing_a_near_miss_yields_the_claim():
    r = new_commands("报名:3", "【报名】：3")
    assert r.commands == [claim(3)] and r.hints == []


def test_edit_adding_a_number_claims_only_the_new_task():
    assert new_commands("【报名】：5", "【报名】：5、6").commands == [claim(6)]


def test_edit_moving_a_task_to_another_line_is_not_new():
    assert new_commands("【报名】：5、6", "【报名】：5\n【报名】：6").commands == []


# --- rendering and the JSON shape ----------------------------------------------------------------


@pytest.mark.parametrize(
    "cmd, zh, en",
    [
        (claim(1, 2), "【报名】：1、2", "/claim 1, 2"),
        (claim(1, 2, 3, 7), "【报名】：1-3、7", "/claim 1-3, 7"),
        (
            Command("submit", (3,), stage="rfc", link="https://x.org/1"),
            "【提交提案】：3\n【提案链接】：https://x.org/1",
            "/submit rfc 3 https://x.org/1",
        ),
        (Command("assign", (4,), user="u"), "/assign @u 4", "/assign @u 4"),
        (Command("done", (4,), user="u"), "/done 4 @u", "/done 4 @u"),
    ],
)
def test_render_command(cmd, zh, en):
    assert render_command(cmd, "zh") == zh
    assert render_command(cmd, "en") == en


def test_format_tasks_splits_runs_longer_than_the_range_cap():
    tasks = tuple(range(1, MAX_RANGE + 11))
    assert parse_comment(render_command(claim(*tasks))).commands == [claim(*tasks)]
    assert format_tasks(tasks).count("-") == 2


@pytest.mark.parametrize(
    "cmd",
    [
        Command("claim"),
        Command("assign", (1,)),
        Command("refresh", (1,)),
        Command("claim", (2, 1)),
        Command("help", stage="rfc"),
    ],
)
def test_render_refuses_commands_the_parser_cannot_produce(cmd):
    assert command_problem(cmd) is not None
    with pytest.raises(ValueError):
        render_command(cmd)


def test_a_command_with_an_unknown_verb_cannot_be_made():
    with pytest.raises(ValueError):
        Command("fly", (1,))


def test_as_dict_has_the_issue_shape():
    r = parse_comment("【报名】：1\n【报名】：0\n报名:3")
    d = r.as_dict("en")
    assert d["commands"] == [{"action": "claim", "tasks": [1], "stage": None, "link": None, "team": None, "user": None}]
    assert len(d["errors"]) == 1 and isinstance(d["errors"][0], str)
    assert len(d["hints"]) == 1 and "【报名】：3" in d["hints"][0]
    assert r.as_dict("zh")["errors"] != d["errors"]


def test_every_message_code_has_zh_and_en_text_that_differ():
    import re
    from pathlib import Path

    import bot.core.commands
    import bot.core.decide
    import bot.core.titles

    used = set()
    for mod in (bot.core.commands, bot.core.titles, bot.core.decide):
        used |= set(re.findall(r'Message\("([a-z_]+)"', Path(mod.__file__).read_text(encoding="utf-8")))
    assert used and used <= known_codes()
    for code in known_codes():
        params: dict = {
            k: "X"
            for k in (
                *("item", "low", "high", "count", "max", "found", "suggestion", "command", "example", "label", "missing"),
                "numbered",
            )
        }
        params["commands"] = ("/X",)
        zh, en = Message(code, params).text("zh"), Message(code, params).text("en")
        assert zh and en and zh != en


# --- properties ----------------------------------------------------------------------------------

_comment_chars = st.sampled_from(
    list("【】[]［］：:、,，-~ \n\t/@#`>*_<!-报名取消提交提案作品链接队名序号状态claimNo.0123456789０９rfcode&https://x")
)
_comment = st.one_of(
    st.text(),
    st.text(_comment_chars, max_size=80),
    st.lists(
        st.sampled_from(
            [
                "【报名】：",
                "claim ",
                "/assign ",
                "@u ",
                "1",
                "-",
                "、",
                "No.",
                "\n",
                "```",
                "> ",
                "`",
                "<!--",
                "-->",
                "【队名】：",
                "【序号】：",
                "【状态】：",
                "报名",
                " & ",
                "【链接】：",
                "https://x.org/p",
                "/submit rfc ",
                "0",
                "99999",
                "@hackathon-bot ",
            ]
        ),
        max_size=20,
    ).map("".join),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(_comment)
def test_no_text_makes_the_parser_raise(text):
    r = parse_comment(text, bot_login=BOT)
    r.as_dict("zh"), r.as_dict("en")
    new_commands(text[: len(text) // 2], text, bot_login=BOT)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_comment)
def test_every_parsed_command_renders_and_parses_back(text):
    for cmd in parse_comment(text, bot_login=BOT).commands:
        for lang in ("zh", "en"):
            assert parse_comment(render_command(cmd, lang), bot_login=BOT).commands == [cmd]


_tasks = st.lists(st.integers(1, MAX_TASK_ID), min_size=1, max_size=12).map(lambda xs: tuple(sorted(set(xs))))
_login = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,8}", fullmatch=True)
_url = st.from_regex(r"https://github\.com/[a-z]{1,8}/[a-z]{1,8}/pull/[0-9]{1,5}", fullmatch=True)
_team = (
    st.text(st.sampled_from(list("飞桨队AbZ09-_. &()")), min_size=1, max_size=12)
    .map(str.strip)
    .filter(lambda s: s and command_problem(Command("claim", (1,), team=s)) is None)
)


@st.composite
def _commands(draw) -> Command:
    action = draw(
        st.sampled_from(
            ["claim", "unclaim", "submit", "assign", "unassign", "done", "reopen", "close-task", "status", "refresh", "help"]
        )
    )
    if action in ("refresh", "help"):
        return Command(action)
    if action == "status":
        return Command(action, draw(st.one_of(st.just(()), _tasks)))
    tasks = draw(_tasks)
    if action in ("assign", "unassign"):
        return Command(action, tasks, user=draw(_login))
    if action == "done":
        return Command(action, tasks, user=draw(st.one_of(st.none(), _login)))
    if action in ("reopen", "close-task"):
        return Command(action, tasks)
    stage = draw(st.sampled_from([None, "rfc", "code"])) if action == "submit" else None
    team = draw(st.one_of(st.none(), _team))
    link = draw(st.one_of(st.none(), _url)) if (team is not None or action == "submit") else None
    return Command(action, tasks, stage=stage, link=link, team=team)


@settings(max_examples=500)
@given(_commands(), st.sampled_from(["zh", "en"]))
def test_render_command_parses_back_to_the_command(cmd, lang):
    assert command_problem(cmd) is None
    assert parse_comment(render_command(cmd, lang), bot_login=BOT).commands == [cmd]


# --- hostile input (issue 8): linear time, never a raise ------------------------------------------
# A parse that backtracks quadratically takes seconds to minutes on these (48 s for the first one
# before the fix); a linear one takes milliseconds. The bound is generous so a loaded machine
# never fails it; bench/bench_parse.py prints the real figures.

LIMIT = 65_536  # GitHub's largest comment
BOUND = 1.0  # seconds per parse


def _timed(fn, *args, **kw) -> float:
    """CPU seconds `fn` took (the suite's other processes share the machine: wall time would
    measure them too; a parse that backtracks burns CPU in this thread)."""
    import time

    start = time.thread_time()
    fn(*args, **kw)
    return time.thread_time() - start


HOSTILE = {
    "spaces between two words": "a" + " " * (LIMIT - 2) + "b",
    "submit then brackets": "【提交】：3" + "[" * (LIMIT - 6),
    "No then spaces": "【报名】：No" + " " * (LIMIT - 10) + "x",
    "claim No then spaces": "claim No" + " " * (LIMIT - 9) + "x",
    "status then spaces": "【序号】：1\n【状态】：报名" + " " * (LIMIT - 20) + "x",
    "markdown links without end": "【提交】：3 " + "[](http://a" * (LIMIT // 11 - 1),
    "code spans of every length": "".join("`" * k + "a" for k in range(1, 360)),
    "digits": "【报名】：9 " + "1" * (LIMIT - 7),
    "spaced digits": "1 " * (LIMIT // 2),
    "claims and labels": "claim 1 【报名】" * (LIMIT // 12),
    "nested quotes": ("> " * 100 + "【报名】：1\n") * (LIMIT // 210),
    "open tags": "<pre <code <!-" * (LIMIT // 14),
    "full-width punctuation": "【报名】：" + "１、，；：" * (LIMIT // 5 - 1),
    "stars and underscores": "**__" * (LIMIT // 4),
    "indented lines": ("    /done 1\n" + "x\n") * (LIMIT // 14),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_comments_parse_in_linear_time(name):
    text = HOSTILE[name][:LIMIT]
    assert _timed(parse_comment, text, bot_login=BOT) < BOUND
    assert _timed(new_commands, text[: len(text) // 2], text, bot_login=BOT) < 2 * BOUND


_UNITS = st.sampled_from(
    [
        " ",
        "  ",
        "\t",
        "*",
        "**",
        "_",
        "[",
        "]",
        "(",
        ")",
        "`",
        "```",
        "~~~",
        ">",
        "> ",
        "<",
        "<!--",
        "-->",
        "<pre>",
        "<code>",
        "1",
        "9",
        "99999",
        "０",
        "-",
        "、",
        "，",
        "：",
        ":",
        "【",
        "】",
        "［",
        "No",
        "No.",
        "#",
        "@",
        "/",
        "\n",
        "\n\n",
        "    ",
        "报名",
        "【报名】",
        "【报名】：",
        "claim ",
        "【提交】：3 ",
        "[a](",
        "http://",
        "https://x.org/",
        "【序号】：1\n【状态】：",
        "&",
        "（",
        "认领",
        "\u200b",
        "\u3000",
        "a",
        "年",
    ]
)


@st.composite
def _hostile(draw) -> str:
    """A few long runs of adversarial units, up to GitHub's 65,536 characters."""
    parts = draw(
        st.lists(st.tuples(st.lists(_UNITS, min_size=1, max_size=3).map("".join), st.integers(1, LIMIT)), min_size=1, max_size=4)
    )
    text = ""
    for unit, count in parts:
        text += unit * min(count, (LIMIT - len(text)) // len(unit) + 1)
    return text[:LIMIT]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_hostile())
def test_adversarial_comments_stay_linear_and_never_raise(text):
    assert _timed(parse_comment, text, bot_login=BOT) < BOUND
    r = parse_comment(text, bot_login=BOT)
    for m in r.hints + r.errors:
        assert len(m.text("en")) < 1000  # user text quoted back is cut short


# --- numbers are bounded before conversion -------------------------------------------------------


def test_a_huge_number_beside_a_claim_keeps_the_claim_and_reports_the_number():
    huge = "1" * 4301  # past Python's int-conversion limit
    for text in (f"【报名】：9\n【报名】：{huge}", f"【报名】：9 {huge}", f"【报名】：{huge}、9", f"claim 9 and {huge}"):
        r = parse_comment(text)
        assert r.commands == [claim(9)], text
        assert codes(r.errors) == ["task_too_big"]
        assert len(r.errors[0].params["item"]) <= 40


def test_a_huge_number_in_a_maintainer_command_is_an_error_not_a_crash():
    r = parse_comment("/assign @a " + "9" * 5000)
    assert r.commands == [] and codes(r.errors) == ["task_too_big"]
    r = parse_comment("/done 3-" + "9" * 5000)
    assert r.commands == [] and codes(r.errors) == ["task_too_big"]


@pytest.mark.parametrize(
    "text, tasks, code",
    [
        ("【报名】：3、0", (3,), "task_zero"),
        ("【报名】：3、5-2", (3,), "range_reversed"),
        ("【报名】：1-100000、7", (7,), "range_too_large"),
        ("claim 4, -2", (4,), "task_negative"),
        ("【报名】：0005、10000", (5,), "task_too_big"),
    ],
)
def test_a_bad_number_in_a_list_keeps_the_valid_ones(text, tasks, code):
    r = parse_comment(text)
    assert r.commands == [claim(*tasks)] and codes(r.errors) == [code]


def test_a_bad_number_in_a_maintainer_list_keeps_the_valid_ones():
    r = parse_comment("/assign @a 12 0\n/done 13, 99999")
    assert r.commands == [Command("assign", (12,), user="a"), Command("done", (13,))]
    assert codes(r.errors) == ["task_zero", "task_too_big"]


def test_a_team_block_with_a_bad_number_keeps_the_valid_ones():
    r = parse_comment("【队名】：A\n【序号】：7、0\n【状态】：报名")
    assert r.commands == [claim(7, team="A")] and codes(r.errors) == ["task_zero"]


# --- what GitHub shows as code never runs --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "    /assign @user 14",  # indented code at the start
        "说明：\n\n    /assign @user 14",  # after a blank line
        "\t/done 14",  # a tab is 4 columns
        "  \t/done 14",
        "# 命令\n    /done 14",  # after a heading
        "```\nx\n```\n    /done 14",  # after a fence
        "    x\n    /done 14",  # continuing a code block
        "    x\n\n    /done 14",  # a blank line inside a code block
        "<pre>/done 14</pre>",
        "<pre>\n/done 14\n</pre>",
        '<PRE class="x">\n/assign @u 14\n',  # unclosed <pre> runs to the end
        "<code>/done 14</code>",
        "格式 <code>【报名】：14</code> 这样写",
        "<code>【报名】：14\n继续</code>",
        "`\n/done 14\n`",  # a code span may span lines
        "``claim `14` here``",  # and may hold shorter backtick runs
        "`````\n/done 14\n`````",  # a fence of any length
        "````\n```\n/done 14\n````",  # closed only by a fence as long
        "~~~~\n/done 14",  # unclosed tilde fence
        "- 列表\n\n      【报名】：14",  # code inside a list item (2 + 4 columns)
        "- > 【报名】：14",  # a quote inside a list item
        "> > 【报名】：14",
        "<!-- /done 14 -->",
    ],
)
def test_what_github_renders_as_code_is_never_run(text):
    r = parse_comment(text, bot_login=BOT)
    assert r.commands == [] and r.errors == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("请分配：\n    /assign @user 14", Command("assign", (14,), user="user")),  # continues a paragraph
        ("- 报名\n\n  【报名】：14", claim(14)),  # a list item's paragraph
        ("- item\n    【报名】：14", claim(14)),
        ("<pre>x</pre>\n/done 14", Command("done", (14,))),
        ("<code>x</code> 【报名】：14", claim(14)),
        ("<code>x\n\n【报名】：14", claim(14)),  # unclosed <code> ends with its paragraph
        ("`x`\n【报名】：14", claim(14)),
        ("a ` b\n\n【报名】：14 `", claim(14)),  # a code span stays in its paragraph
        ("```\n/done 1\n```\n\n    \n/done 14", Command("done", (14,))),
        ("```` `a` ````\n/done 14", Command("done", (14,))),
    ],
)
def test_text_outside_code_still_counts(text, expected):
    assert cmds(text) == [expected]


def test_clean_lines_keeps_line_count_and_lengths():
    from bot.core.commands import clean_lines

    text = "a `b` c\n```\nx\n```\n    code\n<!-- x\ny -->z"
    lines = clean_lines(text)
    assert [len(x) for x in lines] == [len(x) for x in text.split("\n")]
    assert lines[0] == "a     c" and lines[-1].endswith("z") and not lines[-1].strip("z ")


# --- invisible and look-alike characters ---------------------------------------------------------


@pytest.mark.parametrize("char", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u202e"])
def test_invisible_characters_inside_a_command_are_ignored(char):
    assert cmds(f"【报{char}名】：9") == [claim(9)]
    assert cmds(f"{char}【报名】：{char}9") == [claim(9)]
    assert cmds(f"cla{char}im No.{char}9") == [claim(9)]
    assert cmds(f"/as{char}sign @a 9") == [Command("assign", (9,), user="a")]
    r = parse_comment(f"报{char}名:9")
    assert codes(r.hints) == ["near_miss_no_brackets"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("【报名】：１２、１３", claim(12, 13)),
        ("［报名］：７", claim(7)),
        ("【报名】＃７", claim(7)),
        ("Ｃｌａｉｍ　Ｎｏ．７", claim(7)),  # full-width letters and the ideographic space
        ("【报名】\u00a0:\u00a07", claim(7)),  # no-break spaces
        ("／ｄｏｎｅ　７", Command("done", (7,))),
        ("【报名】：7﹐8", claim(7, 8)),  # small comma
    ],
)
def test_full_width_and_look_alike_characters_read_as_ascii(text, expected):
    assert cmds(text) == [expected]


def test_names_and_links_keep_the_characters_the_author_wrote():
    text = "【队名】：飞桨（Ａ）队\n【序号】：３\n【状态】：报名\n【链接】：https://x.org/p/1"
    assert cmds(text) == [claim(3, team="飞桨（Ａ）队", link="https://x.org/p/1")]


# --- comments as people write them (issue 11) ----------------------------------------------------


@pytest.mark.parametrize(
    "status, expected",
    [
        ("提交rfc（已提交 PR #123）", [("submit", "rfc")]),
        ("报名 (会尽快完成)", [("claim", None)]),
        ("报名【本周内完成】", [("claim", None)]),
        ("报名（会尽快完成", [("claim", None)]),  # an unclosed remark runs to the end
        ("报名了", [("claim", None)]),
        ("报名，会尽快完成", [("claim", None)]),  # a remark after a separator is not a status
        ("报名 & 提交RFC（链接见下）", [("claim", None), ("submit", "rfc")]),
        ("提交PR", [("submit", "code")]),
    ],
)
def test_team_status_with_a_remark_still_counts(status, expected):
    r = parse_comment(f"【队名】：A\n【序号】：7\n【状态】：{status}")
    assert [(c.action, c.stage) for c in r.commands] == expected and r.hints == []


def test_team_status_part_that_looks_like_a_status_still_gets_a_hint():
    r = parse_comment("【队名】：A\n【序号】：7\n【状态】：报名 & 已提交")
    assert [c.action for c in r.commands] == ["claim"]
    assert codes(r.hints) == ["team_status_unknown"] and "已提交" in r.hints[0].text("zh")


@pytest.mark.parametrize(
    "text, found",
    [
        ("我想认领 11 号任务", "认领 11"),
        ("认领 11", "认领 11"),
        ("认领：No.11", "认领：No.11"),
        ("请帮我认领第 11 个任务", "认领第 11"),
        ("认领任务 11、12", "认领任务 11、12"),
    ],
)
def test_free_form_chinese_requests_get_the_bracketed_form(text, found):
    r = parse_comment(text)
    assert r.commands == [] and codes(r.hints) == ["near_miss_free_form"]
    tasks = tuple(int(x) for x in found.replace("、", " ").split() if x.isdigit()) or (11,)
    for lang in ("zh", "en"):
        assert render_command(claim(*tasks)) in r.hints[0].text(lang) and found in r.hints[0].text(lang)


@pytest.mark.parametrize(
    "text, tasks",
    [
        ("i want to claim task 11", (11,)),
        ("claim task #11", (11,)),
        ("Claim tasks 11, 12", (11, 12)),
        ("I'd like to claim the task No.11", (11,)),
    ],
)
def test_english_claim_task_n_is_a_claim(text, tasks):
    assert cmds(text) == [claim(*tasks)]


@pytest.mark.parametrize(
    "text",
    [
        "今天 3 个人认领了 11 号",
        "认领 11 号任务的同学是谁？",
        "报名 2024 年的活动什么时候开始",
        "已经有 5 人报名",
        "认领了 3 天还没有进展",
        "the task 11 claim is stale",
        "I claimed task 11 yesterday",
        "2024年11月认领",
    ],
)
def test_chatter_with_numbers_is_neither_a_claim_nor_a_hint(text):
    r = parse_comment(text)
    assert r.commands == [] and r.hints == [] and r.errors == []


def test_label_without_brackets_or_colon_gets_a_hint():
    r = parse_comment("报名 11")
    assert r.commands == [] and codes(r.hints) == ["near_miss_no_brackets"]
    assert "【报名】：11" in r.hints[0].text("en")


# --- bounded answers: what a comment full of problems gets -----------------------------------------


def test_many_bad_numbers_are_listed_up_to_a_cap_then_counted():
    from bot.core.commands import MAX_LIST_ERRORS

    bad = [f"-{i}" for i in range(1, MAX_LIST_ERRORS + 31)]
    r = parse_comment("【报名】：7、" + "、".join(bad + bad))  # each bad item counts once
    assert r.commands == [claim(7)]
    assert codes(r.errors) == ["task_negative"] * MAX_LIST_ERRORS + ["more_bad_numbers"]
    assert r.errors[-1].params["count"] == 30 and "30" in r.errors[-1].text("en")


def test_a_comment_with_too_many_commands_is_read_up_to_a_cap_and_says_so():
    from bot.core.commands import MAX_FORMS

    text = "\n".join(f"【报名】：{i}" for i in range(1, MAX_FORMS + 51))
    r = parse_comment(text)
    assert [c.tasks for c in r.commands] == [(i,) for i in range(1, MAX_FORMS + 1)]
    assert codes(r.errors) == ["too_many_commands"] and str(MAX_FORMS) in r.errors[0].text("zh")


_list_text = st.lists(
    st.sampled_from(
        [
            "1",
            "7",
            "12",
            "9999",
            "10000",
            "0",
            "00",
            "0012",
            "123456789012",
            "-",
            "－",
            "−",
            "、",
            ",",
            "，",
            " ",
            "  ",
            "/",
            "&",
            "和",
            " and ",
            "~",
            "到",
            "No.",
            "#",
            "年",
            "号",
            "a",
            "１",
            "\t",
        ]
    ),
    max_size=25,
).map("".join)


@settings(max_examples=500)
@given(_list_text)
def test_the_fast_path_for_plain_numbers_reads_exactly_what_the_item_loop_reads(text):
    from bot.core.commands import _read_list

    assert _read_list(text, 0) == _read_list(text, 0, fast=False)


# --- what the bot repeats of a participant's text is never live -----------------------------------


def _outside_code(text: str) -> str:
    import re

    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", text)


@pytest.mark.parametrize(
    "text",
    [
        "【队名】：A\n【序号】：1\n【状态】：@org/everyone",
        "【队名】：A\n【序号】：1\n【状态】：![track](https://evil.example/p.png)",
        "【报名】：-1<img src=x>",
        "报名:3 @org/everyone",
        "我想认领 3 号任务 ![x](https://evil.example/p.png)",
    ],
)
def test_user_text_in_hints_and_errors_is_inline_code(text):
    r = parse_comment(text)
    assert r.hints or r.errors
    for m in r.hints + r.errors:
        for lang in ("zh", "en"):
            rest = _outside_code(m.text(lang))
            assert "@org" not in rest and "![" not in rest and "<img" not in rest and "evil" not in rest


def test_a_title_hint_shows_the_title_as_inline_code():
    from bot.core.titles import parse_title

    ref = parse_title("【Hackthon 9th No.5】 @org/everyone ![x](https://evil.example/p.png)")
    assert ref.hints
    for m in ref.hints:
        for lang in ("zh", "en"):
            text = m.text(lang)
            assert "@org/everyone" in text  # the corrected title is shown...
            rest = _outside_code(text)  # ...but only as code
            assert "@org" not in rest and "![" not in rest


def test_lines_without_commands_between_commands_keep_positions_right():
    text = (
        "前言\n\n【提交提案】：1\n随便说点什么\n  \n【提案链接】：https://x.org/1\n再见 42\n"
        "/unknown path\n【提交提案】：2\n\n\n【提案链接】：https://x.org/2\n@someone 你好\n【报名】：3"
    )
    assert cmds(text) == [
        Command("submit", (1,), stage="rfc", link="https://x.org/1"),
        Command("submit", (2,), stage="rfc", link="https://x.org/2"),
        claim(3),
    ]


@settings(max_examples=500)
@given(st.lists(st.sampled_from(["`", "a", " ", "\n", "\n\n", "\n \t\n", "b c", "【报名】：1"]), max_size=30).map("".join))
def test_the_single_backtick_shortcut_blanks_exactly_what_the_general_matcher_blanks(text):
    from bot.core.commands import _blank_inline

    assert _blank_inline(text) == _blank_inline(text, fast=False)
