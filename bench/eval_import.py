"""How well the importer reads real collections: fields filled per collection, accuracy on hand labels.

Usage: python bench/eval_import.py   (reads ../shared/collections and ../shared/seeds next to the repo)

Each edition directory of ../shared/collections is imported as one campaign (its collections and RFC
list together, as an organiser would: `bot rules import A.md B.md rfc.md --campaign X`); each seed
on its own. Prints, per collection, the tasks found and how many have each field filled; then, per
collection and per field, how many of the hand-labelled fields in bench/import_labels.yml the
importer got right, the totals, and (-v) the misses. tests/rules/test_eval_import.py asserts floors
under the same figures. These are the importer's development collections: a collection it has not
been tuned on is the real test.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

from ruamel.yaml import YAML

from bot.rules.importer import Generated, generate

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
LABELS = Path(__file__).with_name("import_labels.yml")
FIELDS = ("title", "difficulty", "rfc", "repos", "paths", "tests", "acceptance", "track", "reward")
# how the seeds are imported (as bench/bench_import.py and the committed rules/ do)
SEED_OPTIONS: dict[str, dict] = {"003": {"number_from": 201, "extra_repos": ["PaddlePaddle/Paddle"]}}


def import_edition(directory: Path) -> Generated:
    files = sorted(directory.glob("*.md"))
    return generate([(f.name, f.read_text(encoding="utf-8")) for f in files])


def import_seed(path: Path) -> Generated:
    return generate([(path.name, path.read_text(encoding="utf-8"))], **SEED_OPTIONS.get(path.name[:3], {}))


def all_imports() -> dict[str, Generated]:
    out = {}
    for d in sorted(p for p in (SHARED / "collections").iterdir() if p.is_dir()):
        out[d.name] = import_edition(d)
    for s in sorted((SHARED / "seeds").iterdir()):
        out[f"seeds/{s.name}"] = import_seed(s)
    return out


def by_file(gen: Generated) -> dict[str, dict[int, dict]]:
    out: dict[str, dict[int, dict]] = defaultdict(dict)
    for num, t in gen.tasks.items():
        out[t["source"]["file"]][num] = t
    return out


# ---------------------------------------------------------------- comparing with the labels


def _norm_text(s) -> str | None:
    if s is None:
        return None
    return re.sub(r"\s+", " ", str(s).replace("\ufe0f", "")).strip()


def _globs(globs) -> set[str]:
    """A set of globs with those covered by a broader `dir/**` of the same set removed."""
    gs = set(globs or [])
    return {g for g in gs if not any(o != g and o.endswith("/**") and g.startswith(o[:-2]) for o in gs)}


def _numbers(s: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?", s)


def field_right(field: str, label, task: dict) -> bool:
    if field == "title":
        return _norm_text(label) == _norm_text(task["title"])
    if field == "difficulty":
        return _norm_text(label) == _norm_text(task.get("difficulty"))
    if field == "rfc":
        return bool(label) == bool(task["rfc"]["required"])
    if field == "repos":
        return set(label) == {t["repo"] for t in task["targets"]}
    if field == "paths":
        got = {t["repo"]: t["paths"] for t in task["targets"]}
        return all(_globs(globs) == _globs(got.get(repo)) for repo, globs in label.items())
    if field == "tests":
        return _globs(label) == _globs(task["tests"])
    if field == "acceptance":
        return bool(label) == bool(task["acceptance"])
    if field == "track":
        return _norm_text(label) == _norm_text(task.get("track"))
    if field == "reward":
        got = task.get("reward")
        if label is None or got is None:
            return label is None and got is None
        nums = _numbers(str(label))
        return set(nums) <= set(_numbers(str(got))) if nums else _norm_text(label) == _norm_text(got)
    raise ValueError(field)


def load_labels() -> list[dict]:
    return YAML(typ="safe").load(LABELS.read_text(encoding="utf-8"))["editions"]


def score(imports: dict[str, Generated]) -> tuple[dict[str, list[int]], list[str]]:
    """field -> [right, labelled], and a line per miss."""
    per, misses = score_by_collection(imports)
    tally = {f: [0, 0] for f in FIELDS}
    for fields in per.values():
        for f, (right, n) in fields.items():
            tally[f][0] += right
            tally[f][1] += n
    return tally, misses


def score_by_collection(imports: dict[str, Generated]) -> tuple[dict[str, dict[str, list[int]]], list[str]]:
    """collection file -> field -> [right, labelled], and a line per miss. A labelled task the import
    did not find counts as wrong in every field, under its edition's name."""
    per: dict[str, dict[str, list[int]]] = {}
    misses = []
    for edition in load_labels():
        gen = imports[edition["dir"]]
        for num, lab in edition["tasks"].items():
            task = gen.tasks.get(int(num))
            where = task["source"]["file"] if task is not None else edition["dir"]
            tally = per.setdefault(where, {f: [0, 0] for f in FIELDS})
            for f in FIELDS:
                if f not in lab:
                    continue  # not scored for this task (see the label file's header)
                tally[f][1] += 1
                if task is not None and field_right(f, lab[f], task):
                    tally[f][0] += 1
                else:
                    got = None if task is None else _shown(f, task)
                    misses.append(f"{where} No.{num} {f}: labelled {lab[f]!r}, imported {got!r}")
    return per, misses


def _shown(field: str, task: dict):
    return {
        "rfc": task["rfc"]["required"],
        "repos": sorted(t["repo"] for t in task["targets"]),
        "paths": {t["repo"]: t["paths"] for t in task["targets"]},
        "acceptance": bool(task["acceptance"]),
    }.get(field, task.get(field))


def _pct(right: int, n: int) -> str:
    return f"{100 * right / n:5.1f}%" if n else "    -"


def _short(name: str, width: int) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def main() -> None:
    imports = all_imports()
    cols = ("targets", "tests", "difficulty", "track", "summary", "acceptance", "reward", "rfc")
    print("fields filled, per collection:")
    print(f"{'collection':<50} {'tasks':>5} " + " ".join(f"{c:>10}" for c in cols))
    for gen in imports.values():
        for file, tasks in sorted(by_file(gen).items()):
            n = len(tasks)
            filled = [
                sum(1 for t in tasks.values() if t["targets"]),
                sum(1 for t in tasks.values() if t["tests"]),
                sum(1 for t in tasks.values() if t.get("difficulty")),
                sum(1 for t in tasks.values() if t.get("track")),
                sum(1 for t in tasks.values() if t.get("summary")),
                sum(1 for t in tasks.values() if t["acceptance"]),
                sum(1 for t in tasks.values() if t.get("reward") is not None),
                sum(1 for t in tasks.values() if t["rfc"]["required"]),
            ]
            print(f"{_short(file, 50):<50} {n:>5} " + " ".join(f"{v:>10}" for v in filled))
    per, misses = score_by_collection(imports)
    tally, _ = score(imports)
    labelled_tasks = sum(len(e["tasks"]) for e in load_labels())
    print(f"\naccuracy on the hand labels ({LABELS.name}: {labelled_tasks} tasks), per collection and field (right/labelled):")
    print(f"{'collection':<50} " + " ".join(f"{f:>10}" for f in FIELDS) + f" {'all':>7}")
    for file, fields in per.items():
        right, n = sum(v[0] for v in fields.values()), sum(v[1] for v in fields.values())
        print(
            f"{_short(file, 50):<50} "
            + " ".join(f"{f'{r}/{k}' if k else '-':>10}" for r, k in fields.values())
            + f" {_pct(right, n):>7}"
        )
    print(f"{'all collections':<50} " + " ".join(f"{f'{r}/{k}':>10}" for r, k in tally.values()))
    print(f"{'':<50} " + " ".join(f"{_pct(r, k):>10}" for r, k in tally.values()))
    total = [sum(v[0] for v in tally.values()), sum(v[1] for v in tally.values())]
    worst = min((r / k, f) for f, (r, k) in tally.items() if k)
    print(f"all fields: {total[0]}/{total[1]} {_pct(*total)}; lowest field: {worst[1]} {100 * worst[0]:.1f}%")
    if misses and "-v" in sys.argv:
        print("misses:")
        for m in misses:
            print("  " + m)


if __name__ == "__main__":
    main()
