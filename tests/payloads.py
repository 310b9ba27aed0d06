"""GitHub object shapes and webhook deliveries for tests.

This module owns what GitHub's JSON looks like on the tests' side of the wire:

* object builders (`user`, `repository`, `issue`, `comment`, `pull`, `label`, `diff_entry`)
  whose keys follow the schemas of GitHub's OpenAPI description (``@octokit/openapi``:
  simple-user, repository, issue, issue-comment, pull-request, label, diff-entry). The fake
  GitHub server (`tests.fakegithub`) serves these same objects, so a webhook and the API
  agree about ids and logins;
* webhook deliveries (`issue_comment`, `pull_request`) with the keys of GitHub's official
  examples (``@octokit/webhooks-examples``), plus `sign` / `headers` / `delivery` to post
  them the way GitHub does (``X-Hub-Signature-256`` HMAC-SHA256).

Ids are derived from names (CRC32), so the same login or repository always has the same id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
import zlib
from datetime import UTC, datetime
from typing import Any

WEB = "https://github.com"
API = "https://api.github.com"


def now_iso() -> str:
    """The current UTC time the way GitHub writes it: ``2024-05-01T12:00:00Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stable_id(*parts: object) -> int:
    """A positive id derived from `parts` (same input, same id)."""
    return zlib.crc32("/".join(map(str, parts)).encode()) + 1


def node_id(kind: str, ident: int) -> str:
    return base64.b64encode(f"{kind}{ident}".encode()).decode()


def sha_for(*parts: object) -> str:
    """A 40-hex commit sha derived from `parts`."""
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


# ---------------------------------------------------------------- objects (OpenAPI shapes)


def user(login: str, *, type: str = "User", api: str = API) -> dict[str, Any]:
    """A simple-user. Bots (``name[bot]``) get an apps/ html_url like GitHub gives them."""
    uid = stable_id("user", login)
    users = f"{api}/users/{login}"
    html = f"{WEB}/apps/{login.removesuffix('[bot]')}" if type == "Bot" else f"{WEB}/{login}"
    return {
        "login": login,
        "id": uid,
        "node_id": node_id("U_", uid),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "gravatar_id": "",
        "url": users,
        "html_url": html,
        "followers_url": f"{users}/followers",
        "following_url": f"{users}/following{{/other_user}}",
        "gists_url": f"{users}/gists{{/gist_id}}",
        "starred_url": f"{users}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{users}/subscriptions",
        "organizations_url": f"{users}/orgs",
        "repos_url": f"{users}/repos",
        "events_url": f"{users}/events{{/privacy}}",
        "received_events_url": f"{users}/received_events",
        "type": type,
        "user_view_type": "public",
        "site_admin": False,
    }


_user = user  # the webhook builders take a `user` login argument that shadows the builder


def repository(full_name: str, *, api: str = API) -> dict[str, Any]:
    """A repository (the full shape GitHub sends in webhooks and in a PR's head/base)."""
    owner, name = full_name.split("/", 1)
    rid = stable_id("repo", full_name)
    r = f"{api}/repos/{full_name}"
    urls = {
        "forks_url": f"{r}/forks",
        "keys_url": f"{r}/keys{{/key_id}}",
        "collaborators_url": f"{r}/collaborators{{/collaborator}}",
        "teams_url": f"{r}/teams",
        "hooks_url": f"{r}/hooks",
        "issue_events_url": f"{r}/issues/events{{/number}}",
        "events_url": f"{r}/events",
        "assignees_url": f"{r}/assignees{{/user}}",
        "branches_url": f"{r}/branches{{/branch}}",
        "tags_url": f"{r}/tags",
        "blobs_url": f"{r}/git/blobs{{/sha}}",
        "git_tags_url": f"{r}/git/tags{{/sha}}",
        "git_refs_url": f"{r}/git/refs{{/sha}}",
        "trees_url": f"{r}/git/trees{{/sha}}",
        "statuses_url": f"{r}/statuses/{{sha}}",
        "languages_url": f"{r}/languages",
        "stargazers_url": f"{r}/stargazers",
        "contributors_url": f"{r}/contributors",
        "subscribers_url": f"{r}/subscribers",
        "subscription_url": f"{r}/subscription",
        "commits_url": f"{r}/commits{{/sha}}",
        "git_commits_url": f"{r}/git/commits{{/sha}}",
        "comments_url": f"{r}/comments{{/number}}",
        "issue_comment_url": f"{r}/issues/comments{{/number}}",
        "contents_url": f"{r}/contents/{{+path}}",
        "compare_url": f"{r}/compare/{{base}}...{{head}}",
        "merges_url": f"{r}/merges",
        "archive_url": f"{r}/{{archive_format}}{{/ref}}",
        "downloads_url": f"{r}/downloads",
        "issues_url": f"{r}/issues{{/number}}",
        "pulls_url": f"{r}/pulls{{/number}}",
        "milestones_url": f"{r}/milestones{{/number}}",
        "notifications_url": f"{r}/notifications{{?since,all,participating}}",
        "labels_url": f"{r}/labels{{/name}}",
        "releases_url": f"{r}/releases{{/id}}",
        "deployments_url": f"{r}/deployments",
    }
    return {
        "id": rid,
        "node_id": node_id("R_", rid),
        "name": name,
        "full_name": full_name,
        "private": False,
        "owner": user(owner, type="Organization", api=api),
        "html_url": f"{WEB}/{full_name}",
        "description": None,
        "fork": False,
        "url": r,
        **urls,
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "pushed_at": "2024-01-01T00:00:00Z",
        "git_url": f"git://github.com/{full_name}.git",
        "ssh_url": f"git@github.com:{full_name}.git",
        "clone_url": f"{WEB}/{full_name}.git",
        "svn_url": f"{WEB}/{full_name}",
        "mirror_url": None,
        "homepage": None,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "watchers": 0,
        "language": None,
        "has_issues": True,
        "has_projects": True,
        "has_downloads": True,
        "has_wiki": True,
        "has_pages": False,
        "forks_count": 0,
        "forks": 0,
        "archived": False,
        "disabled": False,
        "open_issues_count": 0,
        "open_issues": 0,
        "license": None,
        "default_branch": "main",
        "is_template": False,
        "topics": [],
        "visibility": "public",
        "web_commit_signoff_required": False,
        "allow_squash_merge": True,
        "allow_merge_commit": True,
        "allow_rebase_merge": True,
        "delete_branch_on_merge": False,
        "custom_properties": {},
    }


def label(repo: str, name: str, *, color: str = "ededed", description: str | None = None, api: str = API) -> dict[str, Any]:
    lid = stable_id("label", repo, name)
    return {
        "id": lid,
        "node_id": node_id("LA_", lid),
        "url": f"{api}/repos/{repo}/labels/{name}",
        "name": name,
        "description": description,
        "color": color,
        "default": False,
    }


def _reactions(url: str) -> dict[str, Any]:
    return {
        "url": f"{url}/reactions",
        "total_count": 0,
        "+1": 0,
        "-1": 0,
        "laugh": 0,
        "hooray": 0,
        "confused": 0,
        "heart": 0,
        "rocket": 0,
        "eyes": 0,
    }


def issue(
    repo: str,
    number: int,
    *,
    title: str = "",
    body: str | None = "",
    user_login: str = "organiser",
    state: str = "open",
    labels: list[dict] | None = None,
    assignees: list[str] = (),
    comments: int = 0,
    is_pull: bool = False,
    created_at: str | None = None,
    updated_at: str | None = None,
    closed_at: str | None = None,
    merged_at: str | None = None,
    api: str = API,
) -> dict[str, Any]:
    """An issue (a pull request is also an issue: it then carries a ``pull_request`` key)."""
    iid = stable_id("issue", repo, number)
    url = f"{api}/repos/{repo}/issues/{number}"
    created = created_at or now_iso()
    people = [user(a, api=api) for a in assignees]
    out: dict[str, Any] = {
        "url": url,
        "repository_url": f"{api}/repos/{repo}",
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": f"{WEB}/{repo}/{'pull' if is_pull else 'issues'}/{number}",
        "id": iid,
        "node_id": node_id("I_", iid),
        "number": number,
        "title": title,
        "user": user(user_login, api=api),
        "labels": list(labels or []),
        "state": state,
        "state_reason": None if state == "open" else "completed",
        "locked": False,
        "assignee": people[0] if people else None,
        "assignees": people,
        "milestone": None,
        "comments": comments,
        "created_at": created,
        "updated_at": updated_at or created,
        "closed_at": closed_at,
        "author_association": "NONE",
        "active_lock_reason": None,
        "body": body,
        "reactions": _reactions(url),
        "timeline_url": f"{url}/timeline",
        "performed_via_github_app": None,
        "draft": False,
    }
    if is_pull:
        out["pull_request"] = {
            "url": f"{api}/repos/{repo}/pulls/{number}",
            "html_url": f"{WEB}/{repo}/pull/{number}",
            "diff_url": f"{WEB}/{repo}/pull/{number}.diff",
            "patch_url": f"{WEB}/{repo}/pull/{number}.patch",
            "merged_at": merged_at,
        }
    return out


def comment(
    repo: str,
    issue_number: int,
    comment_id: int,
    body: str,
    user_login: str,
    *,
    user_type: str = "User",
    app: dict | None = None,
    created_at: str | None = None,
    updated_at: str | None = None,
    is_pull: bool = False,
    api: str = API,
) -> dict[str, Any]:
    """An issue-comment (comments on a pull request's conversation are issue comments too; their
    html_url says /pull/)."""
    url = f"{api}/repos/{repo}/issues/comments/{comment_id}"
    created = created_at or now_iso()
    return {
        "url": url,
        "html_url": f"{WEB}/{repo}/{'pull' if is_pull else 'issues'}/{issue_number}#issuecomment-{comment_id}",
        "issue_url": f"{api}/repos/{repo}/issues/{issue_number}",
        "id": comment_id,
        "node_id": node_id("IC_", comment_id),
        "user": user(user_login, type=user_type, api=api),
        "created_at": created,
        "updated_at": updated_at or created,
        "author_association": "NONE",
        "body": body,
        "reactions": _reactions(url),
        "performed_via_github_app": app,
    }


def _branch(repo: str, ref: str, sha: str, owner_login: str, api: str) -> dict[str, Any]:
    return {
        "label": f"{owner_login}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": user(owner_login, api=api),
        "repo": repository(repo, api=api),
    }


def pull(
    repo: str,
    number: int,
    *,
    title: str,
    body: str | None = "",
    user_login: str,
    head_sha: str | None = None,
    head_ref: str | None = None,
    base_ref: str = "main",
    state: str = "open",
    merged: bool = False,
    labels: list[dict] | None = None,
    changed_files: int = 0,
    additions: int = 0,
    deletions: int = 0,
    created_at: str | None = None,
    updated_at: str | None = None,
    closed_at: str | None = None,
    merged_at: str | None = None,
    merged_by: str | None = None,
    api: str = API,
) -> dict[str, Any]:
    """A pull-request. `state` is GitHub's ("open"/"closed"); merged PRs are closed + merged."""
    pid = stable_id("pull", repo, number)
    url = f"{api}/repos/{repo}/pulls/{number}"
    issue_url = f"{api}/repos/{repo}/issues/{number}"
    sha = head_sha or sha_for(repo, number)
    created = created_at or now_iso()
    if merged:
        state = "closed"
        closed_at = closed_at or now_iso()
        merged_at = merged_at or closed_at
    elif state == "closed":
        closed_at = closed_at or now_iso()
    return {
        "url": url,
        "id": pid,
        "node_id": node_id("PR_", pid),
        "html_url": f"{WEB}/{repo}/pull/{number}",
        "diff_url": f"{WEB}/{repo}/pull/{number}.diff",
        "patch_url": f"{WEB}/{repo}/pull/{number}.patch",
        "issue_url": issue_url,
        "number": number,
        "state": state,
        "locked": False,
        "title": title,
        "user": user(user_login, api=api),
        "body": body,
        "created_at": created,
        "updated_at": updated_at or created,
        "closed_at": closed_at,
        "merged_at": merged_at,
        "merge_commit_sha": sha_for(repo, number, "merge") if merged else None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "labels": list(labels or []),
        "milestone": None,
        "draft": False,
        "commits_url": f"{url}/commits",
        "review_comments_url": f"{url}/comments",
        "review_comment_url": f"{api}/repos/{repo}/pulls/comments{{/number}}",
        "comments_url": f"{issue_url}/comments",
        "statuses_url": f"{api}/repos/{repo}/statuses/{sha}",
        "head": _branch(repo, head_ref or f"task-{number}", sha, user_login, api),
        "base": _branch(repo, base_ref, sha_for(repo, base_ref), repo.split("/")[0], api),
        "_links": {
            "self": {"href": url},
            "html": {"href": f"{WEB}/{repo}/pull/{number}"},
            "issue": {"href": issue_url},
            "comments": {"href": f"{issue_url}/comments"},
            "review_comments": {"href": f"{url}/comments"},
            "review_comment": {"href": f"{api}/repos/{repo}/pulls/comments{{/number}}"},
            "commits": {"href": f"{url}/commits"},
            "statuses": {"href": f"{api}/repos/{repo}/statuses/{sha}"},
        },
        "author_association": "CONTRIBUTOR",
        "auto_merge": None,
        "active_lock_reason": None,
        "merged": merged,
        "mergeable": None if state == "closed" else True,
        "rebaseable": None if state == "closed" else True,
        "mergeable_state": "unknown" if state == "closed" else "clean",
        "merged_by": user(merged_by or repo.split("/")[0], api=api) if merged else None,
        "comments": 0,
        "review_comments": 0,
        "maintainer_can_modify": False,
        "commits": 1,
        "additions": additions,
        "deletions": deletions,
        "changed_files": changed_files,
    }


def diff_entry(
    repo: str,
    head_sha: str,
    filename: str,
    *,
    status: str = "modified",
    additions: int = 1,
    deletions: int = 0,
    previous_filename: str | None = None,
    api: str = API,
) -> dict[str, Any]:
    """A diff-entry (one changed file of a pull request)."""
    out = {
        "sha": sha_for(repo, head_sha, filename),
        "filename": filename,
        "status": status,
        "additions": additions,
        "deletions": deletions,
        "changes": additions + deletions,
        "blob_url": f"{WEB}/{repo}/blob/{head_sha}/{filename}",
        "raw_url": f"{WEB}/{repo}/raw/{head_sha}/{filename}",
        "contents_url": f"{api}/repos/{repo}/contents/{filename}?ref={head_sha}",
        "patch": "@@ -0,0 +1 @@\n+x",
    }
    if previous_filename is not None:
        out["previous_filename"] = previous_filename
    return out


# ---------------------------------------------------------------- webhook deliveries


def _installation(installation_id: int) -> dict[str, Any]:
    return {"id": installation_id, "node_id": node_id("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u", installation_id)}


def issue_comment(
    action: str,
    *,
    repo: str,
    issue_number: int,
    comment_id: int,
    body: str,
    user: str,
    installation_id: int = 1,
    is_pull: bool = False,
    user_type: str = "User",
    changes: dict | None = None,
    issue_title: str = "",
    issue_body: str = "",
    issue_user: str = "organiser",
    issue_state: str = "open",
) -> dict[str, Any]:
    """An ``issue_comment`` delivery (created / edited / deleted).

    `user` wrote the comment and is the sender. An ``edited`` delivery carries ``changes``
    (``{"body": {"from": old}}``); pass it to say what the comment said before.
    """
    payload: dict[str, Any] = {"action": action}
    if action == "edited":
        payload["changes"] = changes if changes is not None else {"body": {"from": ""}}
    elif changes is not None:
        payload["changes"] = changes
    payload.update(
        {
            "issue": issue(
                repo, issue_number, title=issue_title, body=issue_body, user_login=issue_user, state=issue_state, is_pull=is_pull
            ),
            "comment": comment(repo, issue_number, comment_id, body, user, user_type=user_type),
            "repository": repository(repo),
            "sender": _user(user, type=user_type),
            "installation": _installation(installation_id),
        }
    )
    return payload


def pull_request(
    action: str,
    *,
    repo: str,
    number: int,
    title: str,
    body: str = "",
    user: str,
    installation_id: int = 1,
    merged: bool = False,
    head_sha: str | None = None,
    state: str | None = None,
    changes: dict | None = None,
    before: str | None = None,
    sender: str | None = None,
    changed_files: int = 0,
) -> dict[str, Any]:
    """A ``pull_request`` delivery (opened / synchronize / edited / closed / reopened ...).

    `state` defaults to "closed" for ``closed`` and "open" otherwise; ``merged=True`` implies
    closed. ``synchronize`` carries ``before``/``after`` shas; ``edited`` carries ``changes``.
    """
    if state is None:
        state = "closed" if action == "closed" or merged else "open"
    sha = head_sha or sha_for(repo, number)
    payload: dict[str, Any] = {"action": action, "number": number}
    if action == "edited":
        payload["changes"] = changes if changes is not None else {}
    elif changes is not None:
        payload["changes"] = changes
    payload["pull_request"] = pull(
        repo,
        number,
        title=title,
        body=body,
        user_login=user,
        head_sha=sha,
        state=state,
        merged=merged,
        changed_files=changed_files,
    )
    if action == "synchronize":
        payload["before"] = before or sha_for(repo, number, "before", sha)
        payload["after"] = sha
    payload.update(
        {
            "repository": repository(repo),
            "installation": _installation(installation_id),
            "sender": _user(sender or user),
        }
    )
    return payload


def push(
    *,
    repo: str,
    before: str,
    after: str,
    changed: dict[str, str] | None = None,
    ref: str = "refs/heads/main",
    default_branch: str = "main",
    installation_id: int = 1,
    pusher: str = "organiser",
) -> dict[str, Any]:
    """A ``push`` delivery of one commit `after` on top of `before`. `changed`: path -> added |
    modified | removed (the commit's lists)."""
    lists: dict[str, list[str]] = {"added": [], "modified": [], "removed": []}
    for path, how in (changed or {}).items():
        lists[how].append(path)
    person = {"name": pusher, "email": f"{pusher}@example.invalid", "username": pusher}
    commit = {
        "id": after,
        "tree_id": sha_for(repo, after, "tree"),
        "distinct": True,
        "message": "change campaign rules",
        "timestamp": now_iso(),
        "url": f"{WEB}/{repo}/commit/{after}",
        "author": person,
        "committer": person,
        **lists,
    }
    repository_obj = repository(repo)
    repository_obj["default_branch"] = default_branch
    repository_obj["master_branch"] = default_branch
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "created": False,
        "deleted": False,
        "forced": False,
        "base_ref": None,
        "compare": f"{WEB}/{repo}/compare/{before[:12]}...{after[:12]}",
        "commits": [commit],
        "head_commit": commit,
        "repository": repository_obj,
        "pusher": {"name": pusher, "email": f"{pusher}@example.invalid"},
        "sender": _user(pusher),
        "installation": _installation(installation_id),
    }


def _repo_ref(full_name: str) -> dict[str, Any]:
    rid = stable_id("repo", full_name)
    return {"id": rid, "node_id": node_id("R_", rid), "name": full_name.split("/")[1], "full_name": full_name, "private": False}


def installation_event(action: str, *, installation_id: int, account: str, repos: list[str]) -> dict[str, Any]:
    """An ``installation`` delivery (created / deleted / suspend / unsuspend / new_permissions_accepted)."""
    return {
        "action": action,
        "installation": {
            **_installation(installation_id),
            "account": _user(account, type="Organization"),
            "repository_selection": "selected",
            "app_id": 4242,
            "app_slug": "hackathon-bot",
            "target_type": "Organization",
        },
        "repositories": [_repo_ref(r) for r in repos],
        "requester": None,
        "sender": _user("organiser"),
    }


def installation_repositories(
    action: str, *, installation_id: int, account: str, added: list[str] = (), removed: list[str] = ()
) -> dict[str, Any]:
    """An ``installation_repositories`` delivery (added / removed)."""
    return {
        "action": action,
        "installation": {**_installation(installation_id), "account": _user(account, type="Organization")},
        "repository_selection": "selected",
        "repositories_added": [_repo_ref(r) for r in added],
        "repositories_removed": [_repo_ref(r) for r in removed],
        "requester": None,
        "sender": _user("organiser"),
    }


def encode(payload: dict[str, Any]) -> bytes:
    """The body GitHub would send for `payload`."""
    return json.dumps(payload, ensure_ascii=False).encode()


def sign(body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature-256`` value for `body`: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers(event: str, body: bytes, secret: str, delivery: str | None = None) -> dict[str, str]:
    """The headers of a webhook delivery (a fresh delivery GUID unless one is given)."""
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, secret),
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/test",
        "X-GitHub-Hook-ID": "1",
        "X-GitHub-Hook-Installation-Target-Type": "integration",
    }


def delivery(event: str, payload: dict[str, Any], secret: str, delivery_id: str | None = None) -> tuple[bytes, dict[str, str]]:
    """(body, headers) ready to POST to the bot's webhook endpoint."""
    body = encode(payload)
    return body, headers(event, body, secret, delivery_id)
