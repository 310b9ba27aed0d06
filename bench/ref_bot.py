"""A minimal stateless reference bot, the yardstick of bench_load's throughput ratio.

aiohttp + gidgethub only: verify the webhook signature, parse the claim out of the comment,
post one reply through the GitHub API (installation token cached), answer the webhook. No
store, no queue, no board, no budget: what any bot must at least do per event. It is run
against the same fake GitHub as the bot (see bench_load.py), configured by its environment:
PORT, GITHUB_API_URL, APP_ID, PRIVATE_KEY, WEBHOOK_SECRET.
"""

from __future__ import annotations

import asyncio
import os
import re
import time

import aiohttp
from aiohttp import web
from gidgethub import apps, sansio
from gidgethub.aiohttp import GitHubAPI

CLAIM = re.compile(r"(?:【报名】[:：]|/claim)\s*(\d+)")


def main() -> None:
    api_url = os.environ["GITHUB_API_URL"]
    app_id, key, secret = os.environ["APP_ID"], os.environ["PRIVATE_KEY"], os.environ["WEBHOOK_SECRET"]
    tokens: dict[int, tuple[str, float]] = {}
    state: dict = {}

    async def token(gh: GitHubAPI, installation_id: int) -> str:
        cached = tokens.get(installation_id)
        if cached and cached[1] > time.time() + 60:
            return cached[0]
        data = await apps.get_installation_access_token(gh, installation_id=str(installation_id), app_id=app_id, private_key=key)
        tokens[installation_id] = (data["token"], time.time() + 3000)
        return data["token"]

    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            event = sansio.Event.from_http(request.headers, body, secret=secret)
        except Exception:
            return web.Response(status=401)
        if event.event != "issue_comment" or event.data.get("action") != "created":
            return web.Response(status=202)
        comment = event.data["comment"]
        m = CLAIM.search(comment["body"])
        reply = f"<!-- ref:{comment['id']} -->\n@{comment['user']['login']} " + (
            f"claimed No.{m.group(1)}" if m else "no claim found"
        )
        gh: GitHubAPI = state["gh"]
        tok = await token(gh, event.data["installation"]["id"])
        repo = event.data["repository"]["full_name"]
        await gh.post(f"/repos/{repo}/issues/{event.data['issue']['number']}/comments", data={"body": reply}, oauth_token=tok)
        return web.Response(status=202)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def on_startup(app: web.Application) -> None:
        state["session"] = aiohttp.ClientSession()
        state["gh"] = GitHubAPI(state["session"], "ref-bot", base_url=api_url)

    async def on_cleanup(app: web.Application) -> None:
        await state["session"].close()

    app = web.Application()
    app.router.add_post("/api/github/webhooks", webhook)
    app.router.add_get("/healthz", healthz)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    web.run_app(
        app,
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        access_log=None,
        print=None,
        handle_signals=True,
        loop=asyncio.new_event_loop(),
    )


if __name__ == "__main__":
    main()
