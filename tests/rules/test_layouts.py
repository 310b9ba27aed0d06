"""The importer on the layouts campaigns really use (issue 11 items 1-3): group headers, sections as
tracks, reserved placeholders, `一、` task headings, an RFC list with difficulty, several collections
as one campaign, warnings that lead with what blocks the campaign, and `bot rules check`'s errors."""

from pathlib import Path

from bot.cli import main
from bot.rules import TaskStatus, load_rules
from bot.rules.check import check
from bot.rules.importer import generate, run_import

DATA = Path(__file__).parent / "data"


def _gen(*names: str, **kw):
    return generate([(n, (DATA / n).read_text(encoding="utf-8")) for n in names], **kw)


def test_a_group_header_gives_each_task_of_its_run_its_deliverables_and_acceptance():
    g = _gen("group_edition.md")
    assert sorted(g.tasks) == [1, 2, 3, 4, 5]  # the header "NO.1 - NO.2" is not a task
    for n in (1, 2):
        t = g.tasks[n]
        assert t["targets"] == [{"repo": "PaddlePaddle/Paddle", "paths": []}]
        assert t["tests"] == ["test/**"]  # "新增单测" without a place: Paddle's usual test directory
        assert t["acceptance"] == ["单测通过", "与参考实现精度对齐"]
    assert g.tasks[1]["summary"] == "新增参数 sorted。"  # its own description, not the group's preamble
    assert g.tasks[2]["summary"] == ""


def test_sections_are_tracks_and_headings_above_say_where_work_goes():
    g = _gen("group_edition.md")
    assert [g.tasks[n]["track"] for n in (1, 2, 4, 5)] == ["框架", "框架", "套件开发", "套件开发"]
    assert g.tasks[4]["targets"] == [{"repo": "PaddlePaddle/FastDeploy", "paths": ["build.sh"]}]
    # task 5 names no repository: the `### FastDeploy套件开发` heading above it does
    assert g.tasks[5]["targets"] == [{"repo": "PaddlePaddle/FastDeploy", "paths": []}] and g.tasks[5]["tests"] == ["tests/**"]
    assert g.tasks[5]["difficulty"] == "⭐️⭐️"


def test_difficulty_comes_from_the_task_then_the_rfc_list_then_the_group():
    g = _gen("group_edition.md", "group_rfc_list.md")
    assert g.tasks[2]["difficulty"] == "进阶"  # the group's
    assert g.tasks[1]["difficulty"] == "0.25🌟"  # the task's own line in the RFC list beats its group's


def test_a_bracketed_line_is_a_track_and_bold_lines_and_list_items_start_tasks():
    text = (
        "# 第十期任务合集\n\n【开源贡献个人挑战赛-文档】\n\n**No.3：补全量化文档**\n\n- 详细描述：补全文档。\n\n"
        "【开源贡献个人挑战赛-API 开发】\n\n- No.4 - 新增 foo API\n- No.5：新增 bar API\n"
    )
    g = generate([("c.md", text)], extra_repos=["PaddlePaddle/Paddle"])
    assert {n: (t["title"], t["track"]) for n, t in g.tasks.items()} == {
        3: ("补全量化文档", "文档"),
        4: ("新增 foo API", "API 开发"),
        5: ("新增 bar API", "API 开发"),
    }


def test_a_reserved_placeholder_is_a_task_closed_to_claims(tmp_path):
    g = _gen("group_edition.md")
    assert g.tasks[3]["status"] == "reserved" and all(g.tasks[n]["status"] is None for n in (1, 2, 4, 5))
    run_import([DATA / "group_edition.md"], "c", tmp_path, repos=["PaddlePaddle/Paddle"])
    text = (tmp_path / "c" / "campaign.yml").read_text().replace("tracker:", "tracker: PaddlePaddle/Paddle#1")
    (tmp_path / "c" / "campaign.yml").write_text(text)
    tasks = load_rules(tmp_path).campaigns["c"].tasks
    assert tasks[3].status is TaskStatus.reserved and not tasks[3].open_to_claims and tasks[1].open_to_claims


def test_the_rfc_list_gives_difficulty_and_rfc_need_but_no_reward():
    g = _gen("group_edition.md", "group_rfc_list.md")  # given on the same command line
    assert g.tasks[1]["difficulty"] == "0.25🌟" and g.tasks[1]["rfc"]["required"] is False
    assert g.tasks[1]["reward"] is None  # a difficulty in stars is not a reward: the collection states none
    assert g.tasks[4]["difficulty"] == "🌟🌟" and g.tasks[4]["rfc"]["required"] is True
    # "不在RFC需求列表里的任务…不需要提交RFC": unlisted tasks need none, and nobody is warned about each
    assert g.tasks[5]["rfc"]["required"] is False and not [w for w in g.warnings if "not in the RFC list" in w.message]
    assert g.tasks[5]["reward"] is None


def test_chinese_numeral_headings_are_tasks_and_the_reward_line_is_read():
    g = _gen("fundable.md")
    assert sorted(g.tasks) == [1, 2]
    t = g.tasks[1]
    assert t["title"] == "为 PaddleCFD 适配新硬件" and t["track"] == "Fundable Projects"
    assert t["summary"] == "实现 PaddleCFD 在新硬件上的安装运行支持。"  # the description, not the background
    assert t["acceptance"] == ["提供 whl 文件；", "最终代码合入 PaddleCFD 下。"]
    assert t["reward"] == "每个合入的 PR 获得 0.05⭐️。"
    assert t["targets"] == [{"repo": "PaddlePaddle/PaddleCFD", "paths": []}]
    assert g.campaign["name"] == "飞桨黑客松第十一期活动——Fundable Projects" and g.campaign["key"] == "Hackathon 11th"


def test_repo_option_fills_repos_even_when_no_task_names_one(tmp_path):
    src = tmp_path / "c.md"
    src.write_text("# 第十期 任务合集\n\n### No.7：清理代码\n\n- 详细描述：删掉无用代码。\n", encoding="utf-8")
    g = generate([("c.md", src.read_text())], extra_repos=["PaddlePaddle/Paddle"])
    assert g.campaign["repos"] == ["PaddlePaddle/Paddle"]
    assert g.tasks[7]["targets"] == [{"repo": "PaddlePaddle/Paddle", "paths": []}]
    assert g.campaign["name"] == "第十期 任务合集"


def test_several_collections_make_one_campaign_with_a_track_each(tmp_path, capsys):
    a, b = tmp_path / "a.md", tmp_path / "b.md"
    a.write_text(
        "此文档展示 **PaddlePaddle Hackathon 第十二期活动——个人挑战赛科学计算方向任务** 详细介绍\n\n"
        "### NO.1 复现模型\n\n**详细描述：**\n\n要求基于 PaddleScience 套件进行开发。\n",
        encoding="utf-8",
    )
    b.write_text(
        "此文档展示 **PaddlePaddle Hackathon 第十二期活动——个人挑战赛框架开发方向任务** 详细介绍\n\n"
        "### NO.2 新增 API\n\n**提交内容：**\n\n- 代码提交到 Paddle 仓库的 python/paddle/tensor 目录\n",
        encoding="utf-8",
    )
    assert (
        main(
            [
                "rules",
                "import",
                str(a),
                str(b),
                "--campaign",
                "h12",
                "--out",
                str(tmp_path / "rules"),
                "--repo",
                "PaddlePaddle/Paddle",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "h12: 2 tasks found" in out
    dirs = [p.name for p in (tmp_path / "rules").iterdir()]
    assert dirs == ["h12"]
    camp = (tmp_path / "rules" / "h12" / "campaign.yml").read_text()
    assert "name: PaddlePaddle Hackathon 第十二期活动——个人挑战赛" in camp and "key: Hackathon 12th" in camp
    one = (tmp_path / "rules" / "h12" / "001.yml").read_text()
    two = (tmp_path / "rules" / "h12" / "002.yml").read_text()
    assert "track: 科学计算" in one and "track: 框架开发" in two
    assert "repo: PaddlePaddle/Paddle\n    paths:\n      - python/paddle/tensor/**" in two


def test_the_report_leads_with_what_blocks_and_ends_with_the_fields_to_fill(tmp_path, capsys):
    src = tmp_path / "c.md"
    src.write_text(
        "# 合集\n\n### No.1：讨论方案\n\n- 详细描述：在论坛讨论。\n\n### No.1：重复\n\n- 详细描述：x\n", encoding="utf-8"
    )
    assert main(["rules", "import", str(src), "--campaign", "c", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    blocking = out.index("BLOCKING: the campaign cannot work until these are fixed:")
    assert "no tracker" in out[blocking + 1] and "no repos" in out[blocking + 2]
    assert "1 tasks cannot be checked" in out[blocking + 3] and out[blocking + 3].split("): ")[1].startswith("1;")
    assert out[blocking + 4].startswith("warnings: 2 (1 duplicate, 1 no repository)")
    assert out[-1].startswith("next: in c/campaign.yml fill in tracker, maintainers, claim_policy, collection_url")


def _campaign(root: Path, slug: str, tracker: str | None = "o/r#1", repos: str = "[o/r]", tasks: dict | None = None) -> None:
    d = root / slug
    d.mkdir(parents=True)
    (d / "campaign.yml").write_text(
        f"name: {slug}\nkey: K {slug}\n" + (f"tracker: {tracker}\n" if tracker else "") + f"repos: {repos}\n"
    )
    for tid, body in (tasks or {1: "targets: [{repo: o/r, paths: ['a/**']}]"}).items():
        (d / f"{tid:03d}.yml").write_text(f"id: {tid}\ntitle: t{tid}\n{body}\n")


def test_check_refuses_two_campaigns_on_one_tracker_and_says_how_to_merge(tmp_path, capsys):
    _campaign(tmp_path, "a")
    _campaign(tmp_path, "b")
    assert main(["rules", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "campaigns a and b share the tracker o/r#1" in out and "bot rules import A.md B.md --campaign a" in out


def test_check_errors_on_a_campaign_that_cannot_run_and_warns_on_unchecked_tasks(tmp_path):
    _campaign(tmp_path, "a", tracker=None, repos="[]", tasks={1: "summary: x"})
    probs = check(tmp_path)
    errors = sorted(p.field for p in probs if p.severity == "error")
    warnings = [p for p in probs if p.severity == "warning"]
    assert errors == ["repos", "tracker"]
    assert [(Path(w.file).name, w.field) for w in warnings] == [("campaign.yml", "tasks"), ("001.yml", "targets")]
    assert all("cannot be checked" in w.message for w in warnings)
    assert warnings[0].message.endswith(": 1") and warnings[1].message.startswith("task 1 names no repository")


def test_check_errors_on_a_directory_without_campaigns(tmp_path, capsys):
    assert main(["rules", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "no campaign here" in out and "ok:" not in out


def test_committed_rules_still_pass_check():
    root = Path(__file__).resolve().parents[2] / "rules"
    assert not [p for p in check(root) if p.severity == "error"]


def test_an_rfc_list_is_read_by_its_content_whatever_its_column_names():
    # `行` only counts rows; the task is named in the issue cell (`No.13 …`) or only by its title;
    # the RFC column is a column of 需要/不需要/✅ and the difficulty one a column of stars
    g = _gen("english_edition.md", rfc_list=("rfc.md", (DATA / "rfc_list_by_content.md").read_text(encoding="utf-8")))
    assert {n: (t["difficulty"], t["rfc"]["required"]) for n, t in g.tasks.items()} == {
        12: ("Easy", False),
        13: ("⭐️⭐️", True),
        14: ("⭐⭐⭐", True),
    }
    assert not [w for w in g.warnings if "not in the RFC list" in w.message or "do not have" in w.message]
    assert any("matched to tasks by title" in w.message for w in g.warnings)


def test_a_task_table_with_unnamed_columns_and_a_table_inside_a_task():
    text = (
        "# 合集\n\n| 编号 | 内容 | 等级 | 设计文档 |\n|--|--|--|--|\n| 7 | 新增 foo API | 进阶 | 是 |\n| 8 | 修复 bar | 基础 | 否 |\n\n"
        "### No.9：清理 baz\n\n- 详细描述：下表是要清理的模块。\n\n| 序号 | 模块 | 是否完成 |\n|--|--|--|\n| 1 | a | 否 |\n| 2 | b | 是 |\n"
    )
    g = generate([("c.md", text)], extra_repos=["PaddlePaddle/Paddle"])
    assert sorted(g.tasks) == [7, 8, 9]  # the table in task 9's text lists modules, not tasks
    assert (g.tasks[7]["title"], g.tasks[7]["difficulty"], g.tasks[7]["rfc"]["required"]) == ("新增 foo API", "进阶", True)


def test_group_headers_in_other_shapes_are_groups_and_their_text_reaches_each_task_of_the_run():
    g = _gen("group_headers.md", extra_repos=["PaddlePaddle/docs"])
    assert {n: t["title"] for n, t in g.tasks.items()} == {
        30: "翻译 paddle.nn 文档",
        31: "翻译 paddle.io 文档",
        32: "翻译 paddle.vision 文档",
        40: "优化 softmax 算子",
        41: "优化 layer_norm 算子",
        50: "迁移 ResNet",
        51: "迁移 ViT",
    }
    assert not [w for w in g.warnings if w.kind == "duplicate"]
    for n in (30, 31, 32):  # `【Task 30 至 Task 32】`: a range with 至 in brackets
        assert g.tasks[n]["acceptance"] == ["术语与术语表一致；", "通过文档 CI。"]
    for n in (40, 41):  # a bold line listing two numbers
        assert g.tasks[n]["acceptance"] == ["性能提升 20% 以上"]
    assert g.tasks[50]["summary"] == "迁移到新接口。"  # `NO.50（共 2 题）` heads the run that starts with NO.50


def test_tasks_a_review_cannot_check_are_blockers_even_with_a_repository(tmp_path, capsys):
    src = tmp_path / "c.md"
    src.write_text(
        "# 合集\n\n### No.1：修复 bug\n\n- 提交内容：代码提交到 Paddle 仓库\n\n"
        "### No.2：新增 API\n\n- 提交内容：代码提交到 Paddle 仓库的 python/paddle/tensor 目录\n\n"
        "### No.3：写设计\n\n- 提交内容：设计文档提交到 community 仓库的 rfcs 目录\n\n### No.4（预留）\n",
        encoding="utf-8",
    )
    assert main(["rules", "import", str(src), "--campaign", "c", "--out", str(tmp_path), "--repo", "PaddlePaddle/Paddle"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "cannot be checked" in x)
    assert line.strip().startswith("- 1 tasks cannot be checked") and line.endswith(
        "): 1; add `targets` with paths, or `tests`, to their files"
    )


def test_repositories_from_prose_headings_short_names_and_none_when_unsure():
    g = _gen("repos_in_prose.md")
    repos = {n: [tg["repo"] for tg in t["targets"]] for n, t in g.tasks.items()}
    assert repos == {
        1: ["PaddlePaddle/PaddleMaterials"],
        2: ["PaddlePaddle/PaddleMaterials"],  # the heading above them
        3: ["PaddlePaddle/PaddleMIX"],  # `在 PaddleMIX 套件中新增`
        4: ["PaddlePaddle/PaddleOCR"],  # `提交 PR 到 PaddleOCR`
        5: ["PaddlePaddle/PaddleMIX"],  # named only in passing, but the only one: before the collection's word
        6: ["PFCCLab/paddle_geometric"],  # the short name of a linked repository of another organisation
        7: [],  # two repositories with the same weight and nothing to choose: none, and a warning
        8: ["PaddlePaddle/PaddleOCR", "PaddlePaddle/PaddleX"],  # `PaddleOCR/PaddleX` in the title names both
        9: ["PaddlePaddle/PaddleScience"],  # nothing said in the task: the collection's word
    }
    assert any(w.kind == "no repository" and "task 7" in w.message and "PaddleOCR" in w.message for w in g.warnings)


def test_paths_without_branches_directories_named_in_prose_and_plain_criteria():
    g = _gen("paths_in_text.md")
    t = g.tasks
    # /tree/release/2.7/… and /blob/develop/…: repository paths, without the branch
    assert t[21]["targets"] == [{"repo": "PaddlePaddle/PaddleOCR", "paths": ["deploy/cpp_infer/**", "deploy/pdf/readme.md"]}]
    # `在 paddlenlp/transformers 下新增`: a place named in a sentence; `tests/transformers/<model>`: the directory
    # before the placeholder; the llama file is something to look at; the package says the repository
    assert t[22]["targets"] == [
        {"repo": "PaddlePaddle/PaddleNLP", "paths": ["paddlenlp/transformers/**", "tests/transformers/**"]}
    ]
    assert t[22]["tests"] == ["tests/transformers/**"]
    assert t[22]["acceptance"] == ["按 代码规范 完成 代码风格 检查；", "精度对齐"]
    # the link whose text is the repository's name gives way to the path written out on its line;
    # a test that must keep passing is not a test the PR must add
    assert (
        t[23]["targets"] == [{"repo": "PaddlePaddle/PaddleX", "paths": ["paddlex/inference/models/**"]}] and t[23]["tests"] == []
    )


def test_an_unlinked_repository_of_the_organisation_named_as_a_repository_and_names_in_any_case():
    text = (
        "# 第十三期 套件任务\n\n参考：[Paddle](https://github.com/PaddlePaddle/Paddle)\n\n"
        "### No.1：视频理解模型\n\n- 详细描述：复现 VideoMAE，代码合入 PaddleVideo 仓库。\n- 完成标准：精度对齐论文。\n\n"
        "### No.2：多模态示例\n\n- 详细描述：在 PaddleMix 中补充一个示例。\n"
    )
    g = generate([("c.md", text)])
    assert g.tasks[1]["targets"] == [{"repo": "PaddlePaddle/PaddleVideo", "paths": []}]
    assert g.tasks[1]["acceptance"] == ["精度对齐论文。"]  # 完成标准: criteria by another name
    assert g.tasks[2]["targets"] == [{"repo": "PaddlePaddle/PaddleMIX", "paths": []}]


def test_a_task_that_names_no_repository_goes_where_all_its_siblings_go_with_a_warning():
    def task(n: int, body: str) -> str:
        return f"### No.{n}：任务{n}\n\n- 详细描述：{body}\n\n"

    text = (
        "# 合集\n\n## 材料方向\n\n本方向的任务与晶体有关。\n\n"
        + "".join(task(n, "在 PaddleMaterials 中复现模型。") for n in (1, 2, 3))
        + task(4, "复现一个晶体生成模型。")
        + "## 部署方向\n\n"
        + task(5, "为 FastDeploy 新增后端。")
        + task(6, "优化推理性能。")
    )
    g = generate([("c.md", text)])
    assert g.tasks[4]["targets"] == [{"repo": "PaddlePaddle/PaddleMaterials", "paths": []}]
    assert any(w.kind == "repository from its section" and "task 4" in w.message for w in g.warnings)
    assert g.tasks[6]["targets"] == []  # one sibling is not enough to go by


def test_a_repository_named_as_something_to_look_at_on_a_submission_line_is_no_target():
    text = "# 合集\n\n### No.1：新增版面模型\n\n- 提交内容：代码提交到 PaddleMIX 仓库，可参考 PaddleOCR 中的实现。\n"
    assert generate([("c.md", text)]).tasks[1]["targets"] == [{"repo": "PaddlePaddle/PaddleMIX", "paths": []}]


def test_a_directory_given_after_a_label_that_names_a_place():
    text = "# 合集\n\n### No.1：新增材料模型\n\n- 详细描述：在 PaddleMaterials 中复现模型。\n- 代码目录：`ppmat/models`\n- 单测位置：`tests/models`\n"
    t = generate([("c.md", text)]).tasks[1]
    assert t["targets"] == [{"repo": "PaddlePaddle/PaddleMaterials", "paths": ["ppmat/models/**", "tests/models/**"]}]
    assert t["tests"] == ["tests/models/**"]


def test_the_items_of_a_line_that_introduces_files_to_write_are_targets():
    text = (
        "# 合集\n\n### No.5：新增 FNO 变体\n\n**任务描述**\n\n本任务需新增以下文件：\n\n"
        "- `ppsci/arch/fno_variant.py`：模型结构\n- `ppsci/loss/spectral.py`：损失函数\n\n其余代码可参考 ppsci/arch/fno.py。\n"
    )
    t = generate([("c.md", text)]).tasks[5]
    assert t["targets"] == [
        {"repo": "PaddlePaddle/PaddleScience", "paths": ["ppsci/arch/fno_variant.py", "ppsci/loss/spectral.py"]}
    ]


def test_an_overview_table_with_a_repository_column_and_the_tasks_detailed_below():
    text = (
        "# 第十三期 任务合集\n\n## 任务一览\n\n| 序号 | 任务名称 | 难度 | 代码仓库 |\n|--|--|--|--|\n"
        "| 1 | 新增 foo 模型 | ⭐⭐ | [PaddleNLP](https://github.com/PaddlePaddle/PaddleNLP) |\n"
        "| 2 | 文档翻译 | ⭐ | PaddlePaddle/docs |\n\n## 任务详情\n\n### No.1：新增 foo 模型\n\n"
        "- 详细描述：实现 foo 模型。\n- 提交内容：代码放在 paddlenlp/transformers/foo 目录。\n- 验收标准：精度对齐。\n"
    )
    g = generate([("c.md", text)])
    assert g.tasks[1]["targets"] == [{"repo": "PaddlePaddle/PaddleNLP", "paths": ["paddlenlp/transformers/foo/**"]}]
    assert (g.tasks[1]["difficulty"], g.tasks[1]["acceptance"]) == ("⭐⭐", ["精度对齐。"])  # the row fills in the difficulty
    assert g.tasks[2]["targets"] == [{"repo": "PaddlePaddle/docs", "paths": []}]  # only listed: its repository cell


def test_the_framework_a_task_uses_is_not_where_it_goes():
    text = (
        "此文档展示 **第十三期——科学计算方向任务**。所有任务要求基于 PaddleScience 套件进行开发。\n\n"
        "### No.1：迁移流场模型\n\n- 详细描述：将 PyTorch 实现迁移到飞桨框架，精度对齐。\n\n"
        "### No.2：优化器补全\n\n- 详细描述：为飞桨框架新增 amsgrad 选项。\n"
    )
    g = generate([("c.md", text)])
    assert g.tasks[1]["targets"] == [{"repo": "PaddlePaddle/PaddleScience", "paths": []}]  # the collection's word
    assert g.tasks[2]["targets"] == [{"repo": "PaddlePaddle/Paddle", "paths": []}]  # into the framework
