"""Coalesced replies (`bot.coalesce`): every queued reply is carried exactly once, in order, under
GitHub's size limit, and a merged comment starts with the marker of each reply it carries (so a
retry after a crash finds them)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.coalesce import coalesce, leading_markers
from bot.core.replies import reply_marker
from bot.runtime.executor import REPLY_SETTLE, SETTLE_FLOOR, settle_after

texts = st.text(alphabet=st.sampled_from("ab @\n中文-*`"), min_size=1, max_size=400).filter(lambda t: t.strip())


@settings(max_examples=300, deadline=None)
@given(st.lists(texts, min_size=0, max_size=40), st.sampled_from(["zh", "en"]), st.integers(300, 3000))
def test_every_reply_is_carried_once_in_order_under_the_limit(replies, lang, limit):
    bodies = [f"{reply_marker(i + 1)}\n@user{i} {t}" for i, t in enumerate(replies)]
    merged = coalesce(bodies, lang, limit=limit)
    carried = [k for m in merged for k in m.carries]
    assert carried == list(range(len(bodies)))
    for m in merged:
        if len(m.carries) == 1:
            assert m.body == bodies[m.carries[0]]  # alone: the reply as it was
            continue
        assert len(m.body) <= limit
        assert leading_markers(m.body) == {reply_marker(k + 1) for k in m.carries}
        for k in m.carries:
            assert f"@user{k} " in m.body


def test_a_burst_of_replies_fills_each_comment():
    """2,000 replies of a launch-day burst go out in a handful of comments, each near the limit."""
    bodies = [f"{reply_marker(i)}\n@participant{i} 你已认领 No.{i}，请在 14 天内提交 RFC。" for i in range(2000)]
    merged = coalesce(bodies, "zh")
    assert sum(len(m.carries) for m in merged) == 2000
    assert all(len(m.body) <= 65536 for m in merged)
    assert all(len(m.body) > 65536 * 0.8 for m in merged[:-1])


def test_the_end_of_a_burst_is_told_by_its_own_pace():
    """A flood of claims is over after a short silence; a burst of a few a second, whose gaps
    reach 0.3 s by chance, only after 0.3 s; a lone queued reply waits the full 0.3 s."""
    assert settle_after(1000, 1.4) == SETTLE_FLOOR  # 700 a second
    assert settle_after(90, 3.0) == REPLY_SETTLE  # 30 a second
    assert settle_after(1, 0.0) == REPLY_SETTLE
    assert SETTLE_FLOOR < settle_after(40, 1.0) < REPLY_SETTLE  # 40 a second: 10 mean gaps, 0.25 s
    assert settle_after(40, 1.0) == pytest.approx(10 * 1.0 / 40)
