"""The import pull request: a campaign's task collections -> its task files, proposed as ONE PR.

A campaign read from a repository may list `collections:` in its `campaign.yml` (paths of
task-collection markdown files in that repository, RFC lists too). When one of them changes on
the default branch, or a maintainer comments `/import` on the tracker, the importer runs on the
collections and the campaign folder as they are on the default branch (hand edits kept, exactly
as `bot rules import` keeps them), and its output is committed on the branch
`hackathon-bot/import-<slug>` on top of the default branch's head; the bot's open pull request
from that branch is updated in place, or one is opened. Its description lists what the importer
found, blockers first. The organiser reviews and merges: the collection stays the source of
truth, and the rules are reviewed like code. Nothing is written when the files would not change.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from pathlib import PurePosixPath

from bot.core import texts
from bot.github.api import InstallationApi, PermanentError
from bot.rules.importer import RECORD, import_folder
from bot.rules.models import CampaignRules

log = logging.getLogger(__name__)

BRANCH = "hackathon-bot/import-{slug}"
WARNINGS_SHOWN = 100


@dataclass(frozen=True)
class Imported:
    """What one import did: `pull` is the PR's number (None: nothing to propose), `said` one line."""

    pull: int | None
    said: str
    url: str | None = None


async def read_collections(
    client: InstallationApi, repo: str, commit: str, paths: list[str]
) -> tuple[list[tuple[str, str]], list[str]]:
    """The collections' texts at a commit (name, markdown), and the paths not found there."""
    found: list[tuple[str, str]] = []
    missing: list[str] = []
    for path in paths:
        entry = await client.contents(repo, path.strip("/"), ref=commit)
        if not isinstance(entry, dict) or entry.get("type") != "file":
            missing.append(path)
            continue
        if entry.get("encoding") == "base64" and entry.get("content"):
            data = base64.b64decode(entry["content"])
        else:  # files over 1 MB come without content: read the blob
            data = await client.blob(repo, entry["sha"])
        found.append((PurePosixPath(path).name, data.decode("utf-8", errors="replace")))
    return found, missing


async def open_import_pr(
    client: InstallationApi,
    cr: CampaignRules,
    *,
    base: str,
    head: str,
    existing: dict[str, str],
    requested_by: str | None = None,
) -> Imported:
    """Run the importer on `cr`'s collections at commit `head` of branch `base`, over the campaign
    folder's files `existing` (name -> text, the importer's record included), and propose what
    changes as the campaign's import pull request."""
    assert cr.origin is not None, "only a campaign read from a repository is imported as a pull request"
    repo, folder = cr.origin.repo, cr.origin.path
    paths = cr.campaign.collections
    if not paths:
        return Imported(None, f"{cr.slug} lists no collections: nothing to import")
    collections, missing = await read_collections(client, repo, head, paths)
    if not collections:
        return Imported(None, f"{cr.slug}: none of its collections is on {base} ({', '.join(missing)})")
    writes, report = import_folder(collections, existing, cr.slug)
    written = sorted(n for n in writes if n != RECORD)
    if not written:
        return Imported(None, f"{cr.slug}: the task files already say what the collections say")
    tree = await client.tree(repo, head)
    entries = [
        {"path": f"{folder}/{name}", "mode": "100644", "type": "blob", "content": text} for name, text in sorted(writes.items())
    ]
    new_tree = await client.create_tree(repo, base_tree=tree["sha"], entries=entries)
    message = f"Import the tasks of {cr.campaign.name} from its collections ({len(written)} file(s))"
    commit = await client.create_commit(repo, message=message, tree=new_tree, parents=[head])
    branch = BRANCH.format(slug=cr.slug)
    owner = repo.split("/", 1)[0]
    open_prs = await client.open_pulls(repo, head=f"{owner}:{branch}")
    try:
        await client.set_branch(repo, branch, commit, create=not open_prs)
    except PermanentError as exc:
        if exc.status != 422:  # 422: the branch is left from a closed PR: move it
            raise
        await client.set_branch(repo, branch, commit, create=False)
    warnings = [str(w) for w in report.warnings]
    body = texts.render(
        cr.campaign.language,
        "import_pr.j2",
        campaign=cr.campaign.name,
        folder=folder,
        collections=paths,
        missing=missing,
        report=report,
        written=written,
        blocking=report.blocking(),
        warnings=warnings[:WARNINGS_SHOWN],
        more_warnings=max(0, len(warnings) - WARNINGS_SHOWN),
        requested_by=requested_by,
        tracker=cr.campaign.tracker,
    )
    body = texts.fit(body, cr.campaign.language)
    title = f"[hackathon-bot] Import the tasks of {cr.campaign.name}"
    if open_prs:
        number = int(open_prs[0]["number"])
        await client.update_pull(repo, number, title=title, body=body)
        return Imported(
            number, f"{cr.slug}: import pull request #{number} updated ({len(written)} file(s))", open_prs[0].get("html_url")
        )
    pr = await client.create_pull(repo, title=title, head=branch, base=base, body=body)
    number = int(pr["number"])
    return Imported(number, f"{cr.slug}: import pull request #{number} opened ({len(written)} file(s))", pr.get("html_url"))
