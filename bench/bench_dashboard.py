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
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_board import build

from bot.app import assemble
from bot.core.actions import Decision, PutClaim, PutPull, SetTaskClosed
from bot.core.dashboard import build_dashboard
from bot.core.model import Claim, Stage
from bot.rules.models import Rules
from bot.settings import Settings
from bot.web.pages import clear_row_cache as rows_cache_clear
from bot.web.pages import render_campaign

BAR_MS = 300.0


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


async def main(n: int) -> None:
    rules, state = build(2000, 4000)
    start = datetime.now(UTC) - timedelta(days=56)
    claims = [dataclasses.replace(c, claimed_at=start + timedelta(minutes=20 * i)) for i, c in enumerate(state.claims)]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp}/bench.db", rules_dir=Path(tmp))
        bot = await assemble(
            settings,
            rules=Rules(campaigns={"h9": rules}),
        )
        store = bot.store
        t = time.perf_counter()
        for i in range(0, len(claims), 500):  # the campaign, written as changes (history recorded with them)
            changes = [PutClaim(c) for c in claims[i : i + 500]]
            await store.commit("h9", lambda s, ch=changes: Decision(changes=ch))
        await store.commit(
            "h9",
            lambda s: Decision(changes=[PutPull(p) for p in state.prs] + [SetTaskClosed(t, True) for t in state.closed_tasks]),
        )
        seeded = time.perf_counter() - t
        runner = web.AppRunner(bot.web, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        url = f"http://{host}:{port}/campaigns/h9"
        times: dict[str, list[float]] = {k: [] for k in ("first", "changed", "unchanged", "json", "csv")}
        cpu: dict[str, list[float]] = {k: [] for k in times}
        size = 0
        users = iter(f"newcomer-{i}" for i in range(10_000))
        free = iter(sorted(set(rules.tasks) - {c.task for c in claims}) or sorted(rules.tasks))
        async with aiohttp.ClientSession() as session:

            async def get(path: str, key: str) -> None:
                nonlocal size
                t, c = time.perf_counter(), time.process_time()
                async with session.get(url + path) as resp:
                    body = await resp.read()
                    assert resp.status == 200, resp.status
                times[key].append((time.perf_counter() - t) * 1000)
                cpu[key].append((time.process_time() - c) * 1000)
                if path == "":
                    size = len(body)

            await get("", "first")  # a fresh process: nothing cached yet
            for _ in range(n):
                task = next(free, 1)
                await store.commit(
                    "h9",
                    lambda s, t=task: Decision(changes=[PutClaim(Claim("h9", t, next(users), Stage.CLAIMED, datetime.now(UTC)))]),
                )
                await get("", "changed")  # a claim since the last view: state, history and rows again
                await get("", "unchanged")  # nothing changed since
            for _ in range(n):
                await get(".json", "json")
                await get("/report.csv", "csv")
        parts: dict[str, list[float]] = {"read": [], "build": [], "render": []}
        rendered = 0
        for _ in range(n):  # CPU time (all threads: the store reads in its own)
            t0 = time.process_time()
            st, hist = await store.current_state("h9"), await store.history("h9")
            t1 = time.process_time()
            d = build_dashboard(rules, st, hist, datetime.now(UTC))
            t2 = time.process_time()
            rows_cache_clear()
            rendered = len(render_campaign(d))
            t3 = time.process_time()
            for k, v in (("read", t1 - t0), ("build", t2 - t1), ("render", t3 - t2)):
                parts[k].append(v * 1000)
        await runner.cleanup()
        await bot.close()
    print(
        f"campaign: {len(rules.tasks)} tasks, {len(claims)} claims, {len(state.prs)} PRs, {len(hist)} history events, "
        f"{len(d.series)} days; seeded in {seeded:.1f} s; page {size / 1024:.0f} KiB ({rendered / 1024:.0f} KiB)"
    )
    labels = {
        "first": "page, first view (nothing cached)",
        "changed": "page after a change (one new claim)",
        "unchanged": "page, nothing changed",
        "json": ".json",
        "csv": "/report.csv",
    }
    for key, xs in times.items():
        more = (
            f"median {statistics.median(xs):.0f} ms, p95 {pct(xs, 95):.0f} ms over {len(xs)}"
            if len(xs) > 1
            else f"{xs[0]:.0f} ms"
        )
        print(f"GET {labels[key]}: {more}; CPU median {statistics.median(cpu[key]):.0f} ms")
    print(
        "  uncached, in-process, CPU median: "
        + ", ".join(f"{k} {statistics.median(v):.0f} ms" for k, v in parts.items())
        + f"; total {statistics.median([a + b + c for a, b, c in zip(*parts.values())]):.0f} ms"
    )
    page, page_cpu = statistics.median(times["changed"]), statistics.median(cpu["changed"])
    load = os.getloadavg()[0]
    print(
        f"bar: page after a change under {BAR_MS:.0f} ms server time: wall {'PASS' if page < BAR_MS else 'MISS'} "
        f"({page:.0f} ms), CPU {'PASS' if page_cpu < BAR_MS else 'MISS'} ({page_cpu:.0f} ms); "
        f"load average {load:.1f} on {os.cpu_count()} CPUs (wall time counts waiting for a CPU)"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
