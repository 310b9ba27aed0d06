"""What a new organiser tripped on (issue 20's small things): `bot rules check` given a campaign's
own folder, `bot serve` loading a campaign `bot rules check` rejects, a closed campaign on the
dashboard, the dashboard index's first column, `bot status` where the bot never ran."""

from __future__ import annotations

import logging
import subprocess
import sys

from bot.app import read_rules
from bot.settings import Settings
from tests.harness import Harness

CAMPAIGN = "name: C\nkey: Hackathon 9th\ntracker: org/p#1\nrepos: [org/p]\n"
TASK = "id: 1\ntitle: t\ntargets:\n  - repo: org/p\n    paths: ['src/**']\n"


def test_rules_check_on_a_campaign_folder_says_to_pass_the_folder_above(tmp_path):
    (tmp_path / "h9").mkdir()
    (tmp_path / "h9" / "campaign.yml").write_text(CAMPAIGN)
    (tmp_path / "h9" / "001.yml").write_text(TASK)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "rules", "check", str(tmp_path / "h9")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "one campaign's folder" in done.stdout and f"bot rules check {tmp_path.resolve()}" in done.stdout
    ok = subprocess.run(
        [sys.executable, "-m", "bot", "rules", "check", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0, ok.stdout


def test_serve_warns_naming_the_campaign_that_rules_check_rejects(tmp_path, caplog):
    for slug, tracker in (("first", "org/p#1"), ("second", "org/p#1"), ("lonely", None)):
        (tmp_path / slug).mkdir()
        text = CAMPAIGN.replace("tracker: org/p#1\n", f"tracker: {tracker}\n" if tracker else "")
        (tmp_path / slug / "campaign.yml").write_text(text.replace("key: Hackathon 9th", f"key: K {slug}"))
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        rules = read_rules(Settings(rules_dir=tmp_path, _env_file=None))
    assert set(rules.campaigns) == {"first", "second", "lonely"}  # served: the warning does not stop the bot
    said = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("campaign second:") and "share the tracker" in m for m in said), said
    assert any(m.startswith("campaign lonely:") and "no tracker" in m for m in said), said


async def test_a_closed_campaign_shows_as_closed_on_the_dashboard_and_its_index(tmp_path, all_rules):
    async with Harness(all_rules, tmp_path) as h:
        async with h.session.get(h.url + "/") as r:
            index = await r.text()
        assert "<th>活动</th>" in index or "<th>Campaign</th>" in index
        assert 'data-closed="1"' not in index
        await h.comment("/close-campaign", user="boss")
        await h.settle()
        closed_at = (await h.store.state("h9")).closed_at
        assert closed_at is not None
        async with h.session.get(h.url + "/campaigns/h9.json") as r:
            data = await r.json()
        assert data["campaign"]["closed_at"].startswith(closed_at.strftime("%Y-%m-%dT%H:%M"))
        async with h.session.get(h.url + "/campaigns/h9") as r:
            page = await r.text()
        assert 'data-campaign="closed"' in page and closed_at.strftime("%Y-%m-%d") in page
        async with h.session.get(h.url + "/") as r:
            index = await r.text()
        assert 'data-campaign="h9" data-closed="1"' in index


def test_bot_status_where_the_bot_never_ran_says_so_and_creates_nothing(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bot", "status"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("bot status: DATABASE_URL: no database at") and "has not run here" in line
    assert list(tmp_path.iterdir()) == []
