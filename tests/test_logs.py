"""Operator logs: JSON or text lines, one per delivery and per action, with the fields to grep."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logs import action_line, delivery_line, setup_logging


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


def test_json_lines_carry_the_delivery_fields(restore_logging):
    out = io.StringIO()
    setup_logging("INFO", "json", out)
    log = logging.getLogger("bot.pipeline")
    delivery_line(log, "d-1", "issue_comment", "h9", "done", 0.0123)
    action_line(
        log, "Reply", "org/Paddle#100", "failed", 0.5, delivery="d-1", campaign="h9", attempt=5, error="PermanentError: 422"
    )
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["level"] == "info" and first["logger"] == "bot.pipeline"
    assert {k: first[k] for k in ("delivery", "event", "campaign", "outcome", "duration_ms")} == {
        "delivery": "d-1",
        "event": "issue_comment",
        "campaign": "h9",
        "outcome": "done",
        "duration_ms": 12.3,
    }
    assert second["level"] == "warning" and second["action"] == "Reply" and second["attempt"] == 5
    assert "PermanentError: 422" in second["msg"]


def test_text_lines_are_readable_with_key_values(restore_logging):
    out = io.StringIO()
    setup_logging("INFO", "text", out)
    delivery_line(logging.getLogger("bot.pipeline"), "d 2", "pull_request", None, "ignored", 0.002)
    line = out.getvalue().strip()
    assert "INFO bot.pipeline: delivery d 2 pull_request -> ignored (2 ms)" in line
    assert 'delivery="d 2"' in line and "outcome=ignored" in line and "campaign=" not in line


def test_default_is_json_when_not_a_terminal(restore_logging):
    out = io.StringIO()  # not a tty
    setup_logging("WARNING", None, out)
    logging.getLogger("bot.x").info("hidden")
    logging.getLogger("bot.x").warning("shown")
    [line] = out.getvalue().splitlines()
    assert json.loads(line)["msg"] == "shown"


def test_a_multi_line_error_stays_on_one_line(restore_logging):
    out = io.StringIO()
    setup_logging("INFO", "text", out)
    delivery_line(
        logging.getLogger("bot.pipeline"),
        "d-3",
        "issue_comment",
        None,
        "failed",
        0.01,
        "ValidationError: 2 errors\nissue.user\n  Field required",
    )
    assert out.getvalue().count("\n") == 1 and "ValidationError: 2 errors issue.user Field required" in out.getvalue()
