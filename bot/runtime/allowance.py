"""Per-person allowance of the bot's writes: one person's toggling, repeated commands or edit
storm can never spend more than a small share of an installation's write budget.

Each person (per installation for replies, per campaign for board edits) gets one slot per
`window` seconds and at most `cap` in any hour. What they cause meanwhile is not dropped but
folded: their queued replies go out together in one comment when their next slot comes (the
executor), and the board edits their changes call for are deferred to it (the pipeline marks the
board dirty as of then), so everyone else's claims are answered and shown as before. A slot
already promised (a deferred board edit) counts as used, so a steady storm gets one write per
window, never two.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable

HOUR = 3600.0
SHARE = 0.04  # of the hourly write budget, per person and kind of write (replies, board edits)
KEPT = 10_000  # people remembered at most (the longest idle are forgotten first)


def person_cap(writes_per_hour: int) -> int:
    """Writes of one kind one person may cause in an hour: SHARE of the budget (at least 5)."""
    return max(5, int(writes_per_hour * SHARE))


class Allowance:
    def __init__(self, window: float, cap: int) -> None:
        self.window = window
        self.cap = cap
        self._used: OrderedDict[Hashable, deque[float]] = OrderedDict()  # key -> times of slots used or promised

    def next_slot(self, key: Hashable, now: float) -> float:
        """When `key` may next cause a write (`now` or later). A disabled allowance (window 0) never waits."""
        if self.window <= 0:
            return now
        times = self._used.get(key)
        if not times:
            return now
        while times and times[0] <= now - HOUR and len(times) > 1:
            times.popleft()
        if times[-1] > now:  # a slot already promised (a deferred write): fold into it
            return times[-1]
        at = times[-1] + self.window
        recent = [t for t in times if t > now - HOUR]
        if len(recent) >= self.cap:
            at = max(at, recent[-self.cap] + HOUR)
        return max(now, at)

    def use(self, key: Hashable, at: float) -> None:
        """Record a slot used at `at` (a deferred write: the time it was promised for)."""
        if self.window <= 0:
            return
        times = self._used.setdefault(key, deque())
        if not times or at > times[-1]:
            times.append(at)
        self._used.move_to_end(key)
        while len(self._used) > KEPT:
            self._used.popitem(last=False)
