"""The rule-file models: `campaign.yml` and one `<id>.yml` per task.

Unknown keys are errors (`extra="forbid"`); the loader turns validation errors into
file:line: field messages. `bot rules schema` prints the JSON Schema of these models.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from wcmatch import glob as wglob

GLOB_FLAGS = wglob.GLOBSTAR | wglob.BRACE | wglob.DOTGLOB


def path_matches(path: str, patterns: list[str]) -> bool:
    """True when a repository path matches any of the globs (`**` crosses directories)."""
    return bool(patterns) and wglob.globmatch(path, patterns, flags=GLOB_FLAGS)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RfcDefaults(_Strict):
    repo: str = Field(description="repository that holds design documents, e.g. PaddlePaddle/community")
    path: str = Field("rfcs/", description="directory of design documents inside that repository")


class ClaimPolicy(_Strict):
    max_claims_per_user: int | None = Field(None, ge=1, description="tasks one person may hold at once; null: no limit")
    max_claimants_per_task: int | None = Field(None, ge=1, description="people who may hold one task; null: no limit")
    claim_expiry_days: int | None = Field(None, ge=1, description="days after which a claim with no PR lapses")
    remind_after_days: int | None = Field(
        None,
        ge=1,
        description="days into a claim's period when its holder is reminded that it will lapse; "
        "null: 3 days before the lapse (half-way for periods under 7 days)",
    )

    @model_validator(mode="after")
    def _remind_before_lapse(self) -> ClaimPolicy:
        if (
            self.remind_after_days is not None
            and self.claim_expiry_days is not None
            and self.remind_after_days >= self.claim_expiry_days
        ):
            raise ValueError("remind_after_days must be less than claim_expiry_days (the reminder comes before the lapse)")
        return self


class Labels(_Strict):
    campaign: str = Field("hackathon", description="label every task PR gets")
    needs_rfc: str = "needs-rfc"
    needs_tests: str = "needs-tests"
    outside_targets: str = "outside-targets"
    needs_claim: str = "needs-claim"
    ready: str = "ready"
    claimed: str = Field("claimed", description="label of a per-task issue once someone claims it")
    invalid: str = Field(
        "invalid",
        description="a maintainer puts it on a PR (as `spam`) to withdraw its credit; removing it gives the credit back. "
        "Never added or removed by the bot",
    )


class Campaign(_Strict):
    name: str
    key: str = Field(description="what PR titles carry, e.g. 'Hackathon 9th'")
    tracker: str | None = Field(None, description="the tracker issue, 'owner/repo#number'")
    repos: list[str] = Field(default_factory=list, description="repositories whose PRs count, 'owner/repo'")
    rfc: RfcDefaults | None = None
    maintainers: list[str] = Field(default_factory=list)
    language: Literal["zh", "en"] = "zh"
    reply_language: Literal["campaign", "comment"] = Field(
        "campaign",
        description="campaign: replies in the campaign's language, with a one-line gloss for a comment "
        "written in the other language; comment: replies in the comment's language",
    )
    claim_policy: ClaimPolicy = ClaimPolicy()
    labels: Labels = Labels()
    collection_url: str | None = Field(None, description="URL of the task collection; task anchors link into it")
    points: dict[str, float] = Field(
        default_factory=dict,
        description="points of a task by its difficulty (e.g. {基础: 1, 进阶: 2}) when its reward is not a number; "
        "a task neither covers earns 1",
    )
    partial: float = Field(0.5, ge=0, le=1, description="share of a task's points a partly done task (a `-part` PR) earns")
    split: bool = Field(False, description="several people credited on one task share its points (default: each earns them)")
    collections: list[str] = Field(
        default_factory=list,
        description="repository paths of the task collections (markdown; RFC lists too) the tasks are imported from; "
        "a change to one on the default branch, or a maintainer's /import, opens the import pull request",
    )
    hand_edited: list[str] = Field(default_factory=list, description="fields a maintainer set by hand; re-import keeps them")

    @field_validator("tracker")
    @classmethod
    def _tracker_shape(cls, v: str | None) -> str | None:
        if v is not None:
            repo, sep, num = v.partition("#")
            if not sep or repo.count("/") != 1 or not num.isdigit():
                raise ValueError("tracker must look like 'owner/repo#123'")
        return v

    @field_validator("repos")
    @classmethod
    def _repo_shape(cls, v: list[str]) -> list[str]:
        for r in v:
            if r.count("/") != 1:
                raise ValueError(f"repository {r!r} must look like 'owner/repo'")
        return v

    @property
    def tracker_repo(self) -> str | None:
        return self.tracker.partition("#")[0] if self.tracker else None

    @property
    def tracker_number(self) -> int | None:
        return int(self.tracker.partition("#")[2]) if self.tracker else None


class Target(_Strict):
    repo: str = Field(description="'owner/repo'")
    paths: list[str] = Field(default_factory=list, description="globs of paths a code PR should touch; empty: anywhere")


class TaskRfc(_Strict):
    required: bool = False
    repo: str | None = Field(None, description="defaults to the campaign's rfc.repo")
    path: str | None = Field(None, description="defaults to the campaign's rfc.path")


class Source(_Strict):
    file: str
    line: int | None = None
    anchor: str | None = None


class TaskStatus(StrEnum):
    """Whether a task takes claims: `open`; `reserved` (a placeholder the organisers will fill in
    later, e.g. `No.N（预留）`); `closed` (withdrawn or done). Only `open` tasks take claims."""

    open = "open"
    reserved = "reserved"
    closed = "closed"


class Task(_Strict):
    id: int = Field(ge=1)
    title: str
    difficulty: str | None = None
    track: str | None = Field(None, description="group of tasks, for per-track rates on the board")
    summary: str = ""
    targets: list[Target] = Field(default_factory=list)
    tests: list[str] = Field(default_factory=list, description="globs of test files a code PR must add or change")
    rfc: TaskRfc = TaskRfc()
    acceptance: list[str] = Field(default_factory=list)
    source: Source | None = None
    issue: str | None = Field(None, description="a per-task issue, 'owner/repo#number', where claims also count")
    max_claimants: int | None = Field(None, ge=1, description="overrides the campaign's max_claimants_per_task")
    status: TaskStatus = Field(
        TaskStatus.open, description="open: takes claims; reserved (a placeholder to be filled in later) and closed: take none"
    )
    reward: str | int | float | None = Field(
        None, description="what completing the task earns, as the collection states it, e.g. '0.1🌟' or 500"
    )
    hand_edited: list[str] = Field(default_factory=list, description="fields a maintainer set by hand; re-import keeps them")

    @field_validator("status", mode="before")
    @classmethod
    def _status_word(cls, v: object) -> object:
        # rule files are loaded strictly; the YAML word names the enum member
        if isinstance(v, str):
            if v not in TaskStatus.__members__:
                raise ValueError(f"status must be one of {', '.join(TaskStatus.__members__)}")
            return TaskStatus(v)
        return v

    @property
    def open_to_claims(self) -> bool:
        return self.status is TaskStatus.open

    def in_targets(self, repo: str, path: str) -> bool:
        """Does a changed file of `repo` fall inside this task's targets? No targets: anything goes."""
        if not self.targets:
            return True
        for t in self.targets:
            if t.repo.lower() == repo.lower() and (not t.paths or path_matches(path, t.paths)):
                return True
        return False

    @property
    def checkable(self) -> bool:
        """Whether a PR's review can verify more than the repository: target paths, required tests or the RFC.
        A task that names only repositories (or nothing) is not: its PRs need a maintainer's eye."""
        return any(t.paths for t in self.targets) or bool(self.tests) or self.rfc.required

    def is_required_test(self, path: str) -> bool:
        return path_matches(path, self.tests)

    def rfc_location(self, campaign: Campaign) -> tuple[str | None, str | None]:
        repo = self.rfc.repo or (campaign.rfc.repo if campaign.rfc else None)
        path = self.rfc.path or (campaign.rfc.path if campaign.rfc else None)
        return repo, path

    def target_repos(self) -> list[str]:
        return [t.repo for t in self.targets]


class Origin(BaseModel):
    """Where a campaign read from a repository comes from: its folder on the default branch, the
    commit it was read at, and the installation of the App that may act for it (and no other)."""

    model_config = ConfigDict(frozen=True)
    repo: str
    installation_id: int
    path: str  # e.g. ".github/hackathon/h9"
    commit: str


class CampaignRules(BaseModel):
    """One campaign folder, loaded (from RULES_DIR, or from a repository: `origin`)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    slug: str
    dir: Path
    campaign: Campaign
    tasks: dict[int, Task]
    origin: Origin | None = None

    def serves(self, installation_id: int | None) -> bool:
        """Whether a delivery of this installation may concern the campaign: a campaign read from a
        repository belongs to that repository's installation alone; one from RULES_DIR to any."""
        return self.origin is None or installation_id is None or self.origin.installation_id == installation_id

    def max_claimants(self, task: Task) -> int | None:
        return task.max_claimants or self.campaign.claim_policy.max_claimants_per_task

    def repos(self) -> set[str]:
        """Lower-cased repositories whose events concern this campaign."""
        out = {r.lower() for r in self.campaign.repos}
        if self.campaign.rfc:
            out.add(self.campaign.rfc.repo.lower())
        if self.campaign.tracker_repo:
            out.add(self.campaign.tracker_repo.lower())
        for t in self.tasks.values():
            out.update(r.lower() for r in t.target_repos())
            if t.rfc.repo:
                out.add(t.rfc.repo.lower())
            if t.issue:
                out.add(t.issue.partition("#")[0].lower())
        return out


class Rules(BaseModel):
    """Every campaign under a rules directory."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    campaigns: dict[str, CampaignRules] = Field(default_factory=dict)

    def by_tracker(self, repo: str, number: int, installation_id: int | None = None) -> CampaignRules | None:
        for c in self.campaigns.values():
            if (
                c.campaign.tracker_repo
                and c.campaign.tracker_repo.lower() == repo.lower()
                and c.campaign.tracker_number == number
                and c.serves(installation_id)
            ):
                return c
        return None

    def by_task_issue(self, repo: str, number: int, installation_id: int | None = None) -> tuple[CampaignRules, Task] | None:
        ref = f"{repo}#{number}".lower()
        for c in self.campaigns.values():
            if not c.serves(installation_id):
                continue
            for t in c.tasks.values():
                if t.issue and t.issue.lower() == ref:
                    return c, t
        return None

    def for_repo(self, repo: str, installation_id: int | None = None) -> list[CampaignRules]:
        return [c for c in self.campaigns.values() if repo.lower() in c.repos() and c.serves(installation_id)]


class RulesView(Protocol):
    """What the stages read of the campaigns served: `Rules` itself, or the catalog, whose campaigns
    change while the bot runs (a push to a repository's campaign folder)."""

    @property
    def campaigns(self) -> dict[str, CampaignRules]: ...

    def by_tracker(self, repo: str, number: int, installation_id: int | None = None) -> CampaignRules | None: ...

    def by_task_issue(self, repo: str, number: int, installation_id: int | None = None) -> tuple[CampaignRules, Task] | None: ...

    def for_repo(self, repo: str, installation_id: int | None = None) -> list[CampaignRules]: ...
