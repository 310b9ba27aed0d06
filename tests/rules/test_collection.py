"""The importer finds every numbered task with its title, invents none, and reads the fields."""

from pathlib import Path

import pytest

from bot.rules.collection import (
    Context,
    cn_number,
    extract,
    parse_collection,
    parse_rfc_list,
)
from bot.rules.importer import generate

DATA = Path(__file__).parent / "data"
SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
if not SEEDS.is_dir():
    SEEDS = Path("/work/shared/seeds")
need_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="seed collections (shared/seeds) not present")
PADDLE = Context(["PaddlePaddle/Paddle", "PaddlePaddle/PaddleOCR"], "PaddlePaddle/Paddle")


def seed(prefix: str) -> tuple[str, str]:
    (path,) = SEEDS.glob(prefix + "_*")
    return path.name, path.read_text(encoding="utf-8")


def col(name: str):
    return parse_collection((DATA / name).read_text(encoding="utf-8"), name)


@pytest.mark.parametrize(
    "text,value", [("一", 1), ("十", 10), ("十二", 12), ("二十", 20), ("一百零五", 105), ("7", 7), ("abc", None)]
)
def test_chinese_numerals(text, value):
    assert cn_number(text) == value


@need_seeds
def test_seed_000_headings_with_anchors():
    c = parse_collection(*reversed(seed("000")))
    assert [b.number for b in c.blocks] == list(range(89, 98))
    b89 = c.blocks[0]
    assert b89.title == "清理动态 import语句，解决circle import 问题" and b89.anchor == "task89" and b89.line == 7


@need_seeds
def test_seed_004_upper_case_no():
    c = parse_collection(*reversed(seed("004")))
    assert [b.number for b in c.blocks] == list(range(43, 58))
    assert c.blocks[0].title == "完善 TokenizerFast 功能支持"


@need_seeds
@pytest.mark.parametrize("prefix,count,first", [("001", 6, "框架 API 易用性提升"), ("002", 10, "PIR 专项")])
def test_seed_camp_projects_in_order(prefix, count, first):
    c = parse_collection(*reversed(seed(prefix)))
    assert [b.number for b in c.blocks] == list(range(1, count + 1))
    assert c.blocks[0].title == first


@need_seeds
def test_seed_003_numbered_lines_and_unnumbered_blocks_reported():
    name, text = seed("003")
    c = parse_collection(text, name)
    assert [b.number for b in c.numbered] == [102, 104, 105]
    assert c.numbered[0].title.startswith("将paddle内部的fused_embedding_eltwise_layernorm")
    assert [b.line for b in c.unnumbered] == [2, 13, 24, 35, 46, 57, 68, 78, 90, 101, 112, 123, 148, 186, 200, 212]
    gen = generate([(name, text)])
    assert sorted(gen.tasks) == [102, 104, 105]  # nothing invented
    skipped = [w for w in gen.warnings if "without a number" in w.message]
    assert [w.line for w in skipped] == [b.line for b in c.unnumbered]


@need_seeds
def test_seed_003_number_from_skips_taken_ids():
    gen = generate([seed("003")], number_from=100, extra_repos=["PaddlePaddle/Paddle"])
    assert sorted(gen.numbered_by_option) == [100, 101, 103] + list(range(106, 119))
    assert [gen.tasks[n]["source"]["line"] for n in (100, 101, 103, 118)] == [2, 13, 24, 212]  # document order


def test_english_headings_found_titles_and_no_faq():
    c = col("english_edition.md")
    assert [(b.number, b.title) for b in c.blocks] == [
        (12, "Add `nanmedian` to the tensor API"),
        (13, "Speed up the data loader"),
        (14, "Document the C++ inference API"),
    ]
    assert c.blocks[1].difficulty == "⭐️⭐️"


def test_numbered_list_lines_and_no_mid_sentence_match():
    c = col("numbered_list.md")
    assert [(b.number, b.title) for b in c.blocks] == [
        (7, "为 Paddle 新增 trapezoid API"),
        (8, "修复 conv2d 在 fp16 下的精度问题"),
        (9, "完善 PaddleOCR 文档"),
    ]
    assert extract(c.blocks[1], PADDLE).difficulty == "0.1🌟"


def test_task_table_rows_and_row_without_number_reported():
    c = col("task_table.md")
    assert [(b.number, b.title, b.difficulty) for b in c.blocks] == [
        (21, "为 Paddle 新增 cdist API", "基础"),
        (22, "支持 bf16 的 layer_norm kernel", "进阶"),
        (23, "Paddle2ONNX 支持 RoiAlign", "⭐️⭐️"),
    ]
    assert [n.line for n in c.notes] == [8]


def test_chinese_numbered_headings_and_unnumbered_task_heading():
    c = col("chinese_headings.md")
    assert [(b.number, b.title) for b in c.numbered] == [(12, "新增稀疏矩阵乘法"), (13, "完善量化文档")]
    assert [(b.line, b.title) for b in c.unnumbered] == [(23, "这个任务忘了编号")]  # 答疑交流 is no task


def test_targets_and_tests_from_inline_paths():
    b = col("chinese_headings.md").blocks[0]
    e = extract(b, PADDLE)
    assert e.targets == {"PaddlePaddle/Paddle": ["paddle/phi/kernels/sparse/**", "test/legacy_test/**"]}
    assert e.tests == ["test/legacy_test/**"]


def test_targets_tests_rfc_from_links_and_names():
    e = extract(col("english_edition.md").blocks[0], PADDLE)
    assert e.targets["PaddlePaddle/Paddle"][0] == "python/paddle/tensor/**"
    assert e.tests == ["**/test_nanmedian_op.py"]
    assert e.rfc_required and e.rfc_path == "rfcs/APIs/"
    assert e.difficulty == "Easy"


def test_acceptance_section():
    e = extract(col("english_edition.md").blocks[2], PADDLE)
    assert e.acceptance == ["The docs build without warnings."]


@need_seeds
def test_seed_000_fields():
    gen = generate([seed("000")])
    t = gen.tasks
    assert t[89]["difficulty"] == "基础" and t[90]["difficulty"] == "进阶"
    assert t[89]["rfc"]["required"] and not t[92]["rfc"]["required"]
    assert t[90]["targets"] == [{"repo": "PaddlePaddle/Paddle", "paths": ["paddle/fluid/jit/**"]}]
    assert t[91]["targets"] == [{"repo": "PaddlePaddle/Paddle", "paths": ["python/paddle/jit/**"]}]
    assert t[96]["targets"][0]["paths"][0] == "python/paddle/fluid/dygraph/parallel.py"  # a /blob/ link
    assert t[96]["rfc"]["path"] == "rfcs/APIs/"
    assert {"repo": "PaddlePaddle/PaddleFleetX", "paths": ["projects/gpt/**"]} in t[97]["targets"]  # a /tree/ link
    assert t[93]["acceptance"] == ["自测传输10000次，不发生文件残留；", "传输速度与竞品差距10%内"]


@need_seeds
def test_seed_003_tests_from_names_and_directories():
    gen = generate([seed("003")], number_from=201, extra_repos=["PaddlePaddle/Paddle"])
    by_line = {t["source"]["line"]: t for t in gen.tasks.values()}
    # "迁移前后保证单测 test_fused_multi_transformer_op.py/… 运行成功": tests to keep passing, not to add or change
    assert by_line[123]["tests"] == [] and by_line[123]["targets"][0]["paths"] == [
        "paddle/phi/kernels/fusion/**",
        "**/fused_ops.yaml",
    ]
    assert by_line[90]["tests"] == ["test/auto_parallel/spmd_rules/**"]  # 'Paddle/test/auto_parallel/spmd_rules 目录'
    assert by_line[90]["targets"][0]["paths"][0] == "paddle/phi/infermeta/spmd_rules/**"
    assert gen.tasks[102]["targets"][0]["paths"][0] == "paddle/phi/kernels/fusion/**"


def test_rfc_list_overrides_text_and_reports_strays():
    table, notes = parse_rfc_list((DATA / "rfc_list.md").read_text(), "rfc_list.md")
    assert table == {12: False, 13: True, 99: True}
    gen = generate(
        [("english_edition.md", (DATA / "english_edition.md").read_text())],
        rfc_list=("rfc_list.md", (DATA / "rfc_list.md").read_text()),
    )
    assert gen.tasks[12]["rfc"]["required"] is False and gen.tasks[13]["rfc"]["required"] is True
    msgs = [w.message for w in gen.warnings]
    assert any("99" in m for m in msgs) and any("task 14 is not in the RFC list" in m for m in msgs)


@pytest.mark.parametrize(
    "heading,title,difficulty",
    [
        ("### [NO.12 新增 foo API](https://github.com/PaddlePaddle/Paddle/issues/3)", "新增 foo API", None),
        ("### NO.12 新增 foo API（⭐️⭐️）", "新增 foo API", "⭐️⭐️"),
        ("### NO.12：新增 foo API (难度：进阶)", "新增 foo API", "进阶"),
        ("### 【No.12】新增 foo API", "新增 foo API", None),
        ("### NO.12 新增 foo API ![架构图](a.png)", "新增 foo API", None),
    ],
)
def test_heading_shapes_give_the_title_and_a_difficulty_written_after_it(heading, title, difficulty):
    c = parse_collection(f"# 合集\n\n{heading}\n\n- 详细描述：x\n", "c.md")
    assert [(b.number, b.title, b.difficulty) for b in c.blocks] == [(12, title, difficulty)]


def test_a_line_answering_whether_an_rfc_is_needed_beats_what_the_collection_asks():
    text = (
        "# 合集\n\n开发流程：每个任务开发前须先提交 RFC 设计文档。\n\n### No.1：甲\n\n- 详细描述：x\n\n"
        "### No.2：乙\n\n- 详细描述：y\n- 是否需要 RFC：否\n"
    )
    g = generate([("c.md", text)], extra_repos=["PaddlePaddle/Paddle"])
    assert (g.tasks[1]["rfc"]["required"], g.tasks[2]["rfc"]["required"]) == (True, False)
