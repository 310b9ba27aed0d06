"""Parse 10,000 realistic tracker comments and 10,000 PR titles; print the time taken.

Goal (issue 3): 10,000 comments well under a second. Run: .venv/bin/python bench/bench_parse.py [N]
"""
from __future__ import annotations

import random
import sys
import time

from bot.commands import parse_comment
from bot.titles import parse_title

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
QUOTED_RULES = "\n".join("> " + line for line in (
    "报名方式：在本 issue 下回复 【报名】：任务序号，例如 【报名】：1、2、3-5",
    "提交 RFC 后回复 【提交提案】：序号 并附上 【提案链接】：https://github.com/PaddlePaddle/community/pull/xxx",
    "组队参加请按如下格式：", "【队名】：队伍名称", "【序号】：任务序号", "【状态】：报名 / 提交提案 / 提交作品",
    "【链接】：RFC 或 PR 链接", "注意：请不要重复报名，每人同时最多认领 3 个任务。") * 3)
SHAPES.append(QUOTED_RULES + "\n\n谢谢老师的说明，我想认领 {word} 相关的任务。\n\n【报名】：{a}")
SHAPES.append("```python\nimport paddle\nx = paddle.to_tensor([1, 2, 3])\nprint(x.sum())\n```\n" * 4
              + "上面的代码在 No.{a} 的 {word} 上会报错，请问是预期行为吗？")
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


def make(shapes: list[str], n: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(n):
        a = rng.randint(1, 200)
        out.append(rng.choice(shapes).format(a=a, b=rng.randint(1, 200), c=rng.randint(1, 200), b2=a + rng.randint(0, 5),
                                             n=rng.randint(1, 70000), word=rng.choice(WORDS)))
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rng = random.Random(3)
    comments, titles = make(SHAPES, n, rng), make(TITLES, n, rng)
    parse_comment("【报名】：1"), parse_title("【Hackathon 9th No.1】")  # warm the regex cache
    start = time.perf_counter()
    commands = sum(len(parse_comment(c, bot_login="hackathon-bot").commands) for c in comments)
    t_comments = time.perf_counter() - start
    start = time.perf_counter()
    refs = sum(1 for t in titles if parse_title(t).tasks)
    t_titles = time.perf_counter() - start
    chars = sum(map(len, comments))
    print(f"parse_comment: {n} comments ({chars / n:.0f} chars avg) in {t_comments:.3f} s "
          f"({t_comments / n * 1e6:.1f} us each), {commands} commands")
    worst = 0.0
    for shape in ("【提交】：{i}\n【链接】：https://x.org/{i}\n", "【报名】：{i}、{i}-{j}\n", "claim No.{i} " * 3 + "\n"):
        big = "".join(shape.format(i=i % 9000 + 1, j=i % 9000 + 3) for i in range(4000))[:65536]
        start = time.perf_counter()
        parse_comment(big)
        worst = max(worst, time.perf_counter() - start)
    print(f"parse_comment: largest GitHub comment (65,536 chars) of dense commands: {worst * 1000:.0f} ms worst")
    print(f"parse_title:   {n} titles in {t_titles:.3f} s ({t_titles / n * 1e6:.1f} us each), {refs} with tasks")


if __name__ == "__main__":
    main()
