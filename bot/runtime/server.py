"""The aiohttp app: webhook intake, health and status endpoints (`bot.app.serve` runs it).

Intake does the least it safely can before answering: size check (413), signature check
(HMAC-SHA256 over the raw body, constant-time; 401), JSON check (400), then the delivery is
stored in the inbox, deduplicated by X-GitHub-Delivery, and GitHub gets 202 at once. Workers
(see `pipeline`) do the rest. Event types the bot does not handle are acknowledged and not stored.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import resource
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from gidgethub import ValidationFailure
from gidgethub.sansio import validate_event

from bot import jsonio
from bot import web as web_routes
from bot.github.events import ACCESS_EVENTS, HANDLED_EVENTS
from bot.metrics import Metrics
from bot.runtime.health import Health
from bot.runtime.pipeline import Pipeline
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/github/webhooks"
BODY_SECONDS = 10.0  # a delivery's body must arrive within this once its headers did
OPERATOR_PATHS = frozenset({"/status", "/metrics"})  # deliveries, failures, budgets: STATUS_TOKEN only
STORE = web.AppKey("store", Store)
PIPELINE = web.AppKey("pipeline", Pipeline)
SETTINGS = web.AppKey("settings", Settings)
HEALTH = web.AppKey("health", Health)


async def webhook(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    if request.content_length is not None and request.content_length > settings.max_body_bytes:
        return _error(413, "payload too large")
    try:
        body = await asyncio.wait_for(request.read(), BODY_SECONDS)
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "payload too large")
    except TimeoutError:  # a body dribbled in to hold the connection: GitHub sends it at once
        return _error(408, f"the body did not arrive within {BODY_SECONDS:g} s")
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
    if len(delivery) > 64:
        return _error(400, "X-GitHub-Delivery is longer than 64 characters")
    try:
        payload = jsonio.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("payload is not a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        return _error(400, f"malformed JSON: {exc}")
    if event == "ping":
        return web.json_response({"msg": "pong"})
    if event in ACCESS_EVENTS:
        # Someone's rights changed: forget cached permissions at once (this process; others within a minute).
        repo = (payload.get("repository") or {}).get("full_name") if event == "member" else None
        request.app[PIPELINE].forget_permissions(repo if isinstance(repo, str) else None)
        log.info("delivery %s %s: permission cache cleared for %s", delivery, event, repo or "every repository")
        return web.json_response({"status": "applied", "event": event}, status=202)
    if event not in HANDLED_EVENTS:
        return web.json_response({"status": "ignored", "event": event}, status=202)
    problem = shape_problem(event, payload)
    if problem:
        log.warning("delivery %s %s refused: %s", delivery, event, problem)
        return _error(422, problem)
    try:
        stored = await request.app[PIPELINE].receive(
            delivery, event, payload.get("action"), body, payload, subject_of(event, payload)
        )
    except Exception as exc:  # the database refused this one delivery: GitHub redelivers it later
        log.error("delivery %s %s not stored: %s", delivery, event, str(exc).splitlines()[0] if str(exc) else exc)
        return _error(503, "could not store the delivery; retry later")
    request.app[web_routes.METRICS].delivery_stored(event, stored)
    return web.json_response({"status": "queued" if stored else "duplicate", "delivery": delivery}, status=202)


def shape_problem(event: str, payload: dict) -> str | None:
    """Why a handled event's payload cannot be queued (None when it can): the fields the inbox
    stores must have their documented types, so one odd payload never fails its intake batch."""
    action = payload.get("action")
    if event == "push":  # the one handled event without an action
        if not isinstance(payload.get("ref"), str) or not isinstance(payload.get("repository"), dict):
            return "a push needs 'ref' and 'repository'"
    elif not isinstance(action, str) or not action or len(action) > 64:
        return "field 'action' must be a non-empty string"
    for key in ("repository", "sender"):
        if key in payload and not isinstance(payload[key], dict):
            return f"field {key!r} must be an object"
    return None


def subject_of(event: str, payload: dict) -> str | None:
    """Deliveries about one pull request are processed in order (a push after its opening), and so
    are the pushes to one repository (its campaign folders are read in the order they changed)."""
    if event == "push":
        repo = (payload.get("repository") or {}).get("full_name")
        return f"push:{repo}"[:300] if isinstance(repo, str) else None
    if event == "pull_request":
        repo = (payload.get("repository") or {}).get("full_name")
        number = payload.get("number") or (payload.get("pull_request") or {}).get("number")
        if repo and number:
            return f"pr:{repo}#{number}"[:300]
    return None


def operator(request: web.Request) -> bool | None:
    """Whether the request carries the operator's token (`Authorization: Bearer <STATUS_TOKEN>`,
    compared in constant time); None when no token is configured (the operator pages are off)."""
    token = request.app[SETTINGS].status_token
    if not token:
        return None
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@web.middleware
async def operator_only(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The operator pages (`OPERATOR_PATHS`: delivery ids, failed targets, error texts, budgets)
    answer only the operator: 404 when STATUS_TOKEN is unset, 401 without the token."""
    if request.path in OPERATOR_PATHS:
        allowed = operator(request)
        if allowed is None:
            return _error(404, "not found (operator pages are off: set STATUS_TOKEN)")
        if not allowed:
            resp = _error(401, "operator page: send Authorization: Bearer <STATUS_TOKEN>")
            resp.headers["WWW-Authenticate"] = 'Bearer realm="hackathon-bot"'
            return resp
    return await handler(request)


async def healthz(request: web.Request) -> web.Response:
    """200 when the bot can keep what it acknowledges; 503 when the database cannot be written,
    its file is gone or replaced, or its disk is full. To anyone it says only that; to the
    operator (STATUS_TOKEN) it lists the reasons, the warnings (a store that looks lost: see
    `health.StateGuard`) and the delivery counts."""
    if not operator(request):
        return await _public_healthz(request)
    warnings = request.app[PIPELINE].warnings()
    try:
        problems = await request.app[HEALTH].problems()
        counts = await request.app[STORE].delivery_counts() if not problems else {}
    except Exception as exc:  # the database is down: not healthy
        problems = [f"the database cannot be read: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"]
    if problems:
        log.error("healthz: %s", "; ".join(problems))
        return web.json_response({"status": "error", "problems": problems, "warnings": warnings}, status=503)
    return web.json_response({"status": "ok", "dry_run": request.app[SETTINGS].dry_run, "counts": counts, "warnings": warnings})


async def _public_healthz(request: web.Request) -> web.Response:
    """/healthz for anyone (a load balancer): the verdict, none of the details (paths, error texts)."""
    try:
        problems = await request.app[HEALTH].problems()
    except Exception as exc:
        problems = [f"the database cannot be read: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"]
    if problems:
        log.error("healthz: %s", "; ".join(problems))
        return web.json_response({"status": "error"}, status=503)
    return web.json_response({"status": "ok"})


async def status(request: web.Request) -> web.Response:
    store = request.app[STORE]
    return web.json_response(
        {"counts": await store.delivery_counts(), "failures": await store.failures(), "jobs": await store.jobs_info()}
    )


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


# ---- connections: a flood of idle or slow ones never takes the port down ---------------------------
KEEPALIVE_SECONDS = 15.0  # an idle keep-alive connection (or one dribbling its next request's headers) is closed after this
FD_RESERVE = 320  # descriptors kept for everything else (GitHub's 200 connections, the database, the worker, logs)


def connection_cap(wanted: int) -> int:
    """How many client connections may be open at once: `wanted`, but never so many that the
    process runs out of file descriptors (its soft limit is raised to the hard one first)."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or hard > soft):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    except (ValueError, OSError):  # not allowed to raise it: live with the soft limit
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(16, min(wanted, soft - FD_RESERVE))


class _Guarded(asyncio.Protocol):
    """One client connection, handed to aiohttp's own protocol (`inner`) unchanged; the guard
    watches only whether its first request's headers are complete."""

    def __init__(self, guard: ConnectionGuard, inner: Any) -> None:
        self.guard = guard
        self.inner = inner
        self.transport: asyncio.Transport | None = None
        self.head = False  # the first request's headers arrived
        self.refused = False  # closed by the guard before aiohttp saw it
        self._tail = b""
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if not self.guard.admit(self):
            self.refused = True
            transport.abort()  # type: ignore[attr-defined]
            return
        self._timer = asyncio.get_running_loop().call_later(self.guard.header_timeout, self.expire)
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if not self.head:
            seen = self._tail + data
            if b"\r\n\r\n" in seen or b"\n\n" in seen:
                self.headed()
            else:
                self._tail = seen[-3:]
        self.inner.data_received(data)

    def headed(self) -> None:
        self.head = True
        self._tail = b""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.guard.headed(self)

    def expire(self) -> None:
        """The headers did not come in time: close (aiohttp answers nothing to half a request)."""
        self._timer = None
        if not self.head and self.transport is not None:
            self.guard.expired += 1
            self.guard.evict(self)

    def eof_received(self) -> bool | None:
        return None if self.refused else self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.guard.lost(self)
        if not self.refused:
            self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if not self.refused:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if not self.refused:
            self.inner.resume_writing()


class ConnectionGuard:
    """Keeps the webhook port answering under a flood of connections:
    - a connection must send its first request's headers within `header_timeout` seconds, or it
      is closed (aiohttp itself waits for ever); later requests on a kept-alive connection fall
      under aiohttp's keep-alive timeout (`KEEPALIVE_SECONDS`);
    - at most `cap` connections are open: one more evicts the oldest connection still waiting
      for its headers (a real client sends them at once, so it is never the oldest for long), or,
      when every open connection is busy with a request, is itself closed at once."""

    def __init__(self, cap: int, header_timeout: float) -> None:
        self.cap = cap
        self.header_timeout = header_timeout
        self._open: set[_Guarded] = set()
        self._waiting: dict[_Guarded, None] = {}  # without headers yet, oldest first
        self.evicted = 0
        self.expired = 0
        self.refused = 0

    def factory(self, inner: Callable[[], Any]) -> Callable[[], _Guarded]:
        return lambda: _Guarded(self, inner())

    def admit(self, conn: _Guarded) -> bool:
        if len(self._open) >= self.cap:
            victim = next(iter(self._waiting), None)
            if victim is None:
                self.refused += 1
                return False
            self.evicted += 1
            self.evict(victim)
        self._open.add(conn)
        self._waiting[conn] = None
        return True

    def headed(self, conn: _Guarded) -> None:
        self._waiting.pop(conn, None)

    def evict(self, conn: _Guarded) -> None:
        self._open.discard(conn)
        self._waiting.pop(conn, None)
        if conn.transport is not None:
            conn.transport.abort()

    def lost(self, conn: _Guarded) -> None:
        self._open.discard(conn)
        self._waiting.pop(conn, None)

    def open_connections(self) -> int:
        return len(self._open)


class GuardedRunner(web.AppRunner):
    """An AppRunner whose sites accept connections through a `ConnectionGuard`, with a short
    keep-alive (aiohttp's own default keeps an idle connection for an hour)."""

    def __init__(self, app: web.Application, guard: ConnectionGuard, **kwargs: Any) -> None:
        kwargs.setdefault("keepalive_timeout", KEEPALIVE_SECONDS)
        super().__init__(app, **kwargs)
        self.guard = guard

    @property
    def server(self) -> Any:
        inner = super().server
        return None if inner is None else self.guard.factory(inner)


def make_app(settings: Settings, store: Store, pipeline: Pipeline, metrics: Metrics | None = None) -> web.Application:
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[operator_only])
    app[SETTINGS] = settings
    app[STORE] = store
    app[PIPELINE] = pipeline
    app[HEALTH] = Health(store)
    app.router.add_post(WEBHOOK_PATH, webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/status", status)
    metrics = metrics or pipeline.metrics
    web_routes.setup(
        app,
        pipeline.rules,
        store,
        metrics,
        dashboard=settings.dashboard,
        budgets=pipeline.github.write_budgets,
        refused=pipeline.catalog.refused if pipeline.catalog is not None else None,
    )
    return app
