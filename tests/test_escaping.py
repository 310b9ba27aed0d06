"""Participant text the bot repeats (titles, team names, statuses, links) is shown, never live:
no mention, no link (bare URLs included), no image, no HTML, no code span, whatever the text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.board import _esc
from bot.core.texts import escape_cell, escape_inline

PIECES = [
    "@",
    "@org/everyone",
    "https://",
    "http://",
    "HTTPS://",
    "www.",
    "WWW.",
    "[",
    "](",
    ")",
    "![",
    "<",
    ">",
    "<img src=x>",
    "`",
    "*",
    "_",
    "|",
    "&",
    "<!--",
    "-->",
    "\n",
    "a",
    "b.c",
    " ",
    "x/y",
    "evil.example",
]
hostile = st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=30).map("".join)


def live_markup(s: str) -> list[str]:
    found = []
    if re.search(r"@[\w-]", s):
        found.append("mention")
    if re.search(r"(?i)(https?|ftp)://|\bwww\.", s):
        found.append("bare URL")
    if re.search(r"(?<!\\)[\[\]`<>*_]", s):
        found.append("markup")
    if "\n" in s:
        found.append("line break")
    return found


@settings(max_examples=400, deadline=None)
@given(hostile)
def test_escaped_text_has_no_live_markup(text):
    for escape in (escape_inline, escape_cell, _esc):
        assert live_markup(escape(text)) == [], (escape.__name__, text)


def test_the_board_fast_path_agrees_with_escape_cell():
    for text in ("plain", "Fix: a | b", "@org/everyone", "see https://x.y", "www.evil.com", "a\r\nb", "[x](http://y)"):
        assert _esc(text) == escape_cell(text)
