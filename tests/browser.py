"""Headless Chromium (Debian's /usr/bin/chromium) driven over the DevTools protocol with aiohttp.

Enough for the dashboard tests: open a page at a given viewport, evaluate JavaScript, collect
console errors and uncaught exceptions, take a PNG screenshot. No browser download, no driver:
the browser is launched with `--remote-debugging-port=0` and its port read from the
`DevToolsActivePort` file it writes into its profile directory. It talks to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Self

import aiohttp

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


STARTUP_SECONDS = 90.0


class Browser:
    """`async with Browser() as b: page = await b.open(url, 1280, 800)`."""

    def __init__(self) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self._dir = tempfile.mkdtemp(prefix="hb-chromium-")
        self._session: aiohttp.ClientSession | None = None
        self._port = 0

    async def __aenter__(self) -> Self:
        args = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--hide-scrollbars",
            "--mute-audio",
            "--disable-breakpad",
            "--disable-crash-reporter",
            f"--user-data-dir={self._dir}",
            "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1",
            "about:blank",
        ]
        self._proc = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        port_file = Path(self._dir) / "DevToolsActivePort"
        # Chromium starts in about a second; with the suite's four processes on two cores it took
        # more than 15 s once, so the wait is long (it ends as soon as the port is there).
        deadline = asyncio.get_running_loop().time() + STARTUP_SECONDS
        while True:
            if port_file.exists() and port_file.read_text().strip():
                self._port = int(port_file.read_text().split()[0])
                break
            if self._proc.returncode is not None:
                raise RuntimeError(f"{CHROMIUM} exited with {self._proc.returncode}")
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"chromium did not open its DevTools port in {STARTUP_SECONDS:.0f} s")
            await asyncio.sleep(0.05)
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session:
            await self._session.close()
        if self._proc and self._proc.returncode is None:
            self._proc.terminate()
            try:
                await asyncio.wait_for(self._proc.wait(), 10)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)

    async def open(self, url: str, width: int, height: int, *, mobile: bool = False) -> Page:
        assert self._session is not None
        async with self._session.put(f"http://127.0.0.1:{self._port}/json/new?about:blank") as resp:
            target = await resp.json()
        ws = await self._session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        page = Page(ws)
        await page.start()
        await page.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=mobile)
        await page.navigate(url)
        return page


class Page:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}
        self._events: dict[str, list[asyncio.Future]] = {}
        self.errors: list[str] = []  # console errors, uncaught exceptions, failed loads
        self._reader: asyncio.Task | None = None

    async def start(self) -> None:
        self._reader = asyncio.create_task(self._read())
        for domain in ("Page", "Runtime", "Log"):
            await self.send(f"{domain}.enable")

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if "id" in data:
                fut = self._waiting.pop(data["id"], None)
                if fut and not fut.done():
                    if "error" in data:
                        fut.set_exception(RuntimeError(f"DevTools: {data['error']}"))
                    else:
                        fut.set_result(data.get("result", {}))
                continue
            method, params = data.get("method", ""), data.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                self.errors.append(
                    "console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                )
            elif method == "Runtime.exceptionThrown":
                d = params.get("exceptionDetails", {})
                self.errors.append("exception: " + str((d.get("exception") or {}).get("description") or d.get("text")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                e = params["entry"]
                self.errors.append(f"log: {e.get('text')} {e.get('url', '')}".strip())
            for fut in self._events.pop(method, []):
                if not fut.done():
                    fut.set_result(params)

    async def send(self, method: str, **params: Any) -> dict:
        i = next(self._ids)
        fut = asyncio.get_running_loop().create_future()
        self._waiting[i] = fut
        await self.ws.send_str(json.dumps({"id": i, "method": method, "params": params}))
        return await asyncio.wait_for(fut, 30)

    def _event(self, method: str) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        self._events.setdefault(method, []).append(fut)
        return fut

    async def navigate(self, url: str) -> None:
        loaded = self._event("Page.loadEventFired")
        result = await self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise RuntimeError(f"navigation to {url} failed: {result['errorText']}")
        await asyncio.wait_for(loaded, 30)

    async def eval(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression evaluated in the page."""
        r = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"page script failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    async def screenshot(self, path: Path | None = None, *, full_page: bool = False) -> bytes:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        data = base64.b64decode((await self.send("Page.captureScreenshot", **params))["data"])
        if path is not None:
            path.write_bytes(data)
        return data

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.send("Page.close")
        await self.ws.close()
        if self._reader:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
