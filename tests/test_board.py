"""The tracker board: what participants and organisers read in the tracker issue."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

import pytest

from bot.core.board import BOARD_END, BOARD_START, escape_cell, render_board, splice_board
from bot.core.model import CampaignState, Claim, PullRequest, Stage
from bot.rules.models import Source, Task
from tests.conftest import make_rules

T0 = datetime(2024, 3, 1)


def task(i: int, title: str = "", **kw) -> Task:
    return Task(id=i, title=title or f"Task {i}", **kw)


def claim(t, user, stage=Stage.CLAIMED, minutes=0, **kw) -> Claim:
    return Claim(campaign="h9", task=t, user=user, stage=stage, claimed_at=T0 + timedelta(minutes=minutes), **kw)


def pr(t, author, number, kind="code", state="open", repo="PaddlePaddle/Paddle", **kw) -> PullRequest:
    return PullRequest(
        campaign="h9",
        repo=repo,
        number=number,
        author=author,
        title="x",
        tasks=(t,),
        kind=kind,
        state=state,
        url=f"https://github.com/{repo}/pull/{number}",
        **kw,
    )


def row(board: str, task_id: int) -> str:
    rows = [line for line in board.splitlines() if line.startswith(f"| {task_id} |")]
    assert len(rows) == 1, board
    return rows[0]


def cells(line: str) -> list[str]:
    """Split a table row the way GFM does: on pipes not escaped (entities are not pipes)."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]


# ---- rows


def test_row_shows_id_difficulty_linked_title_claimants_with_stage_and_prs():
    rules = make_rules(
        tasks=[task(12, "新增 foo API", difficulty="进阶", source=Source(file="c.md", anchor="task12"))], bare=True
    )
    state = CampaignState(
        claims=(claim(12, "alice", Stage.SUBMITTED), claim(12, "bob", minutes=5)),
        prs=(pr(12, "alice", 12, kind="rfc", state="merged", repo="PaddlePaddle/community"), pr(12, "alice", 34)),
    )
    for lang, alice in (
        ("en", "@alice (PR submitted, RFC PaddlePaddle/community#12, PR #34)"),
        ("zh", "@alice（已提交 PR，RFC PaddlePaddle/community#12，PR #34）"),
    ):
        c = cells(row(render_board(rules, state, lang), 12))
        assert c[:3] == ["12", "进阶", "[新增 foo API](https://github.com/PaddlePaddle/Paddle/issues/9#task12)"]
        assert c[3] == f"{alice}<br>@bob" + (" (since 03-01)" if lang == "en" else "（03-01 起）")
        assert c[4] == ""


def test_title_is_not_linked_without_anchor_or_collection_url():
    state = CampaignState()
    assert (
        cells(row(render_board(make_rules(tasks=[task(1, "T", source=Source(file="c.md"))], bare=True), state, "en"), 1))[2]
        == "T"
    )
    no_url = make_rules(tasks=[task(1, "T", source=Source(file="c.md", anchor="a"))], bare=True, collection_url=None)
    assert cells(row(render_board(no_url, state, "en"), 1))[2] == "T"


def test_completed_and_partly_done_fill_the_completed_by_column():
    rules = make_rules(tasks=[task(1), task(2)], bare=True)
    state = CampaignState(
        claims=(claim(1, "alice", Stage.COMPLETED), claim(1, "bob", Stage.PARTLY_DONE, 1), claim(2, "carol", Stage.RFC_ACCEPTED))
    )
    b = render_board(rules, state, "en")
    assert cells(row(b, 1))[4] == "@alice, @bob (partly)"
    assert cells(row(b, 2))[3] == "@carol (RFC merged)" and cells(row(b, 2))[4] == ""


def test_reverts_and_closed_unmerged_prs_are_not_shown():
    rules = make_rules(tasks=[task(1)], bare=True)
    state = CampaignState(
        claims=(claim(1, "alice", Stage.SUBMITTED),),
        prs=(pr(1, "alice", 5, state="closed"), pr(1, "alice", 6, revert=True), pr(1, "alice", 7)),
    )
    assert cells(row(render_board(rules, state, "en"), 1))[3] == "@alice (PR submitted, PR #7)"


def test_closed_task_is_marked_closed():
    rules = make_rules(tasks=[task(1, "Old")], bare=True)
    b = render_board(rules, CampaignState(closed_tasks=frozenset({1})), "en")
    assert "~~Old~~ (closed)" in row(b, 1)
    assert "已关闭" in row(render_board(rules, CampaignState(closed_tasks=frozenset({1})), "zh"), 1)


def test_claims_on_tasks_the_rules_no_longer_have_are_shown_as_withdrawn_not_as_rows():
    state = CampaignState(claims=(claim(77, "ghost"), claim(77, "spirit"), claim(1, "alice")))
    b = render_board(make_rules(tasks=[task(1)], bare=True), state, "en")
    assert "| 77 |" not in b
    [line] = [x for x in b.splitlines() if x.startswith("**Withdrawn from the rules**")]
    assert "No.77 (@ghost, @spirit)" in line and "alice" not in line
    zh = render_board(make_rules(tasks=[task(1)], bare=True), state, "zh")
    assert "已从规则中撤下的任务" in zh and "No.77" in zh


def test_no_withdrawn_line_while_every_claimed_task_is_in_the_rules():
    b = render_board(make_rules(tasks=[task(1)], bare=True), CampaignState(claims=(claim(1, "alice"),)), "en")
    assert "Withdrawn" not in b


def test_reported_links_show_only_when_safe_and_without_prs():
    rules = make_rules(tasks=[task(1), task(2)], bare=True)
    state = CampaignState(
        claims=(
            claim(1, "a", Stage.SUBMITTED, link="https://x.org/p(1)"),
            claim(2, "b", Stage.SUBMITTED, link="javascript:alert(1)"),
        )
    )
    b = render_board(rules, state, "en")
    assert "[link](https://x.org/p%281%29)" in row(b, 1)
    assert "javascript" not in b


# ---- summary and people


def test_summary_counts_and_rates():
    rules = make_rules(tasks=[task(i) for i in range(1, 5)], bare=True)
    state = CampaignState(
        claims=(claim(1, "a"), claim(2, "b", Stage.RFC_SUBMITTED), claim(3, "c", Stage.COMPLETED), claim(3, "d", Stage.SUBMITTED))
    )
    b = render_board(rules, state, "en")
    assert "| **All** | 4 | 3 (75%) | 2 (50%) | 1 (25%) |" in b
    assert "| **全部** | 4 | 3 (75%) | 2 (50%) | 1 (25%) |" in render_board(rules, state, "zh")
    assert "(no track)" not in b


def test_per_track_rates_when_tasks_have_tracks():
    rules = make_rules(tasks=[task(1, track="API"), task(2, track="API"), task(3, track="套件"), task(4)], bare=True)
    state = CampaignState(claims=(claim(1, "a", Stage.COMPLETED), claim(3, "b")))
    b = render_board(rules, state, "en")
    assert "| API | 2 | 1 (50%) | 1 (50%) | 1 (50%) |" in b
    assert "| 套件 | 1 | 1 (100%) | 0 (0%) | 0 (0%) |" in b
    assert "| (no track) | 1 | 0 (0%) | 0 (0%) | 0 (0%) |" in b


def test_people_are_counted_case_insensitively_and_ranked():
    rules = make_rules(tasks=[task(i) for i in range(1, 6)], bare=True)
    state = CampaignState(
        claims=(
            claim(1, "Zed", Stage.COMPLETED),
            claim(2, "zed"),
            claim(3, "amy", Stage.SUBMITTED),
            claim(4, "amy"),
            claim(5, "bob", minutes=1),
        )
    )
    people = [line for line in render_board(rules, state, "en").splitlines() if line.startswith("| @")]
    assert people == ["| @Zed | 2 | 1 | 1 |", "| @amy | 2 | 1 | 0 |", "| @bob | 1 | 0 | 0 |"]


# ---- escaping


NASTY = ["a|b", "x<script>", "line\nbreak", "`code`", "[spoof](https://evil)", BOARD_END, "<!-- c -->", "a\\|b", "\r\n|"]


@pytest.mark.parametrize("text", NASTY)
def test_escape_cell_keeps_a_cell_a_cell(text):
    out = escape_cell(text)
    assert not re.search(r"(?<!\\)\|", out)
    assert "<" not in out and ">" not in out and "\n" not in out and "\r" not in out
    assert not re.search(r"(?<!\\)[`\[\]]", out)


def test_user_text_cannot_break_rows_or_spoof_markers():
    rules = make_rules(tasks=[task(1, "x | y <!-- hackathon-bot:board:end --> [z](http://e)\nrow"), task(2)], bare=True)
    state = CampaignState(claims=(claim(1, "ev|l<b>", team="T|<!--"), claim(2, "bob")))
    for lang in ("zh", "en"):
        b = render_board(rules, state, lang)
        assert b.count(BOARD_START) == 1 and b.count(BOARD_END) == 1 and b.count("<!--") == 2
        assert len(cells(row(b, 1))) == 5 and len(cells(row(b, 2))) == 5
        assert not re.search(r"(?<!\\)\]\(http://e\)", b) and "\\[z\\](http\u200b://e)" in b  # no link, not even a bare URL


# ---- determinism and size


def test_board_is_deterministic_and_independent_of_input_order():
    rules = make_rules(tasks=[task(i) for i in range(1, 20)], bare=True)
    claims = tuple(claim(i % 19 + 1, f"u{i}", list(Stage)[i % 6], minutes=i) for i in range(60))
    a = render_board(rules, CampaignState(claims=claims), "zh")
    b = render_board(rules, CampaignState(claims=tuple(reversed(claims))), "zh")
    assert a == b and a.startswith(BOARD_START) and a.endswith(BOARD_END)


def test_a_board_too_large_for_an_issue_drops_title_links():
    long_url = "https://github.com/PaddlePaddle/Paddle/issues/9"
    rules = make_rules(
        tasks=[task(i, "t" * 20, source=Source(file="c.md", anchor="a" * 60)) for i in range(1, 800)],
        bare=True,
        collection_url=long_url,
    )
    b = render_board(rules, CampaignState(), "en")
    assert len(b) < 65536 - 8192 and "](" not in b
    small = make_rules(
        tasks=[task(i, source=Source(file="c.md", anchor=f"t{i}")) for i in range(1, 10)], bare=True, collection_url=long_url
    )
    assert "](" in render_board(small, CampaignState(), "en")


# ---- splicing into the tracker body


ORGANISER = "# Hackathon 9th\r\n\r\n任务说明 <!-- keep me -->\r\n| a | b |\r\n"


def test_first_splice_appends_after_the_organisers_text():
    out = splice_board(ORGANISER, BOARD_START + "\nB1\n" + BOARD_END)
    assert out.startswith(ORGANISER) and out.endswith(BOARD_END + "\n")
    assert splice_board("", "X") == "X\n"


def test_later_splices_replace_only_the_board_region():
    first = splice_board(ORGANISER, BOARD_START + "\nB1\n" + BOARD_END)
    edited = "Intro changed\n" + first + "\nfooter the organiser added later\n"
    out = splice_board(edited, BOARD_START + "\nB2\n" + BOARD_END)
    assert out == edited.replace("\nB1\n", "\nB2\n")
    assert splice_board(out, BOARD_START + "\nB2\n" + BOARD_END) == out


def test_stray_start_marker_is_not_mistaken_for_the_board():
    body = "notes " + BOARD_START + " orphan\nmore text\n"
    once = splice_board(body, BOARD_START + "\nB1\n" + BOARD_END)
    assert once.startswith(body)
    twice = splice_board(once, BOARD_START + "\nB2\n" + BOARD_END)
    assert twice == body + "\n" + BOARD_START + "\nB2\n" + BOARD_END + "\n"


def test_splicing_a_real_board_round_trips():
    rules = make_rules(tasks=[task(1, "a|b")], bare=True)
    b1 = render_board(rules, CampaignState(), "zh")
    b2 = render_board(rules, CampaignState(claims=(claim(1, "x"),)), "zh")
    body = splice_board(splice_board(ORGANISER, b1), b2)
    assert body == ORGANISER + "\n" + b2 + "\n"


def test_a_crowded_board_keeps_stages_but_drops_pr_references_to_fit():
    rules = make_rules(
        tasks=[task(i, "为 Paddle 新增 API | 支持复数", source=Source(file="c.md", anchor=f"task{i}")) for i in range(1, 301)],
        bare=True,
    )
    claims, prs = [], []
    for k in range(1000):
        t, u = k % 300 + 1, f"user-{k:04d}"
        claims.append(claim(t, u, Stage.SUBMITTED, minutes=k))
        prs.append(pr(t, u, 60000 + k, kind="rfc", state="merged", repo="PaddlePaddle/community"))
        prs.append(pr(t, u, 70000 + k, repo="PaddlePaddle/Paddle-Lite"))
    b = render_board(rules, CampaignState(claims=tuple(claims), prs=tuple(prs)), "en")
    assert len(b) <= 65536 - 8192
    assert "@user-0000 (PR submitted)" in row(b, 1) and "#70000" not in b
    assert "Participants (1000)" in b and "| … | and 900 more | | |" in b


# ---- big campaigns: the board always fits an issue body


LIMIT = 65536 - 8192  # what the board may take of GitHub's 65,536-character issue body
STAGES = list(Stage)


def big(n_tasks: int, n_claims: int, *, seed: int = 1, users: int = 400, closed_every: int = 37):
    """A campaign of n_tasks with n_claims by `users` people at random stages (PRs for those past claimed)."""
    rnd = random.Random(seed)
    rules = make_rules(
        tasks=[
            task(
                i,
                f"为 Paddle 新增 API_{i} | 支持复数 <complex>",
                difficulty="进阶",
                track=("API", "框架", None)[i % 3],
                source=Source(file="c.md", anchor=f"task{i}"),
            )
            for i in range(1, n_tasks + 1)
        ],
        bare=True,
    )
    logins = [f"user-{k:04d}" for k in range(users)]
    claims, prs, seen = [], [], set()
    while len(claims) < n_claims:
        t, u = rnd.randint(1, n_tasks), rnd.choice(logins)
        if (t, u) not in seen:
            seen.add((t, u))
            stage = rnd.choices(STAGES, weights=(60, 8, 6, 12, 4, 10))[0]
            claims.append(claim(t, u, stage, minutes=len(claims)))
            if stage.rank >= Stage.SUBMITTED.rank:
                prs.append(pr(t, u, 70000 + len(prs)))
    return rules, CampaignState(claims=tuple(claims), prs=tuple(prs), closed_tasks=frozenset(range(1, n_tasks + 1, closed_every)))


def free_ids(board: str) -> set[int]:
    """The task ids the compact "open, nobody yet" line lists (ranges expanded)."""
    line = next(x for x in board.splitlines() if x.startswith(("**Open, nobody yet", "**开放、尚无人报名")))
    out: set[int] = set()
    for a, b in re.findall(r"(\d+)(?:-(\d+))?", line.split(":**" if ":**" in line else "：**", 1)[1]):
        out.update(range(int(a), int(b or a) + 1))
    return out


def table_ids(board: str) -> list[int]:
    return [int(m) for m in re.findall(r"^\| (\d+)", board, re.M)]


@pytest.fixture(scope="module")
def campaign_2000():
    return big(2000, 4000)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_2000_task_board_fits_and_shows_every_claimant(campaign_2000, lang):
    rules, state = campaign_2000
    b = render_board(rules, state, lang)
    assert len(b) <= LIMIT and b.startswith(BOARD_START) and b.endswith(BOARD_END)
    for login in {c.user for c in state.claims}:
        assert f"@{login}" in b
    claimed = {c.task for c in state.claims}
    listed = table_ids(b)
    assert listed == sorted(listed) and set(listed) <= claimed | state.closed_tasks
    # every open task nobody claimed is on the free line, and only those
    assert free_ids(b) == set(rules.tasks) - claimed - state.closed_tasks
    assert "| **All** | 2000 |" in b or "| **全部** | 2000 |" in b


def test_the_compact_layout_lists_free_tasks_as_ranges():
    rules = make_rules(tasks=[task(i) for i in range(1, 2001)], bare=True)
    taken = [6, 7, 8, 10, 11] + list(range(13, 1200, 2))
    state = CampaignState(claims=tuple(claim(t, f"someone-with-a-long-login-{t}") for t in taken))
    b = render_board(rules, state, "en")
    assert len(b) <= LIMIT and "| No. | Task | Claimed by |" in b
    assert "**Open, nobody yet (1401):** No.1-5, 9, 12, 14, 16," in b and ", 1198, 1200-2000\n" in b
    zh = render_board(rules, state, "zh")
    assert "**开放、尚无人报名（1401）：** 1-5、9、12、14、16、" in zh and "、1198、1200-2000\n" in zh
    assert cells(row(b, 6)) == ["6", "Task 6", "@someone-with-a-long-login-6 (since 03-01)"]


def test_crowded_rows_show_the_claimant_furthest_along_and_count_the_others():
    rules = make_rules(tasks=[task(i, "t" * 40) for i in range(1, 1001)], bare=True)
    claims = []
    for t in range(1, 1001):
        k = t % 300
        claims += [
            claim(t, f"early-bird-{k:03d}", minutes=t),
            claim(t, f"second-one-{k:03d}", minutes=t + 1),
            claim(t, f"finisher-{k:03d}", Stage.COMPLETED, minutes=t + 2),
        ]
    for lang, first in (("en", "@finisher-001 (completed), +2"), ("zh", "@finisher-001（已完成）、+2")):
        b = render_board(rules, CampaignState(claims=tuple(claims)), lang)
        assert len(b) <= LIMIT and table_ids(b) == list(range(1, 1001))
        assert cells(row(b, 1)) == ["1", first]
        for k in range(300):  # the 900 participants: the first 100 in the table, the others by login
            assert f"@early-bird-{k:03d}" in b and f"@second-one-{k:03d}" in b


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_5000_claimed_task_board_still_fits_and_says_what_it_left_out(lang):
    rules, state = big(5000, 5000, users=3000, closed_every=50)
    state = CampaignState(
        claims=tuple(claim(c.task, c.user, c.stage) for c in state.claims)
        + tuple(claim(t, f"filler-{t}") for t in range(1, 5001)),
        prs=state.prs,
        closed_tasks=state.closed_tasks,
    )
    b = render_board(rules, state, lang)
    assert len(b) <= LIMIT
    listed = table_ids(b)
    assert listed == list(range(1, len(listed) + 1)) and 500 < len(listed) < 5000
    more = re.search(
        r"… and (\d+) more tasks with claimants from No\.(\d+) on"
        r"|… 另有 (\d+) 个有人报名的任务（序号 (\d+) 起）",
        b,
    )
    assert more and "/status" in b
    n, start = (int(x) for x in more.groups() if x)
    assert n == 5000 - len(listed) and start == len(listed) + 1


def test_the_board_fits_whatever_the_organiser_named_things():
    long = "长" * 300 + "|<"
    rules = make_rules(tasks=[task(i, long, difficulty=long, track=f"{long}{i}") for i in range(1, 3001)], bare=True)
    claims = tuple(claim(i % 3000 + 1, f"{'x' * 30}-{i:05d}", STAGES[i % 6], team=long) for i in range(9000))
    for lang in ("en", "zh"):
        b = render_board(rules, CampaignState(claims=claims), lang)
        assert len(b) <= LIMIT and b.count(BOARD_START) == 1 and b.endswith(BOARD_END)


def test_a_big_board_is_deterministic(campaign_2000):
    rules, state = campaign_2000
    shuffled = list(state.claims)
    random.Random(5).shuffle(shuffled)
    again = CampaignState(claims=tuple(shuffled), prs=tuple(reversed(state.prs)), closed_tasks=state.closed_tasks)
    for lang in ("en", "zh"):
        assert render_board(rules, state, lang) == render_board(rules, again, lang)


def test_user_text_is_escaped_in_the_compact_layouts_too():
    title = "\r\n\t" + "".join(map(chr, [*range(0x20, 0x7F), *range(0xA0, 0x3000)]))  # up to CJK punctuation
    rules = make_rules(tasks=[task(i, title if i == 1 else "x" * 60) for i in range(1, 3001)], bare=True)
    others = tuple(claim(i, f"u{i}") for i in range(2, 400))
    state = CampaignState(claims=(claim(1, "ev|l<b>", team="T|<!--"), *others))
    b = render_board(rules, state, "en")
    assert "| No. | Task | Claimed by |" in b and len(b) <= LIMIT
    assert cells(row(b, 1)) == ["1", escape_cell(title).strip(), "@ev&#124;l&lt;b&gt; (team T&#124;&lt;!--, since 03-01)"]
    assert b.count("<!--") == 2 and b.count("-->") == 2  # the markers' own


# ---- GitHub takes it


async def test_github_accepts_the_spliced_big_board_and_refuses_an_oversized_body(campaign_2000):
    import aiohttp
    from gidgethub.apps import get_jwt

    from tests.fakegithub import FakeGitHub, generate_private_key_pem

    key = generate_private_key_pem()
    fake = FakeGitHub(private_key_pem=key)
    await fake.start()
    try:
        fake.add_issue("PaddlePaddle/Paddle", 1, title="Tracker", body="# 任务说明\n" + "说明" * 3000)
        async with aiohttp.ClientSession() as http:
            jwt = get_jwt(app_id=str(fake.app_id), private_key=key)
            async with http.post(
                f"{fake.base_url}/app/installations/1/access_tokens", headers={"Authorization": f"Bearer {jwt}"}
            ) as r:
                auth = {"Authorization": f"token {(await r.json())['token']}"}
            issue = f"{fake.base_url}/repos/PaddlePaddle/Paddle/issues/1"
            board = render_board(*campaign_2000, "zh")
            body = splice_board(fake.issue("PaddlePaddle/Paddle", 1)["body"], board)
            async with http.patch(issue, json={"body": body}, headers=auth) as r:
                assert r.status == 200 and (await r.json())["body"] == body
            async with http.patch(issue, json={"body": body + "x" * 65536}, headers=auth) as r:
                err = (await r.json())["errors"][0]
                assert r.status == 422 and err["message"] == "body is too long (maximum is 65536 characters)"
            async with http.post(issue + "/comments", json={"body": "y" * 65537}, headers=auth) as r:
                assert r.status == 422
            assert fake.issue("PaddlePaddle/Paddle", 1)["body"] == body
    finally:
        await fake.stop()
