"""Dry-run: a GitHub that sends nothing and logs every write it would send.

`bot serve` without APP_ID and a private key, `bot replay` and `bot simulate` run the whole
pipeline against it. It answers as a GitHub with nothing on it would, but remembers what it
"wrote" in this process, so the stages behave as they do live: a comment it created is found by
its marker, a board it wrote is read back. Each write is one log line ("dry-run: POST ...").
Installation ids are taken as given (a delivery that names none gets installation 0).
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)

LOGIN = "hackathon-bot[bot]"


class DryRunGitHub:
    """The `GitHubApi` of dry-run. `say`: where a write's line goes (default: the log, at INFO)."""

    def __init__(self, say: Callable[[str], None] | None = None, *, login: str = LOGIN) -> None:
        self._say = say or (lambda line: log.info("%s", line))
        self.login = login
        self._installations: dict[int, DryRunInstallation] = {}
        self._ids = itertools.count(1)

    def write(self, method: str, path: str, data: Any) -> None:
        """The one line of a write this GitHub would have been sent."""
        self._say(f"dry-run: {method} {path} {json.dumps(data, ensure_ascii=False)}")

    def next_id(self) -> int:
        return next(self._ids)

    async def app_login(self) -> str:
        return self.login

    async def installation(self, installation_id: int | None) -> DryRunInstallation:
        key = installation_id or 0
        inst = self._installations.get(key)
        if inst is None:
            inst = self._installations[key] = DryRunInstallation(self, key)
        return inst

    async def installations(self) -> list[dict]:
        return []

    async def repo_installation(self, repo: str) -> int:
        return 0

    async def hook_deliveries(self, next_url: str | None = None) -> tuple[list[dict], str | None]:
        return [], None

    async def redeliver(self, hook_delivery_id: int) -> None:
        self.write("POST", f"/app/hook/deliveries/{hook_delivery_id}/attempts", None)

    def budget_spent(self, installation_id: int) -> float:
        return 0.0

    def write_budgets(self) -> list[tuple[int, int]]:
        return []

    def request_count(self) -> int:
        return 0


class DryRunInstallation:
    """One installation of the dry-run GitHub: what it was sent, remembered; nothing else exists."""

    def __init__(self, github: DryRunGitHub, installation_id: int) -> None:
        self._gh = github
        self.installation_id = installation_id
        self._comments: dict[tuple[str, int], list[dict]] = {}  # (repo, issue) -> comments it created
        self._bodies: dict[tuple[str, int], str] = {}  # (repo, issue) -> body it wrote

    def _key(self, repo: str, number: int) -> tuple[str, int]:
        return repo.lower(), number

    async def create_comment(self, repo: str, number: int, body: str) -> dict:
        self._gh.write("POST", f"/repos/{repo}/issues/{number}/comments", {"body": body})
        comment = {"id": self._gh.next_id(), "body": body, "user": {"login": self._gh.login, "type": "Bot"}}
        self._comments.setdefault(self._key(repo, number), []).append(comment)
        return comment

    async def edit_comment(self, repo: str, comment_id: int, body: str) -> dict:
        self._gh.write("PATCH", f"/repos/{repo}/issues/comments/{comment_id}", {"body": body})
        for comments in self._comments.values():
            for c in comments:
                if c["id"] == comment_id:
                    c["body"] = body
                    return c
        return {"id": comment_id, "body": body, "user": {"login": self._gh.login, "type": "Bot"}}

    async def list_comments(self, repo: str, number: int, *, since: datetime | None = None) -> list[dict]:
        return [dict(c) for c in self._comments.get(self._key(repo, number), [])]

    async def list_repo_comments(self, repo: str, *, since: datetime | None = None) -> list[dict]:
        return [dict(c) for (r, _), cs in self._comments.items() if r == repo.lower() for c in cs]

    async def get_issue(self, repo: str, number: int) -> dict:
        return {"number": number, "body": self._bodies.get(self._key(repo, number), "")}

    async def edit_issue(self, repo: str, number: int, *, priority: bool = False, **fields: Any) -> dict:
        self._gh.write("PATCH", f"/repos/{repo}/issues/{number}", fields)
        if "body" in fields:
            self._bodies[self._key(repo, number)] = fields["body"]
        return {"number": number, "body": self._bodies.get(self._key(repo, number), "")}

    async def replace_labels(self, repo: str, number: int, labels: list[str]) -> list[dict]:
        self._gh.write("PUT", f"/repos/{repo}/issues/{number}/labels", {"labels": labels})
        return [{"name": name} for name in labels]

    async def add_labels(self, repo: str, number: int, labels: list[str]) -> list[dict]:
        self._gh.write("POST", f"/repos/{repo}/issues/{number}/labels", {"labels": labels})
        return [{"name": name} for name in labels]

    async def add_assignees(self, repo: str, number: int, logins: list[str]) -> dict:
        self._gh.write("POST", f"/repos/{repo}/issues/{number}/assignees", {"assignees": logins})
        return {"number": number, "assignees": [{"login": u} for u in logins]}

    async def get_pull(self, repo: str, number: int) -> dict | None:
        return None

    async def pr_files(self, repo: str, number: int, *, head_sha: str | None = None) -> list[dict]:
        return []

    async def list_pulls(self, repo: str, *, page: int, per_page: int = 100) -> list[dict]:
        return []

    async def collaborator_permission(self, repo: str, user: str) -> str:
        return "none"

    def rate_limit(self) -> tuple[int, int, float] | None:
        return None  # nothing is sent, nothing is spent

    async def get_file(self, repo: str, path: str, *, ref: str | None = None) -> dict | None:
        return None  # the dry-run GitHub knows no file

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
        data = {"name": name, "head_sha": head_sha, "status": "completed", "conclusion": conclusion}
        output = {"title": title, "summary": summary, "annotations": (annotations or [])[:50]}
        self._gh.write("POST", f"/repos/{repo}/check-runs", {**data, "output": output})
        return {"id": self._gh.next_id(), **data}

    async def annotate(self, repo: str, check_run_id: int, *, title: str, summary: str, annotations: list[dict]) -> dict:
        output = {"title": title, "summary": summary, "annotations": annotations[:50]}
        self._gh.write("PATCH", f"/repos/{repo}/check-runs/{check_run_id}", {"output": output})
        return {"id": check_run_id}

    # the dry-run GitHub holds no repository and no file
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
        self._gh.write(
            "POST", f"/repos/{repo}/git/blobs", {"content": content if isinstance(content, str) else f"<{len(content)} bytes>"}
        )
        return f"dry{self._gh.next_id()}"

    async def create_tree(self, repo: str, *, base_tree: str | None, entries: list[dict]) -> str:
        self._gh.write("POST", f"/repos/{repo}/git/trees", {"base_tree": base_tree, "tree": entries})
        return f"dry{self._gh.next_id()}"

    async def create_commit(self, repo: str, *, message: str, tree: str, parents: list[str]) -> str:
        self._gh.write("POST", f"/repos/{repo}/git/commits", {"message": message, "tree": tree, "parents": parents})
        return f"dry{self._gh.next_id()}"

    async def set_branch(self, repo: str, branch: str, sha: str, *, create: bool, force: bool = True) -> None:
        if create:
            self._gh.write("POST", f"/repos/{repo}/git/refs", {"ref": f"refs/heads/{branch}", "sha": sha})
        else:
            self._gh.write("PATCH", f"/repos/{repo}/git/refs/heads/{branch}", {"sha": sha, "force": force})

    async def run_status(self, repo: str, run_id: int) -> str | None:
        return None

    async def open_pulls(self, repo: str, *, head: str) -> list[dict]:
        return []

    async def create_pull(self, repo: str, *, title: str, head: str, base: str, body: str) -> dict:
        self._gh.write("POST", f"/repos/{repo}/pulls", {"title": title, "head": head, "base": base, "body": body})
        return {"number": self._gh.next_id(), "html_url": ""}

    async def update_pull(self, repo: str, number: int, **fields: Any) -> dict:
        self._gh.write("PATCH", f"/repos/{repo}/pulls/{number}", fields)
        return {"number": number}

    def request_count(self) -> int:
        return 0
