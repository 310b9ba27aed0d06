"""Writes corpus.tsv: realistic PR titles with the reading an organiser gives them.

The titles are written in the shapes people use in PaddlePaddle Hackathon repositories (the
README's forms and issue 11's); the expected reading comes from the template each title is
built from, never from the parser. Run once; the TSV is the fixture (tests/test_titles.py).
Columns: title, campaign key it belongs to ("-" for none), tasks ("-" for none), part (0/1),
revert (0/1), task a hint may propose ("-" for none).
"""

import random
from pathlib import Path

SUBJECTS = [
    "为 Paddle 新增 finfo API",
    "add cdist API",
    "为 Paddle 新增 lu_solve API",
    "fix doc typo in trapezoid",
    "add RFC for baddbmm",
    "支持 bartlett 窗函数",
    "add complex support to sparse add",
    "新增 ParameterDict",
    "FastDeploy 单测补充 config.py",
    "add unit tests for gpu_model_runner",
    "refine EmbeddingBag kernel",
    "paddle.unique 兼容性增强",
    "torch 子图变量重命名",
    "Transolver 论文复现",
    "support dilation in MaxPool2D",
    "update design doc",
    "清理动态 import 语句",
    "TensorHook 支持动转静",
    "add xlogy op",
    "GraphNet Analysis 优化",
    "move tests to test/legacy_test",
    "fix CI",
    "reset_max_memory_allocated API",
    "add amsgrad to Adam",
    "支持 Whisper 推理加速",
]
CN = {4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九", 10: "十"}


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def positives(r: random.Random):
    for _ in range(14):
        ed, n, s, m = r.randint(4, 10), r.randint(1, 130), r.choice(SUBJECTS), r.randint(1, 130)
        o, key = ordinal(ed), f"Hackathon {ordinal(ed)}"
        yield f"【Hackathon {o} No.{n}】{s}", key, [n], 0, 0
        yield f"【Hackathon {o} No.{n}】 {s} -part", key, [n], 1, 0
        yield f"[Hackathon {o} No.{n}] {s}", key, [n], 0, 0
        yield f"[Hackathon {o} No.{n}】{s}", key, [n], 0, 0
        yield f"【PaddlePaddle Hackathon {ed}】No.{n} {s}", key, [n], 0, 0
        yield f"【PaddlePaddle Hackathon 第{CN[ed]}期】No.{n}：{s}", key, [n], 0, 0
        yield f"【Paddle Hackathon {o}】No.{n} {s}", key, [n], 0, 0
        yield f"Hackathon {o} No.{n} {s}", key, [n], 0, 0
        yield f"【Hackathon {o}】Fundable Projects No.{n % 9 + 1} {s}", f"Hackathon {o} Fundable Projects", [n % 9 + 1], 0, 0
        yield f"Hackathon {o} Fundable Projects No.{n % 9 + 1} {s}", f"Hackathon {o} Fundable Projects", [n % 9 + 1], 0, 0
        a, b = sorted((n, m)) if n != m else (n, n + 1)
        yield f"【Hackathon {o} Sprint No.{a}, {b}】{s}", f"Hackathon {o} Sprint", [a, b], 0, 0
        yield f"Update Paddle Hackathon No.{n} design doc", key, [n], 0, 0
        yield f"Add hackathon {o}. No {n} {s} RFC", key, [n], 0, 0
        yield f"【Hackathon {o} No.{n}-{n + 2}】{s}", key, [n, n + 1, n + 2], 0, 0
        yield f'Revert "【Hackathon {o} No.{n}】{s}"', key, [n], 0, 1
        yield f"【Hackathon {o} No.{a}、{b}】{s}", key, [a, b], 0, 0
        yield f"【Hackthon {o} No.{n}】{s}", key, [n], 0, 0
        yield f"【Docs Sprint No.{a},{b} 】{s}", "Docs Sprint", [a, b], 0, 0
        yield f"【Hackathon {o} NO.{n}】{s}", key, [n], 0, 0
        yield f"【Hackathon {o} #{n}】{s}", key, [n], 0, 0
        yield f"[Docs]【Hackathon {o} No.{n}】{s}", key, [n], 0, 0
        yield f"【Hackathon {o} No.{n}】{s} (part 2)", key, [n], 1, 0
        yield f"【PaddlePaddle Hackathon {o} No.{n}】{s}", key, [n], 0, 0
        yield f"【Hackathon {o} No.{n} -part】{s}", key, [n], 1, 0
        yield f"[Hackathon {o}] No.{n} {s}", key, [n], 0, 0


def negatives(r: random.Random):
    fixed = [
        "Fix typo in README",
        "[CodeStyle] format python/paddle/tensor",
        "Bump version to 3.2.0",
        "[Cherry-Pick] fix memory leak in allocator",
        "Update the task list No.111-127",
        "【Hackathon 9th】update task status for No.111-127",
        "Fix docs for Hackathon 9th No.111-127",
        "Add Hackathon 9th task collection",
        "Update 【PaddlePaddle Hackathon 6】任务合集.md",
        "【PaddlePaddle Hackathon 5】update collection",
        "【Hackathon 7th】更新 RFC 需求列表",
        "update hackathon 8th results",
        "Add paddle.foo API",
        "[Docs] fix broken link in 5th edition doc",
        "【Hackathon 10th】add Fundable Projects collection",
        'Revert "Bump version to 3.2.0"',
        "Hackathon 9th: weekly report",
        "[WIP] refactor kernel registry",
        "support No.1 priority queue",
        "Update PaddlePaddle Hackathon 4 summary",
    ]
    for t in fixed:
        yield t, "-", [], 0, int(t.startswith("Revert ")), None
    for ed in range(4, 11):
        yield f"Update 【PaddlePaddle Hackathon {ed}】 任务合集.md", "-", [], 0, 0, None
        yield f"【PaddlePaddle Hackathon {ed}】 fix links", "-", [], 0, 0, None
    for _ in range(8):
        n, ed = r.randint(1, 99), r.randint(2, 9)
        yield f"RFC for task {n} of the PaddlePaddle Hackathon {ed}", "-", [], 0, 0, n
        yield f"Hackathon {ordinal(ed)} 第{n}号任务 提交", "-", [], 0, 0, n


TRACKS = ["Sprint", "Fundable Projects", "PPSCI", "CINN"]


def issue20(r: random.Random):
    """Issue 20's shapes and their kin (added later, from their own random stream so the rows above
    stay as they were): a bare task number after the key (`[Hackathon 312] add …`, `upload
    hackathon 76`), which is the task when it cannot be an edition (above 20, below 1000); numbers
    that may be editions, years or counts, which are not; and more of the forms people write."""
    for _ in range(6):
        n, s, ed = r.randint(21, 330), r.choice(SUBJECTS), r.randint(4, 10)
        o, key = ordinal(ed), f"Hackathon {ordinal(ed)}"
        small = r.randint(1, 20)
        # a bare number that cannot be an edition: the task
        yield f"[Hackathon {n}] {s}", key, [n], 0, 0, n
        yield f"【Hackathon {n}】{s}", key, [n], 0, 0, n
        yield f"upload hackathon {n}", key, [n], 0, 0, n
        yield f"Upload hackathon {n} rfc", key, [n], 0, 0, n
        yield f"add hackathon {n} design doc", key, [n], 0, 0, n
        yield f"【Hackathon {o} {n}】{s}", key, [n], 0, 0, n
        yield f"Hackathon {n} {s}", key, [n], 0, 0, n
        yield f"[PaddlePaddle Hackathon {n}] {s}", key, [n], 0, 0, n
        yield f"hackathon-{n} {s}", key, [n], 0, 0, n
        yield f"[Hackathon {n}] {s} -part", key, [n], 1, 0, n
        # a bare number that may be an edition: never taken, never offered
        yield f"[Hackathon {small}] {s}", "-", [], 0, 0, None
        yield f"【PaddlePaddle Hackathon {small}】 {s}", "-", [], 0, 0, None
        # after an edition, a small bare number: the hint offers it, nothing is credited
        yield f"Hackathon {o} {small} {s}", "-", [], 0, 0, small
        # counts, years and ranges are not tasks
        yield f"update hackathon {n} tasks", "-", [], 0, 0, None
        yield f"【Hackathon {o}】 {n} RFCs merged", "-", [], 0, 0, None
        yield f"Hackathon {2019 + ed} summary", "-", [], 0, 0, None
        yield f"Fix docs for Hackathon {o} {n}-{n + 5}", "-", [], 0, 0, None
        # more of the forms people write
        m = r.randint(1, 130)
        yield f"【Hackathon {o} No.{m}】：{s}", key, [m], 0, 0, None
        yield f"[Hackathon {o} No.{m}] [CINN] {s}", key, [m], 0, 0, None
        yield f"【Hackathon {o} No.{m}】{s} (#{r.randint(50000, 70000)})", key, [m], 0, 0, None
        yield f"【Hackathon {o} no.{m}】{s}", key, [m], 0, 0, None
        yield f"Hackathon No.{m} {s}", key, [m], 0, 0, None
        yield f"[Hackathon {o}] No.{m}: {s}", key, [m], 0, 0, None
        t = r.choice(TRACKS)
        yield f"【Hackathon {o} {t} No.{m}】{s}", f"{key} {t}", [m], 0, 0, None
        yield f"【Paddle Hackathon {o} No.{m}】{s} - part 2", key, [m], 1, 0, None


def main() -> None:
    r = random.Random(11)
    rows = [(*p, None) for p in positives(r)] + list(negatives(r)) + list(issue20(random.Random(20)))
    out = Path(__file__).with_name("corpus.tsv")
    with out.open("w", encoding="utf-8") as f:
        f.write("# title\tcampaign key\ttasks\tpart\trevert\thint task\n")
        for title, key, tasks, part, revert, hint in rows:
            f.write(f"{title}\t{key}\t{','.join(map(str, tasks)) or '-'}\t{part}\t{revert}\t{hint or '-'}\n")
    print(f"{len(rows)} titles -> {out}")


if __name__ == "__main__":
    main()
