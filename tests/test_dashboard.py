"""The dashboard's pure parts: numbers (bot.dashboard), charts (bot.web.charts), HTML (bot.web.pages), report."""

from __future__ import annotations

import csv
import io
import itertools
import re
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.actions import make_state
from bot.core.board import board_stats
from bot.core.dashboard import STALE_AFTER, build_dashboard, replay, to_json
from bot.core.model import Claim, PullRequest, Stage, StageEvent
from bot.core.report import build_report, to_csv, to_markdown
from bot.core.report import to_json as report_json
from bot.rules.models import Source, Task
from bot.web.charts import progress_chart, track_chart
from bot.web.pages import render_campaign
from tests.conftest import make_campaign, make_rules, make_tasks

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def day(n: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, n, hour, 0, tzinfo=UTC)


def claim(task: int, user: str, stage: Stage = Stage.CLAIMED, at: datetime | None = None, team: str | None = None) -> Claim:
    return Claim("h9", task, user, stage, at or day(1), team=team)


def pr(number: int, user: str, tasks: tuple[int, ...], state: str = "open", kind: str = "code") -> PullRequest:
    return PullRequest(
        "h9",
        "org/Paddle",
        number,
        user,
        f"【Hackathon 9th No.{tasks[0]}】x",
        tasks,
        kind,
        state,  # type: ignore[arg-type]
        f"https://github.com/org/Paddle/pull/{number}",
    )


def state_of(claims=(), prs=(), closed=()):
    return make_state(list(claims), list(prs), frozenset(closed))


# ---- numbers


def test_totals_tracks_and_people_are_the_boards():
    rules = make_rules()
    state = state_of(
        [
            claim(1, "alice", Stage.COMPLETED),
            claim(1, "bob", Stage.SUBMITTED),
            claim(2, "bob"),
            claim(3, "carol", Stage.RFC_SUBMITTED),
        ],
        [pr(7, "alice", (1,), "merged"), pr(8, "bob", (1,))],
    )
    d = build_dashboard(rules, state, [], NOW)
    s = board_stats(rules, state)
    assert (d.total.tasks, d.total.claimed, d.total.submitted, d.total.completed) == (
        s.total.tasks,
        s.total.claimed,
        s.total.submitted,
        s.total.completed,
    )
    assert [(t.name, t.counts.tasks, t.counts.completed) for t in d.tracks] == [
        (name, c.tasks, c.completed) for name, c in s.tracks
    ]
    assert [(p.login, p.claimed, p.submitted, p.completed) for p in d.people] == list(s.people)
    # each person's tasks, with the stage they reached
    bob = next(p for p in d.people if p.login == "bob")
    assert bob.tasks == ((1, Stage.SUBMITTED), (2, Stage.CLAIMED))
    # the task table: furthest stage, holders and their PRs (with links)
    row = next(t for t in d.tasks if t.id == 1)
    assert row.stage == Stage.COMPLETED
    assert [(h.user, [p.number for p in h.prs]) for h in row.holders] == [("alice", [7]), ("bob", [8])]
    assert row.url == "https://github.com/org/community/blob/master/hackathon/9th.md#task1"


def test_leaderboard_ranks_completed_then_submitted():
    rules = make_rules()
    state = state_of(
        [
            claim(1, "subber", Stage.SUBMITTED),
            claim(2, "subber", Stage.SUBMITTED),
            claim(3, "doer", Stage.COMPLETED),
            claim(2, "claimer"),
        ]
    )
    assert [p.login for p in build_dashboard(rules, state, [], NOW).people] == ["doer", "subber", "claimer"]


def test_free_tasks_are_those_never_claimed_and_open():
    rules = make_rules()
    history = [StageEvent(day(1), 1, "alice", Stage.CLAIMED), StageEvent(day(2), 1, "alice", None)]
    d = build_dashboard(rules, state_of(closed=[3]), history, NOW)
    # 1 was claimed once (then released), 3 is closed: only 2 is free
    assert [i for i, _ in d.free] == [2]


def test_stale_claims_are_old_claims_without_pr_oldest_first():
    rules = make_rules()
    old, older = NOW - STALE_AFTER - timedelta(days=2), NOW - STALE_AFTER - timedelta(days=5)
    state = state_of(
        [
            claim(1, "a", at=old),
            claim(2, "b", at=older),
            claim(3, "c", at=NOW - timedelta(days=1)),
            claim(1, "d", Stage.SUBMITTED, at=older),
        ]
    )
    d = build_dashboard(rules, state, [], NOW)
    assert [(s.user, s.task, s.age_days) for s in d.stale] == [("b", 2, (NOW - older).days), ("a", 1, (NOW - old).days)]


def test_recently_completed_uses_the_time_of_completion():
    rules = make_rules()
    state = state_of([claim(1, "alice", Stage.COMPLETED, at=day(1)), claim(2, "bob", Stage.COMPLETED, at=day(2))])
    history = [
        StageEvent(day(1), 1, "alice", Stage.CLAIMED),
        StageEvent(day(9), 1, "alice", Stage.COMPLETED),
        StageEvent(day(2), 2, "bob", Stage.CLAIMED),
        StageEvent(day(5), 2, "bob", Stage.COMPLETED),
    ]
    d = build_dashboard(rules, state, history, NOW)
    assert [(r.task, r.user, r.at) for r in d.recent] == [(1, "alice", day(9)), (2, "bob", day(5))]


def test_series_replays_history_day_by_day():
    rules = make_rules()
    history = [
        StageEvent(day(1), 1, "alice", Stage.CLAIMED),
        StageEvent(day(1, 11), 2, "bob", Stage.CLAIMED),
        StageEvent(day(2), 1, "carol", Stage.CLAIMED),  # a second holder: task 1 still counts once
        StageEvent(day(3), 1, "alice", Stage.SUBMITTED),
        StageEvent(day(5), 1, "alice", Stage.COMPLETED),
        StageEvent(day(5, 12), 2, "bob", None),  # released
    ]
    state = state_of([claim(1, "alice", Stage.COMPLETED), claim(1, "carol", at=day(2))])
    series = replay(rules, state, history)
    assert [(p.day.day, p.claimed, p.submitted, p.completed) for p in series] == [
        (1, 2, 0, 0),
        (2, 2, 0, 0),
        (3, 2, 1, 0),
        (4, 2, 1, 0),
        (5, 1, 1, 1),
    ]


def test_claims_the_history_does_not_know_count_from_their_claim_time():
    rules = make_rules()
    state = state_of([claim(1, "alice", Stage.SUBMITTED, at=day(3)), claim(2, "bob", at=day(1))])
    series = replay(rules, state, [])
    assert [(p.day.day, p.claimed, p.submitted) for p in series] == [(1, 1, 0), (2, 1, 0), (3, 2, 1)]


_users = st.sampled_from(["ann", "Bob", "cy"])
_events = st.lists(
    st.tuples(st.integers(0, 200), st.sampled_from([1, 2, 3, 99]), _users, st.sampled_from([*Stage, None])), max_size=40
)


@settings(max_examples=150, deadline=None)
@given(_events)
def test_the_last_point_of_the_series_is_todays_totals(raw):
    """Replaying the history that produced a state ends at that state's numbers."""
    rules = make_rules()
    raw.sort(key=lambda e: e[0])
    held: dict[tuple[int, str], Claim] = {}
    history = []
    for minute, task, user, stage in raw:
        at = day(1) + timedelta(hours=minute)
        history.append(StageEvent(at, task, user, stage))
        key = (task, user.lower())
        if stage is None:
            held.pop(key, None)
        else:
            held[key] = Claim("h9", task, user, stage, held[key].claimed_at if key in held else at)
    state = state_of(held.values())
    d = build_dashboard(rules, state, history, NOW)
    if d.series:
        last = d.series[-1]
        assert (last.claimed, last.submitted, last.completed) == (d.total.claimed, d.total.submitted, d.total.completed)
        days = [p.day for p in d.series]
        assert days == sorted(days) and all((b - a).days == 1 for a, b in itertools.pairwise(days))
    else:
        assert d.total.claimed == 0


def test_json_shape():
    rules = make_rules()
    state = state_of([claim(1, "alice", Stage.SUBMITTED)], [pr(7, "alice", (1,))])
    j = to_json(build_dashboard(rules, state, [], NOW))
    assert set(j) == {
        "campaign",
        "generated_at",
        "total",
        "tracks",
        "series",
        "free",
        "stale",
        "recently_completed",
        "leaderboard",
        "tasks",
    }
    assert j["total"]["claimed"] == 1 and j["total"]["claimed_rate"] == round(100 / 3, 1)
    [t1] = [t for t in j["tasks"] if t["id"] == 1]
    assert t1["holders"][0]["prs"] == [
        {"repo": "org/Paddle", "number": 7, "url": "https://github.com/org/Paddle/pull/7", "kind": "code", "state": "open"}
    ]


# ---- charts and HTML


def test_progress_chart_draws_one_line_per_series_within_the_box():
    days = [day(1).date() + timedelta(days=i) for i in range(5)]
    svg = progress_chart(
        days,
        {"claimed": [1, 2, 4, 4, 7], "submitted": [0, 1, 1, 2, 3], "completed": [0, 0, 0, 1, 2]},
        {"claimed": "Claimed", "submitted": "Submitted", "completed": "Completed"},
        width=600,
        height=200,
    )
    lines = re.findall(r'<polyline class="line s-(\w+)" points="([^"]+)"', svg)
    assert [name for name, _ in lines] == ["claimed", "submitted", "completed"]
    for _, pts in lines:
        xy = [tuple(map(float, p.split(","))) for p in pts.split()]
        assert len(xy) == 5 and all(0 <= x <= 600 and 0 <= y <= 200 for x, y in xy)
    claimed = [float(p.split(",")[1]) for p in lines[0][1].split()]
    assert claimed == sorted(claimed, reverse=True)  # growing counts go up the chart


def test_track_chart_bars_are_proportional_and_names_escaped():
    svg = track_chart([("<b>ops</b>", 10, 5, 2, 1), ("docs", 5, 5, 5, 5)], {}, width=416)
    assert "<b>" not in svg and "&lt;b&gt;ops&lt;/b&gt;" in svg
    widths = [float(w) for w in re.findall(r'<rect class="s-\w+" x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="18"', svg)]
    assert widths == [400.0, 200.0, 80.0, 40.0, 200.0, 200.0, 200.0, 200.0]


def test_user_text_is_escaped_and_links_are_http_only():
    tasks = make_tasks()
    tasks[2] = Task(id=2, title="<script>alert(1)</script>", track="<i>t</i>", source=Source(file="x", line=1, anchor="a"))
    rules = make_rules(tasks=tasks, campaign=make_campaign(collection_url="javascript:alert(1)//"))
    state = state_of(
        [claim(2, "x<img src=x>", team="<b>team</b>")],
        [PullRequest("h9", "org/Paddle", 5, "x<img src=x>", "t", (2,), "code", "open", "javascript:alert(2)")],
    )
    html = render_campaign(build_dashboard(rules, state, [], NOW))
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "<b>team" not in html and "<i>t</i>" not in html
    assert "javascript:" not in html


def test_page_shows_the_totals_in_the_campaigns_language():
    for lang, word in (("en", "Leaderboard"), ("zh", "排行榜")):
        rules = make_rules(campaign=make_campaign(language=lang))
        state = state_of([claim(1, "alice", Stage.COMPLETED), claim(2, "bob")])
        d = build_dashboard(rules, state, [], NOW)
        html = render_campaign(d)
        assert word in html
        totals = dict(re.findall(r'data-total="(\w+)">(\d+)<', html))
        assert totals == {
            "tasks": str(d.total.tasks),
            "claimed": str(d.total.claimed),
            "submitted": str(d.total.submitted),
            "completed": str(d.total.completed),
            "free": str(len(d.free)),
            "stale": str(len(d.stale)),
        }
        assert html.count('<tr id="task-') == len(rules.tasks)


# ---- the rewards report


def test_report_lists_each_persons_credited_tasks_with_prs_and_dates():
    rules = make_rules()
    state = state_of(
        [
            claim(1, "alice", Stage.COMPLETED),
            claim(2, "alice", Stage.PARTLY_DONE),
            claim(3, "bob", Stage.COMPLETED),
            claim(2, "carol", Stage.SUBMITTED),
        ],
        [pr(7, "alice", (1,), "merged"), pr(9, "alice", (1,), "closed"), pr(8, "alice", (2,), "merged")],
    )
    history = [StageEvent(day(4), 1, "alice", Stage.COMPLETED), StageEvent(day(6), 3, "bob", Stage.COMPLETED)]
    r = build_report(rules, state, history)
    assert [(p.user, p.completed, p.partly) for p in r.people] == [("alice", 1, 1), ("bob", 1, 0)]
    a1, a2 = r.people[0].lines
    assert (a1.task, a1.prs, a1.completed_at) == (1, ("https://github.com/org/Paddle/pull/7",), day(4))
    assert (a2.task, a2.stage, a2.completed_at) == (2, Stage.PARTLY_DONE, None)
    rows = list(csv.DictReader(io.StringIO(to_csv(r))))
    assert [(row["user"], row["task"], row["stage"]) for row in rows] == [
        ("alice", "1", "completed"),
        ("alice", "2", "partly_done"),
        ("bob", "3", "completed"),
    ]
    assert rows[0]["title"] == rules.tasks[1].title and rows[0]["completed_at"] == day(4).isoformat()
    assert report_json(r)["people"][0]["tasks"][0]["prs"] == ["https://github.com/org/Paddle/pull/7"]
    md = to_markdown(r)
    assert "@alice" in md and "[#7](https://github.com/org/Paddle/pull/7)" in md


def test_report_csv_cells_never_start_a_formula():
    tasks = make_tasks()
    tasks[1] = Task(id=1, title='=HYPERLINK("http://evil","x")', difficulty="+1")
    rules = make_rules(tasks=tasks)
    r = build_report(rules, state_of([claim(1, "@bob", Stage.COMPLETED)]))
    [row] = list(csv.DictReader(io.StringIO(to_csv(r))))
    assert row["title"].startswith("'=") and row["difficulty"] == "'+1" and row["user"] == "'@bob"


def test_tasks_not_open_to_claims_are_not_free_and_rewards_are_shown():
    from bot.rules.models import TaskStatus

    tasks = make_tasks()
    tasks[2] = Task(id=2, title="Reserved", status=TaskStatus.reserved, reward=500)
    tasks[3] = Task(id=3, title="Paid", reward="0.1🌟")
    rules = make_rules(tasks=tasks)
    state = state_of([claim(3, "bob", Stage.COMPLETED)])
    d = build_dashboard(rules, state, [], NOW)
    assert [i for i, _ in d.free] == [1]
    assert next(t for t in d.tasks if t.id == 2).closed
    assert [(t.id, t.reward) for t in d.tasks] == [(1, None), (2, "500"), (3, "0.1🌟")]
    [row] = list(csv.DictReader(io.StringIO(to_csv(build_report(rules, state)))))
    assert row["reward"] == "0.1🌟"


def test_stage_events_record_new_claims_stage_changes_and_drops():
    from bot.core.actions import DropClaim, PutClaim, stage_events

    state = state_of([claim(1, "alice", at=day(1)), claim(2, "Bob", Stage.SUBMITTED, at=day(1))])
    changes = [
        PutClaim(claim(1, "alice", Stage.CLAIMED, at=day(1), team="t")),  # only the team changed: no event
        PutClaim(claim(2, "bob", Stage.COMPLETED, at=day(1))),  # a stage change: now
        PutClaim(claim(3, "carol", at=day(9))),  # a new claim: at its claim time
        DropClaim(1, "ALICE"),
        DropClaim(3, "nobody"),  # nothing to drop: no event
    ]
    assert stage_events(state, changes, NOW) == [
        StageEvent(NOW, 2, "bob", Stage.COMPLETED),
        StageEvent(day(9), 3, "carol", Stage.CLAIMED),
        StageEvent(NOW, 1, "ALICE", None),
    ]


def test_a_dashboard_moved_to_a_later_time_equals_one_built_then():
    from bot.core.dashboard import at

    rules = make_rules()
    state = state_of([claim(1, "a", at=day(1)), claim(2, "b", Stage.SUBMITTED, at=day(2)), claim(3, "c", at=day(15))])
    history = [StageEvent(day(1), 1, "a", Stage.CLAIMED)]
    early, later = day(10), day(25)
    assert at(build_dashboard(rules, state, history, early), rules, state, later) == build_dashboard(rules, state, history, later)
    assert [s.task for s in build_dashboard(rules, state, history, later).stale] == [1, 3]


@given(st.integers(0, 10**6))
def test_the_progress_axis_covers_the_values_in_at_most_five_round_steps(v):
    from bot.web.charts import _scale

    top, step = _scale(v)
    assert top >= max(v, 1) and top % step == 0 and top // step <= 5 and top - step < max(v, 1)
    assert str(step).strip("0") in ("1", "2", "5")


def test_the_task_table_shows_each_tasks_reward():
    tasks = make_tasks()
    tasks[3] = Task(id=3, title="Paid", reward="<b>0.1🌟</b>")
    html = render_campaign(build_dashboard(make_rules(tasks=tasks), state_of(), [], NOW))
    row = html.split('<tr id="task-3">', 1)[1].split("</tr>", 1)[0]
    assert '<small class="reward" title="reward">&lt;b&gt;0.1🌟&lt;/b&gt;</small>' in row
    assert 'class="reward"' not in html.split('<tr id="task-1">', 1)[1].split("</tr>", 1)[0]
