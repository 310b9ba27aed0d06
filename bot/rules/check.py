"""`bot rules check`: lint a rules tree beyond what loading checks.

Errors: anything the loader reports (schema, unknown keys, types, id/file name, duplicate ids),
a directory holding no campaign, a campaign that cannot run (no tracker, no repos), two campaigns
on one tracker (every comment would go to the first: the message says how to merge them), globs
that can never match a repository path. Warnings: each task whose PRs cannot be checked (not
`Task.checkable`: its rules name only repositories, or nothing; no target paths, tests or RFC),
and one per campaign listing their ids; a task target outside the campaign's repos, two
campaigns sharing a key, a `reward` that is not a number (shown as written, it earns the default
points), a `points:` entry naming a difficulty no task has.
Pure over the loaded tree.
"""

from __future__ import annotations

from pathlib import Path

from wcmatch import glob as wglob

from bot.core.standing import format_points, read_reward, task_points
from bot.rules.loader import Loaded, Problem, line_of, read_rules
from bot.rules.models import GLOB_FLAGS, Task

SHOW_IDS = 50  # task ids listed in a campaign's summary warning ("… and N more" after)


def unchecked_reason(t: Task) -> str:
    """Why a task's PRs cannot be checked (for a task that is not `Task.checkable`)."""
    repos = list(dict.fromkeys(tg.repo for tg in t.targets))
    named = f"only the repositor{'y' if len(repos) == 1 else 'ies'} {', '.join(repos)}" if repos else "no repository"
    return (
        f"task {t.id} names {named}: no target paths, no tests, no RFC, so its PRs cannot be checked "
        "(they get `action_required` and never `ready`); "
        + ("add `paths` to its targets, or `tests`" if repos else "add `targets` (a repository and its paths), or `tests`")
    )


def glob_problem(pattern: str) -> str | None:
    """Why a path glob can never match a repository path (None when it can)."""
    if not pattern.strip():
        return "empty glob"
    if pattern != pattern.strip():
        return "glob has leading or trailing spaces"
    if pattern.startswith("/"):
        return "repository paths are relative: drop the leading '/'"
    if "\\" in pattern:
        return "use '/' in paths, not '\\'"
    if pattern.endswith("/"):
        return "a glob ending in '/' matches no file: add '**'"
    segs = pattern.split("/")
    if any(s in ("", ".", "..") for s in segs):
        return "empty, '.' or '..' path segment"
    try:
        wglob.translate(pattern, flags=GLOB_FLAGS)
    except Exception as e:  # pragma: no cover - wcmatch accepts nearly anything
        return f"invalid glob: {e}"
    return None


def lint(loaded: Loaded) -> list[Problem]:
    problems = list(loaded.problems)
    keys: dict[str, str] = {}
    trackers: dict[str, str] = {}
    for slug, cr in loaded.rules.campaigns.items():
        cfile = cr.dir / "campaign.yml"
        cdoc = loaded.docs.get(cfile)
        c = cr.campaign
        if not c.tracker:
            problems.append(
                Problem(
                    str(cfile),
                    line_of(cdoc, ("tracker",)),
                    "tracker",
                    "campaign has no tracker ('owner/repo#number'): nobody can claim its tasks",
                )
            )
        else:
            other = trackers.get(c.tracker.lower())
            if other is not None:
                problems.append(
                    Problem(
                        str(cfile),
                        line_of(cdoc, ("tracker",)),
                        "tracker",
                        f"campaigns {other} and {slug} share the tracker {c.tracker}: every comment there would go to {other}. "
                        f"Make them one campaign with a track per collection: `bot rules import A.md B.md --campaign {other} --out "
                        f"{cr.dir.parent}` with both collections (then delete {cr.dir}), or give each its own tracker",
                    )
                )
            trackers.setdefault(c.tracker.lower(), slug)
        if not c.repos:
            problems.append(
                Problem(
                    str(cfile),
                    line_of(cdoc, ("repos",)),
                    "repos",
                    "campaign has no repos ('owner/repo'): none of its pull requests would be reviewed",
                )
            )
        if c.key in keys:
            problems.append(
                Problem(
                    str(cfile), line_of(cdoc, ("key",)), "key", f"key {c.key!r} is also used by campaign {keys[c.key]}", "warning"
                )
            )
        keys.setdefault(c.key, slug)
        repos = {r.lower() for r in c.repos}
        difficulties = {t.difficulty.strip() for t in cr.tasks.values() if t.difficulty}
        for name in c.points:
            if name not in difficulties:
                problems.append(
                    Problem(
                        str(cfile),
                        line_of(cdoc, ("points", name)),
                        f"points.{name}",
                        f"no task has the difficulty {name!r}: these points go to nobody",
                        "warning",
                    )
                )
        unchecked = sorted(tid for tid, t in cr.tasks.items() if not t.checkable)
        if unchecked:
            ids = ", ".join(str(i) for i in unchecked[:SHOW_IDS]) + (
                f" and {len(unchecked) - SHOW_IDS} more" if len(unchecked) > SHOW_IDS else ""
            )
            problems.append(
                Problem(
                    str(cfile),
                    line_of(cdoc, ("name",)),
                    "tasks",
                    f"{len(unchecked)} of {len(cr.tasks)} tasks cannot be checked (no target paths, tests or RFC): {ids}",
                    "warning",
                )
            )
        for tid, t in cr.tasks.items():
            tfile = next(
                (p for p in loaded.docs if p.parent == cr.dir and p.stem.isdigit() and int(p.stem) == tid),
                cr.dir / f"{tid:03d}.yml",
            )
            doc = loaded.docs.get(tfile)
            if t.reward is not None and read_reward(t.reward) is None:
                problems.append(
                    Problem(
                        str(tfile),
                        line_of(doc, ("reward",)),
                        "reward",
                        f"reward {t.reward!r} is not a number (like 500 or 0.1🌟): it is shown as written and the task "
                        f"earns {format_points(task_points(cr, t))} point(s) (the campaign's points for its difficulty, or 1)",
                        "warning",
                    )
                )
            if not t.checkable:
                at = ("targets",) if isinstance(doc, dict) and "targets" in doc else ("id",)
                problems.append(Problem(str(tfile), line_of(doc, at), "targets", unchecked_reason(t), "warning"))
            for i, tg in enumerate(t.targets):
                if repos and tg.repo.lower() not in repos:
                    problems.append(
                        Problem(
                            str(tfile),
                            line_of(doc, ("targets", i, "repo")),
                            f"targets[{i}].repo",
                            f"{tg.repo} is not among the campaign's repos",
                            "warning",
                        )
                    )
                for j, g in enumerate(tg.paths):
                    why = glob_problem(g)
                    if why:
                        problems.append(
                            Problem(
                                str(tfile), line_of(doc, ("targets", i, "paths", j)), f"targets[{i}].paths[{j}]", f"{g!r}: {why}"
                            )
                        )
            for j, g in enumerate(t.tests):
                why = glob_problem(g)
                if why:
                    problems.append(Problem(str(tfile), line_of(doc, ("tests", j)), f"tests[{j}]", f"{g!r}: {why}"))
    return problems


def check(path: str | Path) -> list[Problem]:
    """Every problem (errors and warnings) of the rules tree at `path`."""
    root = Path(path)
    if (root / "campaign.yml").is_file():
        parent = root.resolve().parent
        return [
            Problem(
                str(root),
                None,
                "",
                f"this is one campaign's folder: pass the folder that holds the campaign folders, `bot rules check {parent}`",
            )
        ]
    loaded = read_rules(path)
    problems = lint(loaded)
    if not loaded.rules.campaigns and not any(p.severity == "error" for p in problems):
        problems.append(
            Problem(
                str(path),
                None,
                "",
                "no campaign here: a campaign is a directory holding campaign.yml "
                "(create one with `bot rules import COLLECTION.md --campaign NAME --out DIR`)",
            )
        )
    return problems
