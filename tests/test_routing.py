"""Routing end to end: a PR title that names a campaign by a key other than "Hackathon ..." is
credited to that campaign (the router hands the parser the keys of the repository's campaigns)."""

from __future__ import annotations

from bot.rules.models import Rules
from tests.conftest import make_campaign, make_rules
from tests.harness import Harness


async def test_a_plain_title_with_a_custom_campaign_key_is_credited(tmp_path):
    rules = make_rules(slug="docs", campaign=make_campaign(name="Docs Sprint", key="Docs Sprint"))
    async with Harness(Rules(campaigns={"docs": rules}), tmp_path) as h:
        await h.pull_request(
            "opened", 41, title="Docs Sprint No.2 fix the jit docs", user="dora", repo="org/docs", files=["docs/api/jit.md"]
        )
        await h.pull_request(
            "opened", 42, title="Fix a typo in the jit docs", user="eve", repo="org/docs", files=["docs/api/jit.md"]
        )
        await h.settle()
        state = await h.store.state("docs")
        assert [(p.number, p.tasks) for p in state.prs] == [(41, (2,))]
        assert state.claim(2, "dora") is not None and state.claims_of("eve") == []
