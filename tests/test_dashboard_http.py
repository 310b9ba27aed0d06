"""The dashboard over HTTP, fed by the real pipeline: the numbers served are the store's."""

from __future__ import annotations

import csv
import io
import re

import pytest

from bot.core.board import board_stats
from bot.core.standing import build_standings
from bot.settings import Settings
from tests.conftest import STORE_BACKENDS
from tests.harness import Harness


async def seed(h: Harness) -> None:
    """Claims, a PR, a merge and a release, through signed deliveries."""
    await h.comment("【报名】：1、2", user="alice")
    await h.comment("【报名】：3", user="bob")
    await h.comment("【报名】：1", user="carol")
    await h.settle()
    await h.pull_request("opened", 7, title="【Hackathon 9th No.3】jit", user="bob", files=["python/paddle/jit/a.py"])
    await h.pull_request("opened", 8, title="【Hackathon 9th No.1】fuse", user="alice", files=["paddle/phi/kernels/fusion/x.cu"])
    await h.settle()
    await h.pull_request("closed", 7, merged=True, state="closed")
    await h.settle()
    await h.comment("【取消报名】：2", user="alice")
    await h.settle()


async def get(h: Harness, path: str) -> tuple[int, str, str]:
    async with h.session.get(h.url + path) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.text()


async def test_the_page_json_and_report_show_what_the_store_holds(tmp_path, all_rules):
    async with Harness(all_rules, tmp_path) as h:
        await seed(h)
        rules = all_rules.campaigns["h9"]
        state = await h.store.state("h9")
        stats = board_stats(rules, state)
        assert stats.total.completed == 1  # the seed did reach the store

        status, ctype, html = await get(h, "/campaigns/h9")
        assert status == 200 and ctype.startswith("text/html")
        totals = {k: int(v) for k, v in re.findall(r'data-total="(\w+)">(\d+)<', html)}
        assert (totals["tasks"], totals["claimed"], totals["submitted"], totals["completed"]) == (
            stats.total.tasks,
            stats.total.claimed,
            stats.total.submitted,
            stats.total.completed,
        )
        assert "<svg" in html and ("<polyline" in html or "<circle" in html)

        async with h.session.get(h.url + "/campaigns/h9.json") as resp:
            data = await resp.json()
        assert data["total"]["completed"] == stats.total.completed
        ranked = build_standings(rules, state, await h.store.history("h9")).leaderboard
        assert [(p["rank"], p["login"], p["points"]) for p in data["leaderboard"]] == [
            (s.rank, s.login, float(s.points)) for s in ranked
        ]
        last = data["series"][-1]
        assert (last["claimed"], last["submitted"], last["completed"]) == (
            stats.total.claimed,
            stats.total.submitted,
            stats.total.completed,
        )
        holders = {(t["id"], x["user"]) for t in data["tasks"] for x in t["holders"]}
        assert holders == {(c.task, c.user) for c in state.claims}

        status, ctype, body = await get(h, "/campaigns/h9/report.csv")
        assert status == 200 and ctype.startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(body)))
        done = [c for c in state.claims if c.stage.value == "completed"]
        assert [(r["user"], int(r["task"])) for r in rows] == [(c.user, c.task) for c in done]
        assert rows[0]["prs"] == next(p.url for p in state.prs if p.number == 7)

        status, _, index = await get(h, "/")
        assert status == 200 and 'href="campaigns/h9"' in index

        assert (await get(h, "/campaigns/nope"))[0] == 404
        assert (await get(h, "/campaigns/nope/report.csv"))[0] == 404


async def test_dashboard_off_serves_no_pages_but_metrics(tmp_path, all_rules, monkeypatch):
    monkeypatch.setenv("DASHBOARD", "off")
    assert Settings(_env_file=None).dashboard is False
    async with Harness(all_rules, tmp_path) as h:
        h.settings.dashboard = False
        from bot.runtime.server import make_app
        from tests.harness import serve

        runner, url = await serve(make_app(h.settings, h.store, h.pipeline))
        try:
            for path in ("/", "/campaigns/h9", "/campaigns/h9.json", "/campaigns/h9/report.csv"):
                async with h.session.get(url + path) as resp:
                    assert resp.status == 404, path
            async with h.session.get(url + "/metrics") as resp:
                assert resp.status == 200
        finally:
            await runner.cleanup()


@pytest.mark.parametrize("backend", STORE_BACKENDS)
async def test_each_stage_change_is_recorded_with_its_time(backend, tmp_path, all_rules):
    async with Harness(all_rules, tmp_path, backend=backend) as h:
        await seed(h)
        events = [(e.task, e.user, e.stage.value if e.stage else None) for e in await h.store.history("h9")]
        assert events == [
            (1, "alice", "claimed"),
            (2, "alice", "claimed"),
            (3, "bob", "claimed"),
            (1, "carol", "claimed"),
            (3, "bob", "submitted"),
            (1, "alice", "submitted"),
            (3, "bob", "completed"),
            (2, "alice", None),
        ]
        # replayed, the history gives today's numbers (the last point of the chart)
        rules = all_rules.campaigns["h9"]
        state = await h.store.state("h9")
        from bot.core.dashboard import replay

        last = replay(rules, state, await h.store.history("h9"))[-1]
        stats = board_stats(rules, state)
        assert (last.claimed, last.submitted, last.completed) == (
            stats.total.claimed,
            stats.total.submitted,
            stats.total.completed,
        )


async def test_the_history_migration_carries_existing_claims_over(tmp_path):
    """A database from before the history table: its claims appear in the history, at their times."""
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import text

    from bot.core.model import Stage
    from bot.store.migrate import alembic_config
    from tests.conftest import fresh_store

    store = await fresh_store("sqlite", tmp_path)
    t0, t1 = datetime(2026, 3, 1, 8, tzinfo=UTC), datetime(2026, 3, 4, 9, tzinfo=UTC)

    def old_schema(conn):
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(
            text(
                'INSERT INTO claims (campaign, task, user_key, "user", stage, claimed_at, updated_at) VALUES '
                "('h9', 1, 'alice', 'Alice', 'completed', :t0, :t1), ('h9', 2, 'bob', 'bob', 'claimed', :t0, :t0)"
            ),
            {"t0": t0.replace(tzinfo=None), "t1": t1.replace(tzinfo=None)},
        )

    await store._write(old_schema)
    await store.init(["h9"])
    got = sorted(((e.task, e.user, e.stage, e.at) for e in await store.history("h9")), key=lambda e: (e[3], e[0]))
    await store.close()
    assert got == [(1, "Alice", Stage.CLAIMED, t0), (2, "bob", Stage.CLAIMED, t0), (1, "Alice", Stage.COMPLETED, t1)]


async def test_pages_run_only_their_own_script(tmp_path, all_rules):
    """The Content-Security-Policy allows the page's inline script by its hash and nothing else."""
    import base64
    import hashlib

    async with Harness(all_rules, tmp_path) as h:
        async with h.session.get(h.url + "/campaigns/h9") as resp:
            policy, html = resp.headers["Content-Security-Policy"], await resp.text()
        script = html.split("<script>", 1)[1].split("</script>", 1)[0]
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"script-src 'sha256-{digest}'" in policy and "default-src 'none'" in policy
        async with h.session.get(h.url + "/") as resp:
            assert "script-src 'none'" in resp.headers["Content-Security-Policy"]
