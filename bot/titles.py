"""PR title -> task reference: which campaign, which tasks, partial or revert. Pure, no I/O.

Grammar
=======
::

    title     := [ revert ] text
    revert    := "Revert" [":"] [ '"' ] inner [ '"' ]      case-insensitive; inner is parsed too
    reference := open ws key ws [close] ws [":" | "-"] ws no list      anywhere in the title
               | key ws [close] ws [":" | "-"] ws no list               only at the title's start
    open      := 【 [ ［     close := 】 ] ［     (mixed pairs such as `[Hackathon 8th No.33】` are fine)
    key       := [ "PaddlePaddle" ] hackathon [ edition ] { track }
    hackathon := "Hackathon" (any case), or a near miss of it such as "Hackthon" (a *typo*)
    edition   := digits [ "st" | "nd" | "rd" | "th" ]          e.g. 9th, 4
    track     := a word of letters that is not "No", e.g. Sprint, Fundable Projects (at most 4)
    no        := "No" [ "." | "．" | ":" ]   any case, e.g. No.85, NO.85, no 85, No．85; or "#85"
    list      := the task list of bot.commands: 17, 24, 33-34 / 17、24 / No.17, No.24

So a title that only mentions `No.111-127` away from a `Hackathon ... No.` reference (say
"Update status of tasks No.111-127") is not a task PR: `key` is None and `tasks` empty.

Result (`TitleRef`):
- `key`: the campaign key text as written, whitespace collapsed, a misspelt "Hackathon" corrected
  ("PaddlePaddle Hackathon 9th Sprint", "Hackathon" for an edition-less title); None if no reference.
- `tasks`: sorted, unique. Invalid items (0, backwards or over-long ranges) are left out with a hint.
- `part`: the title marks a partial PR: `-part`, `-part2`, `- part 2`, `_part`, `(part 1)`.
- `revert`: the title is a revert (`Revert "..."`); callers never credit a revert.
- `hints`: a misspelt "Hackathon" (the hint shows the corrected title; the reference still
  counts, so nobody loses a task to a typo), a missing "No." before the number, invalid numbers.

`key_matches(title_key, campaign_key)` compares keys case- and space-insensitively, ignores a
"PaddlePaddle " prefix and the track words after the edition, and compares editions by number
("9th" == "9"). An edition-less key on either side matches any edition: a repo with several
campaigns must then disambiguate (the caller's job; with one campaign it is simply that one).
When the campaign key itself has track words, the title must carry the same track words.
Keys that are not Hackathon-shaped are compared as whole normalised strings.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from bot.commands import MAX_RANGE, _read_list
from bot.messages import Message

_OPEN = "[【\\[［]"
_CLOSE = "[】\\]］]"
_WORD = r"[A-Za-z][A-Za-z-]*"
_HACK_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{6,12}(?![A-Za-z])")
_BEFORE = re.compile(r"(?P<open>" + _OPEN + r")?\s*(?P<pp>PaddlePaddle\s*)?$", re.I)
_TAIL = re.compile(
    r"(?:\s*(?P<edition>\d{1,3})(?:st|nd|rd|th)?(?![A-Za-z0-9]))?"
    r"(?P<tracks>(?:\s+(?![Nn][Oo](?![A-Za-z]))" + _WORD + r"){0,4})"
    r"\s*(?:" + _CLOSE + r")?\s*[:：\-–]?\s*"
    r"(?:(?P<no>[Nn][Oo](?![A-Za-z])\s*[.．:：]?\s*)(?=[#＃0-9０-９])|(?=[#＃]|[0-9０-９]+(?![0-9０-９A-Za-z])))",
    re.I,
)
_REVERT = re.compile(r"^\s*revert\b\s*[:：]?\s*", re.I)
_PART = re.compile(r"(?:[-_–—]\s*part\s*\d*|[(（]\s*part\s*\d*\s*[)）])(?![A-Za-z])", re.I)
_SPACES = re.compile(r"\s+")


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

    def as_dict(self, lang: str = "en") -> dict:
        return {"key": self.key, "tasks": list(self.tasks), "part": self.part,
                "revert": self.revert, "hints": [h.text(lang) for h in self.hints]}


def parse_title(title: str) -> TitleRef:
    """Read a PR title; see the module docstring for the grammar."""
    text = title.strip()
    revert = False
    m = _REVERT.match(text)
    if m:
        revert = True
        text = text[m.end():].strip().strip('"“”').strip()
    part = bool(_PART.search(text))
    hints: list[Message] = []
    for word in _HACK_WORD.finditer(text):
        is_hack, typo = _is_hackathon(word.group(0))
        if not is_hack:
            continue
        window = max(0, word.start() - 64)  # bounded look-back: no quadratic time on long input
        before = _BEFORE.search(text, window, word.start())
        if before.group("open") is None and text[:before.start()].strip():
            continue  # an unbracketed reference only counts at the start of the title
        tail = _TAIL.match(text, word.end())
        if tail is None:
            continue
        key_start = before.start("pp") if before.group("pp") else word.start()
        key = _SPACES.sub(" ", text[key_start:tail.end("tracks")]).strip()
        fixed = text
        if typo:
            key = key.replace(word.group(0), "Hackathon", 1)
            fixed = text[:word.start()] + "Hackathon" + text[word.end():]
        shift = len(fixed) - len(text)
        if tail.group("no") is None and text[tail.end():tail.end() + 1] not in ("#", "＃"):
            # "【Hackathon 9th 85】": a number with no "No." before it
            items = _read_list(text, tail.end())
            at = tail.end() + shift
            hints.append(Message("title_missing_no", {"found": text[before.start():items.end].strip(),
                                                      "suggestion": fixed[:at] + "No." + fixed[at:]}))
            continue
        items = _read_list(text, tail.end())
        if typo:
            hints.append(Message("title_typo", {"found": word.group(0), "suggestion": fixed}))
        for err in items.errors:
            hints.append(Message("title_bad_task", {"item": err.params.get("item", ""), "max": MAX_RANGE}))
        return TitleRef(key, items.tasks, part, revert, tuple(hints))
    return TitleRef(None, (), part, revert, tuple(hints))


_EDITION = re.compile(r"^(\d+)(?:st|nd|rd|th)?$")


def _key_parts(key: str) -> tuple[str, int | None, tuple[str, ...]] | None:
    words = _SPACES.sub(" ", key).strip().lower().split(" ")
    if words and words[0] == "paddlepaddle":
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
    if rest and _EDITION.match(rest[0]):
        edition = int(_EDITION.match(rest[0]).group(1))
        rest = rest[1:]
    return "hackathon", edition, tuple(rest)


def key_matches(title_key: str | None, campaign_key: str) -> bool:
    """Does a title's key text belong to the campaign whose key is `campaign_key`?"""
    if not title_key:
        return False
    t, c = _key_parts(title_key), _key_parts(campaign_key)
    if t is None or c is None:
        norm = lambda s: _SPACES.sub(" ", s).strip().lower().removeprefix("paddlepaddle ")  # noqa: E731
        return norm(title_key) == norm(campaign_key)
    if t[1] is not None and c[1] is not None and t[1] != c[1]:
        return False
    if c[2] and t[2] != c[2]:
        return False
    return True
