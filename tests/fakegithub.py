"""A fake GitHub REST API for tests and benchmarks, served over real HTTP on 127.0.0.1.

It owns an in-memory GitHub: repositories, issues, pull requests (with changed files),
issue comments, labels, assignees, collaborator permissions, check runs, the App and its
installation tokens. Routes, status codes and response shapes follow GitHub's OpenAPI
description (``@octokit/openapi``); the objects themselves come from `tests.payloads`, so
webhook deliveries and API responses agree about ids and logins.

What it checks like GitHub does:
* ``POST /app/installations/{id}/access_tokens`` and ``GET /app`` need an App JWT (RS256)
  signed by the App's private key, with ``iss`` = the App id and ``exp`` at most 10 minutes
  ahead; every other route needs ``Authorization: token|Bearer <installation token>``.
  Anything else: 401 ``Bad credentials``.
* Lists paginate (``per_page`` default 30, at most 100; ``page``) with a ``Link`` header
  (rel next/last/prev/first). Pull request files stop at 3,000 like GitHub's.
* An issue or comment body over 65,536 characters: 422 ``Validation Failed`` with GitHub's
  ``body is too long (maximum is 65536 characters)`` error; nothing is changed.
* Comments made with an installation token are authored by ``hackathon-bot[bot]`` (type Bot).
* Unknown routes and objects: 404 with GitHub's error body (``message``, ``documentation_url``).

* GitHub's secondary limit on content creation, per installation: at most
  `writes_per_minute` (80) content-creating requests (POST/PATCH/PUT/DELETE made with an
  installation token) in any 60 s and `writes_per_hour` (500) in any hour; beyond that, 403
  "You have exceeded a secondary rate limit" with ``retry-after`` (seconds until a slot frees).
  A refused request does not count. `secondary_limited` counts those answers. These are
  GitHub's figures and the defaults; a test that needs more speed sets them explicitly.
* Conditional requests: a 200 answer to GET (and an issue PATCH) carries an ``ETag`` of its
  body; a GET with a matching ``If-None-Match`` gets 304 with no body (GitHub does not count
  a 304 against the rate limit).

* GitHub's primary rate limit, per installation: `requests_per_hour` (5,000) requests in any
  hour, each answer carrying ``x-ratelimit-limit``/``-remaining``/``-used``/``-reset``; a 304
  is not counted; beyond the limit, 403 "API rate limit exceeded" with ``x-ratelimit-remaining:
  0``. `primary_used(installation)` says how many count now.

* Repository files: `add_file(repo, path, content, ref=)`; ``GET /repos/{o}/{r}/contents/{path}``
  gives a file's metadata or a directory's entries (default branch ``main``), 404 otherwise.
* A push: `update_pull(files=...)` without a `head_sha` gives the PR a new head commit.

What it does not model: GraphQL, repository settings. `latency` delays every response;
`slow_next` delays only the next matching requests (a request whose client gave up still
takes effect, as on GitHub).

Every request is recorded (`requests`) in arrival order, including those answered by an
injected fault; `count` filters them.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import itertools
import json
import math
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests import payloads as shapes
from tests.fakegit import GitData, Installation

DOCS = "https://docs.github.com/rest"
MAX_PR_FILES = 3000
MAX_BODY = 65536  # characters GitHub accepts in an issue, pull request or comment body
WRITES_PER_MINUTE = 80  # GitHub's secondary limit on content-creating requests
WRITES_PER_HOUR = 500
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
LEGACY_PERMISSION = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read", "none": "none"}
_RECORDED_HEADERS = ("user-agent", "accept", "content-type", "x-github-api-version")


def generate_private_key_pem() -> str:
    """A fresh 2048-bit RSA private key in PEM (PKCS#8), like the key GitHub gives an App."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


@functools.cache
def app_private_key_pem() -> str:
    """The key of every fake GitHub that is not given one: generated once per test process (an RSA
    key costs tens of milliseconds; each fake is its own GitHub, so sharing one key changes nothing)."""
    return generate_private_key_pem()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class RecordedRequest:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    installation_id: int | None = None  # whose installation token authenticated it, if any
    status: int | None = None  # the status the fake answered with
    started: float = 0.0  # time.monotonic() when the request arrived
    ended: float | None = None  # time.monotonic() when the answer was ready
    client: str | None = None  # which installation token (its last 6 characters): one per bot process


@dataclass
class _Fault:
    method: str
    path_re: re.Pattern
    status: int
    times: int
    headers: dict[str, str]
    body: dict | None


@dataclass
class _Issue:
    number: int
    title: str
    body: str | None
    user: str
    state: str = "open"
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    comment_ids: list[int] = field(default_factory=list)
    created_at: str = field(default_factory=shapes.now_iso)
    updated_at: str = field(default_factory=shapes.now_iso)
    closed_at: str | None = None
    # pull request part (is_pull)
    is_pull: bool = False
    head_sha: str = ""
    merged: bool = False
    merged_at: str | None = None
    files: list[dict] = field(default_factory=list)
    files_at: str = ""  # the head commit the files were set at
    head_ref: str = ""


@dataclass
class _Comment:
    id: int
    repo: str
    number: int
    body: str
    user: str
    user_type: str
    created_at: str = field(default_factory=shapes.now_iso)
    updated_at: str = field(default_factory=shapes.now_iso)


@dataclass
class _Repo:
    full_name: str
    issues: dict[int, _Issue] = field(default_factory=dict)
    labels: dict[str, dict] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)
    check_runs: list[dict] = field(default_factory=list)


class FakeGitHub(GitData):
    """An in-memory GitHub REST API on 127.0.0.1 (see the module docstring)."""

    app_slug = "hackathon-bot"
    bot_login = "hackathon-bot[bot]"

    def __init__(self, *, private_key_pem: str | None = None, app_id: int = 4242, token_ttl: float = 3600.0) -> None:
        self.private_key_pem = private_key_pem or app_private_key_pem()
        self._public_key = serialization.load_pem_private_key(self.private_key_pem.encode(), password=None).public_key()
        self.app_id = app_id
        self.token_ttl = token_ttl
        self.hook_deliveries: list[dict] = []  # the App's webhook deliveries, newest first
        self.redelivery_requests: list[int] = []  # ids asked for by POST /app/hook/deliveries/{id}/attempts
        self.hook_url = ""  # where redeliveries are sent (the bot's webhook URL)
        self.hook_secret = ""
        self._delivery_payloads: dict[int, dict] = {}
        self._delivery_ids = itertools.count(70_000_001)
        self.installation_id = 1  # the App's installation on every repository (GET /repos/{o}/{r}/installation)
        self.latency = 0.0
        self.requests: list[RecordedRequest] = []
        self.base_url = ""
        self._repos: dict[str, _Repo] = {}
        self._comments: dict[int, _Comment] = {}
        self._tokens: dict[str, tuple[int, float]] = {}
        self._faults: list[_Fault] = []
        self._slow: list[list] = []  # [method, path_re, seconds, times]
        self._ids = itertools.count(1_000_001)
        self._check_ids = itertools.count(5_000_001)
        self._runner: web.AppRunner | None = None
        self.writes_per_minute = WRITES_PER_MINUTE
        self.writes_per_hour = WRITES_PER_HOUR
        self.secondary_limited = 0  # 403 answers given for the secondary limit
        self.clock = time.time  # the limit's clock (seconds)
        self._writes: dict[int, deque[float]] = {}
        self._init_git()
        self.requests_per_hour = 5000  # GitHub's primary limit for an installation
        self.primary_limited = 0  # 403 answers given for the primary limit
        self._counted: dict[int, deque[float]] = {}

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> str:
        """Serve on a random port of 127.0.0.1; returns the base URL ``http://127.0.0.1:PORT``."""
        app = web.Application(middlewares=[self._middleware], client_max_size=32 * 1024 * 1024)
        self._routes(app.router)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeGitHub:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------ state setup

    def add_repo(self, full_name: str) -> None:
        self._repos.setdefault(full_name, _Repo(full_name))

    def add_issue(self, repo: str, number: int, *, title: str = "", body: str = "", user: str = "organiser") -> dict:
        self.add_repo(repo)
        self._repos[repo].issues[number] = _Issue(number, title, body, user)
        return self.issue(repo, number)

    def add_pull(
        self,
        repo: str,
        number: int,
        *,
        title: str,
        body: str = "",
        user: str,
        files: list[str | dict] = (),
        head_sha: str | None = None,
        state: str = "open",
        merged: bool = False,
    ) -> dict:
        """A pull request (also an issue). `files` are filenames or diff-entry fields."""
        self.add_repo(repo)
        sha = head_sha or shapes.sha_for(repo, number)
        pr = _Issue(number, title, body, user, is_pull=True, head_sha=sha)
        self._repos[repo].issues[number] = pr
        self._set_files(repo, pr, files)
        pr.files_at = sha
        self._set_state(pr, state, merged)
        return self.pull(repo, number)

    def update_pull(
        self,
        repo: str,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        files: list[str | dict] | None = None,
        head_sha: str | None = None,
        state: str | None = None,
        merged: bool | None = None,
    ) -> dict:
        """Change a pull request between deliveries (a push, an edit, a merge or a close)."""
        pr = self._get_issue(repo, number)
        if title is not None:
            pr.title = title
        if body is not None:
            pr.body = body
        if head_sha is not None:
            pr.head_sha = head_sha
        elif files is not None and pr.head_sha == pr.files_at:  # new files are a push: a new head commit
            pr.head_sha = shapes.sha_for(pr.head_sha, "push")
        if files is not None:
            self._set_files(repo, pr, files)
            pr.files_at = pr.head_sha
        if state is not None or merged is not None:
            self._set_state(pr, state or pr.state, pr.merged if merged is None else merged)
        pr.updated_at = shapes.now_iso()
        return self.pull(repo, number)

    def add_comment(
        self,
        repo: str,
        number: int,
        body: str,
        *,
        user: str,
        user_type: str = "User",
        created_at: str | None = None,
        updated_at: str | None = None,
    ) -> dict:
        """A comment someone (not the bot) wrote (`created_at`/`updated_at`: written in the past)."""
        c = self._new_comment(repo, self._get_issue(repo, number), body, user, user_type)
        if created_at is not None:
            c.created_at = c.updated_at = created_at
        if updated_at is not None:
            c.updated_at = updated_at
        return self._render_comment(c)

    def edit_comment(self, comment_id: int, body: str, *, updated_at: str | None = None) -> dict:
        """Someone edits their comment (no delivery is sent)."""
        c = self._comments[comment_id]
        c.body, c.updated_at = body, updated_at or shapes.now_iso()
        return self._render_comment(c)

    def add_file(self, repo: str, path: str, content: str = "", *, ref: str | None = None) -> None:
        """A file committed to a branch (the default branch unless `ref`); the contents API shows it."""
        self.commit_files(repo, {path.strip("/"): content}, branch=ref, message=f"add {path}")

    def delete_comment(self, comment_id: int) -> None:
        """Someone deletes their comment (no delivery is sent)."""
        c = self._comments.pop(comment_id)
        self._get_issue(c.repo, c.number).comment_ids.remove(comment_id)

    # ------------------------------------------------------------ webhook deliveries (the App's hook)

    def record_delivery(
        self, event: str, payload: dict, *, guid: str | None = None, status_code: int = 502, status: str | None = None
    ) -> dict:
        """GitHub tried to deliver `payload` to the App's webhook and got `status_code` (0: could not
        connect). Listed by GET /app/hook/deliveries; POST .../attempts sends it again to `hook_url`."""
        import uuid

        d = {
            "id": next(self._delivery_ids),
            "guid": guid or str(uuid.uuid4()),
            "delivered_at": shapes.now_iso(),
            "redelivery": False,
            "duration": 0.01,
            "status": status or ("OK" if 200 <= status_code < 300 else f"Invalid HTTP Response: {status_code}"),
            "status_code": status_code,
            "event": event,
            "action": payload.get("action"),
            "installation_id": (payload.get("installation") or {}).get("id"),
            "repository_id": shapes.stable_id("repo", (payload.get("repository") or {}).get("full_name", "")),
            "throttled_at": None,
        }
        self.hook_deliveries.insert(0, d)  # newest first
        self._delivery_payloads[d["id"]] = payload
        return d

    async def _list_hook_deliveries(self, request: web.Request) -> web.Response:
        """GET /app/hook/deliveries (App JWT): newest first, cursor pagination through ``Link``."""
        self._need_jwt(request)
        per_page = min(max(int(request.query.get("per_page", 30)), 1), 100)
        items = [{k: v for k, v in d.items()} for d in self.hook_deliveries]
        cursor = request.query.get("cursor")
        start = next((i for i, d in enumerate(items) if str(d["id"]) == cursor), 0) if cursor else 0
        chunk = items[start : start + per_page]
        headers = {}
        if start + per_page < len(items):
            nxt = items[start + per_page]["id"]
            headers["Link"] = f'<{self.base_url}/app/hook/deliveries?per_page={per_page}&cursor={nxt}>; rel="next"'
        return web.json_response(chunk, headers=headers)

    async def _redeliver(self, request: web.Request) -> web.Response:
        """POST /app/hook/deliveries/{id}/attempts (App JWT): 202, and the delivery is sent again to
        `hook_url` with the same GUID (X-GitHub-Delivery), signed with `hook_secret`."""
        self._need_jwt(request)
        did = int(request.match_info["delivery_id"])
        original = next((d for d in self.hook_deliveries if d["id"] == did), None)
        if original is None:
            return self._error(404, "Not Found")
        self.redelivery_requests.append(did)
        asyncio.get_running_loop().create_task(self._send_again(original))
        return web.json_response({}, status=202)

    async def _send_again(self, original: dict) -> None:
        import aiohttp

        payload = self._delivery_payloads[original["id"]]
        body = shapes.encode(payload)
        status = 0
        if self.hook_url:
            try:
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(
                        self.hook_url,
                        data=body,
                        headers=shapes.headers(original["event"], body, self.hook_secret, original["guid"]),
                    ) as resp,
                ):
                    status = resp.status
            except aiohttp.ClientError:
                status = 0
        d = self.record_delivery(
            original["event"],
            payload,
            guid=original["guid"],
            status_code=status or 502,
            status="OK" if 200 <= status < 300 else None,
        )
        d["redelivery"] = True

    def set_times(self, repo: str, number: int, *, created_at: str, updated_at: str | None = None) -> None:
        """Date an issue or pull request in the past."""
        i = self._get_issue(repo, number)
        i.created_at, i.updated_at = created_at, updated_at or created_at

    def set_permission(self, repo: str, user: str, permission: str) -> None:
        """admin / maintain / write / triage / read / none; users not set read as "read"."""
        if permission not in LEGACY_PERMISSION:
            raise ValueError(f"unknown permission {permission!r}")
        self.add_repo(repo)
        self._repos[repo].permissions[user] = permission

    def revoke_tokens(self) -> None:
        """Invalidate every installation token (as if they expired): next uses get 401."""
        self._tokens.clear()

    # ------------------------------------------------------------ inspection

    def issue(self, repo: str, number: int) -> dict:
        return self._render_issue(repo, self._get_issue(repo, number))

    def pulls(self, repo: str, state: str = "open") -> list[dict]:
        """The repository's pull requests in `state` (open, closed or all), by number."""
        return [
            self._render_pull(repo, i)
            for _, i in sorted(self._repos[repo].issues.items())
            if i.is_pull and (state == "all" or i.state == state)
        ]

    def pull(self, repo: str, number: int) -> dict:
        return self._render_pull(repo, self._get_issue(repo, number))

    def comments(self, repo: str, number: int) -> list[dict]:
        return [self._render_comment(self._comments[i]) for i in self._get_issue(repo, number).comment_ids]

    def labels(self, repo: str, number: int) -> list[str]:
        return list(self._get_issue(repo, number).labels)

    def check_runs(self, repo: str) -> list[dict]:
        return list(self._repos[repo].check_runs)

    def count(self, method: str | None = None, path_re: str | None = None) -> int:
        """How many recorded requests match `method` (exact, any case) and `path_re` (search)."""
        rx = re.compile(path_re) if path_re else None
        return sum(
            1 for r in self.requests if (method is None or r.method == method.upper()) and (rx is None or rx.search(r.path))
        )

    # ------------------------------------------------------------ faults

    def fail_next(
        self, method: str, path_re: str, status: int, *, times: int = 1, headers: dict | None = None, body: dict | None = None
    ) -> None:
        """Answer the next `times` requests matching `method` ("*" = any) and `path_re` with
        `status` (with `headers`, and `body` or GitHub's error body for that status)."""
        self._faults.append(_Fault(method.upper(), re.compile(path_re), status, times, dict(headers or {}), body))

    def slow_next(self, method: str, path_re: str, seconds: float, *, times: int = 1) -> None:
        """Delay the next `times` requests matching `method` ("*" = any) and `path_re` by `seconds`
        before they are handled (the request still takes effect if the client has given up)."""
        self._slow.append([method.upper(), re.compile(path_re), seconds, times])

    def _take_slow(self, method: str, path: str) -> float:
        for s in self._slow:
            if s[0] in ("*", method) and s[1].search(path):
                s[3] -= 1
                if s[3] <= 0:
                    self._slow.remove(s)
                return s[2]
        return 0.0

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        for f in self._faults:
            if f.method in ("*", method) and f.path_re.search(path):
                f.times -= 1
                if f.times <= 0:
                    self._faults.remove(f)
                return f
        return None

    # ------------------------------------------------------------ plumbing

    @staticmethod
    def _error(status: int, message: str | None = None, **extra: Any) -> web.Response:
        body = {"message": message or HTTPStatus(status).phrase, "documentation_url": DOCS, "status": str(status), **extra}
        return web.json_response(body, status=status)

    def _validation(self, resource: str, field_name: str, code: str = "missing_field") -> web.Response:
        return self._error(422, "Validation Failed", errors=[{"resource": resource, "code": code, "field": field_name}])

    def _too_long(self, resource: str, body: Any) -> web.Response | None:
        """GitHub's answer to a body over MAX_BODY characters, or None when the body is acceptable."""
        if isinstance(body, str) and len(body) > MAX_BODY:
            return self._error(
                422,
                "Validation Failed",
                errors=[
                    {
                        "resource": resource,
                        "code": "custom",
                        "field": "body",
                        "message": f"body is too long (maximum is {MAX_BODY} characters)",
                    }
                ],
            )
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        rec = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            json=body,
            headers={k: request.headers[k] for k in _RECORDED_HEADERS if k in request.headers},
            installation_id=self._installation_of(request),
            started=time.monotonic(),
            client=(request.headers.get("Authorization", "").partition(" ")[2].strip()[-6:] or None),
        )
        self.requests.append(rec)
        if self.latency:
            await asyncio.sleep(self.latency)
        slow = self._take_slow(request.method, request.path)
        if slow:
            await asyncio.sleep(slow)
        fault = self._take_fault(request.method, request.path)
        limited = None if fault is not None else self._primary_limit(rec.installation_id)
        limited = limited or (None if fault is not None else self._secondary_limit(request.method, rec.installation_id))
        if limited is not None:
            resp = limited
        elif fault is not None:
            if fault.body is not None:
                resp = web.json_response(fault.body, status=fault.status, headers=fault.headers)
            else:
                resp = self._error(fault.status)
                resp.headers.update(fault.headers)
        else:
            try:
                resp = await handler(request)
            except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
                resp = self._error(404, "Not Found")
            except _Reply as r:
                resp = r.response
        resp = self._conditional(request, resp)
        self._count_primary(rec.installation_id, resp)
        resp.headers.setdefault("X-GitHub-Media-Type", "github.v3; format=json")
        resp.headers.setdefault("X-GitHub-Request-Id", secrets.token_hex(8).upper())
        rec.status = resp.status
        rec.ended = time.monotonic()
        return resp

    def _primary_window(self, installation_id: int) -> deque[float]:
        now = self.clock()
        times = self._counted.setdefault(installation_id, deque())
        while times and times[0] <= now - 3600:
            times.popleft()
        return times

    def primary_used(self, installation_id: int = 1) -> int:
        """Requests of an installation that count against its primary limit now (the last hour)."""
        return len(self._primary_window(installation_id))

    def _rate_headers(self, installation_id: int) -> dict[str, str]:
        times = self._primary_window(installation_id)
        reset = (times[0] if times else self.clock()) + 3600
        return {
            "x-ratelimit-limit": str(self.requests_per_hour),
            "x-ratelimit-remaining": str(max(0, self.requests_per_hour - len(times))),
            "x-ratelimit-used": str(len(times)),
            "x-ratelimit-reset": str(math.ceil(reset)),
            "x-ratelimit-resource": "core",
        }

    def _primary_limit(self, installation_id: int | None) -> web.Response | None:
        """GitHub's 403 when an installation has used its hourly requests (the answer not counted)."""
        if installation_id is None or len(self._primary_window(installation_id)) < self.requests_per_hour:
            return None
        self.primary_limited += 1
        resp = self._error(403, f"API rate limit exceeded for installation ID {installation_id}.")
        return resp

    def _count_primary(self, installation_id: int | None, resp: web.StreamResponse) -> None:
        """Count an installation's request against its primary limit (a 304 or a primary-limit
        refusal is free) and say where the limit stands, as GitHub's headers do."""
        if installation_id is None:
            return
        if resp.status != 304 and not (resp.status == 403 and self.primary_limited and self._at_primary(installation_id)):
            self._primary_window(installation_id).append(self.clock())
        for k, v in self._rate_headers(installation_id).items():
            resp.headers.setdefault(k, v)  # an injected fault's own headers win

    def _at_primary(self, installation_id: int) -> bool:
        return len(self._primary_window(installation_id)) >= self.requests_per_hour

    def _secondary_limit(self, method: str, installation_id: int | None) -> web.Response | None:
        """Count a content-creating request; GitHub's 403 when it is over the limit (not counted)."""
        if method not in WRITE_METHODS or installation_id is None:
            return None
        now = self.clock()
        times = self._writes.setdefault(installation_id, deque())
        while times and times[0] <= now - 3600:
            times.popleft()
        in_minute = [t for t in times if t > now - 60]
        wait = 0.0
        if len(in_minute) >= self.writes_per_minute:
            wait = in_minute[len(in_minute) - self.writes_per_minute] + 60 - now
        if len(times) >= self.writes_per_hour:
            wait = max(wait, times[len(times) - self.writes_per_hour] + 3600 - now)
        if wait <= 0:
            times.append(now)
            return None
        self.secondary_limited += 1
        resp = self._error(403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.")
        resp.headers["retry-after"] = str(max(1, math.ceil(wait)))
        return resp

    @staticmethod
    def _conditional(request: web.Request, resp: web.StreamResponse) -> web.StreamResponse:
        """ETag on a 200 GET (and issue PATCH) answer; 304 when the client's If-None-Match matches."""
        if request.method not in ("GET", "PATCH") or resp.status != 200 or not isinstance(resp, web.Response):
            return resp
        if request.method == "PATCH" and "/comments/" in request.path:
            return resp
        etag = 'W/"' + hashlib.sha256(resp.body or b"").hexdigest()[:40] + '"'  # type: ignore[arg-type]
        resp.headers["ETag"] = etag
        if request.method == "GET" and etag in {t.strip() for t in request.headers.get("If-None-Match", "").split(",")}:
            return web.Response(status=304, headers={"ETag": etag})
        return resp

    def _installation_of(self, request: web.Request) -> int | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("token", "bearer"):
            return None
        entry = self._tokens.get(token.strip())
        if entry is None or entry[1] <= time.time():
            return None
        return entry[0]

    def _need_token(self, request: web.Request) -> int:
        inst = self._installation_of(request)
        if inst is None:
            raise _Reply(self._error(401, "Bad credentials"))
        return inst

    def _need_jwt(self, request: web.Request) -> dict:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            raise _Reply(self._error(401, "A JSON web token could not be decoded"))
        try:
            claims = jwt.decode(
                token.strip(), self._public_key, algorithms=["RS256"], options={"require": ["iat", "exp", "iss"]}, leeway=60
            )
        except jwt.PyJWTError:
            raise _Reply(self._error(401, "A JSON web token could not be decoded")) from None
        if str(claims["iss"]) != str(self.app_id):
            raise _Reply(self._error(401, "Integration not found"))
        if claims["exp"] - time.time() > 600 + 30:
            raise _Reply(self._error(401, "'Expiration time' claim ('exp') is too far in the future"))
        return claims

    def _repo(self, request: web.Request) -> _Repo:
        """The repository of the route; 404 when it does not exist or the token's installation
        does not hold it (as GitHub answers for a repository the token cannot see)."""
        full = f"{request.match_info['owner']}/{request.match_info['repo']}"
        if full not in self._repos or not self._may_reach(request, full):
            raise _Reply(self._error(404, "Not Found"))
        return self._repos[full]

    def _issue_of(self, request: web.Request) -> tuple[_Repo, _Issue]:
        repo = self._repo(request)
        issue = repo.issues.get(int(request.match_info["number"]))
        if issue is None:
            raise _Reply(self._error(404, "Not Found"))
        return repo, issue

    def _get_issue(self, repo: str, number: int) -> _Issue:
        return self._repos[repo].issues[number]

    @staticmethod
    async def _json(request: web.Request) -> Any:
        raw = await request.read()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise _Reply(FakeGitHub._error(400, "Problems parsing JSON")) from None

    def _paginate(self, request: web.Request, items: list) -> web.Response:
        try:
            per_page = min(max(int(request.query.get("per_page", 30)), 1), 100)
            page = max(int(request.query.get("page", 1)), 1)
        except ValueError:
            return self._error(400, "Invalid pagination parameter")
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(n: int) -> str:
            q = {**request.query, "per_page": str(per_page), "page": str(n)}
            return f"<{self.base_url}{request.path}?{urlencode(q)}>"

        rels = []
        if page < last:
            rels += [f'{link(page + 1)}; rel="next"', f'{link(last)}; rel="last"']
        if page > 1:
            rels += [f'{link(page - 1)}; rel="prev"', f'{link(1)}; rel="first"']
        headers = {"Link": ", ".join(rels)} if rels else {}
        return web.json_response(chunk, headers=headers)

    # ------------------------------------------------------------ rendering

    def _app_object(self) -> dict:
        return {
            "id": self.app_id,
            "slug": self.app_slug,
            "node_id": shapes.node_id("A_", self.app_id),
            "client_id": f"Iv1.{self.app_id:016x}",
            "owner": shapes.user("hackathon-org", type="Organization", api=self.base_url),
            "name": "Hackathon Bot",
            "description": "Runs contribution campaigns.",
            "external_url": "https://example.invalid/hackathon-bot",
            "html_url": f"{shapes.WEB}/apps/{self.app_slug}",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "permissions": {"issues": "write", "pull_requests": "write", "checks": "write", "metadata": "read"},
            "events": ["issue_comment", "pull_request"],
            "installations_count": 1,
        }

    def _label_objects(self, repo: str, names: list[str]) -> list[dict]:
        r = self._repos[repo]
        for n in names:
            r.labels.setdefault(n, shapes.label(repo, n, api=self.base_url))
        return [r.labels[n] for n in names]

    def _render_issue(self, repo: str, i: _Issue) -> dict:
        return shapes.issue(
            repo,
            i.number,
            title=i.title,
            body=i.body,
            user_login=i.user,
            state=i.state,
            labels=self._label_objects(repo, i.labels),
            assignees=i.assignees,
            comments=len(i.comment_ids),
            is_pull=i.is_pull,
            created_at=i.created_at,
            updated_at=i.updated_at,
            closed_at=i.closed_at,
            merged_at=i.merged_at,
            api=self.base_url,
        )

    def _render_pull(self, repo: str, i: _Issue) -> dict:
        if not i.is_pull:
            raise KeyError(f"{repo}#{i.number} is not a pull request")
        out = shapes.pull(
            repo,
            i.number,
            title=i.title,
            body=i.body,
            user_login=i.user,
            head_sha=i.head_sha,
            head_ref=i.head_ref or None,
            state=i.state,
            merged=i.merged,
            labels=self._label_objects(repo, i.labels),
            changed_files=len(i.files),
            additions=sum(f["additions"] for f in i.files),
            deletions=sum(f["deletions"] for f in i.files),
            created_at=i.created_at,
            updated_at=i.updated_at,
            closed_at=i.closed_at,
            merged_at=i.merged_at,
            api=self.base_url,
        )
        out["comments"] = len(i.comment_ids)
        people = [shapes.user(a, api=self.base_url) for a in i.assignees]
        out["assignees"], out["assignee"] = people, (people[0] if people else None)
        return out

    def _render_comment(self, c: _Comment) -> dict:
        app = self._app_object() if c.user_type == "Bot" and c.user == self.bot_login else None
        issue = self._repos[c.repo].issues.get(c.number)
        return shapes.comment(
            c.repo,
            c.number,
            c.id,
            c.body,
            c.user,
            user_type=c.user_type,
            app=app,
            created_at=c.created_at,
            updated_at=c.updated_at,
            is_pull=bool(issue and issue.is_pull),
            api=self.base_url,
        )

    def _set_files(self, repo: str, pr: _Issue, files: list[str | dict]) -> None:
        out = []
        for f in files:
            spec = {"filename": f} if isinstance(f, str) else dict(f)
            name = spec.pop("filename")
            out.append(shapes.diff_entry(repo, pr.head_sha, name, api=self.base_url, **spec))
        pr.files = out
        pr.files_at = pr.head_sha

    @staticmethod
    def _set_state(pr: _Issue, state: str, merged: bool) -> None:
        if merged:
            state = "closed"
        pr.merged = merged
        pr.state = state
        if state == "closed":
            pr.closed_at = pr.closed_at or shapes.now_iso()
        else:
            pr.closed_at = None
        pr.merged_at = (pr.merged_at or pr.closed_at) if merged else None

    def _new_comment(self, repo: str, issue: _Issue, body: str, user: str, user_type: str) -> _Comment:
        c = _Comment(next(self._ids), repo, issue.number, body, user, user_type)
        self._comments[c.id] = c
        issue.comment_ids.append(c.id)
        issue.updated_at = c.created_at
        return c

    # ------------------------------------------------------------ routes

    def _routes(self, r: web.UrlDispatcher) -> None:
        repo = "/repos/{owner}/{repo}"
        num = repo + "/issues/{number:\\d+}"
        r.add_get("/app", self._get_app)
        r.add_get("/app/hook/deliveries", self._list_hook_deliveries)
        r.add_post("/app/hook/deliveries/{delivery_id:\\d+}/attempts", self._redeliver)
        r.add_post("/app/installations/{installation_id:\\d+}/access_tokens", self._create_token)
        r.add_get(repo + "/issues/comments/{comment_id:\\d+}", self._get_comment)
        r.add_patch(repo + "/issues/comments/{comment_id:\\d+}", self._edit_comment)
        r.add_delete(repo + "/issues/comments/{comment_id:\\d+}", self._delete_comment)
        r.add_get(num, self._get_issue_route)
        r.add_patch(num, self._edit_issue)
        r.add_get(num + "/comments", self._list_comments)
        r.add_get(repo + "/issues/comments", self._list_repo_comments)
        r.add_post(num + "/comments", self._create_comment)
        r.add_get(num + "/labels", self._list_labels)
        r.add_put(num + "/labels", self._set_labels)
        r.add_post(num + "/labels", self._add_labels)
        r.add_delete(num + "/labels/{name}", self._remove_label)
        r.add_post(num + "/assignees", self._add_assignees)
        r.add_get(repo + "/pulls", self._list_pulls)
        r.add_get(repo + "/installation", self._repo_installation)
        r.add_get(repo + "/pulls/{number:\\d+}", self._get_pull)
        r.add_get(repo + "/pulls/{number:\\d+}/files", self._pull_files)
        r.add_get(repo + "/collaborators/{username}/permission", self._permission)
        r.add_post(repo + "/check-runs", self._create_check_run)
        self._git_routes(r)

    async def _get_app(self, request: web.Request) -> web.Response:
        self._need_jwt(request)
        return web.json_response(self._app_object())

    async def _create_token(self, request: web.Request) -> web.Response:
        self._need_jwt(request)
        inst = int(request.match_info["installation_id"])
        token = "ghs_" + secrets.token_urlsafe(27)
        expires = time.time() + self.token_ttl
        self._tokens[token] = (inst, expires)
        return web.json_response(
            {
                "token": token,
                "expires_at": _iso(expires),
                "permissions": {"issues": "write", "pull_requests": "write", "checks": "write", "metadata": "read"},
                "repository_selection": "all",
            },
            status=201,
        )

    def _comment_of(self, request: web.Request) -> _Comment:
        repo = self._repo(request)
        c = self._comments.get(int(request.match_info["comment_id"]))
        if c is None or c.repo != repo.full_name:
            raise _Reply(self._error(404, "Not Found"))
        return c

    async def _get_comment(self, request: web.Request) -> web.Response:
        self._need_token(request)
        return web.json_response(self._render_comment(self._comment_of(request)))

    async def _edit_comment(self, request: web.Request) -> web.Response:
        self._need_token(request)
        c = self._comment_of(request)
        data = await self._json(request)
        if not isinstance(data, dict) or not isinstance(data.get("body"), str):
            return self._validation("IssueComment", "body")
        if (refused := self._too_long("IssueComment", data["body"])) is not None:
            return refused
        c.body = data["body"]
        c.updated_at = shapes.now_iso()
        return web.json_response(self._render_comment(c))

    async def _delete_comment(self, request: web.Request) -> web.Response:
        self._need_token(request)
        c = self._comment_of(request)
        del self._comments[c.id]
        self._repos[c.repo].issues[c.number].comment_ids.remove(c.id)
        return web.Response(status=204)

    async def _get_issue_route(self, request: web.Request) -> web.Response:
        self._need_token(request)
        repo, issue = self._issue_of(request)
        return web.json_response(self._render_issue(repo.full_name, issue))

    async def _edit_issue(self, request: web.Request) -> web.Response:
        self._need_token(request)
        repo, issue = self._issue_of(request)
        data = await self._json(request) or {}
        if not isinstance(data, dict):
            return self._error(400, "Problems parsing JSON")
        if "state" in data and data["state"] not in ("open", "closed"):
            return self._validation("Issue", "state", "invalid")
        if (refused := self._too_long("Issue", data.get("body"))) is not None:
            return refused
        if "title" in data:
            if data["title"] in (None, ""):
                return self._validation("Issue", "title")
            issue.title = str(data["title"])
        if "body" in data:
            issue.body = data["body"]
        if "state" in data:
            issue.state = data["state"]
            issue.closed_at = shapes.now_iso() if issue.state == "closed" else None
        if "labels" in data:
            issue.labels = _names(data["labels"])
        if "assignees" in data:
            issue.assignees = [a for a in _names(data["assignees"], key="login") if self._assignable(repo, issue, a)]
        issue.updated_at = shapes.now_iso()
        return web.json_response(self._render_issue(repo.full_name, issue))

    async def _list_repo_comments(self, request: web.Request) -> web.Response:
        """GitHub: every issue and pull-request comment of the repository; ``since`` keeps those updated
        at or after it; ``sort`` created (default) | updated, ``direction`` asc (default without sort)."""
        self._need_token(request)
        repo = self._repo(request)
        since = request.query.get("since")
        items = [c for c in self._comments.values() if c.repo == repo.full_name]
        if since:
            items = [c for c in items if _ts(c.updated_at) >= _ts(since)]
        key = (
            (lambda c: (_ts(c.updated_at), c.id))
            if request.query.get("sort") == "updated"
            else (lambda c: (_ts(c.created_at), c.id))
        )
        items.sort(key=key, reverse=request.query.get("direction") == "desc")
        return self._paginate(request, [self._render_comment(c) for c in items])

    async def _list_comments(self, request: web.Request) -> web.Response:
        """GitHub: oldest first; ``since`` keeps the comments updated at or after it."""
        self._need_token(request)
        repo, issue = self._issue_of(request)
        since = request.query.get("since")
        items = [self._comments[i] for i in issue.comment_ids]
        if since:
            items = [c for c in items if _ts(c.updated_at) >= _ts(since)]
        return self._paginate(request, [self._render_comment(c) for c in items])

    async def _list_pulls(self, request: web.Request) -> web.Response:
        """GitHub: ``state`` open (default) | closed | all; ``sort`` created (default) | updated;
        ``direction`` desc by default for created, else asc. Items are pull-request-simple."""
        self._need_token(request)
        repo = self._repo(request)
        state = request.query.get("state", "open")
        sort = request.query.get("sort", "created")
        direction = request.query.get("direction", "desc" if sort == "created" else "asc")
        if (
            state not in ("open", "closed", "all")
            or sort not in ("created", "updated", "popularity", "long-running")
            or direction not in ("asc", "desc")
        ):
            return self._validation("PullRequest", "state")
        pulls = [i for i in repo.issues.values() if i.is_pull and (state == "all" or i.state == state)]
        if "head" in request.query:  # "owner:branch"
            branch = request.query["head"].partition(":")[2]
            pulls = [i for i in pulls if (i.head_ref or f"task-{i.number}") == branch]
        key = (lambda i: (_ts(i.updated_at), i.number)) if sort == "updated" else (lambda i: (_ts(i.created_at), i.number))
        pulls.sort(key=key, reverse=direction == "desc")
        out = []
        for i in pulls:
            full = self._render_pull(repo.full_name, i)
            out.append({k: v for k, v in full.items() if k not in _PULL_ONLY})
        return self._paginate(request, out)

    async def _repo_installation(self, request: web.Request) -> web.Response:
        """GET /repos/{owner}/{repo}/installation (App JWT): the App's installation on the repository."""
        self._need_jwt(request)
        repo = self._repo(request)
        inst_id = self.installation_of_repo(repo.full_name)
        inst = self.installations.get(inst_id) or Installation(inst_id, repo.full_name.split("/")[0])
        return web.json_response(self._installation_object(inst))

    async def _create_comment(self, request: web.Request) -> web.Response:
        self._need_token(request)
        repo, issue = self._issue_of(request)
        data = await self._json(request)
        if not isinstance(data, dict) or not isinstance(data.get("body"), str) or not data["body"]:
            return self._validation("IssueComment", "body")
        if (refused := self._too_long("IssueComment", data["body"])) is not None:
            return refused
        c = self._new_comment(repo.full_name, issue, data["body"], self.author_of(request), "Bot")
        body = self._render_comment(c)
        return web.json_response(body, status=201, headers={"Location": body["url"]})

    async def _list_labels(self, request: web.Request) -> web.Response:
        self._need_token(request)
        repo, issue = self._issue_of(request)
        return self._paginate(request, self._label_objects(repo.full_name, issue.labels))

    async def _set_labels(self, request: web.Request) -> web.Response:
        self._need_token(request)
        repo, issue = self._issue_of(request)
        issue.labels = _dedupe(_names(_labels_arg(await self._json(request))))
        issue.updated_at = shapes.now_iso()
        return web.json_response(self._label_objects(repo.full_name, issue.labels))

    async def _add_labels(self, request: web.Request) -> web.Response:
        self._need_token(request)
        repo, issue = self._issue_of(request)
        new = _names(_labels_arg(await self._json(request)))
        if not new:
            return self._validation("Label", "labels")
        issue.labels = _dedupe(issue.labels + new)
        issue.updated_at = shapes.now_iso()
        return web.json_response(self._label_objects(repo.full_name, issue.labels))

    async def _remove_label(self, request: web.Request) -> web.Response:
        self._need_token(request)
        repo, issue = self._issue_of(request)
        name = request.match_info["name"]
        if name not in issue.labels:
            return self._error(404, "Label does not exist")
        issue.labels.remove(name)
        issue.updated_at = shapes.now_iso()
        return web.json_response(self._label_objects(repo.full_name, issue.labels))

    def _assignable(self, repo: _Repo, issue: _Issue, login: str) -> bool:
        """Collaborators (triage or more), the author, and people who commented on the issue."""
        perm = repo.permissions.get(login)
        if perm in ("admin", "maintain", "write", "triage") or login == issue.user:
            return True
        return any(self._comments[i].user == login for i in issue.comment_ids)

    async def _add_assignees(self, request: web.Request) -> web.Response:
        self._need_token(request)
        repo, issue = self._issue_of(request)
        data = await self._json(request) or {}
        wanted = _names(data.get("assignees", []) if isinstance(data, dict) else [], key="login")
        for login in wanted:  # like GitHub: people who cannot be assigned are silently ignored
            if login not in issue.assignees and len(issue.assignees) < 10 and self._assignable(repo, issue, login):
                issue.assignees.append(login)
        issue.updated_at = shapes.now_iso()
        return web.json_response(self._render_issue(repo.full_name, issue), status=201)

    async def _get_pull(self, request: web.Request) -> web.Response:
        self._need_token(request)
        repo, issue = self._issue_of(request)
        if not issue.is_pull:
            return self._error(404, "Not Found")
        return web.json_response(self._render_pull(repo.full_name, issue))

    async def _pull_files(self, request: web.Request) -> web.Response:
        self._need_token(request)
        repo, issue = self._issue_of(request)
        if not issue.is_pull:
            return self._error(404, "Not Found")
        return self._paginate(request, issue.files[:MAX_PR_FILES])

    async def _permission(self, request: web.Request) -> web.Response:
        self._need_token(request)
        repo = self._repo(request)
        login = request.match_info["username"]
        role = repo.permissions.get(login, "read")
        legacy = LEGACY_PERMISSION[role]
        person = shapes.user(login, api=self.base_url)
        person["role_name"] = role
        person["permissions"] = {
            "admin": role == "admin",
            "maintain": role in ("admin", "maintain"),
            "push": legacy in ("admin", "write"),
            "triage": role in ("admin", "maintain", "write", "triage"),
            "pull": role != "none",
        }
        return web.json_response({"permission": legacy, "role_name": role, "user": person})

    async def _create_check_run(self, request: web.Request) -> web.Response:
        self._need_token(request)
        repo = self._repo(request)
        data = await self._json(request)
        if not isinstance(data, dict):
            return self._error(400, "Problems parsing JSON")
        for required in ("name", "head_sha"):
            if not isinstance(data.get(required), str) or not data[required]:
                return self._validation("CheckRun", required)
        conclusion = data.get("conclusion")
        status = "completed" if conclusion else data.get("status", "queued")
        if status == "completed" and not conclusion:
            return self._validation("CheckRun", "conclusion")
        rid = next(self._check_ids)
        out = data.get("output") or {}
        if len(out.get("annotations") or []) > 50:
            return self._validation("CheckRun", "annotations", "too_long")
        url = f"{self.base_url}/repos/{repo.full_name}/check-runs/{rid}"
        now = shapes.now_iso()
        run = {
            "id": rid,
            "head_sha": data["head_sha"],
            "node_id": shapes.node_id("CR_", rid),
            "external_id": data.get("external_id", ""),
            "url": url,
            "html_url": f"{shapes.WEB}/{repo.full_name}/runs/{rid}",
            "details_url": data.get("details_url", f"{shapes.WEB}/apps/{self.app_slug}"),
            "status": status,
            "conclusion": conclusion,
            "started_at": data.get("started_at", now),
            "completed_at": data.get("completed_at", now) if status == "completed" else None,
            "output": {
                "title": out.get("title"),
                "summary": out.get("summary"),
                "text": out.get("text"),
                "annotations_count": 0,
                "annotations_url": f"{url}/annotations",
            },
            "name": data["name"],
            "check_suite": {"id": shapes.stable_id("suite", repo.full_name, data["head_sha"])},
            "app": self._app_object(),
            "pull_requests": [
                {
                    "id": shapes.stable_id("pull", repo.full_name, i.number),
                    "number": i.number,
                    "url": f"{self.base_url}/repos/{repo.full_name}/pulls/{i.number}",
                    "head": {
                        "ref": f"task-{i.number}",
                        "sha": i.head_sha,
                        "repo": {
                            "id": shapes.stable_id("repo", repo.full_name),
                            "url": f"{self.base_url}/repos/{repo.full_name}",
                            "name": repo.full_name.split("/")[1],
                        },
                    },
                    "base": {
                        "ref": "main",
                        "sha": shapes.sha_for(repo.full_name, "main"),
                        "repo": {
                            "id": shapes.stable_id("repo", repo.full_name),
                            "url": f"{self.base_url}/repos/{repo.full_name}",
                            "name": repo.full_name.split("/")[1],
                        },
                    },
                }
                for i in repo.issues.values()
                if i.is_pull and i.state == "open" and i.head_sha == data["head_sha"]
            ],
        }
        run["annotations"] = list(out.get("annotations") or [])
        run["output"]["annotations_count"] = len(run["annotations"])
        repo.check_runs.append(run)
        return web.json_response({k: v for k, v in run.items() if k != "annotations"}, status=201)


class _Reply(Exception):
    """Raised inside a handler to answer at once with `response` (auth failures, 404s)."""

    def __init__(self, response: web.Response) -> None:
        self.response = response


# Keys of the full pull-request object that the list endpoint's pull-request-simple lacks.
_PULL_ONLY = {
    "merged",
    "mergeable",
    "rebaseable",
    "mergeable_state",
    "merged_by",
    "comments",
    "review_comments",
    "maintainer_can_modify",
    "commits",
    "additions",
    "deletions",
    "changed_files",
}


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _labels_arg(data: Any) -> Any:
    """GitHub accepts ``{"labels": [...]}``, a bare list, or a single string."""
    if isinstance(data, dict):
        return data.get("labels", [])
    return data if data is not None else []


def _names(items: Any, key: str = "name") -> list[str]:
    if isinstance(items, str):
        return [items]
    return [i[key] if isinstance(i, dict) else str(i) for i in items or []]


def _dedupe(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))
