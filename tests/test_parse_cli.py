"""`bot parse comment|title`: what a participant runs to see how the bot reads their text."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys

import pytest

from bot import cli


def run_parse(monkeypatch, capsys, what: str, text: str, lang: str = "en") -> dict:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    args = argparse.Namespace(what=what, bot_login="hackathon-bot", lang=lang)
    assert cli._cmd_parse(args) == 0
    return json.loads(capsys.readouterr().out)


def test_parse_comment_prints_the_issue_json(monkeypatch, capsys):
    text = "【队名】：A队\n【序号】：128\n【状态】：报名 & 提交rfc\n【链接】：https://x.org/1\n报名:3\n【报名】：0\n"
    out = run_parse(monkeypatch, capsys, "comment", text)
    assert out["commands"] == [
        {"action": "claim", "tasks": [128], "stage": None, "link": "https://x.org/1", "team": "A队", "user": None},
        {"action": "submit", "tasks": [128], "stage": "rfc", "link": "https://x.org/1", "team": "A队", "user": None},
    ]
    assert len(out["hints"]) == 1 and "【报名】：3" in out["hints"][0]
    assert len(out["errors"]) == 1 and "task 0" in out["errors"][0]


def test_parse_comment_hints_in_chinese(monkeypatch, capsys):
    out = run_parse(monkeypatch, capsys, "comment", "报名:3", lang="zh")
    assert out["commands"] == [] and "方括号" in out["hints"][0]


def test_parse_comment_mention_uses_the_bot_login(monkeypatch, capsys):
    out = run_parse(monkeypatch, capsys, "comment", "@hackathon-bot assign @a 3")
    assert out["commands"] == [{"action": "assign", "tasks": [3], "stage": None, "link": None, "team": None, "user": "a"}]


def test_parse_title_prints_the_issue_json(monkeypatch, capsys):
    out = run_parse(monkeypatch, capsys, "title", "【Hackthon 9th Sprint No.17, 24】 add op -part\n")
    assert out["key"] == "Hackathon 9th Sprint" and out["tasks"] == [17, 24]
    assert out["part"] is True and out["revert"] is False
    assert len(out["hints"]) == 1 and "【Hackathon 9th Sprint No.17, 24】" in out["hints"][0]


def test_bot_parse_end_to_end():
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "parse", "comment"],
        input="claim No.93\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["commands"][0]["tasks"] == [93]


@pytest.mark.parametrize(
    "data",
    [
        "【报名】：9\n【报名】：".encode() + b"1" * 4301,  # past Python's int-conversion limit
        b"\xff\xfe\x00 claim 9 \xc3",  # not UTF-8
        "\ufeff【报\u200b名】：9".encode(),  # a BOM and a zero-width space
    ],
)
def test_bot_parse_comment_never_prints_a_traceback(data):
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "parse", "comment"], input=data, capture_output=True, timeout=60, check=False
    )
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr
    assert json.loads(proc.stdout.decode("utf-8"))["commands"][0]["tasks"] == [9]


def test_an_unexpected_failure_is_one_line_not_a_traceback(monkeypatch, capsys):
    def broken(*a, **kw):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "parse_comment", broken)
    monkeypatch.setattr(sys, "stdin", io.StringIO("claim 3"))
    assert cli._cmd_parse(argparse.Namespace(what="comment", bot_login="hackathon-bot", lang="en")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "boom" in err and "Traceback" not in err
