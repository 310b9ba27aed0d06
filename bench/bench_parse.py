"""Parse 10,000 realistic tracker comments and 10,000 PR titles; print the time taken. Then
the worst case over a family of hostile 65,536-character comments and titles.

Goals: 10,000 comments well under a second (issue 3); every hostile comment or title of
GitHub's largest size parsed in <= 50 ms (issue 8). Each hostile input is parsed 5 times and the
fastest run counts, in CPU time of this process (time.process_time: the parser's own work, not
the waits a machine shared with other jobs adds). `--all` prints every hostile case.
Run: .venv/bin/python bench/bench_parse.py [N] [--all]
"""

from __future__ import annotations

import random
import sys
import time

from bot.core.commands import new_commands, parse_comment
from bot.core.titles import parse_title

LIMIT = 65_536  # GitHub's largest comment (titles are shorter on GitHub; the parser is held to the same)
BAR_MS = 50

SHAPES = [
    "【报名】：{a}",
    "【报名】：{a}、{b}",
    "【报名】: {a},{b},{c}",
    "【报名】：{a}-{b2}      {word}",
    "[报名]：{a}",
    "claim No.{a}",
    "I'd like to claim No.{a}, thanks!",
    "/claim {a}",
    "@hackathon-bot claim {a}",
    "【取消报名】：{a}",
    "【提交】：{a}",
    "【提交提案】：{a}\n【提案链接】：https://github.com/PaddlePaddle/community/pull/{n}",
    "【提交作品】：{a}\n【作品链接】：https://github.com/PaddlePaddle/Paddle/pull/{n}",
    "【队名】：{word}\n\n【序号】：{a}\n\n【状态】：报名 & 提交rfc\n\n【链接】：https://github.com/PaddlePaddle/community/pull/{n}",
    "/assign @user{n} {a} {b}",
    "/done {a} @user{n}",
    "/status",
    "报名:{a}",
    "{a}、{b}",
    "请问 No.{a} 的 {word} 需要支持动态图吗？我看了一下源码，{word} 目前在 python/paddle 下面。",
    "> 【报名】：{a}\n\n这个任务还有人做吗？",
    "报名格式如下：\n```\n【报名】：序号\n```\n我来试试 【报名】：{a}",
    "LGTM",
    "<!-- 模板 【报名】：1 -->\n【报名】：{a}",
    "大家好，我是{word}，之前做过一些 CUDA kernel 的优化。\n\n【报名】：{a}、{b}\n\n希望能参与，谢谢！" * 2,
]
QUOTED_RULES = "\n".join(
    "> " + line
    for line in (
        "报名方式：在本 issue 下回复 【报名】：任务序号，例如 【报名】：1、2、3-5",
        "提交 RFC 后回复 【提交提案】：序号 并附上 【提案链接】：https://github.com/PaddlePaddle/community/pull/xxx",
        "组队参加请按如下格式：",
        "【队名】：队伍名称",
        "【序号】：任务序号",
        "【状态】：报名 / 提交提案 / 提交作品",
        "【链接】：RFC 或 PR 链接",
        "注意：请不要重复报名，每人同时最多认领 3 个任务。",
    )
    * 3
)
SHAPES.append(QUOTED_RULES + "\n\n谢谢老师的说明，我想认领 {word} 相关的任务。\n\n【报名】：{a}")
SHAPES.append(
    "```python\nimport paddle\nx = paddle.to_tensor([1, 2, 3])\nprint(x.sum())\n```\n" * 4
    + "上面的代码在 No.{a} 的 {word} 上会报错，请问是预期行为吗？"
)
WORDS = ["SDGD优化器", "飞桨小分队", "paddle.nn.functional", "Tensor", "稀疏算子", "CINN"]
TITLES = [
    "【Hackathon 9th No.{a}】为 Paddle 新增 {word} API",
    "【Hackathon 9th Sprint No.{a}, {b}, {a}-{b2}】fix",
    "[Hackathon 8th No.{a}】 add {word}",
    "Hackathon 7th Fundable Projects No.{a} refactor",
    'Revert "【Hackathon 9th No.{a}】add {word}"',
    "【Hackthon 9th No.{a}】 add {word} -part2",
    "Update the task list No.{a}-{b2}",
    "[Docs] fix typo in {word}",
]

# Hostile inputs: a run (or a few) of what makes a backtracking parser slow, at GitHub's limit.
HOSTILE = {
    "spaces between two words": "a" + " " * LIMIT + "b",
    "submit, then [": "【提交】：3" + "[" * LIMIT,
    "No, then spaces": "【报名】：No" + " " * LIMIT + "x",
    "claim No, then spaces": "claim No" + " " * LIMIT + "x",
    "status, then spaces": "【序号】：1\n【状态】：报名" + " " * LIMIT + "x",
    "unclosed markdown links": "【提交】：3 " + "[](http://a" * LIMIT,
    "code spans of every length": "".join("`" * k + "a" for k in range(1, 400)),
    "backtick pairs": "`a" * LIMIT,
    "backticks": "`" * LIMIT,
    "digits after a claim": "【报名】：9 " + "1" * LIMIT,
    "spaced digits": "1 " * LIMIT,
    "a long list": "【报名】：" + "、".join(str(i % 9999 + 1) for i in range(LIMIT // 4)),
    "ranges": "【报名】：" + "、".join("1-50" for _ in range(LIMIT // 5)),
    "bad numbers": "【报名】：" + "、".join(str(-i) for i in range(1, LIMIT // 4)),
    "claims and labels": "claim 1 【报名】" * LIMIT,
    "labels": "【报名】" * LIMIT,
    "opening brackets": "【" * LIMIT,
    "nested quotes": ("> " * 100 + "【报名】：1\n") * LIMIT,
    "quote markers": ">" * LIMIT,
    "open tags": "<pre <code <!-" * LIMIT,
    "unclosed comments": "<!--" * LIMIT,
    "less-than": "<" * LIMIT,
    "full-width punctuation": "【报名】：" + "１、，；：" * LIMIT,
    "stars": "*" * LIMIT,
    "stars and underscores": "**__" * LIMIT,
    "indented lines": ("    /done 1\n" + "x\n") * LIMIT,
    "empty lines": "\n" * LIMIT,
    "slash lines": "/a\n" * LIMIT,
    "mentions": "@" * LIMIT,
    "zero-width spaces": "【报名】：\u200b" * LIMIT,
    "team status parts": "【序号】：1\n【状态】：" + "报名 & " * LIMIT,
    "status remarks": "【序号】：1\n【状态】：报名" + "（" * LIMIT,
    "dense submits and links": "【提交】：7\n【链接】：https://x.org/7\n" * LIMIT,
    "free-form claims": "我想认领 11 号任务 " * LIMIT,
    "near misses": "报名 1 " * LIMIT,
    "list markers": "- " * LIMIT + "x",
    "numbered items": "1. " * LIMIT,
    "thematic-break look-alike": "* " * LIMIT + "x",
    "headings": "# " * LIMIT,
    "indent, then /": " " * LIMIT + "/x",
}
HOSTILE_TITLES = {
    "spaces": "a" + " " * LIMIT + "b",
    "brackets then spaces": "【Hackathon" + " " * LIMIT + "x",
    "Hackathon words": "Hackathon " * LIMIT,
    "misspelt Hackathon words": "Hackthon " * LIMIT,
    "six-letter words": "Hacker " * LIMIT,
    "bracketed keys": "【Hackathon 9th " * LIMIT,
    "No, then spaces": "【Hackathon 9th No" + " " * LIMIT + "x",
    "digits": "【Hackathon 9th No." + "1" * LIMIT,
    "a long list": "【Hackathon 9th No." + ", ".join(str(i % 9999 + 1) for i in range(LIMIT // 4)),
    "track words": "【Hackathon 9th " + "Sprint " * LIMIT,
    "part markers": "-part" * LIMIT,
    "reverts": 'Revert "' * LIMIT,
    "opening brackets": "[" * LIMIT,
}


def make(shapes: list[str], n: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(n):
        a = rng.randint(1, 200)
        out.append(
            rng.choice(shapes).format(
                a=a,
                b=rng.randint(1, 200),
                c=rng.randint(1, 200),
                b2=a + rng.randint(0, 5),
                n=rng.randint(1, 70000),
                word=rng.choice(WORDS),
            )
        )
    return out


def fastest_ms(fn, *args, **kw) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        fn(*args, **kw)
        best = min(best, time.process_time() - start)
    return best * 1000


def worst(cases: dict[str, str], fn, show: bool = False) -> tuple[str, float]:
    times = {name: fastest_ms(fn, text[:LIMIT]) for name, text in cases.items()}
    if show:
        for name, ms in sorted(times.items(), key=lambda kv: -kv[1]):
            print(f"    {ms:7.1f} ms  {name}")
    name = max(times, key=lambda k: times[k])
    return name, times[name]


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    show = "--all" in sys.argv
    n = int(args[0]) if args else 10_000
    rng = random.Random(3)
    comments, titles = make(SHAPES, n, rng), make(TITLES, n, rng)
    parse_comment("【报名】：1"), parse_title("【Hackathon 9th No.1】")  # warm the regex cache
    start = time.process_time()
    commands = sum(len(parse_comment(c, bot_login="hackathon-bot").commands) for c in comments)
    t_comments = time.process_time() - start
    start = time.process_time()
    refs = sum(1 for t in titles if parse_title(t).tasks)
    t_titles = time.process_time() - start
    chars = sum(map(len, comments))
    print(
        f"parse_comment: {n} comments ({chars / n:.0f} chars avg) in {t_comments:.3f} s "
        f"({t_comments / n * 1e6:.1f} us each), {commands} commands"
    )
    dense = 0.0
    for shape in ("【提交】：{i}\n【链接】：https://x.org/{i}\n", "【报名】：{i}、{i}-{j}\n", "claim No.{i} " * 3 + "\n"):
        big = "".join(shape.format(i=i % 9000 + 1, j=i % 9000 + 3) for i in range(4000))[:LIMIT]
        dense = max(dense, fastest_ms(parse_comment, big))
    print(f"parse_comment: largest GitHub comment (65,536 chars) of dense commands: {dense:.0f} ms worst")
    print(f"parse_title:   {n} titles in {t_titles:.3f} s ({t_titles / n * 1e6:.1f} us each), {refs} with tasks")

    name_c, ms_c = worst(HOSTILE, lambda text: parse_comment(text, bot_login="hackathon-bot"), show)
    name_e, ms_e = worst(HOSTILE, lambda text: new_commands(text[: len(text) // 2], text, bot_login="hackathon-bot"), show)
    name_t, ms_t = worst(HOSTILE_TITLES, parse_title, show)
    for what, count, name, ms in (
        ("parse_comment", len(HOSTILE), name_c, ms_c),
        ("new_commands (an edit: both texts parsed)", len(HOSTILE), name_e, ms_e),
        ("parse_title", len(HOSTILE_TITLES), name_t, ms_t),
    ):
        verdict = "ok" if ms <= BAR_MS or what.startswith("new_commands") else f"OVER the {BAR_MS} ms bar"
        print(f"{what}: worst of {count} hostile 65,536-char inputs: {ms:.0f} ms ({name}) {verdict}")


if __name__ == "__main__":
    main()
