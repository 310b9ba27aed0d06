"""`bot rules check`: lint a rules tree beyond what loading checks.

Errors: anything the loader reports (schema, unknown keys, types, id/file name, duplicate ids),
a campaign without a tracker, globs that can never match a repository path. Warnings: a task
target outside the campaign's repos, two campaigns sharing a key. Pure over the loaded tree.
"""
from __future__ import annotations

from pathlib import Path

from wcmatch import glob as wglob

from bot.rules.loader import Loaded, Problem, line_of, read_rules
from bot.rules.models import GLOB_FLAGS


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
    for slug, cr in loaded.rules.campaigns.items():
        cfile = cr.dir / "campaign.yml"
        cdoc = loaded.docs.get(cfile)
        c = cr.campaign
        if not c.tracker:
            problems.append(Problem(str(cfile), line_of(cdoc, ("tracker",)), "tracker", "campaign has no tracker ('owner/repo#number')"))
        if c.key in keys:
            problems.append(Problem(str(cfile), line_of(cdoc, ("key",)), "key", f"key {c.key!r} is also used by campaign {keys[c.key]}", "warning"))
        keys.setdefault(c.key, slug)
        repos = {r.lower() for r in c.repos}
        for tid, t in cr.tasks.items():
            tfile = next((p for p in loaded.docs if p.parent == cr.dir and p.stem.isdigit() and int(p.stem) == tid), cr.dir / f"{tid:03d}.yml")
            doc = loaded.docs.get(tfile)
            for i, tg in enumerate(t.targets):
                if repos and tg.repo.lower() not in repos:
                    problems.append(Problem(str(tfile), line_of(doc, ("targets", i, "repo")), f"targets[{i}].repo", f"{tg.repo} is not among the campaign's repos", "warning"))
                for j, g in enumerate(tg.paths):
                    why = glob_problem(g)
                    if why:
                        problems.append(Problem(str(tfile), line_of(doc, ("targets", i, "paths", j)), f"targets[{i}].paths[{j}]", f"{g!r}: {why}"))
            for j, g in enumerate(t.tests):
                why = glob_problem(g)
                if why:
                    problems.append(Problem(str(tfile), line_of(doc, ("tests", j)), f"tests[{j}]", f"{g!r}: {why}"))
    return problems


def check(path: str | Path) -> list[Problem]:
    """Every problem (errors and warnings) of the rules tree at `path`."""
    return lint(read_rules(path))
