"""Cassette machinery for tests/test_cassettes.py: vcrpy around an end-to-end `Harness`.

It owns
* `CassetteHarness`: a `Harness` whose GitHub traffic goes through a vcrpy cassette in
  ``tests/cassettes/<name>.yaml``. Replay (``record_mode="none"``) is the default: vcr answers
  every call and the fake GitHub is not reached. ``RECORD_CASSETTES=1`` re-records
  (``record_mode="all"``) against the fake GitHub and rewrites the file.
* The matcher ``json_body`` and the match set `MATCH_ON` (method, path, query, body compared as
  parsed JSON; never the host or port, which are random).
* The scrubbing hooks (no token, JWT or Authorization header reaches a file) and `ReadableYaml`,
  the serializer that writes bodies as decoded JSON with multi-line strings as YAML blocks, so a
  cassette reads as a review artefact.

What is and is not recorded: only the bot's calls to GitHub. The test's own requests to the bot
(webhook POSTs, /status) go through the same aiohttp client and are excluded by URL. The cassette
opens after the harness has started, so the bot's start-up ``GET /app`` is outside it (the same in
every scenario); the first installation-token mint is inside it.
"""

from __future__ import annotations

import asyncio
import difflib
import io
import itertools
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import vcr
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import LiteralScalarString
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.persisters.filesystem import FilesystemPersister

from tests import payloads
from tests.harness import Harness, ShiftedClock

CASSETTES = Path(__file__).parent / "cassettes"
RECORD = os.environ.get("RECORD_CASSETTES", "") not in ("", "0")
API_PLACEHOLDER = "http://api.github.test"  # the fake's random http://127.0.0.1:PORT, as written in files
LOCAL_URL = re.compile(r"http://127\.0\.0\.1:\d+")
VOLATILE_RESPONSE_HEADERS = frozenset({"date", "server", "content-length", "x-github-request-id"})
TIMESTAMP_KEYS = frozenset({"created_at", "updated_at", "closed_at", "merged_at", "submitted_at"})
FIXED_TIME = "2024-01-01T00:00:00Z"  # the bot reads none of TIMESTAMP_KEYS
SCRUBBED_TOKEN = "ghs_REDACTED"
FAR_FUTURE = "2099-01-01T00:00:00Z"  # a replayed token never looks stale, whenever the replay runs
MATCH_ON = ("method", "path", "query", "json_body")
HEADER_COMMENT = (
    "GitHub traffic of the bot for one scenario of tests/test_cassettes.py.\n"
    "Replayed by default; re-record with RECORD_CASSETTES=1 (see that module's docstring)."
)


# ------------------------------------------------------------------ matching


def decode_json(body: Any) -> Any:
    """A request/response body as parsed JSON; the raw text when it is not JSON; None when empty."""
    if body is None or body == b"" or body == "":
        return None
    if isinstance(body, (bytes, bytearray)):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return bytes(body)
    try:
        return json.loads(body)
    except ValueError:
        return body


def json_body(r1: vcr.request.Request, r2: vcr.request.Request) -> None:
    """vcr matcher: equal bodies once parsed as JSON (key order and escaping do not matter)."""
    a, b = decode_json(r1.body), decode_json(r2.body)
    if a != b:
        raise AssertionError(body_diff(b, a))


def _pretty(value: Any) -> list[str]:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).splitlines() if value is not None else []


def body_diff(recorded: Any, actual: Any) -> str:
    return "\n".join(difflib.unified_diff(_pretty(recorded), _pretty(actual), "recorded", "sent", lineterm="", n=2))


# ------------------------------------------------------------------ scrubbing and normalising


def scrub_response(response: dict) -> dict:
    """Installation-token responses: the token becomes `SCRUBBED_TOKEN`, its expiry far away."""
    data = decode_json(response["body"].get("string"))
    if isinstance(data, dict) and "token" in data:
        data["token"] = SCRUBBED_TOKEN
        if "expires_at" in data:
            data["expires_at"] = FAR_FUTURE
        response["body"]["string"] = json.dumps(data).encode()
    return response


def _fix_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: FIXED_TIME if k in TIMESTAMP_KEYS and isinstance(v, str) else _fix_times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fix_times(v) for v in value]
    return value


def normalise_interaction(request: vcr.request.Request, response: dict) -> tuple:
    """Before saving, so that re-recording an unchanged scenario gives an identical file: the
    fake's random host:port becomes `API_PLACEHOLDER`, volatile response headers (Date, Server,
    Content-Length, request id) go, response timestamps the bot never reads become `FIXED_TIME`;
    and no Authorization header survives."""
    request.uri = LOCAL_URL.sub(API_PLACEHOLDER, request.uri)
    request.headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
    response["headers"] = {
        k: [LOCAL_URL.sub(API_PLACEHOLDER, v) for v in vs]
        for k, vs in response["headers"].items()
        if k.lower() not in VOLATILE_RESPONSE_HEADERS
    }
    data = decode_json(response["body"].get("string"))
    if isinstance(data, (dict, list)):
        text = LOCAL_URL.sub(API_PLACEHOLDER, json.dumps(_fix_times(data), ensure_ascii=False))
        response["body"]["string"] = text.encode()
    return request, response


# ------------------------------------------------------------------ the readable file format


class ReadableYaml:
    """vcr serializer: each body is stored under ``json:`` as decoded JSON (or ``body:`` as text
    when it is not JSON); strings with newlines are YAML literal blocks. Loading turns them back
    into the text vcr expects. `serialize` checks its own output reads back identical."""

    @staticmethod
    def _dumper() -> YAML:
        y = YAML()
        y.width = 1_000_000  # never fold a line
        y.allow_unicode = True
        y.indent(mapping=2, sequence=4, offset=2)
        return y

    @staticmethod
    def _literal(value: Any) -> Any:
        if isinstance(value, str):
            if "\n" in value and "\r" not in value and all(line.isprintable() for line in value.split("\n")):
                return LiteralScalarString(value)
            return value
        if isinstance(value, dict):
            return {k: ReadableYaml._literal(v) for k, v in value.items()}
        if isinstance(value, list):
            return [ReadableYaml._literal(v) for v in value]
        return value

    @staticmethod
    def _readable_body(holder: dict, text: Any) -> None:
        data = decode_json(text)
        if data is None:
            return
        if isinstance(data, (dict, list)):
            holder["json"] = data
        else:
            holder["body"] = text if isinstance(text, str) else str(data)

    def to_readable(self, data: dict) -> dict:
        out = []
        for it in data["interactions"]:
            rq, rs = it["request"], it["response"]
            req: dict[str, Any] = {"method": rq["method"], "uri": rq["uri"], "headers": rq["headers"]}
            self._readable_body(req, rq.get("body"))
            resp: dict[str, Any] = {"status": rs["status"], "headers": rs["headers"]}
            self._readable_body(resp, (rs.get("body") or {}).get("string"))
            out.append({"request": req, "response": resp})
        return {"version": data["version"], "interactions": out}

    @staticmethod
    def from_readable(data: dict) -> dict:
        interactions = []
        for it in data.get("interactions") or []:
            rq, rs = dict(it["request"]), dict(it["response"])
            body = json.dumps(rq.pop("json"), ensure_ascii=False) if "json" in rq else rq.pop("body", None)
            request = {"method": rq["method"], "uri": rq["uri"], "body": body, "headers": rq.get("headers") or {}}
            text = json.dumps(rs.pop("json"), ensure_ascii=False) if "json" in rs else rs.pop("body", "")
            response = {"status": rs["status"], "headers": rs.get("headers") or {}, "body": {"string": text or ""}}
            interactions.append({"request": request, "response": response})
        return {"version": data.get("version", 1), "interactions": interactions}

    def _dump(self, readable: dict, literal: bool) -> str:
        doc = CommentedMap(self._literal(readable) if literal else readable)
        doc.yaml_set_start_comment(HEADER_COMMENT)
        buf = io.StringIO()
        self._dumper().dump(doc, buf)
        return buf.getvalue()

    def serialize(self, data: dict) -> str:
        readable = self.to_readable(data)
        for literal in (True, False):
            text = self._dump(readable, literal)
            if YAML(typ="safe", pure=True).load(text) == readable:
                return text
        raise ValueError("cassette does not survive a YAML round trip")  # pragma: no cover

    def deserialize(self, text: str) -> dict:
        return self.from_readable(YAML(typ="safe", pure=True).load(text) or {})


class ReadOnlyPersister(FilesystemPersister):
    """Replay never writes a cassette (vcr would, e.g. with drop_unused_requests)."""

    @staticmethod
    def save_cassette(cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:
        raise AssertionError(f"replay tried to write {cassette_path}")


# ------------------------------------------------------------------ one call, as the test sees it


@dataclass(frozen=True)
class Call:
    """One request the bot made to GitHub (whether vcr or the fake answered it)."""

    method: str
    path: str
    query: tuple = ()
    json: Any = None

    @classmethod
    def of(cls, method: str, url: Any, params: Any, data: Any) -> Call:
        parts = urlsplit(str(url))
        query = dict(parse_qsl(parts.query))
        query.update({str(k): str(v) for k, v in (params or {}).items()})
        return cls(method.upper(), parts.path, tuple(sorted(query.items())), decode_json(data))

    def __str__(self) -> str:
        q = "?" + "&".join(f"{k}={v}" for k, v in self.query) if self.query else ""
        return f"{self.method} {self.path}{q}"


# ------------------------------------------------------------------ the harness


class CassetteHarness(Harness):
    """A `Harness` whose GitHub traffic is pinned by the cassette `name` (see the module docstring).

    * `calls`: every GitHub call the bot made inside the cassette, in order (both modes).
    * `unexpected`: calls the cassette did not hold (replay); `settle` fails at once on them.
    * User comments get ids from a counter of their own and live only in their webhook
      payloads, so ids do not depend on how many comments the bot created on the fake.
    * A PR's labels in its webhook payloads are the labels the bot last set on it (from
      `calls`), so the payloads are the same whether the fake or the cassette answered.
    * On a clean exit the cassette is checked: nothing unexpected, everything played.
    """

    def __init__(
        self,
        name: str,
        rules,
        tmp_path: Path,
        *,
        record: bool | None = None,
        verify: bool = True,
        workers: int = 1,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("clock", ShiftedClock())  # the dates the bot writes (claim days, lapses) are the same every run
        super().__init__(rules, tmp_path, workers=workers, **kwargs)
        self.name = name
        self.path = CASSETTES / f"{name}.yaml"
        self.recording = RECORD if record is None else record
        self.verify_on_exit = verify
        self.url = ""
        self.calls: list[Call] = []
        self.unexpected: list[Call] = []
        self.cassette: Any = None
        self._comment_ids = itertools.count(7_000_001)
        self._deliveries = itertools.count(1)
        self._contexts: list[Any] = []
        self._fake_seen = 0

    # ---- lifecycle

    def _vcr(self) -> vcr.VCR:
        v = vcr.VCR(record_mode="all" if self.recording else "none", match_on=MATCH_ON, decode_compressed_response=False)
        v.register_serializer("readable-yaml", ReadableYaml())
        if not self.recording:
            v.register_persister(ReadOnlyPersister)
        v.register_matcher("json_body", json_body)
        return v

    def _not_github(self, request: vcr.request.Request) -> vcr.request.Request | None:
        return None if self.url and request.uri.startswith(self.url) else request

    async def __aenter__(self) -> CassetteHarness:
        if not self.recording and not self.path.exists():
            raise AssertionError(f"{self.path} is missing: record it with RECORD_CASSETTES=1")
        await super().__aenter__()
        if self.recording and self.path.exists():
            self.path.unlink()  # a re-recording starts from nothing: stale interactions cannot survive
        ctx = self._vcr().use_cassette(
            str(self.path),
            serializer="readable-yaml",
            filter_headers=["authorization"],
            before_record_request=self._not_github,
            before_record_response=scrub_response,
            before_save_interaction=normalise_interaction,
            drop_unused_requests=False,
            allow_playback_repeats=False,
            record_on_exception=False,
        )
        self._fake_seen = len(self.gh.requests)
        self.cassette = ctx.__enter__()
        self._contexts.append(ctx)
        spy = mock.patch.object(aiohttp.ClientSession, "_request", self._spy(aiohttp.ClientSession._request))
        spy.__enter__()
        self._contexts.append(spy)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await super().__aexit__(*exc)
        finally:
            failed = exc[0] is not None
            for ctx in reversed(self._contexts):
                ctx.__exit__(*(exc if failed else (None, None, None)))
            self._contexts.clear()
        if self.recording and not failed and not self.path.exists():  # no traffic at all: an empty cassette
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(ReadableYaml().serialize({"version": 1, "interactions": []}))
        if self.verify_on_exit and not failed:
            self.verify()

    def _spy(self, vcr_request: Any) -> Any:
        harness = self

        async def request(session: aiohttp.ClientSession, method: str, url: Any, **kwargs: Any) -> Any:
            if harness.url and str(url).startswith(harness.url):
                return await vcr_request(session, method, url, **kwargs)
            call = Call.of(method, url, kwargs.get("params"), kwargs.get("data", kwargs.get("json")))
            harness.calls.append(call)
            try:
                return await vcr_request(session, method, url, **kwargs)
            except CannotOverwriteExistingCassetteException:
                harness.unexpected.append(call)
                raise

        return request

    # ---- checks

    def problems(self) -> list[str]:
        """What differs from the cassette: calls it does not hold, recorded calls never made."""
        if self.recording or self.cassette is None:
            return []
        out = []
        unplayed = [req for i, (req, _) in enumerate(self.cassette.data) if not self.cassette.play_counts[i]]
        for call in self.unexpected:
            out.append(f"extra call: {call}")
            near = next((r for r in unplayed if r.method == call.method and r.path == call.path), None)
            if near is not None:
                out.append(body_diff(decode_json(near.body), call.json))
        for req in unplayed:
            out.append(f"recorded call never made: {req.method} {req.path}")
        for r in self.gh.requests[self._fake_seen :]:
            out.append(f"reached the fake GitHub during replay: {r.method} {r.path}")
        return out

    def verify(self) -> None:
        problems = self.problems()
        assert not problems, (
            f"GitHub traffic differs from {self.path.name} "
            "(if the change is intended, re-record with RECORD_CASSETTES=1):\n" + "\n".join(problems)
        )

    # ---- driving the scenario

    async def settle(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert not self.unexpected, "\n".join(self.problems())
            if await self.pipeline.idle(0.2):
                assert not self.unexpected, "\n".join(self.problems())
                return
        raise AssertionError("the bot did not finish its work in time")

    async def wait_for(self, predicate: Any, timeout: float = 30.0) -> None:
        """Until `predicate(self.calls)` holds (failing at once on an unexpected call)."""
        deadline = time.monotonic() + timeout
        while not predicate(self.calls):
            assert not self.unexpected, "\n".join(self.problems())
            assert time.monotonic() < deadline, "timed out waiting for the bot's calls"
            await asyncio.sleep(0.02)

    def hold_board(self) -> None:
        """Board edits wait (as if every event so far came within one board delay)."""
        self.pipeline.set_board_delay(3600.0)

    def release_board(self) -> None:
        self.pipeline.set_board_delay(0.0)

    def hold_replies(self) -> None:
        """Replies to an issue the bot has just answered wait (its reply gap never ends, and none
        goes early) until `release_replies`: what is queued by then goes out together, however
        slow the machine."""
        executor = self.pipeline.executor
        executor.reply_gap = executor.reply_settle = executor.reply_settle_floor = 3600.0

    def release_replies(self) -> None:
        executor = self.pipeline.executor
        executor.reply_gap = executor.reply_settle = executor.reply_settle_floor = 0.0
        executor.wake()  # a lane sleeps until its gap ends: wake it to see the new gap

    def since(self, mark: int) -> list[Call]:
        return self.calls[mark:]

    async def comment(self, body: str, user: str = "alice", **kwargs: Any) -> tuple[int, dict]:
        kwargs.setdefault("comment_id", next(self._comment_ids))
        kwargs.setdefault("delivery", f"{self.name}-{next(self._deliveries)}")
        return await super().comment(body, user, **kwargs)

    def labels_set_by_bot(self, repo: str, number: int) -> list[str]:
        labels: list[str] = []
        path = f"/repos/{repo}/issues/{number}/labels"
        for c in self.calls:
            if c.path == path and c.method == "PUT":
                labels = list(c.json["labels"])
            elif c.path == path and c.method == "POST":
                labels += [n for n in c.json["labels"] if n not in labels]
        return labels

    async def pull_request(
        self,
        action: str,
        number: int,
        *,
        repo: str = "org/Paddle",
        title: str | None = None,
        user: str = "alice",
        files: list | None = None,
        merged: bool | None = None,
        state: str | None = None,
        body: str | None = None,
        delivery: str | None = None,
    ) -> tuple[int, dict]:
        try:
            self.gh.pull(repo, number)
        except KeyError:
            self.gh.add_pull(repo, number, title=title or "", body=body or "", user=user, files=files or [])
        else:
            self.gh.update_pull(repo, number, title=title, body=body, files=files, state=state, merged=merged)
        pr = self.gh.pull(repo, number)
        labels = self.labels_set_by_bot(repo, number)
        if self.recording:  # the payload says what GitHub holds
            assert sorted(self.gh.labels(repo, number)) == sorted(labels)
        p = payloads.pull_request(
            action,
            repo=repo,
            number=number,
            title=pr["title"],
            body=pr["body"] or "",
            user=pr["user"]["login"],
            merged=pr["merged"],
            state=pr["state"],
            head_sha=pr["head"]["sha"],
        )
        p["pull_request"]["labels"] = [payloads.label(repo, n) for n in labels]
        return await self.post("pull_request", p, delivery=delivery or f"{self.name}-{next(self._deliveries)}")


def count(calls: list[Call], method: str, path_re: str) -> int:
    rx = re.compile(path_re)
    return sum(1 for c in calls if c.method == method and rx.search(c.path))
