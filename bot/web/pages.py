"""Dashboard rendering: a `Dashboard` (bot.dashboard) -> HTML, from templates/web/ (zh and en).

Pure apart from reading the templates once. Its own jinja2 Environment with autoescaping on:
every title, login, team and track name is HTML-escaped; link targets pass `href`, which
keeps http(s) URLs only, so a task's or PR's URL cannot become `javascript:`.
"""
from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from bot import texts
from bot.dashboard import STALE_AFTER, Counts, Dashboard
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
def words(lang: str) -> dict:
    return dict(_env.get_template(f"web/{texts.check_lang(lang)}.j2").module.words)  # type: ignore[attr-defined]


def _tracker_url(tracker: str | None) -> str | None:
    if not tracker or "#" not in tracker:
        return None
    repo, _, number = tracker.partition("#")
    return f"https://github.com/{repo}/issues/{number}"


def render_campaign(d: Dashboard) -> str:
    w = words(d.language)
    labels = {k: w[k] for k in ("tasks", "claimed", "submitted", "completed")}
    days = [p.day for p in d.series]
    progress = progress_chart(days, {k: [getattr(p, k) for p in d.series] for k in ("claimed", "submitted", "completed")},
                              labels, title=w["progress"])
    rows = [(t.name if t.name is not None else w["no_track"], t.counts.tasks, t.counts.claimed, t.counts.submitted,
             t.counts.completed) for t in d.tracks]
    tracks = track_chart(rows, labels, title=w["tracks"]) if rows else ""
    return _env.get_template("web/campaign.html.j2").render(
        d=d, words=w, progress_svg=progress, tracks_svg=tracks, tracker_url=_tracker_url(d.tracker),
        stale_days=STALE_AFTER.days)


def render_index(campaigns: list[tuple[str, str, Counts]], lang: str) -> str:
    return _env.get_template("web/index.html.j2").render(campaigns=campaigns, words=words(lang))
