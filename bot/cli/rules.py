"""The `bot rules` subcommands: import, check, schema (thin wrappers over importer/check/models)."""

from __future__ import annotations

import argparse
import json
import sys

from bot.rules.check import check
from bot.rules.importer import run_import
from bot.rules.loader import read_rules
from bot.rules.models import Campaign, Task


def _import(args: argparse.Namespace) -> int:
    report = run_import(
        args.collections, args.campaign, args.out, rfc_list=args.rfc_list, number_from=args.number_from, repos=args.repo
    )
    print(report.render())
    return 0


def _check(args: argparse.Namespace) -> int:
    problems = check(args.dir)
    errors = [p for p in problems if p.severity == "error"]
    for p in problems:
        print(f"{p}" + ("  (warning)" if p.severity != "error" else ""))
    if not errors:
        rules = read_rules(args.dir).rules
        n = sum(len(c.tasks) for c in rules.campaigns.values())
        print(f"ok: {len(rules.campaigns)} campaigns, {n} tasks, {len(problems)} warnings")
    return 1 if errors else 0


def schemas() -> dict:
    return {"campaign": Campaign.model_json_schema(), "task": Task.model_json_schema()}


def _schema(args: argparse.Namespace) -> int:
    out = schemas()
    if args.which:
        out = out[args.which]
    json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


def add_rules_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("rules", help="rule files: import from task collections, check, schema")
    sub = p.add_subparsers(dest="rules_command", required=True)

    imp = sub.add_parser("import", help="generate rules/<slug>/ from task collections (markdown); keeps hand edits")
    imp.add_argument("collections", nargs="+", metavar="COLLECTION.md")
    imp.add_argument("--campaign", required=True, metavar="SLUG", help="campaign directory name under --out")
    imp.add_argument(
        "--rfc-list",
        metavar="RFC.md",
        help="table '| 序号 | 难度 | 任务标题 | 是否需要提交 RFC |' that says which tasks need an RFC",
    )
    imp.add_argument(
        "--number-from",
        type=int,
        metavar="N",
        help="give blocks without a task number ids N, N+1, ... (otherwise they are reported and skipped)",
    )
    imp.add_argument(
        "--repo",
        action="append",
        default=[],
        metavar="OWNER/REPO",
        help="a repository of the campaign (repeatable; the first is where bare paths go)",
    )
    imp.add_argument("--out", required=True, metavar="DIR", help="the rules directory, e.g. rules/")
    imp.set_defaults(func=_import)

    chk = sub.add_parser("check", help="lint a rules tree; non-zero exit on errors")
    chk.add_argument("dir", nargs="?", default="rules", metavar="DIR")
    chk.set_defaults(func=_check)

    sch = sub.add_parser("schema", help="print the JSON Schema of campaign.yml and task files")
    sch.add_argument("which", nargs="?", choices=["campaign", "task"], help="only one of the two")
    sch.set_defaults(func=_schema)
    return p
