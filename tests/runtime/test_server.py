"""The server's routes: webhook intake (what GitHub gets back for each kind of delivery, and what is
stored), /healthz and /status. The app is served in-process (pytest-aiohttp); the pipeline is not
started, so a stored delivery stays in the inbox where the test can see it."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from bot.core.board import render_board
from bot.core.model import CampaignState, Claim, Stage
from bot.runtime.pipeline import Pipeline
from bot.runtime.server import WEBHOOK_PATH, make_app
from bot.settings import Settings
from tests import payloads

SECRET = "s3cret"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


TOKEN = "the-operators-token"
OPERATOR = {"Authorization": f"Bearer {TOKEN}"}  # the operator pages' bearer token (STATUS_TOKEN)


def settings(**kw) -> Settings:
    return Settings(**{"webhook_secret": SECRET, "max_body_bytes": 65536, "dashboard": False, "_env_file": None, **kw})


@pytest.fixture
async def pipeline(all_rules, store, gh, clock):
    p = Pipeline(all_rules, store, gh, settings=settings(), clock=clock)
    yield p
    await p.close()


@pytest.fixture
async def client(aiohttp_client, pipeline, store):
    return await aiohttp_client(make_app(settings(status_token=TOKEN), store, pipeline))


def comment(body: str = "【报名】：1", *, user: str = "alice", comment_id: int = 501, repo: str = "org/Paddle") -> dict:
    return payloads.issue_comment("created", repo=repo, issue_number=100, comment_id=comment_id, body=body, user=user)


async def post(client, event: str, payload: dict | bytes, *, secret: str | None = SECRET, delivery: str | None = None, **headers):
    raw = payload if isinstance(payload, bytes) else payloads.encode(payload)
    sent = {"X-GitHub-Event": event, "Content-Type": "application/json", **headers}
    if delivery is not None:
        sent["X-GitHub-Delivery"] = delivery
    if secret is not None:
        sent["X-Hub-Signature-256"] = payloads.sign(raw, secret)
    async with client.post(WEBHOOK_PATH, data=raw, headers=sent) as r:
        return r.status, await r.json()


async def stored(store) -> dict[str, int]:
    return {k: v for k, v in (await store.delivery_counts()).items() if not k.startswith("actions_")}


# ---- intake ---------------------------------------------------------------------------------------


async def test_a_signed_delivery_is_queued_once_and_its_redelivery_is_a_duplicate(client, store):
    assert await post(client, "issue_comment", comment(), delivery="d-1") == (202, {"status": "queued", "delivery": "d-1"})
    assert await post(client, "issue_comment", comment(), delivery="d-1") == (202, {"status": "duplicate", "delivery": "d-1"})
    assert await stored(store) == {"pending": 1}


@pytest.mark.parametrize("secret", [None, "wrong"], ids=["unsigned", "signed-with-another-secret"])
async def test_an_unsigned_or_forged_delivery_is_401_when_a_secret_is_set(client, store, secret):
    status, body = await post(client, "issue_comment", comment(), secret=secret)
    assert status == 401 and ("missing" in body["error"] if secret is None else "does not match" in body["error"])
    assert await stored(store) == {}


async def test_unsigned_deliveries_are_refused_without_a_secret_unless_in_dry_run(aiohttp_client, store, pipeline):
    live = settings(webhook_secret=None).model_copy(update={"app_id": "1", "private_key": "(a key)"})
    assert not live.dry_run
    status, body = await post(await aiohttp_client(make_app(live, store, pipeline)), "issue_comment", comment(), secret=None)
    assert status == 401 and "WEBHOOK_SECRET" in body["error"]
    dry = settings(webhook_secret=None)
    status, body = await post(await aiohttp_client(make_app(dry, store, pipeline)), "issue_comment", comment(), secret=None)
    assert status == 202 and body["status"] == "queued"


async def test_a_body_over_the_limit_is_413_before_anything_else(client, store):
    big = comment("x" * 70_000)
    assert (await post(client, "issue_comment", big, secret=None))[0] == 413  # not even its signature is looked at
    assert await stored(store) == {}


@pytest.mark.parametrize(
    "raw, why",
    [(b"{not json", "malformed JSON"), (b"[1, 2]", "not a JSON object"), (b"\xff\xfe", "malformed JSON")],
    ids=["broken", "array", "not-utf8"],
)
async def test_a_body_that_is_not_a_json_object_is_400(client, store, raw, why):
    status, body = await post(client, "issue_comment", raw)
    assert status == 400 and why in body["error"]
    assert await stored(store) == {}


async def test_a_delivery_id_longer_than_the_inbox_keeps_is_400(client, store):
    status, body = await post(client, "issue_comment", comment(), delivery="d" * 65)
    assert status == 400 and "64" in body["error"]


@pytest.mark.parametrize(
    "change, why",
    [({"action": None}, "'action'"), ({"action": "x" * 65}, "'action'"), ({"repository": "org/Paddle"}, "'repository'")],
    ids=["no-action", "long-action", "repository-not-an-object"],
)
async def test_a_handled_event_of_the_wrong_shape_is_422_and_not_stored(client, store, change, why):
    status, body = await post(client, "issue_comment", {**comment(), **change})
    assert status == 422 and why in body["error"]
    assert await stored(store) == {}


async def test_ping_is_answered_and_events_the_bot_does_not_handle_are_acknowledged_not_stored(client, store):
    assert await post(client, "ping", {"zen": "Keep it logically awesome."}) == (200, {"msg": "pong"})
    status, body = await post(client, "star", {"action": "created"})
    assert (status, body["status"]) == (202, "ignored")
    assert await stored(store) == {}


async def test_a_delivery_the_database_refuses_is_503_so_github_can_redeliver(client, pipeline, store, monkeypatch):
    async def refuse(*args, **kw):
        raise OSError("disk I/O error\nmore detail")

    monkeypatch.setattr(pipeline, "receive", refuse)
    status, body = await post(client, "issue_comment", comment())
    assert status == 503 and "retry later" in body["error"]


async def test_access_events_clear_cached_permissions_at_once(client, pipeline, gh):
    gh.permissions["carol"] = "write"

    def asked() -> int:
        return len(gh.of("collaborator_permission"))

    async def maintainer_command(n: int) -> None:
        await pipeline.handle(None, "issue_comment", comment("/close-task 3", user="carol", comment_id=600 + n))

    await maintainer_command(1)
    await maintainer_command(2)
    assert asked() == 1  # cached for a while
    member = {"action": "removed", "repository": payloads.repository("org/Paddle"), "member": payloads.user("carol")}
    assert await post(client, "member", member) == (202, {"status": "applied", "event": "member"})
    await maintainer_command(3)
    assert asked() == 2  # asked GitHub again: her rights may have changed
    await post(client, "organization", {"action": "member_removed"})
    await maintainer_command(4)
    assert asked() == 3


# ---- health and status --------------------------------------------------------------------------


async def test_healthz_is_200_with_the_counts_while_the_store_takes_writes(client, store):
    await post(client, "issue_comment", comment(), delivery="d-1")
    async with client.get("/healthz", headers=OPERATOR) as r:
        body = await r.json()
    assert r.status == 200 and body["status"] == "ok" and body["counts"]["pending"] == 1 and body["dry_run"]
    async with client.get("/healthz") as r:  # anyone else learns only that it is up
        assert r.status == 200 and await r.json() == {"status": "ok"}


async def test_healthz_is_503_when_the_database_cannot_be_written(client, store, monkeypatch):
    async def read_only(*args, **kw):
        raise OSError("attempt to write a readonly database")

    monkeypatch.setattr(store.db, "write", read_only)
    async with client.get("/healthz", headers=OPERATOR) as r:
        body = await r.json()
    assert r.status == 503 and body["status"] == "error"
    assert body["problems"] == ["the database cannot be written: attempt to write a readonly database"]


async def test_healthz_is_503_when_the_database_file_is_gone(client, tmp_path):
    os.remove(tmp_path / "bot.db")  # deleted under the running bot: what it writes now is lost
    async with client.get("/healthz", headers=OPERATOR) as r:
        body = await r.json()
    assert r.status == 503 and any("database file is missing" in p for p in body["problems"])


async def test_healthz_lists_a_lost_store_as_a_warning_without_failing(client, pipeline, all_rules):
    shown = render_board(all_rules.campaigns["h9"], CampaignState(claims=(Claim("h9", 1, "alice", Stage.CLAIMED, NOW),)), "en")
    assert pipeline.board.guard.holds("h9", "org/Paddle#100", CampaignState(), shown, edits=0)  # the board flusher saw it
    async with client.get("/healthz", headers=OPERATOR) as r:
        body = await r.json()
    [warning] = body["warnings"]
    assert r.status == 200 and "bot sync h9" in warning and "@alice" in warning


async def test_status_shows_counts_failures_and_jobs(client, store):
    await post(client, "issue_comment", comment(), delivery="d-1")
    await store.finish_delivery("d-1", "failed", "ValidationError: bad payload")
    await store.record_job("redeliver", {"last": "2026-03-01T09:00:00+00:00"})
    async with client.get("/status") as r:
        assert r.status == 401  # the operator's page
    async with client.get("/status", headers=OPERATOR) as r:
        body = await r.json()
    assert r.status == 200 and body["counts"]["failed"] == 1
    assert [(f["type"], f["id"], f["error"]) for f in body["failures"]] == [("delivery", "d-1", "ValidationError: bad payload")]
    assert body["jobs"]["redeliver"]["last"] == "2026-03-01T09:00:00+00:00"
