"""PR title -> task reference: which campaign, which tasks, partial or revert. Pure, no I/O.

Grammar
=======
::

    title     := [ revert ] text
    revert    := "Revert" [":"] [ '"' ] inner [ '"' ]      case-insensitive; inner is parsed too
    reference := open key [tracks] [close] [Tracks] [":" | "-"] no list   anywhere in the title
               | key [close] [":" | "-"] no list           at the title's start
               | key [","|"."] no list                     later in an unbracketed title, when
                                                            "No" is written and the list has no range
    open      := 【 [ ［     close := 】 ] ［     (mixed pairs such as `[Hackathon 8th No.33】` are fine)
    key       := [ "PaddlePaddle" | "Paddle" ] hackathon [ edition ] { track }
               | a campaign key the caller knows (`keys=`), e.g. "Docs Sprint"
               | inside a bracket: any words directly followed by No (`【Docs Sprint No.5,6 …】`)
    hackathon := "Hackathon" (any case), or a near miss of it such as "Hackthon" (a *typo*)
    edition   := digits [ "st" | "nd" | "rd" | "th" ]  |  第 N 期 (N in digits or Chinese)
    track     := a word of letters that is not "No", e.g. Sprint (at most 4)
    Tracks    := capitalised words after the bracket: `【Hackathon 8th】Fundable Projects No.3`
    no        := "No" [ "." | "．" | ":" ]   any case, e.g. No.85, NO.85, no 85, No．85; or "#85"
    list      := the task list of bot.commands: 17, 24, 33-34 / 17、24 / No.17, No.24

Whitespace runs are collapsed first, and every look-around is bounded, so parsing takes time
linear in the title's length (tests/test_titles.py checks titles of 64 KiB).

So a title that only mentions `No.111-127` away from a `Hackathon ... No.` reference (say
"Update status of tasks No.111-127") is not a task PR: `key` is None and `tasks` empty.

Result (`TitleRef`):
- `key`: the campaign key text as written, whitespace collapsed, a misspelt "Hackathon" corrected
  ("PaddlePaddle Hackathon 9th Sprint", "Hackathon" for an edition-less title); None if no reference.
- `tasks`: sorted, unique. Invalid items (0, backwards or over-long ranges) are left out with a hint.
- `part`: the title marks a partial PR: `-part`, `-part2`, `- part 2`, `_part`, `(part 1)`.
- `revert`: the title is a revert (`Revert "..."`); callers never credit a revert.
- `hints`: a misspelt "Hackathon" (the hint shows the corrected title; the reference still
  counts, so nobody loses a task to a typo), a missing "No." before the number (only when an
  edition was read first, so an edition is never offered back as a task), invalid numbers, and a
  free-text reference (`RFC for task 12 of the PaddlePaddle Hackathon 3`) with the title to write.

Bare numbers (no "No." before them). A number right after the key that *cannot be an edition*
(above `MAX_EDITION`, below 1000: not a year) is a task reference, with a hint showing the
title with "No." (`title_bare_number`): `[Hackathon 312] add …`, `【Hackathon 9th 85】…`,
`Hackathon 76 add …` and, later in a plain title, `upload hackathon 76` (not a range, and not a
count: `hackathon 120 tasks`). It must come before any closing bracket (`【Hackathon 9th】 25 RFCs
merged` is not one). A bare number that may be an edition (`【Hackathon 6】 update`) is never taken
nor offered as a task; after an edition (`Hackathon 9th 3 …`) it gets the missing-"No." hint only.

`key_matches(title_key, campaign_key)` compares keys case- and space-insensitively, ignores a
"PaddlePaddle "/"Paddle " prefix and the track words after the edition, and compares editions by
number ("9th" == "9" == "第九期"). An edition-less key on either side matches any edition: a repo
with several campaigns must then disambiguate (the caller's job; with one campaign it is simply
that one). When the campaign key itself has track words, the title must carry the same track
words. Keys that are not Hackathon-shaped are compared as whole normalised strings.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from bot.core.commands import MAX_RANGE, _Items, _read_list
from bot.core.messages import Message
from bot.core.texts import Lang

MAX_EDITION = 20  # a bare number above this cannot be a campaign's edition (the 9th ran in 2025)
_OPEN = "[【\\[［]"
_CLOSE = "[】\\]］]"
_WORD = r"[A-Za-z][A-Za-z-]*"
_CN_NUM = "零〇一二两三四五六七八九十百"
_HACK_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{6,12}(?![A-Za-z])")
_BEFORE = re.compile(r"(?P<open>" + _OPEN + r")? ?(?P<pp>(?:PaddlePaddle|Paddle) ?)?$", re.IGNORECASE)
# an edition: 第N期, an ordinal (9th, 76th), or a bare number that can be one (up to MAX_EDITION: `Hackathon 6`)
_EDITION_TEXT = (
    r"(?:第 ?(?P<cn>\d{1,3}|[" + _CN_NUM + r"]{1,4}) ?期"
    r"|(?P<edition>\d{1,3}(?=st|nd|rd|th)|0?[1-9](?![0-9])|1[0-9](?![0-9])|20(?![0-9]))(?:st|nd|rd|th)?(?![A-Za-z0-9]))"
)
_NO = r"(?:(?P<no>[Nn][Oo](?![A-Za-z]) ?[.．:：]? ?)(?=[#＃0-9０-９])|(?=[#＃]|[0-9０-９]+(?![0-9０-９A-Za-z])))"
_TAIL = re.compile(
    r"(?: ?" + _EDITION_TEXT + r")?"
    r"(?P<tracks>(?: (?![Nn][Oo](?![A-Za-z]))" + _WORD + r"){0,4})"
    r" ?(?P<dot>[.,，])?"
    r" ?(?:(?P<close>" + _CLOSE + r")(?P<tracks2>(?: ?[A-Z][A-Za-z-]*(?<![Nn][Oo])){0,3}))?"
    r" ?[:：\-–]? ?" + _NO,
)
# a key the caller knows, or any words inside a bracket, directly before "No"
_KNOWN_TAIL = re.compile(r" ?(?:" + _CLOSE + r")? ?[:：\-–]? ?" + _NO)
_BRACKET_KEY = re.compile(_OPEN + r" ?(?P<key>[A-Za-z][A-Za-z0-9 .&+\-]{0,40}?) ?(?=[Nn][Oo] ?[.．:：]? ?[0-9])")
_FREE_TASK = re.compile(
    r"(?:\btask|任务|题目|赛题) ?#? ?(?P<n>\d{1,4})(?![0-9.])(?! ?[-~～–—,、])|第 ?(?P<n2>\d{1,4}) ?(?:号|个)? ?(?:任务|题)",
    re.IGNORECASE,
)
_REVERT = re.compile(r"^ *revert\b *[:：]? *", re.IGNORECASE)
_PART = re.compile(r"(?:[-_–—] ?part ?\d*|[(（] ?part ?\d* ?[)）])(?![A-Za-z])", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_BARE_LIMIT = 1000  # from here on a bare number is a year or an id, not a task (`Hackathon 2024`)
# a bare number followed by one of these counts something (`hackathon 120 tasks`): not a task reference
_COUNTED = re.compile(
    r" ?(?:(?:tasks?|issues?|days?|weeks?|people|persons|participants|teams?|prs?|pull requests?|rfcs)(?![A-Za-z])"
    r"|个|项|人|天|名|道|周|位|支)",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def _is_hackathon(word: str) -> tuple[bool, bool]:
    """(is it the word Hackathon, is it a misspelling of it)."""
    low = word.lower()
    if low == "hackathon":
        return True, False
    if low[0] == "h" and difflib.SequenceMatcher(None, low, "hackathon").ratio() >= 0.8:
        return True, True
    return False, False


@dataclass(frozen=True)
class TitleRef:
    key: str | None
    tasks: tuple[int, ...]
    part: bool
    revert: bool
    hints: tuple[Message, ...]

    def as_dict(self, lang: Lang = "en") -> dict:
        return {
            "key": self.key,
            "tasks": list(self.tasks),
            "part": self.part,
            "revert": self.revert,
            "hints": [h.text(lang) for h in self.hints],
        }


def _has_range(text: str, start: int, end: int) -> bool:
    return bool(re.search(r"\d ?(?:[-－~～–—]|到|至) ?(?:[Nn][Oo] ?[.．]? ?)?\d", text[start:end]))


def _hackathon_ref(text: str, hints: list[Message]) -> tuple[str, tuple[int, ...]] | None:
    """The first Hackathon-shaped reference; hints for near misses are appended to `hints`."""
    for word in _HACK_WORD.finditer(text):
        is_hack, typo = _is_hackathon(word.group(0))
        if not is_hack:
            continue
        window = max(0, word.start() - 16)  # bounded look-back: no quadratic time on long input
        before = _BEFORE.search(text, window, word.start())
        bracketed = before is not None and before.group("open") is not None
        at_start = before is not None and not text[: before.start()].strip(" \"'“”*`")
        tail = _TAIL.match(text, word.end())
        if tail is None:
            continue
        if not bracketed and tail.group("close") and tail.group("tracks2"):
            continue  # "Hackathon 9th] Fundable No.3" without an opening bracket: not a form people use
        mid = not bracketed and not at_start
        bare = tail.group("no") is None and text[tail.end() : tail.end() + 1] not in ("#", "＃")
        if mid and (tail.group("close") or (tail.group("no") is None and not bare)):
            continue  # later in a plain title only "… Hackathon 7th No.12" (or a bare task number) counts
        key_start = before.start("pp") if before is not None and before.group("pp") else word.start()
        key = text[key_start : tail.end("tracks")].strip()
        if tail.group("tracks2"):
            key = f"{key} {tail.group('tracks2').strip()}"
        fixed = text
        if typo:
            key = key.replace(word.group(0), "Hackathon", 1)
            fixed = text[: word.start()] + "Hackathon" + text[word.end() :]
        shift = len(fixed) - len(text)
        edition = tail.group("edition") or tail.group("cn")
        if bare:
            items = _read_list(text, tail.end())
            at = tail.end() + shift
            counted = _COUNTED.match(text, items.end) is not None  # "【Hackathon 9th】 25 RFCs merged"
            if _bare_tasks(tail, items) and not counted and not (mid and _has_range(text, tail.end(), items.end)):
                # "[Hackathon 312] add …": a number that cannot be an edition is the task
                if typo:
                    hints.append(Message("title_typo", {"found": word.group(0), "suggestion": fixed}))
                hints.append(
                    Message(
                        "title_bare_number",
                        {
                            "found": text[(before.start() if before else word.start()) : items.end].strip(),
                            "item": ", ".join(str(t) for t in items.tasks),
                            # the key, " No.", the list: `Hackathon-76 add` -> `Hackathon No.76 add`
                            "suggestion": fixed[: tail.end("tracks") + shift] + " No." + fixed[at:],
                        },
                    )
                )
                return key, items.tasks
            # "【Hackathon 9th 3】": a number with no "No." before it. Without an edition first the
            # number may well be the edition ("【PaddlePaddle Hackathon 6】 合集.md"): no hint then.
            if edition is None or mid or counted or any(h.code == "title_missing_no" for h in hints):
                continue  # (one such hint is enough; more would only repeat it)
            hints.append(
                Message(
                    "title_missing_no",
                    {
                        "found": text[(before.start() if before else word.start()) : items.end].strip(),
                        "suggestion": fixed[:at] + "No." + fixed[at:],
                    },
                )
            )
            continue
        items = _read_list(text, tail.end())
        if mid and _has_range(text, tail.end(), items.end):
            continue  # "Fix docs for Hackathon 9th No.111-127": housekeeping over a range of tasks
        if typo:
            hints.append(Message("title_typo", {"found": word.group(0), "suggestion": fixed}))
        for err in items.errors:
            hints.append(Message("title_bad_task", {"item": err.params.get("item", ""), "max": MAX_RANGE}))
        return key, items.tasks
    return None


def _bare_tasks(tail: re.Match[str], items: _Items) -> bool:
    """Is the bare list after a key a task reference? Only numbers that cannot be editions, before
    any closing bracket."""
    return (
        not tail.group("close")
        and bool(items.tasks)
        and not items.errors
        and all(MAX_EDITION < t < _BARE_LIMIT for t in items.tasks)
    )


def _known_key_ref(text: str, keys: Iterable[str], hints: list[Message]) -> tuple[str, tuple[int, ...]] | None:
    """A reference by a campaign key the caller knows (not Hackathon-shaped), e.g. "Docs Sprint No.5"."""
    low = text.lower()
    for k in keys:
        k = _SPACES.sub(" ", k).strip()
        if not k or _key_parts(k) is not None:
            continue
        pos = low.find(k.lower())
        while pos != -1:
            before = text[max(0, pos - 2) : pos].strip()
            ok_start = pos == 0 or before[-1:] in ("【", "[", "［") or not text[:pos].strip(" \"'“”*`")
            tail = _KNOWN_TAIL.match(text, pos + len(k))
            if (
                tail is not None
                and (ok_start or tail.group("no"))
                and (tail.group("no") or text[tail.end() : tail.end() + 1] in ("#", "＃"))
            ):
                items = _read_list(text, tail.end())
                for err in items.errors:
                    hints.append(Message("title_bad_task", {"item": err.params.get("item", ""), "max": MAX_RANGE}))
                return text[pos : pos + len(k)], items.tasks
            pos = low.find(k.lower(), pos + 1)
    return None


def _bracket_ref(text: str, hints: list[Message]) -> tuple[str, tuple[int, ...]] | None:
    """`【Docs Sprint No.5,6 …】`: any words inside a bracket directly followed by No."""
    for m in _BRACKET_KEY.finditer(text):
        key = m.group("key").strip()
        if not re.search(r"[A-Za-z]{2}", key):
            continue
        tail = _KNOWN_TAIL.match(text, m.end())
        if tail is None or tail.group("no") is None:
            continue
        items = _read_list(text, tail.end())
        if not items.tasks:
            continue
        for err in items.errors:
            hints.append(Message("title_bad_task", {"item": err.params.get("item", ""), "max": MAX_RANGE}))
        return key, items.tasks
    return None


def _free_text_hint(text: str) -> Message | None:
    """`RFC for task 12 of the PaddlePaddle Hackathon 3`: name the task, suggest the usual form."""
    hack = next((w for w in _HACK_WORD.finditer(text) if _is_hackathon(w.group(0))[0]), None)
    if hack is None:
        return None
    m = _FREE_TASK.search(text)
    if m is None:
        return None
    n = int(m.group("n") or m.group("n2"))
    if n < 1:
        return None
    ed = re.match(r" ?" + _EDITION_TEXT, text[hack.end() : hack.end() + 12])
    key = "Hackathon"
    if ed:
        key += f" {_ordinal(int(ed.group('edition')) if ed.group('edition') else _cn_int(ed.group('cn')))}"
    return Message("title_free_form", {"found": m.group(0).strip(), "suggestion": f"【{key} No.{n}】{text}"})


def _ordinal(n: int | None) -> str:
    if n is None:
        return ""
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


_CN = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _cn_int(text: str | None) -> int | None:
    """'六' -> 6, '十二' -> 12, '二十' -> 20, '12' -> 12."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    total, digit = 0, None
    for c in text:
        if c in _CN:
            digit = _CN[c]
        elif c == "十":
            total += (1 if digit is None else digit) * 10
            digit = None
        elif c == "百":
            total += (1 if digit is None else digit) * 100
            digit = None
        else:
            return None
    return total + (digit or 0)


MAX_TITLE = 1024


def parse_title(title: str, keys: Iterable[str] = ()) -> TitleRef:
    """Read a PR title; see the module docstring for the grammar.

    `keys`: the campaign keys the caller knows; a key that is not Hackathon-shaped ("Docs Sprint")
    is then also read at the title's start or before "No" (`Docs Sprint No.5 fix`).
    """
    # GitHub keeps a title to 256 characters; a longer one (a forged payload) is read only this far.
    text = _SPACES.sub(" ", title[:MAX_TITLE]).strip()
    revert = False
    m = _REVERT.match(text)
    if m:
        revert = True
        text = text[m.end() :].strip().strip('"“”').strip()
    part = bool(_PART.search(text))
    hints: list[Message] = []
    found = _hackathon_ref(text, hints) or _known_key_ref(text, keys, hints) or _bracket_ref(text, hints)
    if found is not None:
        return TitleRef(found[0], found[1], part, revert, tuple(hints))
    if not hints:
        free = _free_text_hint(text)
        if free is not None:
            hints.append(free)
    return TitleRef(None, (), part, revert, tuple(hints))


_EDITION = re.compile(r"^(\d+)(?:st|nd|rd|th)?$")
_CN_EDITION = re.compile(r"^第 ?(\d+|[" + _CN_NUM + r"]+) ?期$")


def _key_parts(key: str) -> tuple[str, int | None, tuple[str, ...]] | None:
    flat = _SPACES.sub(" ", key).strip().lower()
    flat = re.sub(r"(第) ?(\S+?) ?(期)", r" \1\2\3 ", flat).strip()
    words = _SPACES.sub(" ", flat).split(" ")
    if words and words[0] in ("paddlepaddle", "paddle", "飞桨"):
        words = words[1:]
    if not words or not words[0]:
        return None
    # "Hackathon9th" written without a space
    m = re.match(r"^([a-z]+?)(\d+(?:st|nd|rd|th)?)$", words[0])
    if m:
        words = [m.group(1), m.group(2), *words[1:]]
    if not _is_hackathon(words[0])[0]:
        return None
    edition = None
    rest = words[1:]
    em = _EDITION.match(rest[0]) if rest else None
    cm = _CN_EDITION.match(rest[0]) if rest else None
    if em:
        edition = int(em.group(1))
        rest = rest[1:]
    elif cm:
        edition = _cn_int(cm.group(1))
        rest = rest[1:]
    return "hackathon", edition, tuple(rest)


def key_matches(title_key: str | None, campaign_key: str) -> bool:
    """Does a title's key text belong to the campaign whose key is `campaign_key`?"""
    if not title_key:
        return False
    t, c = _key_parts(title_key), _key_parts(campaign_key)
    if t is None or c is None:

        def norm(s: str) -> str:
            s = _SPACES.sub(" ", s).strip().lower()
            for p in ("paddlepaddle ", "paddle "):
                s = s.removeprefix(p)
            return s

        return norm(title_key) == norm(campaign_key)
    if t[1] is not None and c[1] is not None and t[1] != c[1]:
        return False
    return not (c[2] and t[2] != c[2])
