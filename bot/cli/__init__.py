"""The `bot` command line: the one entry of every command.

    serve | action | sync | replay | simulate | board | status | report | rules import|check|schema | parse comment|title

`main` reads the arguments; `run` does what every command needs, once: the settings (a wrong
variable is one line), logging (for the long-running `serve` and `sync`), start-up errors and
exit codes. A `StartupError` is printed as `bot <command>: <what to fix>` (one that names its
own file and line, e.g. a scenario's, as it is) and exits 2, never with a traceback. Each command is a plain function `(args, settings) -> exit code` in the module that
owns its work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable

from bot.cli.rules import add_rules_parser
from bot.core.commands import parse_comment
from bot.core.titles import parse_title
from bot.logs import setup_logging
from bot.settings import Settings, StartupError, load_settings

SWITCH_INTERVAL = 0.001  # seconds (Python's default is 0.005)

Command = Callable[[argparse.Namespace, Settings], int]


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


# The commands. Those that run the bot import it when they run: `bot parse` and `bot rules`
# must not pay the half second that aiohttp, SQLAlchemy and the pipeline take to import.


def _cmd_parse(args: argparse.Namespace) -> int:
    """Print how the bot reads a comment or a title; never a traceback (one line on stderr)."""
    try:
        text = _read_stdin()
        if args.what == "comment":
            out = parse_comment(text, bot_login=args.bot_login).as_dict(args.lang)
        else:
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


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import serve  # lazy: see above

    if args.sync:
        settings.sync_on_start = True
    # The event loop shares the GIL with the database thread (which decides while it holds the
    # campaign's lock): hand the GIL over every millisecond rather than every five, so
    # acknowledging a delivery never waits long behind a transaction.
    sys.setswitchinterval(SWITCH_INTERVAL)
    asyncio.run(serve(settings))
    return 0


def _cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import sync  # lazy: see above

    asyncio.run(sync(settings, list(args.campaigns)))
    return 0


def _cmd_action(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime.action import ActionEnv, run  # lazy: see above

    env = ActionEnv.from_environ(os.environ)
    report = asyncio.run(run(env, settings))
    print(report.line())
    return 0


def _cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.tools import replay  # lazy: see above

    return replay(args, settings)


def _cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.simulate import simulate  # lazy: see above

    return simulate(args, settings)


def _cmd_board(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.tools import board  # lazy: see above

    return board(args, settings)


def _cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.tools import status  # lazy: see above

    return status(args, settings)


def _cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.tools import report  # lazy: see above

    return report(args, settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot", description="hackathon-bot: runs contribution campaigns on GitHub.")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, func: Command, help: str, *, logs: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help)
        p.set_defaults(run=func, logs=logs)
        return p

    p = command("sync", _cmd_sync, "adopt or reconcile campaigns from GitHub: read their comments and PRs, quietly", logs=True)
    p.add_argument("campaigns", nargs="*", metavar="CAMPAIGN", help="campaign slugs (default: every campaign)")

    p = command("serve", _cmd_serve, "run the GitHub App (webhook server and workers)", logs=True)
    p.add_argument("--sync", action="store_true", help="run `bot sync` for every campaign at start-up (also SYNC_ON_START=1)")

    command(
        "action", _cmd_action, "one GitHub Actions run: reconcile, decide, act, save the state (see docs/action.md)", logs=True
    )

    p = command("replay", _cmd_replay, "run one delivery through the pipeline in dry-run and print the actions")
    p.add_argument("event_file", metavar="EVENT.json")
    p.add_argument("--event", required=True, help="the X-GitHub-Event name, e.g. issue_comment")

    p = command(
        "simulate", _cmd_simulate, "rehearse a scenario (comments, PRs, time passing) in dry-run and print what the bot does"
    )
    p.add_argument("scenario", metavar="SCENARIO.yml")
    p.add_argument("--rules", default=None, help="rules directory (default: the scenario's `rules:`, else RULES_DIR)")

    p = command("board", _cmd_board, "print a campaign's board from the store")
    p.add_argument("campaign", help="campaign slug (the directory name under rules/)")
    p.add_argument("--lang", choices=["zh", "en"], default=None)

    p = command("report", _cmd_report, "results: per person the tasks completed (difficulty, reward, PRs), per task who")
    p.add_argument("campaign", help="campaign slug (the directory name under rules/)")
    p.add_argument(
        "--format",
        choices=["csv", "json", "md"],
        default="csv",
        help="csv (default; one row per person and task), json (bot/core/report.schema.json) or md",
    )
    p.add_argument("--lang", choices=["zh", "en"], default=None, help="language of the md report (default: the campaign's)")

    p = command("status", _cmd_status, "show the inbox: pending, done and failed deliveries")
    p.add_argument("--json", action="store_true")

    add_rules_parser(sub)

    p = sub.add_parser("parse", help="show how the bot reads a comment or a PR title (text on stdin, JSON out)")
    p.add_argument("what", choices=["comment", "title"])
    p.add_argument("--bot-login", default="hackathon-bot", help="the bot's login, for '@bot claim 3'")
    p.add_argument("--lang", choices=["zh", "en"], default="en", help="language of hints and errors")
    p.set_defaults(func=_cmd_parse)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run one parsed command: settings, logging, start-up errors and exit codes, for all of them."""
    if getattr(args, "run", None) is None:  # parse and rules: no settings
        return int(args.func(args) or 0)
    name = args.command
    try:
        settings = load_settings()
        if args.logs:
            try:
                setup_logging(settings.log_level, settings.log_format)
            except (ValueError, TypeError) as exc:
                raise StartupError(f"LOG_LEVEL={settings.log_level!r}: {exc} (use DEBUG, INFO, WARNING or ERROR)") from None
        return int(args.run(args, settings) or 0)
    except StartupError as exc:
        print(str(exc) if exc.located else f"bot {name}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130 if name != "serve" else 0
    except BrokenPipeError:
        return 0


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
