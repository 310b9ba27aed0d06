"""Shared fixtures: a small campaign's rules, stores on SQLite and (when DATABASE_URL_PG is set) PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from bot.rules.models import Campaign, CampaignRules, ClaimPolicy, RfcDefaults, Rules, Source, Target, Task, TaskRfc

# Property tests bound work by what they assert (CPU time, linearity), not by hypothesis's per-example
# wall-clock deadline: on the shared machine (load 10+ on 2 cores) a 20 ms example can take 300 ms.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")


def worker_database(url: str | None) -> str | None:
    """`DATABASE_URL_PG` for this test process: under pytest-xdist each worker (gw0, gw1, ...) has a
    database of its own beside the one named (`bot` -> `bot_gw0`), as tests reset the schema they use."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return u.set(database=f"{u.database}_{worker}").render_as_string(hide_password=False)


PG_URL = worker_database(os.environ.get("DATABASE_URL_PG"))


@pytest.fixture(scope="session", autouse=True)
def _worker_database() -> None:
    """Create this worker's PostgreSQL database when it does not exist yet (the user in
    `DATABASE_URL_PG` may create databases: `.ci/pg.sh` makes it a superuser)."""
    if not PG_URL or PG_URL == os.environ.get("DATABASE_URL_PG"):
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(PG_URL)
    admin = create_engine(
        make_url(os.environ["DATABASE_URL_PG"]).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def make_campaign(*, bare: bool = False, **overrides) -> Campaign:
    """The suite's campaign: tracker org/Paddle#100, two repositories, an RFC repository, a
    maintainer, claim limits and a 14-day expiry, in English. `bare`: only a name, a key, the
    tracker PaddlePaddle/Paddle#1 and a collection URL, the rest `Campaign`'s own defaults (the unit
    tests of the core set what they need). `overrides`: fields over either."""
    if bare:
        fields: dict = dict(
            name="Hackathon 9th",
            key="Hackathon 9th",
            tracker="PaddlePaddle/Paddle#1",
            collection_url="https://github.com/PaddlePaddle/Paddle/issues/9",
        )
    else:
        fields = dict(
            name="Hackathon 9th",
            key="Hackathon 9th",
            tracker="org/Paddle#100",
            repos=["org/Paddle", "org/docs"],
            rfc=RfcDefaults(repo="org/community", path="rfcs/"),
            maintainers=["boss"],
            language="en",
            claim_policy=ClaimPolicy(max_claims_per_user=3, max_claimants_per_task=2, claim_expiry_days=14),
            collection_url="https://github.com/org/community/blob/master/hackathon/9th.md",
        )
    fields.update(overrides)
    return Campaign(**fields)


def make_tasks() -> dict[int, Task]:
    return {
        1: Task(
            id=1,
            title="Fuse the attention kernel",
            difficulty="进阶",
            track="framework",
            targets=[Target(repo="org/Paddle", paths=["paddle/phi/kernels/fusion/**"])],
            tests=["test/legacy_test/test_fused_attention*.py"],
            rfc=TaskRfc(required=True),
            acceptance=["CI green", "speed-up measured"],
            source=Source(file="9th.md", line=10, anchor="task1"),
            issue="org/Paddle#201",
        ),
        2: Task(
            id=2,
            title="Docs for paddle.jit",
            difficulty="基础",
            track="docs",
            targets=[Target(repo="org/docs", paths=["docs/api/**"])],
            source=Source(file="9th.md", line=20, anchor="task2"),
        ),
        3: Task(
            id=3,
            title="Solo task",
            difficulty="基础",
            track="framework",
            max_claimants=1,
            targets=[Target(repo="org/Paddle", paths=["python/paddle/jit/**"])],
            tests=["test/dygraph_to_static/**"],
        ),
    }


def make_rules(
    slug: str = "h9",
    campaign: Campaign | None = None,
    tasks: dict[int, Task] | Iterable[Task] | None = None,
    **campaign_fields: Any,
) -> CampaignRules:
    """A campaign's rules: `campaign` as given, or `make_campaign(**campaign_fields)` (`bare=True`
    and any field); `tasks` by id or as a list (default `make_tasks()`)."""
    if campaign is not None and campaign_fields:
        raise TypeError("make_rules: give a campaign or its fields, not both")
    if tasks is not None and not isinstance(tasks, dict):
        tasks = {t.id: t for t in tasks}
    return CampaignRules(
        slug=slug, dir=Path("/nonexistent"), campaign=campaign or make_campaign(**campaign_fields), tasks=tasks or make_tasks()
    )


@pytest.fixture
def rules() -> CampaignRules:
    return make_rules()


@pytest.fixture
def all_rules(rules) -> Rules:
    return Rules(campaigns={rules.slug: rules})


STORE_BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])


async def fresh_store(backend: str, tmp_path: Path, **kwargs):
    from sqlalchemy import text

    from bot.store import Store

    if backend == "sqlite":
        return Store(f"sqlite+aiosqlite:///{tmp_path}/bot.db", **kwargs)
    store = Store(PG_URL, **kwargs)

    def reset(conn):
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))

    await store._write(reset)
    return store


@pytest.fixture(params=STORE_BACKENDS)
async def store(request, tmp_path, rules):
    s = await fresh_store(request.param, tmp_path, lease_seconds=30)
    await s.init([rules.slug])
    yield s
    await s.close()
