"""PR review: a pull request's files and body against its tasks' rules -> a checklist and labels.

Pure: `review_pr` takes the rules, the PR, its changed files, its body and the campaign state
and returns a `Review` (check items + the campaign-managed labels the PR should carry);
`render_checklist` turns a Review into the one checklist comment (zh or en), which starts with
`CHECKLIST_MARKER` so the bot finds and edits it in place.

Checks, per task named in the title (ids unknown to the campaign give one `unknown_task` fail):

- `claim`: pass when the author holds a claim on the task (case-insensitive). Otherwise:
  the task is closed -> warn (`reason="closed"`, see `ClaimReason`); others hold it up to its capacity
  (`rules.max_claimants(task)`) -> warn naming them, label `needs_claim`; else the task has
  room -> warn (`reason="implicit"`): **a PR on a free task counts as a claim** — decide.py
  records an implicit claim for the author, and the checklist says so.
- code PR on a task that is `Task.checkable` (target paths, required tests or the RFC): `targets`
  (changed files of the PR's repo outside every target: none inside -> fail + `outside_targets`,
  some outside -> warn, all inside -> pass, no targets -> skip; a renamed file counts as inside only
  when both its old and new paths are; the task's required test files count as inside; targets that
  name only repositories check only the repository: `repo_only`), `tests` (an added,
  modified, renamed, copied or changed file matching the task's test globs -> pass, else fail +
  `needs_tests`; no globs -> skip), `rfc` (required: the author's merged RFC PR for the task ->
  pass; a link in the visible text of the description that the shell read from GitHub and
  found to be a merged RFC PR of the task's RFC repo adding a document under its RFC directory,
  or such a document (`/blob/<ref>/<path>`) -> pass, an open one -> warn; the author's open RFC
  PR -> warn "under review"; else fail + `needs_rfc`, listing what the links were found to be
  instead (`RfcVerdict`: another host or repository, a hidden link, no such PR, a directory...);
  not required -> skip).
  A task checkable through its RFC alone (no paths, no tests): its code PR is `ready` when the
  RFC check finds nothing to fix (the RFC is what the bot verified), and its `targets` line says
  that only the repository was checked, not which files changed.
- code PR on a task that is not `Task.checkable` (its rules name only repositories, or nothing):
  the repository is checked when one is named (`targets` with `repo_only`: a PR elsewhere fails
  with `wrong_repo`), then one `unchecked` warn saying what a maintainer must look at (the changed
  files against the task's acceptance): the bot verified nothing else, so the PR is never `ready`
  and its check run is `action_required`.
- RFC PR only: `rfc_file` (an added/modified/renamed file under the task's RFC directory, in
  the RFC repo -> pass, else fail; no RFC directory known -> one `unchecked` warn instead, as
  nothing could be verified).
- A code PR in a repository none of the task's targets names fails `targets` with
  `wrong_repo` set, so the checklist says where the work should go (the repositories, no globs).
- `title`: one warn per title hint.
- A revert PR gets a single `revert` item (reverts are never credited) and only the campaign label.
- A PR a maintainer marked invalid (`labels.invalid` or `spam`: `PullRequest.withdrawn_by`) gets an
  `invalid` item first, saying who marked it and that it earns no credit; it is never `ready`.

Labels: the campaign label always; `ready` when no item failed, nothing was left unchecked and
the PR does not carry `needs_claim` (a PR on a task someone else holds is not ready however good
it is); never on a revert.

The check run (`check_conclusion`) reflects the part of the PR that is credited: a task someone
else holds, or one over the author's per-person limit, is not credited, and its items do not
count. `neutral` when nothing is credited (a revert, a PR marked invalid, or every task someone
else's), else `failure` when an item of the credited part failed, else `success` when the PR is
`ready`, else `action_required` (a maintainer must look: a task the bot could not check, or the
uncredited tasks of a partly credited PR, or a PR over the limit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.core import texts
from bot.core.actions import Conclusion
from bot.core.commands import clean_lines
from bot.core.model import CampaignState, PrKind, PrState, PullRequest, Stage
from bot.core.texts import Lang
from bot.rules.models import CampaignRules, Task, path_matches

CHECKLIST_MARKER = "<!-- hackathon-bot:checklist -->"
SHOW_FILES = 20  # file lists in the checklist are cut here ("and N more")

_WRITTEN = {"added", "modified", "renamed", "copied", "changed"}
CHECK_NAME = "hackathon/checklist"
MAX_SUMMARY = 65_000  # GitHub refuses a check run output summary over 65,535 characters


class CheckCode(StrEnum):
    """What one checklist item checks (see the module docstring); templates/<lang>/checklist.j2 has a text for each."""

    CLAIM = "claim"
    TARGETS = "targets"
    TESTS = "tests"
    RFC = "rfc"
    RFC_FILE = "rfc_file"
    UNCHECKED = "unchecked"
    REVERT = "revert"
    UNKNOWN_TASK = "unknown_task"
    TOO_MANY_TASKS = "too_many_tasks"
    TITLE = "title"
    INVALID = "invalid"


class CheckStatus(StrEnum):
    """How one checklist item came out."""

    PASS = "pass"
    FAIL = "fail"  # the author must fix it (the PR is not `ready`)
    WARN = "warn"  # worth reading (it blocks `ready` only for a task someone else holds or an unchecked one)
    SKIP = "skip"  # the task asks nothing of this kind


class ClaimReason(StrEnum):
    """Why a `claim` item warns (its `reason` param): the PR's author does not hold the task."""

    IMPLICIT = "implicit"  # the task had room: the PR counts as the author's claim
    CLOSED = "closed"  # the task is closed to new claims: a maintainer decides
    HELD = "held"  # others hold it up to its capacity: not credited, `needs_claim`
    USER_LIMIT = "user_limit"  # the author is at the per-person limit: not credited, `needs_claim`


class RfcFound(StrEnum):
    """How the `rfc` item found the design document (its `how` param; None when it found none)."""

    MERGED = "merged"  # the author's merged RFC PR for the task
    OPEN = "open"  # an RFC PR still under review (the author's, or one the body links to)
    BODY = "body"  # a link in the PR's description


class RfcVerdict(StrEnum):
    """What a link in a PR's description turned out to be, read from GitHub by the shell (see
    `rfc_links` and `RfcEvidence`). Only MERGED and FILE are a design document; OPEN is one under
    review; the rest are what the checklist reports as found instead."""

    MERGED = "merged"  # a merged PR of the RFC repository adding a document under the RFC directory
    OPEN = "open"  # ... still open
    FILE = "file"  # a document (a file) under the RFC directory of the RFC repository
    CLOSED = "closed"  # a PR closed without being merged
    MISSING = "missing"  # no such PR or file on GitHub
    OUTSIDE = "outside"  # a PR or file of the RFC repository with nothing under the RFC directory
    DIRECTORY = "directory"  # a directory (the RFC directory itself, say), not a document
    OTHER_REPO = "other_repo"  # a link into another repository
    OTHER_HOST = "other_host"  # a link to a host that is not this GitHub
    HIDDEN = "hidden"  # only inside an HTML comment, code or a quote: not visible in the description


@dataclass(frozen=True)
class RfcLink:
    """A link to a pull request or a file of some GitHub repository, found in a PR's description."""

    url: str  # as written (cut to MAX_LINK characters)
    host: str
    repo: str  # owner/name as written
    kind: str  # "pull" | "blob" | "tree"
    number: int | None = None  # pull
    ref: str | None = None  # blob/tree: the branch, tag or commit
    path: str = ""  # blob/tree: the path after the ref
    visible: bool = True


@dataclass(frozen=True)
class RfcEvidence:
    """One link of the description, judged against one task's RFC repository and directory."""

    url: str
    verdict: RfcVerdict
    number: int | None = None


MAX_LINK = 300  # characters of a link kept (and shown back)
MAX_RFC_LINKS = 20  # links of a description considered at most
_GITHUB_LINK = re.compile(
    r"https?://(?P<host>[A-Za-z0-9][A-Za-z0-9.:-]{0,252}+)/(?P<owner>[A-Za-z0-9][A-Za-z0-9-]{0,38}+)/"
    r"(?P<name>[A-Za-z0-9._-]{1,100}+)/(?:pull/(?P<number>[0-9]{1,9}+)(?![0-9])|(?P<kind>blob|tree)/"
    r"(?P<rest>[^\s)\]>\"'<`]{1,1000}+))",
    re.IGNORECASE,
)


def rfc_links(body: str) -> tuple[RfcLink, ...]:
    """The links to GitHub pull requests and files in a PR's description (at most MAX_RFC_LINKS),
    each marked visible or not: a link only inside an HTML comment, code or a quote is not.
    Pure and linear in the description's length (the shell runs it under its time budget)."""
    seen_visible = {m.group(0) for m in _GITHUB_LINK.finditer("\n".join(clean_lines(body)))}
    out: dict[str, RfcLink] = {}
    for m in _GITHUB_LINK.finditer(body):
        url = m.group(0)
        if url in out:
            continue
        number = m.group("number")
        ref, path = None, ""
        if m.group("rest"):
            ref, _, path = m.group("rest").partition("/")
            path = path.split("#", 1)[0].split("?", 1)[0].strip("/")
        out[url] = RfcLink(
            url=url[:MAX_LINK],
            host=m.group("host").lower(),
            repo=f"{m.group('owner')}/{m.group('name')}".removesuffix(".git"),
            kind="pull" if number else m.group("kind").lower(),
            number=int(number) if number else None,
            ref=ref,
            path=path,
            visible=url in seen_visible,
        )
        if len(out) >= MAX_RFC_LINKS:
            break
    return tuple(out.values())


def rfc_dir(path: str | None) -> str:
    """The RFC directory as a path prefix ("" when none is set: the whole repository)."""
    return (path or "").strip("/")


def under_rfc_dir(filename: str, path: str | None) -> bool:
    """Whether a file lies under the RFC directory (a file, not the directory itself)."""
    d = rfc_dir(path).lower()
    return not d or filename.lower().startswith(d + "/")


def rfc_link_verdict(link: RfcLink, repo: str, path: str | None, hosts: tuple[str, ...]) -> RfcVerdict | None:
    """What a link is for a task whose RFC lives in `repo` under `path`, as far as the link itself
    tells (None: GitHub must be asked: a pull request, or a file under the directory)."""
    if not link.visible:
        return RfcVerdict.HIDDEN
    if link.host not in hosts:
        return RfcVerdict.OTHER_HOST
    if link.repo.lower() != repo.lower():
        return RfcVerdict.OTHER_REPO
    if link.kind == "pull":
        return None
    if link.kind == "tree" or link.path.lower() == rfc_dir(path).lower() or not link.path:
        return RfcVerdict.DIRECTORY
    return None if under_rfc_dir(link.path, path) else RfcVerdict.OUTSIDE


@dataclass(frozen=True)
class ChangedFile:
    filename: str
    status: str  # GitHub diff-entry status: added|removed|modified|renamed|copied|changed|unchanged
    previous_filename: str | None = None


@dataclass(frozen=True)
class CheckItem:
    code: CheckCode  # plain strings are accepted and checked (an unknown one raises ValueError)
    status: CheckStatus
    params: dict = field(default_factory=dict, compare=True)

    def __post_init__(self) -> None:
        if type(self.code) is not CheckCode:
            object.__setattr__(self, "code", CheckCode(self.code))
        if type(self.status) is not CheckStatus:
            object.__setattr__(self, "status", CheckStatus(self.status))


@dataclass(frozen=True)
class Review:
    pr: PullRequest
    items: tuple[CheckItem, ...]
    labels: tuple[str, ...]  # the campaign-managed labels this PR should carry (sorted)

    @property
    def ready(self) -> bool:
        """No item failed, the task is not someone else's (nor over the author's limit), and the PR is not a revert."""
        return self.pr.credits and all(
            i.status != CheckStatus.FAIL
            and i.code != CheckCode.UNCHECKED
            and i.params.get("reason") not in (ClaimReason.HELD, ClaimReason.USER_LIMIT)
            for i in self.items
        )


def managed_labels(rules: CampaignRules) -> set[str]:
    """Every label the bot owns for this campaign (it adds and removes only these). Not `invalid`:
    maintainers put it on and take it off; the bot only reads it."""
    labels = rules.campaign.labels
    return set(labels.model_dump(exclude={"invalid"}).values()) - invalid_labels(rules)


def invalid_labels(rules: CampaignRules) -> set[str]:
    """The labels (lower case) by which a maintainer withdraws a PR's credit: `labels.invalid` and `spam`."""
    return {rules.campaign.labels.invalid.lower(), "spam"}


def _cut(names: list[str]) -> tuple[list[str], int]:
    return names[:SHOW_FILES], max(0, len(names) - SHOW_FILES)


def _check_claim(
    rules: CampaignRules, task: Task, pr: PullRequest, state: CampaignState, over_limit: dict[int, int]
) -> tuple[CheckItem, str | None]:
    if state.claim(task.id, pr.author):
        return CheckItem(CheckCode.CLAIM, CheckStatus.PASS, {"task": task.id, "user": pr.author}), None
    if task.id in over_limit:
        held = sorted(c.task for c in state.claims_of(pr.author) if c.stage != Stage.COMPLETED)
        return (
            CheckItem(
                CheckCode.CLAIM,
                CheckStatus.WARN,
                {
                    "task": task.id,
                    "user": pr.author,
                    "reason": ClaimReason.USER_LIMIT,
                    "limit": over_limit[task.id],
                    "held": held,
                },
            ),
            rules.campaign.labels.needs_claim,
        )
    if task.id in state.closed_tasks:
        return CheckItem(
            CheckCode.CLAIM, CheckStatus.WARN, {"task": task.id, "user": pr.author, "reason": ClaimReason.CLOSED}
        ), None
    holders = [c.user for c in sorted(state.claims_on(task.id), key=lambda c: (c.claimed_at, c.user.lower()))]
    cap = rules.max_claimants(task)
    if cap is not None and len(holders) >= cap:
        return (
            CheckItem(
                CheckCode.CLAIM,
                CheckStatus.WARN,
                {"task": task.id, "user": pr.author, "reason": ClaimReason.HELD, "holders": holders},
            ),
            rules.campaign.labels.needs_claim,
        )
    return CheckItem(
        CheckCode.CLAIM,
        CheckStatus.WARN,
        {"task": task.id, "user": pr.author, "reason": ClaimReason.IMPLICIT, "holders": holders},
    ), None


def target_list(task: Task) -> list[str]:
    out: list[str] = []
    for t in task.targets:
        if t.paths:
            out.extend(f"{t.repo}: {p}" for p in t.paths)
        else:
            out.append(t.repo)  # the whole repository: no glob to show
    return out


def _distinct(names: list[str]) -> list[str]:
    """Names in order, each once (case-insensitively)."""
    out: dict[str, str] = {}
    for n in names:
        out.setdefault(n.lower(), n)
    return list(out.values())


def _inside(task: Task, repo: str, path: str) -> bool:
    """Inside a target, or one of the task's required test files (in a repository the task targets)."""
    if task.in_targets(repo, path):
        return True
    return task.is_required_test(path) and repo.lower() in {r.lower() for r in task.target_repos()}


def _check_targets(rules: CampaignRules, task: Task, pr: PullRequest, files: list[ChangedFile]) -> tuple[CheckItem, str | None]:
    if not task.targets:
        return CheckItem(CheckCode.TARGETS, CheckStatus.SKIP, {"task": task.id}), None
    repos = _distinct(task.target_repos())
    if pr.repo.lower() not in {r.lower() for r in repos}:
        params: dict[str, Any] = {"task": task.id, "inside": 0, "outside": [], "more": 0, "targets": target_list(task)}
        return CheckItem(
            CheckCode.TARGETS, CheckStatus.FAIL, {**params, "wrong_repo": pr.repo}
        ), rules.campaign.labels.outside_targets
    if not any(t.paths for t in task.targets):
        # the task names repositories only: where the PR is was checked, not what it changes
        return CheckItem(CheckCode.TARGETS, CheckStatus.PASS, {"task": task.id, "repo_only": True, "repos": repos}), None
    inside, outside = 0, []
    for f in files:
        ok = _inside(task, pr.repo, f.filename)
        if ok and f.status == "renamed" and f.previous_filename:
            ok = _inside(task, pr.repo, f.previous_filename)
        if ok:
            inside += 1
        else:
            outside.append(f.filename)
    shown, more = _cut(outside)
    params = {"task": task.id, "inside": inside, "outside": shown, "more": more, "targets": target_list(task)}
    if inside == 0:
        return CheckItem(CheckCode.TARGETS, CheckStatus.FAIL, params), rules.campaign.labels.outside_targets
    if outside:
        return CheckItem(CheckCode.TARGETS, CheckStatus.WARN, params), None
    return CheckItem(CheckCode.TARGETS, CheckStatus.PASS, params), None


SHOW_ACCEPTANCE = 10  # acceptance criteria quoted in an `unchecked` item


def _unchecked(task: Task, pr: PullRequest, files: list[ChangedFile]) -> CheckItem:
    """What a maintainer must look at in a PR the bot could not check: the changed files (those of
    the PR's repository) against what the task asks."""
    names = [f.filename for f in files]
    shown, more = _cut(names)
    return CheckItem(
        CheckCode.UNCHECKED,
        CheckStatus.WARN,
        {
            "task": task.id,
            "kind": PrKind(pr.kind).value,
            "repos": _distinct(task.target_repos()),
            "files": shown,
            "more": more,
            "count": len(names),
            "acceptance": list(task.acceptance[:SHOW_ACCEPTANCE]),
        },
    )


def _check_tests(rules: CampaignRules, task: Task, files: list[ChangedFile]) -> tuple[CheckItem, str | None]:
    if not task.tests:
        return CheckItem(CheckCode.TESTS, CheckStatus.SKIP, {"task": task.id}), None
    found = [f.filename for f in files if f.status in _WRITTEN and task.is_required_test(f.filename)]
    shown, more = _cut(found)
    params = {"task": task.id, "files": shown, "more": more, "globs": list(task.tests)}
    if found:
        return CheckItem(CheckCode.TESTS, CheckStatus.PASS, params), None
    return CheckItem(CheckCode.TESTS, CheckStatus.FAIL, params), rules.campaign.labels.needs_tests


def _rfc_dir(path: str) -> str:
    return path.strip("/")


def _check_rfc(
    rules: CampaignRules,
    task: Task,
    pr: PullRequest,
    state: CampaignState,
    evidence: tuple[RfcEvidence, ...] = (),
) -> tuple[CheckItem, str | None]:
    """The design document: the author's merged RFC PR for the task, else a link in the description
    that the shell read from GitHub and found to be a merged (pass) or open (warn) RFC PR adding a
    document under the task's RFC directory, or such a document; else the author's open RFC PR
    (warn); else fail, saying what the links found instead were (`found`)."""
    if not task.rfc.required:
        return CheckItem(CheckCode.RFC, CheckStatus.SKIP, {"task": task.id}), None
    repo, path = task.rfc_location(rules.campaign)
    mine = sorted(
        (p for p in state.prs_for(task.id) if p.kind == PrKind.RFC and not p.revert and p.author.lower() == pr.author.lower()),
        key=lambda p: (p.repo.lower(), p.number),
    )
    merged = [p for p in mine if p.state == PrState.MERGED]
    opened = [p for p in mine if p.state == PrState.OPEN]
    base = {"task": task.id, "repo": repo, "path": path, "how": None}
    if merged:
        return CheckItem(
            CheckCode.RFC, CheckStatus.PASS, {**base, "how": RfcFound.MERGED, "link": merged[0].url, "number": merged[0].number}
        ), None
    good = next((e for e in evidence if e.verdict in (RfcVerdict.MERGED, RfcVerdict.FILE)), None)
    if good is not None:
        return CheckItem(
            CheckCode.RFC, CheckStatus.PASS, {**base, "how": RfcFound.BODY, "link": good.url, "number": good.number}
        ), None
    linked_open = next((e for e in evidence if e.verdict == RfcVerdict.OPEN), None)
    if linked_open is not None:
        return CheckItem(
            CheckCode.RFC, CheckStatus.WARN, {**base, "how": RfcFound.OPEN, "link": linked_open.url, "number": linked_open.number}
        ), None
    if opened:
        return CheckItem(
            CheckCode.RFC, CheckStatus.WARN, {**base, "how": RfcFound.OPEN, "link": opened[0].url, "number": opened[0].number}
        ), None
    found = [{"link": e.url, "verdict": e.verdict.value, "number": e.number} for e in evidence[:8]]
    return CheckItem(CheckCode.RFC, CheckStatus.FAIL, {**base, "found": found}), rules.campaign.labels.needs_rfc


def _check_rfc_file(task: Task, rules: CampaignRules, pr: PullRequest, files: list[ChangedFile]) -> CheckItem:
    repo, path = task.rfc_location(rules.campaign)
    if not path:
        return CheckItem(CheckCode.RFC_FILE, CheckStatus.SKIP, {"task": task.id})
    base = {"task": task.id, "repo": repo, "path": path}
    if repo and repo.lower() != pr.repo.lower():
        return CheckItem(CheckCode.RFC_FILE, CheckStatus.FAIL, {**base, "files": [], "wrong_repo": pr.repo})
    pattern = [_rfc_dir(path) + "/**"] if _rfc_dir(path) else ["**"]
    found = [f.filename for f in files if f.status in _WRITTEN and path_matches(f.filename, pattern)]
    shown, more = _cut(found)
    return CheckItem(CheckCode.RFC_FILE, CheckStatus.PASS if found else CheckStatus.FAIL, {**base, "files": shown, "more": more})


def review_pr(
    rules: CampaignRules,
    pr: PullRequest,
    files: list[ChangedFile],
    body: str,
    state: CampaignState,
    title_hints: tuple[str, ...] = (),
    *,
    over_limit: dict[int, int] | None = None,
    title_names: int = 0,
    rfc: dict[int, tuple[RfcEvidence, ...]] | None = None,
) -> Review:
    """`over_limit`: tasks decide did not credit because the author is at the per-person limit
    (task -> the limit); `title_names`: how many tasks the title names, when that is more than one
    person may hold (a hint); `rfc`: per task, what the description's links were found to be on
    GitHub (the shell reads them: a link counts only as what GitHub shows it is)."""
    labels: set[str] = {rules.campaign.labels.campaign}
    items: list[CheckItem] = []
    if pr.revert:
        items.append(CheckItem(CheckCode.REVERT, CheckStatus.WARN, {"tasks": list(pr.tasks)}))
        return Review(pr, tuple(items), tuple(sorted(labels)))
    if pr.withdrawn_by is not None:
        items.append(CheckItem(CheckCode.INVALID, CheckStatus.WARN, {"by": pr.withdrawn_by, "tasks": list(pr.tasks)}))
    unknown = [t for t in pr.tasks if t not in rules.tasks]
    if unknown:
        items.append(CheckItem(CheckCode.UNKNOWN_TASK, CheckStatus.FAIL, {"tasks": unknown}))
    seen: set[int] = set()
    for tid in pr.tasks:
        if tid in seen or tid not in rules.tasks:
            continue
        seen.add(tid)
        task = rules.tasks[tid]
        checks: list[tuple[CheckItem, str | None]] = [_check_claim(rules, task, pr, state, over_limit or {})]
        if pr.kind == PrKind.CODE and not task.checkable:
            # rules that name only a repository (or nothing): the repository is all the bot can check
            if task.targets:
                checks.append(_check_targets(rules, task, pr, files))
            checks.append((_unchecked(task, pr, files), None))
        elif pr.kind == PrKind.CODE:
            checks.append(_check_targets(rules, task, pr, files))
            checks.append(_check_tests(rules, task, files))
            checks.append(_check_rfc(rules, task, pr, state, (rfc or {}).get(tid, ())))
        else:
            rfc_file = _check_rfc_file(task, rules, pr, files)
            checks.append((_unchecked(task, pr, files) if rfc_file.status == CheckStatus.SKIP else rfc_file, None))
        for item, label in checks:
            items.append(item)
            if label:
                labels.add(label)
    for hint in title_hints:
        items.append(CheckItem(CheckCode.TITLE, CheckStatus.WARN, {"hint": hint}))
    if title_names:
        items.append(
            CheckItem(
                CheckCode.TOO_MANY_TASKS,
                CheckStatus.WARN,
                {"count": title_names, "limit": rules.campaign.claim_policy.max_claims_per_user},
            )
        )
    review = Review(pr, tuple(items), ())
    if review.ready:
        labels.add(rules.campaign.labels.ready)
    return Review(pr, tuple(items), tuple(sorted(labels)))


def render_checklist(review: Review, rules: CampaignRules, lang: Lang) -> str:
    """The checklist comment body: CHECKLIST_MARKER first, then the items grouped by task. Deterministic."""
    general = [i for i in review.items if "task" not in i.params]
    by_task: dict[int, list[CheckItem]] = {}
    for i in review.items:
        if "task" in i.params:
            by_task.setdefault(i.params["task"], []).append(i)
    tasks = [
        {"id": tid, "title": rules.tasks[tid].title, "url": task_url(rules, rules.tasks[tid]), "items": its}
        for tid, its in by_task.items()
    ]
    hints = {id(i): texts.text_of(i.params.get("hint"), lang) for i in general if i.code == CheckCode.TITLE}
    body = texts.render(
        lang,
        "checklist.j2",
        marker=CHECKLIST_MARKER,
        campaign=rules.campaign,
        pr=review.pr,
        general=general,
        tasks=tasks,
        hint_text=lambda item: hints[id(item)],
        repos_of=lambda tid: _distinct(rules.tasks[tid].target_repos()) if tid in rules.tasks else [],
        ready=review.ready,
        over_limit=any(i.params.get("reason") == ClaimReason.USER_LIMIT for i in review.items),
        unchecked=any(i.code == CheckCode.UNCHECKED for i in review.items),
        invalid=any(i.code == CheckCode.INVALID for i in review.items),
        fails=sum(i.status == CheckStatus.FAIL for i in review.items),
        warns=sum(i.status == CheckStatus.WARN for i in review.items),
        labels=review.labels,
    )
    return texts.fit(body.rstrip("\n") + "\n", lang)


_UNCREDITED = (ClaimReason.HELD, ClaimReason.USER_LIMIT)


def _counted(review: Review) -> tuple[list[CheckItem], bool, bool]:
    """(the items of the credited part: the general ones and those of credited tasks, whether some
    task is not credited, whether no task is)."""
    uncredited = {i.params["task"] for i in review.items if i.code == CheckCode.CLAIM and i.params.get("reason") in _UNCREDITED}
    named = {i.params["task"] for i in review.items if "task" in i.params}
    counted = [i for i in review.items if i.params.get("task") not in uncredited]
    return counted, bool(uncredited), bool(named) and named <= uncredited


def check_conclusion(review: Review) -> Conclusion:
    """The check run's conclusion for a review (see the module docstring): it reflects the credited part."""
    if not review.pr.credits:  # a revert, or a PR a maintainer marked invalid
        return Conclusion.NEUTRAL
    counted, _, none_credited = _counted(review)
    if none_credited and any(i.params.get("reason") == ClaimReason.HELD for i in review.items):
        return Conclusion.NEUTRAL
    if any(i.status == CheckStatus.FAIL for i in counted):
        return Conclusion.FAILURE
    return Conclusion.SUCCESS if review.ready else Conclusion.ACTION_REQUIRED


def render_check(review: Review, checklist: str, lang: Lang) -> tuple[Conclusion, str, str]:
    """(conclusion, title, summary) of the PR's check run; the summary is the checklist without its marker."""
    conclusion = check_conclusion(review)
    counted, some_uncredited, _ = _counted(review)
    title = texts.render(
        lang,
        "check.j2",
        conclusion=conclusion.value,
        fails=sum(i.status == CheckStatus.FAIL for i in counted),
        invalid=review.pr.withdrawn_by is not None,
        unchecked=any(i.code == CheckCode.UNCHECKED for i in counted),
        uncredited=some_uncredited,
    ).strip()
    summary = checklist.removeprefix(CHECKLIST_MARKER).strip("\n") + "\n"
    if len(summary) > MAX_SUMMARY:
        summary = summary[:MAX_SUMMARY] + "\n…\n"
    return conclusion, title, summary


def task_url(rules: CampaignRules, task: Task) -> str | None:
    """collection_url + '#' + the task's anchor, when both exist."""
    base = rules.campaign.collection_url
    if base and task.source and task.source.anchor:
        return f"{base.split('#', 1)[0]}#{task.source.anchor}"
    return None
