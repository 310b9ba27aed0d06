"""User-facing text plumbing: the one jinja2 Environment and the escaping helpers.

Templates live in `bot/templates/<lang>/*.j2` and are loaded from the package once (the
Environment caches them). Output is Markdown, so autoescape is off; instead every piece of
user-controlled text goes through one of the helpers below before it reaches a template:

- `mask_markers`: the text can never contain the hidden-comment markers `<!--` / `-->`
  verbatim (the bot finds its own comments and the board by such markers).
- `escape_inline`: plain text shown inline in Markdown (titles, names, hints): no HTML,
  no links (bare URLs included), no mentions, no code spans, no line breaks, no table pipes.
- `escape_cell`: `escape_inline`, for a table cell.
- `escape_html`: text inside an HTML element such as `<summary>` (entities; no Markdown there).
- `code_span`: a file name or glob shown as inline code, whatever backticks it contains.
- `safe_url`: a URL usable as a Markdown link target (http/https only), else None.

Nothing here does I/O beyond the package loader reading template files on first use.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Literal, get_args

import jinja2

Lang = Literal["zh", "en"]  # the languages the bot speaks (templates/zh, templates/en)
LANGS: tuple[Lang, ...] = get_args(Lang)

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("bot", "templates"),
    autoescape=False,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
    auto_reload=False,
)

_NEWLINES = re.compile(r"\r\n|\r|\n|\u2028|\u2029")
_INLINE_SPECIAL = re.compile(r"[\\`*_\[\]|<>&~@]")
_INLINE_REPL = {
    "\\": "\\\\",
    "`": "\\`",
    "*": "\\*",
    "_": "\\_",
    "[": "\\[",
    "]": "\\]",
    "~": "\\~",
    "|": "&#124;",
    "<": "&lt;",
    ">": "&gt;",
    "&": "&amp;",
    "@": "@\u200b",  # a participant's "@org/everyone" must not notify anyone in the bot's name
}
# GitHub turns bare URLs into links: an invisible space after the scheme or "www" keeps them text.
_AUTOLINK = re.compile(r"(?i)(?<=https)(?=://)|(?<=http)(?=://)|(?<=ftp)(?=://)|(?<=\bwww)(?=\.)")
_ZWSP = "\u200b"


def mask_markers(text: str) -> str:
    """Break up `<!--` and `-->` with an invisible space so user text cannot open or close a hidden comment."""
    return text.replace("<!--", "<" + _ZWSP + "!--").replace("-->", "--" + _ZWSP + ">")


def one_line(text: str) -> str:
    return _NEWLINES.sub(" ", text)


def escape_inline(text: Any) -> str:
    """Plain text for inline Markdown: one line; markup, HTML, links and pipes are shown, not interpreted."""
    s = one_line(str(text))
    s = _INLINE_SPECIAL.sub(lambda m: _INLINE_REPL[m.group(0)], s)
    s = _AUTOLINK.sub(_ZWSP, s)
    # A leading '#', '>', '-', '+' or digit-dot would only matter at line start; we never put user text there.
    return s


def escape_cell(text: Any) -> str:
    """A table-cell-safe, marker-safe rendering of user-controlled text."""
    return escape_inline(text)


def code_span(text: Any) -> str:
    """`text` as inline code: one line, markers masked, fenced with enough backticks."""
    s = mask_markers(one_line(str(text)))
    runs = [len(r) for r in re.findall(r"`+", s)]
    fence = "`" * (max(runs, default=0) + 1)
    if s.startswith("`") or s.endswith("`") or (s.startswith(" ") and s.endswith(" ") and s.strip()):
        s = f" {s} "
    return f"{fence}{s}{fence}"


def code_cell(text: Any) -> str:
    """`code_span` for a table cell: a `|` inside code would still split the cell, so escape it."""
    return code_span(text).replace("|", "\\|")


_URL_OK = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)
_URL_QUOTE = {ord(c): f"%{ord(c):02X}" for c in "()<>|[]`\"'\\ "} | {i: f"%{i:02X}" for i in range(0x20)}


def safe_url(url: Any) -> str | None:
    """A link target that cannot break out of `[..](..)` or a table, or None when not an http(s) URL."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not _URL_OK.match(url):
        return None
    out = url.translate(_URL_QUOTE)
    return mask_markers(out).replace(_ZWSP, "%E2%80%8B")


def text_of(obj: Any, lang: Lang) -> str:
    """A hint or detail: already-rendered text, or a message object with `.text(lang)`."""
    if obj is None:
        return ""
    if hasattr(obj, "text") and callable(obj.text):
        return str(obj.text(lang))
    return str(obj)


def link(label_md: str, url: Any) -> str:
    """`[label](url)` when the URL is safe, else just the label. `label_md` must already be escaped."""
    u = safe_url(url)
    return f"[{label_md}]({u})" if u else label_md


def escape_html(text: Any) -> str:
    """Text inside an HTML element (e.g. <summary>), where Markdown escapes are not processed: one line, entities."""
    return one_line(str(text)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_env.filters.update(
    html=escape_html,
    inline=escape_inline,
    cell=escape_cell,
    code=code_span,
    code_cell=code_cell,
    mask=mask_markers,
    url=safe_url,
)
_env.globals.update(link=link)


BODY_LIMIT = 65536  # characters GitHub accepts in a comment or issue body


def fit(body: str, lang: Lang, limit: int = BODY_LIMIT) -> str:
    """`body` cut at a line boundary so it fits in `limit` characters, with a closing line saying
    how many lines were left out (replies and checklists never exceed GitHub's limit)."""
    if len(body) <= limit:
        return body
    lines = body.split("\n")
    kept, size = [], 0
    room = limit - 400  # the closing line
    for line in lines:
        if size + len(line) + 1 > room:
            break
        kept.append(line)
        size += len(line) + 1
    note = render(lang, "cut.j2", lines=len(lines) - len(kept)).strip()
    return "\n".join(kept).rstrip("\n") + "\n\n" + note + "\n"


def check_lang(lang: Lang) -> Lang:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGS}")
    return lang  # type: ignore[return-value]  # checked above


@functools.cache
def template(lang: Lang, name: str) -> jinja2.Template:
    """The template `name` in `lang` (loaded once: templates do not change while the bot runs)."""
    return _env.get_template(f"{check_lang(lang)}/{name}")


def render(lang: Lang, name: str, **ctx: Any) -> str:
    return template(lang, name).render(**ctx)


def macros(lang: Lang, name: str) -> Any:
    """The module of a template holding one macro per message code."""
    return template(lang, name).module
