"""The fake GitHub's repositories as git sees them, and the App's installations.

A mixin of `tests.fakegithub.FakeGitHub`. It owns:
* git objects (blobs, trees, commits), addressed by their sha and shared by every repository of
  the fake (as GitHub shares them within a fork network: a fork PR's head commit can be read
  from the base repository), branches, and each repository's default branch;
* the routes that read and write them, with the shapes of GitHub's OpenAPI description:
  ``GET/POST git/blobs``, ``git/trees`` (``?recursive=1``), ``git/commits``, ``GET git/ref/{ref}``,
  ``POST git/refs``, ``PATCH git/refs/{ref}``, ``GET contents/{path}`` (file or directory, at
  ``?ref=``), ``GET /repos/{o}/{r}``, ``POST/PATCH pulls``, ``PATCH check-runs/{id}`` (annotations);
* installations: ``GET /app/installations`` (App JWT) and ``GET /installation/repositories``
  (installation token); an installation token reaches only its installation's repositories
  (others answer 404, as on GitHub). Every repository not given to another installation
  belongs to the fake's `installation_id` (1).

Test set-up: `commit_files` (a commit on a branch, which moves it), `files_at` (what a commit
holds), `add_installation`. A symlink is written as `Symlink(target)`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests import payloads as shapes

if TYPE_CHECKING:
    from tests.fakegithub import FakeGitHub

FILE_MODE = "100644"
TREE_MODE = "040000"
LINK_MODE = "120000"
MAX_TREE_ENTRIES = 100_000  # GitHub truncates a recursive tree beyond this


@dataclass(frozen=True)
class Symlink:
    target: str


@dataclass
class Installation:
    id: int
    account: str
    repos: list[str] = field(default_factory=list)


def _git_sha(kind: str, data: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data).hexdigest()


class GitData:
    """Mixin: git data, contents, pull creation and installations (see the module docstring)."""

    def _init_git(self: FakeGitHub) -> None:
        self._objects: dict[str, dict[str, Any]] = {}
        self._branches: dict[str, dict[str, str]] = {}  # repo -> branch -> commit sha
        self.default_branches: dict[str, str] = {}
        self.installations: dict[int, Installation] = {self.installation_id: Installation(self.installation_id, "org")}
        self._repo_owner_inst: dict[str, int] = {}  # repo -> installation id (absent: `installation_id`)
        self.runs: dict[int, dict] = {}  # GitHub Actions runs: id -> {repo, status, conclusion}
        self._token_logins: dict[str, str] = {}  # static tokens -> who their writes appear as

    # ------------------------------------------------------------ set-up

    def add_installation(self: FakeGitHub, installation_id: int, account: str, repos: list[str]) -> None:
        self.installations[installation_id] = Installation(installation_id, account, list(repos))
        for r in repos:
            self.add_repo(r)
            self._repo_owner_inst[r] = installation_id

    def add_token(
        self: FakeGitHub, token: str, installation_id: int | None = None, *, login: str = "github-actions[bot]"
    ) -> None:
        """A token that never expires, as a workflow's GITHUB_TOKEN (for `installation_id`, default the
        fake's): what it writes appears as `login`."""
        self._tokens[token] = (installation_id or self.installation_id, float("inf"))
        self._token_logins[token] = login

    def author_of(self: FakeGitHub, request: web.Request) -> str:
        """Who a write appears as: the App's bot, or the login of a workflow's token."""
        token = request.headers.get("Authorization", "").partition(" ")[2].strip()
        return self._token_logins.get(token, self.bot_login)

    def set_run(self: FakeGitHub, run_id: int, repo: str, status: str, conclusion: str | None = None) -> None:
        """A GitHub Actions run of `repo` and where it is (queued, in_progress, completed)."""
        self.runs[run_id] = {"repo": repo, "status": status, "conclusion": conclusion}

    def installation_of_repo(self: FakeGitHub, repo: str) -> int:
        return self._repo_owner_inst.get(repo, self.installation_id)

    def _blob(self: FakeGitHub, data: bytes) -> str:
        sha = _git_sha("blob", data)
        self._objects[sha] = {"type": "blob", "data": data}
        return sha

    def _tree(self: FakeGitHub, entries: dict[str, tuple[str, str, str]]) -> str:
        """entries: name -> (mode, type, sha)."""
        raw = json.dumps(sorted(entries.items())).encode()
        sha = _git_sha("tree", raw)
        self._objects[sha] = {"type": "tree", "entries": dict(entries)}
        return sha

    def _commit(self: FakeGitHub, tree: str, parents: list[str], message: str) -> str:
        raw = json.dumps([tree, parents, message, len(self._objects)]).encode()
        sha = _git_sha("commit", raw)
        self._objects[sha] = {"type": "commit", "tree": tree, "parents": parents, "message": message, "at": shapes.now_iso()}
        return sha

    def _flat(self: FakeGitHub, tree_sha: str | None, prefix: str = "") -> dict[str, tuple[str, str]]:
        """path -> (mode, blob sha) of every file below a tree."""
        out: dict[str, tuple[str, str]] = {}
        if tree_sha is None:
            return out
        for name, (mode, kind, sha) in self._objects[tree_sha]["entries"].items():
            if kind == "tree":
                out.update(self._flat(sha, f"{prefix}{name}/"))
            else:
                out[f"{prefix}{name}"] = (mode, sha)
        return out

    def _build(self: FakeGitHub, files: dict[str, tuple[str, str]]) -> str:
        """A tree (and its subtrees) holding `files` (path -> (mode, blob sha))."""
        children: dict[str, dict[str, tuple[str, str]]] = {}
        entries: dict[str, tuple[str, str, str]] = {}
        for path, (mode, sha) in files.items():
            head, sep, rest = path.partition("/")
            if sep:
                children.setdefault(head, {})[rest] = (mode, sha)
            else:
                entries[head] = (mode, "blob", sha)
        for name, sub in children.items():
            entries[name] = (TREE_MODE, "tree", self._build(sub))
        return self._tree(entries)

    def commit_files(
        self: FakeGitHub,
        repo: str,
        changes: dict[str, str | bytes | Symlink | None],
        *,
        branch: str | None = None,
        message: str = "change",
        move: bool = True,
    ) -> str:
        """A commit on `branch` (default: the repository's default branch) that writes `changes`
        (path -> text; None deletes); the branch moves to it unless `move` is False. Returns its sha."""
        self.add_repo(repo)
        branch = branch or self.default_branches.setdefault(repo, "main")
        heads = self._branches.setdefault(repo, {})
        parent = heads.get(branch)
        files = self._flat(self._objects[parent]["tree"]) if parent else {}
        for path, content in changes.items():
            if content is None:
                files.pop(path, None)
            elif isinstance(content, Symlink):
                files[path] = (LINK_MODE, self._blob(content.target.encode()))
            else:
                data = content.encode() if isinstance(content, str) else content
                files[path] = (FILE_MODE, self._blob(data))
        sha = self._commit(self._build(files), [parent] if parent else [], message)
        if move:
            heads[branch] = sha
        return sha

    def files_at(self: FakeGitHub, repo: str, ref: str | None = None) -> dict[str, str]:
        """path -> text of every file at a commit or branch (default: the default branch's head)."""
        sha = self._resolve(repo, ref or self.default_branches.get(repo, "main"))
        if sha is None:
            return {}
        return {p: self._objects[b]["data"].decode() for p, (_, b) in self._flat(self._objects[sha]["tree"]).items()}

    def branch_head(self: FakeGitHub, repo: str, branch: str | None = None) -> str | None:
        return self._branches.get(repo, {}).get(branch or self.default_branches.get(repo, "main"))

    def _resolve(self: FakeGitHub, repo: str, ref: str) -> str | None:
        """A branch name or a commit sha -> a commit sha."""
        ref = ref.removeprefix("refs/").removeprefix("heads/")
        if ref in self._branches.get(repo, {}):
            return self._branches[repo][ref]
        obj = self._objects.get(ref)
        return ref if obj is not None and obj["type"] == "commit" else None

    # ------------------------------------------------------------ access

    def _may_reach(self: FakeGitHub, request: web.Request, repo: str) -> bool:
        inst = self._installation_of(request)
        if inst is None:
            return True
        if inst not in self.installations:  # an id no test declared: the default installation (every repo)
            inst = self.installation_id
        return self.installation_of_repo(repo) == inst

    def _installation_object(self: FakeGitHub, inst: Installation) -> dict:
        return {
            "id": inst.id,
            "account": shapes.user(inst.account, type="Organization", api=self.base_url),
            "repository_selection": "selected",
            "access_tokens_url": f"{self.base_url}/app/installations/{inst.id}/access_tokens",
            "repositories_url": f"{self.base_url}/installation/repositories",
            "html_url": f"{shapes.WEB}/organizations/{inst.account}/settings/installations/{inst.id}",
            "app_id": self.app_id,
            "app_slug": self.app_slug,
            "target_id": shapes.stable_id("org", inst.account),
            "target_type": "Organization",
            "permissions": self._app_object()["permissions"],
            "events": self._app_object()["events"],
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": None,
        }

    def _repos_of(self: FakeGitHub, inst_id: int) -> list[str]:
        return sorted(r for r in self._repos if self.installation_of_repo(r) == inst_id)

    def _repository_object(self: FakeGitHub, repo: str) -> dict:
        out = shapes.repository(repo, api=self.base_url)
        out["default_branch"] = self.default_branches.get(repo, "main")
        out.update({"has_discussions": False, "network_count": 0, "subscribers_count": 0})  # full-repository
        return out

    # ------------------------------------------------------------ routes

    def _git_routes(self: FakeGitHub, r: web.UrlDispatcher) -> None:
        repo = "/repos/{owner}/{repo}"
        r.add_get("/app/installations", self._list_installations)
        r.add_get("/installation/repositories", self._installation_repositories)
        r.add_get(repo, self._get_repository)
        r.add_get(repo + "/git/ref/{ref:.+}", self._get_ref)
        r.add_post(repo + "/git/refs", self._create_ref)
        r.add_patch(repo + "/git/refs/{ref:.+}", self._update_ref)
        r.add_get(repo + "/git/commits/{sha}", self._get_commit)
        r.add_post(repo + "/git/commits", self._create_commit)
        r.add_get(repo + "/git/trees/{sha}", self._get_tree)
        r.add_post(repo + "/git/trees", self._create_tree)
        r.add_get(repo + "/git/blobs/{sha}", self._get_blob)
        r.add_post(repo + "/git/blobs", self._create_blob)
        r.add_get(repo + "/contents/{path:.*}", self._get_contents)
        r.add_post(repo + "/pulls", self._create_pull)
        r.add_patch(repo + "/pulls/{number:\\d+}", self._update_pull)
        r.add_patch(repo + "/check-runs/{run_id:\\d+}", self._update_check_run)
        r.add_get(repo + "/actions/runs/{run_id:\\d+}", self._get_run)

    def _git_repo(self: FakeGitHub, request: web.Request) -> str:
        self._need_token(request)
        name = self._repo(request).full_name
        if not self._may_reach(request, name):
            raise self._reply(self._error(404, "Not Found"))
        return name

    @staticmethod
    def _reply(response: web.Response) -> Exception:
        from tests.fakegithub import _Reply

        return _Reply(response)

    async def _list_installations(self: FakeGitHub, request: web.Request) -> web.Response:
        self._need_jwt(request)
        return self._paginate(request, [self._installation_object(i) for _, i in sorted(self.installations.items())])

    async def _installation_repositories(self: FakeGitHub, request: web.Request) -> web.Response:
        inst = self._need_token(request)
        repos = [self._repository_object(r) for r in self._repos_of(inst)]
        page = self._paginate(request, repos)
        items = json.loads(page.body)  # type: ignore[arg-type]
        body = {"total_count": len(repos), "repository_selection": "selected", "repositories": items}
        return web.json_response(body, headers={k: v for k, v in page.headers.items() if k == "Link"})

    async def _get_repository(self: FakeGitHub, request: web.Request) -> web.Response:
        return web.json_response(self._repository_object(self._git_repo(request)))

    def _ref_object(self: FakeGitHub, repo: str, ref: str, sha: str) -> dict:
        return {
            "ref": f"refs/{ref}",
            "node_id": shapes.node_id("REF_", shapes.stable_id(repo, ref)),
            "url": f"{self.base_url}/repos/{repo}/git/refs/{ref}",
            "object": {"type": "commit", "sha": sha, "url": f"{self.base_url}/repos/{repo}/git/commits/{sha}"},
        }

    async def _get_ref(self: FakeGitHub, request: web.Request) -> web.Response:
        repo = self._git_repo(request)
        ref = request.match_info["ref"]
        branch = ref.removeprefix("heads/")
        sha = self._branches.get(repo, {}).get(branch) if ref.startswith("heads/") else None
        if sha is None:
            return self._error(404, "Not Found")
        return web.json_response(self._ref_object(repo, ref, sha))

    async def _create_ref(self: FakeGitHub, request: web.Request) -> web.Response:
        repo = self._git_repo(request)
        data = await self._json(request) or {}
        ref, sha = data.get("ref"), data.get("sha")
        if (
            not isinstance(ref, str)
            or not ref.startswith("refs/heads/")
            or self._objects.get(sha or "", {}).get("type") != "commit"
        ):
            return self._validation("Reference", "ref", "invalid")
        branch = ref.removeprefix("refs/heads/")
        if branch in self._branches.setdefault(repo, {}):
            return self._error(422, "Reference already exists")
        self._branches[repo][branch] = sha
        return web.json_response(self._ref_object(repo, f"heads/{branch}", sha), status=201)

    async def _update_ref(self: FakeGitHub, request: web.Request) -> web.Response:
        repo = self._git_repo(request)
        ref = request.match_info["ref"]
        data = await self._json(request) or {}
        sha = data.get("sha")
        branch = ref.removeprefix("heads/")
        heads = self._branches.setdefault(repo, {})
        if not ref.startswith("heads/") or branch not in heads:
            return self._error(422, "Reference does not exist")
        if self._objects.get(sha or "", {}).get("type") != "commit":
            return self._validation("Reference", "sha", "invalid")
        if not data.get("force") and not self._descends(sha, heads[branch]):
            return self._error(422, "Update is not a fast forward")
        heads[branch] = sha
        for pr in self._repos[repo].issues.values():  # an open PR from the branch follows it
            if pr.is_pull and pr.state == "open" and pr.head_ref == branch:
                pr.head_sha = pr.files_at = sha
                self._set_files(repo, pr, self._changed_files(repo, "main", sha))
        return web.json_response(self._ref_object(repo, ref, sha))

    def _descends(self: FakeGitHub, sha: str, ancestor: str) -> bool:
        todo = [sha]
        while todo:
            s = todo.pop()
            if s == ancestor:
                return True
            todo += self._objects.get(s, {}).get("parents", [])
        return False

    def _commit_object(self: FakeGitHub, repo: str, sha: str) -> dict:
        c = self._objects[sha]
        person = {"name": "organiser", "email": "organiser@example.invalid", "date": c["at"]}
        return {
            "sha": sha,
            "node_id": shapes.node_id("C_", shapes.stable_id(sha)),
            "url": f"{self.base_url}/repos/{repo}/git/commits/{sha}",
            "html_url": f"{shapes.WEB}/{repo}/commit/{sha}",
            "author": person,
            "committer": person,
            "message": c["message"],
            "tree": {"sha": c["tree"], "url": f"{self.base_url}/repos/{repo}/git/trees/{c['tree']}"},
            "parents": [
                {"sha": p, "url": f"{self.base_url}/repos/{repo}/git/commits/{p}", "html_url": f"{shapes.WEB}/{repo}/commit/{p}"}
                for p in c["parents"]
            ],
            "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None, "verified_at": None},
        }

    async def _get_commit(self: FakeGitHub, request: web.Request) -> web.Response:
        repo = self._git_repo(request)
        sha = request.match_info["sha"]
        if self._objects.get(sha, {}).get("type") != "commit":
            return self._error(404, "Not Found")
        return web.json_response(self._commit_object(repo, sha))

    async def _create_commit(self: FakeGitHub, request: web.Request) -> web.Response:
        repo = self._git_repo(request)
        data = await self._json(request) or {}
        tree, parents = data.get("tree"), data.get("parents") or []
        if not isinstance(data.get("message"), str) or self._objects.get(tree or "", {}).get("type") != "tree":
            return self._validation("Commit", "tree", "invalid")
        if any(self._objects.get(p, {}).get("type") != "commit" for p in parents):
            return self._validation("Commit", "parents", "invalid")
        sha = self._commit(tree, list(parents), data["message"])
        return web.json_response(self._commit_object(repo, sha), status=201)

    def _tree_items(self: FakeGitHub, repo: str, sha: str, recursive: bool, prefix: str = "") -> list[dict]:
        out = []
        for name, (mode, kind, obj) in sorted(self._objects[sha]["entries"].items()):
            item = {"path": prefix + name, "mode": mode, "type": kind, "sha": obj}
            if kind == "blob":
                item["size"] = len(self._objects[obj]["data"])
                item["url"] = f"{self.base_url}/repos/{repo}/git/blobs/{obj}"
            else:
                item["url"] = f"{self.base_url}/repos/{repo}/git/trees/{obj}"
            out.append(item)
            if recursive and kind == "tree":
                out += self._tree_items(repo, obj, True, f"{prefix}{name}/")
        return out

    async def _get_tree(self: FakeGitHub, request: web.Request) -> web.Response:
        repo = self._git_repo(request)
        sha = request.match_info["sha"]
        obj = self._objects.get(sha)
        if obj is not None and obj["type"] == "commit":
            sha, obj = obj["tree"], self._objects[obj["tree"]]
        if obj is None or obj["type"] != "tree":
            return self._error(404, "Not Found")
        items = self._tree_items(repo, sha, request.query.get("recursive") not in (None, "", "0", "false"))
        truncated = len(items) > MAX_TREE_ENTRIES
        body = {
            "sha": sha,
            "url": f"{self.base_url}/repos/{repo}/git/trees/{sha}",
            "tree": items[:MAX_TREE_ENTRIES],
            "truncated": truncated,
        }
        return web.json_response(body)

    async def _create_tree(self: FakeGitHub, request: web.Request) -> web.Response:
        repo = self._git_repo(request)
        data = await self._json(request) or {}
        base = data.get("base_tree")
        if base is not None and self._objects.get(base, {}).get("type") != "tree":
            return self._validation("Tree", "base_tree", "invalid")
        files = self._flat(base) if base else {}
        for item in data.get("tree") or []:
            path, mode = item.get("path"), item.get("mode", FILE_MODE)
            if not isinstance(path, str) or not path:
                return self._validation("Tree", "path")
            if "content" in item:
                files[path] = (mode, self._blob(str(item["content"]).encode()))
            elif item.get("sha") is None:
                files.pop(path, None)
            elif self._objects.get(item["sha"], {}).get("type") == "blob":
                files[path] = (mode, item["sha"])
            else:
                return self._validation("Tree", "sha", "invalid")
        sha = self._build(files)
        return web.json_response(
            {
                "sha": sha,
                "url": f"{self.base_url}/repos/{repo}/git/trees/{sha}",
                "tree": self._tree_items(repo, sha, False),
                "truncated": False,
            },
            status=201,
        )

    async def _get_blob(self: FakeGitHub, request: web.Request) -> web.Response:
        repo = self._git_repo(request)
        sha = request.match_info["sha"]
        obj = self._objects.get(sha)
        if obj is None or obj["type"] != "blob":
            return self._error(404, "Not Found")
        return web.json_response(
            {
                "sha": sha,
                "node_id": shapes.node_id("B_", shapes.stable_id(sha)),
                "url": f"{self.base_url}/repos/{repo}/git/blobs/{sha}",
                "size": len(obj["data"]),
                "content": base64.encodebytes(obj["data"]).decode(),
                "encoding": "base64",
            }
        )

    async def _create_blob(self: FakeGitHub, request: web.Request) -> web.Response:
        repo = self._git_repo(request)
        data = await self._json(request) or {}
        content, encoding = data.get("content"), data.get("encoding", "utf-8")
        if not isinstance(content, str) or encoding not in ("utf-8", "base64"):
            return self._validation("Blob", "content")
        raw = base64.b64decode(content) if encoding == "base64" else content.encode()
        sha = self._blob(raw)
        return web.json_response({"url": f"{self.base_url}/repos/{repo}/git/blobs/{sha}", "sha": sha}, status=201)

    async def _get_contents(self: FakeGitHub, request: web.Request) -> web.Response:
        repo = self._git_repo(request)
        path = request.match_info["path"].strip("/")
        commit = self._resolve(repo, request.query.get("ref") or self.default_branches.get(repo, "main"))
        if commit is None:
            return self._error(404, "No commit found for the ref")
        node: tuple[str, str, str] = (TREE_MODE, "tree", self._objects[commit]["tree"])
        for part in [p for p in path.split("/") if p]:
            if node[1] != "tree" or part not in self._objects[node[2]]["entries"]:
                return self._error(404, "Not Found")
            node = self._objects[node[2]]["entries"][part]
        mode, kind, sha = node
        if kind == "tree":
            entries = []
            for name, (m, k, s) in sorted(self._objects[sha]["entries"].items()):
                entries.append(self._content_entry(repo, f"{path}/{name}" if path else name, m, k, s))
            return web.json_response(entries)
        out = self._content_entry(repo, path, mode, kind, sha)
        if out["type"] == "file":
            out["content"] = base64.encodebytes(self._objects[sha]["data"]).decode()
            out["encoding"] = "base64"
        return web.json_response(out)

    def _content_entry(self: FakeGitHub, repo: str, path: str, mode: str, kind: str, sha: str) -> dict:
        kind_name = "dir" if kind == "tree" else ("symlink" if mode == LINK_MODE else "file")
        size = len(self._objects[sha]["data"]) if kind == "blob" else 0
        url = f"{self.base_url}/repos/{repo}/contents/{path}"
        git_url = f"{self.base_url}/repos/{repo}/git/{'trees' if kind == 'tree' else 'blobs'}/{sha}"
        html = f"{shapes.WEB}/{repo}/{'tree' if kind == 'tree' else 'blob'}/main/{path}"
        return {
            "type": kind_name,
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": sha,
            "size": size,
            "url": url,
            "git_url": git_url,
            "html_url": html,
            "download_url": None if kind == "tree" else f"https://raw.githubusercontent.com/{repo}/main/{path}",
            "_links": {"self": url, "git": git_url, "html": html},
        }

    async def _create_pull(self: FakeGitHub, request: web.Request) -> web.Response:
        repo = self._git_repo(request)
        data = await self._json(request) or {}
        title, head, base = data.get("title"), data.get("head"), data.get("base")
        if not isinstance(title, str) or not title or not isinstance(head, str) or not isinstance(base, str):
            return self._validation("PullRequest", "title")
        branch = head.partition(":")[2] or head
        sha = self._branches.get(repo, {}).get(branch)
        if sha is None or base not in self._branches.get(repo, {}):
            return self._validation("PullRequest", "head", "invalid")
        if any(i.is_pull and i.state == "open" and i.head_ref == branch for i in self._repos[repo].issues.values()):
            return self._error(422, f"A pull request already exists for {head}.")
        number = max(self._repos[repo].issues, default=0) + 1
        changed = self._changed_files(repo, base, sha)
        self.add_pull(
            repo, number, title=title, body=data.get("body") or "", user=self.author_of(request), head_sha=sha, files=changed
        )
        self._repos[repo].issues[number].head_ref = branch
        return web.json_response(self._render_pull(repo, self._repos[repo].issues[number]), status=201)

    def _changed_files(self: FakeGitHub, repo: str, base: str, head: str) -> list[str | dict]:
        """The diff entries of `head` against the branch `base` (added, modified, removed)."""
        base_files = self.files_at(repo, base)
        head_files = self.files_at(repo, head)
        return [
            {"filename": p, "status": "added" if p not in base_files else "modified"}
            for p in sorted(head_files)
            if base_files.get(p) != head_files[p]
        ] + [{"filename": p, "status": "removed"} for p in sorted(set(base_files) - set(head_files))]

    async def _update_pull(self: FakeGitHub, request: web.Request) -> web.Response:
        repo = self._git_repo(request)
        number = int(request.match_info["number"])
        pr = self._repos[repo].issues.get(number)
        if pr is None or not pr.is_pull:
            return self._error(404, "Not Found")
        data = await self._json(request) or {}
        if "title" in data:
            pr.title = str(data["title"])
        if "body" in data:
            pr.body = data["body"]
        if data.get("state") in ("open", "closed"):
            pr.state = data["state"]
        pr.updated_at = shapes.now_iso()
        return web.json_response(self._render_pull(repo, pr))

    async def _update_check_run(self: FakeGitHub, request: web.Request) -> web.Response:
        repo = self._git_repo(request)
        rid = int(request.match_info["run_id"])
        run = next((r for r in self._repos[repo].check_runs if r["id"] == rid), None)
        if run is None:
            return self._error(404, "Not Found")
        data = await self._json(request) or {}
        out = data.get("output") or {}
        annotations = out.get("annotations") or []
        if len(annotations) > 50:
            return self._validation("CheckRun", "annotations", "too_long")
        run["annotations"] = run.get("annotations", []) + annotations
        run["output"]["annotations_count"] = len(run["annotations"])
        for key in ("title", "summary", "text"):
            if key in out:
                run["output"][key] = out[key]
        if data.get("conclusion"):
            run["conclusion"] = data["conclusion"]
        return web.json_response(run)

    async def _get_run(self: FakeGitHub, request: web.Request) -> web.Response:
        repo = self._git_repo(request)
        rid = int(request.match_info["run_id"])
        run = self.runs.get(rid)
        if run is None or run["repo"] != repo:
            return self._error(404, "Not Found")
        api = f"{self.base_url}/repos/{repo}/actions/runs/{rid}"
        head = shapes.sha_for(repo, "run", rid)
        person = {"name": "organiser", "email": "organiser@example.invalid"}
        return web.json_response(
            {
                "id": rid,
                "node_id": shapes.node_id("WFR_", rid),
                "name": "hackathon-bot",
                "head_branch": "main",
                "head_sha": head,
                "path": ".github/workflows/hackathon-bot.yml",
                "run_number": rid,
                "display_title": "hackathon-bot",
                "event": "issue_comment",
                "status": run["status"],
                "conclusion": run["conclusion"],
                "workflow_id": 1,
                "url": api,
                "html_url": f"{shapes.WEB}/{repo}/actions/runs/{rid}",
                "pull_requests": [],
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z",
                "jobs_url": f"{api}/jobs",
                "logs_url": f"{api}/logs",
                "check_suite_url": f"{self.base_url}/repos/{repo}/check-suites/{rid}",
                "artifacts_url": f"{api}/artifacts",
                "cancel_url": f"{api}/cancel",
                "rerun_url": f"{api}/rerun",
                "workflow_url": f"{self.base_url}/repos/{repo}/actions/workflows/1",
                "head_commit": {
                    "id": head,
                    "tree_id": shapes.sha_for(head, "tree"),
                    "message": "m",
                    "timestamp": "2024-01-01T00:00:00Z",
                    "author": person,
                    "committer": person,
                },
                "repository": shapes.repository(repo, api=self.base_url),
                "head_repository": shapes.repository(repo, api=self.base_url),
            }
        )
