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

from bot.board import board_stats
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


async def test_the_page_in_chromium_shows_the_stores_numbers(tmp_path, all_rules):
    async with Harness(all_rules, tmp_path) as h, browser.Browser() as b:
        await seed(h)
        rules = all_rules.campaigns["h9"]
        stats = board_stats(rules, await h.store.state("h9"))
        shots = {}
        for width, height in ((1280, 800), (390, 844)):
            page = await b.open(f"{h.url}/campaigns/h9", width, height, mobile=width < 500)
            got = await page.eval(READ_PAGE)
            assert {k: got["totals"][k] for k in ("tasks", "claimed", "submitted", "completed")} == {
                "tasks": stats.total.tasks, "claimed": stats.total.claimed, "submitted": stats.total.submitted,
                "completed": stats.total.completed}
            assert got["rows"] == len(rules.tasks)
            assert got["board"] == [p[0] for p in stats.people]
            assert len(got["charts"]) == 2 and all(c["w"] > 100 and c["h"] > 50 and c["marks"] > 0 for c in got["charts"])
            assert not got["overflow"], "the page scrolls sideways"
            # search: the script filters the task table
            shown = await page.eval("""(() => {const q = document.getElementById('q'); q.value = 'attention';
                q.dispatchEvent(new Event('input')); return [document.getElementById('shown').textContent,
                Array.from(document.querySelectorAll('#task-table tbody tr')).filter(r => !r.hidden).length]})()""")
            want = sum("attention" in t.title.lower() for t in rules.tasks.values())
            assert shown == [str(want), want]
            # sort: clicking "No." twice orders the ids descending
            ids = await page.eval("""(() => {const th = document.querySelector('#task-table th'); th.click(); th.click();
                return Array.from(document.querySelectorAll('#task-table tbody tr')).map(r => Number(r.cells[0].textContent))})()""")
            assert ids == sorted(rules.tasks, reverse=True)
            await page.eval("(() => {const q = document.getElementById('q'); q.value = ''; q.dispatchEvent(new Event('input'));"
                            " document.querySelector('#task-table th').click(); window.scrollTo(0, 0); return 1})()")
            assert page.errors == []
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
