"""Loading a rules tree (`rules/<slug>/campaign.yml` + `rules/<slug>/<id>.yml`) into `Rules`.

Every problem names the file, the YAML line and the field (ruamel.yaml keeps the line of each
key). `read_rules` collects problems and returns what loaded; `load_rules` raises `RulesError`
when there is any. Files and directories whose names start with '.' are not rule files (the
importer keeps its record of what it generated in `.generated.yml`).
"""

from __future__ import annotations

import re
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


def parse_file(path: Path, display: str, model: type[M], *, nodes: bool = True) -> tuple[Any, M | None, list[Problem]]:
    """Read one rule file: (node, model instance or None, problems). Without `nodes` (serving:
    no line lookups needed unless something is wrong) a valid file is read by libyaml, about ten
    times faster; any problem is reported by the exact (round-trip) path."""
    if not nodes:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            return None, None, [Problem(display, None, "", f"cannot read: {e}")]
        fast = _fast_parse(text, model)
        if fast is not None:
            return None, fast, []
    try:
        doc = _yaml().load(path.read_text(encoding="utf-8"))
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        msg = (e.problem or str(e)).strip()
        return None, None, [Problem(display, mark.line + 1 if mark else None, "", f"YAML: {msg}")]
    except (OSError, UnicodeDecodeError) as e:
        return None, None, [Problem(display, None, "", f"cannot read: {e}")]
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


def _display(path: Path, root: Path) -> str:
    return str(path)


def read_campaign(
    cdir: Path, root: Path, docs: dict[Path, Any], *, nodes: bool = True
) -> tuple[CampaignRules | None, list[Problem]]:
    problems: list[Problem] = []
    cfile = cdir / "campaign.yml"
    doc, campaign, probs = parse_file(cfile, _display(cfile, root), Campaign, nodes=nodes)
    docs[cfile] = doc
    problems += probs
    tasks: dict[int, Task] = {}
    seen: dict[int, str] = {}
    for f in sorted(cdir.iterdir()):
        if f.name.startswith(".") or f.name in ("campaign.yml", "campaign.yaml") or f.is_dir():
            continue
        disp = _display(f, root)
        if f.suffix not in (".yml", ".yaml"):
            continue
        m = TASK_FILE.match(f.name)
        if not m:
            problems.append(Problem(disp, None, "", "task files are named <id>.yml (e.g. 089.yml)"))
            continue
        doc, task, probs = parse_file(f, disp, Task, nodes=nodes)
        docs[f] = doc
        problems += probs
        if task is None:
            continue
        if doc is None and (task.id != int(m.group(1)) or task.id in seen):
            doc = parse_file(f, disp, Task)[0]  # the exact path, for the line of the problem below
        if task.id != int(m.group(1)):
            problems.append(Problem(disp, line_of(doc, ("id",)), "id", f"id {task.id} does not match the file name {f.name}"))
            continue
        if task.id in seen:
            problems.append(Problem(disp, line_of(doc, ("id",)), "id", f"duplicate id {task.id} (also in {seen[task.id]})"))
            continue
        seen[task.id] = disp
        tasks[task.id] = task
    if campaign is None:
        return None, problems
    return CampaignRules(slug=cdir.name, dir=cdir, campaign=campaign, tasks=tasks), problems


def read_rules(path: str | Path, *, nodes: bool = True) -> Loaded:
    """Load every campaign under `path`, collecting problems instead of raising. `nodes`: keep each
    file's YAML nodes (for line lookups by the linter); without, valid files are read faster."""
    root = Path(path)
    docs: dict[Path, Any] = {}
    if not root.is_dir():
        return Loaded(Rules(), [Problem(str(root), None, "", "no such rules directory")], docs)
    problems: list[Problem] = []
    campaigns: dict[str, CampaignRules] = {}
    for cdir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not (cdir / "campaign.yml").exists():
            if any(TASK_FILE.match(f.name) for f in cdir.iterdir()):
                problems.append(Problem(_display(cdir, root), None, "", "task files without a campaign.yml"))
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
