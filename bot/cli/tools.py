"""Offline tools over the same pipeline: `bot replay`, `bot board`, `bot status`.

`replay` runs one delivery through routing, decide and the executor in dry-run, against a
fresh temporary store, and prints every action as a JSON line (the board edit included), so
"why did the bot answer that?" can be asked without GitHub.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path


def _rules(settings):
    from bot.rules.loader import load_rules

    return load_rules(settings.rules_dir)


def main(args) -> int:
    from bot.app import assemble
    from bot.settings import Settings

    payload = json.loads(Path(args.event_file).read_text())

    async def run() -> int:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(database_url=f"sqlite:///{tmp}/replay.db", board_delay=0)
            lines: list[str] = []
            bot = await assemble(settings, gateway=None, out=lines.append)
            await bot.pipeline.handle(None, args.event, payload)
            for slug in bot.rules.campaigns:
                if (await bot.store.board_info(slug)).get("board_dirty"):
                    await bot.pipeline.flush_board(slug)
            await bot.close()
        for line in lines:
            print(line)
        if not lines:
            print(json.dumps({"kind": "Nothing", "why": "the delivery concerns no campaign or asks for nothing"}))
        return 0

    return asyncio.run(run())


def board_main(args) -> int:
    from bot.core.board import render_board
    from bot.settings import Settings
    from bot.store import Store

    settings = Settings()
    rules = _rules(settings)
    if args.campaign not in rules.campaigns:
        print(f"unknown campaign {args.campaign!r}; known: {', '.join(sorted(rules.campaigns)) or 'none'}", file=sys.stderr)
        return 2
    camp = rules.campaigns[args.campaign]

    async def run() -> None:
        store = Store(settings.database_url)
        await store.init(list(rules.campaigns))
        print(render_board(camp, await store.state(args.campaign), args.lang or camp.campaign.language))
        await store.close()

    asyncio.run(run())
    return 0


def status_main(args) -> int:
    from bot.settings import Settings
    from bot.store import Store

    settings = Settings()

    async def run() -> int:
        store = Store(settings.database_url)
        await store.init([])
        counts, failures, jobs = await store.delivery_counts(), await store.failures(), await store.jobs_info()
        await store.close()
        if args.json:
            print(json.dumps({"counts": counts, "failures": failures, "jobs": jobs}, ensure_ascii=False, indent=2))
        else:
            r = jobs.get("redelivery")
            if r:
                print(
                    f"redelivery: last run {r['last_run_at']}, {r.get('found_failed', 0)} failed found, "
                    f"{r.get('asked', 0)} asked" + (f"; ERROR {r['error']}" if r.get("error") else "")
                )
            print("deliveries: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) if counts else "deliveries: none")
            for f in failures:
                what = f.get("event") or f.get("action")
                print(f"FAILED {f['type']} {f['id']} {what} {f.get('target', '')}: {f['error']}")
        return 1 if failures else 0

    return asyncio.run(run())
