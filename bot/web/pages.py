"""Dashboard rendering: a `Dashboard` (bot.dashboard) -> HTML, from templates/web/ (zh and en).

Pure apart from reading the templates once and a bounded cache of rendered table rows: a
row's HTML depends only on its data (a `TaskRow`, a ranked `Person`) and the language, so a page
re-rendered after a change renders only the rows that changed (a 2,000-task table is most of
the page's cost). Its own jinja2 Environment with autoescaping on:
every title, login, team and track name is HTML-escaped; link targets pass `href`, which
keeps http(s) URLs only, so a task's or PR's URL cannot become `javascript:`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Hashable, Sequence
from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

from bot.core import texts
from bot.core.dashboard import STALE_AFTER, Counts, Dashboard
from bot.core.standing import Standing, format_points, pr_label
from bot.core.texts import Lang
from bot.web.charts import progress_chart, track_chart

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("bot", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)


def href(url: Any) -> str:
    """A link target: the URL when it is http(s), else '#'."""
    return texts.safe_url(url) or "#"


_env.filters["href"] = href


@cache
def words(lang: Lang) -> dict:
    return dict(_env.get_template(f"web/{texts.check_lang(lang)}.j2").module.words)  # type: ignore[attr-defined]


STALE_SHOWN = 50  # the page lists the oldest stale claims; the JSON has them all
ROW_END = "<!--/row-->"  # escaped user text has no "<", so cannot end a row early
ROW_CACHE_SIZE = 20_000
_rows: dict[tuple[str, str, Hashable], str] = {}


def clear_row_cache() -> None:
    _rows.clear()


def rows_html(template: str, lang: Lang, rows: Sequence[Hashable]) -> Markup:
    """The rows rendered by `web/<template>`, each from the cache when it was rendered before."""
    keys = [(template, lang, r) for r in rows]
    missing = list(dict.fromkeys(k for k in keys if k not in _rows))
    if missing:
        if len(_rows) + len(missing) > ROW_CACHE_SIZE:
            _rows.clear()
        html = _env.get_template(f"web/{template}").render(rows=[k[2] for k in missing], w=words(lang), sep=Markup(ROW_END))
        parts = html.split(ROW_END)
        assert len(parts) == len(missing) + 1, "a row template must end each row with `sep` once"
        _rows.update(zip(missing, (p.strip("\n") for p in parts)))
    return Markup("\n".join(_rows[k] for k in keys))


_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_INCLUDE = re.compile(r"""\{%-?\s*include\s+["']([^"']+)["']""")


@cache
def template_scripts(template: str) -> tuple[str, ...]:
    """The inline scripts a page template (and the partials it includes) holds, as written in the
    template files. They contain no template syntax, so the page carries them byte for byte."""
    assert _env.loader is not None
    source = _env.loader.get_source(_env, template)[0]
    scripts = tuple(_SCRIPT.findall(source))
    for s in scripts:
        assert "{{" not in s and "{%" not in s, f"{template}: an inline script must be fixed text (its hash is the policy)"
    return scripts + tuple(s for name in _INCLUDE.findall(source) for s in template_scripts(name))


@cache
def content_security_policy(template: str) -> str:
    """The policy of the pages rendered from `template`: the page's own inline style, and exactly
    the inline scripts written in the template files (by hash), nothing from elsewhere. It is fixed
    by the templates, never read off a rendered page, so no text that ever got into a page
    unescaped could run."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.encode()).digest()).decode() + "'" for m in template_scripts(template)
    )
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors 'none'; script-src {hashes or chr(39) + 'none' + chr(39)}"
    )


CAMPAIGN_PAGE = "web/campaign.html.j2"
INDEX_PAGE = "web/index.html.j2"
PERSON_PAGE = "web/person.html.j2"


def _tracker_url(tracker: str | None) -> str | None:
    if not tracker or "#" not in tracker:
        return None
    repo, _, number = tracker.partition("#")
    return f"https://github.com/{repo}/issues/{number}"


def render_campaign(d: Dashboard, rules_refused: dict | None = None) -> str:
    """The campaign page; `rules_refused` (commit, problem, serving): its newest rules were refused."""
    w = words(d.language)
    labels = {k: w[k] for k in ("tasks", "claimed", "submitted", "completed")}
    days = [p.day for p in d.series]
    progress = progress_chart(
        days, {k: [getattr(p, k) for p in d.series] for k in ("claimed", "submitted", "completed")}, labels, title=w["progress"]
    )
    rows = [
        (
            t.name if t.name is not None else w["no_track"],
            t.counts.tasks,
            t.counts.claimed,
            t.counts.submitted,
            t.counts.completed,
        )
        for t in d.tracks
    ]
    tracks = track_chart(rows, labels, title=w["tracks"]) if rows else ""
    return _env.get_template(CAMPAIGN_PAGE).render(
        d=d,
        rules_refused=rules_refused,
        words=w,
        progress_svg=progress,
        tracks_svg=tracks,
        tracker_url=_tracker_url(d.tracker),
        stale_days=STALE_AFTER.days,
        stale_shown=STALE_SHOWN,
        task_rows=rows_html("_task_rows.html.j2", d.language, d.tasks),
        people_rows=rows_html(
            "_people_rows.html.j2",
            d.language,
            [(d.slug, s, d.standings.unit, format_points(s.points)) for s in d.leaderboard],
        ),
    )


def render_person(d: Dashboard, s: Standing, urls: dict[int, str | None]) -> str:
    """A person's page: their points and rank, then their tasks (stage, PRs, the day they claimed and
    the day the claim lapses); laid out as a list, so it reads on a phone. `urls`: task links."""
    w = words(d.language)
    return _env.get_template(PERSON_PAGE).render(
        d=d,
        p=s,
        w=w,
        urls=urls,
        unit=d.standings.unit,
        points=format_points,
        label=pr_label,
        tracker_url=_tracker_url(d.tracker),
    )


def render_index(campaigns: list[tuple[str, str, Counts, bool]], lang: Lang) -> str:
    """The list of campaigns: (slug, name, counts, closed) each."""
    return _env.get_template(INDEX_PAGE).render(campaigns=campaigns, words=words(lang))
