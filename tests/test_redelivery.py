"""Redelivery of what GitHub failed to deliver (issue 10): claims sent while the bot was down are
recorded by GitHub as failed deliveries; the bot asks for each once (whatever the number of
replicas), they arrive again through the normal intake with their GUID, and each is answered
exactly once; nothing answered before is answered again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.replies import reply_marker
from bot.github.redelivery import Redeliverer, to_redeliver
from bot.rules.models import ClaimPolicy, Rules
from bot.runtime.server import WEBHOOK_PATH
from bot.store import Store
from tests import payloads
from tests.conftest import STORE_BACKENDS, make_campaign, make_rules
from tests.harness import SECRET, Harness

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


def d(i: int, guid: str, code: int, minutes_ago: float, redelivery: bool = False) -> dict:
    return {
        "id": i,
        "guid": guid,
        "status_code": code,
        "redelivery": redelivery,
        "event": "issue_comment",
        "delivered_at": (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def test_what_is_asked_for_again():
    deliveries = [
        d(6, "c", 502, 1, redelivery=True),
        d(5, "b", 200, 2, redelivery=True),
        d(4, "c", 0, 3),
        d(3, "b", 502, 4),
        d(2, "a", 502, 5),
        d(1, "old", 502, 60 * 24 * 4),
    ]
    # "b" got through on a later attempt, "a" is in the inbox, "old" is past GitHub's 3 days: only "c", newest attempt
    assert [x["id"] for x in to_redeliver(deliveries, {"a"}, NOW)] == [6]


def campaign_rules() -> Rules:
    base = make_rules().tasks[2]
    tasks = {i: base.model_copy(update={"id": i, "title": f"Docs task {i}"}) for i in range(1, 31)}
    return Rules(campaigns={"h9": make_rules(tasks=tasks, campaign=make_campaign(claim_policy=ClaimPolicy()))})


@pytest.fixture(params=STORE_BACKENDS)
async def bot(request, tmp_path):
    async with Harness(campaign_rules(), tmp_path, backend=request.param) as h:
        h.gh.hook_url, h.gh.hook_secret = h.url + WEBHOOK_PATH, SECRET
        yield h


def claim_payload(h: Harness, user: str, task: int) -> dict:
    cid = h.gh.add_comment("org/Paddle", 100, f"【报名】：{task}", user=user)["id"]
    return payloads.issue_comment(
        "created", repo="org/Paddle", issue_number=100, comment_id=cid, body=f"【报名】：{task}", user=user
    )


async def test_claims_sent_while_down_are_redelivered_once_and_answered_once(bot):
    # before the outage: a claim delivered and answered
    before = claim_payload(bot, "early", 1)
    await bot.post("issue_comment", before, delivery="guid-early")
    bot.gh.record_delivery("issue_comment", before, guid="guid-early", status_code=202)
    await bot.settle()
    # the outage: 20 claims GitHub could not deliver; one more that got through on GitHub's second try
    down = [claim_payload(bot, f"down{k}", 2 + k) for k in range(20)]
    for p in down:
        bot.gh.record_delivery("issue_comment", p, status_code=502)
    late = claim_payload(bot, "late", 25)
    bot.gh.record_delivery("issue_comment", late, guid="guid-late", status_code=0)
    await bot.post("issue_comment", late, delivery="guid-late")
    bot.gh.record_delivery("issue_comment", late, guid="guid-late", status_code=202)
    await bot.settle()

    # two replicas look at the same time
    other = Store(bot.store.url)
    await other.init(["h9"])
    try:
        infos = await asyncio.gather(Redeliverer(bot.store, bot.gateway).run_once(), Redeliverer(other, bot.gateway).run_once())
    finally:
        await other.close()
    assert [i["found_failed"] for i in infos] == [20, 20]
    assert sum(i["asked"] for i in infos) == 20
    failed_ids = {x["id"] for x in bot.gh.hook_deliveries if x["status_code"] == 502 and not x["redelivery"]}
    assert sorted(bot.gh.redelivery_requests) == sorted(failed_ids)  # exactly one request per failed delivery

    for _ in range(100):
        if sum(1 for x in bot.gh.hook_deliveries if x["redelivery"]) == 20:
            break
        await asyncio.sleep(0.05)
    await bot.settle()
    state = await bot.store.state("h9")
    held = {c.user for c in state.claims}
    assert {f"down{k}" for k in range(20)} <= held
    board = bot.tracker()
    assert all(f"@down{k}" in board for k in range(20))
    replies = bot.bot_comments()
    everything = "\n".join(r["body"] for r in replies)
    cids = [p["comment"]["id"] for p in [before, late, *down]]
    assert all(everything.count(reply_marker(cid)) == 1 for cid in cids)  # each answered exactly once
    # (queued replies to one issue may be merged into one comment: each person is answered once)

    # the next pass finds nothing left to ask for
    again = await Redeliverer(bot.store, bot.gateway).run_once()
    assert (again["found_failed"], again["asked"]) == (0, 0)
    jobs = await bot.store.jobs_info()
    assert jobs["redelivery"]["found_failed"] == 0 and jobs["redelivery"]["last_run_at"]


async def test_a_refusing_deliveries_api_is_shown_and_the_bot_keeps_serving(bot):
    bot.gh.fail_next("GET", r"^/app/hook/deliveries$", 404)
    info = await Redeliverer(bot.store, bot.gateway).run_once()
    assert info["error"] and "404" in info["error"]
    async with bot.session.get(bot.url + "/status") as resp:
        status = await resp.json()
    assert "404" in status["jobs"]["redelivery"]["error"]
    await bot.comment("【报名】：3", user="still")
    await bot.settle()
    assert len(bot.bot_comments()) == 1
