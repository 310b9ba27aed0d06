"""Reading task collections: markdown text -> task blocks -> the fields of a task file.

Pure functions over strings; no I/O. The importer (bot.rules.importer) drives them.

What counts as a task block (in document order):
- a heading `### No.89：title <a name='task89'></a>`, `### NO.43 title`, `## Task 12: title`,
  `### 任务 7：title`, `### 项目一：title`, `### [NO.12 title](…/issues/3)`, `### 【No.12】title`
  (Chinese numerals: 一 -> 1, 十二 -> 12, ...); a difficulty after the title (`（⭐️⭐️）`, `【进阶】`) is
  read off it;
- a plain or list line `No.102：title`, `- No.7 - title`, `Task 12: title`;
- a row of a task table: a table with a column of task numbers and a title column, read by content
  as much as by header (see `parse_table`); a table inside a numbered task's text is that task's;
- a block with no id: a heading without a number whose body has task sections (难度, 详细描述,
  提交内容, 验收标准, ...), or, in a collection that lost its headings, a top-level `详细描述:`
  line that starts a new description. These are *unnumbered*: reported with their line, and
  given ids only when the caller asks for it (`number_from`).
A numbered heading block ends at the next heading of the same or a higher level.

A group header introduces a run of tasks: two task numbers or more in a heading or a bold line
(`### **NO.1 - NO.6 API兼容性**`, `【No.20 至 No.25】…`, `**No.40、No.41 …**`), or a numbered
heading whose run starts with its own number. Its text applies to each task of the run. Headings
that are no task open parts of the collection (`Scope`): a part's own text (shared criteria,
where its tasks go) applies to its tasks only; a part without tasks (`## 开发流程与验收标准`, a
`### 合入标准` after the last task) gives its text to the part around it, up to the collection.

Inside a block, lines are grouped into sections by their labels (详细描述/背景, 提交内容/任务提交,
验收标准, 技术要求, 参考..., 任务难度, `【提交内容】`, and English equivalents). Targets come from
lines that say where work goes: the submission section, a line with a submission verb (提交至/
提交到/放在/迁移至/合并到/合入/submit to/goes in), or a path named as a place in prose (`在 X 下
新增…`, `位置 X`, `under X`). Links to `github.com/ORG/REPO/tree|blob/BRANCH/PATH` give a directory
(`PATH/**`) or a file, without the branch (`release/2.7/…`); inline paths give the same, in the
repository the line names, else the one its first directory belongs to (`fastdeploy/…`,
`python/paddle/…`, `ppsci/…`), else the one a line above named, else where the task goes
(`home_repos`: its title, text, group, the parts around it, the collection; none when unsure).
Paths in reference clauses (`可参考 X`, `参考 X 实现`) are not targets; the directory before a
placeholder is (`tests/transformers/<model>` -> `tests/transformers/**`). A repository named on
such a line with no path gives a repository-wide target. Test files (`test_x.py`) and test
directories (`test/...`, `.../tests/...`) become required-test globs (and are targets too), except
tests the PR must keep passing (`保证单测 X 运行成功`). The design-doc requirement comes from
设计文档/RFC/rfcs on such lines, from process text that asks for one (`开发之前请撰写 RFC 文档`),
or from a line answering it (`是否需要 RFC：否`). Acceptance criteria are plain text.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def cn_number(text: str) -> int | None:
    """'一' -> 1, '十二' -> 12, '二十' -> 20, '一百零五' -> 105, '12' -> 12; None if not a number."""
    if text.isdigit():
        return int(text)
    if not text or any(c not in CN_DIGITS and c not in CN_UNITS for c in text):
        return None
    total, digit = 0, None
    for c in text:
        if c in CN_DIGITS:
            digit = CN_DIGITS[c]
        else:
            total += (1 if digit is None else digit) * CN_UNITS[c]
            digit = None
    return total + (digit or 0)


# ---------------------------------------------------------------- line shapes

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ANCHOR = re.compile(r"""<a\s+(?:name|id)\s*=\s*["']?([^"'>\s]+)["']?\s*>\s*</a>""", re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^>]+>")
_NUM = r"(?P<num>\d+|[零〇一二两三四五六七八九十百千]+)"
_SEP = r"\s*(?:[：:、.．\-–—)）|]\s*|\s+|$|(?=[（(【\[]))"
# numbered forms allowed in headings
_RESERVED = r"(?P<reserved>\s*[（(]\s*(?:预留|待定|reserved|TBD)\s*[)）])?"
_HEAD_NUMBERED = re.compile(
    r"^(?:\*\*|【|\[)?\s*(?:No|NO|no|No\s|Task|TASK|task|Issue|任务|题目|赛题|项目|课题)\s*[.．#]?\s*"
    + _NUM
    + _RESERVED
    + r"(?:(?:\*\*|】|\])\s*[：:、.．\-–—|]?\s*|"
    + _SEP
    + r")(?P<title>.*)$"
)
# `### 一、title`: a task when no numbered task follows before the next heading of its level
_CN_HEAD = re.compile(r"^(?:\*\*)?(?P<num>[一二两三四五六七八九十]{1,3})\s*[、.．]\s*(?P<title>\S.*)$")
# a group header introducing a run of tasks: `### **NO.1 - NO.6 API兼容性**`, `NO.7 - NO.10, NO.55 - NO.59 编译机床`
# a group header introducing a run of tasks: `### **NO.1 - NO.6 API兼容性**`, `NO.7 - NO.10, NO.55 - NO.59 编译机床`,
# `【No.20 至 No.25】数值精度`, `任务 20~25：…`, `NO.20、NO.21、NO.22 …`: two task numbers or more, as a range or a list
_MARK = r"(?:No|NO|no|Task|TASK|task|任务|题目|赛题|#)"
_REF = _MARK + r"\s*[.．#]?\s*\d+"
_SPAN = _REF + r"(?:\s*(?:[-–—~～]+|至|到|to|through)\s*(?:" + _MARK + r"\s*[.．#]?\s*)?\d+(?![\dA-Za-z.]))?"
_GROUP_RE = re.compile(
    r"^(?:\*\*|【|\[)?\s*(?P<refs>"
    + _SPAN
    + r"(?:\s*(?:[,，、/&]|和|及|and)\s*"
    + _SPAN
    + r")*)\s*(?:\*\*|】|\])?\s*[：:]?\s*(?P<title>.*?)\s*(?:\*\*)?$"
)


class _GroupMatch:
    def __init__(self, title: str) -> None:
        self.title = title

    def group(self, name: str) -> str:
        return self.title


def _group_header(text: str) -> _GroupMatch | None:
    """A header naming a run of tasks (a range, or two numbers or more) rather than one task."""
    text = text.replace("\u00a0", " ").replace("\u3000", " ").strip()
    m = _GROUP_RE.match(text)
    if not m:
        return None
    nums = [int(n) for n in re.findall(r"\d+", m.group("refs"))]
    if len(nums) < 2:
        return None
    if len(nums) == 2 and re.search(r"[-–—~～]|至|到|to|through", m.group("refs")) and nums[1] <= nums[0]:
        return None  # `No.7 - 3 个 API`: a task and the start of its title
    return _GroupMatch(m.group("title"))


# a section heading whose words say it is not a task: process, rules, background, FAQ
_PREAMBLE_TITLE = re.compile(
    r"流程|说明|标准|要求|背景|介绍|须知|规则|答疑|交流|参考|合入|FAQ|提交方式|注意|总览|产出|Process|Rules|Background|Notes?$",
    re.IGNORECASE,
)
# numbered forms allowed on plain lines (stricter: explicit separator and a title)
_LINE_NUMBERED = re.compile(
    r"^(?:[-*+]\s+|\d+[.)]\s+)?(?:\*\*)?(?:No|NO|Task|TASK)\s*[.．#]?\s*(?P<num>\d+)"
    + _RESERVED
    + r"(?:\*\*)?\s*(?:[：:、\-–—]|\s)\s*(?P<title>\S.*)$"
)
_TASK_MARKERS = re.compile(
    r"(任务难度|难度[:：]|详细描述|任务说明|任务描述|提交内容|任务提交|验收标准|"
    r"Difficulty\s*:|Description\s*:|Deliverables|Acceptance|What to submit)",
    re.IGNORECASE,
)
# a line of its own naming a section of tasks: `【开源贡献个人挑战赛-API 开发】`, `【科学计算方向】任务详情`
_TRACK_LINE = re.compile(r"【[^】]{0,30}(?:[-–—]|挑战赛|方向|赛道)[^】]{0,30}】\s*(?:任务详情|任务列表)?")
# a heading that opens a section of tasks (a track), never a task itself
_SECTION_TITLE = re.compile(r"任务详情|【[^】]+】|^[一二三四五六七八九十]+\s*[、.．]\s*\S+任务$")
# a top-level line that starts a task in a collection without headings
_SECTION_START = re.compile(r"^(?:\*\*)?(?:详细描述|任务描述)(?:\*\*)?\s*[:：]?\s*(?:\*\*)?\s*$")
_FILE_PATH = re.compile(r"[A-Za-z0-9_\-]+(?:/[A-Za-z0-9_.\-]+)+\.[A-Za-z0-9]{1,6}")
_PLACEHOLDER = re.compile(r"xxx|XXX|\{|<")
_MD_ESCAPE = re.compile(r"\\([_*\[\]#`\\])")
_FENCE = re.compile(r"^\s*(```|~~~)")
_BULLET = re.compile(r"^(\s*)(?:[-*+]|\d+[.)、])\s+")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_STARS = re.compile(r"((?:\d+(?:\.\d+)?\s*)?(?:⭐️|⭐|🌟|★)+(?:\s*[x×]\s*\d+)?)\s*$")

SECTION_LABELS: list[tuple[str, str]] = [
    ("diff", r"任务难度|难度|Difficulty|Level"),
    ("reward", r"奖励说明|奖励|奖金|Reward"),
    (
        "desc",
        r"详细任务说明|详细描述|任务描述|任务说明|任务目标|赛题简介|项目介绍|主要工作内容|代码复现|复现目标|代码迁移|代码实现|复现|Description|Details|Overview",
    ),
    ("bg", r"任务背景|背景|Background"),
    ("submit", r"提交内容|任务提交|提交要求|提交方式|交付内容|Deliverables|Submission|What to submit|Where to submit"),
    (
        "accept",
        r"验收标准|验收要求|验收说明|验收方式|验收成果|验收条件|合入标准|完成标准|交付标准|考核标准|评价标准|评审标准|通过标准|"
        r"预期效果|复现要求|要求|Acceptance(?: criteria)?|Definition of done",
    ),
    ("req", r"技术要求|机器要求|营员要求[^:：]*|技术标签|Requirements|Skills"),
    ("list", r"题目内容|任务列表|Tasks"),
    (
        "ref",
        r"参考链接|参考代码链接|参考资料|参考步骤|参考内容|论文链接|案例链接|相关实现|路线参考|参考\s*PR|参考\s*repo|参考|相关资料|References?|See also",
    ),
]
_LABEL = re.compile(
    r"^(?:[-*+]\s+|\d+[.)]\s+)?(?:\*\*)?\s*(?:【|\[)?\s*(?P<label>"
    + "|".join(f"(?P<{k}>{v})" for k, v in SECTION_LABELS)
    + r")\s*(?:】|\])?\s*(?:\*\*)?\s*(?:(?:[:：]\s*(?:\*\*)?\s*(?P<rest>.*))|$)",
    re.IGNORECASE,
)


# ---------------------------------------------------------------- data


@dataclass
class Line:
    no: int  # 1-based line number in the file
    text: str


@dataclass
class Block:
    """One task (or task-like block without an id) of a collection."""

    number: int | None
    title: str
    line: int
    kind: str  # heading | line | table | section
    level: int | None = None
    anchor: str | None = None
    difficulty: str | None = None
    rfc_required: bool | None = None  # from a table column
    lines: list[Line] = field(default_factory=list)
    has_desc_start: bool = False
    reserved: bool = False  # `No.N（预留）`: a placeholder the organisers fill in later
    track: str | None = None  # the section the task is in (`## 一、框架开发任务`, `【…-API 开发】任务详情`)
    group: Group | None = None  # the group header introducing the run of tasks this one belongs to
    context: list[Line] = field(default_factory=list)  # headings above the task that name where work goes
    reward: str | None = None  # from a table's reward column
    scopes: list[Scope] = field(default_factory=list)  # the parts of the collection the task is in, outermost first
    named_number: int | None = None  # a table row whose title cell names another task number than its id column
    repo_text: str | None = None  # a table row's repository cell


@dataclass
class Scope:
    """A part of the collection under a heading that is not a task (`## 【…-API 开发】任务详情`,
    `### FastDeploy套件开发`, a `【…】` track line): its own text (shared criteria, where its tasks go)
    applies to the tasks inside it. A part with no task in it (`## 任务开发流程与验收标准`, a
    `### 合入标准` after the last task) gives its text to the part around it, up to the collection."""

    title: str
    line: int
    level: int
    lines: list[Line] = field(default_factory=list)
    parent: Scope | None = None
    has_tasks: bool = False


@dataclass
class Group:
    """`### **NO.1 - NO.6 API兼容性**`: a header whose text applies to each task that follows it."""

    title: str
    line: int
    level: int
    lines: list[Line] = field(default_factory=list)


@dataclass
class Note:
    line: int
    message: str


@dataclass
class Collection:
    file: str
    title: str | None
    blocks: list[Block]
    notes: list[Note]
    links: list[tuple[str, str]]  # (owner/repo, rest-of-path) of every github link in the text
    preamble: list[Line] = field(default_factory=list)  # text outside every task and group (process, rules…)
    heading_title: bool = False  # the title came from a `# ` heading or the first line's bold phrase

    @property
    def numbered(self) -> list[Block]:
        return [b for b in self.blocks if b.number is not None]

    @property
    def unnumbered(self) -> list[Block]:
        return [b for b in self.blocks if b.number is None]


# ---------------------------------------------------------------- parsing


def _clean_title(text: str) -> tuple[str, str | None, str | None]:
    """Strip anchors, html, bold markers and a trailing difficulty; return (title, anchor, stars)."""
    anchor = None
    m = _ANCHOR.search(text)
    if m:
        anchor = m.group(1)
    text = _HTML_TAG.sub("", _ANCHOR.sub("", text))
    text = _MD_ESCAPE.sub(r"\1", strip_links(_IMAGE.sub("", text)))
    text = text.replace("**", "").strip().strip("：:").strip()
    text = re.sub(r"^(?:赛题|题目|课题)\s*\d+\s*[：:]\s*", "", text)
    stars = None
    m = _STARS.search(text) or _TAIL_LEVEL.search(text)
    if m and m.start() > 0:
        stars = m.group(1).strip()
        text = text[: m.start()].rstrip(" -–—|（(【[").strip()
    return re.sub(r"\s+", " ", text), anchor, stars


_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
# a difficulty written after a title in brackets: `（⭐️⭐️）`, `(难度：⭐⭐)`, `【进阶】`
_TAIL_LEVEL = re.compile(
    r"[（(【\[]\s*(?:难度|difficulty|level)?\s*[:：]?\s*((?:\d+(?:\.\d+)?\s*)?(?:⭐️|⭐|🌟|★)+|基础|进阶|挑战|简单|中等|困难|较难|easy|medium|hard)\s*[）)】\]]\s*$",
    re.IGNORECASE,
)


def _numbered(text: str, heading: bool) -> tuple[int, str, bool] | None:
    """(number, title, reserved) of a task start, or None."""
    text = strip_links(_IMAGE.sub("", text))  # `### [NO.12 新增 foo](…/issues/3)`: the link's text
    m = (_HEAD_NUMBERED if heading else _LINE_NUMBERED).match(text.strip())
    if not m:
        return None
    num = cn_number(m.group("num"))
    if num is None or num < 1:
        return None
    title = m.group("title")
    reserved = bool(m.group("reserved")) or bool(re.search(r"^\s*[（(]?\s*预留|后续提供|待补充", title))
    return num, title, reserved


_TRACK_NOISE = re.compile(r"(?:任务详情|赛题详情|题目详情|详情|任务合集|任务列表|赛题列表|详细介绍|任务|方向|赛道)+\s*$")


def track_name(heading: str) -> str | None:
    """`【开源贡献个人挑战赛-API 开发】任务详情` -> 'API 开发'; `一、框架开发任务` -> '框架开发'; None if generic."""
    text = _clean_title(heading)[0]
    m = re.search(r"【([^】]+)】", text)
    if m:
        text = re.split(r"[-–—]+", m.group(1))[-1]
    text = re.sub(r"^[一二三四五六七八九十]+\s*[、.．]\s*", "", text).strip()
    text = re.sub(r"^(?:开源贡献)?个人挑战赛(?:冲刺赛)?\s*", "", text)
    text = _TRACK_NOISE.sub("", text).strip(" -–—：:")
    return text or None


def collection_name(text: str, file: str) -> tuple[str | None, bool]:
    """The collection's title line: a `# ` heading, else the first line's bold phrase, else the file name."""
    for line in text.splitlines():
        if not line.strip():
            continue
        h = _HEADING.match(line)
        if h and len(h.group(1)) == 1:
            return _clean_title(h.group(2))[0], True
        m = re.search(r"\*\*([^*]{6,})\*\*", line)
        if m and not h:
            return _clean_title(m.group(1))[0], True
        break
    stem = re.sub(r"\.(md|markdown|txt)$", "", file)
    if re.search(r"合集|Hackathon|任务|tasks", stem, re.IGNORECASE):
        return stem.replace("_", " "), True
    return None, False


def _is_task_body(lines: list[Line]) -> bool:
    """Does a heading's body read like a task: labelled difficulty, description or deliverables?"""
    for ln in lines:
        m = _LABEL.match(ln.text.strip())
        if m and any(m.group(k) for k in ("diff", "desc", "submit")):
            return True
    return False


def _cn_head_is_task(heads: list[tuple[int, int, str]], k: int) -> bool:
    """Is the k-th heading (a `一、…` one) a task, i.e. no numbered heading sits under it?"""
    _, level, _ = heads[k]
    for _, lv, text in heads[k + 1 :]:
        if lv <= level:
            break
        if _numbered(_ANCHOR.sub("", text).replace("**", ""), heading=True) or _group_header(text.replace("**", "")):
            return False
    return True


def _headers_of_their_own_number(raw: list[str], heads: list[tuple[int, int, str]]) -> dict[int, str]:
    """Numbered headings that head a run of tasks instead of being one: the next numbered heading
    (at the same level or deeper) carries the same number, and this one names another number too
    (`NO.20（共 6 题）数值精度`) or has no text of its own. -> {line index: the group's title}."""
    out: dict[int, str] = {}
    for k, (n, level, text) in enumerate(heads):
        plain = _ANCHOR.sub("", text).replace("**", "").strip()
        num = _numbered(plain, heading=True)
        if num is None:
            continue
        for n2, lv2, text2 in heads[k + 1 :]:
            if lv2 < level:
                break
            num2 = _numbered(_ANCHOR.sub("", text2).replace("**", "").strip(), heading=True)
            if num2 is None:
                continue
            if num2[0] == num[0]:
                empty = not any(x.strip() and not re.fullmatch(r"\s*(?:-{3,}|\*{3,}|_{3,})\s*", x) for x in raw[n + 1 : n2])
                if empty or re.search(
                    r"(?:No|NO|no|Task|任务|题目|#)\s*[.．#]?\s*\d+|共\s*\d+|\d+\s*(?:题|个任务|项任务)", num[1]
                ):
                    out[n] = _clean_title(num[1])[0]
            break
    return out


def _split_row(line: str) -> list[str]:
    cells = line.strip().strip("|").split("|")
    return [c.strip() for c in cells]


_ID_COL = re.compile(r"^(序号|编号|任务编号|题号|No\.?|NO\.?|ID|#|Task|任务序号|任务号|题目编号|赛题编号)$", re.IGNORECASE)
_TITLE_COL = re.compile(r"(任务标题|标题|任务名称|题目|名称|Title|Task name|任务|赛题|Task|Issue|课题|项目)\s*$", re.IGNORECASE)
_DIFF_COL = re.compile(r"(难度|Difficulty|Level)", re.IGNORECASE)
_RFC_COL = re.compile(r"RFC|设计文档|design doc", re.IGNORECASE)
_REPO_COL = re.compile(r"仓库|代码仓|^repo|repository|项目地址|提交位置", re.IGNORECASE)
_REWARD_COL = re.compile(r"奖励|奖金|贡献度|贡献值|积分|Reward|Points", re.IGNORECASE)
_YES = ("是", "yes", "y", "true", "需要", "要", "✅", "✔", "✔️", "√", "☑", "必须", "required")
_NO = ("否", "no", "n", "false", "不需要", "不用", "无需", "无", "❌", "✖", "×", "x", "-", "—", "not required")
_DIFF_CELL = re.compile(
    r"^(?:[\d.]*\s*(?:⭐️|⭐|🌟|★)+.*|基础|进阶|挑战|简单|中等|困难|较难|高|中|低|easy|medium|hard|basic|advanced)$", re.IGNORECASE
)
_TASK_REF = re.compile(r"(?:^|[\s\[【(（])(?:No|NO|no|Task|TASK|任务|#)\s*[.．#]?\s*(\d+)(?!\d)")


def _cell_text(cell: str) -> str:
    return re.sub(r"\s+", " ", strip_links(_HTML_TAG.sub("", cell)).replace("**", "").replace("`", "")).strip()


def _table_id(cell: str) -> int | None:
    text = _cell_text(cell)
    m = re.fullmatch(r"(?:No|NO|no|Task|#)?\s*[.．#]?\s*(\d+)", text)
    return int(m.group(1)) if m else None


def yes_no(cell: str) -> bool | None:
    """A cell that says yes or no (是/否, ✅/❌, 需要/不需要…); None for anything else."""
    v = _cell_text(cell).lower().rstrip("。.")
    v = re.sub(r"\s*[（(].*$", "", v)  # `是（需先讨论）`
    if v in _YES:
        return True
    if v in _NO:
        return False
    return None


def _mostly(values: list[str], test) -> bool:
    filled = [v for v in values if _cell_text(v)]
    return bool(filled) and sum(1 for v in filled if test(v)) >= 0.6 * len(filled)


def parse_table(rows: list[Line]) -> tuple[list[Block], list[Note]] | None:
    """A markdown table of tasks -> blocks; None when the table is not a task table.

    Columns are read by their content as much as by their names: the id column is the one named
    序号/No./ID… or, failing that, the first whose cells are task numbers; a column of 是/否 (✅/❌…)
    is the RFC column, a column of stars or 基础/进阶 the difficulty, whatever their headers say;
    the title is the column named so, else the one with the longest text. A row that names a task
    number in its text (`[NO.37 新增 foo](…)`) keeps it, for lists whose first column only counts rows."""
    header = [_cell_text(h) for h in _split_row(rows[0].text)]
    body = [_split_row(r.text) for r in rows[2:]]
    ncol = len(header)
    col = [[cells[i] if i < len(cells) else "" for cells in body] for i in range(ncol)]
    idc = next((i for i, h in enumerate(header) if _ID_COL.match(h)), None)
    if idc is None or not _mostly(col[idc], lambda v: _table_id(v) is not None):
        idc = next((i for i in range(ncol) if _mostly(col[i], lambda v: _table_id(v) is not None)), None)
    if idc is None:
        return None
    rfcc = next(
        (i for i, h in enumerate(header) if i != idc and _RFC_COL.search(h) and _mostly(col[i], lambda v: yes_no(v) is not None)),
        None,
    )
    if rfcc is None:
        rfcc = next((i for i in range(ncol) if i != idc and _mostly(col[i], lambda v: yes_no(v) is not None)), None)
    used = {idc, rfcc}
    diffc = next((i for i, h in enumerate(header) if i not in used and _DIFF_COL.search(h)), None)
    if diffc is None:
        diffc = next(
            (i for i in range(ncol) if i not in used and _mostly(col[i], lambda v: bool(_DIFF_CELL.match(_cell_text(v))))), None
        )
    used.add(diffc)
    rewardc = next((i for i, h in enumerate(header) if i not in used and _REWARD_COL.search(h)), None)
    used.add(rewardc)
    repoc = next((i for i, h in enumerate(header) if i not in used and _REPO_COL.search(h)), None)
    used.add(repoc)
    titlec = next((i for i, h in enumerate(header) if i not in used and _TITLE_COL.search(h)), None)
    if titlec is None:
        lengths = {i: sum(len(_cell_text(v)) for v in col[i]) for i in range(ncol) if i not in used}
        titlec = max(lengths, key=lambda i: lengths[i]) if lengths and max(lengths.values()) else None
    if titlec is None or (rfcc is None and not _TITLE_COL.search(header[titlec])):
        return None  # numbers and short words: not a list of tasks
    blocks, notes = [], []
    for row, cells in zip(rows[2:], body):
        if len(cells) <= max(idc, titlec):
            notes.append(Note(row.no, "table row with too few cells, skipped"))
            continue
        num = _table_id(cells[idc])
        title, anchor, stars = _clean_title(cells[titlec])
        m = _TASK_REF.match(" " + _cell_text(cells[titlec]))
        if m:  # `NO.37 新增 foo` in the title cell: the task's own number
            title = _clean_title(_cell_text(cells[titlec])[m.end() - 1 :].lstrip(" ：:、.-–—"))[0] or title
        if num is None:
            if title:
                notes.append(Note(row.no, f"table row without a task number: {title!r}"))
            continue
        b = Block(num, title, row.no, "table", anchor=anchor)
        if m and int(m.group(1)) != num:
            b.named_number = int(m.group(1))
        if diffc is not None and diffc < len(cells) and _cell_text(cells[diffc]):
            b.difficulty = _cell_text(cells[diffc])
        elif stars:
            b.difficulty = stars
        if rfcc is not None and rfcc < len(cells):
            b.rfc_required = yes_no(cells[rfcc])
        if rewardc is not None and rewardc < len(cells) and _cell_text(cells[rewardc]):
            b.reward = _cell_text(cells[rewardc])
        if repoc is not None and repoc < len(cells):
            b.repo_text = cells[repoc]  # read against the campaign's repositories by the importer
        blocks.append(b)
    return blocks, notes


_GH_LINK = re.compile(r"https?://github\.com/([A-Za-z0-9_.\-]+)/([A-Za-z0-9_.\-]+)((?:/[^\s)\]>\"'，。；、\u4e00-\u9fff]*)?)")


def parse_collection(text: str, file: str) -> Collection:
    """Split a collection into task blocks (see the module docstring for the shapes)."""
    raw = text.splitlines()
    blocks: list[Block] = []
    notes: list[Note] = []
    title, from_heading = collection_name(text, file)
    preamble: list[Line] = []
    cur: Block | None = None
    group: Group | None = None
    track: str | None = None
    context: list[tuple[int, Line]] = []  # (level, heading line) of non-task headings above
    in_fence = False
    heads = [(n, len(h.group(1)), h.group(2)) for n, h in ((n, _HEADING.match(x)) for n, x in enumerate(raw)) if h]
    head_index = {n: k for k, (n, _, _) in enumerate(heads)}
    same_next = _headers_of_their_own_number(raw, heads)
    root = Scope("", 0, 0, preamble)
    scopes: list[Scope] = [root]  # the open parts, outermost first
    made: list[Scope] = []
    i = 0

    def outside(line: Line) -> None:
        (group.lines if group is not None else scopes[-1].lines).append(line)

    def open_scope(title: str, no: int, level: int) -> None:
        while len(scopes) > 1 and scopes[-1].level >= level:
            scopes.pop()
        if level > 1:
            sc = Scope(title, no, level, parent=scopes[-1])
            scopes.append(sc)
            made.append(sc)

    def keep(b: Block) -> None:
        b.scopes = scopes[1:]
        for sc in b.scopes:
            sc.has_tasks = True
        blocks.append(b)

    def close() -> None:
        nonlocal cur
        if cur is not None:
            if (
                cur.number is not None
                or cur.kind == "section"
                or _is_task_body(cur.lines)
                and not _PREAMBLE_TITLE.search(cur.title or "")
                and not _SECTION_TITLE.search(cur.title or "")
            ):
                keep(cur)
            else:  # a heading that is not a task: its text is the collection's (or the group's) preamble
                outside(Line(cur.line, "#" * (cur.level or 3) + " " + cur.title))
                for ln in cur.lines:
                    outside(ln)
        cur = None

    def start(num: int, t_raw: str, no: int, kind: str, level: int | None, reserved: bool, anchor: str | None = None) -> Block:
        t, a, stars = _clean_title(t_raw)
        b = Block(
            num,
            t,
            no,
            kind,
            level=level,
            anchor=anchor or a,
            difficulty=stars,
            reserved=reserved,
            track=track,
            group=group,
            context=[ln for _, ln in context],
        )
        if not t:
            notes.append(Note(no, f"task {num} has no title"))
        return b

    while i < len(raw):
        no, s = i + 1, raw[i]
        if _FENCE.match(s):
            in_fence = not in_fence
            (cur.lines.append(Line(no, s)) if cur is not None else outside(Line(no, s)))
            i += 1
            continue
        if in_fence:
            (cur.lines.append(Line(no, s)) if cur is not None else outside(Line(no, s)))
            i += 1
            continue
        # tables
        if _TABLE_ROW.match(s) and i + 1 < len(raw) and _TABLE_SEP.match(raw[i + 1]):
            j = i
            rows = []
            while j < len(raw) and _TABLE_ROW.match(raw[j]):
                rows.append(Line(j + 1, raw[j]))
                j += 1
            # a table in a numbered task's text is part of that task (a list of modules, APIs…)
            parsed = parse_table(rows) if cur is None or cur.number is None else None
            if parsed is not None:
                close()
                for b in parsed[0]:
                    b.track = track
                    keep(b)
                notes.extend(parsed[1])
            elif cur is not None:
                cur.lines.extend(rows)
            else:
                for r in rows:
                    outside(r)
            i = j
            continue
        h = _HEADING.match(s)
        if h:
            level, htext = len(h.group(1)), h.group(2)
            plain_h = _ANCHOR.sub("", htext).replace("**", "").strip()
            grp = _group_header(plain_h) if level >= 2 else None
            if grp is None and i in same_next:
                grp = _GroupMatch(same_next[i])
            num = _numbered(plain_h, heading=True) if grp is None else None
            cn = _CN_HEAD.match(plain_h) if num is None and grp is None else None
            if cn and level >= 3 and _cn_head_is_task(heads, head_index[i]):
                n = cn_number(cn.group("num"))
                num = (n, cn.group("title"), False) if n else None
            if grp is not None:
                close()
                group = Group(_clean_title(grp.group("title"))[0], no, level)
                i += 1
                continue
            if num is not None:
                close()
                # a task heading leaves the parts opened by deeper headings, and those opened at its own level
                # unless they are bare dividers (`### FastDeploy套件开发` right above `### NO.57 …`)
                while len(scopes) > 1 and (
                    scopes[-1].level > level
                    or (
                        scopes[-1].level == level
                        and (
                            any(x.text.strip() and not _HEADING.match(x.text) for x in scopes[-1].lines)
                            or _PREAMBLE_TITLE.search(scopes[-1].title)
                        )
                    )
                ):
                    scopes.pop()
                anchor_m = _ANCHOR.search(htext)
                cur = start(num[0], num[1], no, "heading", level, num[2], anchor_m.group(1) if anchor_m else None)
            elif cur is None or cur.level is None or level <= cur.level or (cur.number is None and not _LABEL.match(plain_h)):
                # (under a heading that is no task, a deeper heading that is no section label opens a part of its own)
                close()
                if level <= 2:
                    if level == 2:  # (a level-1 heading is the collection's title, not a track)
                        track = track_name(htext) if not _PREAMBLE_TITLE.search(plain_h) else None
                    group = None
                    context = []
                elif group is not None and level <= group.level:
                    group = None
                context = [(lv, ln) for lv, ln in context if lv < level]
                context.append((level, Line(no, s)))
                open_scope(_clean_title(htext)[0], no, level)
                if cur is None and not _PREAMBLE_TITLE.search(plain_h) and len(plain_h) < 40 and re.search(r"【.+】", plain_h):
                    track = track_name(plain_h)
                t, anchor, _ = _clean_title(htext)
                cur = Block(None, t, no, "heading", level=level, anchor=anchor, track=track)
            else:
                cur.lines.append(Line(no, s))
            i += 1
            continue
        stripped = s.strip().replace("**", "")
        if _TRACK_LINE.fullmatch(stripped) and (cur is None or cur.kind in ("heading", "line")):
            close()  # `【开源贡献个人挑战赛-API 开发】` on a line of its own opens a track
            track = track_name(stripped)
            group = None
            context = [(2, Line(no, s))]
            open_scope(stripped, no, 2)
            i += 1
            continue
        bold_line = re.fullmatch(r"\s*(?:[-*+]\s+)?(?:\*\*[^*]+\*\*|【[^】]+】[^【】]*)\s*", s)
        lgrp = _group_header(_BULLET.sub("", s).replace("**", "")) if bold_line else None
        if lgrp is not None:  # `**NO.20 - NO.25 数值精度**` on a line of its own
            close()
            group = Group(_clean_title(lgrp.group("title"))[0], no, 7)
            i += 1
            continue
        num = _numbered(s, heading=False)
        if num is not None:
            close()
            cur = start(num[0], num[1], no, "line", None, num[2])
            i += 1
            continue
        if _SECTION_START.match(s) and (cur is None or cur.kind != "heading") and not (cur is None and group is not None):
            if cur is None or cur.has_desc_start:
                close()
                cur = Block(None, "", no, "section", track=track, group=group)
            cur.has_desc_start = True
            cur.lines.append(Line(no, s))
            i += 1
            continue
        if cur is not None:
            cur.lines.append(Line(no, s))
        else:
            outside(Line(no, s))
        i += 1
    close()
    for sc in reversed(made):  # a part without tasks: its text belongs to the part around it
        if not sc.has_tasks and sc.parent is not None:
            sc.parent.lines.extend(sc.lines)
            sc.lines = []

    for b in blocks:
        if b.number is None and not b.title:
            b.title = _guess_title(b, blocks)
    links = [(f"{m.group(1)}/{m.group(2)}", m.group(3)) for m in _GH_LINK.finditer(text)]
    col = Collection(file, title, blocks, notes, links, preamble, from_heading)
    if col.title is None:
        first = next((x for x in raw if x.strip()), "")
        col.title = _clean_title(first)[0] or None
    return col


def _sentences(b: Block) -> list[str]:
    def keep(line: str) -> bool:
        m = _LABEL.match(line.strip())
        return m is None or bool(m.group("rest"))

    text = " ".join(strip_links(l.text) for l in b.lines if keep(l.text))
    out = []
    for part in re.split(r"[。；;!?！？\n]", text):
        part = _BULLET.sub("", part).strip(" -*:：")
        part = re.sub(r"^(详细描述|任务描述)\s*[:：]\s*", "", part)
        if part:
            out.append(re.sub(r"\s+", " ", part))
    return out


def _guess_title(b: Block, blocks: list[Block]) -> str:
    """An unnumbered block's title: its first description sentence no other block shares."""
    others = Counter(s for o in blocks if o is not b and o.number is None for s in set(_sentences(o)))
    sents = _sentences(b)
    pick = next((s for s in sents if not others[s]), sents[0] if sents else "(untitled)")
    return pick if len(pick) <= 80 else pick[:79] + "…"


# ---------------------------------------------------------------- fields of one block

_MD_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]*)(?:\s+\"[^\"]*\")?\)")
_URL = re.compile(r"https?://[^\s)\]>，。；、\u4e00-\u9fff]+")  # (a URL ends where Chinese text starts: `…/kernels目录`)


def strip_links(text: str) -> str:
    """Markdown links -> their text (bare URLs kept)."""
    return _MD_LINK.sub(lambda m: m.group(1), text)


def _plain(text: str) -> str:
    text = strip_links(text)
    text = _HTML_TAG.sub("", text).replace("**", "").replace("`", "")
    return re.sub(r"\s+", " ", text).strip()


def logical_lines(lines: list[Line]) -> list[Line]:
    """Join lazy continuation lines (no bullet, no label, no blank before) onto the line above."""
    out: list[Line] = []
    prev_blank = True
    in_fence = False
    for ln in lines:
        s = _MD_ESCAPE.sub(r"\1", ln.text)
        if _FENCE.match(s):
            in_fence = not in_fence
            prev_blank = True
            continue
        if in_fence:
            continue
        if not s.strip():
            prev_blank = True
            continue
        starts_new = prev_blank or _BULLET.match(s) or _LABEL.match(s.strip()) or _HEADING.match(s) or _TABLE_ROW.match(s)
        if starts_new or not out:
            out.append(Line(ln.no, s))
        else:
            out[-1] = Line(out[-1].no, out[-1].text.rstrip() + " " + s.strip())
        prev_blank = False
    return out


@dataclass
class Section:
    kind: str  # desc | submit | accept | req | ref | diff | none
    line: Line  # the logical line (with a label stripped)
    label_line: bool = False


def sections(lines: list[Line]) -> list[Section]:
    """Label every logical line with the section it belongs to."""
    # (indent, label line is a bullet, kind, the label bullet says nothing after its colon: `- 提交内容：`
    # followed by items at its own level, which are its items)
    stack: list[tuple[int, bool, str, bool]] = []
    out: list[Section] = []
    for ln in logical_lines(lines):
        s = ln.text
        h = _HEADING.match(s)
        body = h.group(2) if h else s
        indent = 0 if h else len(s) - len(s.lstrip())
        is_bullet = bool(_BULLET.match(s))
        m = _LABEL.match(body.strip())
        if not m and _BOLD_LABEL.match(body.strip()):  # `**模型范围：**`: a section we do not know ends the one above
            stack.clear()
            out.append(Section("other", ln))
            continue
        if m:
            kind = next(k for k, _ in SECTION_LABELS if m.group(k))
            if h:
                stack.clear()
            while stack and (stack[-1][0] > indent or (stack[-1][0] == indent and (stack[-1][1] or not is_bullet))):
                stack.pop()
            stack.append((indent, is_bullet, kind, is_bullet and not (m.group("rest") or "").strip()))
            out.append(Section(kind, Line(ln.no, m.group("rest") or ""), label_line=True))
            continue
        if h:  # a heading that is not a label ends every section above it
            stack.clear()
            out.append(Section("heading", ln))
            continue
        while stack and (stack[-1][0] > indent or (stack[-1][0] == indent and stack[-1][1] and is_bullet and not stack[-1][3])):
            stack.pop()
        out.append(Section(stack[-1][2] if stack else "none", ln))
    return out


_VERB = re.compile(
    r"提交[^，,。；;：:\n]{0,10}?(?<!得)(?:至|到)|提\s*PR\s*至|提至|放在|放入|放到|放置(?:在|于|到)|存放(?:在|于|到)|迁移(?:到|至)|合并(?:到|至)|"
    r"写在|写入|合入|并入|添加(?:到|至)|新增(?:到|至)|加入(?:到|至)|保存(?:到|至)|"
    r"\bsubmit\w*\s+(?:\S+\s+){0,4}?(?:to|into|in)\b|\b(?:goes|go|put|place[sd]?|lands?)\s+(?:\S+\s+)?in(?:to)?\b",
    re.IGNORECASE,
)
_RFC_WORDS = re.compile(r"设计文档|\bRFCs?\b|\brfcs\b|design doc", re.IGNORECASE)
_PATH = re.compile(r"(?<![A-Za-z0-9_.\-/])([A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)+)/?")
_DIR_WORD = re.compile(r"^\s*\)?\s*[^\s，,。；;]{0,6}?(?:目录|文件夹|directory|dir\b|folder)|^\s*(?:下|中)", re.IGNORECASE)
_AFTER_VERB = re.compile(
    r"(?:至|到|放在|放入|写在|写入|位于|位置|路径|(?<!对)于|\bin|\binto|\bto|\bunder)\s*(?:为|是)?\s*[:：]?\s*$", re.IGNORECASE
)
# a path named as a place in a sentence without a submission verb: `在 ppmat/models 下新增…`, `样本位置 X/samples`
_PLACE_WORD = re.compile(
    r"(?:(?:位置|路径|位于|存放(?:在|于)?|放置(?:在|于)?|置于|\blocated (?:in|at)|\bunder|\binto)\s*(?:为|是|在)?\s*[:：]?"
    r"|(?:目录|文件夹|文件|directory|folder|location|path)\s*[:：])\s*$",
    re.IGNORECASE,
)
_PLACE_IN = re.compile(r"(?:(?<![对关])于|在|往|\bin|\bunder|\binto)\s*[:：]?\s*$", re.IGNORECASE)
_CREATE_AFTER = re.compile(
    r"^\s*(?:目录|文件夹|directory|folder)?\s*(?:下|中|里|内)?\s*(?:的)?[^。；;，,\n]{0,8}?"
    r"(?:新增|添加|增加|实现|编写|创建|新建|放置|存放|补充|开发|写|提交|add|implement|create|put|write)",
    re.IGNORECASE,
)
# tests a PR must keep passing are not tests it must add: `保证单测 test_x.py 运行成功`
_MUST_PASS = re.compile(r"(?:保证|确保|验证|使|ensure|make sure)[^。；;\n]*(?:运行成功|成功运行|通过|跑通|\bpass)", re.IGNORECASE)
# a line whose items are files to write: `实现 torch 上的 test device 工具，两个脚本：`, `需新增以下文件：`
_FILES_INTRO = re.compile(
    r"(?:实现|新增|添加|增加|编写|创建|新建|开发|提供|implement|add|create|write)[^。；;\n]{0,24}?"
    r"(?:脚本|文件|模块|代码|scripts?|files?|modules?)\s*[:：]\s*$",
    re.IGNORECASE,
)
_SINGLE_DIR = re.compile(
    r"(?:至|到|放在|放入|写在|合并至|迁移至)\s*[`'\"]?([a-z][a-z0-9_\-]{2,})[`'\"]?\s*(?=目录|文件夹|$|[，,。；;)）])"
)
_LIST_SEP = r"(?:\s*(?:[,，、/]|和|及|以及|与|and)\s*)"
_REFERENCE = re.compile(
    r"(?:参考|如|例如|示例|举例|比如|遵守|遵循|按照|e\.g\.|for example|see|like)\s*[:：，,]?\s*(?:[A-Za-z0-9 ]{0,12}\s*[:：，,]?\s*)?$",
    re.IGNORECASE,
)
_EXT = re.compile(r"\.[A-Za-z0-9]{1,6}$")
_TEST_FILE = re.compile(
    r"(?<![A-Za-z0-9_./\-])((?:test_[A-Za-z0-9_]+|[A-Za-z0-9_]+_test)\.(?:py|cc|cu|cpp|c|h|go|rs|js|ts))(?![A-Za-z0-9_])"
)
_CODE_FILE = re.compile(
    r"(?<![A-Za-z0-9_./\-])([A-Za-z0-9_\-]+\.(?:py|cc|cu|cpp|c|h|hpp|go|rs|yaml|yml|cmake|proto))(?![A-Za-z0-9_])"
)
_UNIT_TEST = re.compile(
    r"(?:新增|添加|增加|补充|编写|完成|提供|增强|加上|补齐)[^。；;，,]{0,10}?(?:单测|单元测试|测试用例)|(?:单测|单元测试)\s*(?:代码|中增加|中添加|中补充|补充)"
    r"|\b(?:add|write|provide)\w*\s+(?:\w+\s+){0,3}?unit\s?tests?",
    re.IGNORECASE,
)
_NOT_ADDING = re.compile(r"删除|清理|移除|退场|remove", re.IGNORECASE)
_BOLD_LABEL = re.compile(r"^\*\*[^*]{1,16}?\*\*\s*[:：]?\s*$")
_ACCEPT_IN_TEXT = re.compile(r"验收(?:的)?标准|验收要求")
_REWARD_IN_TEXT = re.compile(r"(?:贡献度|奖励|奖金|获得)[^。；;]{0,40}?(\d+(?:\.\d+)?\s*(?:⭐️|⭐|🌟))")
_TEST_SEG = {"test", "tests", "unittest", "unittests", "testing", "legacy_test"}


_RFC_PROCESS = re.compile(
    r"(?:请|需要?|须|必须|要求|应当?|先|务必|must|should|needs? to|required to|please)[^。；;！!？?\n]{0,16}?"
    r"(?:撰写|编写|提交|书写|写|完成|提供|submit|write|file|open)[^。；;\n]{0,20}?(?:RFC|设计文档|方案文档|design doc)"
    r"|(?:需要|需|须|requires?|needs?)\s*(?:an?\s*|一份\s*)?(?:RFC|设计文档|design doc)",
    re.IGNORECASE,
)
_RFC_ASKED = re.compile(
    r"^(?:是否)?(?:需要|需)?(?:提交|撰写)?\s*(?:RFC|设计文档)(?:\s*文档)?\s*[?？]?\s*[:：]\s*(\S+)", re.IGNORECASE
)
_RFC_NOT = re.compile(r"不需要|无需|不用|不必|无须|可不|no need|not need|not required|without", re.IGNORECASE)
_LEAD = re.compile(r"^\s*(?:[-*+•·]|\d+\s*[.)、．]|[（(]\d+[)）]|[a-zA-Z][.)]|[①-⑳]|\[[ xX]\])\s*")


def criterion(text: str) -> str:
    """One acceptance criterion as people should read it: no markdown, no bullets or numbering
    (`-   - 按 [规范](…) 完成…` -> `按 规范 完成…`), no leading label (`验收标准：`)."""
    t = _plain(_MD_ESCAPE.sub(r"\1", text))
    while True:
        u = _LEAD.sub("", t, count=1)
        m = _LABEL.match(u)
        if m and m.group("accept") and m.group("rest") is not None:
            u = m.group("rest")
        if u == t:
            return t.strip()
        t = u


@dataclass
class Extracted:
    targets: dict[str, list[str]]  # repo -> globs ([] = anywhere in the repo)
    tests: list[str]
    rfc_required: bool
    rfc_repo: str | None
    rfc_path: str | None
    difficulty: str | None
    summary: str
    acceptance: list[str]
    reward: str | None = None
    unit_tests: bool = False  # the text asks for unit tests (新增单测) without naming where
    home: list[str] = field(default_factory=list)  # (of `extract`) where the task goes when no line says so
    unsure: list[str] = field(default_factory=list)  # (of `extract`) the candidates, when that is unsure
    group_difficulty: bool = False  # the difficulty is the group's (a task's own entry in the RFC list wins)
    rfc_said: bool | None = None  # the text answers whether a design document is needed (`是否需要 RFC：否`)


@dataclass
class Context:
    """What the importer knows besides the block: repositories, default repo, rfc repo."""

    repos: list[str]  # known 'owner/repo' (campaign repos first, then linked ones)
    default_repo: str | None
    rfc_repo: str = "PaddlePaddle/community"
    collection_repo: str | None = None  # where the collection says work goes (preamble, title)
    preamble_accept: list[str] = field(default_factory=list)  # acceptance the collection states for every task
    preamble_rfc: bool = False  # the collection's process asks every task for a design document
    names: list[str] = field(default_factory=list)  # more repositories recognised by name in the text
    cache: dict = field(default_factory=dict)
    framework: str | None = None  # the organisation's framework repository (`飞桨框架`, `Paddle 框架`)
    packages: dict[str, str] = field(default_factory=dict)  # top-level package directory -> repository (`ppsci/`)
    others: list[str] = field(default_factory=list)  # linked repositories of other organisations
    only_repo: str | None = None  # the one repository the organiser gave (--repo, campaign.yml)

    def short(self) -> dict[str, str]:
        if "_short" not in self.cache:
            out: dict[str, str] = {}
            for r in [*self.repos, *self.names]:
                out.setdefault(r.split("/")[1], r)
            self.cache["_short"] = out
        return self.cache["_short"]

    def orgs(self) -> set[str]:
        return {r.split("/")[0] for r in self.repos}


def _is_test_path(path: str) -> bool:
    segs = path.split("/")
    return any(s in _TEST_SEG for s in segs[:-1]) or any(s in _TEST_SEG for s in segs) or bool(_TEST_FILE.fullmatch(segs[-1]))


# words around a repository's name that say the work is in it: `在 X 中`, `为 X 新增`, `X 套件`, `合入 X`
_CTX_BEFORE = re.compile(
    r"(?:在|为|向|给|往|对|于|基于|合入|并入|合并(?:到|至|入)?|提交(?:\s*PR)?\s*(?:到|至)?|迁移(?:到|至)|放(?:到|在|入)|加入|集成(?:到|至)?|"
    r"\binto|\bto|\bin|\bfor|\bon)\s*(?:the\s+)?$",
    re.IGNORECASE,
)
_CTX_AFTER = re.compile(
    r"^\s*(?:套件|仓库|代码仓|repo(?:sitory)?\b|项目|框架|主\s*repo|中|下|里|内|上|侧|当前|目前|现有|已有|已经|"
    r"的[^，,。；;\s]{0,10}?(?:模块|功能|实现|接口|目录|文件|代码|能力|模型|组件))",
    re.IGNORECASE,
)
_FRAMEWORK_WORDS = re.compile(
    r"飞桨(?:核心|基础)?框架|(?<=在)飞桨(?=中|里|内|上)|Paddle\s*(?:核心|基础)?框架|PaddlePaddle\s*(?:框架|framework)|Paddle\s+framework",
    re.IGNORECASE,
)
_FEIJIANG = re.compile(r"飞桨(?!\s*[A-Za-z]|(?:核心|基础)?框架)")  # 飞桨 alone: the framework, in passing

_REPO_WORD_AFTER = re.compile(r"^\s*(?:套件|仓库|代码仓|repo)", re.IGNORECASE)
_BEFORE_REPO = re.compile(r"(?:至|到|入|仓库|向|\brepo|\binto|\bto|\bin)\s*$", re.IGNORECASE)
_AFTER_REPO = re.compile(r"^\s*(?:仓库|代码仓|repo|中|下|主|套件|对应|\brepository)", re.IGNORECASE)


def _mentions(text: str, ctx: Context, loose: bool = False) -> list[tuple[int, str]]:
    """(position, repo) of repositories named in the text: 'owner/repo', or a repo's own name
    where the words around say it is the repository ('提交到 X', 'X 仓库'); `loose`: any name."""
    out = []
    short = ctx.short()
    orgs = ctx.orgs()
    for m in re.finditer(r"(?<![A-Za-z0-9_.\-/])([A-Za-z0-9_.\-]+)/([A-Za-z0-9_.\-]+)(?![A-Za-z0-9_\-/])", text):
        full = f"{m.group(1)}/{m.group(2)}"
        if m.group(1) in orgs or full in ctx.repos:
            out.append((m.start(), full if full in ctx.repos else full))
    exact, folded, by_fold = _name_patterns(ctx)
    for pattern, lookup in ((exact, short), (folded, by_fold)):
        if pattern is None:
            continue
        for m in pattern.finditer(text):
            repo = lookup.get(m.group(1)) or lookup.get(m.group(1).lower())
            if repo and (loose or _BEFORE_REPO.search(text[: m.start()]) or _AFTER_REPO.match(text[m.end() :])):
                out.append((m.start(), repo))
    return sorted(out)


def _name_patterns(ctx: Context) -> tuple[re.Pattern | None, re.Pattern | None, dict[str, str]]:
    """One pattern for the names written as they are (`Paddle`, `docs`) and one, case-blind, for
    CamelCase names (`PaddleMix`, `fastdeploy` in prose, are PaddleMIX and FastDeploy)."""
    if "_names" not in ctx.cache:
        short = ctx.short()
        camel = [n for n in short if re.search(r"[a-z][A-Z]", n)]
        plain = [n for n in short if n not in camel]

        def alt(names: list[str], flags: int = 0) -> re.Pattern | None:
            if not names:
                return None
            body = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
            return re.compile(rf"(?<![A-Za-z0-9_.\-/])({body})(?![A-Za-z0-9_\-/])", flags)

        ctx.cache["_names"] = (alt(plain), alt(camel, re.IGNORECASE), {n.lower(): short[n] for n in camel})
    return ctx.cache["_names"]


def _split_pairs(text: str, ctx: Context) -> str:
    """`PaddleOCR/PaddleX` names two repositories, not a path: space the slash out."""
    short = ctx.short()
    return re.sub(
        r"(?<![A-Za-z0-9_.\-/])([A-Za-z][A-Za-z0-9_.\-]*)/([A-Z][A-Za-z0-9_.\-]*)(?![A-Za-z0-9_\-/])",
        lambda m: (
            f"{m.group(1)} / {m.group(2)}"
            if m.group(1) in short and m.group(2) in short and m.group(1) not in ctx.orgs()
            else m.group(0)
        ),
        text,
    )


def repo_mentions(text: str, ctx: Context) -> list[tuple[int, str, int]]:
    """(position, repo, strength) of repositories the text names: 2 where the words around say the
    work is in it (`在 PaddleNLP 中新增`, `提交 PR 到 PaddleOCR`, `PaddleMIX 套件`, `owner/repo`), 1 for a
    bare mention. The framework used (`基于 Paddle 实现`) is no mention; the organisation's framework
    is named by `飞桨框架` too; a repository of another organisation counts only where the words
    say it is where the work goes (`合入到 paddle_geometric 仓库`)."""
    text = _split_pairs(text, ctx)
    out: list[tuple[int, str, int]] = []
    for pos, repo in _mentions(text, ctx, loose=True):
        if repo == ctx.rfc_repo:
            continue
        name = repo.split("/")[1]
        if "/" in text[pos : pos + len(repo)] and text[pos : pos + len(repo)] == repo:
            out.append((pos, repo, 2))
            continue
        before, after = text[:pos], text[pos + len(name) :]
        if repo == ctx.framework and re.search(r"基于\s*$|based on\s*$|using\s*$|用\s*$", before, re.IGNORECASE):
            continue
        strong = (_CTX_BEFORE.search(before) or _CTX_AFTER.match(after)) and not is_reference(before)
        out.append((pos, repo, 2 if strong else 1))  # `可参考 PaddleNLP 的实现`: something to look at
    if ctx.framework:
        for m in _FRAMEWORK_WORDS.finditer(text):
            before, after = text[: m.start()], text[m.end() :]
            if re.search(r"(?:基于|使用|利用|用|迁移(?:到|至)|转换(?:到|为|成)|based on|using|to)\s*$", before, re.IGNORECASE):
                continue  # the framework the work uses, not where it goes
            # `为飞桨框架新增`, `飞桨框架中新增`, `Paddle 框架仓库`: into the framework; `飞桨框架目前不支持…`: in passing
            into = re.search(r"(?:为|向|给|对)\s*$", before) or re.match(
                r"^\s*(?:仓库|代码仓|repo|(?:中|内|里)\s*(?:新增|添加|增加|实现|支持|补充|开发))", after, re.IGNORECASE
            )
            out.append((m.start(), ctx.framework, 2 if into else 1))
        for m in _FEIJIANG.finditer(text):
            if not re.search(r"基于\s*$|在\s*$|使用\s*$|用\s*$", text[: m.start()]):
                out.append((m.start(), ctx.framework, 1))
    if ctx.framework:  # `PaddleVideo 套件`, `合入 PaddleRS 仓库`: an organisation's repository nobody linked
        org, fw = ctx.framework.split("/")
        if ("_unlinked", fw) not in ctx.cache:
            ctx.cache[("_unlinked", fw)] = (
                re.compile(rf"(?<![A-Za-z0-9_.\-/])({re.escape(fw)}[A-Z0-9][A-Za-z0-9_\-]*)(?![A-Za-z0-9_\-/])"),
                {r.split("/")[1] for r in [*ctx.repos, *ctx.names]},
            )
        pattern, known = ctx.cache[("_unlinked", fw)]
        for m in pattern.finditer(text):
            if m.group(1) not in known and m.group(1) != org and _REPO_WORD_AFTER.match(text[m.end() :]):
                out.append((m.start(), f"{org}/{m.group(1)}", 2))
    if ctx.others:
        if "_others" not in ctx.cache:
            names = {r.split("/")[1]: r for r in ctx.others}
            body = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
            ctx.cache["_others"] = (re.compile(rf"(?<![A-Za-z0-9_.\-/])({body})(?![A-Za-z0-9_\-/])"), names)
        pattern, names = ctx.cache["_others"]
        for m in pattern.finditer(text):
            if (
                _BEFORE_REPO.search(text[: m.start()])
                and not re.search(r"\bin\s*$", text[: m.start()])
                or _REPO_WORD_AFTER.match(text[m.end() :])
            ):
                out.append((m.start(), names[m.group(1)], 2))
    return sorted(set(out))


_BRANCH_FAMILY = {
    "release",
    "releases",
    "feature",
    "features",
    "dev",
    "hotfix",
    "fix",
    "bugfix",
    "users",
    "user",
    "refs",
    "heads",
}
_BRANCH_LIKE = re.compile(
    r"^(?:develop|development|master|main|dygraph|gh-pages|v?\d+(?:\.\d+)+(?:-\w+)?|release-[\w.]+|r\d[\w.]*)$", re.IGNORECASE
)
_PATHLIKE = re.compile(r"[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)+")


def strip_branch(parts: list[str]) -> list[str]:
    """The repository path of `BRANCH/PATH` (the part of a /tree/ or /blob/ link after it): the branch
    may hold slashes (`release/2.7/deploy/…`, `feature/paddle-x/ocr`) -> `deploy/…`, `ocr`."""
    rest = list(parts[1:])
    if parts and parts[0].lower() in _BRANCH_FAMILY and rest:
        rest = rest[1:]  # `release/2.7`
    while rest and _BRANCH_LIKE.match(rest[0]) and len(rest) > 1:
        rest = rest[1:]  # `release/develop/…`, a version left over
    return rest


def _clause(text: str, a: int, b: int) -> str:
    """The clause around text[a:b] (between separators)."""
    left = max(text.rfind(c, 0, a) for c in "。；;，,\n")
    rights = [i for i in (text.find(c, b) for c in "。；;，,\n") if i >= 0]
    return text[left + 1 : min(rights) if rights else len(text)]


def _file_placed(text: str, a: int, b: int) -> bool:
    """Is the file name at text[a:b] said to be where work goes: right after a submission verb (or in a
    list of files after one), or `在 X 中/下`?"""
    sentence_start = max(text.rfind(c, 0, a) for c in "。；;\n") + 1
    before = text[sentence_start:a]
    name = _CODE_FILE.pattern
    verbs = list(_VERB.finditer(before))
    if verbs and re.fullmatch(r"[\s:：]*(?:" + name + _LIST_SEP + r")*", before[verbs[-1].end() :]):
        return True
    m = re.search(r"在\s*((?:" + name + _LIST_SEP + r")*)$", before)
    after = text[b:]
    return bool(m) and bool(re.match(r"^(?:" + _LIST_SEP + name + r")*\s*(?:文件)?\s*(?:中|下|里|内)", after))


def _norm_dir(path: str) -> str:
    return path.strip("/") + "/**"


def package_repo(path: str, ctx: Context) -> str | None:
    """The repository a path's first directory belongs to: `fastdeploy/…` FastDeploy's, `ppsci/…`
    PaddleScience's, `paddle/…` Paddle's (a repository's own name, or its package's)."""
    segs = path.split("/")
    for seg in (
        segs[:2] if segs[0] in _SOURCE_DIRS and len(segs) > 1 else segs[:1]
    ):  # `python/paddle/…`: the package is the second
        key = seg.lower().replace("_", "").replace("-", "")
        if seg in ctx.packages:
            return ctx.packages[seg]
        for name, repo in ctx.short().items():
            if name.lower().replace("_", "").replace("-", "") == key and name not in ("docs", "community"):
                return repo
    return None


_SOURCE_DIRS = {"python", "src", "lib", "source", "csrc", "cpp"}


def _extract_lines(
    lines: list[Line], title: str, difficulty: str | None, ctx: Context, home: list[str] | None = None
) -> Extracted:
    """Targets, tests, RFC need, difficulty, summary and acceptance of some lines (a task's, a group's
    or a part's). A path that names no repository goes where the line or the lines above name one,
    else where its first directory says (`fastdeploy/…`), else to `home` (where the task goes)."""
    secs = sections(lines)
    targets: dict[str, list[str]] = {}
    wide: dict[str, int] = {}  # repositories a line names without a path
    narrowed: set[str] = set()  # … whose nested lines then name its paths
    parents: list[tuple[int, set[str]]] = []  # (indent, repositories named without a path) of the lines above
    tests: list[str] = []
    rfc_required = False
    rfc_said: bool | None = None  # a line that answers whether a design document is needed
    rfc_repo = rfc_path = None
    desc: list[str] = []
    bg: list[str] = []
    other: list[str] = []
    accept: list[str] = []
    reward: list[str] = []
    unit_tests = False
    short = ctx.short()
    current: str | None = None  # the repository the last target line named

    def add(repo: str, glob: str) -> None:
        lst = targets.setdefault(repo, [])
        if glob not in lst:
            lst.append(glob)

    def add_test(glob: str) -> None:
        if glob not in tests:
            tests.append(glob)

    repo: str | None
    intro: int | None = None  # indent of a line that introduces files to write (`实现以下两个脚本：`)
    for sec in secs:
        raw = sec.line.text
        text = _plain(raw)
        line_indent = len(raw) - len(raw.lstrip())
        item_of_intro = intro is not None and bool(_BULLET.match(raw)) and line_indent >= intro
        if not item_of_intro:
            intro = line_indent if _FILES_INTRO.search(text) else None
        if sec.kind == "diff" and sec.label_line and difficulty is None and text:
            difficulty = text.split()[0] if len(text) > 20 else text
            continue
        if sec.kind in ("ref", "req", "list"):
            continue
        if sec.kind == "reward":
            if text:
                reward.append(text)
            continue
        if _UNIT_TEST.search(text) and not _NOT_ADDING.search(text):
            unit_tests = True
        if sec.kind not in ("accept",) and _ACCEPT_IN_TEXT.search(text):
            accept.append(criterion(raw))
        rm = _REWARD_IN_TEXT.search(text)
        if rm and not reward:
            reward.append(rm.group(1).replace(" ", ""))
        if sec.kind == "bg" and text:
            bg.append(_BULLET.sub("", text).strip())
        if sec.kind == "desc" and text:
            desc.append(_BULLET.sub("", text).strip())
        elif sec.kind in ("none",) and text:
            other.append(_BULLET.sub("", text).strip())
        if sec.kind == "accept" and text:
            accept.append(criterion(raw))
        asked = _RFC_ASKED.search(_LEAD.sub("", text))
        if asked and yes_no(asked.group(1)) is not None:
            rfc_said = yes_no(asked.group(1))  # `是否需要提交 RFC：否`
            continue
        if sec.kind not in ("accept", "ref", "req", "list") and _RFC_PROCESS.search(text) and not _RFC_NOT.search(text):
            rfc_required = True  # "开发之前请撰写 RFC 文档": the process asks for a design document
        target_line = sec.kind == "submit" or bool(_VERB.search(text))
        rfc_line = target_line and bool(_RFC_WORDS.search(text)) and not _RFC_NOT.search(text)
        if rfc_line:
            rfc_required = True
        # links
        link_spans: list[tuple[int, int]] = []
        pieces: list[str] = []
        pos = 0
        flat = ""
        raw = raw.replace("`", "")  # `paddlenlp/transformers`: code marks around a path
        for m in _MD_LINK.finditer(raw):
            flat += raw[pos : m.start()]
            start = len(flat)
            flat += m.group(1)
            link_spans.append((start, len(flat)))
            pieces.append(m.group(2))
            pos = m.end()
        flat += raw[pos:]
        link_text = {u: flat[a:b].strip() for u, (a, b) in zip(pieces, link_spans)}
        urls = [u for u, (a, _) in zip(pieces, link_spans) if not _REFERENCE.search(flat[:a]) and not is_reference(flat[:a])]
        urls += [
            u.group(0)
            for u in _URL.finditer(flat)
            if not _REFERENCE.search(flat[: u.start()]) and not is_reference(flat[: u.start()])
        ]
        flat_nourl = _URL.sub(lambda m: " " * len(m.group(0)), flat)
        line_targets: dict[str, list[str]] = {}
        soft: dict[str, list[str]] = {}  # paths of links whose text is just a repository's name (`[PaddleSlim](…/tree/…/ocr)`)
        in_path = {
            u for u, (a, b) in zip(pieces, link_spans) if (b < len(flat) and flat[b] == "/") or (a > 0 and flat[a - 1] == "/")
        }  # `Repo/[ocr](…)/assets/`
        for url in urls:
            if url in in_path:
                continue  # a piece of a path written out around it: that path is read below
            gm = _GH_LINK.match(url)
            if not gm:
                continue
            repo = f"{gm.group(1)}/{gm.group(2)}"
            if gm.group(1) not in ctx.orgs():
                continue  # other people's repositories are references, not targets
            rest = gm.group(3).split("#")[0].split("?")[0]
            parts = [p for p in rest.split("/") if p]
            if parts and parts[0] in ("tree", "blob") and len(parts) >= 2:
                path = "/".join(strip_branch(parts[1:]))
                shown = _MD_ESCAPE.sub(r"\1", link_text.get(url, "")).strip().strip("/")
                if shown != path and (
                    (_FILE_PATH.fullmatch(shown) and "/" in path)
                    or (path and _PATHLIKE.fullmatch(shown) and shown.startswith(path + "/"))
                ):
                    path = shown  # `[python/paddle/tensor/linalg.py](…/math.py)`, `[docs/api/paddle/nn/](…/docs/api/paddle)`: the text is what people read
                is_rfc = repo == ctx.rfc_repo or path.startswith("rfcs")
                if is_rfc:
                    if rfc_line:
                        rfc_repo, rfc_path = repo, (path.rstrip("/") + "/") if path else None
                    continue
                if not target_line or not path:
                    if target_line and not path:
                        line_targets.setdefault(repo, [])
                    continue
                glob = path if _EXT.search(path) else _norm_dir(path)
                if link_text.get(url, "").strip() == gm.group(2):
                    soft.setdefault(repo, []).append(glob)
                    continue
                line_targets.setdefault(repo, []).append(glob)
                if _is_test_path(path):
                    add_test(glob)
            elif not parts and target_line:
                if repo == ctx.rfc_repo:
                    if rfc_line:
                        rfc_repo = repo
                    continue
                line_targets.setdefault(repo, [])
        # inline paths
        for m in _PATH.finditer(flat_nourl):
            tok = m.group(1).strip(".")
            if any(a <= m.start(1) and m.end(1) <= b for a, b in link_spans):
                continue  # the link itself says where it points
            if is_reference(flat_nourl[: m.start()]):
                continue  # `可参考 gpu实现 paddle/phi/…/x.cu`, `参考 X 实现`: something to look at
            segs = tok.split("/")
            cut = next((k for k, seg in enumerate(segs) if _PLACEHOLDER.search(seg)), None)
            if cut is not None or re.match(r"/?[<{]", flat_nourl[m.end(1) : m.end(1) + 2]):
                segs = (
                    segs[:cut] if cut is not None else segs
                )  # `tests/transformers/<model>`, `tests/test_xxx.py`: the directory before it
                if not segs:
                    continue
                tok = "/".join(segs) + "/"  # a directory
                placeholder = True
            else:
                placeholder = False
            if sum(1 for s in segs if _EXT.search(s) and not s[0].isdigit()) > 1 and all(_EXT.search(s) for s in segs):
                for s in segs:  # 'test_a.py/test_b.py': a list of files
                    if _TEST_FILE.fullmatch(s) and not _MUST_PASS.search(_clause(flat_nourl, m.start(), m.end())):
                        add_test("**/" + s)
                continue
            if not all(re.search(r"[A-Za-z]", s) for s in segs):
                continue
            full = "/".join(segs)
            if full in ctx.repos or (segs[0] in ctx.orgs() and len(segs) == 2):
                continue  # a repository name, not a path
            if len(segs) == 1 and not placeholder:
                continue
            repo = None
            if segs[0] in short and segs[0][:1].isupper() and len(segs) > 1:
                repo, segs = short[segs[0]], segs[1:]
                if segs[0] in ("tree", "blob") and len(segs) > 2:
                    segs = strip_branch(segs[1:])  # `PaddleOCR/tree/release/2.7/deploy`
                elif _BRANCH_LIKE.match(segs[0]) and len(segs) > 1:
                    segs = segs[1:]  # `PaddleOCR/develop/deploy`
            path = "/".join(segs)
            if segs[0] == "rfcs":
                if rfc_line:
                    rfc_path = path + "/"
                continue
            has_ext = bool(_EXT.search(segs[-1])) and not placeholder
            is_test = _is_test_path(path)
            before_text, after_text = flat_nourl[: m.start()], flat_nourl[m.end() :]
            placed = (
                bool(_PLACE_WORD.search(before_text))
                or (bool(_PLACE_IN.search(before_text)) and bool(_CREATE_AFTER.match(after_text)))
                or (item_of_intro and not _plain(before_text).strip(" -*+0123456789.、)"))
            )  # an item of `实现以下脚本：`
            if not target_line and not (placed and sec.kind in ("desc", "submit", "none", "bg")):
                if is_test and sec.kind in ("desc", "submit", "accept", "none") and not _MUST_PASS.search(flat_nourl):
                    add_test(path if has_ext else _norm_dir(path))
                continue
            if rfc_line and repo is None:
                continue
            if not (has_ext or repo or placed or _DIR_WORD.match(after_text) or _AFTER_VERB.search(before_text)):
                continue  # 'mac/win32', 'op_a/op_b算子' and friends: not said to be a place
            if repo is None:
                before = [r for p, r in _mentions(flat_nourl[: m.start()], ctx) if r != ctx.rfc_repo]
                pkg = package_repo("/".join(segs), ctx)
                repo = before[-1] if before else (pkg or current or (home[0] if home else None))
                if pkg and not before:
                    current = pkg
            if repo is None:
                continue
            glob = path if has_ext else _norm_dir(path)
            line_targets.setdefault(repo, []).append(glob)
            if is_test:
                add_test(glob)
        # test file names
        for m in _TEST_FILE.finditer(flat_nourl):
            name = m.group(1)
            if _PLACEHOLDER.search(name):
                continue  # `test_xxx.py`: a placeholder, not a file
            if _MUST_PASS.search(_clause(flat_nourl, m.start(), m.end())) or is_reference(flat_nourl[: m.start()]):
                continue  # tests to keep passing, or to look at
            if not any(name in g for g in tests):
                add_test("**/" + name)
        # bare code file names on a target line
        if target_line:
            for m in _CODE_FILE.finditer(flat_nourl):
                name = m.group(1)
                if _TEST_FILE.fullmatch(name) or not _file_placed(flat_nourl, m.start(), m.end()):
                    continue  # `命名 serving_x.py`, `目录的 x.h 文件中`: not said to be where work goes
                before = [r for p, r in _mentions(flat_nourl[: m.start()], ctx) if r != ctx.rfc_repo]
                repo = before[-1] if before else (current or (home[0] if home else None))
                if repo:
                    line_targets.setdefault(repo, []).append("**/" + name)
        # a directory of one word right after a submission verb: `代码合并至 examples`
        if target_line:
            for m in _SINGLE_DIR.finditer(flat_nourl):
                word = m.group(1)
                if _BRANCH_LIKE.match(word) or package_repo(word, ctx) or word in ("pr", "issue", "repo"):
                    continue
                repo = current or (home[0] if home else None)
                if repo:
                    line_targets.setdefault(repo, []).append(_norm_dir(word))
        for repo, globs in soft.items():
            if not line_targets.get(repo):
                line_targets[repo] = globs
        # repositories named on a target line without a path
        ments = [r for pos, r in _mentions(flat_nourl, ctx) if r != ctx.rfc_repo and not is_reference(flat_nourl[:pos])]
        ments += [r for _, r, _ in repo_mentions(flat_nourl, ctx) if r in ctx.others and r not in ments]
        if target_line:
            for r in ments:
                if r not in line_targets and not (rfc_line and r not in short.values()):
                    line_targets.setdefault(r, [])
        indent = len(raw) - len(raw.lstrip())
        while parents and parents[-1][0] >= indent:
            parents.pop()
        wide_here: set[str] = set()
        for repo, globs in line_targets.items():
            globs = [g for g in globs if not any(o != g and o.endswith("/**") and g.startswith(o[:-2]) for o in globs)]
            if not globs:
                targets.setdefault(repo, [])
                wide_here.add(repo)
                if sec.kind != "accept":  # a criterion that repeats where PRs go (`提交 PR 到 X 仓库`) widens nothing
                    wide.setdefault(repo, len(wide))
            else:
                for _, above in parents:  # `提交到 Paddle 仓库：` over items naming its directories: they say where
                    if repo in above:
                        narrowed.add(repo)
            for g in globs:
                add(repo, g)
        parents.append((indent, wide_here))
        if target_line and ments:
            current = ments[-1]
    for repo, globs in list(targets.items()):
        if repo in wide and repo not in narrowed and globs:
            targets[repo] = []  # said "anywhere in this repo" too
    summary_src = desc or other or bg
    summary = " ".join(s for s in summary_src if s)
    if len(summary) > 300:
        summary = summary[:299] + "…"
    if rfc_path and not rfc_repo:
        rfc_repo = ctx.rfc_repo
    if rfc_said is not None:
        rfc_required = rfc_said
    return Extracted(
        targets,
        tests,
        rfc_required,
        rfc_repo,
        rfc_path,
        difficulty,
        summary,
        accept,
        reward=" ".join(reward) or None,
        unit_tests=unit_tests,
        rfc_said=rfc_said,
    )


def usual_tests(repo: str) -> str:
    """Where a repository keeps its tests: Paddle's `test/`, most others' `tests/`."""
    return "test/**" if repo.split("/")[-1] in _TEST_DIR_SINGULAR else "tests/**"


_TEST_DIR_SINGULAR = {"Paddle"}


# a clause that only points at something to look at: `参考 X 实现`, `可参考 gpu实现 X`, `e.g. X`
_REFERENCE_WORD = re.compile(
    r"参考|借鉴|仿照|类似于?|复用|例如|比如|(?<![例比])如(?![需果有何下])|示例|举例|遵守|遵循|e\.g\.|for example|\bsee\b|\blike\b|similar to|reuse|follow",
    re.IGNORECASE,
)


def is_reference(before: str) -> bool:
    """Does the clause that ends at `before` only point at something to look at (`可参考 gpu实现 `,
    `参考`, `如 llama 示例 `, `请务必遵守 《格式规范》 `), rather than say where work goes? A submission
    verb after the pointing word (`参考模板，提交到 `) makes it a place again."""
    clause = re.split(r"[。；;，,、\n]", before)[-1]
    words = list(_REFERENCE_WORD.finditer(clause))
    last = words[-1] if words else None
    return last is not None and not _VERB.search(clause[last.end() :]) and not _PLACE_WORD.search(clause[last.end() :])


_NOT_WHERE = ("ref", "req", "list")  # sections that name repositories as references or skills, not as where work goes


def _named(lines: list[Line], ctx: Context, strong: bool, links: bool = False) -> Counter:
    """Repositories the lines name, outside references and requirements: strongly (`在 X 中`,
    `X 仓库`…), or in passing; or (`links`) the organisation's repositories their links point into."""
    c: Counter = Counter()
    for sec in sections(lines):
        if not links and sec.kind in _NOT_WHERE:
            continue
        text = _plain(sec.line.text)
        for _, repo, st in repo_mentions(text, ctx) if not links else []:
            if st == 2 or not strong:
                c[repo] += 1
        if strong:  # `fastdeploy/model_executor/…`, `graph_net/torch/…`: a path in a repository's own package
            for m in _PATH.finditer(_URL.sub(" ", text)):
                pkg = package_repo(m.group(1), ctx) if not is_reference(text[: m.start()]) else None
                if pkg and "/" in m.group(1).strip("/"):
                    c[pkg] += 1
        if links:
            for m in _GH_LINK.finditer(sec.line.text):
                repo = f"{m.group(1)}/{m.group(2)}"
                if m.group(1) in ctx.orgs() and repo != ctx.rfc_repo:
                    c[repo] += 1
    return c


def _title_named(title: str, ctx: Context) -> list[str]:
    found = repo_mentions(_plain(title), ctx)
    strong = [r for _, r, st in found if st == 2]
    return list(dict.fromkeys(strong or [r for _, r, _ in found]))


def home_repos(block: Block, ctx: Context) -> tuple[list[str], list[str]]:
    """Where a task's text, its group, the parts of the collection it is in and the collection say its
    work goes, the nearest first: (repositories, the candidates when that is unsure).

    In order: the repositories its title names; those its text names as the place of work (`在
    PaddleNLP 套件中新增…`, `提交 PR 到 PaddleOCR`, a path in a repository's package); its group
    header's title and text; the headings and text of the parts around it (`### PaddleMIX 套件开发`);
    a repository its text names only in passing (`参考 PaddleMIX 的 …`), when it is the only one; the
    collection's title and text (`要求基于 PaddleScience 套件进行开发`); the framework named in passing
    (`飞桨框架目前不支持…`), a repository its links alone point into, when it is the only one; the one repository the organiser gave. Several candidates at
    one level: the one a later level names too, else none (unsure): a guess would send people to
    the wrong place."""
    levels: list[Counter] = []
    if block.repo_text:  # a task table's repository column
        cell = [r for _, r, _ in repo_mentions(_plain(block.repo_text), ctx)]
        cell += [
            f"{m.group(1)}/{m.group(2)}" for m in _GH_LINK.finditer(block.repo_text) if f"{m.group(1)}/{m.group(2)}" not in cell
        ]
        if cell:
            return list(dict.fromkeys(cell)), []
    title = _title_named(block.title, ctx)
    if title:
        return title, []
    levels.append(_named(block.lines, ctx, strong=True))

    def shared(part: Group | Scope) -> Counter:
        key = ("_named", id(part))
        if key not in ctx.cache:
            ctx.cache[key] = Counter(_title_named(part.title, ctx)) + _named(part.lines, ctx, strong=True)
        return ctx.cache[key]

    if block.group is not None:
        levels.append(shared(block.group))
    for sc in reversed(block.scopes):
        levels.append(shared(sc))
    weak = Counter(
        {r: n for r, n in _named(block.lines, ctx, strong=False).items() if r.split("/")[1] not in ("docs", "community")}
    )
    if len(weak) == 1 and ctx.framework not in weak:  # `参考 PaddleMIX 的 …`: named in passing, but the only one named
        levels.append(weak)
    if ctx.collection_repo:
        levels.append(Counter([ctx.collection_repo]))
    if len(weak) == 1 and ctx.framework in weak:  # the framework in passing (`飞桨框架目前不支持…`): after the collection's word
        levels.append(weak)
    linked = Counter(
        {
            r: n
            for r, n in _named(block.lines, ctx, strong=False, links=True).items()
            if r.split("/")[1] not in ("docs", "community")
        }
    )
    if len(linked) == 1:  # only links (an issue, an example PR) into one repository
        levels.append(linked)
    if ctx.only_repo:
        levels.append(Counter([ctx.only_repo]))
    unsure: list[str] = []
    for k, c in enumerate(levels):
        if not c:
            continue
        top = c.most_common()
        if len(top) == 1 or top[0][1] > 2 * top[1][1]:
            return [top[0][0]], []
        tied = [r for r, n in top if n * 2 >= top[0][1]]
        for later in levels[k + 1 :]:
            hit = [r for r in tied if r in later]
            if len(hit) == 1:
                return hit, []
        unsure = [r for r, _ in top]
        break
    return [], unsure


def extract(block: Block, ctx: Context) -> Extracted:
    """A task's fields: its own text, then what its group header says for every task of the group,
    then what the parts of the collection around it and the collection say for all their tasks
    (acceptance, a design document), and where its work goes when no line says (`home_repos`)."""
    home, unsure = home_repos(block, ctx)
    own = _extract_lines(block.lines, block.title, block.difficulty, ctx, home)
    grp = None
    if block.group is not None:
        key = (id(block.group), tuple(home))
        if key not in ctx.cache:
            ctx.cache[key] = _extract_lines(block.group.lines, block.group.title, None, ctx, home)
        grp = ctx.cache[key]
    targets = {r: list(p) for r, p in own.targets.items()}
    tests = list(own.tests)
    accept = list(own.acceptance)
    rfc_required, rfc_repo, rfc_path = own.rfc_required, own.rfc_repo, own.rfc_path
    difficulty = own.difficulty
    group_difficulty = False
    reward = own.reward
    unit_tests = own.unit_tests
    if grp is not None:
        for r, p in grp.targets.items():
            if r not in targets:
                targets[r] = list(p)
            elif targets[r]:  # the task names paths there: the group's paths add to them
                targets[r] += [g for g in p if g not in targets[r]]
        tests += [t for t in grp.tests if t not in tests]
        accept += [a for a in grp.acceptance if a not in accept]
        rfc_required = rfc_required or grp.rfc_required
        rfc_repo, rfc_path = rfc_repo or grp.rfc_repo, rfc_path or grp.rfc_path
        group_difficulty = difficulty is None and grp.difficulty is not None
        difficulty = difficulty or grp.difficulty
        reward = reward or grp.reward
        unit_tests = unit_tests or grp.unit_tests
    for sc in reversed(block.scopes):  # the parts of the collection the task is in, innermost first
        skey = (id(sc), tuple(home))
        if skey not in ctx.cache:
            ctx.cache[skey] = _extract_lines(sc.lines, sc.title, None, ctx, home)
        shared = ctx.cache[skey]
        accept += [a for a in shared.acceptance if a not in accept]
        rfc_required = rfc_required or shared.rfc_required
        rfc_repo, rfc_path = rfc_repo or shared.rfc_repo, rfc_path or shared.rfc_path
        reward = reward or shared.reward
    accept += [a for a in ctx.preamble_accept if a not in accept]
    rfc_required = rfc_required or ctx.preamble_rfc
    if own.rfc_said is not None:
        rfc_required = own.rfc_said  # the task's own answer beats what its group or the collection asks
    main = next((r for r, g in targets.items() if g), None)
    if main:  # required tests are in bounds: add them to the first repository that has paths
        for t in tests:
            if t not in targets[main] and not any(t.startswith(g[:-2]) for g in targets[main] if g.endswith("/**")):
                targets[main].append(t)
    return Extracted(
        targets,
        tests,
        rfc_required,
        rfc_repo,
        rfc_path,
        difficulty,
        own.summary,
        accept,
        reward=reward,
        unit_tests=unit_tests,
        home=home,
        unsure=unsure,
        group_difficulty=group_difficulty,
    )


# ---------------------------------------------------------------- the whole collection


def guess_key(text: str) -> str | None:
    """'PaddlePaddle Hackathon 4' / 'Hackathon 第五期' -> 'Hackathon 4th' / 'Hackathon 5th'."""
    m = re.search(r"(?:Hackathon|黑客松)\s*(?:第\s*)?(\d+|[一二三四五六七八九十]+)\s*(?:th|st|nd|rd|期)?", text, re.IGNORECASE)
    if not m:
        return None
    n = cn_number(m.group(1))
    if n is None:
        return None
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"Hackathon {n}{suffix}"


def repos_linked(collections: list[Collection]) -> list[str]:
    """Repositories linked anywhere in the collections, most linked first."""
    c = Counter(repo for col in collections for repo, _ in col.links)
    return [r for r, _ in c.most_common()]


def is_chinese(text: str) -> bool:
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return cjk > len(text) * 0.05


def parse_rfc_list(text: str, file: str) -> tuple[dict[int, bool], list[Note]]:
    """An RFC list (`| 序号 | 难度 | 任务标题 | 是否需要提交 RFC |`) -> {task id: RFC required}."""
    col = parse_collection(text, file)
    out: dict[int, bool] = {}
    notes = list(col.notes)
    for b in col.blocks:
        if b.kind != "table" or b.number is None:
            continue
        if b.rfc_required is None:
            notes.append(Note(b.line, f"task {b.number}: RFC column neither 是 nor 否"))
            continue
        out[b.number] = b.rfc_required
    return out, notes
