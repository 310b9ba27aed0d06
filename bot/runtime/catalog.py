"""The catalog: which campaigns the bot serves now, from RULES_DIR and from repositories.

A campaign lives in `.github/hackathon/<slug>/` on the default branch of any repository the App
is installed on (`campaign.yml` plus task files, the schema of `RULES_DIR/<slug>/`), or in
`RULES_DIR` (local use, dry-run, tests). The catalog
- finds the repository campaigns at start-up (every installation, each repository's default
  branch: its head read conditionally, so an unchanged repository costs a free 304), on
  `installation` and `installation_repositories` events, and on every `push` to a default
  branch that touches `.github/hackathon/` (the change serves as soon as the push's delivery is
  handled, with no restart);
- checks every folder read (the same problems as `bot rules check`, plus: a campaign may name
  only a tracker and repositories of the installation whose repository holds its folder; a slug
  or a tracker another campaign has already is refused, naming both) and posts the
  `hackathon/rules` check run on the commit read (one annotation per problem);
- serves the last good version of a campaign whose new version is refused (also after a
  restart: the last good files are kept in the store), says so in `bot status`, `/healthz` and on
  the dashboard; a campaign whose folder is removed stops being served (its state stays);
- checks pull requests that change `.github/hackathon/`: their version of the files (read by
  commit from the base repository, never run) gets `hackathon/rules` on its head commit.

`rules` is the current snapshot (immutable `Rules`); the stages read it each time they route,
render or sweep, so a reload is one assignment. Reads of GitHub go through the installation's
own client: no campaign ever makes a request with another installation's token.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.github.api import GitHubApi, GitHubError, InstallationApi, PermanentError, keep_reserve
from bot.rules.check import lint
from bot.rules.importer import RECORD
from bot.rules.loader import MAX_FILE_BYTES, Loaded, Problem, campaign_from_files, line_of
from bot.rules.models import CampaignRules, Origin, Rules, Task
from bot.runtime.import_pr import open_import_pr
from bot.store import Store

log = logging.getLogger(__name__)

ROOT = ".github/hackathon"  # where a repository keeps its campaign folders
CHECK_NAME = "hackathon/rules"
BLOB_CACHE = 4096  # rule files remembered by their blob sha (immutable)
RULE_PR_ACTIONS = ("opened", "synchronize", "reopened")

Files = dict[str, "str | Problem"]


@dataclass
class Folder:
    """What a commit holds under `.github/hackathon/`: each campaign folder's files, and problems
    of the folder itself (not a folder, too large to list)."""

    sha: str | None  # the folder's tree sha (None: no folder)
    campaigns: dict[str, Files] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Source:
    """One repository that holds (or held) campaign folders."""

    repo: str
    installation_id: int
    branch: str
    commit: str | None = None  # the default branch's head last read
    folder: str | None = None  # the folder's tree sha at that commit
    problems: list[Problem] = field(default_factory=list)  # of that read
    serving: dict[str, CampaignRules] = field(default_factory=dict)  # slug -> the version served (the last good)


@dataclass
class Verdict:
    """The campaigns of one read that may be served, and every problem found."""

    good: dict[str, CampaignRules]
    problems: list[Problem]

    def refused(self, slug: str) -> list[Problem]:
        """The errors that keep `slug`'s new version from being served."""
        folder = f"{ROOT}/{slug}/"
        return [p for p in self.problems if p.severity == "error" and (p.file.startswith(folder) or p.file == ROOT)]


def problem_dict(p: Problem) -> dict:
    return {"file": p.file, "line": p.line, "field": p.field, "message": p.message, "severity": p.severity}


def annotation(p: Problem) -> dict:
    """A check-run annotation of a problem (GitHub wants a line: the file's first when none is known)."""
    line = p.line or 1
    return {
        "path": p.file,
        "start_line": line,
        "end_line": line,
        "annotation_level": "failure" if p.severity == "error" else "warning",
        "title": p.field or "rule file",
        "message": p.message[:64000],
    }


def judge(
    repo: str,
    installation_id: int,
    commit: str,
    folder: Folder,
    *,
    reachable: set[str],
    elsewhere: Rules,
    where: Callable[[str], str],
) -> Verdict:
    """Pure: which campaigns of a folder read at `commit` may be served, and every problem (the
    problems of `bot rules check`, and isolation and conflicts). `reachable`: the lower-cased
    repositories of the installation; `elsewhere`: the campaigns served from other places, and
    `where(slug)` names the place of one of them."""
    docs: dict[Path, Any] = {}
    problems = list(folder.problems)
    loaded: dict[str, CampaignRules] = {}
    for slug, files in sorted(folder.campaigns.items()):
        cr, probs = campaign_from_files(slug, files, Path(ROOT) / slug, docs)
        problems += probs
        if cr is not None:
            origin = Origin(repo=repo, installation_id=installation_id, path=f"{ROOT}/{slug}", commit=commit)
            loaded[slug] = cr.model_copy(update={"origin": origin})
    problems += [p for p in lint(Loaded(Rules(campaigns=loaded), [], docs)) if p not in problems]
    for slug, cr in loaded.items():
        cfile = f"{ROOT}/{slug}/campaign.yml"
        c = cr.campaign

        def error(field: str, message: str, cfile: str = cfile) -> None:
            problems.append(Problem(cfile, _line(docs, cfile, field), field, message))

        if slug in elsewhere.campaigns:
            error("", f"campaign {slug!r} is also defined in {where(slug)}: rename one of the two folders")
        named = ([("tracker", c.tracker_repo)] if c.tracker_repo else []) + [("repos", r) for r in c.repos]
        for field_name, other_repo in named:
            if other_repo.lower() not in reachable:
                error(
                    field_name,
                    f"{other_repo} is not a repository of this installation of the App: a campaign may name only "
                    "repositories the App is installed on with the repository that holds its folder",
                )
        if c.tracker:
            taken = next(
                (
                    o
                    for o in elsewhere.campaigns.values()
                    if o.campaign.tracker and o.campaign.tracker.lower() == c.tracker.lower()
                ),
                None,
            )
            if taken is not None:
                error("tracker", f"the tracker {c.tracker} is campaign {taken.slug}'s ({where(taken.slug)}): give each its own")
        if not cr.tasks:
            more = ": the import pull request adds them" if c.collections else ""
            problems.append(Problem(cfile, _line(docs, cfile, "name"), "", f"no task files yet{more}", "warning"))
    good = {s: cr for s, cr in loaded.items() if not Verdict({}, problems).refused(s)}
    return Verdict(good, problems)


def _line(docs: dict[Path, Any], file: str, field: str) -> int | None:
    doc = docs.get(Path(file))
    return line_of(doc, (field,)) if doc is not None and field else None


class Catalog:
    """The campaigns served now (see the module docstring). `local`: RULES_DIR's campaigns."""

    def __init__(self, local: Rules, *, github: GitHubApi | None = None, store: Store | None = None) -> None:
        self.local = local
        self.rules = local
        self.github = github
        self.store = store
        self._sources: dict[str, Source] = {}  # lower-cased repo -> source
        self._reachable: dict[int, set[str]] = {}  # installation -> its lower-cased repositories
        self._blobs: OrderedDict[str, str | Problem] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._snapshots: dict[str, dict] | None = None  # the store's last good files, read once
        self.listeners: list[Callable[[Rules], None]] = []  # told of every new snapshot

    @classmethod
    def fixed(cls, rules: Rules) -> Catalog:
        """A catalog of `rules` alone, never reloaded (tools and tests)."""
        return cls(rules)

    # ---- what the rest of the bot reads: the current snapshot (a `RulesView`) -----------------------
    @property
    def campaigns(self) -> dict[str, CampaignRules]:
        return self.rules.campaigns

    def by_tracker(self, repo: str, number: int, installation_id: int | None = None) -> CampaignRules | None:
        return self.rules.by_tracker(repo, number, installation_id)

    def by_task_issue(self, repo: str, number: int, installation_id: int | None = None) -> tuple[CampaignRules, Task] | None:
        return self.rules.by_task_issue(repo, number, installation_id)

    def for_repo(self, repo: str, installation_id: int | None = None) -> list[CampaignRules]:
        return self.rules.for_repo(repo, installation_id)

    def problems(self) -> list[str]:
        """One line per repository whose last read was refused, for /healthz and `bot status`."""
        out = []
        for src in sorted(self._sources.values(), key=lambda s: s.repo):
            errors = [p for p in src.problems if p.severity == "error"]
            if errors:
                kept = ", ".join(f"{s} from {c.origin.commit[:7] if c.origin else '?'}" for s, c in sorted(src.serving.items()))
                out.append(
                    f"{src.repo}@{(src.commit or '')[:7]}: {len(errors)} problem(s) in the campaign rules, e.g. {errors[0]}"
                    + (f"; serving the last good version of {kept}" if kept else "")
                )
        return out

    def refused(self, slug: str) -> dict | None:
        """When the newest rules of a campaign read from a repository were refused: the commit read,
        its first problem, and the commit of the version that keeps serving (None: nothing refused)."""
        cr = self.rules.campaigns.get(slug)
        src = self._sources.get(cr.origin.repo.lower()) if cr is not None and cr.origin is not None else None
        if src is None or cr is None or cr.origin is None:
            return None
        mine = [p for p in src.problems if p.severity == "error" and p.file.startswith(f"{ROOT}/{slug}/")]
        if not mine or src.commit == cr.origin.commit:
            return None
        return {"commit": (src.commit or "")[:7], "problem": str(mine[0]), "serving": cr.origin.commit[:7]}

    # ---- discovery -----------------------------------------------------------------------------------
    async def discover(self) -> None:
        """Read every installation's repositories (at start-up)."""
        if self.github is None:
            return
        for inst in await self.github.installations():
            try:
                await self.discover_installation(int(inst["id"]))
            except GitHubError as exc:
                log.warning("campaign folders of installation %s not read: %s", inst.get("id"), exc)

    async def discover_installation(self, installation_id: int) -> None:
        assert self.github is not None
        client = await self.github.installation(installation_id)
        repos = await client.repositories()
        self._reachable[installation_id] = {r["full_name"].lower() for r in repos}
        for key in [
            k
            for k, s in self._sources.items()
            if s.installation_id == installation_id and k not in self._reachable[installation_id]
        ]:
            await self._forget(key)
        for r in repos:
            await self.refresh(client, r["full_name"], r.get("default_branch") or "main", announce=False)

    async def forget_installation(self, installation_id: int) -> None:
        """The App was uninstalled (or suspended) there: its campaigns are no longer served."""
        self._reachable.pop(installation_id, None)
        for key in [k for k, s in self._sources.items() if s.installation_id == installation_id]:
            await self._forget(key)

    async def _forget(self, key: str) -> None:
        src = self._sources.pop(key, None)
        if src is not None:
            log.info("campaign folders of %s no longer read (%s)", src.repo, ", ".join(sorted(src.serving)) or "no campaign")
            if self.store is not None:
                await self.store.drop_rule_source(src.repo)
            self._publish()

    # ---- events ---------------------------------------------------------------------------------------
    async def on_event(self, event: str, payload: dict) -> str:
        """A push, installation or installation_repositories delivery; returns what it did (the log's detail)."""
        if self.github is None:
            return "no GitHub (dry-run)"
        raw_id = (payload.get("installation") or {}).get("id")
        if not isinstance(raw_id, int):
            return "the delivery names no installation"
        inst_id: int = raw_id
        if event == "push":
            return await self._on_push(payload, inst_id)
        if event == "installation":
            if payload.get("action") in ("deleted", "suspend"):
                await self.forget_installation(inst_id)
                return f"installation {inst_id} {payload.get('action')}: its campaigns are no longer served"
            await self.discover_installation(inst_id)
            return f"installation {inst_id}: {len(self._reachable.get(inst_id, ()))} repositories read"
        if event == "installation_repositories":
            client = await self.github.installation(inst_id)
            self._reachable.setdefault(inst_id, set())
            for r in payload.get("repositories_removed") or []:
                self._reachable[inst_id].discard(r["full_name"].lower())
                await self._forget(r["full_name"].lower())
            for r in payload.get("repositories_added") or []:
                self._reachable[inst_id].add(r["full_name"].lower())
                repo = await client.get_repo(r["full_name"])
                await self.refresh(client, r["full_name"], repo.get("default_branch") or "main", announce=False)
            return "repositories of the installation updated"
        return f"event {event} is not the catalog's"

    async def _on_push(self, payload: dict, inst_id: int) -> str:
        repo_obj = payload.get("repository") or {}
        repo, branch = repo_obj.get("full_name", ""), repo_obj.get("default_branch") or "main"
        if payload.get("ref") != f"refs/heads/{branch}" or payload.get("deleted"):
            return "a push to another branch than the default one"
        paths = pushed_paths(payload)
        src = self._sources.get(repo.lower())
        collections = {p.strip("/") for cr in (src.serving.values() if src else ()) for p in cr.campaign.collections}
        if not touches_rules(payload) and not paths & collections:
            return "a push that changes no campaign folder and no collection"
        assert self.github is not None
        client = await self.github.installation(inst_id)
        changed = await self.refresh(client, repo, branch, commit=payload.get("after"), announce=True)
        said = f"campaign folders of {repo} read at {str(payload.get('after'))[:7]}: " + (changed or "unchanged")
        src = self._sources.get(repo.lower())
        for slug, cr in sorted(src.serving.items()) if src else ():
            new_campaign = f"{ROOT}/{slug}/campaign.yml" in paths and not cr.tasks
            if cr.campaign.collections and (new_campaign or any(p.strip("/") in paths for p in cr.campaign.collections)):
                said += "; " + await self.import_collections(slug)
        return said

    # ---- the import pull request ----------------------------------------------------------------------
    async def import_collections(self, slug: str, requested_by: str | None = None) -> str:
        """Propose the task files the importer makes of a campaign's collections as its import pull
        request (see `bot.runtime.import_pr`); returns what it did."""
        cr = self.rules.campaigns.get(slug)
        if self.github is None or cr is None or cr.origin is None:
            return f"{slug}: not a campaign kept in a repository: nothing to import"
        client = await self.github.installation(cr.origin.installation_id)
        src = self._sources.get(cr.origin.repo.lower())
        branch = src.branch if src else "main"
        head = await client.branch_head(cr.origin.repo, branch) or cr.origin.commit
        folder = await self.read_folder(client, cr.origin.repo, head)
        existing = {n: t for n, t in folder.campaigns.get(slug, {}).items() if isinstance(t, str)}
        record = await client.contents(cr.origin.repo, f"{ROOT}/{slug}/{RECORD}", ref=head)
        if isinstance(record, dict) and record.get("content"):
            existing[RECORD] = base64.b64decode(record["content"]).decode("utf-8", errors="replace")
        result = await open_import_pr(client, cr, base=branch, head=head, existing=existing, requested_by=requested_by)
        log.info("import of %s: %s", slug, result.said)
        return result.said

    # ---- reading a repository -------------------------------------------------------------------------
    async def refresh(
        self, client: InstallationApi, repo: str, branch: str, *, commit: str | None = None, announce: bool
    ) -> str | None:
        """Read a repository's campaign folders at the head of its default branch (or `commit`) and
        serve what is good. `announce`: post `hackathon/rules` on the commit even if it is not new
        to the store (a push). Returns what changed (None: nothing)."""
        key = repo.lower()
        async with self._locks.setdefault(key, asyncio.Lock()):
            src = self._sources.get(key) or Source(repo, client.installation_id, branch)
            src.branch, src.installation_id = branch, client.installation_id
            head = commit or await client.branch_head(repo, branch)
            if head is None or head == src.commit:
                return None
            folder = await self.read_folder(client, repo, head)
            if folder.sha == src.folder and src.commit is not None:
                src.commit = head
                return None
            self._reachable.setdefault(client.installation_id, set()).add(key)
            verdict = self._judge(client, repo, head, folder)
            said = await self._apply(src, folder, verdict, head)
            if self.store is not None and src.serving:
                await self.store.register_campaigns(list(src.serving))
            src.commit, src.folder, src.problems = head, folder.sha, verdict.problems
            if folder.sha is None and not src.serving:
                self._sources.pop(key, None)
            else:
                self._sources[key] = src
            stored = await self._stored_commit(repo)
            if self.store is not None and (folder.sha is not None or stored is not None):
                await self.store.put_rule_source(repo, client.installation_id, head, [problem_dict(p) for p in verdict.problems])
            if folder.sha is not None and (announce or stored != head):
                await self._check_run(client, repo, head, verdict.problems, what="the default branch")
            self._publish()
            return said

    async def _stored_commit(self, repo: str) -> str | None:
        if self.store is None:
            return None
        return next((s["commit"] for s in await self.store.rule_sources() if s["repo"] == repo.lower()), None)

    async def _apply(self, src: Source, folder: Folder, verdict: Verdict, head: str) -> str:
        """Serve the good versions; keep the last good one of each refused campaign (in memory, else
        the store's); stop serving campaigns whose folder is gone."""
        said = []
        unreadable = any(p.severity == "error" for p in folder.problems)  # the folder itself: keep all
        for slug in sorted(set(folder.campaigns) | set(src.serving)):
            if slug in verdict.good:
                cr = verdict.good[slug]
                src.serving[slug] = cr
                if self.store is not None:
                    files = {n: t for n, t in folder.campaigns[slug].items() if isinstance(t, str)}
                    await self.store.put_rule_snapshot(slug, src.repo, src.installation_id, head, files)
                said.append(f"{slug} serves {len(cr.tasks)} task(s)")
            elif slug not in folder.campaigns and not unreadable:
                del src.serving[slug]
                said.append(f"{slug} removed (its claims and history stay in the store)")
            else:
                kept = src.serving.get(slug) or await self._last_good(slug, src)
                if kept is not None:
                    src.serving[slug] = kept
                why = verdict.refused(slug)[0] if verdict.refused(slug) else None
                log.warning(
                    "campaign %s of %s at %s refused (%s); %s",
                    slug,
                    src.repo,
                    head[:7],
                    why,
                    f"the version of {kept.origin.commit[:7]} keeps serving" if kept and kept.origin else "not served",
                )
                said.append(f"{slug} refused")
        return "; ".join(said) or "no campaign"

    async def _last_good(self, slug: str, src: Source) -> CampaignRules | None:
        """The store's last good version of a campaign of `src` (after a restart)."""
        if self.store is None:
            return None
        if self._snapshots is None:
            self._snapshots = await self.store.rule_snapshots()
        snap = self._snapshots.get(slug)
        if snap is None or snap["repo"].lower() != src.repo.lower():
            return None
        cr, problems = campaign_from_files(slug, dict(snap["files"]), Path(ROOT) / slug, {}, nodes=False)
        if cr is None or any(p.severity == "error" for p in problems):
            return None
        origin = Origin(repo=src.repo, installation_id=src.installation_id, path=f"{ROOT}/{slug}", commit=snap["commit"])
        return cr.model_copy(update={"origin": origin})

    async def read_folder(self, client: InstallationApi, repo: str, commit: str) -> Folder:
        """The campaign folders at a commit (from the base repository, also for a fork's PR)."""
        listing = await client.contents(repo, ".github", ref=commit)
        entry = next((e for e in listing if e.get("name") == "hackathon"), None) if isinstance(listing, list) else None
        if entry is None:
            return Folder(None)
        if entry.get("type") != "dir":
            return Folder(entry.get("sha"), problems=[Problem(ROOT, None, "", "must be a folder (not a file or a symlink)")])
        tree = await client.tree(repo, entry["sha"], recursive=True)
        folder = Folder(entry["sha"])
        if tree.get("truncated"):
            folder.problems.append(Problem(ROOT, None, "", "holds too many files for GitHub to list: keep only campaign folders"))
        for item in tree.get("tree") or []:
            parts = item["path"].split("/")
            if parts[0].startswith("."):
                continue
            if len(parts) == 1:
                if item.get("type") == "tree":
                    folder.campaigns.setdefault(parts[0], {})
                elif item.get("mode") == "120000":
                    folder.problems.append(Problem(f"{ROOT}/{parts[0]}", None, "", "a symlink: campaign folders must be folders"))
                continue
            slug, name = parts[0], "/".join(parts[1:])
            if len(parts) != 2 or name.startswith(".") or not name.endswith((".yml", ".yaml")):
                continue
            folder.campaigns.setdefault(slug, {})[name] = await self._file(client, repo, item)
        return folder

    async def _file(self, client: InstallationApi, repo: str, item: dict) -> str | Problem:
        path = f"{ROOT}/{item['path']}"
        if item.get("mode") == "120000":
            return Problem(path, None, "", "a symlink: rule files in a repository must be plain files")
        if item.get("type") != "blob":
            return Problem(path, None, "", "not a file")
        if int(item.get("size") or 0) > MAX_FILE_BYTES:
            return Problem(path, None, "", f"larger than {MAX_FILE_BYTES // 1024} KiB: not read")
        sha = item["sha"]
        cached = self._blobs.get(sha)
        if cached is None:
            data = await client.blob(repo, sha)
            try:
                cached = data.decode("utf-8")
            except UnicodeDecodeError as e:
                cached = Problem(path, None, "", f"cannot read: not UTF-8 ({e.reason} at byte {e.start})")
            self._blobs[sha] = cached
            while len(self._blobs) > BLOB_CACHE:
                self._blobs.popitem(last=False)
        if isinstance(cached, Problem):
            return Problem(path, None, "", cached.message)
        return cached

    # ---- pull requests that change campaign folders ------------------------------------------------
    async def check_pull(self, payload: dict) -> str | None:
        """`hackathon/rules` on a PR that changes `.github/hackathon/`: its version of the folders,
        checked as a push of it would be (never loaded: only the default branch is served). Not read
        in a campaign's work repository without campaign folders (Paddle's many PRs each cost a
        file-list read otherwise); a first folder proposed there is checked once merged."""
        if self.github is None or payload.get("action") not in RULE_PR_ACTIONS:
            return None
        pr = payload.get("pull_request") or {}
        repo = (payload.get("repository") or {}).get("full_name", "")
        head = (pr.get("head") or {}).get("sha")
        if not repo or not head:
            return None
        inst = (payload.get("installation") or {}).get("id")
        if repo.lower() not in self._sources and self.rules.for_repo(repo, inst):
            return None  # a campaign's work repository that holds no campaign folder: its PRs are work, not rules
        client = await self.github.installation(inst)
        keep_reserve(client, "a pull request's rules check")
        files = await client.pr_files(repo, int(payload.get("number") or pr.get("number") or 0), head_sha=head)
        if not any(_in_rules(f.get("filename", "")) or _in_rules(f.get("previous_filename") or "") for f in files):
            return None
        folder = await self.read_folder(client, repo, head)
        if client.installation_id not in self._reachable:
            self._reachable[client.installation_id] = {r["full_name"].lower() for r in await client.repositories()}
        verdict = self._judge(client, repo, head, folder)
        await self._check_run(client, repo, head, verdict.problems, what="this pull request")
        errors = sum(1 for p in verdict.problems if p.severity == "error")
        return f"{CHECK_NAME} on {head[:7]}: {errors} error(s), {len(verdict.problems) - errors} warning(s)"

    async def _check_run(self, client: InstallationApi, repo: str, commit: str, problems: list[Problem], *, what: str) -> None:
        errors = [p for p in problems if p.severity == "error"]
        warnings = [p for p in problems if p.severity != "error"]
        conclusion = "failure" if errors else "success"
        if errors:
            title = f"{len(errors)} problem(s) in the campaign rules"
            summary = f"The campaign rules of {what} cannot be served as they are:\n\n" + "\n".join(f"- {p}" for p in errors[:50])
        else:
            title = "The campaign rules are valid"
            summary = f"The campaign rules of {what} are valid" + (f", with {len(warnings)} warning(s)." if warnings else ".")
        if warnings:
            summary += "\n\nWarnings:\n\n" + "\n".join(f"- {p}" for p in warnings[:50])
        notes = [annotation(p) for p in errors + warnings]
        try:
            run = await client.create_check_run(
                repo,
                head_sha=commit,
                name=CHECK_NAME,
                conclusion=conclusion,
                title=title,
                summary=summary,
                annotations=notes[:50],
            )
            for start in range(50, len(notes), 50):
                await client.annotate(repo, run["id"], title=title, summary=summary, annotations=notes[start : start + 50])
        except PermanentError as exc:  # no checks permission, or a commit GitHub does not know
            log.warning("%s on %s@%s not posted: %s", CHECK_NAME, repo, commit[:7], exc)

    def _judge(self, client: InstallationApi, repo: str, commit: str, folder: Folder) -> Verdict:
        """`judge` a folder read from `repo` against the installation's repositories and the campaigns served elsewhere."""
        reachable = self._reachable[client.installation_id]
        return judge(
            repo,
            client.installation_id,
            commit,
            folder,
            reachable=reachable,
            elsewhere=self._elsewhere(repo.lower()),
            where=self._where,
        )

    # ---- the snapshot ---------------------------------------------------------------------------------
    def _elsewhere(self, key: str) -> Rules:
        """Every campaign served from another place than the repository `key`."""
        out = dict(self.local.campaigns)
        for k, src in self._sources.items():
            if k != key:
                out.update(src.serving)
        return Rules(campaigns=out)

    def _where(self, slug: str) -> str:
        if slug in self.local.campaigns:
            return f"RULES_DIR ({self.local.campaigns[slug].dir})"
        for src in self._sources.values():
            if slug in src.serving:
                return f"{src.repo} ({ROOT}/{slug})"
        return "another place"

    def _publish(self) -> None:
        campaigns = dict(self.local.campaigns)
        for src in sorted(self._sources.values(), key=lambda s: s.repo):
            for slug, cr in src.serving.items():
                campaigns.setdefault(slug, cr)
        self.rules = Rules(campaigns=campaigns)
        for listener in self.listeners:
            listener(self.rules)


def _in_rules(path: str) -> bool:
    return path.startswith(ROOT + "/")


def pushed_paths(push: dict) -> set[str]:
    """Every path a push's commits added, modified or removed."""
    out: set[str] = set()
    for c in push.get("commits") or ():
        for key in ("added", "modified", "removed"):
            out.update(c.get(key) or ())
    return out


def touches_rules(push: dict) -> bool:
    """Whether a push changed `.github/hackathon/` (or may have: a payload lists at most 2,048
    commits, and a forced push or a new branch may list none)."""
    commits = push.get("commits")
    if not commits or len(commits) >= 2048 or push.get("forced"):
        return True
    for c in commits:
        for key in ("added", "modified", "removed"):
            if any(_in_rules(p) for p in c.get(key) or ()):
                return True
    return False
