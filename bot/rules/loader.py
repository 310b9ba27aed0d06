"""Loading rules: a campaign folder (`<slug>/campaign.yml` + `<slug>/<id>.yml`) into `CampaignRules`.

A folder's files come from a local rules tree (`RULES_DIR`: `read_rules`, `load_rules`) or from
a repository (`.github/hackathon/<slug>/`, read by the catalog: `campaign_from_files`); both are
read the same way. Every problem names the file, the YAML line and the field (ruamel.yaml keeps
the line of each key). `read_rules` collects problems and returns what loaded; `load_rules`
raises `RulesError` when there is any. Files and directories whose names start with '.' are not
rule files (the importer keeps its record of what it generated in `.generated.yml`).

Rule files are data anyone with write access to a repository can change, so reading them is
bounded: a file over `MAX_FILE_BYTES`, a symlink (out of the rules folder locally, any in a
repository), something that is not a regular file, YAML aliases (`*name`: an alias bomb expands
to gigabytes) and nesting deeper than `MAX_DEPTH` are each one problem, and nothing is read
further from that file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from bot.rules.models import Campaign, CampaignRules, Rules, Task

TASK_FILE = re.compile(r"^(\d+)\.ya?ml$")
CAMPAIGN_FILE = "campaign.yml"
MAX_FILE_BYTES = 1024 * 1024  # a rule file is a few kilobytes; more is a mistake or an attack
MAX_DEPTH = 32  # nesting of mappings and lists in one rule file
NO_ALIASES = "YAML aliases (*name) are not allowed in rule files: write the value out"


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    field: str
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        return f"{self.file}:{self.line or 0}: {self.field or '-'}: {self.message}"


class RulesError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class Loaded:
    rules: Rules
    problems: list[Problem]
    docs: dict[Path, Any] = field(default_factory=dict)  # file -> ruamel node (for line lookups)


def plain(node: Any) -> Any:
    """ruamel containers -> plain dicts and lists (scalars as they are)."""
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, (int, bool)) else k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def line_of(doc: Any, loc: tuple | list) -> int | None:
    """1-based line of the deepest node of `loc` found in the document."""
    line = 1
    node = doc
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _field(loc: tuple) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (("." if out else "") + str(p))
    return out


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    return y


class _FastLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """libyaml's parser; refuses duplicate keys like the round-trip loader does."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(k, deep=True) for k, _ in node.value]
        if len(keys) != len(set(map(repr, keys))):
            raise yaml.constructor.ConstructorError(None, None, "duplicate key", node.start_mark)
        return super().construct_mapping(node, deep=deep)


# YAML 1.1 (libyaml) and 1.2 (ruamel) read these differently: such files take the exact path.
_YAML11_ONLY = re.compile(r"(?m)(?::|-)[ \t]+(?:0[0-9_]+|[0-9]+:[0-9]|(?i:yes|no|on|off|y|n))[ \t]*(?:#.*)?$")


M = TypeVar("M", bound=BaseModel)


def _fast_parse(text: str, model: type[M]) -> M | None:
    """The model from a well-formed, valid file at libyaml's speed; None when anything is off (the
    exact path then reports it with its line)."""
    if _YAML11_ONLY.search(text):
        return None
    try:
        data = yaml.load(text, Loader=_FastLoader)  # a safe loader
        return model.model_validate(data, strict=True) if isinstance(data, dict) else None
    except (yaml.YAMLError, ValidationError, TypeError, ValueError):
        return None


def yaml_problem(text: str) -> str | None:
    """What makes a text unsafe to load as a rule file (None when nothing): an alias, or nesting
    deeper than MAX_DEPTH. Checked on libyaml's event stream, before anything is built."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_FastLoader):
            if isinstance(event, yaml.AliasEvent):
                return NO_ALIASES
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return f"nested deeper than {MAX_DEPTH} levels"
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return None  # malformed YAML: the exact parse below reports it with its line
    return None


def read_bounded(path: Path) -> tuple[str | None, str | None]:
    """(text, None) of a regular file of at most MAX_FILE_BYTES, else (None, what is wrong)."""
    try:
        if not path.is_file():
            return None, "not a regular file"
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        return None, f"cannot read: {e.strerror or e}"
    if len(data) > MAX_FILE_BYTES:
        return None, f"larger than {MAX_FILE_BYTES // 1024} KiB: not read"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        return None, f"cannot read: not UTF-8 ({e.reason} at byte {e.start})"


def parse_file(path: Path, display: str, model: type[M], *, nodes: bool = True) -> tuple[Any, M | None, list[Problem]]:
    """Read one file of `model` (a rule file, a scenario): (node, model instance or None, problems)."""
    text, why = read_bounded(path)
    if text is None:
        return None, None, [Problem(display, None, "", why or "cannot read")]
    return parse_text(text, display, model, nodes=nodes)


def parse_text(text: str, display: str, model: type[M], *, nodes: bool = True) -> tuple[Any, M | None, list[Problem]]:
    """Read one rule file's text: (node, model instance or None, problems). Without `nodes` (serving:
    no line lookups needed unless something is wrong) a valid file is read by libyaml, about ten
    times faster; any problem is reported by the exact (round-trip) path."""
    unsafe = yaml_problem(text)
    if unsafe:
        return None, None, [Problem(display, None, "", unsafe)]
    if not nodes:
        fast = _fast_parse(text, model)
        if fast is not None:
            return None, fast, []
    try:
        doc = _yaml().load(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        msg = (e.problem or str(e)).strip()
        return None, None, [Problem(display, mark.line + 1 if mark else None, "", f"YAML: {msg}")]
    except (RecursionError, ValueError) as e:
        return None, None, [Problem(display, None, "", f"YAML: {e}")]
    if not isinstance(doc, CommentedMap):
        return doc, None, [Problem(display, 1, "", "a rule file must be a mapping of fields")]
    try:
        return doc, model.model_validate(plain(doc), strict=True), []
    except ValidationError as e:
        probs = []
        for err in e.errors():
            loc = tuple(err["loc"])
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            elif err["type"] == "missing":
                msg = "required field is missing"
            else:
                msg = err["msg"]
            probs.append(Problem(display, line_of(doc, loc), _field(loc), msg))
        return doc, None, probs


# A campaign folder's files: name -> text, or name -> why it could not be read.
FolderFiles = Mapping[str, "str | Problem"]


def campaign_from_files(
    slug: str, files: FolderFiles, folder: Path, docs: dict[Path, Any], *, nodes: bool = True
) -> tuple[CampaignRules | None, list[Problem]]:
    """One campaign from its folder's files (`folder`: how its paths are shown, e.g. `rules/h9` or
    `.github/hackathon/h9`). Only `campaign.yml` and `<id>.yml` count; other names are reported."""
    problems: list[Problem] = []
    campaign: Campaign | None = None
    tasks: dict[int, Task] = {}
    seen: dict[int, str] = {}
    if CAMPAIGN_FILE not in files:
        problems.append(Problem(str(folder / CAMPAIGN_FILE), None, "", "the campaign folder has no campaign.yml"))
    for name in sorted(files):
        entry, path = files[name], folder / name
        disp = str(path)
        if isinstance(entry, Problem):
            problems.append(entry)
            continue
        if name in (CAMPAIGN_FILE, "campaign.yaml"):
            doc, campaign, probs = parse_text(entry, disp, Campaign, nodes=nodes)
            docs[path] = doc
            problems += probs
            continue
        m = TASK_FILE.match(name)
        if not m:
            problems.append(Problem(disp, None, "", "task files are named <id>.yml (e.g. 089.yml)"))
            continue
        doc, task, probs = parse_text(entry, disp, Task, nodes=nodes)
        docs[path] = doc
        problems += probs
        if task is None:
            continue
        if doc is None and (task.id != int(m.group(1)) or task.id in seen):
            doc = parse_text(entry, disp, Task)[0]  # the exact path, for the line of the problem below
        if task.id != int(m.group(1)):
            problems.append(Problem(disp, line_of(doc, ("id",)), "id", f"id {task.id} does not match the file name {name}"))
            continue
        if task.id in seen:
            problems.append(Problem(disp, line_of(doc, ("id",)), "id", f"duplicate id {task.id} (also in {seen[task.id]})"))
            continue
        seen[task.id] = disp
        tasks[task.id] = task
    if campaign is None:
        return None, problems
    return CampaignRules(slug=slug, dir=folder, campaign=campaign, tasks=tasks), problems


def folder_files(cdir: Path, root: Path) -> FolderFiles:
    """The rule files of a local campaign folder, each read within the bounds (see the module
    docstring); a symlink that leads out of the rules tree is not followed."""
    out: dict[str, str | Problem] = {}
    top = root.resolve()
    for f in sorted(cdir.iterdir()):
        if f.name.startswith(".") or f.suffix not in (".yml", ".yaml"):
            continue
        if f.is_symlink() and not f.resolve().is_relative_to(top):
            out[f.name] = Problem(str(f), None, "", "a symlink out of the rules folder: not read")
            continue
        if f.is_dir():
            continue
        text, why = read_bounded(f)
        out[f.name] = text if text is not None else Problem(str(f), None, "", why or "cannot read")
    return out


def read_campaign(
    cdir: Path, root: Path, docs: dict[Path, Any], *, nodes: bool = True
) -> tuple[CampaignRules | None, list[Problem]]:
    return campaign_from_files(cdir.name, folder_files(cdir, root), cdir, docs, nodes=nodes)


def read_rules(path: str | Path, *, nodes: bool = True) -> Loaded:
    """Load every campaign under `path`, collecting problems instead of raising. `nodes`: keep each
    file's YAML nodes (for line lookups by the linter); without, valid files are read faster."""
    root = Path(path)
    docs: dict[Path, Any] = {}
    if not root.is_dir():
        return Loaded(Rules(), [Problem(str(root), None, "", "no such rules directory")], docs)
    problems: list[Problem] = []
    campaigns: dict[str, CampaignRules] = {}
    top = root.resolve()
    for cdir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if cdir.is_symlink() and not cdir.resolve().is_relative_to(top):
            problems.append(Problem(str(cdir), None, "", "a symlink out of the rules folder: not read"))
            continue
        if not (cdir / CAMPAIGN_FILE).exists():
            if any(TASK_FILE.match(f.name) for f in cdir.iterdir()):
                problems.append(Problem(str(cdir), None, "", "task files without a campaign.yml"))
            continue
        cr, probs = read_campaign(cdir, root, docs, nodes=nodes)
        problems += probs
        if cr is not None:
            campaigns[cr.slug] = cr
    return Loaded(Rules(campaigns=campaigns), problems, docs)


def load_rules(path: str | Path) -> Rules:
    """Load a rules tree; raise RulesError listing every problem (file:line: field: message)."""
    loaded = read_rules(path, nodes=False)
    errors = [p for p in loaded.problems if p.severity == "error"]
    if errors:
        raise RulesError(errors)
    return loaded.rules
