"""Redelivery of what GitHub failed to deliver (GitHub never retries a failed webhook delivery).

At start-up and every `REDELIVER_EVERY` seconds (0: off) the bot lists the App's webhook
deliveries (`GET /app/hook/deliveries`, App JWT, newest first, cursor pages) back to the newest
one the inbox already holds (at most 3 days: what GitHub keeps redeliverable), and asks GitHub
to redeliver (`POST /app/hook/deliveries/{id}/attempts`) each event whose attempts all failed and
whose GUID the inbox does not hold. Redelivered events come back through the normal intake
with their GUID, and the inbox's dedup by GUID keeps them exactly-once.

Several replicas: each request is first recorded in the store under GitHub's delivery id (a
primary key), so exactly one replica asks for each failed delivery. A deliveries API answering
403/404 (an App without access, a GitHub Enterprise without the endpoint) is logged once and
shown by `bot status`; the bot keeps serving.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.clock import SYSTEM, Clock
from bot.github.api import GitHubApi, GitHubError, PermanentError
from bot.store import Store

log = logging.getLogger(__name__)

KEEP = timedelta(days=3)  # GitHub lets a delivery be redelivered for 3 days
JOB = "redelivery"


def _ok(d: dict) -> bool:
    return 200 <= int(d.get("status_code") or 0) < 300


def _at(d: dict) -> datetime:
    return datetime.fromisoformat(str(d.get("delivered_at") or "1970-01-01T00:00:00Z"))


def reached_known(page: list[dict], known: set[str]) -> bool:
    """Has the walk (newest first) reached a first delivery the inbox already holds?"""
    return any(d["guid"] in known and not d.get("redelivery") for d in page)


def to_redeliver(deliveries: list[dict], known: set[str], now: datetime) -> list[dict]:
    """The failed events to ask for again (pure): one per GUID, the newest attempt, for each GUID
    with no OK attempt, not in the inbox, delivered within the last 3 days."""
    by_guid: dict[str, list[dict]] = {}
    for d in deliveries:
        by_guid.setdefault(d["guid"], []).append(d)
    out = []
    for guid, attempts in by_guid.items():
        if guid in known or any(_ok(a) for a in attempts):
            continue
        newest = max(attempts, key=lambda a: (_at(a), a["id"]))
        if _at(newest) >= now - KEEP:
            out.append(newest)
    return sorted(out, key=lambda a: (_at(a), a["id"]))


class Redeliverer:
    def __init__(self, store: Store, gateway: GitHubApi, *, every: float = 300.0, clock: Clock = SYSTEM) -> None:
        self.store = store
        self.gateway = gateway
        self.every = every
        self.clock = clock
        self._refused_logged = False

    async def run_once(self) -> dict:
        """One pass; returns (and records for `bot status`) what it found and asked for."""
        now = self.clock.now()
        seen: list[dict] = []
        known: set[str] = set()
        info: dict = {"found_failed": 0, "asked": 0, "error": None}
        try:
            nxt: str | None = None
            while True:
                page, nxt = await self.gateway.hook_deliveries(nxt)
                seen += page
                known |= await self.store.known_deliveries(sorted({d["guid"] for d in page}))
                if not page or not nxt or reached_known(page, known) or min(_at(d) for d in page) < now - KEEP:
                    break
            todo = to_redeliver(seen, known, now)
            info["found_failed"] = len(todo)
            for d in todo:
                if await self.store.claim_redelivery(int(d["id"]), d["guid"], d.get("event")):
                    await self.gateway.redeliver(int(d["id"]))
                    info["asked"] += 1
                    log.info(
                        "redelivery asked for %s %s.%s (GitHub delivery %s, %s)",
                        d["guid"],
                        d.get("event"),
                        d.get("action"),
                        d["id"],
                        d.get("status"),
                    )
        except PermanentError as exc:
            info["error"] = f"the deliveries API refused: {exc.status} {exc.message}"
            if not self._refused_logged:
                log.warning("redelivery: %s; the bot keeps serving (`bot status` shows it)", info["error"])
                self._refused_logged = True
        except (TimeoutError, GitHubError, OSError) as exc:
            info["error"] = f"{type(exc).__name__}: {exc}"
            log.warning("redelivery pass failed: %s (tried again in %.0f s)", exc, self.every)
        if info["found_failed"] or info["error"]:
            log.info("redelivery: %d failed found, %d asked", info["found_failed"], info["asked"])
        await self.store.record_job(JOB, info)
        return info

    async def run(self, stopping: Callable[[], bool]) -> None:
        if self.every <= 0:
            return
        while not stopping():
            try:
                await self.run_once()
            except Exception:
                log.exception("redelivery pass crashed")
            await self.clock.sleep(self.every)
