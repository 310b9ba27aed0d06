"""The webhook payload fields the bot reads, as pydantic models.

Only what decisions need is declared; everything else in GitHub's payload is ignored, so a
new field upstream never breaks intake. A payload missing a field we need fails validation
and the delivery is recorded as failed with the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class User(_Loose):
    login: str
    type: str = "User"

    @property
    def is_bot(self) -> bool:
        return self.type == "Bot" or self.login.endswith("[bot]")


class Repository(_Loose):
    full_name: str


class Installation(_Loose):
    id: int


class Label(_Loose):
    name: str


class Issue(_Loose):
    number: int
    title: str = ""
    body: str | None = None
    user: User
    labels: list[Label] = Field(default_factory=list)
    assignees: list[User] = Field(default_factory=list)
    pull_request: dict | None = None  # present when the issue is a pull request


class Comment(_Loose):
    id: int
    body: str = ""
    user: User
    html_url: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None  # orders a comment's versions (the effects ledger)


class BodyChange(_Loose):
    from_: str = Field("", alias="from")


class CommentChanges(_Loose):
    body: BodyChange | None = None


class IssueCommentEvent(_Loose):
    action: Literal["created", "edited", "deleted"]
    issue: Issue
    comment: Comment
    repository: Repository
    installation: Installation | None = None
    changes: CommentChanges | None = None
    sender: User


class Head(_Loose):
    sha: str


class PullRequest(_Loose):
    number: int
    title: str
    body: str | None = None
    user: User
    state: Literal["open", "closed"]
    merged: bool | None = False
    html_url: str = ""
    head: Head
    labels: list[Label] = Field(default_factory=list)
    changed_files: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None  # orders a pull request's states (the effects ledger)
    merged_at: datetime | None = None  # lists of pull requests carry this, not `merged`

    @property
    def is_merged(self) -> bool:
        return bool(self.merged) or self.merged_at is not None


class PullRequestEvent(_Loose):
    action: str
    number: int
    pull_request: PullRequest
    repository: Repository
    installation: Installation | None = None
    sender: User
    label: Label | None = None  # the label put on or taken off (`labeled`, `unlabeled`)
    changes: dict | None = None  # an `edited` event: what changed (title, body, base)


# Events that change which campaigns exist (a push to a campaign folder, the App installed on or
# removed from repositories): handled by the catalog (`bot.runtime.catalog`), in order per repository.
CATALOG_EVENTS = {"push", "installation", "installation_repositories"}
HANDLED_EVENTS = {"issue_comment", "pull_request"} | CATALOG_EVENTS
PR_ACTIONS = {"opened", "edited", "synchronize", "reopened", "closed", "ready_for_review", "labeled", "unlabeled"}
LABEL_ACTIONS = {"labeled", "unlabeled"}  # read only for the labels that withdraw a PR's credit (`labels.invalid`, `spam`)
# Events that change who may do what on a repository: they clear the cached collaborator
# permissions (applied at intake, never queued).
ACCESS_EVENTS = {"member", "organization", "membership", "team"}
