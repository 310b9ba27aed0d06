"""`bot rules import`: task collections -> `rules/<slug>/campaign.yml` and `<id>.yml` files.

`generate` (pure) turns collection texts into the fields the importer owns; `merge` (pure)
lays them over the files already on disk; `run_import` reads and writes files.

Fields the importer owns: for a task `title difficulty summary targets tests rfc acceptance
source`; for the campaign `name key repos rfc language` (campaign.yml is written whole only
when it does not exist: tracker, maintainers, claim_policy and labels are the maintainers').

Hand edits survive a re-import. A field is taken as edited by hand when
1. it is listed in the file's `hand_edited`, or
2. its value in the file differs from what the previous import generated, which the importer
   records in `rules/<slug>/.generated.yml` (when that record is missing, any field whose value
   differs from what the import generates now is taken as edited by hand: the safe side).
Such a field is kept, added to `hand_edited` if it was not listed, and when the collection now
says something else the difference is reported. Other fields are updated. Files are rewritten
only when their content changes, through ruamel.yaml's round trip, so comments stay.
Task files of tasks no longer in the collection are kept and reported.

Blocks without a task number are reported with file:line and skipped, unless `number_from`
is given: then they get N, N+1, ... in document order, skipping ids already taken.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from bot.rules.collection import (
    Collection,
    Context,
    _extract_lines,
    _plain,
    extract,
    guess_key,
    home_repos,
    is_chinese,
    parse_collection,
    repo_mentions,
    strip_links,
    usual_tests,
)
from bot.rules.loader import plain
from bot.rules.models import Campaign, ClaimPolicy, Labels, Task, TaskStatus

TASK_FIELDS = ("title", "difficulty", "track", "summary", "targets", "tests", "rfc", "acceptance", "source", "status", "reward")
CAMPAIGN_FIELDS = ("name", "key", "repos", "rfc", "language")
RECORD = ".generated.yml"
DOC_REPOS = ("docs", "community")  # documentation and design-document repositories
DEFAULT_RFC = {"repo": "PaddlePaddle/community", "path": "rfcs/"}


@dataclass
class Warning_:
    file: str
    line: int | None
    message: str
    kind: str = "note"  # what it is about, for grouping: format, unnumbered, duplicate, rfc list…

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


@dataclass
class Generated:
    campaign: dict[str, Any]
    tasks: dict[int, dict[str, Any]]
    numbered_by_option: set[int]
    unnumbered_skipped: int
    warnings: list[Warning_]


CAMPAIGN_TO_FILL = ("tracker", "maintainers", "claim_policy", "collection_url")


@dataclass
class Report:
    slug: str
    tasks: int = 0
    from_collection: int = 0
    numbered_by_option: int = 0
    unnumbered_skipped: int = 0
    with_targets: int = 0
    with_tests: int = 0
    with_rfc: int = 0
    filled: dict[str, int] = field(default_factory=dict)  # field -> tasks that have it
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept: list[str] = field(default_factory=list)  # hand edits kept, with the difference
    stale: list[str] = field(default_factory=list)  # files of tasks no longer in the collection
    warnings: list[Warning_] = field(default_factory=list)
    unchecked: list[int] = field(default_factory=list)  # tasks that are not `Task.checkable`: no target paths, tests or RFC
    to_fill: list[str] = field(default_factory=list)  # campaign fields the organiser must set
    no_tracker: bool = False
    no_repos: bool = False

    def blocking(self) -> list[str]:
        """What keeps the campaign from working, most important first."""
        out = []
        cfile = f"{self.slug}/campaign.yml"
        if self.no_tracker:
            out.append(
                f"no tracker: nobody can claim a task until {cfile} says `tracker: owner/repo#N` (the issue where people comment)"
            )
        if self.no_repos:
            out.append(
                f"no repos: no pull request will be reviewed until {cfile} lists `repos: [owner/repo]` (or import with --repo)"
            )
        if self.unchecked:
            ids = ", ".join(str(i) for i in self.unchecked[:30]) + (" …" if len(self.unchecked) > 30 else "")
            out.append(
                f"{len(self.unchecked)} tasks cannot be checked (no target paths, no tests, no RFC: a review can verify nothing but"
                f" the repository): {ids}; add `targets` with paths, or `tests`, to their files"
            )
        return out

    def render(self) -> str:
        n = self.tasks
        lines = [
            f"{self.slug}: {n} tasks found ({self.from_collection} numbered in the collection, "
            f"{self.numbered_by_option} numbered by --number-from, {self.unnumbered_skipped} unnumbered blocks skipped)",
            f"  with targets: {self.with_targets}/{n}   with tests: {self.with_tests}/{n}   needing an RFC: {self.with_rfc}/{n}",
        ]
        if self.filled:
            lines.append("  filled: " + "   ".join(f"{k} {v}/{n}" for k, v in self.filled.items()))
        lines.append(f"  files: {len(self.written)} written, {self.unchanged} unchanged; hand edits kept: {len(self.kept)}")
        for k in self.kept:
            lines.append(f"  kept hand edit: {k}")
        for s in self.stale:
            lines.append(f"  no longer in the collection (file kept): {s}")
        blocking = self.blocking()
        if blocking:
            lines.append("BLOCKING: the campaign cannot work until these are fixed:")
            lines += [f"  - {b}" for b in blocking]
        groups: dict[str, list[Warning_]] = {}
        for w in self.warnings:
            groups.setdefault(w.kind, []).append(w)
        lines.append(
            f"warnings: {len(self.warnings)}"
            + (" (" + ", ".join(f"{len(v)} {k}" for k, v in groups.items()) + ")" if groups else "")
        )
        for kind, ws in groups.items():
            lines.append(f"  {kind} ({len(ws)}):")
            lines += [f"    {w}" for w in ws[:5]]
            if len(ws) > 5:
                lines.append(f"    … and {len(ws) - 5} more like these")
        if self.to_fill:
            lines.append(
                f"next: in {self.slug}/campaign.yml fill in {', '.join(self.to_fill)}"
                " (tracker: the issue where people claim; maintainers: GitHub logins; claim_policy: limits"
                " and expiry; collection_url: where the collection is published, for task links)"
            )
        return "\n".join(lines)


# ---------------------------------------------------------------- generate (pure)


# Repositories of the PaddlePaddle organisation that collections name in words ("提交到 FastDeploy 仓库",
# "基于 PaddleScience 套件"); recognised by name only when the collections' links point into that org.
KNOWN_REPOS = {
    "PaddlePaddle": [
        "Paddle",
        "docs",
        "community",
        "PaddleScience",
        "FastDeploy",
        "PaddleNLP",
        "PaddleOCR",
        "PaddleX",
        "PaddleSpeech",
        "Paddle2ONNX",
        "PaConvert",
        "PaddleMIX",
        "PaddleDetection",
        "PaddleCFD",
        "GraphNet",
        "PaddleMaterials",
        "Paddle-Lite",
        "PaddleSlim",
        "PaddleClas",
        "PaddleSeg",
        "PaddleTS",
        "PaddleHub",
        "PaddleFormers",
        "PaDiff",
        "Paddle-Lite-Demo",
        "PaddleCustomDevice",
        "ERNIE",
        "PaddleVideo",
        "Paddle3D",
        "PaddleRec",
        "PaddleGAN",
        "PaddleHelix",
        "PaddleSpatial",
        "PaddleFleetX",
        "PaddleYOLO",
        "PaddleRS",
        "X2Paddle",
        "VisualDL",
        "PaddleTest",
        "PaddleQuantum",
        "Serving",
        "Paddle-Inference-Demo",
        "PaddleCloud",
        "PaddleFlow",
        "PARL",
        "PGL",
        "PaddleSOT",
        "PaddleAPEX",
        "PaddleDepth",
        "PaddleSleeve",
        "PaddleFL",
        "PaddleDistributed",
    ],
}


# Where a repository keeps its code, for paths that name no repository (`ppsci/arch/…` is PaddleScience's);
# a repository's own name in lower case (`fastdeploy/`, `paddle/`, `graph_net/`) is recognised without this.
KNOWN_PACKAGES = {
    "PaddlePaddle": {
        "ppsci": "PaddleScience",
        "ppmat": "PaddleMaterials",
        "ppocr": "PaddleOCR",
        "ppdet": "PaddleDetection",
        "ppcls": "PaddleClas",
        "ppdiffusers": "PaddleMIX",
        "paddlemix": "PaddleMIX",
        "ppfleetx": "PaddleFleetX",
        "ppcfd": "PaddleCFD",
        "paddlets": "PaddleTS",
        "paddleseg": "PaddleSeg",
        "paddlenlp": "PaddleNLP",
        "paddlespeech": "PaddleSpeech",
        "paddlex": "PaddleX",
        "paddleslim": "PaddleSlim",
        "paconvert": "PaConvert",
    },
}
FRAMEWORK = {"PaddlePaddle": "Paddle"}  # the organisation's framework: `飞桨框架`, `Paddle 框架`


def _given_repos(campaign: dict | None, extra_repos: list[str]) -> list[str]:
    """The repositories the organiser gave: --repo, and campaign.yml's `repos` when edited by hand
    (the importer writes that field itself; reading its own output back would change a re-import)."""
    camp = campaign or {}
    mine = list(camp.get("repos") or []) if "repos" in (camp.get("hand_edited") or []) else []
    return list(dict.fromkeys(mine + list(extra_repos)))


def _context(collections: list[Collection], campaign: dict | None, extra_repos: list[str]) -> Context:
    """Which repositories names in the text can mean. The campaign's organisation is the one of the
    repositories the organiser gave, else the one whose repositories the collections link to most
    (distinct repositories, not links: a paper's code linked twice does not make its author the
    organisation), the design-document repository's organisation breaking ties."""
    linked = Counter(r for c in collections for r, _ in c.links)
    known = _given_repos(campaign, extra_repos)
    rfc_repo = ((campaign or {}).get("rfc") or {}).get("repo") or DEFAULT_RFC["repo"]
    if known:
        orgs = {r.split("/")[0] for r in known}
    else:
        distinct = Counter(r.split("/")[0] for r in linked)
        rfc_org = rfc_repo.split("/")[0]
        orgs = {max(distinct, key=lambda o: (distinct[o], o == rfc_org))} if distinct else {rfc_org}
    ranked = [r for r, _ in linked.most_common() if r.split("/")[0] in orgs]
    repos = list(dict.fromkeys(known + ranked))
    default = next((r for r in repos if r != rfc_repo), None)
    names = [f"{org}/{name}" for org in sorted(orgs) for name in KNOWN_REPOS.get(org, [])]
    framework = next((f"{org}/{FRAMEWORK[org]}" for org in sorted(orgs) if org in FRAMEWORK), None)
    packages = {pkg: f"{org}/{name}" for org in sorted(orgs) for pkg, name in KNOWN_PACKAGES.get(org, {}).items()}
    mine = {r.split("/")[1] for r in repos + names}
    others = [r for r in linked if r.split("/")[0] not in orgs and r.split("/")[1] not in mine]  # not a fork of ours
    return Context(
        repos=repos,
        default_repo=default,
        rfc_repo=rfc_repo,
        names=names,
        framework=framework,
        packages=packages,
        others=others,
        only_repo=extra_repos[0] if len(extra_repos) == 1 else known[0] if len(known) == 1 else None,
    )


def _collection_repo(c: Collection, ctx: Context) -> str | None:
    """Where the collection as a whole says work goes: its title ("…Paddle2ONNX任务合集") or file name,
    else its own text ("要求基于 PaddleScience 套件进行开发"), when they name one repository."""
    for text in [c.title or "", c.file]:
        found = [r for _, r, _ in repo_mentions(_plain(text), ctx) if r != ctx.framework]
        if found:
            return found[0]
    named: Counter = Counter()
    for ln in c.preamble:
        named.update(r for _, r, st in repo_mentions(_plain(ln.text), ctx) if st == 2)
    top = named.most_common(2)
    if top and (len(top) == 1 or top[0][1] > 2 * top[1][1]):
        return top[0][0]
    return None


def _preamble_accept(c: Collection, ctx: Context) -> tuple[list[str], bool]:
    """What the collection's own text (outside every task and part with tasks) asks of every task:
    acceptance criteria, and whether its process asks for a design document."""
    e = _extract_lines(c.preamble, "", None, ctx)
    return e.acceptance, e.rfc_required


def direction(name: str | None) -> str | None:
    """A collection's direction from its name: '…第七期活动——开源贡献个人挑战赛科学计算方向任务' -> '科学计算'."""
    if not name or not re.search(r"——|—|】|--", name):
        return None
    part = re.split(r"——|—|】|--", name)[-1].strip()
    part = re.split(r"\s*(?:详细介绍|任务详情|详情|[，,。;；(（])", part)[0]  # `…框架开发任务 详细介绍,更多详见…`
    part = re.sub(r"^(?:核心框架)?(?:开源贡献)?(?:个人挑战赛)?(?:冲刺赛)?\s*", "", part)
    part = re.sub(r"(?:任务详情|任务合集|任务列表|详细介绍|合集|任务|方向|赛道)+\s*$", "", part).strip(" -–—：:")
    return part or None


def is_rfc_list(c: Collection) -> bool:
    """A file that is only a table of tasks with an RFC column (the edition's RFC list)."""
    numbered = [b for b in c.blocks if b.number is not None]
    return bool(numbered) and all(b.kind == "table" for b in numbered) and any(b.rfc_required is not None for b in numbered)


def _common_name(names: list[str]) -> str | None:
    if not names:
        return None
    if len(names) == 1:
        return names[0]
    prefix = names[0]
    for n in names[1:]:
        while not n.startswith(prefix):
            prefix = prefix[:-1]
    prefix = re.sub(r"[\s—\-–（(【]+$", "", prefix)
    return prefix if len(prefix) >= 8 else names[0]


def generate(
    collections: list[tuple[str, str]],
    *,
    rfc_list: tuple[str, str] | None = None,
    number_from: int | None = None,
    campaign: dict | None = None,
    extra_repos: list[str] | None = None,
) -> Generated:
    """Collection texts (name, text) -> the importer's fields for the campaign and each task.

    Several collections make one campaign, a track per collection (or per section of it). A file
    that is only an RFC-list table is read as the RFC list, as `rfc_list` is."""
    all_parsed = [parse_collection(text, name) for name, text in collections]
    rfc_lists = [c for c in all_parsed if is_rfc_list(c)]
    parsed = [c for c in all_parsed if c not in rfc_lists] or all_parsed[:1]
    rfc_lists = [c for c in rfc_lists if c not in parsed]
    if rfc_list is not None:
        rfc_lists.append(parse_collection(rfc_list[1], rfc_list[0]))
    known = _given_repos(campaign, extra_repos or [])
    ctx = _context(parsed, campaign, extra_repos or [])
    warnings: list[Warning_] = []
    for c in all_parsed:
        warnings += [Warning_(c.file, n.line, n.message, "format") for n in c.notes]
    rfc_default = dict(((campaign or {}).get("rfc")) or DEFAULT_RFC)
    used = {b.number for c in parsed for b in c.blocks if b.number is not None}
    next_id = number_from
    tasks: dict[int, dict[str, Any]] = {}
    origin: dict[int, str] = {}
    by_option: set[int] = set()
    skipped = 0
    for c in parsed:
        ctx.collection_repo = _collection_repo(c, ctx)
        ctx.preamble_accept, ctx.preamble_rfc = _preamble_accept(c, ctx)
        ctx.cache = {}
        col_track = direction(c.title) or direction(c.file)
        for b in c.blocks:
            num = b.number
            if num is None:
                if next_id is None:
                    skipped += 1
                    warnings.append(
                        Warning_(
                            c.file,
                            b.line,
                            f"task block without a number, skipped ({b.title!r}); --number-from N numbers such blocks",
                            "unnumbered",
                        )
                    )
                    continue
                while next_id in used:
                    next_id += 1
                num, next_id = next_id, next_id + 1
                used.add(num)
                by_option.add(num)
                warnings.append(
                    Warning_(
                        c.file,
                        b.line,
                        f"task block without a number given id {num} by --number-from ({b.title!r})",
                        "numbered by option",
                    )
                )
            where = f"{c.file}:{b.line}"
            row = None
            if num in tasks:
                if b.kind == "table":
                    _fill_from_table(tasks[num], b, ctx)
                    continue
                if tasks[num]["_kind"] == "table":  # the text of a task a table listed: it is the task, the row fills in the rest
                    row = tasks.pop(num)["_row"]
                else:
                    warnings.append(
                        Warning_(
                            c.file, b.line, f"task {num} appears again (first at {origin[num]}); this one is skipped", "duplicate"
                        )
                    )
                    continue
            e = extract(b, ctx)
            rfc: dict[str, Any] = {"required": bool(b.rfc_required) if b.rfc_required is not None else e.rfc_required}
            if e.rfc_repo and e.rfc_repo != rfc_default.get("repo"):
                rfc["repo"] = e.rfc_repo
            if e.rfc_path and e.rfc_path != rfc_default.get("path"):
                rfc["path"] = e.rfc_path
            source: dict[str, Any] = {"file": c.file, "line": b.line}
            if b.anchor:
                source["anchor"] = b.anchor
            t: dict[str, Any] = {
                "title": b.title or f"task {num}",
                "difficulty": e.difficulty,
                "track": b.track or col_track,
                "summary": e.summary,
                "targets": [{"repo": r, "paths": p} for r, p in e.targets.items()],
                "tests": e.tests,
                "rfc": rfc,
                "acceptance": e.acceptance,
                "source": source,
                "status": TaskStatus.reserved.value if b.reserved else None,
                "reward": e.reward or b.reward,
                "_kind": b.kind,
                "_row": b if b.kind == "table" else None,
                "_group_difficulty": e.group_difficulty,
                "_home": e.home,
                "_unsure": e.unsure,
                "_unit_tests": e.unit_tests,
                "_group": (c.file, id(b.group)) if b.group is not None else None,
                "_scope": (c.file, id(b.scopes[-1]) if b.scopes else None),
                "_track": (c.file, b.track or col_track),
                "_collection_repo": ctx.collection_repo,
            }
            tasks[num] = t
            origin[num] = where
            if row is not None:
                t["title"] = t["title"] if b.title else row.title
                _fill_from_table(t, row, ctx)
            if not b.title:
                warnings.append(Warning_(c.file, b.line, f"task {num} has no title", "format"))
    _fill_repos(tasks, warnings)
    for rl in rfc_lists:
        _apply_rfc_list(rl, tasks, warnings)
    for t in tasks.values():
        for k in [k for k in t if k.startswith("_")]:
            del t[k]
    first = parsed[0] if parsed else None
    all_text = "\n".join(text for _, text in collections)
    target_repos = Counter(tg["repo"] for t in tasks.values() for tg in t["targets"])
    repos = list(dict.fromkeys(known + [r for r, _ in target_repos.most_common()]))
    names = [c.title for c in parsed if c.title]
    camp = {
        "name": _common_name(names) or (first.file if first else "campaign"),
        "key": guess_key(all_text) or "",
        "repos": repos,
        "rfc": rfc_default,
        "language": "zh" if is_chinese(all_text) else "en",
    }
    return Generated(camp, dict(sorted(tasks.items())), by_option, skipped, warnings)


def _fill_repos(tasks: dict[int, dict[str, Any]], warnings: list[Warning_]) -> None:
    """Tasks whose lines name no place go where their title, text, group, part of the collection or
    the collection says (`home_repos`); else where every other task of their group (or part of the
    collection) goes, when at least three say where and all say the same code repository; when nothing
    says so, or the text is unsure between several repositories, they get none and a warning: a wrong
    repository is worse than none (replies would send people there and the checklist would reject
    correct PRs).
    Tasks that ask for unit tests without naming where get the repository's usual test location."""
    for t in tasks.values():
        if not t["targets"] and t["_home"]:
            t["targets"] = [{"repo": r, "paths": []} for r in t["_home"]]

    def siblings_say(t: dict) -> str | None:
        key, value = ("_group", t["_group"]) if t["_group"] is not None else ("_scope", t["_scope"])
        said = [
            [tg["repo"] for tg in o["targets"] if tg["repo"].split("/")[1] not in DOC_REPOS]
            for o in tasks.values()
            if o is not t and o[key] == value and o["targets"]
        ]
        code = {tuple(r) for r in said}
        if len(said) >= 3 and len(code) == 1 and len(next(iter(code))) == 1:
            repo = next(iter(code))[0]
            return repo if not t["_unsure"] or repo in t["_unsure"] else None
        return None

    filled = {num: siblings_say(t) for num, t in tasks.items() if not t["targets"]}
    for num, repo in filled.items():
        t, src = tasks[num], tasks[num]["source"]
        if repo:
            t["targets"] = [{"repo": repo, "paths": []}]
            warnings.append(
                Warning_(
                    src["file"],
                    src["line"],
                    f"task {num}: no repository in its text; {repo}, where every other task"
                    " of its group or section goes: check it",
                    "repository from its section",
                )
            )
        else:
            why = (
                f"it names {', '.join(t['_unsure'])} and nothing says which"
                if t["_unsure"]
                else "neither it nor its group, section or collection names one"
            )
            warnings.append(
                Warning_(
                    src["file"], src["line"], f"task {num}: no repository ({why}); add `targets` to its file", "no repository"
                )
            )
    for t in tasks.values():
        if not t["tests"] and t["_unit_tests"] and t["targets"]:
            code_repos = [tg["repo"] for tg in t["targets"] if tg["repo"].split("/")[1] not in DOC_REPOS]
            t["tests"] = list(dict.fromkeys(usual_tests(r) for r in code_repos))


@lru_cache(maxsize=4096)
def _title_key(text: str) -> str:
    text = strip_links(str(text or "")).replace("\ufe0f", "").lower()
    return re.sub(r"[\s`*_'\"“”‘’()（）\[\]【】:：,，.。、/\\|-]+", "", text)


def _similar(a: str, b: str, floor: float = 0.0) -> float:
    """How alike two titles are (0..1); below `floor` the answer may be any figure under it."""
    ka, kb = _title_key(a), _title_key(b)
    if not ka or not kb:
        return 0.0
    if ka in kb or kb in ka:
        return min(len(ka), len(kb)) / max(len(ka), len(kb)) * 0.5 + 0.5
    if 2 * min(len(ka), len(kb)) / (len(ka) + len(kb)) < floor:
        return 0.0  # (an upper bound of the ratio below, without building the matcher)
    if floor and 2 * len(_chars(ka) & _chars(kb)) / (len(_chars(ka)) + len(_chars(kb))) < floor * 0.8:
        return 0.0  # hardly a character in common
    m = SequenceMatcher(None, ka, kb)
    if m.quick_ratio() < floor:
        return 0.0
    return m.ratio()


@lru_cache(maxsize=4096)
def _chars(key: str) -> frozenset:
    return frozenset(key)


def _row_task(b, tasks: dict[int, dict[str, Any]]) -> tuple[int | None, str]:
    """Which task an RFC-list row is about: its number, unless its title says it is another task
    (lists whose first column counts rows, or that name the task in the title cell: `NO.37 …`).
    Returns (task id, how it was matched)."""

    def sim(n: int | None, floor: float = 0.0) -> float:
        return _similar(b.title, tasks[n]["title"], floor) if n in tasks and b.title else 0.0

    if b.named_number in tasks and sim(b.named_number) >= sim(b.number):
        return b.named_number, "named"
    if b.number in tasks and (not b.title or sim(b.number) >= 0.5):
        if sim(b.number) < 0.8 and b.title:  # another task with (nearly) this very title is the one meant
            exact = [n for n in tasks if n != b.number and sim(n, 0.95) >= 0.95]
            if len(exact) == 1:
                return exact[0], "title"
        return b.number, "number"
    if b.title:
        scored = sorted(((sim(n, 0.6), n) for n in tasks), reverse=True)
        if scored and scored[0][0] >= 0.75 and (len(scored) == 1 or scored[1][0] < scored[0][0] - 0.1):
            return scored[0][1], "title"
    if b.number in tasks:
        return b.number, "number"
    return None, ""


def _apply_rfc_list(rl: Collection, tasks: dict[int, dict[str, Any]], warnings: list[Warning_]) -> None:
    """The edition's RFC list: which tasks need a design document, and their difficulty. Rows are
    matched to tasks by number, or by title when the number is not the task's (see `_row_task`)."""
    listed: set[int] = set()
    by_title = 0
    rows = [b for b in rl.blocks if b.kind == "table" and b.number is not None]
    for b in rows:
        num, how = _row_task(b, tasks)
        if num is None:
            warnings.append(
                Warning_(
                    rl.file,
                    b.line,
                    f"the RFC list names task {b.number} ({b.title!r}), which the collections do not have",
                    "rfc list",
                )
            )
            continue
        by_title += how == "title"
        listed.add(num)
        t = tasks[num]
        if b.difficulty and (not t.get("difficulty") or t.get("_group_difficulty")):
            t["difficulty"] = _clean_difficulty(b.difficulty)  # the task's own line beats its group's
        if b.reward and t.get("reward") is None:
            t["reward"] = b.reward
        if b.rfc_required is None:
            warnings.append(Warning_(rl.file, b.line, f"task {num}: RFC column neither yes nor no", "rfc list"))
            continue
        t["rfc"]["required"] = b.rfc_required
    if by_title:
        warnings.append(
            Warning_(
                rl.file,
                None,
                f"{by_title} rows of the RFC list were matched to tasks by title: their number column is not the tasks' numbers",
                "rfc list",
            )
        )
    says_unlisted_free = bool(
        re.search(
            r"不在\s*RFC\s*(?:需求)?列表[^\n]*(?:不需要|无需|不用)|not (?:in|on) the RFC list[^\n]*(?:no|not need)",
            "\n".join(ln.text for ln in rl.preamble),
            re.IGNORECASE,
        )
    )
    for num, t in tasks.items():
        if num in listed:
            continue
        if says_unlisted_free:  # "不在RFC需求列表里的任务可直接开发，不需要提交RFC"
            t["rfc"]["required"] = False
        else:
            warnings.append(Warning_(rl.file, None, f"task {num} is not in the RFC list", "not in the RFC list"))


def _clean_difficulty(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _fill_from_table(t: dict, b, ctx: Context) -> None:
    if not t.get("difficulty") and b.difficulty:
        t["difficulty"] = b.difficulty
    if t.get("reward") is None and b.reward:
        t["reward"] = b.reward
    if not t["targets"] and not t["_home"] and b.repo_text:
        t["_home"] = home_repos(b, ctx)[0]
    if b.rfc_required is not None:
        t["rfc"]["required"] = b.rfc_required


# ---------------------------------------------------------------- merge (pure, over file texts)


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.width = 4096
    y.allow_unicode = True
    y.indent(mapping=2, sequence=4, offset=2)
    return y


_DUMPER: YAML | None = None


def dump(doc: Any) -> str:
    global _DUMPER
    if _DUMPER is None:
        _DUMPER = _yaml()
    buf = io.StringIO()
    _DUMPER.dump(doc, buf)
    return buf.getvalue()


def _norm_task(d: dict) -> dict:
    probe = {k: v for k, v in d.items() if k in TASK_FIELDS and v is not None}
    try:
        return Task.model_validate({"id": 1, "title": "x", **probe}).model_dump(mode="json", include=set(TASK_FIELDS))
    except Exception:
        return {k: d.get(k) for k in TASK_FIELDS}


def _norm_campaign(d: dict) -> dict:
    probe = {k: v for k, v in d.items() if k in CAMPAIGN_FIELDS and v is not None}
    try:
        return Campaign.model_validate({"name": "x", "key": "x", **probe}).model_dump(mode="json", include=set(CAMPAIGN_FIELDS))
    except Exception:
        return {k: d.get(k) for k in CAMPAIGN_FIELDS}


_PLAIN = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`][^\n\t]*")
_NOT_PLAIN = re.compile(
    r": |:$| #|^(?:true|false|yes|no|on|off|null|~|y|n|=|<<)$|^[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$|^0x|^0o|^[-+]?\.(?:inf|nan)$|^\d{4}-\d|^[-+.]?[\d_.:]*$",
    re.IGNORECASE,
)  # dates, and number-like runs ("+_")


_YAML_UNSAFE = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|\u2028|\u2029|\ufeff")


def _scalar(v: Any, flow: bool = False) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    text = str(v)
    if not flow and _PLAIN.fullmatch(text) and not _NOT_PLAIN.search(text) and text == text.strip() and text.isprintable():
        return text
    # a JSON string is a YAML double-quoted scalar; escape what YAML may not hold raw
    return _YAML_UNSAFE.sub(
        lambda m: f"\\u{ord(m.group(0)):04x}" if ord(m.group(0)) < 0x10000 else f"\\U{ord(m.group(0)):08x}",
        json.dumps(text, ensure_ascii=False),
    )


def _flow(v: Any) -> str:
    """A nested list (or an empty mapping) inside a sequence, in flow style."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_scalar(k, flow=True)}: {_flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_flow(x) for x in v) + "]"
    return _scalar(v, flow=True)


def _emit(v: Any, pad: str, out: list[str]) -> None:
    """Block YAML in the rule files' style (mappings by 2, sequence dashes indented by 2)."""
    for k, x in v.items():
        key = str(k) if isinstance(k, int) else _scalar(k)
        if isinstance(x, dict) and x:
            out.append(f"{pad}{key}:")
            _emit(x, pad + "  ", out)
        elif isinstance(x, list) and x:
            out.append(f"{pad}{key}:")
            for item in x:
                if isinstance(item, dict) and item:
                    sub: list[str] = []
                    _emit(item, pad + "    ", sub)
                    out.append(f"{pad}  - {sub[0].lstrip()}")
                    out.extend(sub[1:])
                elif isinstance(item, (list, dict)):
                    out.append(f"{pad}  - {_flow(item)}")
                else:
                    out.append(f"{pad}  - {_scalar(item)}")
        else:
            out.append(f"{pad}{key}: " + ("[]" if isinstance(x, list) else "{}" if isinstance(x, dict) else _scalar(x)))


def emit_yaml(data: dict, header: str | None = None) -> str:
    """Plain data -> YAML text. The round-trip dumper keeps comments of files people edited but is
    slow; files the importer writes whole (new task files, its record) need none of that."""
    out = [f"# {line}" if line else "#" for line in (header or "").splitlines()]
    _emit(dict(data), "", out)
    return "\n".join(out) + "\n"


def _task_doc(num: int, t: dict, header: str) -> CommentedMap:
    doc = CommentedMap()
    doc["id"] = num
    for k in TASK_FIELDS:
        v = t.get(k)
        if v is None:
            continue
        doc[k] = v
    doc["hand_edited"] = []
    doc.yaml_set_start_comment(header)
    return doc


def _campaign_doc(c: dict) -> CommentedMap:
    doc = CommentedMap()
    for k in CAMPAIGN_FIELDS:
        doc[k] = c[k]
    doc["tracker"] = None
    doc["maintainers"] = []
    doc["claim_policy"] = ClaimPolicy().model_dump()
    doc["labels"] = Labels().model_dump()
    doc["hand_edited"] = []
    doc.yaml_set_start_comment(
        "Generated by `bot rules import`. Set tracker, maintainers, claim_policy and labels by hand;\n"
        "fields edited by hand are kept on re-import (list them in hand_edited)."
    )
    return doc


def _merge_doc(
    doc: CommentedMap, new: dict, prev: dict | None, fields: tuple[str, ...], norm, where: str, report: Report
) -> bool:
    """Lay generated values over a loaded file. Returns True when the document changed."""
    changed = False
    cur = norm(plain(doc))
    gen = norm(new)
    old = norm(prev) if prev is not None else None
    hand = list(doc.get("hand_edited") or [])
    for f in fields:
        edited = f in hand or (old is not None and cur.get(f) != old.get(f)) or (old is None and cur.get(f) != gen.get(f))
        if edited:
            if f not in hand:
                hand.append(f)
            if cur.get(f) != gen.get(f):
                report.kept.append(f"{where}: {f}: file has {cur.get(f)!r}, the collection now gives {gen.get(f)!r}")
            continue
        if cur.get(f) != gen.get(f):
            if new.get(f) is None:
                doc.pop(f, None)
            else:
                doc[f] = new[f]
            changed = True
    if hand != list(doc.get("hand_edited") or []):
        doc["hand_edited"] = hand
        changed = True
    return changed


def _checkable(d: dict) -> bool:
    """`Task.checkable` of a task file's fields (or of what the import generated)."""
    try:
        return Task.model_validate(
            {"id": 1, "title": "x", **{k: v for k, v in d.items() if k in ("targets", "tests", "rfc") and v is not None}}
        ).checkable
    except Exception:
        targets = d.get("targets") or []
        return (
            any(isinstance(x, dict) and x.get("paths") for x in targets)
            or bool(d.get("tests"))
            or bool((d.get("rfc") or {}).get("required"))
        )


def merge(gen: Generated, existing: dict[str, str], record: dict | None, slug: str) -> tuple[dict[str, str], dict, Report]:
    """Generated fields + files on disk (name -> text) + previous record -> (files to write, new record, report)."""
    report = Report(slug=slug, warnings=list(gen.warnings))
    writes: dict[str, str] = {}
    y = _yaml()
    prev_tasks = (record or {}).get("tasks") or {}
    final: dict[int, bool] = {}  # task -> checkable once merged (its file, hand edits included)
    final_campaign: dict = {**gen.campaign}
    # campaign
    if "campaign.yml" in existing:
        doc = y.load(existing["campaign.yml"])
        if isinstance(doc, CommentedMap):
            final_campaign = doc
        if isinstance(doc, CommentedMap) and _merge_doc(
            doc, gen.campaign, (record or {}).get("campaign"), CAMPAIGN_FIELDS, _norm_campaign, f"{slug}/campaign.yml", report
        ):
            writes["campaign.yml"] = dump(doc)
        else:
            report.unchanged += 1
    else:
        writes["campaign.yml"] = dump(_campaign_doc(gen.campaign))
    by_id: dict[int, str] = {}
    for name in existing:
        stem = name.rsplit(".", 1)[0]
        if stem.isdigit():
            by_id.setdefault(int(stem), name)
    for num, t in gen.tasks.items():
        name = by_id.get(num, f"{num:03d}.yml")
        if name in existing:
            doc = y.load(existing[name])
            prev = prev_tasks.get(num) if num in prev_tasks else prev_tasks.get(str(num))
            if isinstance(doc, CommentedMap) and _merge_doc(doc, t, prev, TASK_FIELDS, _norm_task, f"{slug}/{name}", report):
                writes[name] = dump(doc)
            else:
                report.unchanged += 1
            final[num] = isinstance(doc, CommentedMap) and _checkable(plain(doc))
        else:
            final[num] = _checkable(t)
            src = t["source"]
            header = f"Generated by `bot rules import` from {src['file']} line {src['line']}.\n"
            if num in gen.numbered_by_option:
                header += f"The collection gives this task no number: id {num} was assigned by --number-from.\n"
            header += "Edit freely: fields you change are kept on re-import (and listed in hand_edited)."
            writes[name] = emit_yaml(_task_doc(num, t, header), header)
    for num, name in sorted(by_id.items()):
        if num not in gen.tasks:
            report.stale.append(f"{slug}/{name}")
    report.written = sorted(writes)
    tasks = gen.tasks
    report.tasks = len(tasks)
    report.numbered_by_option = len(gen.numbered_by_option)
    report.from_collection = len(tasks) - len(gen.numbered_by_option)
    report.unnumbered_skipped = gen.unnumbered_skipped
    report.with_targets = sum(1 for t in tasks.values() if t["targets"])
    report.with_tests = sum(1 for t in tasks.values() if t["tests"])
    report.with_rfc = sum(1 for t in tasks.values() if t["rfc"]["required"])
    report.filled = {
        "difficulty": sum(1 for t in tasks.values() if t.get("difficulty")),
        "track": sum(1 for t in tasks.values() if t.get("track")),
        "summary": sum(1 for t in tasks.values() if t.get("summary")),
        "acceptance": sum(1 for t in tasks.values() if t.get("acceptance")),
        "reward": sum(1 for t in tasks.values() if t.get("reward") is not None),
        "reserved": sum(1 for t in tasks.values() if t.get("status") == TaskStatus.reserved.value),
    }
    report.unchecked = [
        num for num, ok in final.items() if not ok and gen.tasks[num].get("status") is None
    ]  # placeholders take no claims
    report.no_tracker = not final_campaign.get("tracker")
    report.no_repos = not final_campaign.get("repos")
    policy = final_campaign.get("claim_policy") or {}
    report.to_fill = [
        f
        for f in CAMPAIGN_TO_FILL
        if (f == "claim_policy" and not any(v is not None for v in policy.values()))
        or (f != "claim_policy" and not final_campaign.get(f))
    ]
    new_record = {"campaign": gen.campaign, "tasks": {num: t for num, t in tasks.items()}}
    return writes, new_record, report


# ---------------------------------------------------------------- shell


def import_folder(
    texts: list[tuple[str, str]],
    existing: dict[str, str],
    slug: str,
    *,
    rfc_list: tuple[str, str] | None = None,
    number_from: int | None = None,
    repos: list[str] | None = None,
) -> tuple[dict[str, str], Report]:
    """In memory: collection texts (name, markdown) and a campaign folder's files (name -> text, the
    record `RECORD` among them when there is one) -> the files to write (name -> text; the record
    too when it changes) and the report. `bot rules import` writes them to disk; the import pull
    request commits them."""
    safe = YAML(typ="safe")
    record = safe.load(existing[RECORD]) if RECORD in existing else None
    rules_files = {n: t for n, t in existing.items() if not n.startswith(".")}
    campaign = None
    if "campaign.yml" in rules_files:
        try:
            campaign = plain(safe.load(rules_files["campaign.yml"]))
        except Exception:
            campaign = None
    gen = generate(
        texts,
        rfc_list=rfc_list,
        number_from=number_from,
        campaign=campaign if isinstance(campaign, dict) else None,
        extra_repos=repos,
    )
    writes, new_record, report = merge(gen, rules_files, record if isinstance(record, dict) else None, slug)
    rec_text = emit_yaml(new_record, "What `bot rules import` generated last time; it tells hand edits apart. Do not edit.")
    if existing.get(RECORD) != rec_text:
        writes[RECORD] = rec_text
    return writes, report


def run_import(
    collections: list[str | Path],
    slug: str,
    out: str | Path,
    *,
    rfc_list: str | Path | None = None,
    number_from: int | None = None,
    repos: list[str] | None = None,
) -> Report:
    """Read collections, merge with `out/slug/`, write what changed, return the report."""
    cdir = Path(out) / slug
    existing: dict[str, str] = {}
    if cdir.is_dir():
        for f in cdir.iterdir():
            if f.is_file() and f.suffix in (".yml", ".yaml") and (not f.name.startswith(".") or f.name == RECORD):
                existing[f.name] = f.read_text(encoding="utf-8")
    texts = [(Path(p).name, Path(p).read_text(encoding="utf-8")) for p in collections]
    rfc = (Path(rfc_list).name, Path(rfc_list).read_text(encoding="utf-8")) if rfc_list else None
    writes, report = import_folder(texts, existing, slug, rfc_list=rfc, number_from=number_from, repos=repos)
    cdir.mkdir(parents=True, exist_ok=True)
    for name, text in writes.items():
        (cdir / name).write_text(text, encoding="utf-8")
    report.written = [n for n in report.written if n != RECORD]
    return report
