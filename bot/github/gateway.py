"""The GitHub gateway: the one place that talks to GitHub's REST API.

It owns App authentication (RS256 App JWT -> installation token, cached per installation
until five minutes before it expires; concurrent callers share one mint), every HTTP call
(gidgethub's sans-I/O helpers over the caller's aiohttp session, with a per-request
timeout), retries, GitHub's rate limits and the secondary limit on content creation.

Failure policy, decided by the pure `classify` below:

* 2xx: the decoded body.
* 5xx, timeouts, connection errors: retried with exponential backoff and full jitter
  (tenacity), at most `max_attempts` attempts, each wait capped at `max_wait`.
* Rate limits (429; 403 with ``Retry-After``, with ``x-ratelimit-remaining: 0``, or whose
  body says "secondary rate limit" / "abuse"): the wait GitHub asks for (``Retry-After``
  seconds, else until ``x-ratelimit-reset``, else one minute) is honoured. If that wait is
  longer than `max_wait` the call fails at once with a `GitHubError` whose ``retry_after``
  says when to try again, rather than holding a worker for an hour.
* 401 with an installation token: the cached token is dropped and a new one minted, once.
* Any other 4xx: `PermanentError` at once, never retried.

Content-creating requests (POST/PATCH/PUT/DELETE) are made one at a time per installation
(as GitHub asks; a `priority` write, the board's, goes before queued ordinary ones) and
within a `WriteBudget`: at most `max_creates_per_minute` in any minute and
`max_creates_per_hour` in any hour, counted when GitHub has received the write (its answer
came back) over a window widened by `BUDGET_MARGIN`; ordinary writes leave an eighth of
both to priority writes. More wait their turn (never dropped). Every attempt counts,
retries included, as GitHub counts them. A 403/429 rate-limit answer to a write pauses
every write of that installation for the wait GitHub asked. The budget is in memory by
default; `bot.store.StoreBudget` shares it between replicas through the database.

GETs of an issue are conditional (`If-None-Match` with the last ``ETag``): a 304 costs no
rate limit and answers from the cache (`Installation.not_modified` counts them).

`sleep` and `clock` are injectable so tests run without waiting.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import functools
import heapq
import itertools
import json
import logging
import random
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol
from urllib.parse import quote

import aiohttp
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from gidgethub import apps, sansio
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from bot.github.api import NO_INSTALLATION, GitHubError, PermanentError, TransientError

ACCEPT = "application/vnd.github+json"
API_VERSION = "2022-11-28"
TOKEN_MARGIN = 300.0  # refresh an installation token this many seconds before it expires
WINDOW = 60.0  # the secondary limit's window for content-creating requests
HOUR = 3600.0
BUDGET_MARGIN = 2.0  # seconds added to each window: GitHub's clock and ours need not agree
ETAG_CACHE = 256  # conditional GETs remembered per installation
FILES_KEPT = 50_000  # changed files remembered per installation (by PR and head commit) at most
DEFAULT_RATE_LIMIT_WAIT = 60.0  # GitHub: without other hints, wait at least a minute
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
PERMISSIONS = ("admin", "maintain", "write", "triage", "read", "none")

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ errors


# ------------------------------------------------------------------ the pure core


@dataclass(frozen=True)
class Verdict:
    """What to do with one HTTP response."""

    kind: Literal["ok", "retry", "rate_limited", "unauthorized", "permanent"]
    wait: float | None = None  # seconds to wait before retrying (rate limits)
    message: str = ""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name:
            return v
    return None


def _message(body: Any) -> str:
    if isinstance(body, Mapping):
        msg = str(body.get("message") or "")
        errors = body.get("errors")
        if errors:
            msg += " " + json.dumps(errors, ensure_ascii=False)
        return msg.strip()
    return str(body or "")[:500]


def rate_limit_wait(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds GitHub asks us to wait: ``Retry-After``, else ``x-ratelimit-reset`` when
    ``x-ratelimit-remaining`` is 0; None when the headers say nothing."""
    retry_after = _header(headers, "retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
    if _header(headers, "x-ratelimit-remaining") == "0":
        reset = _header(headers, "x-ratelimit-reset")
        try:
            return max(0.0, float(reset) - now) + 1.0 if reset is not None else None
        except ValueError:
            return None
    return None


def classify(status: int, headers: Mapping[str, str], body: Any, now: float) -> Verdict:
    """Decide what a response means (see the module docstring for the policy)."""
    if 200 <= status < 300:
        return Verdict("ok")
    message = _message(body) or str(status)
    if status >= 500:
        return Verdict("retry", message=message)
    if status == 401:
        return Verdict("unauthorized", message=message)
    if status in (403, 429):
        wait = rate_limit_wait(headers, now)
        lowered = message.lower()
        secondary = "rate limit" in lowered or "abuse" in lowered
        if status == 429 or wait is not None or secondary:
            return Verdict("rate_limited", wait if wait is not None else DEFAULT_RATE_LIMIT_WAIT, message)
    return Verdict("permanent", message=message)


def parse_expiry(expires_at: str) -> float:
    """GitHub's ``expires_at`` (``2016-07-11T22:14:10Z``) as epoch seconds."""
    return datetime.fromisoformat(expires_at.replace("Z", "+00:00")).timestamp()


def token_is_fresh(expires_at: float, now: float, margin: float = TOKEN_MARGIN) -> bool:
    return now < expires_at - margin


def backoff(attempt: int, *, base: float = 0.5, cap: float = 60.0, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**(attempt-1))]."""
    return rng() * min(cap, base * 2 ** max(0, attempt - 1))


class SlidingWindow:
    """At most `limit` events in any `window` seconds; `delay` says how long to wait first."""

    def __init__(self, limit: int, window: float = WINDOW) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()

    def delay(self, now: float, cap: int | None = None) -> float:
        """Seconds until another event may start (0 if it may start now), counting at most
        `cap` events in the window (default: the limit; a lower cap keeps room for others)."""
        cap = self.limit if cap is None else min(cap, self.limit)
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()
        if len(self._times) < cap:
            return 0.0
        return self._times[len(self._times) - cap] + self.window - now

    def record(self, now: float) -> None:
        self._times.append(now)

    def used(self, now: float) -> int:
        """Events in the window ending now."""
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()
        return len(self._times)


def reserved_share(limit: int) -> int:
    """How much of a budget ordinary writes leave to priority (board) writes: an eighth, at least 1."""
    return max(1, limit // 8) if limit > 1 else 0


def budget_wait(
    minute: list[float],
    hour: list[float],
    now: float,
    *,
    per_minute: int,
    per_hour: int,
    priority: bool,
    paused_until: float = 0.0,
    margin: float = BUDGET_MARGIN,
) -> float:
    """Seconds before another write may start (0: now), given the times GitHub received the
    recent writes (`minute`: those of the last minute + margin; `hour`: of the last hour +
    margin, both sorted), the limits, and a pause GitHub imposed. Pure."""
    wait = max(0.0, paused_until - now)
    for times, limit, window in ((minute, per_minute, WINDOW), (hour, per_hour, HOUR)):
        cap = limit if priority else limit - reserved_share(limit)
        recent = [t for t in times if t > now - window - margin]
        if len(recent) >= cap:
            wait = max(wait, recent[len(recent) - cap] + window + margin - now)
    return wait


def spent_share(times: list[float], now: float, *, per_minute: int, per_hour: int) -> float:
    """The share of the budget the writes at `times` use now: the fuller of the minute and the hour. Pure."""
    minute = sum(1 for t in times if t > now - WINDOW)
    hour = sum(1 for t in times if t > now - HOUR)
    return max(minute / per_minute, hour / per_hour)


class WriteBudget(Protocol):
    """Where the content-creation budget of installations is kept (memory, or the store)."""

    async def reserve(self, installation_id: int, *, priority: bool, now: float) -> tuple[float, Any]:
        """(0, ticket) when a write may start now (it is counted from now on), else (seconds to wait, None)."""
        ...

    async def received(self, installation_id: int, ticket: Any, now: float) -> None:
        """The write of `ticket` was answered at `now` (GitHub received it by then)."""
        ...

    async def pause(self, installation_id: int, until: float) -> None:
        """GitHub refused a write: no write of this installation before `until`."""
        ...

    def spent(self, installation_id: int, now: float) -> float:
        """How much of the installation's budget is used (0 to 1: the fuller of the minute and the hour)."""
        ...


class MemoryBudget:
    """The write budget of one process."""

    def __init__(self, per_minute: int = 80, per_hour: int = 500) -> None:
        if per_minute < 1 or per_hour < 1:
            raise ValueError("limits must be at least 1")
        self.per_minute = per_minute
        self.per_hour = per_hour
        self._times: dict[int, list[list[float]]] = {}
        self._paused: dict[int, float] = {}

    async def reserve(self, installation_id: int, *, priority: bool, now: float) -> tuple[float, Any]:
        cells = self._times.setdefault(installation_id, [])
        while cells and cells[0][0] <= now - HOUR - BUDGET_MARGIN:
            cells.pop(0)
        times = sorted(c[0] for c in cells)
        wait = budget_wait(
            times,
            times,
            now,
            per_minute=self.per_minute,
            per_hour=self.per_hour,
            priority=priority,
            paused_until=self._paused.get(installation_id, 0.0),
        )
        if wait > 0:
            return wait, None
        cell = [now]
        cells.append(cell)
        return 0.0, cell

    def left(self, installation_id: int, now: float) -> int:
        """Writes still allowed in the minute ending now (for the metrics)."""
        recent = [c for c in self._times.get(installation_id, []) if c[0] > now - WINDOW]
        return max(0, self.per_minute - len(recent))

    def spent(self, installation_id: int, now: float) -> float:
        times = [c[0] for c in self._times.get(installation_id, [])]
        return spent_share(times, now, per_minute=self.per_minute, per_hour=self.per_hour)

    async def received(self, installation_id: int, ticket: Any, now: float) -> None:
        ticket[0] = max(ticket[0], now)
        self._times.get(installation_id, []).sort()

    async def pause(self, installation_id: int, until: float) -> None:
        self._paused[installation_id] = max(until, self._paused.get(installation_id, 0.0))


class _WriteLane:
    """One content-creating request at a time; priority waiters go first, then arrival order."""

    def __init__(self) -> None:
        self._busy = False
        self._waiters: list[tuple[int, int, asyncio.Future]] = []
        self._seq = itertools.count()

    async def acquire(self, priority: bool) -> None:
        if not self._busy and not self._waiters:
            self._busy = True
            return
        fut = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (0 if priority else 1, next(self._seq), fut))
        try:
            await fut
        except BaseException:
            if fut.done() and not fut.cancelled():
                self.release()  # it was handed the lane just as it was cancelled: pass it on
            else:
                self._waiters = [w for w in self._waiters if w[2] is not fut]
                heapq.heapify(self._waiters)
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, fut = heapq.heappop(self._waiters)
            if not fut.done():
                fut.set_result(None)
                return
        self._busy = False


# ------------------------------------------------------------------ the shell


class Gateway:
    """One per process: App credentials, the token cache, and the installations' clients."""

    def __init__(
        self,
        *,
        api_url: str,
        app_id: str | int,
        private_key: str,
        session: aiohttp.ClientSession,
        user_agent: str = "hackathon-bot",
        max_creates_per_minute: int = 80,
        max_creates_per_hour: int = 500,
        budget: WriteBudget | None = None,
        max_attempts: int = 6,
        max_wait: float = 60.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.app_id = str(app_id)
        self._private_key = private_key
        self._signing_key: Any = None
        self._session = session
        self.user_agent = user_agent
        self.max_creates_per_minute = max_creates_per_minute
        self.max_creates_per_hour = max_creates_per_hour
        self.budget: WriteBudget = budget or MemoryBudget(max_creates_per_minute, max_creates_per_hour)
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self._sleep = sleep
        self._clock = clock
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._tokens: dict[int, tuple[str, float]] = {}
        self._token_locks: dict[int, asyncio.Lock] = {}
        self._installations: dict[int, Installation] = {}
        self._login: str | None = None
        self._login_lock = asyncio.Lock()
        self.calls = 0  # App-level requests (GET /app, token mints)

    # ---- App level

    def _jwt(self) -> str:
        # iat 60 s in the past (clock drift), exp 9 min after iat: within GitHub's 10 minutes.
        if self._signing_key is None:  # parsed once: parsing the PEM takes ~40 ms of the event loop
            self._signing_key = load_pem_private_key(self._private_key.encode(), password=None)
        return apps.get_jwt(app_id=self.app_id, private_key=self._signing_key, expiration=9 * 60)  # type: ignore[arg-type]

    async def app_login(self) -> str:
        """The App's own login, ``<slug>[bot]`` (to recognise and ignore its own comments)."""
        async with self._login_lock:
            if self._login is None:
                data, _ = await self._call("GET", "/app", auth=self._app_auth, owner=None)
                self._login = f"{data['slug']}[bot]"
        return self._login

    def request_count(self) -> int:
        """HTTP requests made so far: App-level ones and every installation's."""
        return self.calls + sum(i.calls for i in self._installations.values())

    def budget_spent(self, installation_id: int) -> float:
        """The share of an installation's write budget in use (0 to 1, see `WriteBudget.spent`)."""
        return self.budget.spent(installation_id, self._clock())

    def write_budgets(self) -> list[tuple[int, int]]:
        """(installation id, content-creating requests left this minute) for each installation used so far."""
        return [(i, inst.writes_left()) for i, inst in sorted(self._installations.items())]

    async def installations(self) -> list[dict]:
        """Every installation of the App (App JWT), page by page."""
        out: list[dict] = []
        url: str | None = "/app/installations"
        params: dict | None = {"per_page": 100}
        while url:
            page, url = await self._call("GET", url, auth=self._app_auth, owner=None, params=params)
            params = None
            out += list(page or [])
        return out

    async def repo_installation(self, repo: str) -> int:
        """The id of the App's installation on a repository (App JWT; `bot sync` before any delivery)."""
        data, _ = await self._call("GET", f"/repos/{repo}/installation", auth=self._app_auth, owner=None)
        return int(data["id"])

    async def hook_deliveries(self, next_url: str | None = None) -> tuple[list[dict], str | None]:
        """One page of the App's webhook deliveries, newest first (App JWT), and the next page's URL."""
        data, nxt = await self._call(
            "GET",
            next_url or "/app/hook/deliveries",
            auth=self._app_auth,
            owner=None,
            params=None if next_url else {"per_page": 100},
        )
        return list(data or []), nxt

    async def redeliver(self, hook_delivery_id: int) -> None:
        """Ask GitHub to send a webhook delivery again (it keeps its X-GitHub-Delivery GUID)."""
        await self._call("POST", f"/app/hook/deliveries/{hook_delivery_id}/attempts", auth=self._app_auth, owner=None)

    async def installation(self, installation_id: int | None) -> Installation:
        """The client for one installation (one object per id; its token is ready)."""
        if installation_id is None:
            raise PermanentError(0, NO_INSTALLATION)
        inst = self._installations.get(installation_id)
        if inst is None:
            inst = self._installations[installation_id] = Installation(self, installation_id)
        await self._token(installation_id)
        return inst

    async def _app_auth(self) -> str:
        return f"bearer {self._jwt()}"

    async def _token(self, installation_id: int, *, stale: str | None = None) -> str:
        """A fresh installation token; one mint at a time per installation. `stale` is a token
        GitHub just refused: it is dropped unless another caller already replaced it."""
        lock = self._token_locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(installation_id)
            if cached is not None and stale is not None and cached[0] == stale:
                del self._tokens[installation_id]
                cached = None
            if cached is not None and token_is_fresh(cached[1], self._clock()):
                return cached[0]
            data, _ = await self._call(
                "POST", f"/app/installations/{installation_id}/access_tokens", auth=self._app_auth, owner=None
            )
            token, expires = data["token"], parse_expiry(data["expires_at"])
            self._tokens[installation_id] = (token, expires)
            return token

    # ---- one logical request, with retries

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hint = getattr(exc, "retry_after", None) or 0.0
        return min(self.max_wait, max(hint, backoff(state.attempt_number, cap=self.max_wait)))

    async def _call(
        self,
        method: str,
        url: str,
        *,
        auth: Callable[[], Awaitable[str]],
        owner: Installation | None,
        data: Any = None,
        params: Mapping[str, Any] | None = None,
        priority: bool = False,
        conditional: bool = False,
    ) -> tuple[Any, str | None]:
        """(decoded body, next page URL) of one request, retried per the policy. `conditional`: a
        GET sent with the last ETag of this URL; a 304 answers from the cache."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(TransientError),
            sleep=self._sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._attempt(
                    method, url, auth=auth, owner=owner, data=data, params=params, priority=priority, conditional=conditional
                )
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self,
        method: str,
        url: str,
        *,
        auth: Callable[[], Awaitable[str]],
        owner: Installation | None,
        data: Any,
        params: Mapping[str, Any] | None,
        priority: bool = False,
        conditional: bool = False,
    ) -> tuple[Any, str | None]:
        full = url if url.startswith(("http://", "https://")) else self.api_url + "/" + url.lstrip("/")
        body = b"" if data is None else json.dumps(data).encode()
        for second_try in (False, True):
            authorization = await auth()
            cached = owner._etags.get(full) if owner is not None and conditional and method == "GET" else None
            extra = {"if-none-match": cached[0]} if cached else {}
            if owner is not None and method in WRITE_METHODS:
                status, headers, raw = await owner._write(
                    priority, functools.partial(self._send, method, full, authorization, body, params, owner, extra)
                )
            else:
                status, headers, raw = await self._send(method, full, authorization, body, params, owner, extra)
            if owner is not None:
                owner._rate_seen(headers)
            if status == 304 and cached is not None and owner is not None:
                owner.not_modified += 1
                owner._etags.move_to_end(full)
                return copy.deepcopy(cached[1]), cached[2]  # (a page of a list: the next page's URL too)
            if 200 <= status < 300:
                decoded, _, next_url = sansio.decipher_response(status, headers, raw)
                etag = _header(headers, "etag")
                if owner is not None and etag and conditional:
                    owner._remember(full, etag, decoded, next_url)
                return decoded, next_url
            try:
                decoded = json.loads(raw) if raw else None
            except ValueError:
                decoded = raw.decode(errors="replace")
            verdict = classify(status, headers, decoded, self._clock())
            if verdict.kind == "unauthorized" and owner is not None and not second_try:
                await self._token(owner.installation_id, stale=authorization.split(" ", 1)[1])
                continue
            if verdict.kind == "retry":
                raise TransientError(status, verdict.message, method=method, url=full)
            if verdict.kind == "rate_limited":
                if owner is not None and method in WRITE_METHODS:
                    log.warning(
                        "GitHub refused a write of installation %s (%s); its writes pause for %.0f s",
                        owner.installation_id,
                        verdict.message,
                        verdict.wait or 0,
                    )
                    await self.budget.pause(owner.installation_id, self._clock() + (verdict.wait or 0.0))
                if verdict.wait is not None and verdict.wait > self.max_wait:
                    raise GitHubError(status, verdict.message, method=method, url=full, retry_after=verdict.wait)
                raise TransientError(status, verdict.message, method=method, url=full, retry_after=verdict.wait)
            raise PermanentError(status, verdict.message, method=method, url=full)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self,
        method: str,
        url: str,
        authorization: str,
        body: bytes,
        params: Mapping[str, Any] | None,
        owner: Installation | None,
        extra: Mapping[str, str] | None = None,
    ) -> tuple[int, Mapping[str, str], bytes]:
        headers = sansio.create_headers(self.user_agent, accept=ACCEPT)
        headers.update(extra or {})
        headers["authorization"] = authorization
        headers["x-github-api-version"] = API_VERSION
        if body:
            headers["content-type"] = "application/json; charset=utf-8"
        if owner is None:
            self.calls += 1
        else:
            owner.calls += 1
        try:
            async with self._session.request(
                method, url, headers=headers, data=body or None, params=dict(params) if params else None, timeout=self._timeout
            ) as resp:
                return resp.status, resp.headers, await resp.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            text = f"{type(exc).__name__}: {exc}"
            if owner is not None and method == "POST" and not isinstance(exc, aiohttp.ClientConnectorError):
                # The request may have reached GitHub (a comment may exist now): sending it again at
                # once could post twice. Let the caller retry later, after it looked for its own marker.
                raise GitHubError(0, f"{text} (may have been applied; not resent)", method=method, url=url) from exc
            raise TransientError(0, text, method=method, url=url) from exc


class TokenGateway(Gateway):
    """GitHub as one token sees it (a GitHub Actions run's `GITHUB_TOKEN`, or an App installation
    token from `actions/create-github-app-token`): every installation id is that token, which is
    never minted nor refreshed here; `login` is who its writes appear as."""

    ACTIONS_LOGIN = "github-actions[bot]"  # GITHUB_TOKEN's writes appear as this bot

    def __init__(self, *, api_url: str, token: str, session: aiohttp.ClientSession, login: str = ACTIONS_LOGIN, **kw: Any):
        super().__init__(api_url=api_url, app_id="", private_key="", session=session, **kw)
        self._fixed = token
        self._login = login

    async def installation(self, installation_id: int | None) -> Installation:
        inst = self._installations.get(0)
        if inst is None:
            inst = self._installations[0] = Installation(self, 0)
        return inst

    async def _token(self, installation_id: int, *, stale: str | None = None) -> str:
        return self._fixed

    async def app_login(self) -> str:
        return self._login or self.ACTIONS_LOGIN

    async def installations(self) -> list[dict]:
        return [{"id": 0}]

    async def repo_installation(self, repo: str) -> int:
        return 0


class Installation:
    """Calls made as one installation of the App (its token, its write budget, its count)."""

    def __init__(self, gateway: Gateway, installation_id: int) -> None:
        self._gateway = gateway
        self.installation_id = installation_id
        self.calls = 0  # HTTP requests made as this installation (retries included)
        self.not_modified = 0  # of which conditional GETs answered 304 (free)
        self._lane = _WriteLane()
        self._etags: OrderedDict[str, tuple[str, Any, str | None]] = OrderedDict()  # url -> (etag, body, next page)
        self._files: OrderedDict[tuple[str, int, str | None], list[dict]] = OrderedDict()  # per head commit
        self._files_kept = 0  # files in `_files`
        self._rate: tuple[int, int, float] | None = None  # GitHub's primary limit: (remaining, limit, reset epoch)

    def _rate_seen(self, headers: Mapping[str, str]) -> None:
        """Remember the primary rate limit an answer reported (`x-ratelimit-*`)."""
        remaining, limit, reset = (_header(headers, f"x-ratelimit-{k}") for k in ("remaining", "limit", "reset"))
        if remaining is None or limit is None:
            return
        try:
            self._rate = (int(remaining), int(limit), float(reset or 0))
        except ValueError:
            pass

    def rate_limit(self) -> tuple[int, int, float] | None:
        """The installation's primary rate limit as GitHub last reported it: (requests left, the
        hourly limit, when it resets in epoch seconds); None before any answer said."""
        return self._rate

    async def _auth(self) -> str:
        return f"token {await self._gateway._token(self.installation_id)}"

    def _remember(self, url: str, etag: str, body: Any, next_url: str | None = None) -> None:
        if isinstance(body, list):  # a page of a PR's files: the bot never reads the diffs, so none is kept
            body = [{k: v for k, v in x.items() if k != "patch"} if isinstance(x, dict) else x for x in body]
        self._etags[url] = (etag, body, next_url)
        self._etags.move_to_end(url)
        while len(self._etags) > ETAG_CACHE:
            self._etags.popitem(last=False)

    async def _write(
        self, priority: bool, send: Callable[[], Awaitable[tuple[int, Mapping[str, str], bytes]]]
    ) -> tuple[int, Mapping[str, str], bytes]:
        """Send one content-creating request: in turn (one at a time per installation, priority
        first) and within the budget, counted when GitHub answered. Waits, never drops."""
        gw = self._gateway
        while True:
            await self._lane.acquire(priority)
            try:
                wait, ticket = await gw.budget.reserve(self.installation_id, priority=priority, now=gw._clock())
                if wait <= 0:
                    try:
                        return await send()
                    finally:
                        await gw.budget.received(self.installation_id, ticket, gw._clock())
            finally:
                self._lane.release()
            await gw._sleep(wait)

    def request_count(self) -> int:
        return self.calls

    def writes_left(self) -> int:
        """Content-creating requests this installation may still start in the current minute."""
        left = getattr(self._gateway.budget, "left", None)
        return left(self.installation_id, self._gateway._clock()) if left else self._gateway.max_creates_per_minute

    # ---- generic

    async def request(
        self, method: str, url: str, *, data: Any = None, params: dict | None = None, priority: bool = False
    ) -> Any:
        """One call; `url` relative to the API root (``/repos/...``) or absolute. A `priority`
        write may use the budget ordinary writes leave free (the board edit uses it)."""
        body, _ = await self._gateway._call(
            method.upper(), url, auth=self._auth, owner=self, data=data, params=params, priority=priority
        )
        return body

    async def paginate(self, url: str, *, params: dict | None = None, conditional: bool = False) -> list:
        """Every item of a list endpoint, 100 per page, following ``Link: rel="next"``
        (`conditional`: each page with its last ETag: an unchanged page costs no rate limit)."""
        items: list = []
        next_url: str | None = url
        page_params: dict | None = {"per_page": 100, **(params or {})}
        while next_url:
            body, next_url = await self._gateway._call(
                "GET", next_url, auth=self._auth, owner=self, params=page_params, conditional=conditional
            )
            page_params = None  # the next link carries the query
            if isinstance(body, dict):  # wrapped lists ({"total_count": n, "check_runs": [...]})
                body = next((v for v in body.values() if isinstance(v, list)), [])
            items.extend(body)
        return items

    # ---- issues and comments

    async def create_comment(self, repo: str, number: int, body: str) -> dict:
        return await self.request("POST", f"/repos/{repo}/issues/{number}/comments", data={"body": body})

    async def edit_comment(self, repo: str, comment_id: int, body: str) -> dict:
        return await self.request("PATCH", f"/repos/{repo}/issues/comments/{comment_id}", data={"body": body})

    async def list_comments(self, repo: str, number: int, *, since: datetime | None = None) -> list[dict]:
        params = {"since": since.strftime("%Y-%m-%dT%H:%M:%SZ")} if since is not None else None
        return await self.paginate(f"/repos/{repo}/issues/{number}/comments", params=params)

    async def list_repo_comments(self, repo: str, *, since: datetime | None = None) -> list[dict]:
        params = {"sort": "created", "direction": "asc"}
        if since is not None:
            params["since"] = since.strftime("%Y-%m-%dT%H:%M:%SZ")
        return await self.paginate(f"/repos/{repo}/issues/comments", params=params)

    async def get_issue(self, repo: str, number: int) -> dict:
        """The issue; a conditional request (an unchanged issue costs no rate limit)."""
        body, _ = await self._gateway._call(
            "GET", f"/repos/{repo}/issues/{number}", auth=self._auth, owner=self, conditional=True
        )
        return body

    async def edit_issue(self, repo: str, number: int, *, priority: bool = False, **fields: Any) -> dict:
        """Edit an issue (the board edit is a `priority` write: see `_write`). Its answer's ETag is
        remembered for the next conditional read of the issue."""
        body, _ = await self._gateway._call(
            "PATCH",
            f"/repos/{repo}/issues/{number}",
            auth=self._auth,
            owner=self,
            data=fields,
            priority=priority,
            conditional=True,
        )
        return body

    async def replace_labels(self, repo: str, number: int, labels: list[str]) -> list[dict]:
        return await self.request("PUT", f"/repos/{repo}/issues/{number}/labels", data={"labels": list(labels)})

    async def add_labels(self, repo: str, number: int, labels: list[str]) -> list[dict]:
        return await self.request("POST", f"/repos/{repo}/issues/{number}/labels", data={"labels": list(labels)})

    async def add_assignees(self, repo: str, number: int, logins: list[str]) -> dict:
        return await self.request("POST", f"/repos/{repo}/issues/{number}/assignees", data={"assignees": list(logins)})

    # ---- pull requests, permissions, checks

    async def get_pull(self, repo: str, number: int) -> dict:
        """The pull request; a conditional request (an unchanged PR costs no rate limit)."""
        body, _ = await self._gateway._call("GET", f"/repos/{repo}/pulls/{number}", auth=self._auth, owner=self, conditional=True)
        return body

    async def list_pulls(self, repo: str, *, page: int, per_page: int = 100) -> list[dict]:
        params = {"state": "all", "sort": "updated", "direction": "desc", "per_page": per_page, "page": page}
        return await self.request("GET", f"/repos/{repo}/pulls", params=params)

    async def pr_files(self, repo: str, number: int, *, head_sha: str | None = None) -> list[dict]:
        """The PR's changed files (GitHub lists at most 3,000: filename, status, previous_filename);
        each page a conditional request. With `head_sha`, read once per head commit (the review and
        the catalog's rules check share the read; `FILES_KEPT` files remembered at most)."""
        key = (repo.lower(), number, head_sha)
        if head_sha is not None and key in self._files:
            self._files.move_to_end(key)
            return self._files[key]
        pages = await self.paginate(f"/repos/{repo}/pulls/{number}/files", conditional=True)
        files = [{k: f[k] for k in ("filename", "status", "previous_filename") if k in f} for f in pages]
        if head_sha is not None:
            self._files[key] = files
            self._files_kept += len(files)
            while self._files_kept > FILES_KEPT and len(self._files) > 1:
                self._files_kept -= len(self._files.popitem(last=False)[1])
        return files

    async def collaborator_permission(self, repo: str, user: str) -> str:
        """admin / maintain / write / triage / read / none (a 404 means "none").

        GitHub's ``permission`` field folds maintain into write and triage into read; the
        finer ``role_name`` is used when it is one of the standard roles.
        """
        try:
            data = await self.request("GET", f"/repos/{repo}/collaborators/{quote(user, safe='')}/permission")
        except PermanentError as exc:
            if exc.status == 404:
                return "none"
            raise
        role = data.get("role_name")
        return role if role in PERMISSIONS else data.get("permission", "none")

    async def get_file(self, repo: str, path: str, *, ref: str | None = None) -> dict | None:
        """A file's metadata (a directory's: `{"type": "dir"}`); None on 404. Conditional."""
        body = await self.contents(repo, path, ref=ref)
        return {"type": "dir"} if isinstance(body, list) else body

    async def create_check_run(
        self,
        repo: str,
        *,
        head_sha: str,
        name: str,
        conclusion: str,
        title: str,
        summary: str,
        annotations: list[dict] | None = None,
    ) -> dict:
        output: dict[str, Any] = {"title": title, "summary": summary}
        if annotations:
            output["annotations"] = annotations[:50]
        data = {"name": name, "head_sha": head_sha, "status": "completed", "conclusion": conclusion, "output": output}
        return await self.request("POST", f"/repos/{repo}/check-runs", data=data)

    async def annotate(self, repo: str, check_run_id: int, *, title: str, summary: str, annotations: list[dict]) -> dict:
        output = {"title": title, "summary": summary, "annotations": annotations[:50]}
        return await self.request("PATCH", f"/repos/{repo}/check-runs/{check_run_id}", data={"output": output})

    # ---- repositories and their files

    async def repositories(self) -> list[dict]:
        return await self.paginate("/installation/repositories")

    async def get_repo(self, repo: str) -> dict:
        return await self.request("GET", f"/repos/{repo}")

    async def _get_conditional(self, url: str, params: dict | None = None) -> Any:
        body, _ = await self._gateway._call("GET", url, auth=self._auth, owner=self, params=params, conditional=True)
        return body

    async def branch_head(self, repo: str, branch: str) -> str | None:
        try:
            ref = await self._get_conditional(f"/repos/{repo}/git/ref/heads/{quote(branch)}")
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise
        return ref["object"]["sha"]

    async def contents(self, repo: str, path: str, *, ref: str | None = None) -> list[dict] | dict | None:
        try:
            params = {"ref": ref} if ref else None
            return await self._get_conditional(f"/repos/{repo}/contents/{quote(path.strip('/'))}", params=params)
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise

    async def tree(self, repo: str, sha: str, *, recursive: bool = False) -> dict:
        return await self.request("GET", f"/repos/{repo}/git/trees/{sha}", params={"recursive": "1"} if recursive else None)

    async def blob(self, repo: str, sha: str) -> bytes:
        data = await self.request("GET", f"/repos/{repo}/git/blobs/{sha}")
        return base64.b64decode(data["content"]) if data.get("encoding") == "base64" else str(data["content"]).encode()

    # ---- writing a branch and a pull request

    async def create_blob(self, repo: str, content: str | bytes) -> str:
        if isinstance(content, bytes):
            data = {"content": base64.b64encode(content).decode(), "encoding": "base64"}
        else:
            data = {"content": content, "encoding": "utf-8"}
        return (await self.request("POST", f"/repos/{repo}/git/blobs", data=data))["sha"]

    async def create_tree(self, repo: str, *, base_tree: str | None, entries: list[dict]) -> str:
        body: dict[str, Any] = {"tree": entries}
        if base_tree is not None:
            body["base_tree"] = base_tree
        return (await self.request("POST", f"/repos/{repo}/git/trees", data=body))["sha"]

    async def create_commit(self, repo: str, *, message: str, tree: str, parents: list[str]) -> str:
        data = await self.request(
            "POST", f"/repos/{repo}/git/commits", data={"message": message, "tree": tree, "parents": parents}
        )
        return data["sha"]

    async def set_branch(self, repo: str, branch: str, sha: str, *, create: bool, force: bool = True) -> None:
        if create:
            await self.request("POST", f"/repos/{repo}/git/refs", data={"ref": f"refs/heads/{branch}", "sha": sha})
        else:
            await self.request("PATCH", f"/repos/{repo}/git/refs/heads/{quote(branch)}", data={"sha": sha, "force": force})

    async def run_status(self, repo: str, run_id: int) -> str | None:
        try:
            run = await self.request("GET", f"/repos/{repo}/actions/runs/{run_id}")
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise
        return run.get("status")

    async def open_pulls(self, repo: str, *, head: str) -> list[dict]:
        return await self.paginate(f"/repos/{repo}/pulls", params={"state": "open", "head": head})

    async def create_pull(self, repo: str, *, title: str, head: str, base: str, body: str) -> dict:
        return await self.request("POST", f"/repos/{repo}/pulls", data={"title": title, "head": head, "base": base, "body": body})

    async def update_pull(self, repo: str, number: int, **fields: Any) -> dict:
        return await self.request("PATCH", f"/repos/{repo}/pulls/{number}", data=fields)
