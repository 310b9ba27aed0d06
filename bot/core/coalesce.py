"""Coalesced replies: several pending replies to one issue merged into as few comments as
GitHub's body limit allows. Pure.

A reply's body starts with its marker (`replies.reply_marker`) and then addresses one person
(``@alice`` ...). A merged comment starts with the markers of every reply it carries, one per
line (so a retry after a crash finds each of them, see `leading_markers`), then the layout of
`templates/<lang>/coalesced.j2` around the replies' texts. A reply whose text alone does not fit
a merged comment is posted as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import texts
from bot.core.texts import Lang

MAX_COMMENT = 65536  # characters GitHub accepts in a comment body
MARKER_PREFIX = "<!-- hackathon-bot:"


@dataclass(frozen=True)
class Merged:
    """One comment to post and the indexes (into the input) of the replies it carries."""

    body: str
    carries: tuple[int, ...]


def leading_markers(body: str) -> set[str]:
    """The bot's markers on the first lines of a comment (a merged comment carries several)."""
    found: set[str] = set()
    for line in body.splitlines():
        line = line.strip()
        if not (line.startswith(MARKER_PREFIX) and line.endswith("-->")):
            break
        found.add(line)
    return found


def _split(body: str) -> tuple[str, str]:
    """(marker, text) of one reply body."""
    first, _, rest = body.partition("\n")
    if first.startswith(MARKER_PREFIX) and first.endswith("-->"):
        return first, rest.strip("\n")
    return "", body.strip("\n")


def _render(lang: Lang, parts: list[tuple[str, str]]) -> str:
    markers = "\n".join(m for m, _ in parts if m)
    return texts.render(lang, "coalesced.j2", markers=markers, texts=[t for _, t in parts]).strip("\n") + "\n"


PART_OVERHEAD = 16  # characters the layout adds around one reply at most (its separator, newlines)


def coalesce(bodies: list[str], lang: Lang, *, limit: int = MAX_COMMENT) -> list[Merged]:
    """Merge reply bodies (in order) into comments of at most `limit` characters. One body gives
    one comment, unchanged (a quiet-time reply stays as it was).

    Linear: a group grows while an upper bound of its rendered length fits (the layout's own
    text plus each reply's marker, text and `PART_OVERHEAD`), then is rendered once."""
    if len(bodies) <= 1:
        return [Merged(b, (i,)) for i, b in enumerate(bodies)]
    parts = [_split(b) for b in bodies]
    frame = len(_render(lang, [])) + 2 * len(str(len(bodies)))
    out: list[Merged] = []

    def close(group: list[int]) -> None:
        while group:
            text = _render(lang, [parts[j] for j in group]) if len(group) > 1 else bodies[group[0]]
            if len(text) <= limit or len(group) == 1:
                out.append(Merged(text, tuple(group)))
                return
            close(group[:-1])  # the bound was wrong (it is not): never post over the limit
            group = group[-1:]

    group: list[int] = []
    size = frame
    for i, (marker, text) in enumerate(parts):
        cost = len(marker) + 1 + len(text) + PART_OVERHEAD
        if group and size + cost > limit:
            close(group)
            group, size = [], frame
        group.append(i)
        size += cost
    close(group)
    return out
