"""Real collections (../shared/collections, ../shared/seeds): every numbered task found, none invented,
and the fields a careful organiser writes match the hand labels of bench/import_labels.yml."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import eval_import

# The task numbers each collection states, read off its headings by hand (a seed's unnumbered
# blocks are numbered from 201 by the import options the committed rules/ were made with).
EXPECTED = {
    "【Hackathon_10th】FundableProject任务合集.md": range(1, 3),
    "【PaddlePaddle Hackathon 4】 核心框架开源贡献 API 开发任务合集.md": range(1, 32),
    "【PaddlePaddle Hackathon 5th】开源贡献个人挑战赛科学计算任务合集.md": range(53, 64),
    "【Hackathon 6th】开源贡献个人挑战赛Paddle2ONNX任务合集.md": range(56, 59),
    "【Hackathon 6th】开源贡献个人挑战赛科学计算任务合集.md": range(36, 43),
    "【Hackathon 7th】个人挑战赛—框架开发任务合集.md": range(18, 43),
    "【Hackathon 7th】个人挑战赛—科学计算任务合集.md": range(1, 18),
    "【Hackathon_8th】个人挑战赛—框架开发任务合集.md": range(1, 5),
    "【Hackathon_9th】个人挑战赛—科学计算任务合集.md": range(103, 109),
    "【Hackathon_9th】个人挑战赛冲刺赛—任务合集.md": range(1, 90),
    "000_699819bf7756efcf.txt": range(89, 98),
    "001_60816c7973d540e7.txt": range(1, 7),
    "002_e726831ae2c60574.txt": range(1, 11),
    "003_faa974be6d9463f0.txt": [102, 104, 105, *range(201, 217)],
    "004_9c8373bb7f8a31ef.txt": range(43, 58),
}

IMPORTS = eval_import.all_imports()


def test_every_numbered_task_of_every_collection_is_found_and_none_invented():
    found = {}
    for gen in IMPORTS.values():
        for file, tasks in eval_import.by_file(gen).items():
            found[file] = sorted(tasks)
    assert found == {f: list(ids) for f, ids in EXPECTED.items()}


def test_rfc_lists_are_read_as_lists_not_as_collections():
    for gen in IMPORTS.values():
        assert not any("rfc需求列表" in t["source"]["file"] for t in gen.tasks.values())


def test_the_labels_cover_every_task_of_every_collection():
    labels = eval_import.load_labels()
    labelled = {IMPORTS[e["dir"]].tasks[int(n)]["source"]["file"] for e in labels for n in e["tasks"]}
    assert labelled == set(EXPECTED) and sum(len(e["tasks"]) for e in labels) >= 250


# Floors the importer meets on the hand labels, per field and per collection: honest figures (see
# bench/eval_import.py), a little under what it reads today; a drop below one is a regression. These are
# the development collections: the held-out ones (issue 20's bar, >= 95% for every field) are not here.
FLOORS = {
    "title": 1.0,
    "difficulty": 1.0,
    "rfc": 0.99,
    "repos": 0.97,
    "paths": 0.97,
    "tests": 0.98,
    "acceptance": 0.99,
    "track": 0.99,
    "reward": 0.99,
}


def test_labelled_fields_match_the_hand_labels():
    tally, misses = eval_import.score(IMPORTS)
    for field, (right, n) in tally.items():
        assert n and right / n >= FLOORS[field], (field, right, n, [m for m in misses if f" {field}: " in m])


def test_every_collection_reads_at_least_95_percent_of_its_labelled_fields():
    per, misses = eval_import.score_by_collection(IMPORTS)
    for file, fields in per.items():
        right, n = sum(r for r, _ in fields.values()), sum(k for _, k in fields.values())
        assert right / n >= 0.95, (file, right, n, [m for m in misses if m.startswith(file)])
