"""Loading and checking rule trees: errors name file:line: field; the committed tree passes."""

import json
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.rules import RulesError, load_rules
from bot.rules.check import check, glob_problem

RULES = Path(__file__).resolve().parents[2] / "rules"

CAMPAIGN = """name: Test
key: Hackathon 9th
tracker: PaddlePaddle/Paddle#1
repos: [PaddlePaddle/Paddle]
"""
TASK = """id: 7
title: Seven
targets:
  - repo: PaddlePaddle/Paddle
    paths: [python/**]
"""


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = tmp_path / "rules" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path / "rules"


def problems_of(root: Path) -> list[str]:
    with pytest.raises(RulesError) as e:
        load_rules(root)
    return str(e.value).splitlines()


def test_loads_a_good_tree(tmp_path):
    rules = load_rules(tree(tmp_path, {"c/campaign.yml": CAMPAIGN, "c/007.yml": TASK}))
    assert rules.campaigns["c"].tasks[7].title == "Seven"
    assert rules.campaigns["c"].campaign.tracker_number == 1


def test_unknown_key_names_its_line(tmp_path):
    root = tree(tmp_path, {"c/campaign.yml": CAMPAIGN, "c/007.yml": TASK + "colour: red\n"})
    assert problems_of(root) == [f"{root}/c/007.yml:6: colour: unknown field"]


def test_nested_wrong_type_names_its_line(tmp_path):
    root = tree(tmp_path, {"c/campaign.yml": CAMPAIGN, "c/007.yml": TASK.replace("paths: [python/**]", "paths: python/**")})
    (line,) = problems_of(root)
    assert line.startswith(f"{root}/c/007.yml:5: targets[0].paths: ")


def test_string_id_is_a_type_error(tmp_path):
    root = tree(tmp_path, {"c/campaign.yml": CAMPAIGN, "c/007.yml": TASK.replace("id: 7", 'id: "7"')})
    (line,) = problems_of(root)
    assert line.startswith(f"{root}/c/007.yml:1: id: ")


def test_id_must_match_file_name(tmp_path):
    root = tree(tmp_path, {"c/campaign.yml": CAMPAIGN, "c/008.yml": TASK})
    assert problems_of(root) == [f"{root}/c/008.yml:1: id: id 7 does not match the file name 008.yml"]


def test_duplicate_ids(tmp_path):
    root = tree(tmp_path, {"c/campaign.yml": CAMPAIGN, "c/007.yml": TASK, "c/7.yml": TASK})
    (line,) = problems_of(root)
    assert line.startswith(f"{root}/c/7.yml:1: id: duplicate id 7")


def test_yaml_syntax_error_line(tmp_path):
    root = tree(tmp_path, {"c/campaign.yml": CAMPAIGN + "repos: [a/b\n"})
    (line,) = problems_of(root)
    assert line.startswith(f"{root}/c/campaign.yml:") and "YAML" in line


def test_bad_tracker_shape(tmp_path):
    root = tree(tmp_path, {"c/campaign.yml": CAMPAIGN.replace("PaddlePaddle/Paddle#1", "issue 1")})
    (line,) = problems_of(root)
    assert line.startswith(f"{root}/c/campaign.yml:3: tracker: ")


@pytest.mark.parametrize(
    "glob,bad",
    [
        ("python/**", False),
        ("**/test_x.py", False),
        ("/abs/path", True),
        ("dir/", True),
        ("a/../b", True),
        ("", True),
        ("a\\b", True),
    ],
)
def test_globs_that_can_never_match(glob, bad):
    assert (glob_problem(glob) is not None) == bad


def test_check_flags_missing_tracker_and_dead_glob(tmp_path):
    root = tree(
        tmp_path,
        {
            "c/campaign.yml": CAMPAIGN.replace("tracker: PaddlePaddle/Paddle#1\n", ""),
            "c/007.yml": TASK.replace("python/**", "/python/"),
        },
    )
    errs = [str(p) for p in check(root) if p.severity == "error"]
    assert errs[0].startswith(f"{root}/c/campaign.yml:1: tracker: ")
    assert errs[1].startswith(f"{root}/c/007.yml:5: targets[0].paths[0]: ")


def test_committed_rules_pass_check(capsys):
    assert main(["rules", "check", str(RULES)]) == 0
    assert "ok: 5 campaigns" in capsys.readouterr().out


def test_broken_copy_of_committed_rules_fails_with_file_line(tmp_path, capsys):
    copy = tmp_path / "rules"
    shutil.copytree(RULES, copy)
    f = copy / "hackathon-4th-framework" / "090.yml"
    lines = f.read_text().splitlines()
    at = next(i for i, l in enumerate(lines) if l.startswith("difficulty:"))
    lines[at] = "dificulty: 进阶"
    f.write_text("\n".join(lines) + "\n")
    assert main(["rules", "check", str(copy)]) == 1
    out = capsys.readouterr().out
    assert f"{f}:{at + 1}: dificulty: unknown field" in out


def test_schema_prints_both_schemas(capsys):
    assert main(["rules", "schema"]) == 0
    schemas = json.loads(capsys.readouterr().out)
    assert schemas["task"]["additionalProperties"] is False
    assert "tracker" in schemas["campaign"]["properties"] and "targets" in schemas["task"]["properties"]


def test_status_and_reward_load_from_a_task_file(tmp_path):
    from bot.rules import TaskStatus, load_rules

    c = tmp_path / "c"
    c.mkdir()
    (c / "campaign.yml").write_text("name: C\nkey: Hackathon 9th\ntracker: o/r#1\nrepos: [o/r]\n")
    (c / "001.yml").write_text("id: 1\ntitle: a\nstatus: reserved\nreward: 0.1🌟\n")
    (c / "002.yml").write_text("id: 2\ntitle: b\nreward: 500\n")
    tasks = load_rules(tmp_path).campaigns["c"].tasks
    assert tasks[1].status is TaskStatus.reserved and not tasks[1].open_to_claims and tasks[1].reward == "0.1🌟"
    assert tasks[2].status is TaskStatus.open and tasks[2].open_to_claims and tasks[2].reward == 500


def test_unknown_status_is_an_error_naming_the_choices(tmp_path):
    from bot.rules import RulesError, load_rules

    c = tmp_path / "c"
    c.mkdir()
    (c / "campaign.yml").write_text("name: C\nkey: K\ntracker: o/r#1\nrepos: [o/r]\n")
    (c / "001.yml").write_text("id: 1\ntitle: a\nstatus: frozen\n")
    with pytest.raises(RulesError) as e:
        load_rules(tmp_path)
    assert "001.yml:3: status:" in str(e.value) and "open, reserved, closed" in str(e.value)


def test_serving_reads_the_same_rules_as_the_linter_and_reports_problems_with_their_line(tmp_path):
    """`load_rules` (bot serve) reads valid files with libyaml; what it loads equals what the exact
    round-trip path loads, and a broken file is still reported with its line."""
    from pathlib import Path

    from bot.rules.loader import RulesError, load_rules, read_rules

    root = Path(__file__).resolve().parents[2] / "rules"
    assert load_rules(root) == read_rules(root).rules
    camp = tmp_path / "c"
    camp.mkdir()
    (camp / "campaign.yml").write_text((root / "hackathon-4th-framework" / "campaign.yml").read_text())
    (camp / "007.yml").write_text("id: 7\ntitle: ok\ntitle: twice\n")
    (camp / "008.yml").write_text("id: 8\ntitle: on\n")  # YAML 1.1 would read a bool here
    try:
        load_rules(tmp_path)
    except RulesError as exc:
        assert any(p.file.endswith("007.yml") and p.line == 3 for p in exc.problems), exc
        assert not any(p.file.endswith("008.yml") for p in exc.problems), exc
    else:
        raise AssertionError("a duplicate key must be refused")


def test_check_warns_for_each_task_that_cannot_be_checked_and_lists_their_ids(tmp_path):
    """Issue 20 item 7: a task is checked through target paths, tests or its RFC; one that names
    only a repository (or nothing) is warned about, with its id, and the campaign lists them all."""
    only_repo = "id: {n}\ntitle: T\ntargets:\n  - repo: PaddlePaddle/Paddle\n    paths: []\n"
    files = {
        "c/campaign.yml": CAMPAIGN,
        "c/007.yml": TASK,  # target paths
        "c/008.yml": only_repo.format(n=8),
        "c/009.yml": "id: 9\ntitle: Nothing\n",
        "c/010.yml": only_repo.format(n=10) + "tests: [test/**]\n",  # tests
        "c/011.yml": only_repo.format(n=11) + "rfc: {required: true}\n",  # the RFC
    }
    root = tree(tmp_path, files)
    rules = load_rules(root).campaigns["c"]
    unchecked = [t for t in sorted(rules.tasks) if not rules.tasks[t].checkable]
    assert unchecked == [8, 9]
    warnings = [p for p in check(root) if p.severity == "warning"]
    per_task = {Path(p.file).name: p for p in warnings if p.field == "targets"}
    assert sorted(per_task) == [f"{t:03d}.yml" for t in unchecked]
    assert per_task["008.yml"].line == 3 and "only the repository PaddlePaddle/Paddle" in per_task["008.yml"].message
    assert per_task["009.yml"].message.startswith("task 9 names no repository")
    [summary] = [p for p in warnings if p.field == "tasks"]
    assert summary.message.startswith(f"{len(unchecked)} of {len(rules.tasks)} tasks cannot be checked")
    assert summary.message.endswith(": 8, 9")
    assert not [p for p in check(root) if p.severity == "error"]
