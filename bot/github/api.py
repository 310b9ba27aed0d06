"""The typed seam between the shell and GitHub: what the shell asks of GitHub, as Protocols.

Two implementations keep it: `bot.github.gateway.Gateway` (the real App: tokens, retries,
limits) and `bot.github.dryrun.DryRunGitHub` (dry-run: nothing is sent, each write it would
send is logged). Every stage holds a `GitHubApi`; none holds "maybe a gateway", so no stage has a
dry-run branch of its own. The errors every implementation raises live here too.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Protocol

PRIMARY_RESERVE = 0.1  # the share of the hourly request limit kept for claims, replies and the board


class GitHubError(Exception):
    """A GitHub call that failed. Worth retrying later unless it is a `PermanentError`.

    ``status`` is the HTTP status (0 for a timeout or connection error); ``retry_after`` is
    the number of seconds GitHub asked us to wait, when it did.
    """

    def __init__(self, status: int, message: str, *, method: str = "", url: str = "", retry_after: float | None = None) -> None:
        super().__init__(f"{method} {url}: {status} {message}".strip())
        self.status = status
        self.message = message
        self.method = method
        self.url = url
        self.retry_after = retry_after


class PermanentError(GitHubError):
    """A 4xx other than a rate limit (validation failed, not found, forbidden): do not retry."""


class TransientError(GitHubError):
    """5xx, timeout, connection error or rate limit: retried here; raised when attempts run out."""


class InstallationApi(Protocol):
    """The calls made as one installation of the App (its token, its write budget)."""

    installation_id: int

    # issues and comments
    async def create_comment(self, repo: str, number: int, body: str) -> dict: ...
    async def edit_comment(self, repo: str, comment_id: int, body: str) -> dict: ...
    async def list_comments(self, repo: str, number: int, *, since: datetime | None = None) -> list[dict]:
        """Every comment of an issue or PR (those updated at or after `since`, when given), oldest first."""
        ...

    async def list_repo_comments(self, repo: str, *, since: datetime | None = None) -> list[dict]:
        """Every issue and pull-request comment of a repository (updated at or after `since`), oldest first."""
        ...

    async def get_issue(self, repo: str, number: int) -> dict:
        """The issue (a conditional request: an unchanged issue costs no rate limit)."""
        ...

    async def edit_issue(self, repo: str, number: int, *, priority: bool = False, **fields: Any) -> dict: ...
    async def replace_labels(self, repo: str, number: int, labels: list[str]) -> list[dict]: ...
    async def add_labels(self, repo: str, number: int, labels: list[str]) -> list[dict]: ...
    async def add_assignees(self, repo: str, number: int, logins: list[str]) -> dict: ...

    # pull requests, permissions, checks
    async def get_pull(self, repo: str, number: int) -> dict | None:
        """The pull request (None only from a GitHub that knows none: dry-run)."""
        ...

    async def pr_files(self, repo: str, number: int, *, head_sha: str | None = None) -> list[dict]:
        """The PR's changed files (GitHub lists at most 3,000); read once per `head_sha` when it is given."""
        ...

    async def list_pulls(self, repo: str, *, page: int, per_page: int = 100) -> list[dict]:
        """One page of a repository's pull requests (any state), most recently updated first."""
        ...

    async def collaborator_permission(self, repo: str, user: str) -> str:
        """admin / maintain / write / triage / read / none."""
        ...

    async def create_check_run(
        self,
        repo: str,
        *,
        head_sha: str,
        name: str,
        conclusion: str,
        title: str,
        summary: str,
        annotations: list[dict] | None = None,
    ) -> dict:
        """A completed check run; GitHub takes at most 50 annotations a request (the rest: `annotate`)."""
        ...

    async def annotate(self, repo: str, check_run_id: int, *, title: str, summary: str, annotations: list[dict]) -> dict:
        """Add up to 50 more annotations to a check run."""
        ...

    # repositories and their files (the campaign folders)
    async def repositories(self) -> list[dict]:
        """The repositories this installation may act on."""
        ...

    async def get_repo(self, repo: str) -> dict: ...
    async def branch_head(self, repo: str, branch: str) -> str | None:
        """The commit a branch points at (None: no such branch); a conditional request."""
        ...

    async def contents(self, repo: str, path: str, *, ref: str) -> list[dict] | dict | None:
        """A directory's entries or a file (None: nothing at that path); a conditional request."""
        ...

    async def tree(self, repo: str, sha: str, *, recursive: bool = False) -> dict: ...
    async def blob(self, repo: str, sha: str) -> bytes: ...

    # writing a branch and a pull request (the import PR)
    async def create_blob(self, repo: str, content: str | bytes) -> str:
        """A blob of text (UTF-8) or of bytes (sent base64)."""
        ...

    async def create_tree(self, repo: str, *, base_tree: str | None, entries: list[dict]) -> str:
        """A tree of `entries` on top of `base_tree` (None: of `entries` alone)."""
        ...

    async def create_commit(self, repo: str, *, message: str, tree: str, parents: list[str]) -> str: ...
    async def set_branch(self, repo: str, branch: str, sha: str, *, create: bool, force: bool = True) -> None:
        """Point `branch` at `sha`: create it (422 when it exists), or move it; without `force` only
        forward (422 when `sha` does not descend from the branch's head: a compare-and-swap)."""
        ...

    async def run_status(self, repo: str, run_id: int) -> str | None:
        """A GitHub Actions run's status (queued, in_progress, completed...; None: no such run)."""
        ...

    async def open_pulls(self, repo: str, *, head: str) -> list[dict]:
        """Open pull requests from `head` ("owner:branch")."""
        ...

    async def create_pull(self, repo: str, *, title: str, head: str, base: str, body: str) -> dict: ...
    async def update_pull(self, repo: str, number: int, **fields: Any) -> dict: ...

    async def get_file(self, repo: str, path: str, *, ref: str | None = None) -> dict | None:
        """A file's (or directory's) metadata at `ref` (`{"type": "file" | "dir", ...}`), None when
        there is none (an RFC link is checked against it)."""
        ...

    def request_count(self) -> int:
        """HTTP requests made as this installation so far (retries included)."""
        ...

    def rate_limit(self) -> tuple[int, int, float] | None:
        """GitHub's primary rate limit as last reported (`x-ratelimit-*`): (requests left, hourly
        limit, reset time in epoch seconds); None when unknown."""
        ...


def keep_reserve(inst: InstallationApi, what: str = "reads for checklists") -> None:
    """Reads that serve only checklists (a PR, its files, RFC links, a PR's rules check) wait when
    the installation's primary rate limit is below `PRIMARY_RESERVE` of it: raises a `GitHubError`
    whose `retry_after` is the reset, so the delivery is retried then and claims keep the rest."""
    rate = inst.rate_limit()
    if rate is not None and rate[0] < rate[1] * PRIMARY_RESERVE:
        wait = max(1.0, rate[2] - time.time())
        raise GitHubError(403, f"{rate[0]} of {rate[1]} requests left this hour: {what} wait {wait:.0f} s", retry_after=wait)


class GitHubApi(Protocol):
    """What the shell asks of GitHub as an App."""

    async def app_login(self) -> str:
        """The App's own login, ``<slug>[bot]`` (to recognise and ignore its own comments)."""
        ...

    async def installations(self) -> list[dict]:
        """Every installation of the App."""
        ...

    async def installation(self, installation_id: int | None) -> InstallationApi:
        """The client of one installation; a delivery that named none cannot be acted on (PermanentError)."""
        ...

    async def repo_installation(self, repo: str) -> int:
        """The id of the App's installation on a repository."""
        ...

    async def hook_deliveries(self, next_url: str | None = None) -> tuple[list[dict], str | None]:
        """One page of the App's webhook deliveries, newest first, and the next page's URL."""
        ...

    async def redeliver(self, hook_delivery_id: int) -> None: ...

    def budget_spent(self, installation_id: int) -> float:
        """The share of an installation's write budget in use (0 to 1)."""
        ...

    def write_budgets(self) -> list[tuple[int, int]]:
        """(installation id, content-creating requests left this minute) per installation used so far."""
        ...

    def request_count(self) -> int:
        """HTTP requests made so far, App-level and every installation's."""
        ...


NO_INSTALLATION = "the delivery names no installation of the App: nothing can be done on GitHub for it"
