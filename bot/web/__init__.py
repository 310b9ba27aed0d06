"""The read side served by `bot serve`: dashboard pages, their JSON and CSV, and /metrics.

    GET /                              the campaigns, with their totals
    GET /campaigns/<slug>              one campaign's page, in its language (HTML, no JS needed)
    GET /campaigns/<slug>.json         the same data (shape: docs/dashboard.md)
    GET /campaigns/<slug>/report.csv   the rewards report (bot/report.py)
    GET /metrics                       Prometheus metrics (bot/metrics.py)

Pages are read from the store on each request (campaign state and stage history) and rendered
by pure functions (`bot.dashboard`, `bot.web.pages`, `bot.report`). `DASHBOARD=off` leaves the
pages out (404); /metrics stays. Nothing here exposes deliveries, payloads, failures or the
outbox: only what the tracker board already shows publicly.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot import report as reports
from bot.dashboard import Counts, build_dashboard, to_json
from bot.metrics import CONTENT_TYPE_LATEST, Metrics
from bot.model import StageEvent
from bot.rules.models import CampaignRules, Rules
from bot.store import Store
from bot.web.pages import render_campaign, render_index

log = logging.getLogger(__name__)

RULES = web.AppKey("web_rules", Rules)
WEB_STORE = web.AppKey("web_store", Store)
METRICS = web.AppKey("metrics", Metrics)
# () -> [(installation id, writes left this minute)]
BUDGETS: web.AppKey[Callable[[], Iterable[tuple[int, int]]]] = web.AppKey("write_budgets")

HTML = "text/html"


def setup(app: web.Application, rules: Rules, store: Store, metrics: Metrics, *, dashboard: bool = True,
          budgets: Callable[[], Iterable[tuple[int, int]]] | None = None) -> None:
    """Register /metrics, and the dashboard routes unless `dashboard` is False."""
    app[RULES] = rules
    app[WEB_STORE] = store
    app[METRICS] = metrics
    app[BUDGETS] = budgets or (lambda: ())
    app.router.add_get("/metrics", metrics_page)
    if dashboard:
        app.router.add_get("/", index)
        app.router.add_get("/campaigns/{slug}/report.csv", report_csv)
        app.router.add_get("/campaigns/{name}", campaign)


def _now() -> datetime:
    return datetime.now(UTC)


async def _load(request: web.Request, slug: str) -> tuple[CampaignRules, Any, list[StageEvent]]:
    rules = request.app[RULES].campaigns.get(slug)
    if rules is None:
        raise web.HTTPNotFound(text=f"no campaign {slug!r}\n")
    store = request.app[WEB_STORE]
    state = await store.state(slug)
    history = await store.history(slug) if hasattr(store, "history") else []
    return rules, state, history


async def index(request: web.Request) -> web.Response:
    from bot.board import board_stats

    rules = request.app[RULES]
    store = request.app[WEB_STORE]
    rows = []
    for slug in sorted(rules.campaigns):
        r = rules.campaigns[slug]
        t = board_stats(r, await store.state(slug)).total
        rows.append((slug, r.campaign.name, Counts(t.tasks, t.claimed, t.submitted, t.completed)))
    langs = Counter(r.campaign.language for r in rules.campaigns.values())
    lang = max(sorted(langs), key=lambda k: langs[k]) if langs else "zh"
    return web.Response(text=render_index(rows, lang), content_type=HTML, charset="utf-8")


async def campaign(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    as_json = name.endswith(".json")
    slug = name.removesuffix(".json")
    rules, state, history = await _load(request, slug)
    d = build_dashboard(rules, state, history, _now())
    if as_json:
        return web.json_response(to_json(d))
    return web.Response(text=render_campaign(d), content_type=HTML, charset="utf-8")


async def report_csv(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    rules, state, history = await _load(request, slug)
    body = reports.to_csv(reports.build_report(rules, state, history))
    return web.Response(text=body, content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{slug}-report.csv"'})


async def metrics_page(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    metrics.refresh(await request.app[WEB_STORE].delivery_counts(), request.app[BUDGETS]())
    return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})
