"""Issue 8's remaining cases end to end (signed deliveries, fake GitHub): a zero-width space inside
【报名】 still claims, a 4,301-digit number beside a valid claim does not drop it, and a PR title
carrying a team mention, an image and a link shows none of them live in the bot's checklist
(shown in a code span or escaped is fine: GitHub renders neither as a mention or a link)."""

from __future__ import annotations

import re

from tests.harness import Harness


async def test_a_zero_width_space_inside_the_bracket_still_claims(tmp_path, all_rules):
    async with Harness(all_rules, tmp_path) as h:
        await h.comment("【报\u200b名】：2", user="zoe")
        await h.settle()
        assert (await h.store.state("h9")).claim(2, "zoe") is not None
        assert len(h.bot_comments()) == 1 and "@zoe" in h.bot_comments()[0]["body"]


async def test_a_huge_number_beside_a_valid_claim_keeps_the_claim(tmp_path, all_rules):
    async with Harness(all_rules, tmp_path) as h:
        status, _ = await h.comment("【报名】：2\n【报名】：" + "9" * 4301, user="max")
        assert status == 202
        await h.settle()
        assert (await h.store.state("h9")).claim(2, "max") is not None
        (reply,) = h.bot_comments()
        assert "@max" in reply["body"] and len(reply["body"]) < 65_536
        assert (await h.store.failures()) == []


async def test_a_hostile_pr_title_is_not_live_in_the_checklist(tmp_path, all_rules):
    async with Harness(all_rules, tmp_path) as h:
        title = "【Hackaton 9th No.3】 @org/everyone ![t](https://track.example/p.png) [win](https://phish.example)"
        await h.pull_request("opened", 77, title=title, user="mal", files=["python/paddle/jit/a.py"])
        await h.settle()
        bodies = [c["body"] for c in h.bot_comments(number=77)]
        assert bodies, "the PR got its checklist"
        for body in bodies:
            body = re.sub(r"(`+)(.+?)\1", "", body)  # inside a code span nothing is live
            assert not re.search(r"@org/everyone", body)
            assert not re.search(r"!?\[[^\]]*\]\(https?://", body)
            assert not re.search(r"(?<![\u200b`])https?://(track|phish)\.example", body.replace("\u200b://", ""))
