"""Logging set-up (`LOG_FORMAT=json|text`, `LOG_LEVEL`) and the fields of the lines operators grep.

`setup_logging` installs one handler on the root logger: JSON lines (one object per line:
`ts`, `level`, `logger`, `msg`, plus the record's fields) or text (`time LEVEL logger: msg
key=value ...`). The default is text on a terminal and JSON otherwise (under a process manager
or in a container, where logs are collected).

Fields are passed with `extra=fields(...)`: `delivery`, `event`, `campaign`, `outcome`,
`duration_ms`, `action`, `target`, `attempt`. The shell logs one line per delivery
(`delivery_line`) and one per performed action (`action_line`). Loggers are named by module
(`logging.getLogger(__name__)`).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from bot import jsonio

__all__ = ["FIELDS", "JsonFormatter", "TextFormatter", "action_line", "delivery_line", "fields", "setup_logging"]

FIELDS = ("delivery", "event", "campaign", "outcome", "duration_ms", "action", "target", "attempt")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def fields(**values: Any) -> dict[str, Any]:
    """`extra=` for a log call: the known fields that are set (None is left out)."""
    return {k: v for k, v in values.items() if v is not None}


def _detail(error: str | None) -> str:
    """': error' on one line (a multi-line exception text would break grep and line-based collectors)."""
    return ": " + " ".join(error.split()) if error else ""


def delivery_line(
    log: logging.Logger,
    delivery: str | None,
    event: str,
    campaign: str | None,
    outcome: str,
    seconds: float,
    error: str | None = None,
) -> None:
    """The one line per processed delivery: `delivery <id> <event> -> <outcome> (<n> ms)`."""
    level = logging.WARNING if outcome == "failed" else logging.INFO
    log.log(
        level,
        "delivery %s %s -> %s (%d ms)%s",
        delivery,
        event,
        outcome,
        round(seconds * 1000),
        _detail(error),
        extra=fields(delivery=delivery, event=event, campaign=campaign, outcome=outcome, duration_ms=round(seconds * 1000, 1)),
    )


def action_line(
    log: logging.Logger,
    action: str,
    target: str,
    outcome: str,
    seconds: float,
    *,
    delivery: str | None = None,
    campaign: str | None = None,
    attempt: int | None = None,
    error: str | None = None,
) -> None:
    """The one line per performed action: `action <kind> <target> -> <outcome> (<n> ms)`."""
    level = logging.WARNING if outcome in ("failed", "retry") else logging.INFO
    log.log(
        level,
        "action %s %s -> %s (%d ms)%s",
        action,
        target,
        outcome,
        round(seconds * 1000),
        _detail(error),
        extra=fields(
            delivery=delivery,
            campaign=campaign,
            action=action,
            target=target,
            outcome=outcome,
            duration_ms=round(seconds * 1000, 1),
            attempt=attempt,
        ),
    )


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for k, v in _extras(record).items():
            out[k] = v if isinstance(v, (str, int, float, bool)) or v is None else str(v)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return jsonio.dumps(out)


class TextFormatter(logging.Formatter):
    """`2026-03-01 12:00:00,123 INFO bot.pipeline: message key=value ...`"""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = _extras(record)
        if extra:
            head, sep, tail = text.partition("\n")  # fields go on the message line, before a traceback
            head += " " + " ".join(f"{k}={_quote(v)}" for k, v in extra.items())
            text = head + sep + tail
        return text


def _quote(v: Any) -> str:
    s = str(v)
    return json.dumps(s, ensure_ascii=False) if (not s or any(c.isspace() or c in '"=' for c in s)) else s


def setup_logging(level: str = "INFO", fmt: str | None = None, stream: IO[str] | None = None) -> logging.Handler:
    """Configure the root logger once: level, and JSON or text lines on `stream` (stderr)."""
    stream = stream or sys.stderr
    if fmt is None:
        fmt = "text" if getattr(stream, "isatty", lambda: False)() else "json"
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Neither format shows the caller's file and line, the thread or the process: a record need
    # not look them up (a third of the cost of the line logged per delivery and per action).
    logging._srcfile = None  # type: ignore[attr-defined]  # the logging docs' "Optimization" switch
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
    return handler
