"""The database schema: every table the bot keeps, one definition for SQLite and PostgreSQL.

Alembic migrations (`bot/migrations/`) create it; a test checks the migrated schema equals this one.
Status columns hold the values of the enums in `bot.store.records`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Column, DateTime, Index, Integer, MetaData, String, Table, Text, TypeDecorator

metadata = MetaData()


class UTCDateTime(TypeDecorator):
    """Timestamps are stored and returned as aware UTC datetimes on both backends."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, datetime):
            value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def bind_processor(self, dialect):
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value):  # what SQLite's DATETIME stores, in one step (a test compares them)
            if isinstance(value, datetime):
                if value.tzinfo:
                    value = value.astimezone(UTC).replace(tzinfo=None)
                return value.isoformat(" ", "microseconds")
            return value

        return process

    def process_result_value(self, value, dialect):
        if isinstance(value, datetime):
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("event", String(64), nullable=False),
    Column("action", String(64)),
    Column("payload", Text, nullable=False),
    Column("received_at", UTCDateTime(), nullable=False, index=True),
    Column("status", String(16), nullable=False),  # pending | processing | done | failed | ignored
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_owner", String(64)),
    Column("lease_until", UTCDateTime()),
    Column("error", Text),
    Column("finished_at", UTCDateTime()),
    # Deliveries about one subject (a pull request) are processed one after the other, in order.
    Column("subject", String(300), index=True),
    # The inbox's queue: the oldest waiting deliveries are found without sorting the backlog.
    Index("ix_deliveries_status_received_at", "status", "received_at"),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("slug", String(128), primary_key=True),
    Column("board_dirty", Boolean, nullable=False, default=False),
    Column("dirty_since", UTCDateTime()),
    Column("board_hash", String(64)),
    Column("board_edits", Integer, nullable=False, default=0),
    Column("board_lease_owner", String(64)),
    Column("board_lease_until", UTCDateTime()),
    Column("version", BigInteger, nullable=False, default=0),
    Column("installation_id", BigInteger),  # the installation that reaches the tracker, learnt from deliveries
    Column("board_error", Text),  # why the last board edit failed for good (shown by `bot status`)
    Column("board_failures", Integer, nullable=False, default=0),
    Column("closed_at", UTCDateTime()),  # /close-campaign: closed to new claims since then (NULL: open)
)

claims = Table(
    "claims",
    metadata,
    Column("campaign", String(128), primary_key=True),
    Column("task", Integer, primary_key=True),
    Column("user_key", String(128), primary_key=True),
    Column("user", String(128), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("team", String(256)),
    Column("link", Text),
    Column("claimed_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("renewed_at", UTCDateTime()),  # the holder's last /renew (the claim's period starts there)
    Column("reminded_at", UTCDateTime()),  # the last reminder that the claim will lapse
)

pulls = Table(
    "pulls",
    metadata,
    Column("repo", String(256), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("campaign", String(128), nullable=False, index=True),
    Column("author", String(128), nullable=False),
    Column("title", Text, nullable=False),
    Column("tasks", JSON, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("state", String(8), nullable=False),
    Column("url", Text, nullable=False),
    Column("part", Boolean, nullable=False, default=False),
    Column("revert", Boolean, nullable=False, default=False),
    Column("withdrawn_by", String(128)),  # the maintainer who marked the PR invalid: it credits nobody (NULL: it counts)
)

closed_tasks = Table(
    "closed_tasks",
    metadata,
    Column("campaign", String(128), primary_key=True),
    Column("task", Integer, primary_key=True),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(64), index=True),
    Column("installation_id", BigInteger),
    Column("payload", JSON, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("target", String(300), nullable=False, index=True),  # "owner/repo#number"
    Column("status", String(16), nullable=False, index=True),  # pending | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_owner", String(64)),
    Column("lease_until", UTCDateTime()),
    Column("error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
)

bot_comments = Table(
    "bot_comments",
    metadata,
    Column("repo", String(256), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("role", String(32), primary_key=True),  # "checklist"
    Column("comment_id", BigInteger, nullable=False),
    Column("body_hash", String(64), nullable=False),
)

# The effects ledger (bot.ledger): the content of each comment and the state of each pull request
# that took effect, so the same content under another delivery id (or read by `bot sync`) does nothing.
effects = Table(
    "effects",
    metadata,
    Column("subject", String(300), primary_key=True),  # "comment:owner/repo:123" | "pull:owner/repo:7"
    Column("campaign", String(128), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("version", UTCDateTime()),  # GitHub's updated_at of what was applied
    Column("body", Text),  # a comment's applied text (an edit counts only what is new against it)
    Column("delivery_id", String(64)),  # who applied it (None: bot sync)
    Column("applied_at", UTCDateTime(), nullable=False),
)

# Redelivery (bot.redelivery): every redelivery asked of GitHub, once per failed delivery whatever
# the number of replicas (the primary key is the election).
redeliveries = Table(
    "redeliveries",
    metadata,
    Column("hook_delivery_id", BigInteger, primary_key=True, autoincrement=False),  # GitHub's delivery id
    Column("guid", String(64), nullable=False, index=True),  # X-GitHub-Delivery
    Column("event", String(64)),
    Column("asked_at", UTCDateTime(), nullable=False),
    Column("asked_by", String(64), nullable=False),
)

# Periodic jobs shared by replicas (redelivery): who runs it now (a lease), and what its last run found.
jobs = Table(
    "jobs",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("lease_owner", String(64)),
    Column("lease_until", UTCDateTime()),
    Column("last_run_at", UTCDateTime()),
    Column("info", JSON),  # the last run's figures and error, for `bot status`
)

# bot sync's high-water marks: per campaign and source (a tracker's comments, a repository's pull
# requests), the newest updated_at already read, so a re-sync reads only what changed.
sync_marks = Table(
    "sync_marks",
    metadata,
    Column("campaign", String(128), primary_key=True),
    Column("source", String(300), primary_key=True),
    Column("mark", UTCDateTime(), nullable=False),
)

history = Table(
    "history",
    metadata,  # each change of a participant's stage on a task (the dashboard's time series)
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign", String(128), nullable=False, index=True),
    Column("task", Integer, nullable=False),
    Column("user", String(128), nullable=False),
    Column("stage", String(32)),  # NULL: the claim was dropped
    Column("at", UTCDateTime(), nullable=False),
)

write_budget = Table(
    "write_budget",
    metadata,  # one row per installation: its row lock serialises budget decisions
    Column("installation_id", BigInteger, primary_key=True, autoincrement=False),
    Column("paused_until", UTCDateTime()),  # GitHub refused a write (403/429): none before this
)

writes = Table(
    "writes",
    metadata,  # content-creating requests of the last hour, per installation (all replicas)
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("installation_id", BigInteger, nullable=False, index=True),
    Column("at", UTCDateTime(), nullable=False),  # when GitHub had received it (its answer came back)
)

# Campaign folders read from repositories (`.github/hackathon/<slug>/` on a default branch):
# what the last read of each repository found, for `bot status`, /healthz and the dashboard ...
rule_sources = Table(
    "rule_sources",
    metadata,
    Column("repo", String(200), primary_key=True),  # lower-cased owner/name
    Column("installation_id", BigInteger, nullable=False),
    Column("commit", String(64)),  # the default branch's head when it was read
    Column("problems", JSON),  # [{file, line, field, message, severity}] of that read
    Column("checked_at", UTCDateTime(), nullable=False),
)

# ... and the files of the last good version of each campaign, so that a restart after a bad
# push still serves it.
rule_snapshots = Table(
    "rule_snapshots",
    metadata,
    Column("slug", String(128), primary_key=True),
    Column("repo", String(200), nullable=False),
    Column("installation_id", BigInteger, nullable=False),
    Column("commit", String(64), nullable=False),
    Column("files", JSON, nullable=False),  # name -> text
    Column("saved_at", UTCDateTime(), nullable=False),
)
