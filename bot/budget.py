"""Pure work on participant-written text, kept off the event loop and under a time budget.

Reading a comment or a title is pure and normally takes microseconds, but its input is
whatever anyone on GitHub writes (up to 65,536 characters). So that no input can stall intake,
`/healthz` or the other deliveries, `Budget.run(fn, text, ...)`:
- runs `fn` inline when the text is short (`INLINE_CHARS`): nothing is paid on the normal path;
- otherwise runs it in a separate worker process (a Python regular expression holds the GIL,
  so a thread would not protect the loop) and waits at most `seconds`; a worker that overruns
  is killed and `BudgetExceeded` raised, so the caller answers "too long to read" instead of
  hanging. If worker processes cannot be started, the work runs in a thread instead.

`fn` must be a module-level function of a light module (the worker imports it by name).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
from typing import Any, Callable

log = logging.getLogger(__name__)

INLINE_CHARS = 2048  # shorter texts are read inline (a few microseconds)
SECONDS = 5.0  # the most a longer text may take before it is given up


class BudgetExceeded(Exception):
    """The work did not finish within its time budget (its worker was killed)."""


class Budget:
    def __init__(self, seconds: float = SECONDS, inline_chars: int = INLINE_CHARS, workers: int = 1) -> None:
        self.seconds = seconds
        self.inline_chars = inline_chars
        self.workers = workers
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._no_processes = False

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor | None:
        if self._pool is None and not self._no_processes:
            try:
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("forkserver"))
            except (OSError, ValueError) as exc:  # no processes here: fall back to a thread
                log.warning("cannot start parse worker processes (%s); long texts are read in a thread", exc)
                self._no_processes = True
        return self._pool

    async def run(self, fn: Callable[..., Any], *texts: str, **kwargs: Any) -> Any:
        """`fn(*texts, **kwargs)`, inline when the texts are short, else in a worker within the budget."""
        if sum(len(t) for t in texts) <= self.inline_chars:
            return fn(*texts, **kwargs)
        pool = self._executor()
        if pool is None:
            return await asyncio.wait_for(asyncio.to_thread(fn, *texts, **kwargs), self.seconds)
        try:
            future = pool.submit(fn, *texts, **kwargs)
            return await asyncio.wait_for(asyncio.wrap_future(future), self.seconds)
        except (asyncio.TimeoutError, TimeoutError):
            self._kill()
            raise BudgetExceeded(f"{getattr(fn, '__name__', 'work')} took over {self.seconds:g} s") from None
        except concurrent.futures.process.BrokenProcessPool:
            self._kill()
            raise BudgetExceeded(f"{getattr(fn, '__name__', 'work')}: its worker died") from None

    def _kill(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for proc in list(getattr(pool, "_processes", {}).values()):
            try:
                proc.kill()
            except Exception:  # noqa: BLE001 - already gone
                pass
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._kill()
