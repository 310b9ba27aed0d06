"""The fake GitHub's git data, contents, pull creation and installations behave like GitHub's,
and their answers follow the official OpenAPI description (checked against the whole
description, as tests/test_fakegithub.py does for the other routes)."""

from __future__ import annotations

import base64
import json

import aiohttp
import pytest

from tests.fakegit import Symlink
from tests.fakegithub import FakeGitHub
from tests.test_fakegithub import KEY, OPENAPI, REPO, _violations, app_jwt, token

pytestmark = pytest.mark.skipif(not OPENAPI, reason="OCTOKIT_OPENAPI: run `source .ci/specs.sh` (CI does)")


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


@pytest.fixture
async def gh(fake, http):
    """gh(method, path, json=None) -> (status, headers, body), as installation 1."""
    tok = (await token(fake, http))["token"]

    async def call(method: str, path: str, body=None):
        async with http.request(method, fake.base_url + path, json=body, headers={"Authorization": f"token {tok}"}) as r:
            data = await r.json() if r.content_type == "application/json" else None
            return r.status, r.headers, data

    return call


def schema_of(spec: dict, path: str, method: str, code: str) -> dict:
    resp = spec["paths"][path][method]["responses"][code]
    if "$ref" in resp:
        resp = spec["components"]["responses"][resp["$ref"].split("/")[-1]]
    return resp["content"]["application/json"]["schema"]


async def test_commits_trees_blobs_and_refs(fake, gh):
    spec = json.load(open(OPENAPI))
    first = fake.commit_files(REPO, {".github/hackathon/h9/campaign.yml": "name: x\n", "README.md": "hi"})
    _, _, ref = await gh("GET", f"/repos/{REPO}/git/ref/heads/main")
    assert ref["object"]["sha"] == first
    _, _, commit = await gh("GET", f"/repos/{REPO}/git/commits/{first}")
    _, _, tree = await gh("GET", f"/repos/{REPO}/git/trees/{commit['tree']['sha']}?recursive=1")
    paths = {t["path"]: t for t in tree["tree"]}
    assert paths[".github/hackathon/h9/campaign.yml"]["type"] == "blob" and paths[".github"]["type"] == "tree"
    _, _, blob = await gh("GET", f"/repos/{REPO}/git/blobs/{paths['README.md']['sha']}")
    assert base64.b64decode(blob["content"]) == b"hi"
    # write a commit as the bot does: blob, tree on the base tree, commit, branch
    status, _, made = await gh("POST", f"/repos/{REPO}/git/blobs", {"content": "id: 1\n", "encoding": "utf-8"})
    assert status == 201
    status, _, new_tree = await gh(
        "POST",
        f"/repos/{REPO}/git/trees",
        {
            "base_tree": commit["tree"]["sha"],
            "tree": [{"path": ".github/hackathon/h9/001.yml", "mode": "100644", "type": "blob", "sha": made["sha"]}],
        },
    )
    status, _, new_commit = await gh(
        "POST", f"/repos/{REPO}/git/commits", {"message": "import", "tree": new_tree["sha"], "parents": [first]}
    )
    assert status == 201
    status, _, branch = await gh("POST", f"/repos/{REPO}/git/refs", {"ref": "refs/heads/import", "sha": new_commit["sha"]})
    assert status == 201
    assert (await gh("POST", f"/repos/{REPO}/git/refs", {"ref": "refs/heads/import", "sha": first}))[0] == 422
    assert fake.files_at(REPO, "import")[".github/hackathon/h9/001.yml"] == "id: 1\n"
    assert fake.files_at(REPO)[".github/hackathon/h9/campaign.yml"] == "name: x\n"  # main did not move
    for name, obj in {"git-ref": ref, "git-commit": commit, "git-tree": tree, "blob": blob, "short-blob": made}.items():
        assert _violations(spec, {"$ref": f"#/components/schemas/{name}"}, obj, name) == []
    assert _violations(spec, {"$ref": "#/components/schemas/git-ref"}, branch, "git-ref") == []


async def test_a_branch_moves_only_forward_unless_forced(fake, gh):
    one = fake.commit_files(REPO, {"a": "1"})
    two = fake.commit_files(REPO, {"a": "2"})
    assert (await gh("PATCH", f"/repos/{REPO}/git/refs/heads/main", {"sha": one}))[0] == 422
    assert (await gh("PATCH", f"/repos/{REPO}/git/refs/heads/main", {"sha": one, "force": True}))[0] == 200
    assert (await gh("PATCH", f"/repos/{REPO}/git/refs/heads/main", {"sha": two}))[0] == 200


async def test_contents_of_a_file_a_directory_and_a_symlink(fake, gh):
    spec = json.load(open(OPENAPI))
    sha = fake.commit_files(REPO, {"docs/a.md": "text", "docs/link.yml": Symlink("/dev/zero")})
    _, _, listing = await gh("GET", f"/repos/{REPO}/contents/docs?ref={sha}")
    kinds = {e["name"]: e["type"] for e in listing}
    assert kinds == {"a.md": "file", "link.yml": "symlink"}
    _, _, file = await gh("GET", f"/repos/{REPO}/contents/docs/a.md")
    assert base64.b64decode(file["content"]) == b"text"
    assert (await gh("GET", f"/repos/{REPO}/contents/nowhere"))[0] == 404
    schema = schema_of(spec, "/repos/{owner}/{repo}/contents/{path}", "get", "200")
    assert _violations(spec, schema, file, "contents") == []
    assert _violations(spec, {"$ref": "#/components/schemas/content-directory"}, listing, "contents") == []


async def test_installations_and_their_repositories(fake, gh, http):
    spec = json.load(open(OPENAPI))
    fake.add_installation(2, "elsewhere", ["elsewhere/camp"])
    async with http.get(f"{fake.base_url}/app/installations", headers={"Authorization": f"Bearer {app_jwt(fake)}"}) as r:
        installations = await r.json()
    assert {i["id"] for i in installations} == {1, 2}
    _, _, mine = await gh("GET", "/installation/repositories")
    assert REPO in {r["full_name"] for r in mine["repositories"]} and "elsewhere/camp" not in {
        r["full_name"] for r in mine["repositories"]
    }
    # installation 1's token cannot see installation 2's repository
    assert (await gh("GET", "/repos/elsewhere/camp"))[0] == 404
    _, _, repo = await gh("GET", f"/repos/{REPO}")
    assert repo["default_branch"] == "main"
    for obj in installations:
        assert _violations(spec, {"$ref": "#/components/schemas/installation"}, obj, "installation") == []
    schema = schema_of(spec, "/installation/repositories", "get", "200")
    assert _violations(spec, schema, mine, "repositories") == []
    assert _violations(spec, {"$ref": "#/components/schemas/full-repository"}, repo, "repository") == []


async def test_a_pull_request_from_a_branch_and_its_update(fake, gh):
    spec = json.load(open(OPENAPI))
    fake.commit_files(REPO, {"a.yml": "1"})
    base = fake.branch_head(REPO)
    head = fake.commit_files(REPO, {"a.yml": "2", "b.yml": "new"}, move=False)
    assert (await gh("POST", f"/repos/{REPO}/git/refs", {"ref": "refs/heads/feature", "sha": head}))[0] == 201
    status, _, pr = await gh("POST", f"/repos/{REPO}/pulls", {"title": "Import", "head": "feature", "base": "main", "body": "b"})
    assert status == 201 and pr["head"]["ref"] == "feature" and pr["head"]["sha"] == head
    assert fake.branch_head(REPO) == base
    _, _, files = await gh("GET", f"/repos/{REPO}/pulls/{pr['number']}/files")
    assert {(f["filename"], f["status"]) for f in files} == {("a.yml", "modified"), ("b.yml", "added")}
    assert (await gh("POST", f"/repos/{REPO}/pulls", {"title": "again", "head": "feature", "base": "main"}))[0] == 422
    _, _, edited = await gh("PATCH", f"/repos/{REPO}/pulls/{pr['number']}", {"body": "new body"})
    assert edited["body"] == "new body"
    assert _violations(spec, {"$ref": "#/components/schemas/pull-request"}, pr, "pull-request") == []


async def test_check_run_annotations_50_at_a_time(fake, gh):
    spec = json.load(open(OPENAPI))
    note = {"path": "a.yml", "start_line": 1, "end_line": 1, "annotation_level": "failure", "message": "m"}
    data = {"name": "hackathon/rules", "head_sha": "f" * 40, "conclusion": "failure", "output": {"title": "t", "summary": "s"}}
    too_many = {**data, "output": {**data["output"], "annotations": [note] * 51}}
    assert (await gh("POST", f"/repos/{REPO}/check-runs", too_many))[0] == 422
    _, _, run = await gh("POST", f"/repos/{REPO}/check-runs", {**data, "output": {**data["output"], "annotations": [note] * 50}})
    status, _, updated = await gh(
        "PATCH", f"/repos/{REPO}/check-runs/{run['id']}", {"output": {"title": "t", "summary": "s", "annotations": [note] * 3}}
    )
    assert status == 200 and updated["output"]["annotations_count"] == 53
    assert len(fake.check_runs(REPO)[0]["annotations"]) == 53
    schema = schema_of(spec, "/repos/{owner}/{repo}/check-runs/{check_run_id}", "patch", "200")
    assert _violations(spec, schema, {k: v for k, v in updated.items() if k != "annotations"}, "check-run") == []
