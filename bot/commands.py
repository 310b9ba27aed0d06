"""The comment command language of tracker issues (zh and en): text in, typed commands out.

This module owns the grammar below and nothing else: it is pure (no I/O, no clock), and it
never decides whether a command is allowed; `decide` does that with the rules and state.

Grammar
=======
Before parsing, the comment is *cleaned*: fenced code blocks (``` or ~~~, closed by a fence of
the same kind, unclosed runs to the end), inline code spans, block-quote lines (starting with
`>`; lazy continuation lines are not treated as quoted) and HTML comments are blanked.
CRLF is read as LF. Then the comment is read line by line.

Task lists (used by every form that takes tasks)::

    list  := item { sep item }                 stops at the first thing that is not `sep item`,
                                               so trailing text ("40   SDGD优化器") is ignored;
                                               after a bare-space sep, a number glued to a word
                                               ("5 2024年") ends the list too
    item  := [ "No" ["."|"．"] | "#" ] N [ dash [ "No."|"#" ] M ]     N..M is a range
    sep   := one of 、 , ， ; ； / & ＆ 和 及, or "and", or just spaces
    dash  := - － ~ ～ – — 到 至
    N, M  := ASCII or full-width digits (e.g. ９３)

  Tasks are de-duplicated and sorted (`1、3、2-3` is 1, 2, 3). An item that is 0, negative,
  above MAX_TASK_ID, a backwards range (`5-2`) or a range over more than MAX_RANGE tasks is an
  *error*: the whole command is dropped (nothing half-recorded) and the error says why.

Participant forms (anywhere in a line, several per comment)::

    zh label  := open label close [ "：" | ":" ] list       (bold `**` around it is fine)
    open      := 【 [ ［        close := 】 ] ［            (mixed pairs like `[报名】` are fine)
    label     := 报名 -> claim         取消报名 -> unclaim         续期 -> renew
                 提交 -> submit (stage None)
                 提交提案 | 提交RFC -> submit rfc       提交作品 | 提交代码 -> submit code
    en        := ["/"] ("claim" | "unclaim") [":"] list    case-insensitive, whole word
    mention   := "@<bot_login>" ("claim" | "unclaim" | ...) ...   same as the "/" form

  A URL on a submit line is its link. Link lines attach to the submits of the comment, in
  order: `【提案链接】：URL` (or RFC链接) to an rfc submit, `【作品链接】：URL` (代码链接, PR链接)
  to a code submit, plain `【链接】：URL` to any submit; a stage-None submit given an rfc/code
  link takes that stage. The link value is the first http(s) URL on the line (a markdown link's
  target counts).

Team format (one field per line, blank or other lines allowed between, in any order)::

    【队名】：X   【序号】：list   【状态】：status { (& ＆ 、 , ， + / 和) status }   【链接】：URL
    status := 报名 | 取消报名 | 提交 | 提交提案 | 提交RFC | 提交作品 | 提交代码  (spaces, case ignored)

  A block ends when a field repeats or the comment ends. A block with 序号 and 状态 yields one
  command per status, each with `team` (the 队名 text, or None) and `link` set. A block with
  only 【链接】 is a plain link line (see above). Field values run to the end of the line.

Line commands (a line starting with "/" or "@<bot_login> ", case-insensitive, one per line)::

    /claim list   /unclaim list   /renew list   /submit [rfc|code] list [URL]   (participants)
    /assign @user list   /unassign @user list   /done list [@user]
    /reopen list   /close-task list   /status [list]   /refresh   /help     (maintainers)
    /close-campaign   /reopen-campaign                                   (maintainers, no arguments)

  Arguments are `@login` and list items in any order; text after them is ignored.
  `close_task` and `closetask` also mean close-task. A missing user or task list is an error.
  An unknown word close to a command name (`/clam 3`) gets a hint; other "/" lines (paths) are
  ignored.

Near-misses (never commands, but hints with the correct form): a comment with no command whose
line is only a task list (`1、2`); a label without brackets (`报名:3`, `我想报名：3`); a label or
`claim` without task numbers; an unknown 【状态】 value; a team block missing 序号 or 状态;
a link line without a URL; a link line with no submit to attach to.

Edited comments: `new_commands(old, new)` keeps only the commands (and messages) of `new`
that `old` did not already have (multiset difference).
"""
from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import replace, dataclass, field

from bot.messages import Message

MAX_RANGE = 50          # a range may cover at most this many tasks (`1-50` ok, `1-51` error)
MAX_TASK_ID = 9999      # task numbers above this are errors, not tasks

ACTIONS = ("claim", "unclaim", "submit", "assign", "unassign", "done", "reopen",
           "close-task", "status", "refresh", "help", "renew", "close-campaign", "reopen-campaign")
NO_ARGS = ("refresh", "help", "close-campaign", "reopen-campaign")  # line commands that take no arguments
STAGES = ("rfc", "code")


@dataclass(frozen=True)
class Command:
    """One command read from a comment. `user` is a login without "@" (assign/unassign/done)."""

    action: str
    tasks: tuple[int, ...] = ()
    stage: str | None = None
    link: str | None = None
    team: str | None = None
    user: str | None = None

    def as_dict(self) -> dict:
        return {"action": self.action, "tasks": list(self.tasks), "stage": self.stage,
                "link": self.link, "team": self.team, "user": self.user}


@dataclass
class ParseResult:
    commands: list[Command] = field(default_factory=list)
    hints: list[Message] = field(default_factory=list)
    errors: list[Message] = field(default_factory=list)

    def as_dict(self, lang: str = "en") -> dict:
        return {"commands": [c.as_dict() for c in self.commands],
                "hints": [m.text(lang) for m in self.hints],
                "errors": [m.text(lang) for m in self.errors]}


# ---------------------------------------------------------------------------------------------
# Cleaning: blank what the reader does not see as the author's own words.

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_QUOTE = re.compile(r"^ {0,3}>")
_INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")


def clean_lines(text: str) -> list[str]:
    """The comment's lines with code, quotes and HTML comments blanked (line count kept)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _HTML_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    out: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        if fence is not None:
            stripped = line.strip()
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                fence = None
            out.append("")
            continue
        m = _FENCE.match(line)
        if m and not (m.group(1)[0] == "`" and "`" in line[m.end():]):
            fence = m.group(1)
            out.append("")
            continue
        if _QUOTE.match(line):
            out.append("")
            continue
        if "`" in line:
            line = _INLINE_CODE.sub(" ", line)
        out.append(line)
    return out


# ---------------------------------------------------------------------------------------------
# Task lists

_D = "[0-9０-９]"
_ITEM = re.compile(
    r"(?:[Nn][Oo]\s*[.．]?\s*|[#＃])?(?P<neg>[-－−](?=" + _D + r"))?(?P<a>" + _D + r"+)(?!" + _D + r")"
    r"(?:\s*(?:[-－~～–—]|到|至)\s*(?:[Nn][Oo]\s*[.．]?\s*|[#＃])?(?P<b>" + _D + r"+)(?!" + _D + r"))?"
)
_SEP = re.compile(r"\s*(?:[、,，;；/&＆]|和|及|以及|\band\b)\s*|\s+")
_LEAD = re.compile(r"[\s*_]*")
_GLUED = re.compile(r"[^\W\d]")


@dataclass(frozen=True)
class _Items:
    tasks: tuple[int, ...]
    errors: tuple[Message, ...]
    end: int
    found: bool  # at least one item was read


def _read_list(s: str, pos: int) -> _Items:
    """Read a task list starting at `pos` (leading spaces/emphasis skipped)."""
    pos = _LEAD.match(s, pos).end()
    tasks: set[int] = set()
    errors: list[Message] = []
    m = _ITEM.match(s, pos)
    if not m:
        return _Items((), (), pos, False)
    end = pos
    while m:
        end = m.end()
        errors.extend(_check_item(m, tasks))
        sep = _SEP.match(s, end)
        if not sep:
            break
        m = _ITEM.match(s, sep.end())
        if m and not sep.group(0).strip() and _GLUED.match(s, m.end()):
            break  # "5 2024年": after a bare space, a number glued to a word is prose, not a task
    return _Items(tuple(sorted(tasks)), tuple(errors), end, True)


def _check_item(m: re.Match, tasks: set[int]) -> list[Message]:
    text = m.group(0).strip()
    a = int(m.group("a"))
    b = int(m.group("b")) if m.group("b") is not None else None
    if m.group("neg"):
        return [Message("task_negative", {"item": text})]
    if a == 0 or b == 0:
        return [Message("task_zero", {"item": text})]
    if b is not None and b - a + 1 > MAX_RANGE:
        return [Message("range_too_large", {"item": text, "count": b - a + 1, "max": MAX_RANGE})]
    if a > MAX_TASK_ID or (b is not None and b > MAX_TASK_ID):
        return [Message("task_too_big", {"item": text, "max": MAX_TASK_ID})]
    if b is None:
        tasks.add(a)
        return []
    if b < a:
        return [Message("range_reversed", {"item": text, "low": b, "high": a})]
    tasks.update(range(a, b + 1))
    return []


def format_tasks(tasks: tuple[int, ...], lang: str = "zh") -> str:
    """Tasks as a compact list (`1-3、7、8` / `1-3, 7, 8`) that reads back to the same tasks."""
    sep = "、" if lang == "zh" else ", "
    parts: list[str] = []
    ts = sorted(set(tasks))
    i = 0
    while i < len(ts):
        j = i
        while j + 1 < len(ts) and ts[j + 1] == ts[j] + 1 and ts[j + 1] - ts[i] < MAX_RANGE:
            j += 1
        if j - i >= 2:
            parts.append(f"{ts[i]}-{ts[j]}")
            i = j + 1
        else:
            parts.append(str(ts[i]))
            i += 1
    return sep.join(parts)


# ---------------------------------------------------------------------------------------------
# Labels

_OPEN = "[【\\[［]"
_CLOSE = "[】\\]］]"
_LABELS = {
    "取消报名": ("unclaim", None), "报名": ("claim", None), "续期": ("renew", None),
    "提交提案": ("submit", "rfc"), "提交rfc": ("submit", "rfc"),
    "提交作品": ("submit", "code"), "提交代码": ("submit", "code"), "提交": ("submit", None),
    "提案链接": ("link", "rfc"), "rfc链接": ("link", "rfc"),
    "作品链接": ("link", "code"), "代码链接": ("link", "code"), "pr链接": ("link", "code"),
    "链接": ("field", "link"),
    "队名": ("field", "team"), "队伍名称": ("field", "team"), "团队名称": ("field", "team"),
    "队伍名": ("field", "team"),
    "序号": ("field", "tasks"), "任务序号": ("field", "tasks"), "任务编号": ("field", "tasks"),
    "状态": ("field", "status"),
}
_LABEL_ALT = "|".join(sorted((re.escape(k) for k in _LABELS), key=len, reverse=True))
_ZH = re.compile(r"(?:\*\*|__)?" + _OPEN + r"\s*(?P<label>" + _LABEL_ALT + r")\s*" + _CLOSE
                 + r"(?:\*\*|__)?\s*(?:[:：]\s*(?:\*\*|__)?)?", re.I)
_EN = re.compile(r"(?<![\w-])/?(?P<verb>unclaim|claim)\b[ \t]*[:：]?", re.I)
_NEAR_LABEL = re.compile(r"(?P<label>取消报名|(?<!取消)报名|提交提案|提交作品|提交)\s*[:：]\s*(?=[Nn#＃0-9０-９])")
_URL = re.compile(r"https?://[^\s<>\"'`\)）\]】]+", re.I)
_MD_LINK = re.compile(r"\[[^\]]*\]\((https?://[^\s)]+)\)", re.I)
_LOGIN = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
_USER = re.compile(r"@(?P<login>" + _LOGIN + r")(?![\w-])")
_LINE_CMD = re.compile(r"^\s*/(?P<name>[A-Za-z][\w-]*)(?P<rest>.*)$")
_STATUS_SPLIT = re.compile(r"\s*(?:[&＆、,，+/|；;]|和|\band\b)\s*")
_STATUS = {
    "报名": ("claim", None), "claim": ("claim", None), "取消报名": ("unclaim", None), "取消": ("unclaim", None),
    "提交": ("submit", None), "提交提案": ("submit", "rfc"), "提交rfc": ("submit", "rfc"),
    "提交作品": ("submit", "code"), "提交代码": ("submit", "code"), "提交pr": ("submit", "code"),
}
_LINE_NAMES = {"claim": "claim", "unclaim": "unclaim", "submit": "submit", "assign": "assign",
               "unassign": "unassign", "done": "done", "reopen": "reopen", "close-task": "close-task",
               "close_task": "close-task", "closetask": "close-task", "status": "status",
               "refresh": "refresh", "help": "help", "renew": "renew", "close-campaign": "close-campaign",
               "reopen-campaign": "reopen-campaign"}
_TRAILING_PUNCT = ".,;:!?。，；：！？、"


def _url_in(text: str) -> str | None:
    m = _MD_LINK.search(text)
    if m:
        return m.group(1)
    m = _URL.search(text)
    if not m:
        return None
    return m.group(0).rstrip(_TRAILING_PUNCT) or None


def _field_value(text: str) -> str:
    return text.strip().strip("*").strip()


# ---------------------------------------------------------------------------------------------
# The parser


class _Reader:
    """Accumulates commands (with positions), hints and errors for one comment."""

    def __init__(self, bot_login: str | None):
        self.cmds: list[tuple[int, Command]] = []
        self.hints: list[Message] = []
        self.errors: list[Message] = []
        self.links: list[tuple[int, str | None, str]] = []   # (pos, kind rfc|code|None, url)
        self.block: dict[str, tuple[int, str]] = {}
        mention = None
        if bot_login:
            login = bot_login.removesuffix("[bot]")
            mention = re.compile(r"^\s*@" + re.escape(login) + r"(?![\w-])[\s,:：]*/?(?P<name>[A-Za-z][\w-]*)(?P<rest>.*)$", re.I)
        self.mention = mention

    # -- line commands -------------------------------------------------------------------------
    def line_command(self, pos: int, name: str, rest: str) -> bool:
        """Handle a "/" or "@bot" line. Returns False when the word is no command at all."""
        action = _LINE_NAMES.get(name.lower())
        if action is None:
            close = difflib.get_close_matches(name.lower(), list(_LINE_NAMES), n=1, cutoff=0.75)
            if close:
                self.hints.append(Message("unknown_command", {"found": "/" + name, "suggestion": "/" + _LINE_NAMES[close[0]]}))
                return True
            return False
        if action in NO_ARGS:
            self.add(pos, Command(action))
            return True
        stage = None
        if action == "submit":
            m = re.match(r"\s*(rfc|code)\b", rest, re.I)
            if m:
                stage, rest = m.group(1).lower(), rest[m.end():]
        users, items = self._args(rest)
        if items.errors:
            self.errors.extend(items.errors)
            return True
        example = _EXAMPLES[action]
        if action in ("assign", "unassign", "done") and len(users) > 1:
            self.errors.append(Message("too_many_users", {"command": "/" + action, "example": example}))
            return True
        user = users[0] if users else None
        if action in ("assign", "unassign") and user is None:
            self.errors.append(Message("missing_user", {"command": "/" + action, "example": example}))
            return True
        if action in ("claim", "unclaim") and not items.tasks:
            self.hints.append(Message("claim_no_number", {"command": "/" + action, "example": example}))
            return True
        if action != "status" and not items.tasks:
            self.errors.append(Message("missing_tasks", {"command": "/" + action, "example": example}))
            return True
        if action in ("claim", "unclaim", "renew", "reopen", "close-task", "status", "submit"):
            user = None
        link = _url_in(rest[items.end:]) if action == "submit" else None
        self.add(pos, Command(action, items.tasks, stage=stage, link=link, user=user))
        return True

    def _args(self, rest: str) -> tuple[list[str], _Items]:
        users: list[str] = []
        tasks: set[int] = set()
        errors: list[Message] = []
        pos, end = 0, 0
        while True:
            pos = re.compile(r"[\s,，、]*").match(rest, pos).end()
            um = _USER.match(rest, pos)
            if um:
                if um.group("login") not in users:
                    users.append(um.group("login"))
                pos = end = um.end()
                continue
            items = _read_list(rest, pos)
            if not items.found:
                break
            tasks.update(items.tasks)
            errors.extend(items.errors)
            pos = end = items.end
        return users, _Items(tuple(sorted(tasks)), tuple(errors), end, bool(tasks) or bool(errors))

    # -- participant forms ---------------------------------------------------------------------
    def participant_line(self, pos: int, line: str) -> None:
        found_any = False
        matches = list(_ZH.finditer(line))
        # the English scanner must not read inside field values (team names, links)
        en_limit = len(line)
        for i, m in enumerate(matches):
            label = m.group("label").lower()
            kind, sub = _LABELS[label]
            nxt = matches[i + 1].start() if i + 1 < len(matches) else len(line)
            if kind in ("claim", "unclaim", "submit", "renew"):
                found_any = True
                items = _read_list(line, m.end())
                if items.errors:
                    self.errors.extend(items.errors)
                elif not items.tasks:
                    self.hints.append(Message("label_no_number", {"label": m.group("label"),
                                                                   "example": _zh_label(kind, sub) + "：3"}))
                else:
                    link = _url_in(line[items.end:nxt]) if kind == "submit" else None
                    self.add(pos, Command(kind, items.tasks, stage=sub, link=link))
            else:
                found_any = True
                en_limit = min(en_limit, m.start())
                value = line[m.end():]
                if kind == "link":
                    self.link_line(pos, sub, value, m.group("label"))
                else:
                    self.field(pos, sub, value, m.group("label"))
                break  # a field's value runs to the end of the line
        for m in _EN.finditer(line, 0, en_limit):
            if any(z.start() <= m.start() < z.end() for z in matches):
                continue
            verb = m.group("verb").lower()
            items = _read_list(line, m.end())
            if items.errors:
                found_any = True
                self.errors.extend(items.errors)
            elif items.tasks:
                found_any = True
                self.add(pos, Command(verb, items.tasks))
            else:
                after = line[m.end():m.end() + 8].lstrip().lower()
                at_start = not line[:m.start()].strip() or line[:m.start()].strip().startswith("@")
                if at_start or after.startswith(("no", "#", "task")) or m.group(0).startswith("/"):
                    self.hints.append(Message("claim_no_number", {"command": verb, "example": f"{verb} No.3"}))
                    found_any = True
        if not found_any:
            for m in _NEAR_LABEL.finditer(line):
                items = _read_list(line, m.end())
                kind, sub = _LABELS[m.group("label")]
                if items.tasks:
                    suggestion = render_command(Command(kind, items.tasks, stage=sub))
                    self.hints.append(Message("near_miss_no_brackets", {"found": line[m.start():items.end].strip(),
                                                                        "suggestion": suggestion}))

    def link_line(self, pos: int, kind: str | None, value: str, label: str) -> None:
        url = _url_in(value)
        if url is None:
            self.hints.append(Message("link_not_url", {"label": label}))
        else:
            self.links.append((pos, kind, url))

    def field(self, pos: int, name: str, value: str, label: str) -> None:
        if name in self.block:
            self.flush()
        self.block[name] = (pos, _field_value(value))

    def flush(self) -> None:
        block, self.block = self.block, {}
        if not block:
            return
        if set(block) == {"link"}:
            pos, value = block["link"]
            self.link_line(pos, None, value, "链接")
            return
        if "tasks" not in block or "status" not in block:
            missing = "【序号】" if "tasks" not in block else "【状态】"
            self.hints.append(Message("team_incomplete", {"missing": missing}))
            return
        team = block["team"][1] or None if "team" in block else None
        link = _url_in(block["link"][1]) if "link" in block else None
        if "link" in block and link is None:
            self.hints.append(Message("link_not_url", {"label": "链接"}))
        tpos, tvalue = block["tasks"]
        items = _read_list(tvalue, 0)
        if items.errors:
            self.errors.extend(items.errors)
            return
        if not items.tasks:
            self.hints.append(Message("label_no_number", {"label": "序号", "example": "【序号】：3"}))
            return
        spos, svalue = block["status"]
        for part in _STATUS_SPLIT.split(svalue):
            key = re.sub(r"\s+", "", part).lower().strip("*")
            if not key:
                continue
            if key not in _STATUS:
                self.hints.append(Message("team_status_unknown", {"found": part.strip()}))
                continue
            action, stage = _STATUS[key]
            self.add(spos, Command(action, items.tasks, stage=stage, link=link, team=team))

    def add(self, pos: int, cmd: Command) -> None:
        self.cmds.append((pos, cmd))

    def attach_links(self) -> None:
        """Give each link line to the nearest earlier unlinked submit it fits, else the next one.

        Linear time: one pass with a stack per stage, then forward pointers for the leftovers.
        """
        if not self.links:
            return
        cmds = self.cmds
        order = sorted(range(len(cmds)), key=lambda i: cmds[i][0])
        free = {i for i in order if cmds[i][1].action == "submit" and cmds[i][1].link is None and cmds[i][1].team is None}
        fits = {None: (None, "rfc", "code"), "rfc": (None, "rfc"), "code": (None, "code")}
        stacks: dict[str | None, list[int]] = {None: [], "rfc": [], "code": []}
        given: dict[int, tuple[str | None, str]] = {}
        leftovers: list[tuple[int, str | None, str]] = []
        k = 0
        for lpos, kind, url in sorted(self.links, key=lambda link: link[0]):
            while k < len(order) and cmds[order[k]][0] <= lpos:
                if order[k] in free:
                    stacks[cmds[order[k]][1].stage].append(k)
                k += 1
            tops = [(stacks[st][-1], st) for st in fits[kind] if stacks[st]]
            if tops:
                top, st = max(tops)
                stacks[st].pop()
                free.discard(order[top])
                given[order[top]] = (kind, url)
            else:
                leftovers.append((lpos, kind, url))
        pointers = {None: 0, "rfc": 0, "code": 0}
        for lpos, kind, url in leftovers:
            p = pointers[kind]
            while p < len(order) and (cmds[order[p]][0] <= lpos or order[p] not in free
                                      or cmds[order[p]][1].stage not in fits[kind]):
                p += 1
            pointers[kind] = p
            if p == len(order):
                self.hints.append(Message("link_without_submit", {"label": _LINK_LABEL[kind]}))
                continue
            free.discard(order[p])
            given[order[p]] = (kind, url)
        for i, (kind, url) in given.items():
            cpos, c = cmds[i]
            cmds[i] = (cpos, Command("submit", c.tasks, stage=c.stage or kind, link=url))


_LINK_LABEL = {"rfc": "【提案链接】", "code": "【作品链接】", None: "【链接】"}
_EXAMPLES = {
    "claim": "/claim 3", "unclaim": "/unclaim 3", "submit": "/submit rfc 3 https://…",
    "assign": "/assign @user 12 13", "unassign": "/unassign @user 12", "done": "/done 12 @user",
    "reopen": "/reopen 12", "close-task": "/close-task 12", "status": "/status 12",
    "refresh": "/refresh", "help": "/help", "renew": "/renew 3", "close-campaign": "/close-campaign",
    "reopen-campaign": "/reopen-campaign",
}


def _zh_label(action: str, stage: str | None) -> str:
    if action == "claim":
        return "【报名】"
    if action == "unclaim":
        return "【取消报名】"
    if action == "renew":
        return "【续期】"
    return {"rfc": "【提交提案】", "code": "【提交作品】", None: "【提交】"}[stage]


def parse_comment(text: str, *, bot_login: str | None = None) -> ParseResult:
    """Read every command of a comment; see the module docstring for the grammar."""
    reader = _Reader(bot_login)
    lines = clean_lines(text)
    for pos, line in enumerate(lines):
        if not line.strip():
            continue
        m = _LINE_CMD.match(line)
        if m is None and reader.mention is not None:
            m = reader.mention.match(line)
        if m is not None and reader.line_command(pos, m.group("name"), m.group("rest")):
            continue
        reader.participant_line(pos, line)
    reader.flush()
    reader.attach_links()
    commands = list(dict.fromkeys(cmd for _, cmd in sorted(reader.cmds, key=lambda pc: pc[0])))
    hints = list(dict.fromkeys(reader.hints))
    errors = list(dict.fromkeys(reader.errors))
    if not commands and not errors:
        hints.extend(_bare_list_hints(lines))
    return ParseResult(commands, hints, errors)


_BARE = re.compile(r"^[\s*_]*(?P<list>.*?)[\s*_。.！!]*$")


def _bare_list_hints(lines: list[str]) -> list[Message]:
    for line in lines:
        if not line.strip():
            continue
        body = _BARE.match(line).group("list")
        items = _read_list(body, 0)
        if items.found and not items.errors and items.tasks and items.end == len(body):
            return [Message("near_miss_bare_numbers", {"found": body.strip(),
                                                       "suggestion": render_command(Command("claim", items.tasks))})]
    return []


def new_commands(old_text: str, new_text: str, *, bot_login: str | None = None) -> ParseResult:
    """For an edited comment: what `new_text` says that `old_text` did not.

    Commands are compared task by task: editing `【报名】：1` into `【报名】：1、2` yields a claim
    of 2 only. A command without tasks (`/status`, `/help`) counts as new only if the old
    text had fewer of it. Hints and errors are subtracted the same way (multiset difference).
    """
    old = parse_comment(old_text, bot_login=bot_login)
    new = parse_comment(new_text, bot_login=bot_login)

    def minus(after: list, before: list) -> list:
        left = Counter(before)
        out = []
        for x in after:
            if left[x]:
                left[x] -= 1
            else:
                out.append(x)
        return out

    seen: dict[tuple, set[int]] = {}
    for c in old.commands:
        seen.setdefault((c.action, c.stage, c.link, c.team, c.user), set()).update(c.tasks)
    commands: list[Command] = []
    for c in minus(new.commands, old.commands):
        if c.tasks:
            fresh = tuple(t for t in c.tasks if t not in seen.get((c.action, c.stage, c.link, c.team, c.user), set()))
            if not fresh:
                continue
            c = replace(c, tasks=fresh)
        commands.append(c)
    return ParseResult(commands, minus(new.hints, old.hints), minus(new.errors, old.errors))


# ---------------------------------------------------------------------------------------------
# Rendering: the canonical text of a command


def command_problem(cmd: Command) -> str | None:
    """Why `cmd` is not a command the parser could produce (None when it is fine)."""
    if cmd.action not in ACTIONS:
        return f"unknown action {cmd.action!r}"
    if list(cmd.tasks) != sorted(set(cmd.tasks)) or any(not 1 <= t <= MAX_TASK_ID for t in cmd.tasks):
        return "tasks must be sorted, unique, within 1..MAX_TASK_ID"
    needs_tasks = cmd.action not in ("status", *NO_ARGS)
    if needs_tasks and not cmd.tasks:
        return f"{cmd.action} needs tasks"
    if cmd.action in NO_ARGS and cmd.tasks:
        return f"{cmd.action} takes no tasks"
    if cmd.stage is not None and (cmd.action != "submit" or cmd.stage not in STAGES):
        return "stage is only rfc|code on submit"
    if cmd.user is not None and (cmd.action not in ("assign", "unassign", "done") or not re.fullmatch(_LOGIN, cmd.user)):
        return "user is a GitHub login on assign/unassign/done"
    if cmd.action in ("assign", "unassign") and cmd.user is None:
        return f"{cmd.action} needs a user"
    if cmd.link is not None:
        if cmd.action not in ("claim", "unclaim", "submit") or _url_in(cmd.link) != cmd.link:
            return "link is a URL on claim/unclaim/submit"
    if cmd.team is not None:
        if cmd.action not in ("claim", "unclaim", "submit"):
            return "team is only on claim/unclaim/submit"
        field_line = "【队名】：" + cmd.team
        m = _ZH.match(field_line)
        if not cmd.team or clean_lines(field_line) != [field_line] or _field_value(field_line[m.end():]) != cmd.team:
            return "team name must be one plain line that reads back as itself"
    return None


def render_command(cmd: Command, lang: str = "zh") -> str:
    """The canonical text of `cmd`: `parse_comment(render_command(cmd)).commands == [cmd]`.

    Participant commands render in the zh bracket form (lang="zh") or the "/" form (lang="en");
    team commands always render as a zh team block (there is no en team format).
    """
    problem = command_problem(cmd)
    if problem:
        raise ValueError(f"cannot render {cmd!r}: {problem}")
    a = cmd.action
    if cmd.team is not None or (a in ("claim", "unclaim") and cmd.link):
        status = {"claim": "报名", "unclaim": "取消报名"}.get(a) or {"rfc": "提交提案", "code": "提交作品", None: "提交"}[cmd.stage]
        lines = [f"【队名】：{cmd.team}"] if cmd.team is not None else []
        lines += [f"【序号】：{format_tasks(cmd.tasks)}", f"【状态】：{status}"]
        if cmd.link:
            lines.append(f"【链接】：{cmd.link}")
        return "\n".join(lines)
    if a in ("claim", "unclaim", "submit", "renew") and lang == "zh":
        text = f"{_zh_label(a, cmd.stage)}：{format_tasks(cmd.tasks)}"
        if cmd.link:
            text += "\n" + _LINK_LABEL[cmd.stage] + "：" + cmd.link
        return text
    parts = ["/" + a]
    if cmd.stage:
        parts.append(cmd.stage)
    if a in ("assign", "unassign") and cmd.user:
        parts.append("@" + cmd.user)
    if cmd.tasks:
        parts.append(format_tasks(cmd.tasks, "en"))
    if a == "done" and cmd.user:
        parts.append("@" + cmd.user)
    if cmd.link:
        parts.append(cmd.link)
    return " ".join(parts)
