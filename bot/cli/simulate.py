"""`bot simulate SCENARIO.yml`: rehearse a campaign before going live.

A scenario is a sequence of events (comments, pull requests opened / pushed / edited / merged /
closed with their files, time passing); each runs through the real pipeline (`bot.app.assemble`
with `gateway=None`: routing, decide, the store, the executor in dry-run) against one temporary
SQLite store and an injected `FakeClock`, and what the bot would do is printed: each reply,
checklist, label change and check run, then the final board of every campaign touched.

This module owns the scenario format, the simulated GitHub side (`SimulatedRepos`: the pull
requests a scenario opened, their files and labels, the commenters' permissions; it is the
pipeline's `Facts` provider, so PR file checks work without GitHub) and the printing.

Scenario format (YAML; every field but `steps` optional; `examples/simulate-*.yml` show them all)::

    rules: rules/            # the rules directory, relative to the scenario (default: RULES_DIR)
    campaign: acme           # the campaign whose tracker and first repository are the defaults
    start: 2026-03-02T09:00:00Z
    permissions: {helper: write}   # repository permission of commenters (default: read)
    steps:
      - comment: "claim No.1"      # by `by`, on the tracker unless `on:` says "#N" or "owner/repo#N"
        by: alice
      - pr: 10                     # in the campaign's first repository unless `repo:` says otherwise
        action: opened             # opened | pushed | edited | merged | closed | reopened
        by: alice
        title: "[Hackathon 2nd No.1] Add resize"
        files: [src/widgets/resize.py]   # or {filename, status, previous_filename}
      - wait: 15 days              # seconds, minutes, hours or days; then the periodic sweeps run

Errors in the scenario are one line each (file:line: what to fix), exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import sys
import tempfile
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.app import App, assemble
from bot.clock import FakeClock
from bot.core.actions import (
    AddLabels,
    Assign,
    CheckRun,
    ImportCollections,
    Notice,
    Reply,
    SetLabels,
    UpsertChecklist,
    action_from_dict,
)
from bot.core.board import render_board
from bot.core.model import CampaignState
from bot.core.review import ChangedFile
from bot.github.dryrun import DryRunGitHub
from bot.rules.loader import RulesError, line_of, load_rules, parse_file
from bot.rules.models import CampaignRules, Rules
from bot.settings import Settings, StartupError

SWEEP_STEP = 86400.0  # a `wait` runs the claim sweeps once per simulated day (the bot: every 10 minutes)
PR_ACTIONS = ("opened", "pushed", "edited", "merged", "closed", "reopened")
_WAIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?)?\s*$", re.IGNORECASE)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
INSTALLATION = 1


class ScenarioError(Exception):
    """A scenario that cannot run; the message is one line per problem (file:line: what to fix)."""


# ---- the scenario file ---------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileSpec(_Strict):
    filename: str
    status: Literal["added", "removed", "modified", "renamed", "copied", "changed", "unchanged"] = "modified"
    previous_filename: str | None = None


class Step(_Strict):
    comment: str | None = None
    on: str | None = Field(None, description='"tracker" (default), "#N" in the campaign\'s first repository, or "owner/repo#N"')
    pr: int | None = Field(None, ge=1)
    action: Literal["opened", "pushed", "edited", "merged", "closed", "reopened"] | None = None
    repo: str | None = None
    title: str | None = None
    body: str | None = None
    files: list[str | FileSpec] | None = None
    by: str | None = None
    wait: str | float | None = None


class Scenario(_Strict):
    rules: str | None = None
    campaign: str | None = None
    start: datetime | None = None
    permissions: dict[str, Literal["admin", "maintain", "write", "triage", "read", "none"]] = Field(default_factory=dict)
    steps: list[Step]


def wait_seconds(value: str | float) -> float | None:
    """`15 days`, `3h`, `90` (seconds) -> seconds; None when unreadable."""
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    m = _WAIT.match(value)
    if m is None:
        return None
    unit = (m.group(2) or "s")[0].lower()
    return float(m.group(1)) * _UNIT[unit]


def _step_problem(step: Step) -> str | None:
    kinds = [k for k in ("comment", "pr", "wait") if getattr(step, k) is not None]
    if len(kinds) != 1:
        return "a step is exactly one of `comment:`, `pr:` or `wait:`"
    if step.comment is not None and not step.by:
        return "a comment needs `by:` (who writes it)"
    if step.pr is not None and step.action is None:
        return f"a pr step needs `action:` ({' | '.join(PR_ACTIONS)})"
    if step.wait is not None and wait_seconds(step.wait) is None:
        return "`wait:` is a duration such as `90`, `30 minutes`, `3 hours` or `15 days`"
    return None


def load_scenario(path: Path) -> Scenario:
    doc, scenario, problems = parse_file(path, str(path), Scenario)
    if problems:
        raise ScenarioError("\n".join(str(p) for p in problems))
    assert isinstance(scenario, Scenario)
    errors = []
    for i, step in enumerate(scenario.steps):
        why = _step_problem(step)
        if why:
            line = line_of(doc, ("steps", i))
            errors.append(f"{path}:{line or '?'}: steps[{i}]: {why}")
    if errors:
        raise ScenarioError("\n".join(errors))
    return scenario


# ---- the simulated GitHub side ------------------------------------------------------------------
@dataclass
class SimPull:
    repo: str
    number: int
    title: str
    body: str
    author: str
    files: list[ChangedFile]
    state: str = "open"
    merged: bool = False
    labels: list[str] = field(default_factory=list)
    pushes: int = 0

    @property
    def head_sha(self) -> str:
        return hashlib.sha1(f"{self.repo}#{self.number}@{self.pushes}".encode()).hexdigest()

    def as_github(self) -> dict:
        """The pull-request object as GitHub's REST API and webhooks give it (the fields the bot reads)."""
        return {
            "number": self.number,
            "title": self.title,
            "body": self.body,
            "user": {"login": self.author, "type": "User"},
            "state": self.state,
            "merged": self.merged,
            "html_url": f"https://github.com/{self.repo}/pull/{self.number}",
            "head": {"sha": self.head_sha},
            "labels": [{"name": n} for n in self.labels],
            "changed_files": len(self.files),
        }


class SimulatedRepos:
    """The pull requests and permissions of a scenario: the pipeline's source of facts."""

    def __init__(self, permissions: Mapping[str, str]) -> None:
        self.pulls: dict[tuple[str, int], SimPull] = {}
        self.permissions = {k.lower(): v for k, v in permissions.items()}
        self.checklists: dict[tuple[str, int], str] = {}
        self.checks: dict[tuple[str, int], tuple[str, str, str]] = {}

    def pull_of(self, repo: str, number: int) -> SimPull | None:
        return self.pulls.get((repo.lower(), number))

    async def pr_files(
        self, repo: str, number: int, installation_id: int | None, head_sha: str | None = None
    ) -> list[ChangedFile]:
        pr = self.pull_of(repo, number)
        return list(pr.files) if pr else []

    async def pull(self, repo: str, number: int, installation_id: int | None) -> dict | None:
        pr = self.pull_of(repo, number)
        return pr.as_github() if pr else None

    async def permission(self, repo: str, user: str, installation_id: int | None) -> str | None:
        return self.permissions.get(user.lower(), "read")

    async def file(self, repo: str, path: str, ref: str | None, installation_id: int | None) -> dict | None:
        return None  # a scenario holds no repository files (its RFCs are its PRs)


# ---- running -----------------------------------------------------------------------------------
@dataclass
class Result:
    """What a simulation printed, and the store's final state of every campaign (for tests)."""

    text: str
    states: dict[str, CampaignState]
    boards: dict[str, str]


def _indent(text: str) -> str:
    return textwrap.indent(text.rstrip("\n"), "    ")


def _files(specs: list[str | FileSpec]) -> list[ChangedFile]:
    out = []
    for s in specs:
        spec = FileSpec(filename=s) if isinstance(s, str) else s
        out.append(ChangedFile(spec.filename, spec.status, spec.previous_filename))
    return out


def _user(login: str) -> dict:
    return {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"}


class Simulation:
    def __init__(self, scenario: Scenario, rules: Rules, home: CampaignRules, lines: list[str]) -> None:
        self.scenario = scenario
        self.rules = rules
        self.home = home
        self.lines = lines
        self.repos = SimulatedRepos(scenario.permissions)
        self._comment_ids = iter(range(1_000_001, 10_000_000))

    def say(self, text: str) -> None:
        self.lines.append(text)

    # -- events
    def _target(self, on: str | None) -> tuple[str, int]:
        if on in (None, "tracker"):
            camp = self.home.campaign
            if camp.tracker_repo is None or camp.tracker_number is None:
                raise ScenarioError(f"campaign {self.home.slug} has no tracker: give the comment an `on:`")
            return camp.tracker_repo, camp.tracker_number
        repo, _, num = on.partition("#")
        if not num.isdigit():
            raise ScenarioError(f'`on: {on}`: write "tracker", "#N" or "owner/repo#N"')
        return (repo or self._default_repo()), int(num)

    def _default_repo(self) -> str:
        repos = self.home.campaign.repos or ([self.home.campaign.tracker_repo] if self.home.campaign.tracker_repo else [])
        if not repos:
            raise ScenarioError(f"campaign {self.home.slug} names no repository: give the step a `repo:`")
        return repos[0]

    def comment_payload(self, step: Step) -> tuple[str, dict]:
        repo, number = self._target(step.on)
        pr = self.repos.pull_of(repo, number)
        assert step.by is not None and step.comment is not None
        issue: dict[str, Any] = {
            "number": number,
            "title": pr.title if pr else "",
            "user": _user(pr.author if pr else "organiser"),
        }
        if pr is not None:
            issue["pull_request"] = {"url": f"https://api.github.com/repos/{repo}/pulls/{number}"}
        cid = next(self._comment_ids)
        self.say(f"== {step.by} comments on {repo}#{number}: {json.dumps(step.comment, ensure_ascii=False)}")
        return "issue_comment", {
            "action": "created",
            "issue": issue,
            "comment": {
                "id": cid,
                "body": step.comment,
                "user": _user(step.by),
                "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{cid}",
            },
            "repository": {"full_name": repo},
            "installation": {"id": INSTALLATION},
            "sender": _user(step.by),
        }

    def pull_payload(self, step: Step) -> tuple[str, dict]:
        assert step.pr is not None and step.action is not None
        repo = step.repo or self._default_repo()
        pr = self.repos.pull_of(repo, step.pr)
        if pr is None:
            if step.action != "opened":
                raise ScenarioError(f"PR {repo}#{step.pr} is `{step.action}` before it was opened")
            if not step.by or step.title is None:
                raise ScenarioError(f"opening PR {repo}#{step.pr} needs `by:` and `title:`")
            pr = SimPull(repo, step.pr, step.title, step.body or "", step.by, _files(step.files or []))
            self.repos.pulls[(repo.lower(), step.pr)] = pr
        else:
            if step.title is not None:
                pr.title = step.title
            if step.body is not None:
                pr.body = step.body
            if step.files is not None:
                pr.files = _files(step.files)
        action = {"pushed": "synchronize", "merged": "closed"}.get(step.action, step.action)
        if step.action == "pushed":
            pr.pushes += 1
        if step.action in ("merged", "closed"):
            pr.state, pr.merged = "closed", step.action == "merged"
        elif step.action == "reopened":
            pr.state = "open"
        what = {
            "opened": "opens",
            "pushed": "pushes to",
            "edited": "edits",
            "merged": "merges",
            "closed": "closes",
            "reopened": "reopens",
        }[step.action]
        who = step.by or (pr.author if step.action in ("opened", "pushed", "edited") else "a maintainer")
        self.say(f"== {who} {what} PR {repo}#{pr.number} {json.dumps(pr.title, ensure_ascii=False)} ({len(pr.files)} file(s))")
        return "pull_request", {
            "action": action,
            "number": pr.number,
            "pull_request": pr.as_github(),
            "repository": {"full_name": repo},
            "installation": {"id": INSTALLATION},
            "sender": _user(who if step.by else pr.author),
        }

    # -- what the bot did
    def show(self, line: str) -> None:
        """One dry-run line of the executor or the board flusher, printed for people."""
        try:
            data = json.loads(line)
        except ValueError:
            self.say("  " + line)
            return
        if data.get("kind") == "UpdateBoard":
            self.say(f"  board updated on {data['tracker']}")
            return
        try:
            action = action_from_dict(data)
        except (KeyError, TypeError):
            self.say("  " + line)
            return
        key = (action.repo.lower(), action.number)
        match action:
            case Reply(repo=repo, number=number, body=body):
                self.say(f"  reply on {repo}#{number}:\n{_indent(body)}")
            case UpsertChecklist(repo=repo, number=number, body=body):
                if self.repos.checklists.get(key) == body:
                    self.say(f"  checklist on {repo}#{number}: unchanged")
                else:
                    verb = "edited" if key in self.repos.checklists else "posted"
                    self.repos.checklists[key] = body
                    self.say(f"  checklist {verb} on {repo}#{number}:\n{_indent(body)}")
            case SetLabels(repo=repo, number=number, labels=labels):
                pr = self.repos.pull_of(repo, number)
                old = set(pr.labels) if pr else set()
                change = [f"+{x}" for x in sorted(set(labels) - old)] + [f"-{x}" for x in sorted(old - set(labels))]
                if pr:
                    pr.labels = list(labels)
                self.say(f"  labels on {repo}#{number}: {' '.join(change) or 'unchanged'} (now: {', '.join(labels) or 'none'})")
            case AddLabels(repo=repo, number=number, labels=labels):
                self.say(f"  labels on {repo}#{number}: {' '.join('+' + x for x in labels)}")
            case Assign(repo=repo, number=number, users=users):
                self.say(f"  assigned {repo}#{number} to {', '.join('@' + u for u in users)}")
            case CheckRun(repo=repo, number=number, head_sha=sha, conclusion=conclusion, title=title, name=name):
                seen = (sha, conclusion, title)
                if self.repos.checks.get(key) == seen:
                    self.say(f"  check run {name} on {repo}#{number}: unchanged")
                else:
                    self.repos.checks[key] = seen
                    self.say(f"  check run {name} on {repo}#{number} @ {sha[:7]}: {conclusion} ({title})")
            case Notice(repo=repo, number=number, body=body):
                self.say(f"  notice on {repo}#{number}:\n{_indent(body)}")
            case ImportCollections(campaign=slug, requested_by=who):
                self.say(f"  import of {slug}'s collections, asked by @{who}: proposed as a pull request (not simulated)")


async def run(path: Path, *, rules_dir: str | None = None) -> Result:
    """Run a scenario; raises ScenarioError (or RulesError) when it cannot."""
    scenario = load_scenario(path)
    rules = load_rules(rules_dir or (path.parent / scenario.rules if scenario.rules else Settings().rules_dir))
    if not rules.campaigns:
        raise ScenarioError(f"{path}: no campaign in the rules directory")
    if scenario.campaign and scenario.campaign not in rules.campaigns:
        raise ScenarioError(f"{path}: campaign {scenario.campaign!r} is not in the rules ({', '.join(sorted(rules.campaigns))})")
    home = rules.campaigns[scenario.campaign or min(rules.campaigns)]
    s = scenario.start or datetime(2026, 1, 5, 9, tzinfo=UTC)
    if s.tzinfo is not None:
        s = s.astimezone(UTC)
    # a plain datetime (YAML's timestamp type is a subclass the database drivers refuse)
    clock = FakeClock(datetime(s.year, s.month, s.day, s.hour, s.minute, s.second, tzinfo=UTC))
    lines: list[str] = []
    sim = Simulation(scenario, rules, home, lines)
    out: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/simulate.db", board_delay=0, _env_file=None)
        github = DryRunGitHub(say=lambda line: None)
        bot = await assemble(settings, rules=rules, github=github, trace=out.append, clock=clock, facts=sim.repos)
        try:
            for step in scenario.steps:
                if step.wait is not None:
                    seconds = wait_seconds(step.wait) or 0.0
                    said = step.wait if isinstance(step.wait, str) else f"{seconds:g} seconds"
                    sim.say(f"== {said} pass (until {clock.now() + timedelta(seconds=seconds):%Y-%m-%d %H:%M} UTC)")
                    while seconds > 0:  # the claim sweeps run along the way (daily), so reminders come before lapses
                        await clock.advance(min(seconds, SWEEP_STEP))
                        seconds -= SWEEP_STEP
                        await bot.pipeline.lapse_expired_claims()
                        await _drain(bot, clock, settings.lease_seconds)
                else:
                    event, payload = sim.comment_payload(step) if step.comment is not None else sim.pull_payload(step)
                    await bot.pipeline.handle(None, event, payload)
                await bot.pipeline.flush_boards()
                for line in out:
                    sim.show(line)
                out.clear()
            states = {slug: await bot.store.state(slug) for slug in rules.campaigns}
        finally:
            await bot.close()
    boards = {}
    for slug, state in states.items():
        if not state.claims and not state.prs and not state.closed_tasks:
            continue
        c = rules.campaigns[slug]
        boards[slug] = render_board(c, state, c.campaign.language)
        sim.say(f"== final board of {slug} ({c.campaign.tracker or 'no tracker'})\n{boards[slug]}")
    return Result("\n".join(lines) + "\n", states, boards)


async def _drain(bot: App, clock: FakeClock, lease_seconds: float) -> None:
    """Perform what a sweep queued (its actions are leased to the sweeper; in simulated time the
    lease simply runs out)."""
    if not await bot.store.pending_work():
        return
    await clock.advance(lease_seconds + 1)
    while items := await bot.store.lease_actions():
        await bot.pipeline.perform(items)


def simulate(args: argparse.Namespace, settings: Settings) -> int:
    """`bot simulate SCENARIO.yml`: the scenario's story on stdout."""
    try:
        result = asyncio.run(run(Path(args.scenario), rules_dir=args.rules))
    except (ScenarioError, RulesError) as exc:  # each line names its file and line
        raise StartupError(str(exc), located=True) from None
    except OSError as exc:
        raise StartupError(f"{args.scenario}: {exc.strerror or exc}", located=True) from None
    sys.stdout.write(result.text)
    return 0
