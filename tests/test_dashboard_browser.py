"""The campaign page in a real browser (Debian's chromium, headless, over the DevTools protocol).

Seeded through the real pipeline; the page's numbers are compared with the store. Screenshots
at 1280x800 and 390x844 are taken every run; `UPDATE_SCREENSHOTS=1` also writes them to
docs/dashboard-1280.png and docs/dashboard-390.png (checked in, shown in the README).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from bot.core.board import board_stats
from bot.core.standing import build_standings
from tests import browser
from tests.harness import Harness
from tests.test_dashboard_http import seed

DOCS = Path(__file__).resolve().parent.parent / "docs"

pytestmark = pytest.mark.skipif(not browser.available(), reason="needs /usr/bin/chromium (.ci/run installs it)")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


READ_PAGE = """(() => {
  const totals = {};
  document.querySelectorAll('[data-total]').forEach(e => totals[e.dataset.total] = Number(e.textContent));
  const charts = Array.from(document.querySelectorAll('svg.chart')).map(s => {
    const b = s.getBoundingClientRect();
    return {w: b.width, h: b.height, marks: s.querySelectorAll('polyline, circle, rect').length};
  });
  const board = Array.from(document.querySelectorAll('#leaderboard tbody tr')).map(r => r.dataset.user);
  return {totals, charts, board, rows: document.querySelectorAll('#task-table tbody tr').length,
          overflow: document.documentElement.scrollWidth > window.innerWidth + 1};
})()"""


TRACKS = {
    "framework": ["Fuse the {} kernel", "Support complex numbers in {}", "Speed up {} on CPU"],
    "docs": ["Document {}", "Chinese docs for {}", "Examples for {}"],
    "compiler": ["Lower {} to the new IR", "Dynamic shapes for {}", "Pattern rewrite for {}"],
}
OPS = [
    "matmul",
    "softmax",
    "layer_norm",
    "conv2d",
    "gather",
    "top_k",
    "cumsum",
    "einsum",
    "unfold",
    "bincount",
    "logsumexp",
    "histogram",
]


def busy_rules():
    """A campaign of 36 tasks in three tracks, in English."""
    from bot.rules.models import Source, Task
    from tests.conftest import make_campaign, make_rules

    tasks, i = {}, 1
    for track, titles in TRACKS.items():
        for k in range(12):
            tasks[i] = Task(
                id=i,
                title=titles[k % 3].format(OPS[k]),
                track=track,
                difficulty=["basic", "advanced"][k % 2],
                source=Source(file="demo.md", line=i, anchor=f"task{i}"),
            )
            i += 1
    campaign = make_campaign(
        name="Hackathon 10th: framework sprint",
        key="Hackathon 10th",
        tracker="org/Paddle#300",
        collection_url="https://github.com/org/community/blob/master/hackathon/10th.md",
    )
    return make_rules("demo", campaign=campaign, tasks=tasks)


async def write_busy_history(store, rules) -> None:
    """Four weeks of a campaign, written through the store day by day (so the history has its dates):
    claims, RFCs and PRs opened, merged; some claims released."""
    import random
    from datetime import UTC, datetime, timedelta

    from bot.clock import FakeClock
    from bot.core.actions import Decision, DropClaim, PutClaim, PutPull
    from bot.core.model import Claim, PullRequest, Stage

    rnd = random.Random(10)
    people = [
        "lin-yu",
        "ochre",
        "mkdir-p",
        "zhangsan",
        "fern",
        "tensorcat",
        "jiaqi",
        "rook",
        "spline",
        "wen-j",
        "arbor",
        "qubit",
        "hexa",
        "nori",
    ]
    clock = FakeClock(datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=28))
    real, store.clock = store.clock, clock
    held: dict[tuple[int, str], Claim] = {}
    pr_no = iter(range(5000, 6000))
    try:
        for day in range(28):
            for _ in range(rnd.randint(0, 4) if day else 6):  # new claims
                task, user = rnd.choice(list(rules.tasks)), rnd.choice(people)
                if (task, user) in held or sum(k[0] == task for k in held) >= 2:
                    continue
                c = held[(task, user)] = Claim("demo", task, user, Stage.CLAIMED, clock.now())
                await store.commit("demo", lambda s, c=c: Decision(changes=[PutClaim(c)]))
            for key, c in list(held.items()):  # progress
                if c.stage == Stage.COMPLETED or rnd.random() > 0.12:
                    continue
                if c.stage == Stage.CLAIMED and rnd.random() < 0.08:
                    del held[key]
                    await store.commit("demo", lambda s, k=key: Decision(changes=[DropClaim(*k)]))
                    continue
                stage = Stage.SUBMITTED if c.stage == Stage.CLAIMED else Stage.COMPLETED
                n = next(pr_no) if stage == Stage.SUBMITTED else int(c.link or 0)
                pr = PullRequest(
                    "demo",
                    "org/Paddle",
                    n,
                    c.user,
                    f"【Hackathon 10th No.{c.task}】",
                    (c.task,),
                    "code",
                    "open" if stage == Stage.SUBMITTED else "merged",
                    f"https://github.com/org/Paddle/pull/{n}",
                )
                c = held[key] = Claim("demo", c.task, c.user, stage, c.claimed_at, link=str(n))
                await store.commit("demo", lambda s, c=c, pr=pr: Decision(changes=[PutClaim(c), PutPull(pr)]))
            await clock.advance(timedelta(days=1).total_seconds())
    finally:
        store.clock = real


async def test_the_page_in_chromium_shows_the_stores_numbers(tmp_path):
    from bot.rules.models import Rules
    from tests.conftest import make_rules

    rules = Rules(campaigns={"h9": make_rules(), "demo": busy_rules()})
    async with Harness(rules, tmp_path) as h, browser.Browser() as b:
        await seed(h)  # h9: through the pipeline
        await write_busy_history(h.store, rules.campaigns["demo"])
        await h.comment("【报名】：1", user="late-comer", number=300)  # and today's news, through the pipeline
        await h.settle()
        shots = {}
        for slug in ("h9", "demo"):
            campaign = rules.campaigns[slug]
            state = await h.store.state(slug)
            stats = board_stats(campaign, state)
            ranked = build_standings(campaign, state, await h.store.history(slug)).leaderboard
            for width, height in ((1280, 800), (390, 844)):
                page = await b.open(f"{h.url}/campaigns/{slug}", width, height, mobile=width < 500)
                got = await page.eval(READ_PAGE)
                assert {k: got["totals"][k] for k in ("tasks", "claimed", "submitted", "completed")} == {
                    "tasks": stats.total.tasks,
                    "claimed": stats.total.claimed,
                    "submitted": stats.total.submitted,
                    "completed": stats.total.completed,
                }
                assert got["rows"] == len(campaign.tasks)
                assert got["board"] == [p.login for p in ranked]  # the leaderboard: by points
                assert len(got["charts"]) == 2
                assert all(c["w"] > 100 and c["h"] > 50 and c["marks"] > 0 for c in got["charts"])
                assert not got["overflow"], "the page scrolls sideways"
                # search: the script filters the task table
                word = campaign.tasks[1].title.split()[-1].lower()
                shown = await page.eval(
                    """(() => {const q = document.getElementById('q'); q.value = '%s';
                    q.dispatchEvent(new Event('input')); return [document.getElementById('shown').textContent,
                    Array.from(document.querySelectorAll('#task-table tbody tr')).filter(r => !r.hidden).length]})()"""
                    % word
                )
                want = await page.eval(
                    """Array.from(document.querySelectorAll('#task-table tbody tr'))
                    .filter(r => r.textContent.toLowerCase().includes('%s')).length"""
                    % word
                )
                assert shown == [str(want), want] and 0 < want < len(campaign.tasks)
                # sort: clicking "No." twice orders the ids descending
                ids = await page.eval("""(() => {const th = document.querySelector('#task-table th'); th.click();
                    th.click(); return Array.from(document.querySelectorAll('#task-table tbody tr'))
                    .map(r => Number(r.cells[0].textContent))})()""")
                assert ids == sorted(campaign.tasks, reverse=True)
                await page.eval(
                    "(() => {const q = document.getElementById('q'); q.value = '';"
                    " q.dispatchEvent(new Event('input')); document.querySelector('#task-table th').click();"
                    " window.scrollTo(0, 0); return 1})()"
                )
                assert page.errors == []
                if slug == "demo":
                    shots[width] = await page.screenshot()
                    assert png_size(shots[width]) == (width, height)
                await page.close()
        if os.environ.get("UPDATE_SCREENSHOTS"):
            for width, data in shots.items():
                (DOCS / f"dashboard-{width}.png").write_bytes(data)


async def test_the_page_works_without_javascript(tmp_path, all_rules):
    """With scripts off, numbers and tables are all there (the script only adds search and sort)."""
    async with Harness(all_rules, tmp_path) as h, browser.Browser() as b:
        await seed(h)
        stats = board_stats(all_rules.campaigns["h9"], await h.store.state("h9"))
        page = await b.open("about:blank", 1280, 800)
        await page.send("Emulation.setScriptExecutionDisabled", value=True)
        await page.navigate(f"{h.url}/campaigns/h9")
        await page.send("Emulation.setScriptExecutionDisabled", value=False)  # to read the page; it is loaded already
        got = await page.eval(READ_PAGE)
        assert got["totals"]["completed"] == stats.total.completed and got["rows"] == 3
        assert await page.eval("document.getElementById('q').hidden") is True  # no dead search box
        await page.close()
