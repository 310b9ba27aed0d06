"""`bot simulate` (issue 12 item 5): the shipped example scenarios run through the real pipeline,
and what they print agrees with the store they leave behind."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.simulate import ScenarioError, load_scenario, run, wait_seconds
from bot.core.commands import parse_comment
from bot.core.model import Stage

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def sections(text: str) -> list[tuple[str, str]]:
    """(header, body) per step: a header line starts with "== "."""
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        if line.startswith("== "):
            out.append((line, ""))
        elif out:
            out[-1] = (out[-1][0], out[-1][1] + line + "\n")
    return out


def board_row(board: str, task: int) -> str:
    [row] = [line for line in board.splitlines() if line.startswith(f"| {task} |")]
    return row


@pytest.mark.parametrize("name, slug", [("simulate-en.yml", "acme"), ("simulate-zh.yml", "paddle-demo")])
async def test_example_scenarios_print_what_the_store_holds(name, slug):
    result = await run(EXAMPLES / name)
    state = result.states[slug]
    board = result.boards[slug]
    assert board in result.text
    steps = sections(result.text)
    # every claim the store kept is on the printed board, in its task's row, with its stage
    assert state.claims
    for c in state.claims:
        assert f"@{c.user}" in board_row(board, c.task)
    # every task PR the store knows got a checklist posted on its PR, and a check run while open
    assert state.prs
    for p in state.prs:
        assert f"checklist posted on {p.repo}#{p.number}" in result.text
        assert f"check run hackathon/checklist on {p.repo}#{p.number} @" in result.text
    # the last check run of each PR agrees with the last label set printed for it (ready <=> success)
    for p in state.prs:
        label_lines = re.findall(rf"labels on {re.escape(p.repo)}#{p.number}: .*\(now: (.*)\)", result.text)
        runs = re.findall(rf"check run hackathon/checklist on {re.escape(p.repo)}#{p.number} @ \w+: (\w+)", result.text)
        assert label_lines and runs
        assert ("ready" in label_lines[-1].split(", ")) == (runs[-1] == "success")
    # the maintainer's /done on the PR completed the task, the stranger's was refused
    done = [c for c in state.claims if c.stage == Stage.COMPLETED]
    assert done
    for c in done:
        assert f"@{c.user}" in board_row(board, c.task).rsplit("|", 2)[-2]  # the "completed by" column
    refused = [b for h, b in steps if '"/done"' in h and "`/done`" in b]
    assert len(refused) == 1
    # claims that were replied to as accepted but never reached a PR lapsed after the wait
    wait = next(i for i, (h, _) in enumerate(steps) if h.endswith("UTC)"))
    scenario = load_scenario(EXAMPLES / name)
    first_wait = next(i for i, st in enumerate(scenario.steps) if st.wait is not None)
    claimers = {
        st.by
        for st in scenario.steps[:first_wait]
        if st.comment and st.on is None and any(c.action == "claim" for c in parse_comment(st.comment).commands)
    }
    lapsed = {u for u in claimers if u and not state.claims_of(u)}
    assert lapsed  # the scenario shows a lapse
    after = "".join(b for _, b in steps[wait:])
    for u in lapsed:
        assert f"@{u}" not in board
        assert f"@{u}" in after  # reminded, then told the claim lapsed (the sweeps' notices)
    # the ordinary PR got nothing; the near-miss title got its hint once
    ordinary = [b for h, b in steps if "README" in h]
    assert ordinary == [""]
    hinted = [b for h, b in steps if " opens PR " in h and "No." not in h and "README" not in h]
    assert len(hinted) == 1 and "No." in hinted[0]


def test_the_cli_prints_the_same_run_and_exits_0(tmp_path):
    import asyncio

    expected = asyncio.run(run(EXAMPLES / "simulate-en.yml")).text
    out = subprocess.run(
        [sys.executable, "-m", "bot", "simulate", str(EXAMPLES / "simulate-en.yml")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == expected


def test_a_bad_scenario_is_one_line_per_problem(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(f"rules: {EXAMPLES / 'rules'}\nsteps:\n  - comment: hi\n  - wait: soon\n  - pr: 3\n    by: x\n")
    out = subprocess.run(
        [sys.executable, "-m", "bot", "simulate", str(bad)], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{bad}:3: steps[0]") and "by:" in lines[0]
    assert lines[1].startswith(f"{bad}:4: steps[1]") and "duration" in lines[1]
    assert lines[2].startswith(f"{bad}:5: steps[2]") and "action:" in lines[2]


async def test_a_pr_event_before_the_pr_is_opened_is_refused(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(f"rules: {EXAMPLES / 'rules'}\nsteps:\n  - pr: 3\n    action: merged\n")
    with pytest.raises(ScenarioError, match="before it was opened"):
        await run(bad)


def test_wait_durations():
    assert wait_seconds("15 days") == 15 * 86400
    assert wait_seconds("3h") == 3 * 3600
    assert wait_seconds(90) == 90
    assert wait_seconds("30 minutes") == 1800
    assert wait_seconds("soon") is None and wait_seconds(-1) is None
