"""The campaign page of a 2,000-task, 4,000-claim campaign: server time per request (bar: < 300 ms).

As shipped: `assemble()` with default settings (SQLite store, dry-run: the page needs no GitHub),
the campaign written into the store through `Store.commit` (claims spread over ~8 weeks, so the
history and the chart have ~55 days), the page fetched over HTTP on 127.0.0.1. Prints the time of
the whole request (what the server spends plus a loopback round trip) and its parts measured
in-process: reading state and history from the store, building the dashboard, rendering HTML;
also the JSON and CSV routes and the page size.

Run: .venv/bin/python bench/bench_dashboard.py [requests]
"""
from __future__ import annotations

import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_board import build  # noqa: E402  (the board benchmark's campaign generator)

from bot.actions import Decision, PutClaim, PutPull, SetTaskClosed  # noqa: E402
from bot.app import assemble  # noqa: E402
from bot.dashboard import build_dashboard  # noqa: E402
from bot.rules.models import Rules  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.web.pages import render_campaign  # noqa: E402

BAR_MS = 300.0


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


async def main(n: int) -> None:
    rules, state = build(2000, 4000)
    start = datetime.now(UTC) - timedelta(days=56)
    claims = [dataclasses.replace(c, claimed_at=start + timedelta(minutes=20 * i)) for i, c in enumerate(state.claims)]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp}/bench.db", rules_dir=Path(tmp))
        bot = await assemble(settings, rules=Rules(campaigns={"h9": rules}), gateway=None)
        store = bot.store
        t = time.perf_counter()
        for i in range(0, len(claims), 500):  # the campaign, written as changes (history recorded with them)
            changes = [PutClaim(c) for c in claims[i:i + 500]]
            await store.commit("h9", lambda s, ch=changes: Decision(changes=ch))
        await store.commit("h9", lambda s: Decision(changes=[PutPull(p) for p in state.prs]
                                                    + [SetTaskClosed(t, True) for t in state.closed_tasks]))
        seeded = time.perf_counter() - t
        runner = web.AppRunner(bot.web, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        url = f"http://{host}:{port}/campaigns/h9"
        times: dict[str, list[float]] = {"page": [], "json": [], "csv": []}
        size = 0
        async with aiohttp.ClientSession() as session:
            for path, key in (("", "page"), (".json", "json"), ("/report.csv", "csv")):
                for i in range(n + 1):
                    t = time.perf_counter()
                    async with session.get(url + path) as resp:
                        body = await resp.read()
                        assert resp.status == 200, resp.status
                    if i:  # the first request warms the template cache
                        times[key].append((time.perf_counter() - t) * 1000)
                    if key == "page":
                        size = len(body)
        parts: dict[str, list[float]] = {"read": [], "build": [], "render": []}
        for _ in range(n):
            t0 = time.perf_counter()
            st, hist = await store.state("h9"), await store.history("h9")
            t1 = time.perf_counter()
            d = build_dashboard(rules, st, hist, datetime.now(UTC))
            t2 = time.perf_counter()
            render_campaign(d)
            t3 = time.perf_counter()
            for k, v in (("read", t1 - t0), ("build", t2 - t1), ("render", t3 - t2)):
                parts[k].append(v * 1000)
        await runner.cleanup()
        await bot.close()
    print(f"campaign: {len(rules.tasks)} tasks, {len(claims)} claims, {len(state.prs)} PRs, {len(hist)} history events, "
          f"{len(d.series)} days; seeded in {seeded:.1f} s")
    print(f"page: {size / 1024:.0f} KiB")
    for key, xs in times.items():
        print(f"GET /campaigns/h9{'' if key == 'page' else ('.json' if key == 'json' else '/report.csv')}: "
              f"median {statistics.median(xs):.0f} ms, p95 {pct(xs, 95):.0f} ms over {len(xs)} requests")
    print("  in-process, median: " + ", ".join(f"{k} {statistics.median(v):.0f} ms" for k, v in parts.items()))
    page = statistics.median(times["page"])
    print(f"bar: page under {BAR_MS:.0f} ms server time: {'PASS' if page < BAR_MS else 'MISS'} ({page:.0f} ms)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
