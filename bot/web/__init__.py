"""The read side served by `bot serve`: dashboard pages, their JSON and CSV, and /metrics.

    GET /                              the campaigns, with their totals
    GET /campaigns/<slug>              one campaign's page, in its language (HTML, no JS needed)
    GET /campaigns/<slug>.json         the same data (shape: docs/dashboard.md)
    GET /campaigns/<slug>/report.csv   the rewards report (bot/report.py)
    GET /campaigns/<slug>/people/<login>[.json]   one person's tasks, points and rank (404: nobody by that name)
    GET /metrics                       Prometheus metrics (bot/metrics.py)

Pages are read from the store on each request and rendered by pure functions (`bot.dashboard`, `bot.web.pages`, `bot.report`). `DASHBOARD=off` leaves the
pages out (404); /metrics stays. Nothing here exposes deliveries, payloads, failures or the
outbox: only what the tracker board already shows publicly.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from aiohttp import web

from bot.core import report as reports
from bot.core.board import board_stats
from bot.core.dashboard import Counts, Dashboard, at, build_dashboard, person_json, to_json
from bot.core.model import CampaignState, StageEvent
from bot.core.review import task_url
from bot.metrics import CONTENT_TYPE_LATEST, Metrics
from bot.rules.models import CampaignRules, RulesView
from bot.store import Store
from bot.web.pages import (
    CAMPAIGN_PAGE,
    INDEX_PAGE,
    PERSON_PAGE,
    content_security_policy,
    render_campaign,
    render_index,
    render_person,
)

log = logging.getLogger(__name__)

RULES: web.AppKey[RulesView] = web.AppKey("web_rules")
WEB_STORE = web.AppKey("web_store", Store)
METRICS = web.AppKey("metrics", Metrics)
# () -> [(installation id, writes left this minute)]
HISTORY = web.AppKey("web_history", dict)  # slug -> (last row id read, events read so far)
BUILT = web.AppKey("web_built", dict)  # slug -> (state, last history id, Dashboard): rebuilt when either changed
BUDGETS: web.AppKey[Callable[[], Iterable[tuple[int, int]]]] = web.AppKey("write_budgets")

# slug -> (commit, problem, serving) when the newest rules of a repository campaign were refused
REFUSED: web.AppKey[Callable[[str], dict | None]] = web.AppKey("rules_refused")

HTML = "text/html"


def setup(
    app: web.Application,
    rules: RulesView,
    store: Store,
    metrics: Metrics,
    *,
    dashboard: bool = True,
    budgets: Callable[[], Iterable[tuple[int, int]]] | None = None,
    refused: Callable[[str], dict | None] | None = None,
) -> None:
    """Register /metrics, and the dashboard routes unless `dashboard` is False."""
    app[RULES] = rules
    app[WEB_STORE] = store
    app[METRICS] = metrics
    app[BUDGETS] = budgets or (lambda: ())
    app[REFUSED] = refused or (lambda slug: None)
    app[HISTORY] = {}
    app[BUILT] = {}
    app.router.add_get("/metrics", metrics_page)
    if dashboard:
        app.router.add_get("/", index)
        app.router.add_get("/campaigns/{slug}/report.csv", report_csv)
        app.router.add_get("/campaigns/{slug}/people/{login}", person)
        app.router.add_get("/campaigns/{name}", campaign)


def _now() -> datetime:
    return datetime.now(UTC)


async def _load(request: web.Request, slug: str) -> tuple[CampaignRules, CampaignState, list[StageEvent]]:
    rules = request.app[RULES].campaigns.get(slug)
    if rules is None:
        raise web.HTTPNotFound(text=f"no campaign {slug!r}\n")
    store = request.app[WEB_STORE]
    state = await store.current_state(slug)
    # the history is append-only: keep what was read, ask only for the new rows
    last, events = request.app[HISTORY].get(slug, (0, []))
    new = await store.history_since(slug, last)
    if new:
        events = events + [e for _, e in new]
        last = new[-1][0]
        request.app[HISTORY][slug] = (last, events)
    return rules, state, events


async def index(request: web.Request) -> web.Response:
    rules = request.app[RULES]
    store = request.app[WEB_STORE]
    rows = []
    for slug in sorted(rules.campaigns):
        r = rules.campaigns[slug]
        state = await store.current_state(slug)
        t = board_stats(r, state).total
        rows.append((slug, r.campaign.name, Counts(t.tasks, t.claimed, t.submitted, t.completed), state.closed_at is not None))
    langs = Counter(r.campaign.language for r in rules.campaigns.values())
    lang = max(sorted(langs), key=lambda k: langs[k]) if langs else "zh"
    return _html(render_index(rows, lang), INDEX_PAGE)


async def _dashboard(request: web.Request, slug: str) -> tuple[CampaignRules, Dashboard]:
    """The campaign's dashboard as of now, built again only when its state or history changed."""
    rules, state, history = await _load(request, slug)
    now = _now()
    last = request.app[HISTORY].get(slug, (0, []))[0]
    built = request.app[BUILT].get(slug)
    if built and built[0] is state and built[1] == last:  # nothing changed: only the clock moved
        d = at(built[2], rules, state, now)
    else:
        d = build_dashboard(rules, state, history, now)
        request.app[BUILT][slug] = (state, last, d)
    return rules, d


async def campaign(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    as_json = name.endswith(".json")
    slug = name.removesuffix(".json")
    _, d = await _dashboard(request, slug)
    refused = request.app[REFUSED](slug)
    if as_json:
        return web.json_response({**to_json(d), "rules_refused": refused})
    return _html(render_campaign(d, refused), CAMPAIGN_PAGE)


async def person(request: web.Request) -> web.Response:
    """One person's page (or `.json`): the standing `/mine` gives, from the same dashboard."""
    name = request.match_info["login"]
    as_json = name.endswith(".json")
    login = name.removesuffix(".json")
    rules, d = await _dashboard(request, request.match_info["slug"])
    standing = d.standings.person(login)
    if standing is None:
        raise web.HTTPNotFound(text=f"nobody called {login!r} takes part in {rules.slug}\n")
    urls = {h.task: task_url(rules, rules.tasks[h.task]) if h.task in rules.tasks else None for h in standing.tasks}
    if as_json:
        return web.json_response(person_json(d, standing, urls))
    return _html(render_person(d, standing, urls), PERSON_PAGE)


def _html(text: str, template: str) -> web.Response:
    """A page rendered from `template`; its Content-Security-Policy is that template's (fixed)."""
    return web.Response(
        text=text,
        content_type=HTML,
        charset="utf-8",
        headers={
            "Content-Security-Policy": content_security_policy(template),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


async def report_csv(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    rules, state, history = await _load(request, slug)
    body = reports.to_csv(reports.build_report(rules, state, history))
    return web.Response(
        text=body,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}-report.csv"'},
    )


async def metrics_page(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    metrics.refresh(await request.app[WEB_STORE].delivery_counts(), request.app[BUDGETS]())
    return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})
