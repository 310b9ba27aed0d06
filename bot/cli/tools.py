"""Offline tools over the same pipeline and store: `bot replay`, `bot board`, `bot status`, `bot report`.

`replay` runs one delivery through the pipeline's one way of handling a delivery, against the
dry-run GitHub and a fresh temporary store, and prints every action as a JSON line (the board
edit included), so "why did the bot answer that?" can be asked without GitHub.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from bot.app import assemble, open_store, read_rules
from bot.core.board import render_board
from bot.core.report import build_report, to_csv, to_json, to_markdown
from bot.github.dryrun import DryRunGitHub
from bot.rules.models import CampaignRules, Rules
from bot.settings import Settings, StartupError
from bot.store import Store


def replay(args: argparse.Namespace, settings: Settings) -> int:
    try:
        payload = json.loads(Path(args.event_file).read_text())
    except (OSError, ValueError) as exc:
        raise StartupError(f"{args.event_file}: cannot read the event: {exc}") from None

    async def run() -> list[str]:
        lines: list[str] = []
        with tempfile.TemporaryDirectory() as tmp:
            offline = settings.model_copy(update={"database_url": f"sqlite:///{tmp}/replay.db", "board_delay": 0})
            bot = await assemble(offline, github=DryRunGitHub(say=lambda line: None), trace=lines.append)
            try:
                await bot.pipeline.handle(None, args.event, payload)
                await bot.pipeline.flush_boards()
            finally:
                await bot.close()
        return lines

    lines = asyncio.run(run())
    for line in lines:
        print(line)
    if not lines:
        print(json.dumps({"kind": "Nothing", "why": "the delivery concerns no campaign or asks for nothing"}))
    return 0


def _campaign(settings: Settings, rules: Rules, slug: str) -> CampaignRules:
    camp = rules.campaigns.get(slug)
    if camp is None:
        known = ", ".join(sorted(rules.campaigns)) or "none"
        raise StartupError(f"{settings.rules_dir}: no campaign {slug!r}; known: {known}")
    return camp


def board(args: argparse.Namespace, settings: Settings) -> int:
    rules = read_rules(settings)
    camp = _campaign(settings, rules, args.campaign)

    async def run() -> str:
        store = await open_store(settings, rules)
        try:
            return render_board(camp, await store.state(args.campaign), args.lang or camp.campaign.language)
        finally:
            await store.close()

    print(asyncio.run(run()))
    return 0


def status(args: argparse.Namespace, settings: Settings) -> int:
    """The inbox (pending, done and failed deliveries), the periodic jobs, and the campaign folders
    read from repositories whose newest rules were refused. Exit 1 when something failed."""
    missing = _missing_sqlite(settings.database_url)
    if missing is not None:
        raise StartupError(f"DATABASE_URL: no database at {missing}: the bot has not run here (run it here, or set DATABASE_URL)")

    async def run() -> tuple[dict, list, dict, list]:
        store = Store(settings.database_url)
        await store.init([])
        try:
            return await store.delivery_counts(), await store.failures(), await store.jobs_info(), await store.rule_sources()
        finally:
            await store.close()

    counts, failures, jobs, sources = asyncio.run(run())
    refused = [s for s in sources if any(p.get("severity") == "error" for p in s["problems"])]
    if args.json:
        out = {"counts": counts, "failures": failures, "jobs": jobs, "rules": sources}
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 1 if failures or refused else 0
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
    for src in sources:
        errors = [p for p in src["problems"] if p.get("severity") == "error"]
        state = f"{len(errors)} problem(s), the last good version keeps serving" if errors else "valid"
        print(f"rules {src['repo']}@{(src['commit'] or '')[:7]}: {state}")
        for p in errors[:20]:
            print(f"  {p['file']}:{p['line'] or 0}: {p['field'] or '-'}: {p['message']}")
    return 1 if failures or refused else 0


def _missing_sqlite(url: str) -> str | None:
    """The path of a SQLite database file that does not exist (None: it does, or another database)."""
    if not url.startswith("sqlite") or ":memory:" in url:
        return None
    path = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
    if not path or path.startswith("file:"):
        return None
    return None if Path(path).exists() else path


def report(args: argparse.Namespace, settings: Settings) -> int:
    """Who completed what (from the store), as csv, json or md on stdout."""
    rules = read_rules(settings)
    camp = _campaign(settings, rules, args.campaign)

    async def load() -> tuple:
        store = await open_store(settings, rules)
        try:
            return await store.state(args.campaign), await store.history(args.campaign)
        finally:
            await store.close()

    state, history = asyncio.run(load())
    results = build_report(camp, state, history)
    if args.format == "json":
        json.dump(to_json(results), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif args.format == "md":
        sys.stdout.write(to_markdown(results, args.lang))
    else:
        sys.stdout.write(to_csv(results))
    return 0
