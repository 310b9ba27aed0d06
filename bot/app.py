"""The bot, built and run: `assemble(settings)` builds everything the bot runs, once (rules, store,
GitHub: the real App or dry-run, pipeline and web app), for `bot serve` (`serve`), `bot sync`
(`sync`), the offline tools and the tests.

Anything wrong with the set-up is a `StartupError` carrying one line that says what to fix
(file:line where there is one); the command line prints it and exits 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.clock import SYSTEM, Clock
from bot.github.api import GitHubApi, GitHubError
from bot.github.dryrun import DryRunGitHub
from bot.github.gateway import Gateway
from bot.github.redelivery import Redeliverer
from bot.metrics import Metrics
from bot.rules.check import lint
from bot.rules.loader import Loaded, RulesError, load_rules
from bot.rules.models import Rules
from bot.runtime.catalog import Catalog
from bot.runtime.pipeline import Pipeline
from bot.runtime.routing import Facts
from bot.runtime.server import WEBHOOK_PATH, ConnectionGuard, GuardedRunner, connection_cap, make_app
from bot.runtime.sync import Syncer, SyncReport
from bot.settings import Settings, StartupError
from bot.store import Store
from bot.store.budget import StoreBudget

log = logging.getLogger(__name__)

REDISCOVER = 900.0  # seconds between two reads of every repository's campaign folders


@dataclass
class App:
    settings: Settings
    rules: Catalog  # the campaigns served: RULES_DIR's and the repositories'
    store: Store
    github: GitHubApi
    pipeline: Pipeline
    session: aiohttp.ClientSession
    web: web.Application
    metrics: Metrics

    async def close(self) -> None:
        await self.pipeline.close()
        await self.session.close()
        await self.store.close()


def read_rules(settings: Settings) -> Rules:
    """The rule files of RULES_DIR, or a StartupError naming the first problem (and how many more
    there are). RULES_DIR may be absent when it was not set: campaigns then come from repositories."""
    if not settings.rules_dir.exists():
        if "rules_dir" not in settings.model_fields_set:
            log.info("no %s folder: campaigns come from repositories (.github/hackathon/) only", settings.rules_dir)
            return Rules()
        raise StartupError(
            f"{settings.rules_dir}: no such rules directory; set RULES_DIR to the directory holding "
            "one folder per campaign (see `bot rules import`), or leave it unset to serve campaigns from repositories only"
        )
    try:
        rules = load_rules(settings.rules_dir)
    except RulesError as exc:
        first, more = exc.problems[0], len(exc.problems) - 1
        raise StartupError(
            f"{first}" + (f" (and {more} more problem(s): run `bot rules check {settings.rules_dir}`)" if more else "")
        ) from None
    for p in lint(Loaded(rules, [], {})):  # what `bot rules check` rejects but loading allows: said, and served
        if p.severity == "error":
            slug = Path(p.file).parent.name
            log.warning("campaign %s: %s (`bot rules check %s` rejects it)", slug, p, settings.rules_dir)
    return rules


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
    github: GitHubApi | None = None,
    trace: Callable[[str], None] | None = None,
    clock: Clock = SYSTEM,
    metrics: Metrics | None = None,
    facts: Facts | None = None,
) -> App:
    """Build the bot. Everything comes from `settings` unless given: tests pass their own rules,
    store, GitHub client and metrics (whose `trace_config()` their client's session carries);
    `github` defaults to the App (APP_ID and a private key) or, without them, `DryRunGitHub`;
    `facts` replaces GitHub as the source of PR files, PRs and permissions (`bot simulate`);
    `trace` sees every action and board, as JSON lines (`bot replay`, `bot simulate`)."""
    rules = rules if rules is not None else read_rules(settings)
    store = store if store is not None else await open_store(settings, rules, clock=clock)
    metrics = metrics or Metrics()
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200, limit_per_host=200), trace_configs=[metrics.trace_config()]
    )
    if github is None:
        github = DryRunGitHub() if settings.dry_run else _app_gateway(settings, session, store)
    catalog = Catalog(rules, github=None if settings.dry_run else github, store=store)
    pipeline = Pipeline(catalog, store, github, settings=settings, facts=facts, trace=trace, clock=clock, metrics=metrics)
    return App(settings, catalog, store, github, pipeline, session, make_app(settings, store, pipeline, metrics), metrics)


def _app_gateway(settings: Settings, session: aiohttp.ClientSession, store: Store) -> Gateway:
    """The real App: its credentials, and a write budget the replicas share through the store."""
    return Gateway(
        api_url=settings.github_api_url,
        app_id=settings.app_id or "",
        private_key=settings.private_key or "",
        session=session,
        max_creates_per_minute=settings.max_writes_per_minute,
        max_creates_per_hour=settings.max_writes_per_hour,
        budget=StoreBudget(store, settings.max_writes_per_minute, settings.max_writes_per_hour),
    )


async def serve(settings: Settings, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None) -> None:
    """`bot serve`: the webhook server and every stage, until SIGINT/SIGTERM (or `stop`)."""
    bot = await assemble(settings)
    pipeline = bot.pipeline
    guard = ConnectionGuard(connection_cap(settings.max_connections), settings.header_timeout)
    runner = GuardedRunner(bot.web, guard, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as exc:  # port in use, address not available, no permission
        await runner.cleanup()
        await bot.close()
        raise StartupError(
            f"HOST={settings.host} PORT={settings.port}: cannot listen: {exc.strerror or exc}; stop what uses it or set PORT"
        ) from None
    if not settings.dry_run:  # deliveries wait in the inbox until the repositories' campaigns are known
        try:
            await bot.rules.discover()
        except (TimeoutError, GitHubError, OSError) as exc:
            log.warning("campaign folders in repositories not read at start-up (%s); read again every %.0f s", exc, REDISCOVER)
    await pipeline.start()
    # What start-up built (rules, templates, the campaigns' states) lives as long as the process:
    # out of the collector's sight, so a full collection does not walk it again and again (each
    # took 60-100 ms of the event loop with a 2,000-task campaign loaded).
    gc.collect()
    gc.freeze()
    mode = "dry-run (no APP_ID/PRIVATE_KEY: actions are logged, not sent)" if settings.dry_run else "live"
    log.info(
        "hackathon-bot listening on http://%s:%s%s, %s, %d campaign(s)",
        settings.host,
        settings.port,
        WEBHOOK_PATH,
        mode,
        len(pipeline.rules.campaigns),
    )
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    background: list[asyncio.Task] = []
    if settings.redeliver_every > 0 and not settings.dry_run:
        redeliverer = Redeliverer(bot.store, bot.github, every=settings.redeliver_every)
        background.append(asyncio.create_task(redeliverer.run(stop.is_set), name="redelivery"))
    if not settings.dry_run:
        background.append(asyncio.create_task(_rediscover(bot.rules, stop), name="rediscover"))
    if settings.sync_on_start and not settings.dry_run:
        background.append(asyncio.create_task(_sync_at_start(pipeline), name="sync-on-start"))
    if ready is not None:
        ready.set()
    await stop.wait()
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    log.info("stopping: no new deliveries; in-flight work finishes, the rest stays in the inbox")
    await site.stop()
    await pipeline.stop()
    await runner.cleanup()
    await bot.close()


async def _rediscover(catalog: Catalog, stop: asyncio.Event) -> None:
    """Read the repositories again now and then (a free 304 each when nothing changed), in case a
    push delivery was lost for good."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), REDISCOVER)
        except TimeoutError:
            try:
                await catalog.discover()
            except (TimeoutError, GitHubError, OSError) as exc:
                log.warning("campaign folders in repositories not read again: %s", exc)


async def _sync_at_start(pipeline: Pipeline) -> None:
    """SYNC_ON_START / `bot serve --sync`: catch up with GitHub (quietly) while serving."""
    try:
        await Syncer(pipeline, out=lambda line: log.info("sync: %s", line)).sync()
    except Exception:
        log.exception("sync at start-up failed; the bot keeps serving (run `bot sync` to retry)")


async def sync(settings: Settings, slugs: list[str], out: Callable[[str], None] = print) -> SyncReport:
    """`bot sync [CAMPAIGN...]`: one run over GitHub, its progress and summary said through `out`."""
    if settings.dry_run:
        raise StartupError("bot sync reads GitHub: set APP_ID and PRIVATE_KEY (it does nothing in dry-run)")
    bot = await assemble(settings)
    try:
        await bot.pipeline.learn_login()
        try:
            return await Syncer(bot.pipeline, out=out).sync(slugs or None)
        except ValueError as exc:
            raise StartupError(str(exc)) from None
    finally:
        await bot.close()
