"""`bot action`: one GitHub Actions run of the bot, for a campaign with no server at all.

The same pipeline as `bot serve` (routing, decide, the executor, the board flusher); only the
source of events and where state lives differ:

- **Events**: every run reconciles (`Syncer` in live mode): the comments of the campaign's
  tracker and task issues created or edited since the last saved run, and the pull requests
  changed since, in first-come-first-served order by creation time. So a comment whose own run
  was cancelled (a `concurrency` group keeps one pending run) is answered by the next run that
  does run, exactly once (the effects ledger skips what already took effect). `schedule` runs
  also sweep (reminders, lapses); `workflow_dispatch` reads everything, not only what changed.
- **State**: the store is a SQLite file in `RUNNER_TEMP`, loaded from and saved to the branch
  `hackathon-bot/state` (`state_branch`) with a compare-and-swap.
- **Exactly once across overlapping runs**: a run first decides and saves its decisions (its
  actions still pending, the run marked as open), then performs them, then saves the outcome. A
  save that finds the branch moved (another run saved) is redone on the newer state: before any
  write, by deciding again; after the writes, by recording the outcomes on the newer state. An
  earlier run's pending actions are taken over only once GitHub says that run is over (its
  actions then look for their own markers first, as retries do).
- **Cheap runs**: nothing new costs no write and about five requests (the state's branch and
  file, the tracker's comments since the mark, the pull requests since the mark).

The environment is GitHub Actions' own (`GITHUB_EVENT_NAME`, `GITHUB_REPOSITORY`, `GITHUB_TOKEN`,
...); the rules are the workspace's `.github/hackathon/<slug>/` (`RULES_PATH` changes the folder).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bot.app import assemble
from bot.github.api import GitHubApi, InstallationApi
from bot.github.dryrun import DryRunGitHub, DryRunInstallation
from bot.github.gateway import TokenGateway
from bot.rules.loader import RulesError, load_rules
from bot.rules.models import Rules
from bot.runtime.state_branch import Conflict, StateBranch
from bot.runtime.sync import Syncer
from bot.settings import Settings, StartupError
from bot.store import Store

log = logging.getLogger(__name__)

BUSY = {"queued", "in_progress", "waiting", "requested", "pending"}  # a run GitHub says is not over
MAX_CONFLICTS = 5  # saves redone on a newer state before the run gives up (the next run goes on)
JOB = "action"  # the store's job row: the last run's figures, and whether it left actions open


@dataclass(frozen=True)
class ActionEnv:
    """What a GitHub Actions run tells the bot through its environment."""

    event: str
    repository: str
    token: str
    api_url: str
    workspace: Path
    run_id: int
    temp: Path
    rules_path: str = ".github/hackathon"
    dry_run: bool = False
    login: str = TokenGateway.ACTIONS_LOGIN
    event_path: Path | None = None

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> ActionEnv:
        """The run's environment, or a StartupError naming what is missing."""
        if env.get("GITHUB_ACTIONS") != "true":
            raise StartupError(
                "GITHUB_ACTIONS is not 'true': `bot action` runs inside a GitHub Actions workflow (see docs/action.md)"
            )
        missing = [k for k in ("GITHUB_EVENT_NAME", "GITHUB_REPOSITORY", "GITHUB_TOKEN", "GITHUB_WORKSPACE") if not env.get(k)]
        if missing:
            raise StartupError(f"{', '.join(missing)}: not set (the workflow passes `token` to the action; see docs/action.md)")
        try:
            run_id = int(env.get("GITHUB_RUN_ID") or 0)
        except ValueError:
            raise StartupError(f"GITHUB_RUN_ID={env.get('GITHUB_RUN_ID')!r}: not a number") from None
        return cls(
            event=env["GITHUB_EVENT_NAME"],
            repository=env["GITHUB_REPOSITORY"],
            token=env["GITHUB_TOKEN"],
            api_url=env.get("GITHUB_API_URL") or "https://api.github.com",
            workspace=Path(env["GITHUB_WORKSPACE"]),
            run_id=run_id,
            temp=Path(env.get("RUNNER_TEMP") or "/tmp"),
            rules_path=env.get("RULES_PATH") or ".github/hackathon",
            dry_run=(env.get("DRY_RUN") or "").lower() in ("1", "true", "yes"),
            login=env.get("BOT_LOGIN") or TokenGateway.ACTIONS_LOGIN,
            event_path=Path(env["GITHUB_EVENT_PATH"]) if env.get("GITHUB_EVENT_PATH") else None,
        )


def read_campaigns(env: ActionEnv) -> Rules:
    folder = env.workspace / env.rules_path
    if not folder.is_dir():
        raise StartupError(
            f"{env.rules_path}: no such folder in the workspace: check out the repository first (actions/checkout) "
            "and keep each campaign in .github/hackathon/<slug>/"
        )
    try:
        rules = load_rules(folder)
    except RulesError as exc:
        first, more = exc.problems[0], len(exc.problems) - 1
        raise StartupError(f"{first}" + (f" (and {more} more: run `bot rules check {env.rules_path}`)" if more else "")) from None
    if not rules.campaigns:
        raise StartupError(f"{env.rules_path}: no campaign folder (a folder holding campaign.yml)")
    return rules


@dataclass
class RunReport:
    """What one run did (its summary line)."""

    events: int = 0
    actions: int = 0
    inherited: int = 0
    conflicts: int = 0
    saved: bool = False
    requests: int = 0

    def line(self) -> str:
        return (
            f"bot action: {self.events} event(s) read, {self.actions} action(s) performed"
            + (f" ({self.inherited} left by an earlier run)" if self.inherited else "")
            + (
                f", state saved{f' after {self.conflicts} conflict(s)' if self.conflicts else ''}"
                if self.saved
                else ", nothing to save"
            )
            + f", {self.requests} request(s)"
        )


async def run(env: ActionEnv, settings: Settings, *, gateway_options: Mapping[str, Any] | None = None) -> RunReport:
    """One run: load the state, reconcile and decide, save, perform, save (see the module docstring).
    `gateway_options`: the gateway's `clock` and `sleep` (a benchmark's simulated time)."""
    rules = read_campaigns(env)
    async with aiohttp.ClientSession() as session:
        real = TokenGateway(api_url=env.api_url, token=env.token, session=session, login=env.login, **(gateway_options or {}))
        github: GitHubApi = ReadThrough(real, login=env.login) if env.dry_run else real
        client = await real.installation(None)
        report = RunReport()
        for attempt in range(MAX_CONFLICTS):
            try:
                await _attempt(env, settings, rules, github, client, report, attempt)
                break
            except Conflict as exc:
                report.conflicts += 1
                log.info("state saved by another run meanwhile (%s): deciding again on the newer state", exc)
        else:
            log.warning("the state kept moving: %d runs saved meanwhile; the next run goes on", MAX_CONFLICTS)
        report.requests = real.request_count()
        return report


async def _attempt(
    env: ActionEnv, settings: Settings, rules: Rules, github: GitHubApi, client: InstallationApi, report: RunReport, attempt: int
) -> None:
    state = StateBranch(client, env.repository)
    db = env.temp / f"hackathon-bot-{env.run_id}-{attempt}.db"
    db.unlink(missing_ok=True)
    loaded = await state.load(db)
    store = Store(f"sqlite:///{db}", lease_seconds=settings.lease_seconds)
    await store.init(list(rules.campaigns))
    local = settings.model_copy(update={"database_url": f"sqlite:///{db}", "board_delay": 0.0})
    bot = await assemble(local, rules=rules, store=store, github=github)
    try:
        pipeline = bot.pipeline
        await pipeline.learn_login()
        pipeline.deferred = []
        before = await store.jobs_info()
        open_run = (before.get(JOB) or {}).get("open")
        others_busy = False
        if isinstance(open_run, int) and open_run != env.run_id:
            others_busy = await client.run_status(env.repository, open_run) in BUSY
        inherited = 0 if others_busy else (await store.delivery_counts()).get("actions_pending", 0)
        # 1. decide: everything new since the last saved run, in order; the sweeps on schedule
        syncer = Syncer(pipeline, out=lambda line: log.info("%s", line), live=True, full=env.event == "workflow_dispatch")
        synced = await syncer.sync(write_board=False)
        report.events = synced.comments_read + synced.prs_read
        if env.event in ("schedule", "workflow_dispatch"):
            await pipeline.lapse_expired_claims()
        decided = list(pipeline.deferred)
        dirty = [slug for slug in rules.campaigns if (await store.board_info(slug)).get("board_dirty")]
        if not decided and not dirty and not inherited:
            return  # nothing new: nothing written, nothing saved
        # 2. save the decisions before any write (a conflict here costs nothing: decide again)
        opened = bool(decided or inherited)
        await store.record_job(JOB, {"open": env.run_id if opened else None, "run": env.run_id, "event": env.event})
        head = await state.save(db, loaded.commit, f"run {env.run_id} ({env.event}): decided") if not env.dry_run else None
        # 3. perform: this run's actions, then what an earlier run that is over left pending
        await pipeline.executor.perform_all(decided)
        taken = [] if others_busy else await store.lease_actions(limit=10_000, held_too=True)
        taken = [i for i in taken if i.id not in {d.id for d in decided}]
        await pipeline.executor.perform_all(taken)
        report.actions += len(decided) + len(taken)
        report.inherited += len(taken)
        await pipeline.flush_boards()
        # 4. save the outcomes (on a newer state, if another run saved meanwhile)
        pending = (await store.delivery_counts()).get("actions_pending", 0)
        await store.record_job(JOB, {"open": env.run_id if pending else None, "run": env.run_id, "event": env.event})
        if not env.dry_run:
            await _save_outcomes(env, state, db, head, store)
        report.saved = not env.dry_run
    finally:
        await bot.close()


async def _save_outcomes(env: ActionEnv, state: StateBranch, db: Path, head: str | None, store: Store) -> None:
    """Save the run's outcomes on top of its first save; when another run saved meanwhile, copy the
    outcomes (which actions are done, the boards written) onto that newer state and save that."""
    outcomes = await store.action_outcomes()
    for attempt in range(MAX_CONFLICTS):
        try:
            await state.save(db, head, f"run {env.run_id} ({env.event}): performed")
            return
        except Conflict:
            newer = env.temp / f"hackathon-bot-{env.run_id}-newer-{attempt}.db"
            newer.unlink(missing_ok=True)
            loaded = await state.load(newer)
            other = Store(f"sqlite:///{newer}")
            try:
                await other.init([])
                await other.apply_action_outcomes(outcomes)
            finally:
                await other.close()
            db, head = newer, loaded.commit
    raise Conflict(f"{env.repository}: the state kept moving while this run saved its outcomes")


class ReadThrough(DryRunGitHub):
    """Dry-run inside a workflow: GitHub is read for real, every write is only logged."""

    def __init__(self, real: GitHubApi, *, login: str) -> None:
        super().__init__(login=login)
        self.real = real

    async def installation(self, installation_id: int | None) -> DryRunInstallation:
        inst = await super().installation(installation_id)
        return _ReadThroughInstallation.wrap(inst, await self.real.installation(installation_id))

    def request_count(self) -> int:
        return self.real.request_count()


class _ReadThroughInstallation(DryRunInstallation):
    """Reads from the real installation; writes remembered and logged by the dry-run one."""

    real: InstallationApi

    @classmethod
    def wrap(cls, dry: DryRunInstallation, real: InstallationApi) -> _ReadThroughInstallation:
        dry.__class__ = cls
        out: _ReadThroughInstallation = dry  # type: ignore[assignment]
        out.real = real
        return out

    async def list_comments(self, repo: str, number: int, *, since: Any = None) -> list[dict]:
        return await self.real.list_comments(repo, number, since=since)

    async def get_issue(self, repo: str, number: int) -> dict:
        issue = await self.real.get_issue(repo, number)
        key = self._key(repo, number)
        return {**issue, "body": self._bodies[key]} if key in self._bodies else issue

    async def get_pull(self, repo: str, number: int) -> dict | None:
        return await self.real.get_pull(repo, number)

    async def pr_files(self, repo: str, number: int, *, head_sha: str | None = None) -> list[dict]:
        return await self.real.pr_files(repo, number, head_sha=head_sha)

    async def list_pulls(self, repo: str, *, page: int, per_page: int = 100) -> list[dict]:
        return await self.real.list_pulls(repo, page=page, per_page=per_page)

    async def collaborator_permission(self, repo: str, user: str) -> str:
        return await self.real.collaborator_permission(repo, user)

    async def branch_head(self, repo: str, branch: str) -> str | None:
        return await self.real.branch_head(repo, branch)

    async def contents(self, repo: str, path: str, *, ref: str) -> list[dict] | dict | None:
        return await self.real.contents(repo, path, ref=ref)

    async def blob(self, repo: str, sha: str) -> bytes:
        return await self.real.blob(repo, sha)

    async def run_status(self, repo: str, run_id: int) -> str | None:
        return await self.real.run_status(repo, run_id)
