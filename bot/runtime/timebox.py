"""Pure work on participant-written text, kept off the event loop and under a time budget.

Reading a comment or a title is pure and normally takes microseconds, but its input is
whatever anyone on GitHub writes (up to 65,536 characters). So that no input can stall intake,
`/healthz` or the other deliveries, `Budget.run(fn, *texts, **kwargs)`:
- runs `fn` inline when the texts are short (`INLINE_CHARS`): nothing is paid on the normal path;
- otherwise runs it in a worker process (`python -m bot.budget`, started on first use and
  kept; a Python regular expression holds the GIL, so a thread would not protect the loop) and
  waits at most `seconds`; a worker that overruns is killed (a new one starts on the next
  call) and `BudgetExceeded` raised, so the caller answers "too long to read" instead of hanging.

The worker speaks length-prefixed pickle frames on its stdin/stdout: a request is
`(module, function name, args, kwargs)`, a reply `(ok, result or error text)`. `fn` must be a
module-level function; only modules under `bot.` are accepted by the worker.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import pickle
import struct
import sys
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

INLINE_CHARS = 2048  # shorter texts are read inline (a few microseconds)
SECONDS = 5.0  # the most a longer text may take before it is given up
_HEADER = struct.Struct("!I")


class BudgetExceeded(Exception):
    """The work did not finish within its time budget (its worker was killed)."""


class Budget:
    def __init__(self, seconds: float = SECONDS, inline_chars: int = INLINE_CHARS) -> None:
        self.seconds = seconds
        self.inline_chars = inline_chars
        self._proc: asyncio.subprocess.Process | None = None
        self._lock: asyncio.Lock | None = None

    async def run(self, fn: Callable[..., Any], *texts: str, **kwargs: Any) -> Any:
        """`fn(*texts, **kwargs)`, inline when the texts are short, else in the worker within the budget."""
        if sum(len(t) for t in texts) <= self.inline_chars:
            return fn(*texts, **kwargs)
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:  # one text at a time in the worker; each gets the whole budget
            try:
                return await asyncio.wait_for(self._call(fn, texts, kwargs), self.seconds)
            except TimeoutError:
                await self._kill()
                raise BudgetExceeded(f"{fn.__name__} took over {self.seconds:g} s; its worker was stopped") from None
            except (OSError, EOFError, asyncio.IncompleteReadError) as exc:
                await self._kill()
                raise BudgetExceeded(f"{fn.__name__}: the worker failed ({exc})") from None

    async def _call(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        proc = await self._worker()
        assert proc.stdin is not None and proc.stdout is not None
        frame = pickle.dumps((fn.__module__, fn.__qualname__, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        proc.stdin.write(_HEADER.pack(len(frame)) + frame)
        await proc.stdin.drain()
        (size,) = _HEADER.unpack(await proc.stdout.readexactly(_HEADER.size))
        ok, value = pickle.loads(await proc.stdout.readexactly(size))
        if not ok:
            raise RuntimeError(f"{fn.__name__} failed in the worker: {value}")
        return value

    async def _worker(self) -> asyncio.subprocess.Process:
        if self._proc is None or self._proc.returncode is not None:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.runtime.timebox", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
            )
        return self._proc

    async def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()

    async def close(self) -> None:
        await self._kill()


def _serve(stdin: Any, stdout: Any) -> None:
    """The worker: read a request, run it, write the reply; until stdin closes."""
    while True:
        head = stdin.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return
        (size,) = _HEADER.unpack(head)
        module, name, args, kwargs = pickle.loads(stdin.read(size))
        try:
            if not module.startswith("bot."):
                raise ValueError(f"{module} is not a bot module")
            reply = (True, getattr(importlib.import_module(module), name)(*args, **kwargs))
        except Exception as exc:  # reported to the caller
            reply = (False, f"{type(exc).__name__}: {exc}")
        out = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.write(_HEADER.pack(len(out)) + out)
        stdout.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
