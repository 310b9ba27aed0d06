"""A recording GitHub for the unit tests of the shell's stages (tests/runtime/).

`RecordingGitHub` keeps the `GitHubApi` Protocol and its installations keep `InstallationApi`
(bot/github/api.py), in memory: comments and issue bodies are remembered, so a stage reads back
what it wrote; every call is recorded (`calls`, with the event loop's time it was made at); the
next call (of a method, or any) can be made to raise an error of bot/github/api.py
(`fail_next`); a hook can run before a method (`before`: an organiser editing the tracker while
the board is written, a write GitHub is slow to answer); `budget_spent` reports what the test
says. The HTTP fake in tests/fakegithub.py is for end-to-end tests.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.github.api import GitHubApi, GitHubError, InstallationApi, PermanentError

LOGIN = "hackathon-bot[bot]"
WRITES = frozenset(
    {"create_comment", "edit_comment", "edit_issue", "replace_labels", "add_labels", "add_assignees", "create_check_run"}
)


@dataclass(frozen=True)
class Call:
    installation_id: int
    method: str
    args: dict[str, Any]
    at: float  # the event loop's time (reply pacing runs on it)


@dataclass
class _Failure:
    exc: GitHubError
    method: str | None
    times: int


Hook = Callable[["RecordingInstallation", dict[str, Any]], Awaitable[None] | None]


@dataclass
class RecordingGitHub:
    login: str = LOGIN
    spent: dict[int, float] = field(default_factory=dict)  # installation -> share of its write budget used
    permissions: dict[str, str] = field(default_factory=dict)  # login -> admin/write/read... (default "none")
    calls: list[Call] = field(default_factory=list)
    comments: dict[tuple[str, int], list[dict]] = field(default_factory=dict)  # (repo, issue) -> comments
    bodies: dict[tuple[str, int], str] = field(default_factory=dict)  # (repo, issue) -> issue body
    _failures: list[_Failure] = field(default_factory=list)
    _hooks: dict[str, list[Hook]] = field(default_factory=dict)
    _installations: dict[int, RecordingInstallation] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1001))

    # ---- what a test sets up or reads --------------------------------------------------------
    def fail_next(self, exc: GitHubError, *, method: str | None = None, times: int = 1) -> None:
        """The next `times` calls (of `method`, or of any method) raise `exc`."""
        self._failures.append(_Failure(exc, method, times))

    def before(self, method: str, hook: Hook) -> None:
        """Run `hook(installation, args)` (awaited when it returns an awaitable) before each call of `method`."""
        self._hooks.setdefault(method, []).append(hook)

    def add_comment(self, repo: str, number: int, body: str, *, user: str) -> dict:
        """A comment already on GitHub (someone's, or the bot's from an earlier try)."""
        comment = {"id": next(self._ids), "body": body, "user": {"login": user}}
        self.comments.setdefault((repo.lower(), number), []).append(comment)
        return comment

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.method in WRITES]

    def posted(self, repo: str, number: int) -> list[str]:
        """Bodies of the bot's comments on an issue, as GitHub shows them (a call that failed created none)."""
        return [c["body"] for c in self.comments.get((repo.lower(), number), []) if c["user"]["login"] == self.login]

    async def _call(self, inst: RecordingInstallation, method: str, args: dict[str, Any]) -> None:
        self.calls.append(Call(inst.installation_id, method, args, asyncio.get_running_loop().time()))
        for hook in self._hooks.get(method, []):
            result = hook(inst, args)
            if result is not None:
                await result
        for f in self._failures:
            if f.method in (None, method):
                f.times -= 1
                if f.times <= 0:
                    self._failures.remove(f)
                raise f.exc

    # ---- GitHubApi -----------------------------------------------------------------------------
    async def app_login(self) -> str:
        return self.login

    async def installation(self, installation_id: int | None) -> RecordingInstallation:
        key = installation_id or 0
        if key not in self._installations:
            self._installations[key] = RecordingInstallation(self, key)
        return self._installations[key]

    async def installations(self) -> list[dict]:
        return [{"id": i} for i in sorted(self._installations)]

    async def repo_installation(self, repo: str) -> int:
        return 1

    async def hook_deliveries(self, next_url: str | None = None) -> tuple[list[dict], str | None]:
        return [], None

    async def redeliver(self, hook_delivery_id: int) -> None:
        return None

    def budget_spent(self, installation_id: int) -> float:
        return self.spent.get(installation_id, 0.0)

    def write_budgets(self) -> list[tuple[int, int]]:
        return [(i, 80) for i in self._installations]

    def request_count(self) -> int:
        return len(self.calls)


class RecordingInstallation:
    def __init__(self, github: RecordingGitHub, installation_id: int) -> None:
        self.gh = github
        self.installation_id = installation_id

    async def _call(self, method: str, **args: Any) -> None:
        await self.gh._call(self, method, args)

    def _thread(self, repo: str, number: int) -> list[dict]:
        return self.gh.comments.setdefault((repo.lower(), number), [])

    async def create_comment(self, repo: str, number: int, body: str) -> dict:
        await self._call("create_comment", repo=repo, number=number, body=body)
        comment = {"id": next(self.gh._ids), "body": body, "user": {"login": self.gh.login, "type": "Bot"}}
        self._thread(repo, number).append(comment)
        return dict(comment)

    async def edit_comment(self, repo: str, comment_id: int, body: str) -> dict:
        await self._call("edit_comment", repo=repo, comment_id=comment_id, body=body)
        for (r, _), thread in self.gh.comments.items():
            for c in thread:
                if r == repo.lower() and c["id"] == comment_id:
                    c["body"] = body
                    return dict(c)
        raise PermanentError(404, "Not Found", method="PATCH", url=f"/repos/{repo}/issues/comments/{comment_id}")

    async def list_comments(self, repo: str, number: int, *, since: datetime | None = None) -> list[dict]:
        await self._call("list_comments", repo=repo, number=number)
        return [dict(c) for c in self._thread(repo, number)]

    async def list_repo_comments(self, repo: str, *, since: datetime | None = None) -> list[dict]:
        await self._call("list_repo_comments", repo=repo)
        return [c for (r, _), cs in self.gh.comments.items() if r == repo for c in cs]

    async def get_issue(self, repo: str, number: int) -> dict:
        await self._call("get_issue", repo=repo, number=number)
        return {"number": number, "body": self.gh.bodies.get((repo.lower(), number), "")}

    async def edit_issue(self, repo: str, number: int, *, priority: bool = False, **fields: Any) -> dict:
        await self._call("edit_issue", repo=repo, number=number, priority=priority, **fields)
        if "body" in fields:
            self.gh.bodies[(repo.lower(), number)] = fields["body"]
        return {"number": number, "body": self.gh.bodies.get((repo.lower(), number), "")}

    async def replace_labels(self, repo: str, number: int, labels: list[str]) -> list[dict]:
        await self._call("replace_labels", repo=repo, number=number, labels=labels)
        return [{"name": n} for n in labels]

    async def add_labels(self, repo: str, number: int, labels: list[str]) -> list[dict]:
        await self._call("add_labels", repo=repo, number=number, labels=labels)
        return [{"name": n} for n in labels]

    async def add_assignees(self, repo: str, number: int, logins: list[str]) -> dict:
        await self._call("add_assignees", repo=repo, number=number, logins=logins)
        return {"number": number, "assignees": [{"login": u} for u in logins]}

    async def get_pull(self, repo: str, number: int) -> dict | None:
        await self._call("get_pull", repo=repo, number=number)
        return None

    async def pr_files(self, repo: str, number: int, *, head_sha: str | None = None) -> list[dict]:
        await self._call("pr_files", repo=repo, number=number)
        return []

    async def list_pulls(self, repo: str, *, page: int, per_page: int = 100) -> list[dict]:
        await self._call("list_pulls", repo=repo, page=page)
        return []

    async def collaborator_permission(self, repo: str, user: str) -> str:
        await self._call("collaborator_permission", repo=repo, user=user)
        return self.gh.permissions.get(user.lower(), "none")

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
        await self._call(
            "create_check_run", repo=repo, head_sha=head_sha, name=name, conclusion=conclusion, title=title, summary=summary
        )
        return {"id": next(self.gh._ids), "name": name, "head_sha": head_sha, "conclusion": conclusion}

    async def annotate(self, repo: str, check_run_id: int, *, title: str, summary: str, annotations: list[dict]) -> dict:
        await self._call("annotate", repo=repo, check_run_id=check_run_id, annotations=annotations)
        return {"id": check_run_id}

    def rate_limit(self) -> tuple[int, int, float] | None:
        return None  # the recording GitHub counts no primary limit

    async def get_file(self, repo: str, path: str, *, ref: str | None = None) -> dict | None:
        await self._call("get_file", repo=repo, path=path)
        return None

    # the stages' unit tests need no repository files: an empty repository, writes recorded
    async def repositories(self) -> list[dict]:
        return []

    async def get_repo(self, repo: str) -> dict:
        return {"full_name": repo, "default_branch": "main"}

    async def branch_head(self, repo: str, branch: str) -> str | None:
        return None

    async def contents(self, repo: str, path: str, *, ref: str) -> list[dict] | dict | None:
        return None

    async def tree(self, repo: str, sha: str, *, recursive: bool = False) -> dict:
        return {"sha": sha, "tree": [], "truncated": False}

    async def blob(self, repo: str, sha: str) -> bytes:
        return b""

    async def create_blob(self, repo: str, content: str | bytes) -> str:
        await self._call("create_blob", repo=repo)
        return f"blob{next(self.gh._ids)}"

    async def create_tree(self, repo: str, *, base_tree: str | None, entries: list[dict]) -> str:
        await self._call("create_tree", repo=repo, entries=entries)
        return f"tree{next(self.gh._ids)}"

    async def create_commit(self, repo: str, *, message: str, tree: str, parents: list[str]) -> str:
        await self._call("create_commit", repo=repo, message=message)
        return f"commit{next(self.gh._ids)}"

    async def set_branch(self, repo: str, branch: str, sha: str, *, create: bool, force: bool = True) -> None:
        await self._call("set_branch", repo=repo, branch=branch, sha=sha)

    async def run_status(self, repo: str, run_id: int) -> str | None:
        return None

    async def open_pulls(self, repo: str, *, head: str) -> list[dict]:
        return []

    async def create_pull(self, repo: str, *, title: str, head: str, base: str, body: str) -> dict:
        await self._call("create_pull", repo=repo, title=title)
        return {"number": next(self.gh._ids)}

    async def update_pull(self, repo: str, number: int, **fields: Any) -> dict:
        await self._call("update_pull", repo=repo, number=number)
        return {"number": number}

    def request_count(self) -> int:
        return sum(1 for c in self.gh.calls if c.installation_id == self.installation_id)


def _a_github_api() -> GitHubApi:
    """Checked by mypy (`mypy tests/fakes.py`): the fake keeps the Protocol ..."""
    return RecordingGitHub()


def _an_installation_api() -> InstallationApi:
    """... and so do its installations."""
    return RecordingInstallation(RecordingGitHub(), 1)


class SimulatedTime:
    """Epoch seconds shared by the fake GitHub's secondary limit (`FakeGitHub.clock`) and the bot's
    write pacing (the gateway's `clock` and `sleep`): they move only when the bot waits for its
    budget or a test moves them, so GitHub's limits hold as over simulated minutes in seconds."""

    def __init__(self) -> None:
        self.now = time.time()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)
