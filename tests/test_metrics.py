"""GET /metrics: Prometheus text format, counts that match what happened and what the store holds."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bot.metrics import Metrics
from bot.store.schema import outbox
from tests.harness import Harness


def samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def total(m: dict, name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, ls), v in m.items() if n == name and want <= set(ls))


async def scrape(h: Harness) -> dict:
    async with h.session.get(h.url + "/metrics") as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
        return samples(await resp.text())


async def test_after_n_deliveries_metrics_count_n_and_match_the_store(tmp_path, all_rules):
    async with Harness(all_rules, tmp_path) as h:
        n = 7
        for i in range(n - 1):
            await h.comment(f"【报名】：{1 + i % 3}", user=f"user{i}")
        await h.comment("no command here", user="zed", delivery="fixed-id")
        await h.comment("no command here", user="zed", delivery="fixed-id")  # a redelivery: not received twice
        await h.settle()
        m = await scrape(h)
        assert total(m, "hackathon_bot_deliveries_received_total") == n
        assert total(m, "hackathon_bot_deliveries_received_total", event="issue_comment") == n
        assert total(m, "hackathon_bot_redeliveries_total") == 1
        counts = await h.store.delivery_counts()
        for status in ("pending", "processing", "done", "ignored", "failed"):
            assert total(m, "hackathon_bot_deliveries", status=status) == counts.get(status, 0), status
        assert total(m, "hackathon_bot_inbox_depth") == 0 and total(m, "hackathon_bot_outbox_depth") == 0
        # processed, by outcome: exactly what the store recorded
        for outcome in ("done", "ignored", "failed"):
            assert total(m, "hackathon_bot_deliveries_processed_total", outcome=outcome) == counts.get(outcome, 0), outcome
        assert total(m, "hackathon_bot_delivery_processing_seconds_count") == n
        # actions performed, by kind: the outbox's
        actions = await h.store.read(lambda c: [(r.kind, r.status) for r in c.execute(select(outbox.c.kind, outbox.c.status))])
        assert actions and total(m, "hackathon_bot_actions_total") == len(actions)
        for kind in {k for k, _ in actions}:
            assert total(m, "hackathon_bot_actions_total", kind=kind, outcome="done") == actions.count((kind, "done"))
        # every request to GitHub, by method and status, as the fake GitHub saw them
        assert total(m, "hackathon_bot_github_requests_total") == len(h.gh.requests)
        assert total(m, "hackathon_bot_github_requests_total", method="PATCH", status="200") == sum(
            r.method == "PATCH" for r in h.gh.requests
        )
        # board edits: the store's count, and each with its lag
        info = await h.store.board_info("h9")
        assert total(m, "hackathon_bot_board_edits_total", campaign="h9") == info["board_edits"] >= 1
        assert total(m, "hackathon_bot_board_lag_seconds_count", campaign="h9") == info["board_edits"]
        # the write budget of the installation the bot used
        [(inst, left)] = h.gateway.write_budgets()
        assert total(m, "hackathon_bot_github_write_budget_remaining", installation=str(inst)) == left < h.max_writes


async def test_github_requests_are_counted_by_method_and_status():
    """The gateway's HTTP session reports every request; the fake GitHub saw the same ones."""
    import aiohttp

    from bot.github.gateway import Gateway, PermanentError
    from tests.fakegithub import FakeGitHub

    gh, metrics = FakeGitHub(), Metrics()
    await gh.start()
    gh.add_repo("org/Paddle")
    gh.add_issue("org/Paddle", 100, title="tracker")
    try:
        async with aiohttp.ClientSession(trace_configs=[metrics.trace_config()]) as session:
            gw = Gateway(api_url=gh.base_url, app_id=gh.app_id, private_key=gh.private_key_pem, session=session)
            inst = await gw.installation(1)
            await inst.create_comment("org/Paddle", 100, "hello")
            await inst.get_issue("org/Paddle", 100)
            with pytest.raises(PermanentError):
                await inst.get_issue("org/Paddle", 404)
    finally:
        await gh.stop()
    m = samples(metrics.render().decode())
    assert total(m, "hackathon_bot_github_requests_total") == len(gh.requests)
    for method in ("GET", "POST"):
        assert total(m, "hackathon_bot_github_requests_total", method=method) == sum(r.method == method for r in gh.requests)
    assert total(m, "hackathon_bot_github_requests_total", method="GET", status="404") == 1


def test_two_apps_in_one_process_keep_separate_metrics():
    a, b = Metrics(), Metrics()
    a.delivery_stored("issue_comment", True)
    assert total(samples(a.render().decode()), "hackathon_bot_deliveries_received_total") == 1
    assert total(samples(b.render().decode()), "hackathon_bot_deliveries_received_total") == 0


def test_metric_names_follow_prometheus_conventions():
    m = Metrics()
    m.delivery_done("pull_request", "done", 0.2)
    m.action_done("Reply", "done")
    m.board_written("h9", 3.0)
    m.refresh({"pending": 2, "processing": 1, "actions_pending": 4}, [(42, 70)])
    s = samples(m.render().decode())
    assert total(s, "hackathon_bot_inbox_depth") == 3 and total(s, "hackathon_bot_outbox_depth") == 4
    assert total(s, "hackathon_bot_github_write_budget_remaining", installation="42") == 70
    assert total(s, "hackathon_bot_delivery_processing_seconds_count", event="pull_request") == 1
    assert total(s, "hackathon_bot_board_lag_seconds_sum", campaign="h9") == 3.0
    names = {n for n, _ in s}
    assert all(n.startswith("hackathon_bot_") for n in names)
    counters = {f.name for f in text_string_to_metric_families(m.render().decode()) if f.type == "counter"}
    assert counters and all(not c.endswith("_total") for c in counters)  # the parser strips _total; samples carry it
    assert {n for n in names if n.endswith("_total")} >= {"hackathon_bot_actions_total", "hackathon_bot_board_edits_total"}
