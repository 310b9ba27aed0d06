"""The board flusher: keeps each campaign's tracker issue showing its current board.

A decision that changes a campaign marks its board dirty; after `board_delay` seconds (so a
burst gives one edit) one replica at a time leases the campaign, renders the board from the
store and splices it into the tracker body between its markers, leaving the organiser's text
as it is. An unchanged board (same hash as the last edit) costs nothing. The tracker is read
with conditional requests (an unchanged tracker answers 304, free) and read again right before
the write, which goes ahead only if the tracker is still what the board was spliced into
(otherwise the board is spliced into the new text and checked again). What remains of the race:
an organiser edit landing within the one round trip between that re-read and the write is
overwritten (GitHub offers no conditional write of an issue). The board edit is a priority
write (see `bot.github`). A transient failure is retried with backoff capped at 30 s, so the
board catches up within a minute of a GitHub outage; a refusal (a tracker GitHub will not
edit) is recorded and shown.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime

from bot.clock import SYSTEM, Clock
from bot.core.board import render_board, tracker_body
from bot.github.api import GitHubApi, GitHubError, PermanentError
from bot.logs import fields
from bot.metrics import Metrics
from bot.rules.models import RulesView
from bot.runtime.executor import short_error
from bot.runtime.health import StateGuard
from bot.store import Store, body_hash

log = logging.getLogger(__name__)

REREADS = 3  # tries when the organiser edits the tracker while the board is being written


class BoardFlusher:
    def __init__(
        self,
        rules: RulesView,
        store: Store,
        gateway: GitHubApi,
        *,
        board_delay: float,
        trace: Callable[[str], None] | None = None,
        clock: Clock = SYSTEM,
        metrics: Metrics | None = None,
    ) -> None:
        self.rules = rules
        self.metrics = metrics or Metrics()
        self.store = store
        self.gateway = gateway
        self.board_delay = board_delay
        self.trace = trace
        self.clock = clock
        self.guard = StateGuard()  # a store that lost its state never empties the board

    async def run(self, stopping: Callable[[], bool]) -> None:
        while not stopping():
            try:
                taken = await self.store.take_dirty_board_since(self.board_delay)
                if taken is None:
                    await self.clock.sleep(min(0.2, self.board_delay / 4 or 0.05))
                    continue
                await self.flush(*taken)
            except Exception:
                log.exception("board flush failed")
                await self.clock.sleep(1.0)

    async def flush(self, slug: str, since: datetime | None = None) -> bool:
        """Render one campaign's board into its tracker issue. True when the tracker was edited.
        `since`: when the oldest change the tracker does not show yet was made (for the lag metric)."""
        rules = self.rules.campaigns.get(slug)
        if rules is None or rules.campaign.tracker is None:
            await self.store.release_board(slug)
            return False
        info = await self.store.board_info(slug)
        state = await self.store.current_state(slug, urgent=True)
        # Rendering a big campaign's board takes tens of milliseconds of pure work: in a thread, so
        # the event loop keeps acknowledging deliveries meanwhile (it gets the GIL every few ms).
        board = await asyncio.to_thread(render_board, rules, state, rules.campaign.language)
        digest = body_hash(board)
        if digest == info.get("board_hash"):
            await self.store.release_board(slug)
            return False
        inst_id = info.get("installation_id")
        if self.trace is not None:
            board_line = {"kind": "UpdateBoard", "campaign": slug, "tracker": rules.campaign.tracker, "board": board}
            self.trace(json.dumps(board_line, ensure_ascii=False))
        repo, number = rules.campaign.tracker_repo, rules.campaign.tracker_number
        assert repo is not None and number is not None
        started = self.clock.monotonic()
        try:
            inst = await self.gateway.installation(inst_id)
            old = (await inst.get_issue(repo, number)).get("body") or ""
            if self.guard.holds(slug, rules.campaign.tracker, state, old, edits=info.get("board_edits") or 0):
                await self.store.release_board(
                    slug, error=f"held: the store does not know the board's participants; run `bot sync {slug}`"
                )
                return False
            new = tracker_body(rules, state, rules.campaign.language, old, board)
            for _ in range(REREADS):
                if new == old:
                    break
                # Re-read right before writing (free when unchanged: a conditional request) and write
                # only if the organiser's text is still what the board was spliced into.
                again = (await inst.get_issue(repo, number)).get("body") or ""
                if again == old:
                    await inst.edit_issue(repo, number, body=new, priority=True)
                    break
                old, new = again, tracker_body(rules, state, rules.campaign.language, again, board)
            else:
                raise GitHubError(0, "the tracker kept changing while the board was written")
        except PermanentError as exc:
            log.error(
                "board of %s refused by GitHub: %s; fix the tracker (%s) in campaign.yml or its permissions",
                slug,
                exc,
                rules.campaign.tracker,
            )
            await self.store.release_board(slug, error=short_error(exc))
            return False
        except (TimeoutError, GitHubError, OSError) as exc:
            log.warning("board of %s not written yet: %s (retried with backoff)", slug, exc)
            await self.store.release_board(slug, failed=True)
            return False
        await self.store.release_board(slug, edited_hash=digest)
        log.info(
            "board %s: %s in %.0f ms",
            slug,
            "edited" if new != old else "unchanged",
            (self.clock.monotonic() - started) * 1000,
            extra=fields(
                campaign=slug,
                action="UpdateBoard",
                outcome="done" if new != old else "skipped",
                duration_ms=round((self.clock.monotonic() - started) * 1000, 1),
            ),
        )
        if new != old:
            self._written(slug, since)
        return new != old

    def _written(self, slug: str, since: datetime | None) -> None:
        self.metrics.board_written(slug, (self.clock.now() - since).total_seconds() if since else None)
