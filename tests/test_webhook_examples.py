"""The deliveries the tests send look like GitHub's: checked against GitHub's official webhook
examples (`npm pack @octokit/webhooks-examples`; `source .ci/specs.sh` fetches them, CI always does).

Two promises: every key an official example carries at the levels the bot reads is in our payload
builders' output too (so the fake deliveries are not thinner than real ones), and the bot's event
models accept every official example of the events it handles (so a real delivery never fails
validation)."""

from __future__ import annotations

import json
import os

import pytest

from bot.github import events as ev
from tests import payloads

EXAMPLES = os.environ.get("OCTOKIT_WEBHOOK_EXAMPLES")
pytestmark = pytest.mark.skipif(
    not (EXAMPLES and os.path.exists(EXAMPLES)) and not os.environ.get("CI"),
    reason="`source .ci/specs.sh` fetches the examples (CI always does: never skipped there)",
)


@pytest.fixture(scope="module")
def examples() -> dict[str, list[dict]]:
    assert EXAMPLES, "OCTOKIT_WEBHOOK_EXAMPLES is not set: run `source .ci/specs.sh`"
    with open(EXAMPLES) as f:
        return {e["name"]: e["examples"] for e in json.load(f)}


def _ours(event: str, action: str) -> dict:
    if event == "issue_comment":
        return payloads.issue_comment(
            action,
            repo="org/proj",
            issue_number=1,
            comment_id=5,
            body="hi",
            user="alice",
            changes={"body": {"from": "old"}} if action == "edited" else None,
        )
    if event == "push":
        return payloads.push(repo="org/proj", before="a" * 40, after="b" * 40, changed={"x.yml": "added"})
    if event == "installation":
        return payloads.installation_event(action, installation_id=7, account="org", repos=["org/proj"])
    if event == "installation_repositories":
        return payloads.installation_repositories(action, installation_id=7, account="org", added=["org/proj"])
    return payloads.pull_request(action, repo="org/proj", number=2, title="t", user="alice")


@pytest.mark.parametrize(
    "event, action, parts",
    [
        ("issue_comment", "created", ["", "comment", "issue", "repository", "sender"]),
        ("issue_comment", "edited", ["", "comment", "issue", "changes"]),
        ("pull_request", "opened", ["", "pull_request", "repository", "sender"]),
        ("pull_request", "closed", ["", "pull_request"]),
        ("push", None, ["", "head_commit"]),
        ("installation", "created", [""]),
        ("installation_repositories", "added", [""]),
    ],
)
def test_our_deliveries_carry_every_key_of_githubs_examples(examples, event, action, parts):
    official = [e for e in examples[event] if e.get("action") == action]
    assert official, f"no official {event}.{action} example"
    ours = _ours(event, action)
    for part in parts:
        mine = ours[part] if part else ours
        for example in official:
            theirs = example.get(part) if part else example
            if not isinstance(theirs, dict):
                continue
            optional = {"enterprise", "organization", "installation", "performed_via_github_app"}
            missing = set(theirs) - set(mine) - optional
            assert not missing, f"{event}.{action} {part or 'top level'} lacks {sorted(missing)}"


@pytest.mark.parametrize("event, model", [("issue_comment", ev.IssueCommentEvent), ("pull_request", ev.PullRequestEvent)])
def test_the_bot_reads_every_official_example(examples, event, model):
    for example in examples[event]:
        parsed = model.model_validate(example)
        assert parsed.action == example["action"]
