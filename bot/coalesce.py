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

from bot import texts

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


def _render(lang: str, parts: list[tuple[str, str]]) -> str:
    markers = "\n".join(m for m, _ in parts if m)
    return texts.render(lang, "coalesced.j2", markers=markers, texts=[t for _, t in parts]).strip("\n") + "\n"


def coalesce(bodies: list[str], lang: str, *, limit: int = MAX_COMMENT) -> list[Merged]:
    """Merge reply bodies (in order) into comments of at most `limit` characters. One body gives
    one comment, unchanged (a quiet-time reply stays as it was)."""
    if len(bodies) <= 1:
        return [Merged(b, (i,)) for i, b in enumerate(bodies)]
    out: list[Merged] = []
    group: list[int] = []
    rendered = ""
    for i, body in enumerate(bodies):
        trial = group + [i]
        text = _render(lang, [_split(bodies[j]) for j in trial])
        if len(text) <= limit:
            group, rendered = trial, text
            continue
        if group:
            out.append(Merged(rendered if len(group) > 1 else bodies[group[0]], tuple(group)))
        alone = _render(lang, [_split(body)])
        group, rendered = [i], alone if len(alone) <= limit else body
    if group:
        out.append(Merged(rendered if len(group) > 1 else bodies[group[0]], tuple(group)))
    return out
