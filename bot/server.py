"""The aiohttp app: webhook intake, health and status endpoints, and `bot serve`.

Intake does the least it safely can before answering: size check (413), signature check
(HMAC-SHA256 over the raw body, constant-time; 401), JSON check (400), then the delivery is
stored in the inbox, deduplicated by X-GitHub-Delivery, and GitHub gets 202 at once. Workers
(see `pipeline`) do the rest. Event types the bot does not handle are acknowledged and not stored.
"""
from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import uuid

from aiohttp import web
from gidgethub import ValidationFailure
from gidgethub.sansio import validate_event

from bot import web as web_routes
from bot.events import HANDLED_EVENTS
from bot.logs import setup_logging
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger("bot.server")

WEBHOOK_PATH = "/api/github/webhooks"
STORE = web.AppKey("store", Store)
PIPELINE = web.AppKey("pipeline", Pipeline)
SETTINGS = web.AppKey("settings", Settings)


async def webhook(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    if request.content_length is not None and request.content_length > settings.max_body_bytes:
        return _error(413, "payload too large")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "payload too large")
    signature = request.headers.get("X-Hub-Signature-256")
    if settings.webhook_secret:
        if not signature or not signature.startswith("sha256="):
            return _error(401, "missing X-Hub-Signature-256")
        try:
            validate_event(body, signature=signature, secret=settings.webhook_secret)
        except ValidationFailure:
            return _error(401, "signature does not match")
    elif not settings.dry_run:
        return _error(401, "WEBHOOK_SECRET is not configured; refusing unsigned deliveries")
    event = request.headers.get("X-GitHub-Event", "")
    delivery = request.headers.get("X-GitHub-Delivery") or f"local-{uuid.uuid4()}"
    try:
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("payload is not a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        return _error(400, f"malformed JSON: {exc}")
    if event == "ping":
        return web.json_response({"msg": "pong"})
    if event not in HANDLED_EVENTS:
        return web.json_response({"status": "ignored", "event": event}, status=202)
    stored = await request.app[STORE].add_delivery(delivery, event, payload.get("action"), body, subject=subject_of(event, payload))
    request.app[web_routes.METRICS].delivery_stored(event, stored)
    if stored:
        request.app[PIPELINE].wake()
    return web.json_response({"status": "queued" if stored else "duplicate", "delivery": delivery}, status=202)


def subject_of(event: str, payload: dict) -> str | None:
    """Deliveries about one pull request are processed in order (a push after its opening)."""
    if event == "pull_request":
        repo = (payload.get("repository") or {}).get("full_name")
        number = payload.get("number") or (payload.get("pull_request") or {}).get("number")
        if repo and number:
            return f"pr:{repo}#{number}"[:300]
    return None


async def healthz(request: web.Request) -> web.Response:
    try:
        counts = await request.app[STORE].delivery_counts()
    except Exception as exc:  # the database is down: not healthy
        return web.json_response({"status": "error", "error": str(exc)}, status=503)
    return web.json_response({"status": "ok", "dry_run": request.app[SETTINGS].dry_run, "counts": counts})


async def status(request: web.Request) -> web.Response:
    store = request.app[STORE]
    return web.json_response({"counts": await store.delivery_counts(), "failures": await store.failures()})


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def make_app(settings: Settings, store: Store, pipeline: Pipeline, metrics: Metrics | None = None) -> web.Application:
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[STORE] = store
    app[PIPELINE] = pipeline
    app.router.add_post(WEBHOOK_PATH, webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/status", status)
    metrics = metrics or getattr(pipeline, "metrics", None) or Metrics()
    web_routes.setup(app, pipeline.rules, store, metrics, dashboard=settings.dashboard,
                     budgets=lambda: pipeline.gateway.write_budgets() if pipeline.gateway is not None else ())
    return app


async def serve(settings: Settings, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None) -> None:
    from bot.app import assemble

    bot = await assemble(settings)
    pipeline = bot.pipeline
    runner = web.AppRunner(bot.web, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    await pipeline.start()
    mode = "dry-run (no APP_ID/PRIVATE_KEY: actions are logged, not sent)" if settings.dry_run else "live"
    log.info("hackathon-bot listening on http://%s:%s%s, %s, %d campaign(s)", settings.host, settings.port,
             WEBHOOK_PATH, mode, len(pipeline.rules.campaigns))
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    background: list[asyncio.Task] = []
    if settings.sync_on_start and pipeline.gateway is not None:
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


async def _sync_at_start(pipeline: Pipeline) -> None:
    """SYNC_ON_START / `bot serve --sync`: catch up with GitHub (quietly) while serving."""
    from bot.sync import Syncer

    try:
        await Syncer(pipeline, out=lambda line: log.info("sync: %s", line)).sync()
    except Exception:
        log.exception("sync at start-up failed; the bot keeps serving (run `bot sync` to retry)")


def main(args=None) -> int:  # noqa: ANN001
    settings = Settings()
    if args is not None and getattr(args, "sync", False):
        settings.sync_on_start = True
    setup_logging(settings.log_level, settings.log_format)
    from bot.app import StartupError

    try:
        asyncio.run(serve(settings))
    except StartupError as exc:
        print(f"bot serve: {exc}", file=sys.stderr)
        return 2
    return 0
