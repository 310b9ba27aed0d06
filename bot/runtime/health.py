"""Health: whether the bot can still keep what it acknowledges, for `GET /healthz`.

A bot that answers deliveries it cannot record loses them silently, so health is not "the
process is up" but "the store takes writes":
- SQLite: the database file is still the one opened at start (not deleted, moved or replaced:
  a process writing to a deleted file keeps succeeding while everything it writes is lost),
  and its disk has room (`MIN_FREE_BYTES`);
- every backend: a write transaction (a probe row inserted and deleted) commits.

`problems()` lists what is wrong, one line each; empty means healthy. `StateGuard` (used by the
board flusher) notices a tracker that shows the bot's board with claimants while the store has
nothing for that campaign -- the sign of a lost or replaced database -- reports it loudly and
keeps the board instead of rewriting it empty.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert
from sqlalchemy.engine import make_url

from bot.core.board import BOARD_END, BOARD_START
from bot.core.model import CampaignState
from bot.store import Store
from bot.store.schema import deliveries

MIN_FREE_BYTES = 8 * 1024 * 1024  # below this the disk counts as full (SQLite needs room for its WAL)
PROBE_ID = "healthz-probe"

log = logging.getLogger(__name__)


def sqlite_file(url: str) -> str | None:
    """The SQLite database file a URL names (None: not SQLite, or in memory)."""
    if not url.startswith("sqlite"):
        return None
    name = make_url(url).database
    return os.path.abspath(name) if name and name != ":memory:" else None


def _inode(path: str | None) -> tuple[int, int] | None:
    try:
        st = os.stat(path) if path else None
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if st else None


class Health:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.path = sqlite_file(store.url)
        self.identity = _inode(self.path)  # the file as opened at start

    async def problems(self) -> list[str]:
        out: list[str] = []
        if self.path is not None:
            now = _inode(self.path)
            if now is None:
                out.append(
                    f"{self.path}: the database file is missing (deleted or moved); what the bot records is lost "
                    "- restore the file and restart"
                )
            elif self.identity is not None and now != self.identity:
                out.append(f"{self.path}: the database file was replaced since start; restart the bot")
            try:
                free = shutil.disk_usage(os.path.dirname(self.path)).free
            except OSError:
                free = None
            if free is not None and free < MIN_FREE_BYTES:
                out.append(f"{os.path.dirname(self.path)}: disk full ({free // 1024} KiB free); deliveries cannot be stored")
        try:
            await self.store.db.write(_probe, urgent=True)
        except Exception as exc:  # read-only, full, unreachable: each is a reason to fail
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            out.append(f"the database cannot be written: {reason[:300]}")
        return out


def _probe(conn: Connection) -> None:

    conn.execute(delete(deliveries).where(deliveries.c.id == PROBE_ID))
    conn.execute(
        insert(deliveries).values(
            id=PROBE_ID, event="healthz", action="probe", payload="{}", received_at=datetime.now(UTC), status="probe", attempts=0
        )
    )
    conn.execute(delete(deliveries).where(deliveries.c.id == PROBE_ID))


_LOGIN = re.compile(r"@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))")


def unknown_on_board(tracker_body: str | None, state: CampaignState) -> list[str]:
    """Logins the tracker's board shows that the store knows nothing of (pure)."""
    body = tracker_body or ""
    start = body.find(BOARD_START)
    end = body.find(BOARD_END, start + 1)
    if start < 0 or end < 0:
        return []
    known = {c.user.lower() for c in state.claims} | {p.author.lower() for p in state.prs}
    shown = dict.fromkeys(m.group(1) for m in _LOGIN.finditer(body, start, end))
    return [u for u in shown if u.lower() not in known]


class StateGuard:
    """Keeps a board the store cannot account for: when a store that never wrote a campaign's
    board finds the tracker showing the bot's board with people it does not know, the board is not rewritten (that would
    erase everyone's claims from view) and the loss is reported, loudly and on `/healthz`,
    with the way back (`bot sync`). Removing the board from the tracker starts afresh."""

    def __init__(self) -> None:
        self._warnings: dict[str, str] = {}

    def holds(self, slug: str, tracker: str, state: CampaignState, tracker_body: str | None, *, edits: int) -> bool:
        """True when the board must not be written now: this store never wrote the board (`edits`
        is 0; a store that wrote it and then saw claims go, e.g. lapse, is not lost), yet the
        tracker's board shows people the store does not know."""
        missing = [] if edits else unknown_on_board(tracker_body, state)
        if not missing:
            self._warnings.pop(slug, None)
            return False
        if slug not in self._warnings:
            self._warnings[slug] = (
                f"campaign {slug}: this store never wrote the board, yet tracker {tracker} shows the "
                f"bot's board with {len(missing)} participant(s) it does not know (@{missing[0]}...): "
                f"the database was lost or replaced; run `bot sync {slug}` to rebuild it from GitHub "
                "(the board is left as it is until then)"
            )
            log.error("%s", self._warnings[slug])
        return True

    def warnings(self) -> list[str]:
        return [self._warnings[k] for k in sorted(self._warnings)]
