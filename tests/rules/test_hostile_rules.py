"""Hostile rule files are refused in one line each, quickly, with bounded memory: a YAML alias
bomb, deep nesting, a file over 1 MiB, a symlink to a device, a symlink out of the rules folder.
Both `bot rules check` and `bot serve` say so (non-zero exit, never a traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.rules.loader import MAX_FILE_BYTES, NO_ALIASES, RulesError, load_rules, read_rules

CAMPAIGN = "name: C\nkey: Hackathon 9th\ntracker: org/p#1\nrepos: [org/p]\n"


def bomb() -> str:
    text = 'id: 1\ntitle: boom\nsummary: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for name in "bcdefghi":
        text += f"x{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    return text


def campaign(root: Path, files: dict[str, str]) -> Path:
    c = root / "c"
    c.mkdir(parents=True)
    (c / "campaign.yml").write_text(CAMPAIGN)
    for name, text in files.items():
        (c / name).write_text(text)
    return c


def only_problem(root: Path) -> str:
    loaded = read_rules(root)
    problems = [p for p in loaded.problems if p.severity == "error"]
    assert len(problems) == 1, [str(p) for p in problems]
    return str(problems[0])


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    campaign(tmp_path, {"001.yml": bomb()})
    started = time.monotonic()
    line = only_problem(tmp_path)
    assert time.monotonic() - started < 2
    assert "001.yml" in line and NO_ALIASES in line


def test_a_single_alias_is_refused_too(tmp_path):
    campaign(tmp_path, {"001.yml": "id: 1\ntitle: &t x\nsummary: *t\n"})
    assert NO_ALIASES in only_problem(tmp_path)


def test_deep_nesting_is_refused(tmp_path):
    campaign(tmp_path, {"001.yml": "id: 1\ntitle: t\nsummary: " + "[" * 200 + "]" * 200 + "\n"})
    line = only_problem(tmp_path)
    assert "001.yml" in line and ("nested deeper" in line or "YAML" in line)


def test_a_file_over_the_size_cap_is_not_read(tmp_path):
    campaign(tmp_path, {"001.yml": "id: 1\ntitle: t\nsummary: " + "x" * (MAX_FILE_BYTES + 10) + "\n"})
    line = only_problem(tmp_path)
    assert "001.yml" in line and "larger than" in line


def test_a_symlink_to_a_device_is_not_read(tmp_path):
    c = campaign(tmp_path, {})
    os.symlink("/dev/zero", c / "001.yml")
    started = time.monotonic()
    line = only_problem(tmp_path)
    assert time.monotonic() - started < 2
    assert "001.yml" in line and ("symlink" in line or "regular file" in line)


def test_a_symlink_out_of_the_rules_folder_is_not_followed(tmp_path):
    secret = tmp_path / "secret.yml"
    secret.write_text("id: 1\ntitle: read from outside\n")
    root = tmp_path / "rules"
    c = campaign(root, {})
    os.symlink(secret, c / "001.yml")
    line = only_problem(root)
    assert "001.yml" in line and "symlink out of the rules folder" in line
    with pytest.raises(RulesError):
        load_rules(root)


def test_a_symlink_inside_the_rules_folder_is_read(tmp_path):
    c = campaign(tmp_path, {"shared.yaml.txt": "id: 1\ntitle: shared\n"})
    os.symlink(c / "shared.yaml.txt", c / "001.yml")
    assert load_rules(tmp_path).campaigns["c"].tasks[1].title == "shared"


def test_rules_check_exits_non_zero_with_one_line_per_problem(tmp_path):
    c = campaign(tmp_path, {"001.yml": bomb()})
    os.symlink("/dev/zero", c / "002.yml")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "rules", "check", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    lines = [line for line in done.stdout.splitlines() if "(warning)" not in line]
    assert len(lines) == 2 and any("001.yml" in x for x in lines) and any("002.yml" in x for x in lines), done.stdout


def test_serve_exits_2_in_one_line_on_a_bomb(tmp_path):
    campaign(tmp_path / "rules", {"001.yml": bomb()})
    env = {**os.environ, "RULES_DIR": str(tmp_path / "rules"), "DATABASE_URL": f"sqlite:///{tmp_path}/b.db", "PORT": "0"}
    env.pop("APP_ID", None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve"], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path
    )
    assert time.monotonic() - started < 10
    assert done.returncode == 2 and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("bot serve: ") and "001.yml" in line and "alias" in line
