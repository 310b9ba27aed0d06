"""The comment command language of tracker issues (zh and en): text in, typed commands out.

This module owns the grammar below and nothing else: it is pure (no I/O, no clock), and it
never decides whether a command is allowed; `decide` does that with the rules and state.

Grammar
=======
Before parsing, the comment is *normalised*: CRLF is read as LF; invisible characters (zero-width
space/non-joiner/joiner, word joiner, BOM, soft hyphen, bidi marks) are dropped, so `【报\u200b名】` is
`【报名】`; each character with a one-character NFKC form is read as that form (full-width digits,
letters, colons, commas, `＃`, `／`, the ideographic space, circled digits...), while names and
links keep the characters the author wrote.

Then it is *cleaned*: what GitHub shows as code, quoted or hidden is blanked, never executed:

- fenced code blocks (``` or ~~~ of any length, closed by a fence of the same kind at least as
  long; an unclosed fence runs to the end);
- indented code blocks: a line indented by 4 columns or more (a tab counts to the next multiple
  of 4) that does not continue a paragraph (CommonMark: it follows a blank line, the start, a
  heading, a fence, a quote or another code line; inside a list item the 4 columns count from
  the item's content), so `    /assign @u 14` after a blank line runs nothing, while an indented
  line right under a sentence is read as part of that sentence;
- block quotes (lines starting with `>`, also `- >` inside a list item; lazy continuation lines
  are not treated as quoted);
- inline code spans (a backtick run closed by the next run of the same length in the same
  paragraph, which may span lines), `<code>…</code>` (unclosed: to the end of the paragraph),
  `<pre>…</pre>` and `<!-- … -->` (unclosed: to the end of the comment).

Cleaning keeps line count and line lengths. Then the comment is read line by line.

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
  above MAX_TASK_ID (a number of any length: it is never converted whole), a backwards range
  (`5-2`) or a range over more than MAX_RANGE tasks is an *error* that names the item; the
  valid items of the same list still count (`【报名】：3、0` claims 3 and says 0 is no task),
  because that is what the participant meant for them, and the error tells them what to fix.
  A list whose every item is bad gives errors only. The same holds for maintainers' lists.

Participant forms (anywhere in a line, several per comment)::

    zh label  := open label close [ "：" | ":" ] list       (bold `**` around it is fine)
    open      := 【 [ ［        close := 】 ] ［            (mixed pairs like `[报名】` are fine)
    label     := 报名 -> claim         取消报名 -> unclaim         续期 -> renew
                 提交 -> submit (stage None)
                 提交提案 | 提交RFC -> submit rfc       提交作品 | 提交代码 -> submit code
                 我的任务 -> mine (takes no list)
    en        := ["/"] ("claim" | "unclaim") [":"] [ "task" | "tasks" ] list
                 case-insensitive, whole word: `claim No.93`, `I want to claim task #11`
    mention   := "@<bot_login>" ("claim" | "unclaim" | ...) ...   same as the "/" form
    my tasks  := a line that is only "my tasks" (case-insensitive; `?` or `.` after it is fine), or
                 "/my tasks", "@<bot_login> my tasks" -> mine. Within a sentence ("I released my
                 tasks") it is conversation, not a command.

  A URL on a submit line is its link. Link lines attach to the submits of the comment, in
  order: `【提案链接】：URL` (or RFC链接) to an rfc submit, `【作品链接】：URL` (代码链接, PR链接)
  to a code submit, plain `【链接】：URL` to any submit; a stage-None submit given an rfc/code
  link takes that stage. The link value is the first http(s) URL on the line (a markdown link's
  target counts).

Team format (one field per line, blank or other lines allowed between, in any order)::

    【队名】：X   【序号】：list   【状态】：status { (& ＆ 、 , ， + / 和) status }   【链接】：URL
    status := 报名 | 取消报名 | 提交 | 提交提案 | 提交RFC | 提交作品 | 提交代码 | 提交PR
              (spaces and case ignored; a remark after it is ignored: in brackets,
              `提交rfc（已提交 PR #123）`, `报名 (会尽快完成)`, or glued on, `报名了`: the
              longest status word the part starts with counts)

  A block ends when a field repeats or the comment ends. A block with 序号 and 状态 yields one
  command per status, each with `team` (the 队名 text, or None) and `link` set. A part of the
  status that names no status gets a hint when it looks like one (报名/提交/取消/claim/rfc/pr...)
  or when the value has no status at all; other remarks are ignored. A block with only
  【链接】 is a plain link line (see above). Field values run to the end of the line.

Line commands (a line starting with "/" or "@<bot_login> ", case-insensitive, one per line)::

    /claim list   /unclaim list   /renew list   /submit [rfc|code] list [URL]   (participants)
    /assign @user list   /unassign @user list   /done list [@user]
    /reopen list   /close-task list   /status [list]   /refresh   /help     (maintainers)
    /close-campaign   /reopen-campaign                                   (maintainers, no arguments)
    /mine                                     (anyone: their own tasks, points and rank; no arguments)

  Arguments are `@login` and list items in any order; text after them is ignored.
  `close_task` and `closetask` also mean close-task. A missing user or task list is an error.
  An unknown word close to a command name (`/clam 3`) gets a hint; other "/" lines (paths) are
  ignored.

Near-misses (never commands, but hints with the correct form): a comment with no command whose
line is only a task list (`1、2`); a label without brackets (`报名:3`, `我想报名：3`, `报名 3`);
a free-form Chinese request `认领 11`, `我想认领 11 号任务`, `认领：No.11` (the campaign's form is
【报名】, so these are answered with it rather than guessed); a label or `claim` without task
numbers; an unknown 【状态】 value; a team block missing 序号 or 状态; a link line without a URL;
a link line with no submit to attach to. Without a colon, a number followed by a unit
(`报名 2024 年`) and any question (a line with `?`/`？`) are chatter, not near-misses.

Bounds: every step is linear in the comment's length (no regular expression can backtrack over
a run of the input more than once, numbers are never converted whole), so the largest comment
GitHub accepts (65,536 characters) parses in milliseconds whatever it holds. A list reports its
first MAX_LIST_ERRORS bad items one by one and counts the rest in one error (`more_bad_numbers`);
a comment is read up to MAX_FORMS labels, verbs and line commands, then one error
(`too_many_commands`) says the rest was not read. User text quoted back in a message is cut to a
line of MAX_ECHO characters (and shown as inline code by the message templates).

Edited comments: `new_commands(old, new)` keeps only the commands (and messages) of `new`
that `old` did not already have (multiset difference).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache

from bot.core.messages import Message
from bot.core.texts import Lang

MAX_RANGE = 50  # a range may cover at most this many tasks (`1-50` ok, `1-51` error)
MAX_TASK_ID = 9999  # task numbers above this are errors, not tasks
MAX_FORMS = 500  # labels, verbs and line commands read per comment; the rest gets one error
MAX_LIST_ERRORS = 20  # bad items of one list reported one by one; the rest are counted in one error
MAX_ECHO = 60  # user text quoted back in a hint or an error is cut to this many characters


class Verb(StrEnum):
    """What a command asks for: the fixed vocabulary of the command language."""

    CLAIM = "claim"
    UNCLAIM = "unclaim"
    SUBMIT = "submit"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    DONE = "done"
    REOPEN = "reopen"
    CLOSE_TASK = "close-task"
    STATUS = "status"
    REFRESH = "refresh"
    HELP = "help"
    RENEW = "renew"
    CLOSE_CAMPAIGN = "close-campaign"
    REOPEN_CAMPAIGN = "reopen-campaign"
    MINE = "mine"
    IMPORT = "import"  # propose the task files from the campaign's collections as a pull request


ACTIONS = tuple(Verb)
NO_ARGS = frozenset(
    {Verb.REFRESH, Verb.HELP, Verb.CLOSE_CAMPAIGN, Verb.REOPEN_CAMPAIGN, Verb.MINE, Verb.IMPORT}
)  # line commands that take no arguments
# what a maintainer alone may ask, and what changes a campaign's state
MAINTAINER_VERBS = frozenset(
    {
        Verb.ASSIGN,
        Verb.UNASSIGN,
        Verb.DONE,
        Verb.REOPEN,
        Verb.CLOSE_TASK,
        Verb.REFRESH,
        Verb.CLOSE_CAMPAIGN,
        Verb.REOPEN_CAMPAIGN,
        Verb.IMPORT,
    }
)
STATE_VERBS = frozenset(
    {Verb.CLAIM, Verb.UNCLAIM, Verb.SUBMIT, Verb.ASSIGN, Verb.UNASSIGN, Verb.DONE, Verb.REOPEN, Verb.CLOSE_TASK}
)
STAGES = ("rfc", "code")
_VERBS: dict[str, Verb] = {v.value: v for v in Verb}  # a dict lookup is cheaper than calling the enum


@dataclass(frozen=True)
class Command:
    """One command read from a comment. `user` is a login without "@" (assign/unassign/done)."""

    action: Verb
    tasks: tuple[int, ...] = ()
    stage: str | None = None
    link: str | None = None
    team: str | None = None
    user: str | None = None

    def __post_init__(self) -> None:  # a plain string (a test, a stored ledger text) names its verb
        if type(self.action) is not Verb:
            object.__setattr__(self, "action", _VERBS.get(self.action) or Verb(self.action))

    def as_dict(self) -> dict:
        return {
            "action": self.action.value,
            "tasks": list(self.tasks),
            "stage": self.stage,
            "link": self.link,
            "team": self.team,
            "user": self.user,
        }


@dataclass
class ParseResult:
    commands: list[Command] = field(default_factory=list)
    hints: list[Message] = field(default_factory=list)
    errors: list[Message] = field(default_factory=list)

    def as_dict(self, lang: Lang = "en") -> dict:
        return {
            "commands": [c.as_dict() for c in self.commands],
            "hints": [m.text(lang) for m in self.hints],
            "errors": [m.text(lang) for m in self.errors],
        }


def _clip(text: str, limit: int = MAX_ECHO) -> str:
    """User text to quote back: one line, at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------
# Normalising: what the reader cannot see is not there, look-alikes read as what they look like.

_INVISIBLE = re.compile(
    "[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069]"
)
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


@lru_cache(maxsize=8192)
def _fold_char(c: str) -> str | None:
    folded = unicodedata.normalize("NFKC", c)
    if len(folded) != 1 or folded == c or folded in _LINE_BREAKS or c in _LINE_BREAKS:
        return None
    return folded


def _fold(text: str) -> str:
    """`text` with each character replaced by its one-character NFKC form (length kept)."""
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text
    table = {c: f for c in set(text) if (f := _fold_char(c)) is not None}
    if len(table) > 8:
        return text.translate({ord(c): f for c, f in table.items()})
    for c, f in table.items():  # a few kinds of character: str.replace is much faster than translate
        text = text.replace(c, f)
    return text


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _INVISIBLE.sub("", text) if not text.isascii() and _INVISIBLE.search(text) else text


# ---------------------------------------------------------------------------------------------
# Cleaning: blank what the reader does not see as the author's own words (lengths kept).

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_QUOTE = re.compile(r"[ \t]*(?:(?:[-+*]|\d{1,9}[.)])[ \t]++)*+>")
_HEADING = re.compile(r" {0,3}(?:#{1,6}(?:[ \t]|$)|(?:\*[ \t]*+){3,}$|(?:-[ \t]*+){3,}$|(?:_[ \t]*+){3,}$)")
_LIST_ITEM = re.compile(r"( {0,3})([-+*]|\d{1,9}[.)])( {1,4}|[ \t]*+$)")
_RUN = re.compile(r"`+")
_HTML_OPEN = re.compile(r"<!--|<(?P<tag>pre|code)\b[^<>]*+>", re.IGNORECASE)
_PARA_BREAK = re.compile(r"\n[ \t]*+(?=\n)")
_CLOSE_TAG = {
    "!--": re.compile(r"-->"),
    "pre": re.compile(r"</pre[ \t\n]*+>", re.IGNORECASE),
    "code": re.compile(r"</code[ \t\n]*+>|\n[ \t]*+\n", re.IGNORECASE),
}
_NON_NL = re.compile(r"[^\n]")


def _indent(line: str) -> int:
    """Columns of leading white space (a tab advances to the next multiple of 4)."""
    col = 0
    for ch in line:
        if ch == " ":
            col += 1
        elif ch == "\t":
            col += 4 - col % 4
        else:
            break
    return col


_BLOCK_STARTS = frozenset(" \t`~>-+*_#0123456789")  # what a line that is not plain text starts with


def _blank_blocks(lines: list[str]) -> list[str]:
    """Blank fenced and indented code blocks and block quotes, line by line."""
    out: list[str] = []
    fence: str | None = None
    prev = "blank"  # what the previous line was: blank | para | code | other
    list_indent: int | None = None  # content column of the list item we are in
    for line in lines:
        if fence is not None:
            stripped = line.strip()
            if stripped.startswith(fence) and stripped == stripped[0] * len(stripped) and _indent(line) < 4:
                fence = None
            out.append(" " * len(line))
            prev = "other"
            continue
        if not line.strip():
            out.append(line)
            prev = "blank"
            continue
        if line[0] not in _BLOCK_STARTS:  # the common case: a plain line of text
            if prev == "blank":
                list_indent = None
            out.append(line)
            prev = "para"
            continue
        indent = _indent(line)
        if indent >= 4 and prev != "para":
            inside_list = list_indent is not None and indent >= list_indent
            if not inside_list or indent >= list_indent + 4:  # type: ignore[operator]
                out.append(" " * len(line))
                prev = "code"
                continue
        m = _FENCE.match(line)
        if m and not (m.group(1)[0] == "`" and "`" in line[m.end() :]):
            fence = m.group(1)
            out.append(" " * len(line))
            prev = "other"
            continue
        if _QUOTE.match(line):
            out.append(" " * len(line))
            prev = "other"
            continue
        item = _LIST_ITEM.match(line)
        if item:
            list_indent = len(item.group(1)) + len(item.group(2)) + max(1, len(item.group(3)))
        elif prev == "blank" and list_indent is not None and indent < list_indent:
            list_indent = None
        out.append(line)
        prev = "other" if _HEADING.match(line) else "para"
    return out


_SINGLE_SPAN = re.compile(r"`[^`\n]*+(?:\n(?![ \t]*+\n)[^`\n]*+)*+`")


def _blanked(m: re.Match) -> str:
    span = m.group(0)
    return _NON_NL.sub(" ", span) if "\n" in span else " " * len(span)


def _blank_inline(text: str, fast: bool = True) -> str:
    """Blank code spans, `<code>`/`<pre>` elements and HTML comments, leftmost first.

    `fast=False` never takes the single-backtick shortcut (its reference, for tests).
    """
    if "`" not in text and "<" not in text:
        return text
    if fast and "<" not in text and "``" not in text:
        # single backticks only: a span runs to the next backtick, within its paragraph
        return _SINGLE_SPAN.sub(_blanked, text)
    breaks = [m.start() for m in _PARA_BREAK.finditer(text)]
    starts: list[int] = []
    ends: list[int] = []
    for m in _RUN.finditer(text):
        starts.append(m.start())
        ends.append(m.end())
    # the next run of the same length in the same paragraph closes a code span
    runs = len(starts)
    closer = [-1] * runs
    last: dict[tuple[int, int], int] = {}
    para = len(breaks)
    for i in range(runs - 1, -1, -1):
        while para and breaks[para - 1] > starts[i]:
            para -= 1
        key = (ends[i] - starts[i], para)
        closer[i] = last.get(key, -1)
        last[key] = i
    tags = list(_HTML_OPEN.finditer(text)) if "<" in text else []
    n = len(text)
    spans: list[tuple[int, int]] = []
    i = h = pos = 0
    while True:
        while i < runs and starts[i] < pos:
            i += 1
        while h < len(tags) and tags[h].start() < pos:
            h += 1
        if i == runs and h == len(tags):
            break
        if h < len(tags) and (i == runs or tags[h].start() < starts[i]):
            tag = tags[h]
            close = _CLOSE_TAG[(tag.group("tag") or "!--").lower()].search(text, tag.end())
            end = close.end() if close else n
            spans.append((tag.start(), end))
            pos = end
        elif closer[i] < 0:
            i += 1  # a run with no closer is literal backticks
        else:
            end = ends[closer[i]]
            spans.append((starts[i], end))
            pos = end
    if not spans:
        return text
    parts: list[str] = []
    done = 0
    for start, end in spans:
        parts.append(text[done:start])
        parts.append(_NON_NL.sub(" ", text[start:end]) if text.count("\n", start, end) else " " * (end - start))
        done = end
    parts.append(text[done:])
    return "".join(parts)


def clean_lines(text: str) -> list[str]:
    """The comment's lines, normalised, with code, quotes and HTML comments blanked.

    Line count and each line's length are kept, so positions in a cleaned line are positions in
    the author's line (after invisible characters are dropped).
    """
    lines = _blank_blocks(_normalise(text).split("\n"))
    return _blank_inline("\n".join(lines)).split("\n")


# ---------------------------------------------------------------------------------------------
# Task lists

_D = "[0-9０-９]"
_NO = r"(?:[Nn][Oo]\s*+[.．]?\s*+|[#＃])"
_DASH = r"\s*+(?:[-－~～–—]|到|至)\s*+"
_ITEM_BODY = _NO + "?(?:[-－−](?=" + _D + "))?" + _D + "++(?:" + _DASH + _NO + "?" + _D + "++)?"
_ITEM = re.compile(
    _NO + r"?(?P<neg>[-－−](?=" + _D + r"))?(?P<a>" + _D + r"++)"
    r"(?:" + _DASH + _NO + r"?(?P<b>" + _D + r"++))?"
)
# one item and the separator after it; after a bare space, a number glued to a word is prose
_STEP = re.compile(
    _ITEM.pattern + r"(?P<sep>\s*+(?:[、,，;；/&＆]|和|及|以及|\band\b)\s*+|\s++(?!(?>" + _ITEM_BODY + r")[^\W\d]))?"
)
# a run of plain numbers (an optional minus sign, digits, no range), each followed by a separator
# and another item: read in one step, exactly as the item-by-item loop below would read them
_PLAIN = r"(?:[-－−](?=" + _D + r"))?" + _D + r"++"
_SIMPLE_RUN = re.compile(
    r"(?:" + _PLAIN + r"(?!" + _DASH + _NO + r"?" + _D + r")"
    r"(?:\s*+(?:[、,，;；/&＆]|和|及|以及|\band\b)\s*+|\s++(?!(?>" + _ITEM_BODY + r")[^\W\d]))"
    r"(?=[-－−]?" + _D + r"))++"
)
_PLAIN_TOKEN = re.compile(_PLAIN)
_LEAD = re.compile(r"[\s*_]*+")
_LIST_FIRST = frozenset("*_0123456789０１２３４５６７８９Nn#＃-－−")
_NUMBER_DIGITS = 9  # a number longer than this (leading zeros aside) is too big, never converted


@dataclass(frozen=True)
class _Items:
    tasks: tuple[int, ...]
    errors: tuple[Message, ...]
    end: int
    found: bool  # at least one item was read


def _skip(pattern: re.Pattern, s: str, pos: int = 0) -> int:
    """Where `pattern` (one that matches the empty string) stops matching at `pos`."""
    m = pattern.match(s, pos)
    return m.end() if m else pos


def _read_list(s: str, pos: int, fast: bool = True) -> _Items:
    """Read a task list starting at `pos` (leading spaces/emphasis skipped). Linear in its length.

    `fast=False` reads item by item only (the fast path's reference, for tests).
    """
    if pos < len(s) and s[pos] not in _LIST_FIRST and not s[pos].isspace():
        return _Items((), (), pos, False)  # (a fast answer for the common "no list here")
    pos = _skip(_LEAD, s, pos)
    tasks: set[int] = set()
    errors: list[Message] = []
    more = 0
    seen: set[tuple[str | None, ...]] = set()  # items other than valid numbers already read (a repeated one is read once)
    simple = _SIMPLE_RUN.match(s, pos) if fast else None
    if simple:
        for token in dict.fromkeys(_PLAIN_TOKEN.findall(s, pos, simple.end())):  # each distinct one, in order
            value = int(token) if len(token) <= 4 and token[0] not in "-－−" else _plain_value(token)
            if value is not None and 0 < value <= MAX_TASK_ID:
                tasks.add(value)
            elif (token,) not in seen:
                seen.add((token,))
                if len(errors) < MAX_LIST_ERRORS:
                    errors.append(_plain_problem(token))
                else:
                    more += 1
    m = _STEP.match(s, simple.end() if simple else pos)
    if m is None:  # (never after a simple run: it ends where an item starts)
        return _Items((), (), pos, False)
    step = _STEP.match
    while True:
        neg, a, b, sep = m.group("neg", "a", "b", "sep")
        if b is None and neg is None and len(a) <= 4 and 0 < (n := int(a)) <= MAX_TASK_ID:
            tasks.add(n)  # the common case: one valid number
        elif (key := ((neg or "") + a,) if b is None else (neg, a, b)) not in seen:
            seen.add(key)
            if len(errors) < MAX_LIST_ERRORS:
                errors.extend(_check_item(m, tasks))
            elif neg is not None or _check_item(m, tasks, quiet=True):
                more += 1  # (counted, not listed: one error says how many more)
        end = m.end()
        if sep is None:
            break
        nxt = step(s, end)
        if nxt is None:
            end = m.start("sep")
            break
        m = nxt
    if more:
        errors.append(Message("more_bad_numbers", {"count": more}))
    return _Items(tuple(sorted(tasks)), tuple(errors), end, True)


def _plain_value(token: str) -> int | None:
    """The value of a plain number token, None when negative or too long to be a task."""
    return None if token[0] in "-－−" else _number(token)


def _plain_problem(token: str) -> Message:
    """Why a plain number (`-3`, `0`, `12345`) is no task; what `_check_item` says of it."""
    if token[0] in "-－−":
        return Message("task_negative", {"item": _clip(token, 40)})
    n = _number(token)
    if n is None or n > MAX_TASK_ID:
        return Message("task_too_big", {"item": _clip(token, 40), "max": MAX_TASK_ID})
    return Message("task_zero", {"item": _clip(token, 40)})


def _number(digits: str) -> int | None:
    """The value of a digit string, or None when it is longer than any task number can be."""
    digits = digits.lstrip("0０")
    if len(digits) > _NUMBER_DIGITS:
        return None
    return int(digits) if digits else 0


def _check_item(m: re.Match, tasks: set[int], quiet: bool = False) -> list[Message]:
    """Add the item's tasks to `tasks`, or say why it is not valid (`quiet`: only that it is not)."""
    a = _number(m.group("a"))
    b = _number(m.group("b")) if m.group("b") is not None else None
    code, extra = None, {}
    if m.group("neg"):
        code = "task_negative"
    elif a is None or (m.group("b") is not None and b is None):
        code, extra = "task_too_big", {"max": MAX_TASK_ID}
    elif a == 0 or b == 0:
        code = "task_zero"
    elif b is not None and b - a + 1 > MAX_RANGE:
        code, extra = "range_too_large", {"count": b - a + 1, "max": MAX_RANGE}
    elif a > MAX_TASK_ID or (b is not None and b > MAX_TASK_ID):
        code, extra = "task_too_big", {"max": MAX_TASK_ID}
    elif b is not None and b < a:
        code, extra = "range_reversed", {"low": b, "high": a}
    elif b is None:
        tasks.add(a)
        return []
    else:
        tasks.update(range(a, b + 1))
        return []
    if quiet:
        return [_INVALID]
    item_end = m.end("a") if m.group("b") is None else m.end("b")
    return [Message(code, {"item": _clip(m.string[m.start() : item_end].strip(), 40), **extra})]


_INVALID = Message("more_bad_numbers", {"count": 1})  # (what a quiet check returns; never shown)


def format_tasks(tasks: tuple[int, ...], lang: Lang = "zh") -> str:
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
# Labels (matched on the folded text: full-width forms read as ASCII, e.g. ［ ］ ： ＃)

_OPEN = "[【\\[［]"
_CLOSE = "[】\\]］]"
_LABELS = {
    "取消报名": ("unclaim", None),
    "报名": ("claim", None),
    "续期": ("renew", None),
    "提交提案": ("submit", "rfc"),
    "提交rfc": ("submit", "rfc"),
    "提交作品": ("submit", "code"),
    "提交代码": ("submit", "code"),
    "提交": ("submit", None),
    "提案链接": ("link", "rfc"),
    "rfc链接": ("link", "rfc"),
    "作品链接": ("link", "code"),
    "代码链接": ("link", "code"),
    "pr链接": ("link", "code"),
    "链接": ("field", "link"),
    "队名": ("field", "team"),
    "队伍名称": ("field", "team"),
    "团队名称": ("field", "team"),
    "队伍名": ("field", "team"),
    "序号": ("field", "tasks"),
    "任务序号": ("field", "tasks"),
    "任务编号": ("field", "tasks"),
    "状态": ("field", "status"),
    "我的任务": ("mine", None),
}
_LABEL_ALT = "|".join(sorted((re.escape(k) for k in _LABELS), key=len, reverse=True))
_ZH = re.compile(
    r"(?:\*\*|__)?" + _OPEN + r"\s*+(?P<label>" + _LABEL_ALT + r")\s*+" + _CLOSE + r"(?:\*\*|__)?\s*+(?:[:：]\s*+(?:\*\*|__)?)?",
    re.IGNORECASE,
)
_EN = re.compile(
    r"(?<![\w-])/?(?P<verb>unclaim|claim)\b[ \t]*+[:：]?(?:[ \t]*+(?:the[ \t]++)?tasks?\b[ \t]*+[:：]?)?", re.IGNORECASE
)
_NEAR_LABEL = re.compile(
    r"(?P<label>取消报名|(?<!取消)报名|提交提案|提交作品|提交)(?P<colon>\s*+[:：])?\s*+"
    r"(?=(?:[Nn][Oo]|[#＃])?[.．]?\s*+[0-9０-９])"
)
_NEAR_CLAIM = re.compile(r"(?<!取消)认领(?:任务)?\s*+[:：]?\s*+(?:第\s*+)?(?=(?:[Nn][Oo]|[#＃])?[.．]?\s*+[0-9０-９])")
_UNIT = re.compile(r"\s*+(?:[年月日天周点人位次岁届期%]|个(?!任务|题)|小时|分钟)")
_URL = re.compile(r"https?://[^\s<>\"'`\)）\]】]++", re.IGNORECASE)
_MD_LINK = re.compile(r"\[[^\[\]]*+\]\((https?://[^\s()\[\]<>]++)\)", re.IGNORECASE)
_LOGIN = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
_USER = re.compile(r"@(?P<login>" + _LOGIN + r")(?![\w-])")
_LINE_CMD = re.compile(r"\s*+/(?P<name>[A-Za-z][\w-]*+)(?P<rest>.*)$")
_ARG_GAP = re.compile(r"[\s,，、]*+")
_STATUS_SPLIT = re.compile(r"[&＆、,，+/|；;]|和|\band\b")
_REMARK = re.compile(r"[(（\[［【][^()（）\[\]［］【】]*+[)）\]］】]")
_REMARK_OPEN = re.compile(r"[(（\[［【]")
_STATUS = {
    "报名": (Verb.CLAIM, None),
    "claim": (Verb.CLAIM, None),
    "取消报名": (Verb.UNCLAIM, None),
    "取消": (Verb.UNCLAIM, None),
    "提交": (Verb.SUBMIT, None),
    "提交提案": (Verb.SUBMIT, "rfc"),
    "提交rfc": (Verb.SUBMIT, "rfc"),
    "提交作品": (Verb.SUBMIT, "code"),
    "提交代码": (Verb.SUBMIT, "code"),
    "提交pr": (Verb.SUBMIT, "code"),
}
_STATUS_PREFIX = re.compile("|".join(sorted((re.escape(k) for k in _STATUS), key=len, reverse=True)))
_STATUS_LIKE = re.compile(r"报名|提交|取消|认领|claim|submit|rfc|pr\b", re.IGNORECASE)
_LINE_NAMES = {
    "claim": Verb.CLAIM,
    "unclaim": Verb.UNCLAIM,
    "submit": Verb.SUBMIT,
    "assign": Verb.ASSIGN,
    "unassign": Verb.UNASSIGN,
    "done": Verb.DONE,
    "reopen": Verb.REOPEN,
    "close-task": Verb.CLOSE_TASK,
    "close_task": Verb.CLOSE_TASK,
    "closetask": Verb.CLOSE_TASK,
    "status": Verb.STATUS,
    "refresh": Verb.REFRESH,
    "help": Verb.HELP,
    "renew": Verb.RENEW,
    "close-campaign": Verb.CLOSE_CAMPAIGN,
    "reopen-campaign": Verb.REOPEN_CAMPAIGN,
    "mine": Verb.MINE,
    "import": Verb.IMPORT,
}
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


def _statuses(value: str) -> tuple[list[tuple[Verb, str | None]], list[str]]:
    """The statuses a 【状态】 value names, and the parts that name none but look like one.

    Remarks in brackets are dropped first (an unclosed bracket runs to the end); each part then
    counts by the longest status word it starts with (`报名了` is 报名).
    """
    value = _REMARK.sub(" ", value)
    opened = _REMARK_OPEN.search(value)
    if opened:
        value = value[: opened.start()]
    found: list[tuple[Verb, str | None]] = []
    unknown: list[str] = []
    seen: set[str] = set()
    for part in _STATUS_SPLIT.split(value):
        key = "".join(part.split()).lower().strip("*")
        if not key or key in seen:
            continue
        seen.add(key)
        m = _STATUS_PREFIX.match(key)
        if m and not (key[m.end() : m.end() + 1].isascii() and key[m.end() : m.end() + 1].isalnum()):
            found.append(_STATUS[m.group(0)])
        else:
            unknown.append(part.strip())
    if found:
        unknown = [u for u in unknown if _STATUS_LIKE.search(u)]
    return found, unknown


# ---------------------------------------------------------------------------------------------
# The parser


@lru_cache(maxsize=64)
def _mention(bot_login: str) -> re.Pattern:
    login = bot_login.removesuffix("[bot]")
    return re.compile(r"\s*+@" + re.escape(login) + r"(?![\w-])[\s,:：]*+/?(?P<name>[A-Za-z][\w-]*+)(?P<rest>.*)$", re.IGNORECASE)


@lru_cache(maxsize=1024)
def _close_command(name: str) -> str | None:
    """The command name `name` is a misspelling of, if any."""
    if len(name) > 20:
        return None
    close = difflib.get_close_matches(name, list(_LINE_NAMES), n=1, cutoff=0.75)
    return _LINE_NAMES[close[0]] if close else None


MAX_CLOSE_LOOKUPS = 20  # unknown "/" words per comment checked for a misspelt command


class _Reader:
    """Accumulates commands (with positions), hints and errors for one comment."""

    def __init__(self, bot_login: str | None):
        self.cmds: list[tuple[int, Command]] = []
        self.hints: list[Message] = []
        self.errors: list[Message] = []
        self.links: list[tuple[int, str | None, str]] = []  # (pos, kind rfc|code|None, url)
        self.block: dict[str, tuple[int, str]] = {}
        self.mention = _mention(bot_login) if bot_login else None
        self.forms = 0  # labels, verbs and line commands read so far (bounded per comment)
        self.close_matches = 0  # unknown "/" words looked up for a hint (bounded per comment)

    def spend(self) -> bool:
        """Count one form read; False (and one error) once the comment has had MAX_FORMS."""
        self.forms += 1
        if self.forms == MAX_FORMS + 1:
            self.errors.append(Message("too_many_commands", {"max": MAX_FORMS}))
        return self.forms <= MAX_FORMS

    # -- line commands -------------------------------------------------------------------------
    def line_command(self, pos: int, name: str, rest: str, orig_rest: str) -> bool:
        """Handle a "/" or "@bot" line. Returns False when the word is no command at all."""
        action = _LINE_NAMES.get(name.lower())
        if action is None and name.lower() == "my" and _MY_TASKS_REST.match(rest):
            action = Verb.MINE  # `/my tasks`, `@bot my tasks`
        if action is None:
            if self.close_matches >= MAX_CLOSE_LOOKUPS:
                return False
            self.close_matches += 1
            close = _close_command(name.lower())
            if close:
                self.hints.append(Message("unknown_command", {"found": "/" + name, "suggestion": "/" + close}))
                return True
            return False
        if not self.spend():
            return True
        if action in NO_ARGS:
            self.add(pos, Command(action))
            return True
        stage = None
        if action == "submit":
            m = re.match(r"\s*+(rfc|code)\b", rest, re.IGNORECASE)
            if m:
                stage, rest, orig_rest = m.group(1).lower(), rest[m.end() :], orig_rest[m.end() :]
        users, items = self._args(rest)
        self.errors.extend(items.errors)
        if items.errors and not items.tasks:
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
        link = _url_in(orig_rest[items.end :]) if action == "submit" else None
        self.add(pos, Command(action, items.tasks, stage=stage, link=link, user=user))
        return True

    def _args(self, rest: str) -> tuple[list[str], _Items]:
        users: list[str] = []
        tasks: set[int] = set()
        errors: list[Message] = []
        pos, end = 0, 0
        while True:
            pos = _skip(_ARG_GAP, rest, pos)
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
    def participant_line(self, pos: int, line: str, orig: str) -> None:
        """Read one line; `line` is the folded text matched against, `orig` the author's (same length)."""
        found_any = False
        matches = list(_ZH.finditer(line))
        # the English scanner must not read inside field values (team names, links)
        en_limit = len(line)
        for i, m in enumerate(matches):
            if not self.spend():
                return
            label = m.group("label").lower()
            kind, sub = _LABELS[label]
            nxt = matches[i + 1].start() if i + 1 < len(matches) else len(line)
            found_any = True
            if kind == "mine":
                self.add(pos, Command(Verb.MINE))
            elif kind in ("claim", "unclaim", "submit", "renew"):
                items = _read_list(line, m.end())
                self.errors.extend(items.errors)
                if items.tasks:
                    link = _url_in(orig[items.end : nxt]) if kind == "submit" else None
                    self.add(pos, Command(Verb(kind), items.tasks, stage=sub, link=link))
                elif not items.errors:
                    self.hints.append(
                        Message("label_no_number", {"label": m.group("label"), "example": _zh_label(kind, sub) + "：3"})
                    )
            else:
                en_limit = min(en_limit, m.start())
                value = orig[m.end() :]
                if kind == "link":
                    self.link_line(pos, sub, value, m.group("label"))
                else:
                    self.field(pos, str(sub), value, m.group("label"))
                break  # a field's value runs to the end of the line
        zh_starts = [z.start() for z in matches]
        first = len(line) - len(line.lstrip())
        for m in _EN.finditer(line, 0, en_limit):
            k = bisect_right(zh_starts, m.start()) - 1
            if k >= 0 and m.start() < matches[k].end():
                continue
            if not self.spend():
                return
            verb = m.group("verb").lower()
            items = _read_list(line, m.end())
            if items.errors:
                found_any = True
                self.errors.extend(items.errors)
            if items.tasks:
                found_any = True
                self.add(pos, Command(Verb(verb), items.tasks))
            elif not items.errors:
                after = line[m.end() : m.end() + 8].lstrip().lower()
                at_start = first >= m.start() or line[first] == "@"
                if (
                    at_start
                    or after.startswith(("no", "#"))
                    or m.group(0).startswith("/")
                    or m.group(0).lower().endswith(("task", "tasks"))
                ):
                    self.hints.append(Message("claim_no_number", {"command": verb, "example": f"{verb} No.3"}))
                    found_any = True
        if not found_any:
            self.near_misses(line, orig)

    def near_misses(self, line: str, orig: str) -> None:
        question = "?" in line or "？" in line
        for m in _NEAR_LABEL.finditer(line):
            if m.group("colon") is None and question:
                continue
            if not self.spend():
                return
            items = _read_list(line, m.end())
            if not items.tasks or (m.group("colon") is None and _UNIT.match(line, items.end)):
                continue
            kind, sub = _LABELS[m.group("label")]
            suggestion = render_command(Command(Verb(kind), items.tasks, stage=sub))
            self.hints.append(
                Message("near_miss_no_brackets", {"found": _clip(orig[m.start() : items.end]), "suggestion": suggestion})
            )
        if question:
            return
        for m in _NEAR_CLAIM.finditer(line):
            if not self.spend():
                return
            items = _read_list(line, m.end())
            if not items.tasks or _UNIT.match(line, items.end):
                continue
            self.hints.append(
                Message(
                    "near_miss_free_form",
                    {"found": _clip(orig[m.start() : items.end]), "suggestion": render_command(Command(Verb.CLAIM, items.tasks))},
                )
            )

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
        tvalue = block["tasks"][1]
        items = _read_list(_fold(tvalue), 0)
        self.errors.extend(items.errors)
        if not items.tasks:
            if not items.errors:
                self.hints.append(Message("label_no_number", {"label": "序号", "example": "【序号】：3"}))
            return
        spos, svalue = block["status"]
        found, unknown = _statuses(_fold(svalue))
        for part in unknown:
            self.hints.append(Message("team_status_unknown", {"found": _clip(part)}))
        for action, stage in found:
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
            while p < len(order) and (
                cmds[order[p]][0] <= lpos or order[p] not in free or cmds[order[p]][1].stage not in fits[kind]
            ):
                p += 1
            pointers[kind] = p
            if p == len(order):
                self.hints.append(Message("link_without_submit", {"label": _LINK_LABEL[kind]}))
                continue
            free.discard(order[p])
            given[order[p]] = (kind, url)
        for i, (kind, url) in given.items():
            cpos, c = cmds[i]
            cmds[i] = (cpos, Command(Verb.SUBMIT, c.tasks, stage=c.stage or kind, link=url))


_LINK_LABEL = {"rfc": "【提案链接】", "code": "【作品链接】", None: "【链接】"}
_EXAMPLES = {
    "claim": "/claim 3",
    "unclaim": "/unclaim 3",
    "submit": "/submit rfc 3 https://…",
    "assign": "/assign @user 12 13",
    "unassign": "/unassign @user 12",
    "done": "/done 12 @user",
    "reopen": "/reopen 12",
    "close-task": "/close-task 12",
    "status": "/status 12",
    "refresh": "/refresh",
    "help": "/help",
    "renew": "/renew 3",
    "close-campaign": "/close-campaign",
    "reopen-campaign": "/reopen-campaign",
    "mine": "/mine",
    "import": "/import",
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
    whole = _fold("\n".join(lines))
    folded = whole.split("\n")
    worth, strict = _worth(bot_login)
    line_cmd, mention = _LINE_CMD.match, reader.mention
    at, pos, n = 0, 0, len(whole)  # `at`: offset in `whole` where line `pos` starts
    while reader.forms <= MAX_FORMS:
        # the next line that may hold a command (others cannot); once the look-ups for misspelt
        # commands are spent, a "/" line needs a command's name to be worth reading
        hit = (strict if reader.close_matches >= MAX_CLOSE_LOOKUPS else worth)(whole, at)
        if hit is None:
            break
        start = max(at, whole.rfind("\n", at, hit.start()) + 1)
        pos += whole.count("\n", at, start)
        line, orig = folded[pos], lines[pos]
        m = line_cmd(line)
        if m is None and mention is not None:
            m = mention.match(line)
        is_command = m is not None and reader.line_command(pos, m.group("name"), m.group("rest"), orig[m.start("rest") :])
        if not is_command and _MY_TASKS.match(line):
            if reader.spend():
                reader.add(pos, Command(Verb.MINE))
        elif not is_command and _CANDIDATE.search(line):
            reader.participant_line(pos, line, orig)
        at = start + len(line) + 1
        pos += 1
        if at > n:
            break
    reader.flush()
    reader.attach_links()
    commands = list(dict.fromkeys(cmd for _, cmd in sorted(reader.cmds, key=lambda pc: pc[0])))
    hints = list(dict.fromkeys(reader.hints))
    errors = list(dict.fromkeys(reader.errors))
    if not commands and not errors and _DIGIT.search(whole):
        hints.extend(_bare_list_hints(folded))
    return ParseResult(commands, hints, errors)


# a line without any of these holds no participant command and no near miss
_CANDIDATE = re.compile(r"[【\[［]|claim|报名|提交|认领", re.IGNORECASE)
# `my tasks` alone on its line (a question mark or full stop after it is fine): the en form of /mine
_MY_TASKS = re.compile(r"[ \t*_]*+my[ \t]++tasks?+[ \t]*+[?？.。!！]?+[ \t*_]*+$", re.IGNORECASE)
_MY_TASKS_REST = re.compile(r"[ \t]++tasks?+[ \t]*+[?？.。!！]?+[ \t]*+$", re.IGNORECASE)


@lru_cache(maxsize=64)
def _worth(bot_login: str | None) -> tuple[Callable[[str, int], re.Match | None], Callable[[str, int], re.Match | None]]:
    """Searches for the next line that may hold a command: one that starts with "/" (or
    "@bot_login") or holds a candidate word; the strict one wants a command's name after "/"."""
    names = "|".join(sorted(map(re.escape, _LINE_NAMES), key=len, reverse=True))
    at_bot = "|@" + re.escape(bot_login.removesuffix("[bot]")) + r"(?![\w-])" if bot_login else ""
    words = r"|[【\[［]|claim|报名|提交|认领|my[ \t]++tasks"
    flags = re.IGNORECASE | re.MULTILINE
    return (
        re.compile(r"^[^\S\n]*+(?:/" + at_bot + ")" + words, flags).search,
        re.compile(r"^[^\S\n]*+(?:/(?:" + names + r")(?![\w-])" + at_bot + ")" + words, flags).search,
    )


_DIGIT = re.compile(r"[0-9０-９]")
_BARE_LEAD = re.compile(r"[\s*_]*+")
_BARE_TRAIL = frozenset("*_。.！!")


def _bare_list_hints(lines: list[str]) -> list[Message]:
    for line in lines:
        if not _DIGIT.search(line):
            continue
        start = _skip(_BARE_LEAD, line)
        end = len(line)
        while end > start and (line[end - 1] in _BARE_TRAIL or line[end - 1].isspace()):
            end -= 1
        body = line[start:end]
        items = _read_list(body, 0)
        if items.found and not items.errors and items.tasks and items.end == len(body):
            return [
                Message(
                    "near_miss_bare_numbers",
                    {"found": _clip(body.strip()), "suggestion": render_command(Command(Verb.CLAIM, items.tasks))},
                )
            ]
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
    if cmd.link is not None and (cmd.action not in ("claim", "unclaim", "submit") or _url_in(cmd.link) != cmd.link):
        return "link is a URL on claim/unclaim/submit"
    if cmd.team is not None:
        if cmd.action not in ("claim", "unclaim", "submit"):
            return "team is only on claim/unclaim/submit"
        field_line = "【队名】：" + cmd.team
        m = _ZH.match(_fold(field_line))
        if (
            m is None
            or not cmd.team
            or clean_lines(field_line) != [field_line]
            or _field_value(field_line[m.end() :]) != cmd.team
        ):
            return "team name must be one plain line that reads back as itself"
    return None


def render_command(cmd: Command, lang: Lang = "zh") -> str:
    """The canonical text of `cmd`: `parse_comment(render_command(cmd)).commands == [cmd]`.

    Participant commands render in the zh bracket form (lang="zh") or the "/" form (lang="en");
    team commands always render as a zh team block (there is no en team format).
    """
    problem = command_problem(cmd)
    if problem:
        raise ValueError(f"cannot render {cmd!r}: {problem}")
    a = cmd.action
    if cmd.team is not None or (a in ("claim", "unclaim") and cmd.link):
        status = {"claim": "报名", "unclaim": "取消报名"}.get(a) or {"rfc": "提交提案", "code": "提交作品", None: "提交"}[
            cmd.stage
        ]
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
