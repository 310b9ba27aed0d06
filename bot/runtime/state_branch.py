"""The bot's state kept on GitHub, for `bot action` (nothing on a runner's disk survives a run).

The whole store (the SQLite database of one run: claims, pull requests, history, the effects
ledger, the outbox, the bot's comments, sync marks) is kept gzipped as one file, `state.db.gz`, on
the branch `hackathon-bot/state` of the campaign's repository: participants cannot write there (a
branch of the base repository needs write access), it costs nothing when nothing changed (no run
writes it then), and git gives the compare-and-swap: a save is a commit whose parent is the state
the run loaded, and the branch only moves forward (a non-forced ref update), so a run that saved
from stale state gets `Conflict` and reloads instead of overwriting another run's work.

Loading costs two requests (the branch's head, then the file at that commit; a third for a file
over 1 MB); saving four (blob, tree, commit, branch).
"""

from __future__ import annotations

import base64
import gzip
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.github.api import InstallationApi, PermanentError

BRANCH = "hackathon-bot/state"
FILE = "state.db.gz"


class Conflict(Exception):
    """Another run saved the state since this one loaded it: load again and redo."""


@dataclass(frozen=True)
class Loaded:
    commit: str | None  # the state's commit (None: the branch does not exist yet)
    found: bool  # whether a saved database was written to the path


class StateBranch:
    def __init__(self, client: InstallationApi, repo: str, branch: str = BRANCH) -> None:
        self.client = client
        self.repo = repo
        self.branch = branch

    async def load(self, into: Path) -> Loaded:
        """Write the saved database to `into` (nothing when there is none yet)."""
        head = await self.client.branch_head(self.repo, self.branch)
        if head is None:
            return Loaded(None, False)
        entry = await self.client.contents(self.repo, FILE, ref=head)
        if not isinstance(entry, dict) or entry.get("type") != "file":
            return Loaded(head, False)
        if entry.get("encoding") == "base64" and entry.get("content"):
            packed = base64.b64decode(entry["content"])
        else:  # over 1 MB: the contents API leaves the content out
            packed = await self.client.blob(self.repo, entry["sha"])
        into.write_bytes(gzip.decompress(packed))
        return Loaded(head, True)

    async def save(self, db: Path, parent: str | None, message: str) -> str:
        """Save the database at `db` (a consistent copy, taken while it may be open) as a commit on
        top of `parent`; `Conflict` when the branch moved since. Returns the new commit."""
        blob = await self.client.create_blob(self.repo, gzip.compress(snapshot(db), mtime=0))
        tree = await self.client.create_tree(
            self.repo, base_tree=None, entries=[{"path": FILE, "mode": "100644", "type": "blob", "sha": blob}]
        )
        commit = await self.client.create_commit(self.repo, message=message, tree=tree, parents=[parent] if parent else [])
        try:
            await self.client.set_branch(self.repo, self.branch, commit, create=parent is None, force=False)
        except PermanentError as exc:
            if exc.status == 422:  # the branch exists already, or moved on: someone else saved first
                raise Conflict(f"{self.repo}@{self.branch} moved since {parent and parent[:7]}") from exc
            raise
        return commit


def snapshot(db: Path) -> bytes:
    """A consistent copy of a SQLite database that may be open elsewhere (its WAL included)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.db"
        src = sqlite3.connect(db)
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        return copy.read_bytes()
