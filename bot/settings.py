"""Settings from the environment (and a `.env` file), with Probot's names.

Without APP_ID and a private key the bot runs in dry-run: it decides everything and logs
the actions it would take, but sends nothing to GitHub.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _check_key(pem: str, source: str) -> None:
    """The App's private key must be a PEM private key (GitHub gives an RSA one): said at start,
    not at the first GitHub call."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key  # lazy: only with a key set

    try:
        load_pem_private_key(pem.encode(), password=None, unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{source}: not a PEM private key ({str(exc).split('.')[0][:80]}); use the .pem file GitHub generated for the App"
        ) from None


class StartupError(Exception):
    """The bot cannot start as configured; the message is one line saying what to fix (or, with
    `located`, one line per problem, each naming its file and line: printed as they are)."""

    def __init__(self, message: str, *, located: bool = False) -> None:
        super().__init__(message)
        self.located = located


def explain(exc: ValidationError) -> str:
    """A settings ValidationError as one line: which variable, what is wrong with it."""
    parts = []
    for err in exc.errors():
        name = str(err["loc"][0]).upper() if err.get("loc") else ""
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        value = err.get("input")
        shown = f" (got {str(value)[:40]!r})" if name and isinstance(value, (str, int, float)) else ""
        parts.append(f"{name}: {msg}{shown}" if name else msg)
    return "; ".join(parts)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False)

    app_id: str | None = None
    private_key: str | None = None
    private_key_path: Path | None = None
    webhook_secret: str | None = None
    github_api_url: str = "https://api.github.com"
    database_url: str = "sqlite:///hackathon-bot.db"
    rules_dir: Path = Path("rules")
    host: str = "127.0.0.1"
    port: int = 3000
    log_level: str = "INFO"
    log_format: Literal["json", "text"] | None = Field(
        None, description="json or text; default: text on a terminal, json otherwise"
    )
    dashboard: bool = Field(True, description="serve the dashboard pages (DASHBOARD=off disables them)")
    public_url: str | None = Field(
        None,
        description="the dashboard's public address, e.g. https://bot.example.org: replies to /mine link to the "
        "person's page there (unset: no link)",
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, v: str | None) -> str | None:
        v = (v or "").strip().rstrip("/")
        if not v:
            return None
        if not v.startswith(("https://", "http://")) or " " in v:
            raise ValueError("must be an http(s) address such as https://bot.example.org")
        return v

    # Tuning (not Probot names; documented in the README).
    workers: int = Field(96, ge=1, description="deliveries processed concurrently per process")
    board_delay: float = Field(2.0, ge=0, description="seconds a board edit waits so a burst gives one edit")
    lease_seconds: float = Field(
        10.0,
        gt=0,
        description="a delivery, action or board edit a dead process held is retaken after this (renewed every quarter of it)",
    )
    max_writes_per_minute: int = Field(80, ge=1, description="content-creating GitHub requests per installation per minute")
    max_writes_per_hour: int = Field(500, ge=1, description="content-creating GitHub requests per installation per hour")
    reply_gap: float = Field(
        3.0,
        ge=0,
        description="seconds between the bot's replies to one issue; replies queued meanwhile are merged (sooner once a burst is over, while less than half the write budget is used)",
    )
    person_window: float = Field(
        30.0,
        ge=0,
        description="seconds between the replies and board edits one person's actions cause; what they do meanwhile is folded into the next (0: off)",
    )
    max_body_bytes: int = Field(25 * 1024 * 1024, ge=1024, description="webhook bodies above this get 413 (GitHub caps at 25 MB)")
    sync_on_start: bool = Field(False, description="run `bot sync` for every campaign at start-up (bot serve --sync)")
    redeliver_every: float = Field(
        300.0, ge=0, description="seconds between asking GitHub to redeliver failed deliveries; 0: off"
    )
    max_attempts: int = Field(5, ge=1, description="tries of a delivery or action before it is recorded as failed")
    max_connections: int = Field(
        512, ge=16, description="client connections open at once (fewer when the descriptor limit is low); more evict idle ones"
    )
    header_timeout: float = Field(
        5.0, gt=0, description="seconds a connection has to send its request headers before it is closed"
    )
    status_token: str | None = Field(
        None,
        min_length=16,
        description="bearer token of the operator pages (/status, /metrics, /healthz's details); unset: those pages are off",
    )

    @model_validator(mode="after")
    def _read_key_file(self) -> Settings:
        if not self.private_key and self.private_key_path:
            try:
                self.private_key = Path(self.private_key_path).read_text()
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise ValueError(f"PRIVATE_KEY_PATH={self.private_key_path}: cannot read the key file: {reason}") from None
        if self.private_key and "\\n" in self.private_key and "\n" not in self.private_key:
            # Keys pasted into one-line env vars keep their newlines escaped.
            self.private_key = self.private_key.replace("\\n", "\n")
        if self.private_key:
            _check_key(
                self.private_key, "PRIVATE_KEY_PATH=" + str(self.private_key_path) if self.private_key_path else "PRIVATE_KEY"
            )
        return self

    @property
    def dry_run(self) -> bool:
        return not (self.app_id and self.private_key)


def load_settings() -> Settings:
    """The settings, or a StartupError naming each variable that is wrong."""
    try:
        return Settings()
    except ValidationError as exc:
        raise StartupError(f"settings: {explain(exc)}") from None
