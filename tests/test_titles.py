"""PR titles -> task references: the issue's examples, variants, key matching, properties."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.titles import TitleRef, key_matches, parse_title


@pytest.mark.parametrize("title, key, tasks", [
    ("【Hackathon 9th No.85】为 Paddle 新增 xxx API", "Hackathon 9th", (85,)),
    ("【Hackathon 9th Sprint No.17, 24, 33-34】fix docs", "Hackathon 9th Sprint", (17, 24, 33, 34)),
    ("[Hackathon 8th No.33】 add op", "Hackathon 8th", (33,)),
    ("【PaddlePaddle Hackathon 5th No.30】 add op", "PaddlePaddle Hackathon 5th", (30,)),
    ("Hackathon 7th Fundable Projects No.6 refactor", "Hackathon 7th Fundable Projects", (6,)),
    ("【Hackathon No.5】 add op", "Hackathon", (5,)),
    ("【Hackathon 9th NO.85】", "Hackathon 9th", (85,)),
    ("【Hackathon 9th no.85】", "Hackathon 9th", (85,)),
    ("【Hackathon 9th No85】", "Hackathon 9th", (85,)),
    ("【Hackathon 9th No 85】", "Hackathon 9th", (85,)),
])
def test_title_examples_from_the_issue(title, key, tasks):
    ref = parse_title(title)
    assert (ref.key, ref.tasks, ref.part, ref.revert, ref.hints) == (key, tasks, False, False, ())


@pytest.mark.parametrize("title, key, tasks", [
    ("【Hackathon 9th No．８５】", "Hackathon 9th", (85,)),
    ("【Hackathon 9th No.17、24】", "Hackathon 9th", (17, 24)),
    ("【Hackathon 9th No.17, No.24】", "Hackathon 9th", (17, 24)),
    ("【Hackathon 9th #85】", "Hackathon 9th", (85,)),
    ("[Docs]【Hackathon 9th No.3】 update", "Hackathon 9th", (3,)),
    ("【Hackathon 9th】No.3 update", "Hackathon 9th", (3,)),
    ("【hackathon 9th no.3】", "hackathon 9th", (3,)),
    ("  【Hackathon  9th   No.3】  ", "Hackathon 9th", (3,)),
    ("Hackathon9th No.3", "Hackathon9th", (3,)),
    ("【Hackathon 6th Fundable Projects No.1】", "Hackathon 6th Fundable Projects", (1,)),
])
def test_title_variants(title, key, tasks):
    ref = parse_title(title)
    assert (ref.key, ref.tasks, ref.hints) == (key, tasks, ())


@pytest.mark.parametrize("title", [
    "【Hackathon 9th No.85】add foo -part",
    "【Hackathon 9th No.85】add foo -part2",
    "【Hackathon 9th No.85】add foo - part",
    "【Hackathon 9th No.85】add foo - part 2",
    "【Hackathon 9th No.85-part】add foo",
    "【Hackathon 9th No.85】add foo (part 1)",
])
def test_part_marks_a_partial_pr(title):
    ref = parse_title(title)
    assert ref.part and ref.tasks == (85,)


@pytest.mark.parametrize("title", ["【Hackathon 9th No.85】add partial_fit", "【Hackathon 9th No.85】partition op"])
def test_words_starting_with_part_do_not_mark_partial(title):
    assert not parse_title(title).part


def test_revert_is_flagged_and_still_names_the_task():
    ref = parse_title('Revert "【Hackathon 9th No.85】add foo"')
    assert ref.revert and ref.key == "Hackathon 9th" and ref.tasks == (85,)


@pytest.mark.parametrize("title", [
    "Update the task list No.111-127",
    "【Hackathon 9th】update task status for No.111-127",
    "Fix docs for Hackathon 9th No.111-127",
    "Add API paddle.foo",
    "",
])
def test_housekeeping_titles_are_not_task_prs(title):
    ref = parse_title(title)
    assert ref.key is None and ref.tasks == () and ref.hints == ()


@pytest.mark.parametrize("typo", ["Hackthon", "Hackaton", "Hakathon", "Hackahton", "hackathn"])
def test_typo_gives_a_hint_showing_the_correct_title(typo):
    ref = parse_title(f"【{typo} 9th No.85】add foo")
    assert ref.key == "Hackathon 9th" and ref.tasks == (85,)
    assert [h.code for h in ref.hints] == ["title_typo"]
    for lang in ("zh", "en"):
        text = ref.hints[0].text(lang)
        assert typo in text and "【Hackathon 9th No.85】add foo" in text


def test_missing_no_gives_a_hint_and_no_tasks():
    ref = parse_title("【Hackathon 9th 85】add foo")
    assert ref.tasks == () and [h.code for h in ref.hints] == ["title_missing_no"]
    assert "【Hackathon 9th No.85】add foo" in ref.hints[0].text("en")


def test_invalid_task_number_in_title_is_a_hint():
    ref = parse_title("【Hackathon 9th No.0】")
    assert ref.tasks == () and [h.code for h in ref.hints] == ["title_bad_task"]
    ref = parse_title("【Hackathon 9th No.1-1000】")
    assert ref.tasks == () and [h.code for h in ref.hints] == ["title_bad_task"]


def test_as_dict_has_the_issue_shape():
    d = parse_title("【Hackthon 9th No.85】x -part").as_dict("en")
    assert set(d) == {"key", "tasks", "part", "revert", "hints"}
    assert d["tasks"] == [85] and d["part"] is True and d["revert"] is False and isinstance(d["hints"][0], str)


@pytest.mark.parametrize("title_key, campaign_key, expected", [
    ("Hackathon 9th", "Hackathon 9th", True),
    ("PaddlePaddle Hackathon 9th Sprint", "Hackathon 9th", True),
    ("hackathon   9TH", "Hackathon 9th", True),
    ("Hackathon9th", "Hackathon 9th", True),
    ("Hackathon 9", "Hackathon 9th", True),
    ("Hackathon 8th", "Hackathon 9th", False),
    ("Hackathon", "Hackathon 9th", True),            # edition-less: callers disambiguate
    ("Hackathon 9th", "Hackathon 9th Sprint", False),  # the campaign's track must be in the title
    ("Hackathon 9th Sprint", "Hackathon 9th Sprint", True),
    (None, "Hackathon 9th", False),
    ("Summer Camp", "Summer Camp", True),
    ("Summer Camp", "Hackathon 9th", False),
])
def test_key_matches(title_key, campaign_key, expected):
    assert key_matches(title_key, campaign_key) is expected


@settings(max_examples=500)
@given(st.one_of(st.text(), st.lists(st.sampled_from(
    ["【", "】", "[", "]", "Hackathon", "Hackthon", "PaddlePaddle", " ", "9th", "No.", "No", "#", "85", "-", ",",
     "、", "part", "Revert ", '"', "０", "Sprint", "99999"]), max_size=16).map("".join)))
def test_no_title_makes_the_parser_raise(title):
    ref = parse_title(title)
    assert isinstance(ref, TitleRef)
    ref.as_dict("zh"), ref.as_dict("en")
    assert list(ref.tasks) == sorted(set(ref.tasks)) and all(t >= 1 for t in ref.tasks)
    key_matches(ref.key, "Hackathon 9th")
