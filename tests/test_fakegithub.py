"""The fake GitHub server and the webhook builders behave like GitHub where the bot can tell:
auth, status codes, error bodies, pagination, response shapes, faults; signed deliveries.

Shapes are checked against the ``required`` lists of GitHub's OpenAPI schemas (listed here).
``OCTOKIT_OPENAPI`` names ``api.github.com.json`` from ``npm pack @octokit/openapi`` (`source
.ci/specs.sh` fetches it; CI always does, so there the check never skips): the responses are also
checked recursively against the full description.
"""

from __future__ import annotations

import json
import os
import time

import aiohttp
import jwt
import pytest
from gidgethub import ValidationFailure, sansio
from gidgethub.apps import get_jwt

from tests import payloads
from tests.fakegithub import FakeGitHub, generate_private_key_pem

KEY = generate_private_key_pem()
REPO = "org/proj"

# required properties, per GitHub's OpenAPI description (api.github.com)
REQUIRED = {
    "simple-user": {
        "avatar_url",
        "events_url",
        "followers_url",
        "following_url",
        "gists_url",
        "gravatar_id",
        "html_url",
        "id",
        "node_id",
        "login",
        "organizations_url",
        "received_events_url",
        "repos_url",
        "site_admin",
        "starred_url",
        "subscriptions_url",
        "type",
        "url",
    },
    "issue": {
        "assignee",
        "closed_at",
        "comments",
        "comments_url",
        "events_url",
        "html_url",
        "id",
        "node_id",
        "labels",
        "labels_url",
        "milestone",
        "number",
        "repository_url",
        "state",
        "locked",
        "title",
        "url",
        "user",
        "created_at",
        "updated_at",
    },
    "issue-comment": {"id", "node_id", "html_url", "issue_url", "user", "url", "created_at", "updated_at"},
    "pull-request": {
        "_links",
        "assignee",
        "labels",
        "base",
        "body",
        "closed_at",
        "comments_url",
        "commits_url",
        "created_at",
        "diff_url",
        "head",
        "html_url",
        "id",
        "node_id",
        "issue_url",
        "merge_commit_sha",
        "merged_at",
        "milestone",
        "number",
        "patch_url",
        "review_comment_url",
        "review_comments_url",
        "statuses_url",
        "state",
        "locked",
        "title",
        "updated_at",
        "url",
        "user",
        "author_association",
        "auto_merge",
        "additions",
        "changed_files",
        "comments",
        "commits",
        "deletions",
        "mergeable",
        "mergeable_state",
        "merged",
        "maintainer_can_modify",
        "merged_by",
        "review_comments",
    },
    "diff-entry": {"additions", "blob_url", "changes", "contents_url", "deletions", "filename", "raw_url", "sha", "status"},
    "label": {"id", "node_id", "url", "name", "description", "color", "default"},
    "check-run": {
        "id",
        "node_id",
        "head_sha",
        "name",
        "url",
        "html_url",
        "details_url",
        "status",
        "conclusion",
        "started_at",
        "completed_at",
        "external_id",
        "check_suite",
        "output",
        "app",
        "pull_requests",
    },
    "installation-token": {"token", "expires_at"},
    "integration": {
        "id",
        "node_id",
        "owner",
        "name",
        "description",
        "external_url",
        "html_url",
        "created_at",
        "updated_at",
        "permissions",
        "events",
    },
    "repository-collaborator-permission": {"permission", "role_name", "user"},
    "basic-error": {"message", "documentation_url"},
}


def missing(schema: str, obj: dict) -> set[str]:
    return REQUIRED[schema] - set(obj)


@pytest.fixture
async def fake():
    f = FakeGitHub(private_key_pem=KEY)
    await f.start()
    f.add_issue(REPO, 1, title="Tracker", body="intro")
    yield f
    await f.stop()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as s:
        yield s


def app_jwt(fake: FakeGitHub, key: str = KEY, **claims) -> str:
    now = int(time.time())
    payload = {"iat": now - 60, "exp": now + 540, "iss": str(fake.app_id), **claims}
    return jwt.encode(payload, key, algorithm="RS256")


async def token(fake, http, installation_id: int = 1) -> dict:
    async with http.post(
        f"{fake.base_url}/app/installations/{installation_id}/access_tokens",
        headers={"Authorization": f"Bearer {get_jwt(app_id=str(fake.app_id), private_key=KEY)}"},
    ) as r:
        assert r.status == 201
        return await r.json()


@pytest.fixture
async def gh(fake, http):
    """A tiny client: gh(method, path, json=None, token=...) -> (status, headers, body)."""
    tok = (await token(fake, http))["token"]

    async def call(method: str, path: str, body=None, *, auth: str | None = "default"):
        headers = {}
        if auth == "default":
            headers["Authorization"] = f"token {tok}"
        elif auth is not None:
            headers["Authorization"] = auth
        url = path if path.startswith("http") else fake.base_url + path
        async with http.request(method, url, json=body, headers=headers) as r:
            data = await r.json() if r.content_type == "application/json" else None
            return r.status, r.headers, data

    return call


# ------------------------------------------------------------------ App auth


async def test_app_and_installation_token(fake, http):
    async with http.get(f"{fake.base_url}/app", headers={"Authorization": f"Bearer {app_jwt(fake)}"}) as r:
        app = await r.json()
    assert r.status == 200 and not missing("integration", app)
    assert app["slug"] == fake.app_slug and app["id"] == fake.app_id
    tok = await token(fake, http, 3)
    assert not missing("installation-token", tok)
    assert tok["token"].startswith("ghs_")
    assert payloads_expiry(tok["expires_at"]) > time.time() + 3000


def payloads_expiry(s: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


@pytest.mark.parametrize("bad", ["forged key", "wrong iss", "expired", "exp too far", "not a jwt", "token scheme"])
async def test_access_token_needs_a_valid_app_jwt(fake, http, bad):
    now = int(time.time())
    auth = {
        "forged key": f"Bearer {app_jwt(fake, key=generate_private_key_pem())}",
        "wrong iss": f"Bearer {app_jwt(fake, iss='999')}",
        "expired": f"Bearer {app_jwt(fake, iat=now - 1200, exp=now - 600)}",
        "exp too far": f"Bearer {app_jwt(fake, exp=now + 3600)}",
        "not a jwt": "Bearer abc.def.ghi",
        "token scheme": f"token {app_jwt(fake)}",
    }[bad]
    async with http.post(f"{fake.base_url}/app/installations/1/access_tokens", headers={"Authorization": auth}) as r:
        body = await r.json()
    assert r.status == 401 and not missing("basic-error", body)


async def test_repo_routes_need_a_live_installation_token(fake, gh):
    assert (await gh("GET", f"/repos/{REPO}/issues/1", auth=None))[0] == 401
    assert (await gh("GET", f"/repos/{REPO}/issues/1", auth="token ghs_made_up"))[0] == 401
    assert (await gh("GET", f"/repos/{REPO}/issues/1", auth=f"Bearer {app_jwt(fake)}"))[0] == 401
    status, _, body = await gh("GET", f"/repos/{REPO}/issues/1")
    assert status == 200 and body["title"] == "Tracker"
    fake.revoke_tokens()
    status, _, body = await gh("GET", f"/repos/{REPO}/issues/1")
    assert status == 401 and body["message"] == "Bad credentials"


async def test_unknown_routes_and_objects_are_404_with_githubs_error_body(gh):
    for method, path in [
        ("GET", "/nope"),
        ("GET", f"/repos/{REPO}/issues/77"),
        ("GET", "/repos/no/repo/issues/1"),
        ("POST", f"/repos/{REPO}/pulls/1"),
        ("GET", f"/repos/{REPO}/pulls/1"),
    ]:
        status, _, body = await gh(method, path)
        assert status == 404, (method, path)
        assert body["message"] == "Not Found" and not missing("basic-error", body)


# ------------------------------------------------------------------ issues, comments, labels


async def test_comments_by_the_app_are_authored_by_its_bot(fake, gh):
    fake.add_comment(REPO, 1, "/claim 3", user="alice")
    status, headers, made = await gh("POST", f"/repos/{REPO}/issues/1/comments", {"body": "Recorded."})
    assert status == 201 and not missing("issue-comment", made)
    assert made["user"]["login"] == fake.bot_login and made["user"]["type"] == "Bot"
    assert made["performed_via_github_app"]["slug"] == fake.app_slug
    assert headers["Location"] == made["url"]
    status, _, got = await gh("PATCH", f"/repos/{REPO}/issues/comments/{made['id']}", {"body": "Edited."})
    assert status == 200 and got["body"] == "Edited."
    assert [(c["user"]["login"], c["body"]) for c in fake.comments(REPO, 1)] == [
        ("alice", "/claim 3"),
        (fake.bot_login, "Edited."),
    ]
    assert fake.issue(REPO, 1)["comments"] == 2
    assert (await gh("POST", f"/repos/{REPO}/issues/1/comments", {"text": "x"}))[0] == 422
    assert (await gh("DELETE", f"/repos/{REPO}/issues/comments/{made['id']}"))[0] == 204
    assert (await gh("GET", f"/repos/{REPO}/issues/comments/{made['id']}"))[0] == 404


async def test_lists_paginate_with_githubs_link_header(fake, gh):
    for i in range(45):
        fake.add_comment(REPO, 1, f"c{i}", user="alice")
    status, headers, first = await gh("GET", f"/repos/{REPO}/issues/1/comments")
    assert status == 200 and len(first) == 30  # GitHub's default page size
    links = {rel: url for url, rel in _links(headers["Link"])}
    assert set(links) == {"next", "last"}
    _, headers2, second = await gh("GET", links["next"])
    assert [c["body"] for c in first + second] == [f"c{i}" for i in range(45)]
    assert {rel for _, rel in _links(headers2["Link"])} == {"prev", "first"}
    _, headers, big = await gh("GET", f"/repos/{REPO}/issues/1/comments?per_page=500")
    assert len(big) == 45 and "Link" not in headers  # per_page is capped at 100


def _links(header: str) -> list[tuple[str, str]]:
    out = []
    for part in header.split(","):
        url, rel = part.split(";")
        out.append((url.strip()[1:-1], rel.strip().removeprefix('rel="').removesuffix('"')))
    return out


async def test_labels_set_add_remove(fake, gh):
    status, _, labels = await gh("PUT", f"/repos/{REPO}/issues/1/labels", {"labels": ["a", "b", "a"]})
    assert status == 200 and [lab["name"] for lab in labels] == ["a", "b"]
    assert not missing("label", labels[0])
    _, _, labels = await gh("POST", f"/repos/{REPO}/issues/1/labels", ["c"])
    assert [lab["name"] for lab in labels] == ["a", "b", "c"]
    _, _, labels = await gh("DELETE", f"/repos/{REPO}/issues/1/labels/b")
    assert [lab["name"] for lab in labels] == ["a", "c"]
    status, _, body = await gh("DELETE", f"/repos/{REPO}/issues/1/labels/zzz")
    assert status == 404 and body["message"] == "Label does not exist"
    _, _, listed = await gh("GET", f"/repos/{REPO}/issues/1/labels")
    assert [lab["name"] for lab in listed] == fake.labels(REPO, 1) == ["a", "c"]
    await gh("PUT", f"/repos/{REPO}/issues/1/labels", {"labels": []})
    assert fake.labels(REPO, 1) == []


async def test_issue_edit_and_assignees(fake, gh):
    status, _, issue = await gh("PATCH", f"/repos/{REPO}/issues/1", {"body": "board", "state": "closed"})
    assert status == 200 and not missing("issue", issue)
    assert issue["body"] == "board" and issue["state"] == "closed" and issue["closed_at"]
    assert (await gh("PATCH", f"/repos/{REPO}/issues/1", {"state": "gone"}))[0] == 422
    fake.set_permission(REPO, "mia", "write")
    fake.add_comment(REPO, 1, "me", user="carl")
    status, _, issue = await gh("POST", f"/repos/{REPO}/issues/1/assignees", {"assignees": ["mia", "carl", "eve"]})
    assert status == 201 and [a["login"] for a in issue["assignees"]] == ["mia", "carl"]


# ------------------------------------------------------------------ pulls, permissions, checks


async def test_pull_and_its_files(fake, gh):
    fake.add_pull(
        REPO,
        2,
        title="[T3] impl",
        body="closes",
        user="bob",
        files=["src/a.py", {"filename": "tests/test_a.py", "status": "added", "additions": 9}],
    )
    status, _, pr = await gh("GET", f"/repos/{REPO}/pulls/2")
    assert status == 200 and not missing("pull-request", pr)
    assert not missing("simple-user", pr["user"])
    assert (pr["state"], pr["merged"], pr["changed_files"], pr["additions"]) == ("open", False, 2, 10)
    _, _, files = await gh("GET", f"/repos/{REPO}/pulls/2/files")
    assert [f["filename"] for f in files] == ["src/a.py", "tests/test_a.py"]
    assert all(not missing("diff-entry", f) for f in files)
    assert files[1]["status"] == "added"
    _, _, as_issue = await gh("GET", f"/repos/{REPO}/issues/2")
    assert as_issue["pull_request"]["url"].endswith("/pulls/2")
    fake.update_pull(REPO, 2, merged=True, head_sha="b" * 40)
    _, _, pr = await gh("GET", f"/repos/{REPO}/pulls/2")
    assert (pr["state"], pr["merged"], pr["head"]["sha"]) == ("closed", True, "b" * 40)
    assert pr["merged_at"] and pr["merge_commit_sha"]


async def test_pull_files_stop_at_3000(fake, gh):
    fake.add_pull(REPO, 3, title="huge", user="bob", files=[f"f{i}" for i in range(3050)])
    _, headers, _ = await gh("GET", f"/repos/{REPO}/pulls/3/files?per_page=100")
    last = dict((rel, url) for url, rel in _links(headers["Link"]))["last"]
    assert last.endswith("page=30")
    _, headers, page = await gh("GET", last)
    assert len(page) == 100 and page[-1]["filename"] == "f2999"
    assert {rel for _, rel in _links(headers["Link"])} == {"prev", "first"}


@pytest.mark.parametrize(
    "role,permission",
    [("admin", "admin"), ("maintain", "write"), ("write", "write"), ("triage", "read"), ("read", "read"), ("none", "none")],
)
async def test_collaborator_permission_has_githubs_legacy_field_and_role(fake, gh, role, permission):
    fake.set_permission(REPO, "u", role)
    status, _, body = await gh("GET", f"/repos/{REPO}/collaborators/u/permission")
    assert status == 200 and not missing("repository-collaborator-permission", body)
    assert (body["permission"], body["role_name"], body["user"]["login"]) == (permission, role, "u")


async def test_check_runs(fake, gh):
    fake.add_pull(REPO, 4, title="x", user="bob", head_sha="c" * 40)
    status, _, run = await gh(
        "POST",
        f"/repos/{REPO}/check-runs",
        {
            "name": "hackathon",
            "head_sha": "c" * 40,
            "status": "completed",
            "conclusion": "success",
            "output": {"title": "ok", "summary": "all good"},
        },
    )
    assert status == 201 and not missing("check-run", run)
    assert run["app"]["slug"] == fake.app_slug and [p["number"] for p in run["pull_requests"]] == [4]
    assert fake.check_runs(REPO)[0]["output"]["summary"] == "all good"
    status, _, err = await gh("POST", f"/repos/{REPO}/check-runs", {"name": "hackathon"})
    assert status == 422 and err["errors"][0]["field"] == "head_sha"


# ------------------------------------------------------------------ recording, faults, latency


async def test_requests_are_recorded_and_counted(fake, gh):
    await gh("POST", f"/repos/{REPO}/issues/1/comments", {"body": "a"})
    await gh("GET", f"/repos/{REPO}/issues/1")
    rec = fake.requests[-2]
    assert (rec.method, rec.path, rec.json, rec.status, rec.installation_id) == (
        "POST",
        f"/repos/{REPO}/issues/1/comments",
        {"body": "a"},
        201,
        1,
    )
    assert fake.count("POST") == 2  # the token mint and the comment
    assert fake.count("GET", r"/issues/1$") == 1
    assert fake.count(path_re="/repos/") == 2


async def test_fail_next_answers_the_given_status_then_recovers(fake, gh):
    fake.fail_next("GET", r"/issues/1$", 502, times=2)
    fake.fail_next("*", r"/comments$", 429, headers={"Retry-After": "3"}, body={"message": "slow down"})
    assert [(await gh("GET", f"/repos/{REPO}/issues/1"))[0] for _ in range(3)] == [502, 502, 200]
    status, headers, body = await gh("POST", f"/repos/{REPO}/issues/1/comments", {"body": "x"})
    assert (status, headers["Retry-After"], body) == (429, "3", {"message": "slow down"})
    assert fake.comments(REPO, 1) == []  # a faulted request has no effect
    assert (await gh("POST", f"/repos/{REPO}/issues/1/comments", {"body": "x"}))[0] == 201


async def test_latency_delays_responses(fake, gh):
    fake.latency = 0.1
    start = time.perf_counter()
    await gh("GET", f"/repos/{REPO}/issues/1")
    assert time.perf_counter() - start >= 0.1


# ------------------------------------------------------------------ webhook builders


def test_issue_comment_delivery_has_githubs_keys_and_verifies():
    p = payloads.issue_comment("created", repo=REPO, issue_number=7, comment_id=99, body="/claim 3", user="alice")
    assert list(p) == ["action", "issue", "comment", "repository", "sender", "installation"]
    assert not missing("issue", p["issue"]) and not missing("issue-comment", p["comment"])
    assert "pull_request" not in p["issue"]
    assert (p["comment"]["id"], p["comment"]["body"], p["sender"]["login"]) == (99, "/claim 3", "alice")
    assert p["repository"]["full_name"] == REPO and p["installation"]["id"] == 1
    body, headers = payloads.delivery("issue_comment", p, "s3cret", "d-1")
    event = sansio.Event.from_http({k.lower(): v for k, v in headers.items()}, body, secret="s3cret")
    assert (event.event, event.delivery_id, event.data["comment"]["body"]) == ("issue_comment", "d-1", "/claim 3")
    with pytest.raises(ValidationFailure):
        sansio.Event.from_http({k.lower(): v for k, v in headers.items()}, body, secret="wrong")


def test_comment_on_a_pull_and_edits_and_bots():
    p = payloads.issue_comment(
        "edited", repo=REPO, issue_number=8, comment_id=5, body="new", user="b", is_pull=True, changes={"body": {"from": "old"}}
    )
    assert p["issue"]["pull_request"]["url"].endswith("/pulls/8")
    assert p["changes"] == {"body": {"from": "old"}}
    bot = payloads.issue_comment(
        "created", repo=REPO, issue_number=8, comment_id=6, body="hi", user="hackathon-bot[bot]", user_type="Bot"
    )
    assert bot["comment"]["user"]["type"] == "Bot" and bot["sender"]["type"] == "Bot"


def test_pull_request_deliveries():
    opened = payloads.pull_request("opened", repo=REPO, number=3, title="[T1] x", user="bob", head_sha="d" * 40)
    assert list(opened)[:3] == ["action", "number", "pull_request"]
    assert not missing("pull-request", opened["pull_request"])
    assert opened["pull_request"]["head"]["sha"] == "d" * 40 and opened["pull_request"]["state"] == "open"
    merged = payloads.pull_request("closed", repo=REPO, number=3, title="[T1] x", user="bob", merged=True)
    pr = merged["pull_request"]
    assert (pr["state"], pr["merged"]) == ("closed", True) and pr["merged_at"] and pr["merged_by"]
    closed = payloads.pull_request("closed", repo=REPO, number=3, title="[T1] x", user="bob")
    assert (closed["pull_request"]["state"], closed["pull_request"]["merged"]) == ("closed", False)
    assert closed["pull_request"]["merged_at"] is None
    sync = payloads.pull_request("synchronize", repo=REPO, number=3, title="t", user="bob", head_sha="e" * 40)
    assert sync["after"] == "e" * 40 and len(sync["before"]) == 40 and sync["before"] != sync["after"]
    edited = payloads.pull_request("edited", repo=REPO, number=3, title="t", user="bob", changes={"title": {"from": "old"}})
    assert edited["changes"] == {"title": {"from": "old"}}


def test_sign_and_headers():
    body = b'{"zen": "Keep it logically awesome."}'
    sig = payloads.sign(body, "k")
    assert sig.startswith("sha256=") and len(sig) == 7 + 64
    sansio.validate_event(body, signature=sig, secret="k")
    h = payloads.headers("ping", body, "k")
    assert h["X-GitHub-Event"] == "ping" and h["X-Hub-Signature-256"] == sig
    assert h["Content-Type"] == "application/json" and h["X-GitHub-Delivery"]
    assert payloads.headers("ping", body, "k")["X-GitHub-Delivery"] != h["X-GitHub-Delivery"]


def test_webhook_and_api_agree_about_ids():
    hook = payloads.issue_comment("created", repo=REPO, issue_number=1, comment_id=1, body="x", user="alice")
    assert hook["sender"]["id"] == payloads.user("alice")["id"]
    assert hook["issue"]["id"] == payloads.issue(REPO, 1)["id"]


# ------------------------------------------------------------------ optional: the full OpenAPI description


OPENAPI = os.environ.get("OCTOKIT_OPENAPI")


@pytest.mark.skipif(
    not (OPENAPI and os.path.exists(OPENAPI)) and not os.environ.get("CI"),
    reason="`source .ci/specs.sh` fetches api.github.com.json (CI always does: never skipped there)",
)
async def test_responses_follow_the_openapi_description(fake, gh):
    spec = json.load(open(OPENAPI))
    fake.add_pull(REPO, 2, title="t", user="bob", files=["a.py"], head_sha="f" * 40)
    _, _, comment = await gh("POST", f"/repos/{REPO}/issues/1/comments", {"body": "x"})
    _, _, labels = await gh("PUT", f"/repos/{REPO}/issues/2/labels", {"labels": ["l"]})
    _, _, run = await gh(
        "POST",
        f"/repos/{REPO}/check-runs",
        {"name": "n", "head_sha": "f" * 40, "conclusion": "success", "output": {"title": "t", "summary": "s"}},
    )
    checks = {
        "issue": (await gh("GET", f"/repos/{REPO}/issues/2"))[2],
        "issue-comment": comment,
        "pull-request": (await gh("GET", f"/repos/{REPO}/pulls/2"))[2],
        "diff-entry": (await gh("GET", f"/repos/{REPO}/pulls/2/files"))[2][0],
        "label": labels[0],
        "check-run": run,
        "repository-collaborator-permission": (await gh("GET", f"/repos/{REPO}/collaborators/x/permission"))[2],
    }
    for name, obj in checks.items():
        assert _violations(spec, {"$ref": f"#/components/schemas/{name}"}, obj, name) == []


def _violations(spec: dict, schema: dict, value, path: str) -> list[str]:
    while "$ref" in schema:
        node = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    if value is None:
        return [] if schema.get("nullable") or not schema else [f"{path}: null"]
    if "allOf" in schema:
        return [v for s in schema["allOf"] for v in _violations(spec, s, value, path)]
    if "oneOf" in schema or "anyOf" in schema:
        options = schema.get("oneOf") or schema.get("anyOf")
        results = [_violations(spec, s, value, path) for s in options]
        return [] if any(not r for r in results) else results[0]
    out = []
    if schema.get("type") == "object" and isinstance(value, dict):
        out += [f"{path}.{k}: missing" for k in schema.get("required", []) if k not in value]
        for k, sub in schema.get("properties", {}).items():
            if k in value:
                out += _violations(spec, sub, value[k], f"{path}.{k}")
    elif schema.get("type") == "array" and isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value[:3]):
            out += _violations(spec, schema["items"], item, f"{path}[{i}]")
    elif "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {value!r} not in enum")
    return out
