"""The GitHub gateway: its pure policy (classify, waits, window, expiry) and its behaviour
against the fake GitHub server over real HTTP (tokens, retries, limits, pagination, auth).

Sleep and clock are injected: a retry "waits" instantly and the waits are recorded.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from bot.github.gateway import (
    BUDGET_MARGIN,
    Gateway,
    GitHubError,
    Installation,
    PermanentError,
    SlidingWindow,
    TransientError,
    _WriteLane,
    backoff,
    budget_wait,
    classify,
    parse_expiry,
    rate_limit_wait,
    token_is_fresh,
)
from tests.fakegithub import FakeGitHub, generate_private_key_pem

KEY = generate_private_key_pem()
REPO = "org/proj"
TOKENS = r"/app/installations/\d+/access_tokens$"


class Clock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = time.time()
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
async def fake():
    f = FakeGitHub(private_key_pem=KEY)
    await f.start()
    f.add_issue(REPO, 1, title="Tracker")
    yield f
    await f.stop()


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def gateway(fake, session, clock):
    def make(**kw) -> Gateway:
        args = dict(api_url=fake.base_url, app_id=fake.app_id, private_key=KEY, session=session, sleep=clock.sleep, clock=clock)
        return Gateway(**{**args, **kw})

    return make


# ------------------------------------------------------------------ pure policy


@pytest.mark.parametrize(
    "status,headers,body,kind,wait",
    [
        (200, {}, {}, "ok", None),
        (201, {}, {}, "ok", None),
        (204, {}, None, "ok", None),
        (500, {}, {"message": "boom"}, "retry", None),
        (502, {}, "<html>bad gateway</html>", "retry", None),
        (503, {}, None, "retry", None),
        (401, {}, {"message": "Bad credentials"}, "unauthorized", None),
        (429, {"Retry-After": "7"}, {}, "rate_limited", 7.0),
        (429, {}, {}, "rate_limited", 60.0),
        (403, {"retry-after": "30"}, {"message": "x"}, "rate_limited", 30.0),
        (
            403,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1020"},
            {"message": "API rate limit exceeded"},
            "rate_limited",
            21.0,
        ),
        (403, {}, {"message": "You have exceeded a secondary rate limit. Please wait."}, "rate_limited", 60.0),
        (403, {}, {"message": "You have triggered an abuse detection mechanism."}, "rate_limited", 60.0),
        (403, {"x-ratelimit-remaining": "12"}, {"message": "Resource not accessible by integration"}, "permanent", None),
        (404, {}, {"message": "Not Found"}, "permanent", None),
        (410, {}, {"message": "Issue deleted"}, "permanent", None),
        (422, {}, {"message": "Validation Failed", "errors": [{"field": "body"}]}, "permanent", None),
    ],
)
def test_classify(status, headers, body, kind, wait):
    verdict = classify(status, headers, body, now=1000.0)
    assert verdict.kind == kind
    assert verdict.wait == wait


def test_classify_keeps_githubs_message_and_errors():
    v = classify(422, {}, {"message": "Validation Failed", "errors": [{"field": "body", "code": "missing"}]}, 0)
    assert "Validation Failed" in v.message and "missing" in v.message


def test_rate_limit_wait_prefers_retry_after_and_never_goes_negative():
    assert rate_limit_wait({"Retry-After": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "2000"}, 1000) == 5
    assert rate_limit_wait({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "900"}, 1000) == 1.0
    assert rate_limit_wait({"x-ratelimit-remaining": "3", "x-ratelimit-reset": "2000"}, 1000) is None
    assert rate_limit_wait({"Retry-After": "soon"}, 1000) is None


def test_backoff_grows_exponentially_within_cap():
    assert [backoff(n, rng=lambda: 1.0) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff(30, cap=60.0, rng=lambda: 1.0) == 60.0
    assert backoff(3, rng=lambda: 0.0) == 0.0


def test_sliding_window_admits_limit_per_window_then_waits_for_the_oldest():
    w = SlidingWindow(3, window=60)
    for t in (0, 1, 2):
        assert w.delay(t) == 0
        w.record(t)
    assert w.delay(10) == 50  # the event at t=0 leaves the window at t=60
    assert w.delay(60) == 0
    w.record(60)
    assert w.delay(60.5) == 0.5  # now the t=1 event is the oldest
    with pytest.raises(ValueError):
        SlidingWindow(0)


def test_token_expiry():
    exp = parse_expiry("2016-07-11T22:14:10Z")
    assert exp == 1468275250.0
    assert token_is_fresh(exp, exp - 301)
    assert not token_is_fresh(exp, exp - 299)


# ------------------------------------------------------------------ auth and tokens


async def test_app_login_is_slug_bot_and_cached(fake, gateway):
    gw = gateway()
    assert await gw.app_login() == "hackathon-bot[bot]"
    assert await gw.app_login() == "hackathon-bot[bot]"
    assert fake.count("GET", "^/app$") == 1


async def test_token_is_minted_once_and_reused_across_calls(fake, gateway):
    gw = gateway()
    inst = await gw.installation(1)
    for _ in range(3):
        await inst.get_issue(REPO, 1)
    again = await gw.installation(1)
    await again.create_comment(REPO, 1, "hi")
    assert again is inst
    assert fake.count("POST", TOKENS) == 1
    fake.add_installation(2, "other", ["other/proj"])
    fake.add_issue("other/proj", 1, title="t")
    other = await gw.installation(2)
    await other.get_issue("other/proj", 1)
    assert fake.count("POST", TOKENS) == 2
    assert {r.installation_id for r in fake.requests if r.path.startswith("/repos")} == {1, 2}


async def test_concurrent_callers_share_one_mint(fake, gateway):
    gw = gateway()

    async def one() -> None:
        inst = await gw.installation(7)
        await inst.get_issue(REPO, 1)

    await asyncio.gather(*(one() for _ in range(20)))
    assert fake.count("POST", TOKENS) == 1
    assert fake.count("GET", "/issues/1$") == 20


async def test_token_is_refreshed_five_minutes_before_expiry(fake, gateway, clock):
    gw = gateway()
    inst = await gw.installation(1)
    clock.now += fake.token_ttl - 310  # still 310 s left: reuse
    await inst.get_issue(REPO, 1)
    assert fake.count("POST", TOKENS) == 1
    clock.now += 20  # 290 s left: mint a new one
    await inst.get_issue(REPO, 1)
    assert fake.count("POST", TOKENS) == 2


async def test_rejected_token_is_replaced_once(fake, gateway):
    gw = gateway()
    inst = await gw.installation(1)
    fake.revoke_tokens()
    issue = await inst.get_issue(REPO, 1)
    assert issue["title"] == "Tracker"
    assert fake.count("POST", TOKENS) == 2
    assert [r.status for r in fake.requests if r.path.endswith("/issues/1")] == [401, 200]


async def test_persistent_401_is_permanent_after_one_new_token(fake, gateway, clock):
    gw = gateway()
    inst = await gw.installation(1)
    fake.fail_next("GET", "/issues/1$", 401, times=5)
    with pytest.raises(PermanentError) as err:
        await inst.get_issue(REPO, 1)
    assert err.value.status == 401
    assert fake.count("GET", "/issues/1$") == 2
    assert clock.waits == []


async def test_forged_key_is_rejected(fake, gateway):
    gw = gateway(private_key=generate_private_key_pem())
    with pytest.raises(PermanentError) as err:
        await gw.installation(1)
    assert err.value.status == 401
    with pytest.raises(PermanentError):
        await gw.app_login()
    assert [r.status for r in fake.requests] == [401, 401]


async def test_wrong_app_id_is_rejected(fake, gateway):
    gw = gateway(app_id=fake.app_id + 1)
    with pytest.raises(PermanentError):
        await gw.installation(1)


# ------------------------------------------------------------------ retries


async def test_502_is_retried_then_succeeds(fake, gateway, clock):
    inst = await gateway().installation(1)
    fake.fail_next("POST", "/issues/1/comments$", 502, times=2)
    comment = await inst.create_comment(REPO, 1, "hello")
    assert comment["body"] == "hello"
    assert fake.count("POST", "/issues/1/comments$") == 3
    assert len(fake.comments(REPO, 1)) == 1
    assert len(clock.waits) == 2 and all(0 <= w <= 60 for w in clock.waits)


async def test_5xx_gives_up_after_max_attempts_with_a_retryable_error(fake, gateway, clock):
    inst = await gateway(max_attempts=4).installation(1)
    fake.fail_next("GET", "/issues/1$", 503, times=10)
    with pytest.raises(GitHubError) as err:
        await inst.get_issue(REPO, 1)
    assert not isinstance(err.value, PermanentError)
    assert err.value.status == 503
    assert fake.count("GET", "/issues/1$") == 4
    assert len(clock.waits) == 3


async def test_retry_after_is_honoured(fake, gateway, clock):
    inst = await gateway().installation(1)
    fake.fail_next("POST", "/comments$", 429, headers={"Retry-After": "7"})
    fake.fail_next(
        "POST", "/comments$", 403, headers={"Retry-After": "12"}, body={"message": "You have exceeded a secondary rate limit."}
    )
    await inst.create_comment(REPO, 1, "x")
    assert clock.waits == [7.0, 12.0]
    assert fake.count("POST", "/comments$") == 3


async def test_primary_rate_limit_waits_until_reset(fake, gateway, clock):
    inst = await gateway().installation(1)
    reset = int(clock.now) + 20
    fake.fail_next(
        "GET",
        "/issues/1$",
        403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset), "x-ratelimit-limit": "5000"},
        body={"message": "API rate limit exceeded for installation ID 1."},
    )
    await inst.get_issue(REPO, 1)
    assert len(clock.waits) == 1
    assert reset - time.time() <= clock.waits[0] <= 22


async def test_wait_longer_than_max_wait_fails_fast_and_says_when(fake, gateway, clock):
    inst = await gateway(max_wait=60).installation(1)
    fake.fail_next("POST", "/comments$", 429, headers={"Retry-After": "3600"})
    with pytest.raises(GitHubError) as err:
        await inst.create_comment(REPO, 1, "x")
    assert not isinstance(err.value, PermanentError)
    assert err.value.retry_after == 3600
    assert clock.waits == []
    assert fake.count("POST", "/comments$") == 1


@pytest.mark.parametrize("status", [400, 403, 404, 422])
async def test_permanent_4xx_is_not_retried(fake, gateway, clock, status):
    inst = await gateway().installation(1)
    fake.fail_next(
        "PATCH", "/issues/1$", status, body={"message": "Validation Failed", "errors": [{"field": "title", "code": "invalid"}]}
    )
    with pytest.raises(PermanentError) as err:
        await inst.edit_issue(REPO, 1, title="x")
    assert err.value.status == status
    assert fake.count("PATCH", "/issues/1$") == 1
    assert clock.waits == []


async def test_real_422_from_the_fake_is_permanent(fake, gateway):
    inst = await gateway().installation(1)
    with pytest.raises(PermanentError) as err:
        await inst.create_check_run(REPO, head_sha="", name="review", conclusion="success", title="t", summary="s")
    assert err.value.status == 422 and "head_sha" in err.value.message


async def test_timeouts_are_retried_then_reported(fake, gateway, clock):
    inst = await gateway(timeout=0.05, max_attempts=2).installation(1)
    fake.latency = 0.3
    with pytest.raises(TransientError) as err:
        await inst.get_issue(REPO, 1)
    assert err.value.status == 0
    assert len(clock.waits) == 1


# ------------------------------------------------------------------ pagination


async def test_3000_files_take_30_requests(fake, gateway):
    fake.add_pull(REPO, 5, title="big", user="bob", files=[f"src/f{i:04}.py" for i in range(3000)])
    inst = await gateway().installation(1)
    files = await inst.pr_files(REPO, 5)
    assert [f["filename"] for f in files] == [f"src/f{i:04}.py" for i in range(3000)]
    assert fake.count("GET", "/pulls/5/files$") == 30
    assert inst.calls == 30


async def test_files_beyond_githubs_3000_are_not_listed(fake, gateway):
    fake.add_pull(REPO, 6, title="huge", user="bob", files=[f"f{i}" for i in range(3100)])
    files = await (await gateway().installation(1)).pr_files(REPO, 6)
    assert len(files) == 3000


async def test_pagination_retries_a_failed_page_only(fake, gateway):
    for i in range(150):
        fake.add_comment(REPO, 1, f"c{i}", user="alice")
    inst = await gateway().installation(1)
    fake.fail_next("GET", "/issues/1/comments$", 502)
    comments = await inst.list_comments(REPO, 1)
    assert [c["body"] for c in comments] == [f"c{i}" for i in range(150)]
    assert fake.count("GET", "/issues/1/comments$") == 3  # page 1 failed once, then pages 1 and 2


# ------------------------------------------------------------------ content-creation throttle


async def test_throttle_keeps_at_most_n_creates_per_minute(fake, gateway, clock):
    inst = await gateway(max_creates_per_minute=5).installation(1)
    sent_at = []
    for i in range(12):
        await inst.create_comment(REPO, 1, f"c{i}")
        sent_at.append(clock())
    assert len(fake.comments(REPO, 1)) == 12  # waits, never drops
    for t in sent_at:
        assert sum(1 for u in sent_at if t <= u < t + 60) <= 5
    assert sent_at[-1] - sent_at[0] >= 120  # 12 creates at 5 a minute span at least two minutes


async def test_concurrent_creates_queue_and_reads_are_not_throttled(fake, gateway, clock):
    inst = await gateway(max_creates_per_minute=4).installation(1)
    await asyncio.gather(*(inst.get_issue(REPO, 1) for _ in range(20)))
    assert clock.waits == []
    await asyncio.gather(*(inst.create_comment(REPO, 1, f"c{i}") for i in range(10)))
    assert len(fake.comments(REPO, 1)) == 10
    assert sum(clock.waits) >= 120  # creates 5..8 wait a minute, 9..10 two minutes


async def test_a_priority_write_uses_the_share_ordinary_writes_leave(fake, gateway, clock):
    inst = await gateway(max_creates_per_minute=16).installation(1)
    # ordinary writes may use 14 of the 16 a minute; 2 stay free for priority writes
    for i in range(14):
        await inst.create_comment(REPO, 1, f"c{i}")
    assert clock.waits == []
    await inst.edit_issue(REPO, 1, body="board", priority=True)
    assert clock.waits == []  # the board edit did not wait for the window
    assert fake.issue(REPO, 1)["body"] == "board"
    await inst.create_comment(REPO, 1, "late")
    assert sum(clock.waits) >= 60  # the next ordinary write did
    assert len(fake.comments(REPO, 1)) == 15


async def test_the_write_lane_lets_a_queued_priority_write_go_first():
    lane = _WriteLane()
    order: list[str] = []
    await lane.acquire(False)

    async def write(name: str, priority: bool) -> None:
        await lane.acquire(priority)
        order.append(name)
        lane.release()

    waiting = [asyncio.create_task(write(f"reply{i}", False)) for i in range(3)]
    await asyncio.sleep(0)
    waiting.append(asyncio.create_task(write("board", True)))
    await asyncio.sleep(0)
    lane.release()
    await asyncio.gather(*waiting)
    assert order == ["board", "reply0", "reply1", "reply2"]


async def test_writes_are_made_one_at_a_time_per_installation(fake, gateway):
    inst = await gateway(max_creates_per_minute=80).installation(1)
    fake.latency = 0.02
    await asyncio.gather(*(inst.create_comment(REPO, 1, f"c{i}") for i in range(6)))
    writes = [r for r in fake.requests if r.method == "POST" and "comments" in r.path]
    assert len(writes) == 6
    for a, b in zip(writes, writes[1:]):
        assert b.started >= a.ended  # the next write started after the previous one was answered


async def test_a_secondary_limit_pauses_every_write_of_the_installation(fake, gateway, clock):
    inst = await gateway(max_creates_per_minute=80).installation(1)
    fake.fail_next(
        "POST", "/comments$", 403, headers={"retry-after": "30"}, body={"message": "You have exceeded a secondary rate limit"}
    )
    await asyncio.gather(*(inst.create_comment(REPO, 1, f"c{i}") for i in range(3)))
    assert len(fake.comments(REPO, 1)) == 3
    posts = [r for r in fake.requests if r.method == "POST" and "comments" in r.path]
    assert [r.status for r in posts] == [403, 201, 201, 201]  # nobody went out during the pause
    assert sum(clock.waits) >= 30


def test_budget_wait_counts_both_windows_with_a_margin():
    now = 10_000.0
    minute = [now - 30.0] * 70
    # ordinary writes stop at 70 of 80 a minute; priority ones may use the rest
    assert budget_wait(minute, minute, now, per_minute=80, per_hour=500, priority=False) == pytest.approx(30.0 + BUDGET_MARGIN)
    assert budget_wait(minute, minute, now, per_minute=80, per_hour=500, priority=True) == 0
    hour = [now - 1000.0] * 438
    assert budget_wait([], hour, now, per_minute=80, per_hour=500, priority=False) == pytest.approx(2600.0 + BUDGET_MARGIN)
    assert budget_wait([], hour, now, per_minute=80, per_hour=500, priority=True) == 0
    # a write received 60.5 s ago still counts: GitHub's clock may be behind ours
    assert budget_wait([now - 60.5] * 80, [], now, per_minute=80, per_hour=500, priority=True) > 0
    assert budget_wait([], [], now, per_minute=80, per_hour=500, priority=False, paused_until=now + 7) == 7


async def test_an_unchanged_issue_is_read_with_a_free_304(fake, gateway):
    inst = await gateway().installation(1)
    first = await inst.get_issue(REPO, 1)
    again = await inst.get_issue(REPO, 1)
    assert again == first
    assert [r.status for r in fake.requests if r.method == "GET" and r.path.endswith("/issues/1")] == [200, 304]
    assert inst.not_modified == 1
    fake.add_issue(REPO, 1, title="Tracker", body="changed by the organiser")
    assert (await inst.get_issue(REPO, 1))["body"] == "changed by the organiser"
    await inst.edit_issue(REPO, 1, body="board")
    assert (await inst.get_issue(REPO, 1))["body"] == "board"
    assert inst.not_modified == 2  # the edit's answer carried the new ETag


# ------------------------------------------------------------------ the typed calls


async def test_typed_calls_round_trip(fake, gateway):
    fake.add_pull(REPO, 9, title="[T1] add", user="bob", files=["a.py"], head_sha="a" * 40)
    fake.set_permission(REPO, "mia", "maintain")
    fake.set_permission(REPO, "tom", "triage")
    fake.add_comment(REPO, 9, "I'm on it", user="bob")
    inst = await gateway().installation(1)

    made = await inst.create_comment(REPO, 9, "checklist")
    assert made["user"]["login"] == "hackathon-bot[bot]" and made["user"]["type"] == "Bot"
    edited = await inst.edit_comment(REPO, made["id"], "checklist v2")
    assert edited["body"] == "checklist v2"
    assert [c["body"] for c in await inst.list_comments(REPO, 9)] == ["I'm on it", "checklist v2"]

    assert [lab["name"] for lab in await inst.replace_labels(REPO, 9, ["hackathon", "needs-tests"])] == [
        "hackathon",
        "needs-tests",
    ]
    assert fake.labels(REPO, 9) == ["hackathon", "needs-tests"]

    issue = await inst.add_assignees(REPO, 9, ["bob", "stranger"])
    assert [a["login"] for a in issue["assignees"]] == ["bob"]  # GitHub ignores who cannot be assigned

    pr = await inst.get_pull(REPO, 9)
    assert pr["head"]["sha"] == "a" * 40 and pr["user"]["login"] == "bob" and pr["merged"] is False
    assert (await inst.edit_issue(REPO, 1, body="board"))["body"] == "board"
    assert fake.issue(REPO, 1)["body"] == "board"

    assert await inst.collaborator_permission(REPO, "mia") == "maintain"
    assert await inst.collaborator_permission(REPO, "tom") == "triage"
    assert await inst.collaborator_permission(REPO, "anyone") == "read"
    fake.fail_next("GET", "/collaborators/ghost/permission$", 404)
    assert await inst.collaborator_permission(REPO, "ghost") == "none"

    run = await inst.create_check_run(
        REPO, head_sha="a" * 40, name="hackathon", conclusion="failure", title="2 problems", summary="- tests missing"
    )
    assert run["status"] == "completed" and run["conclusion"] == "failure"
    assert run["output"]["title"] == "2 problems"
    assert [p["number"] for p in run["pull_requests"]] == [9]


async def test_calls_counts_every_request_of_the_installation(fake, gateway):
    inst = await gateway().installation(1)
    fake.fail_next("GET", "/issues/1$", 500)
    await inst.get_issue(REPO, 1)
    await inst.create_comment(REPO, 1, "x")
    assert inst.calls == 3
    assert isinstance(inst, Installation) and inst.installation_id == 1
