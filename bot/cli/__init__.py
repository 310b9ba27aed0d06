"""The `bot` command line: serve, replay, status, board, report, rules import|check|schema, parse comment|title.

Each subcommand is a thin wrapper: it reads its input, calls the module that owns the work,
and prints the result. Imports are lazy so `bot parse` starts fast.
"""

from __future__ import annotations

import argparse
import json
import sys


def _read_stdin() -> str:
    """Standard input as text: UTF-8 (a BOM is dropped), undecodable bytes read as U+FFFD."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # a text stream without bytes underneath (tests, embedding)
        return sys.stdin.read()
    return buffer.read().decode("utf-8-sig", errors="replace")


def _write_stdout(text: str) -> None:
    """Write UTF-8 whatever the terminal's locale says (JSON with Chinese text must not fail)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
    else:
        sys.stdout.flush()
        buffer.write(text.encode("utf-8"))
        buffer.flush()


def _cmd_parse(args: argparse.Namespace) -> int:
    """Print how the bot reads a comment or a title; never a traceback (one line on stderr)."""
    try:
        text = _read_stdin()
        if args.what == "comment":
            from bot.core.commands import parse_comment

            out = parse_comment(text, bot_login=args.bot_login).as_dict(args.lang)
        else:
            from bot.core.titles import parse_title

            out = parse_title(text.strip()).as_dict(args.lang)
        _write_stdout(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the tool answers in one line, whatever went wrong
        sys.stderr.write(f"bot parse {args.what}: error: could not read the input ({type(exc).__name__}: {exc})\n")
        return 2
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    """`bot report CAMPAIGN`: who completed what (from the store), as csv, json or md on stdout."""
    import asyncio

    from bot.app import StartupError, open_store, read_rules
    from bot.core.report import build_report, to_csv, to_json, to_markdown
    from bot.settings import Settings

    try:
        settings = Settings()
        rules = read_rules(settings)
        camp = rules.campaigns.get(args.campaign)
        if camp is None:
            raise StartupError(
                f"{settings.rules_dir}: no campaign {args.campaign!r}; known: {', '.join(sorted(rules.campaigns)) or 'none'}"
            )

        async def load():
            store = await open_store(settings, rules)
            try:
                return await store.state(args.campaign), await store.history(args.campaign)
            finally:
                await store.close()

        state, history = asyncio.run(load())
    except StartupError as exc:
        print(f"bot report: {exc}", file=sys.stderr)
        return 2
    report = build_report(camp, state, history)
    if args.format == "json":
        json.dump(to_json(report), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif args.format == "md":
        sys.stdout.write(to_markdown(report, args.lang))
    else:
        sys.stdout.write(to_csv(report))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot", description="hackathon-bot: runs contribution campaigns on GitHub.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sync", help="adopt or reconcile campaigns from GitHub: read their comments and PRs, quietly")
    p.add_argument("campaigns", nargs="*", metavar="CAMPAIGN", help="campaign slugs (default: every campaign)")
    p.set_defaults(func=lambda a: __import__("bot.runtime.sync", fromlist=["main"]).main(a))

    p = sub.add_parser("serve", help="run the GitHub App (webhook server and workers)")
    p.add_argument("--sync", action="store_true", help="run `bot sync` for every campaign at start-up (also SYNC_ON_START=1)")
    p.set_defaults(func=lambda a: __import__("bot.runtime.server", fromlist=["main"]).main(a))

    p = sub.add_parser("replay", help="run one delivery through the pipeline in dry-run and print the actions")
    p.add_argument("event_file", metavar="EVENT.json")
    p.add_argument("--event", required=True, help="the X-GitHub-Event name, e.g. issue_comment")
    p.set_defaults(func=lambda a: __import__("bot.cli.tools", fromlist=["main"]).main(a))

    p = sub.add_parser(
        "simulate", help="rehearse a scenario (comments, PRs, time passing) in dry-run and print what the bot does"
    )
    p.add_argument("scenario", metavar="SCENARIO.yml")
    p.add_argument("--rules", default=None, help="rules directory (default: the scenario's `rules:`, else RULES_DIR)")
    p.set_defaults(func=lambda a: __import__("bot.cli.simulate", fromlist=["main"]).main(a))

    p = sub.add_parser("board", help="print a campaign's board from the store")
    p.add_argument("campaign", help="campaign slug (the directory name under rules/)")
    p.add_argument("--lang", choices=["zh", "en"], default=None)
    p.set_defaults(func=lambda a: __import__("bot.cli.tools", fromlist=["board_main"]).board_main(a))

    p = sub.add_parser("report", help="results: per person the tasks completed (difficulty, reward, PRs), per task who")
    p.add_argument("campaign", help="campaign slug (the directory name under rules/)")
    p.add_argument(
        "--format",
        choices=["csv", "json", "md"],
        default="csv",
        help="csv (default; one row per person and task), json (bot/report.schema.json) or md",
    )
    p.add_argument("--lang", choices=["zh", "en"], default=None, help="language of the md report (default: the campaign's)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("status", help="show the inbox: pending, done and failed deliveries")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=lambda a: __import__("bot.cli.tools", fromlist=["status_main"]).status_main(a))

    from bot.cli.rules import add_rules_parser

    add_rules_parser(sub)

    p = sub.add_parser("parse", help="show how the bot reads a comment or a PR title (text on stdin, JSON out)")
    p.add_argument("what", choices=["comment", "title"])
    p.add_argument("--bot-login", default="hackathon-bot", help="the bot's login, for '@bot claim 3'")
    p.add_argument("--lang", choices=["zh", "en"], default="en", help="language of hints and errors")
    p.set_defaults(func=_cmd_parse)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
