"""`assemble(settings)`: builds everything the bot runs, once, for `bot serve`, the offline tools
(`replay`) and the tests: rules, store, GitHub gateway (or dry-run), pipeline and the web app.

Anything wrong with the set-up is a `StartupError` carrying one line that says what to fix
(file:line where there is one); `bot serve` prints it and exits non-zero, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bot.clock import SYSTEM, Clock
from bot.metrics import Metrics
from bot.rules.loader import RulesError, load_rules
from bot.rules.models import Rules
from bot.runtime.pipeline import Pipeline
from bot.runtime.routing import Facts
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)


class StartupError(Exception):
    """The bot cannot start as configured; the message is one line saying what to fix."""


@dataclass
class App:
    settings: Settings
    rules: Rules
    store: Store
    gateway: Any | None
    pipeline: Pipeline
    session: aiohttp.ClientSession
    web: web.Application
    metrics: Metrics

    async def close(self) -> None:
        await self.pipeline.router.budget.close()
        await self.session.close()
        await self.store.close()


def read_rules(settings: Settings) -> Rules:
    """The rule files, or a StartupError naming the first problem (and how many more there are)."""
    if not settings.rules_dir.exists():
        raise StartupError(
            f"{settings.rules_dir}: no such rules directory; set RULES_DIR to the directory holding "
            "one folder per campaign (see `bot rules import`)"
        )
    try:
        return load_rules(settings.rules_dir)
    except RulesError as exc:
        first, more = exc.problems[0], len(exc.problems) - 1
        raise StartupError(
            f"{first}" + (f" (and {more} more problem(s): run `bot rules check {settings.rules_dir}`)" if more else "")
        ) from None


async def open_store(settings: Settings, rules: Rules, *, clock: Clock = SYSTEM) -> Store:
    store = Store(settings.database_url, lease_seconds=settings.lease_seconds, clock=clock)
    try:
        await store.init(list(rules.campaigns))
    except Exception as exc:  # unreachable server, read-only file, wrong credentials...
        await store.close()
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StartupError(f"DATABASE_URL ({_redact(settings.database_url)}): cannot open the database: {reason}") from None
    return store


def _redact(url: str) -> str:
    """The URL without its password."""
    head, sep, tail = url.partition("@")
    if not sep or "://" not in head:
        return url
    scheme, _, userinfo = head.partition("://")
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{tail}"


async def assemble(
    settings: Settings,
    *,
    rules: Rules | None = None,
    store: Store | None = None,
    gateway: Any | None = ...,
    out: Callable[[str], None] | None = None,
    clock: Clock = SYSTEM,
    max_attempts: int | None = None,
    metrics: Metrics | None = None,
    facts: Facts | None = None,
) -> App:
    """Build the bot. Defaults come from `settings`; tests pass their own rules, store or gateway
    (`gateway=None` forces dry-run) and metrics (whose `trace_config()` their gateway's session carries);
    `facts` replaces GitHub as the source of PR files, PRs and permissions (`bot simulate`)."""
    from bot.runtime.server import make_app

    rules = rules if rules is not None else read_rules(settings)
    store = store if store is not None else await open_store(settings, rules, clock=clock)
    metrics = metrics or Metrics()
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200, limit_per_host=200), trace_configs=[metrics.trace_config()]
    )
    if gateway is ...:
        gateway = None
        if not settings.dry_run:
            from bot.github.gateway import Gateway
            from bot.store.budget import StoreBudget

            gateway = Gateway(
                api_url=settings.github_api_url,
                app_id=settings.app_id or "",
                private_key=settings.private_key or "",
                session=session,
                max_creates_per_minute=settings.max_writes_per_minute,
                max_creates_per_hour=settings.max_writes_per_hour,
                budget=StoreBudget(store, settings.max_writes_per_minute, settings.max_writes_per_hour),
            )
    pipeline = Pipeline(
        rules,
        store,
        gateway,
        workers=settings.workers,
        board_delay=settings.board_delay,
        max_attempts=max_attempts or settings.max_attempts,
        out=out,
        clock=clock,
        metrics=metrics,
        facts=facts,
        reply_gap=settings.reply_gap,
    )
    pipeline.router.public_url = settings.public_url if settings.dashboard else None  # `/mine` links to the pages
    return App(settings, rules, store, gateway, pipeline, session, make_app(settings, store, pipeline, metrics), metrics)
