"""The `cnibot` command: serve, ask, db, sim, demo."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import re
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bot import __version__
from bot.errors import ConfigError

log = logging.getLogger("cnibot")

EXIT_USAGE = 2
EXIT_REFUSED = 3  # a cluster's access rules refused the command (`cnibot ask --as-user`)

if TYPE_CHECKING:
    from bot.services import Services


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cnibot", description="Slack chat-ops for the AWS VPC CNI on Amazon EKS.")
    p.add_argument("--version", action="version", version=f"cnibot {__version__}")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the Slack app (HTTP on /slack/events, or Socket Mode)")
    serve.add_argument("--socket-mode", action="store_true", help="connect with SLACK_APP_TOKEN instead of HTTP")
    serve.add_argument("--port", type=int, help="HTTP port (default CNIBOT_PORT or 3000)")
    serve.add_argument("--host", help="bind address (default CNIBOT_HOST or 127.0.0.1)")

    ask = sub.add_parser(
        "ask", help='run a /cni command from the terminal, e.g. cnibot ask "why-pending shop/checkout-7"'
    )
    ask.add_argument("--json", action="store_true", help="print the structured result (also as last word)")
    ask.add_argument("--user", default=None, help="who is asking (for history; default: your login)")
    # Acting for a Slack user: the cluster's access rules decide as for that user's slash command.
    ask.add_argument("--as-user", type=_slack_id("UW", "user"), metavar="U...", help="decide access as this Slack user")
    ask.add_argument("--channel", type=_slack_id("CGD", "channel"), metavar="C...", help="...typing in this channel")
    ask.add_argument("--team", type=_slack_id("T", "team"), metavar="T...", help="...of this workspace")
    # Everything after the first word belongs to /cni (e.g. `cnibot ask history --user @ann`).
    ask.add_argument("text", nargs=argparse.REMAINDER, help="the text you would type after /cni")

    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "current", "downgrade"])
    db.add_argument("revision", nargs="?", help="target revision (default head / base)")

    audit = sub.add_parser("audit", help="the audit of change requests")
    audit.add_argument("action", choices=["export"])
    audit.add_argument("--since", required=True, help="7d, 24h, 2w or an ISO date/time (UTC)")
    audit.add_argument("--output", "-o", help="file to write (default: standard output)")

    mcp = sub.add_parser("mcp", help="serve the read commands as MCP tools for AI assistants (stdio by default)")
    mcp.add_argument("--http", action="store_true", help="streamable HTTP on 127.0.0.1 instead of stdio")
    mcp.add_argument("--port", type=int, default=8765, help="HTTP port with --http (default 8765)")
    mcp.add_argument("--user", default=None, help="who is asking (for history; default: your login)")

    sub.add_parser("sim", help="run the simulated EKS cluster (see cnibot sim --help)", add_help=False)
    sub.add_parser(
        "demo", help="the simulated cluster, the bot, and a /cni prompt (--web: in a browser)", add_help=False
    )
    sub.add_parser("console", help="a local page that plays Slack for a running bot", add_help=False)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # The simulator and the demo parse their own arguments.
    if argv and argv[0] == "sim":
        from bot.demo import sim_main

        return sim_main(argv[1:])
    if argv and argv[0] == "demo":
        from bot.demo import main as demo_main

        return demo_main(argv[1:])
    if argv and argv[0] == "console":
        from bot.demo_web import console_main

        return console_main(argv[1:])
    args = _parser().parse_args(argv)
    if not args.cmd:
        _parser().print_help()
        return EXIT_USAGE
    try:
        if args.cmd == "serve":
            return _serve(args)
        if args.cmd == "ask":
            return _ask(args)
        if args.cmd == "db":
            return _db(args)
        if args.cmd == "audit":
            return _audit(args)
        if args.cmd == "mcp":
            return _mcp(args)
    except ConfigError as exc:
        print("cnibot: invalid settings:", file=sys.stderr)
        for line in exc.problems:
            print(f"  {line}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        # `db` and `audit` need the database itself: one line, not a traceback
        from storage.db import database_problem

        print(
            f"cnibot {args.cmd}: the database (CNIBOT_DATABASE_URL) is unavailable: {database_problem(exc)}",
            file=sys.stderr,
        )
        return 1
    return EXIT_USAGE


def _is_database_error(exc: Exception) -> bool:
    """A SQLAlchemy error, without importing SQLAlchemy for the commands that never load it."""
    if "sqlalchemy" not in sys.modules:
        return False
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(exc, SQLAlchemyError)


def _settings(quiet: bool = False, typed: dict[str, str] | None = None, **overrides: Any) -> Any:
    import os

    from bot.config import load_settings
    from bot.logs import configure_logging

    settings = load_settings(typed=typed, **overrides)
    # The terminal answer is the output; logs only when asked for.
    level = "WARNING" if quiet and "CNIBOT_LOG_LEVEL" not in os.environ else settings.log_level
    configure_logging(level, settings.log_format)
    return settings


def _serve(args: argparse.Namespace) -> int:
    overrides = {k: v for k, v in (("port", args.port), ("host", args.host)) if v is not None}
    settings = _settings(typed={"port": "--port", "host": "--host"}, **overrides)
    missing = [
        n
        for n, v in (
            ("SLACK_BOT_TOKEN", settings.slack_bot_token),
            ("SLACK_SIGNING_SECRET", settings.slack_signing_secret),
        )
        if v is None
    ]
    if args.socket_mode and settings.slack_app_token is None:
        missing.append("SLACK_APP_TOKEN")
    if args.socket_mode and "SLACK_SIGNING_SECRET" in missing:
        missing.remove("SLACK_SIGNING_SECRET")  # Socket Mode does not sign requests
    if missing:
        print(
            f"cnibot serve: {' and '.join(missing)} not set, so there is no Slack to serve.\n"
            "  Create the Slack app from deploy/slack-app-manifest.yml and export its credentials, or try cnibot\n"
            "  without Slack: `cnibot demo` (simulated cluster + a /cni prompt) or `cnibot ask help`.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from bot.server import serve

    return serve(settings, socket_mode=args.socket_mode)


def _slack_id(prefixes: str, what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not re.fullmatch(f"[{prefixes}][A-Z0-9]{{2,20}}", value):
            raise argparse.ArgumentTypeError(f"not a Slack {what} id ({prefixes[0]}0123ABCD)")
        return value

    return check


def _ask(args: argparse.Namespace) -> int:
    words = list(args.text)
    if words and words[-1] == "--json":
        args.json, words = True, words[:-1]
    if (args.channel or args.team) and not args.as_user:
        print("cnibot ask: --channel and --team go with --as-user U...", file=sys.stderr)
        return EXIT_USAGE
    if not words:
        print('cnibot ask: say what to ask, e.g. cnibot ask "why-pending shop/checkout-7"', file=sys.stderr)
        return EXIT_USAGE
    from bot.render.doc import render_text
    from commands.base import CommandResult

    def show(result: CommandResult) -> None:
        if args.json:
            out = {
                "subcommand": result.subcommand,
                "outcome": result.outcome,
                "cluster": result.cluster,
                **result.data,
            }
            print(json.dumps(out, indent=2, default=str), flush=True)
        else:
            print(render_text(result.doc), end="", flush=True)

    # One word is the whole text, as typed after /cni (`cnibot ask "history --limit 5"`); several words were
    # split by the shell already and go to the parser as they are (backslashes and tabs included).
    from commands import build_registry
    from commands.registry import plan, plan_words

    registry = build_registry()
    text = words[0] if len(words) == 1 else shlex.join(words)
    planned = plan(registry, text) if len(words) == 1 else plan_words(registry, words)
    if planned.help is not None and not args.as_user:
        # Help comes from the command table alone and reads nothing, so the terminal answers it before the
        # database, the cluster clients or Bolt load; it is not recorded (help in Slack is). Usage errors are
        # recorded: what someone typed wrong is kept. With --as-user, the access decision comes first.
        show(planned.help)
        return exit_code(planned.help.outcome)

    from bot.app import build_runner, build_services
    from bot.runner import new_correlation_id
    from commands.base import CommandContext

    settings = _settings(quiet=True)
    services = build_services(settings)
    runner = build_runner(registry)
    user = args.user or _login()
    ctx = CommandContext(
        services=services,
        user_id=args.as_user or f"cli:{user}",
        user_name=user,
        team_id=args.team,
        channel_id=args.channel,
        correlation_id=new_correlation_id(),
        source="cli",
        now=services.clock(),
        **_acting_for(services, args),
    )

    result = runner.execute(text, ctx, planned, deliver=show)
    return exit_code(result.outcome)


def _acting_for(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    """`--as-user`: the access rules apply as to that user's slash command (without it: a local operator)."""
    if not args.as_user:
        return {}
    from bot.access import AccessGate
    from bot.domain.access import channel_kind
    from bot.usergroups import from_settings

    services.access = AccessGate(from_settings(services.settings))
    return {"slack_user": args.as_user, "channel_kind": channel_kind(args.channel)}


def _mcp(args: argparse.Namespace) -> int:
    from bot.app import build_runner, build_services
    from bot.mcp_server import McpTools, build_server

    # stdout carries the protocol: everything cnibot says goes to stderr (logging does already).
    services = build_services(_settings(quiet=True))
    server = build_server(McpTools(services, build_runner(), args.user))
    if args.http:
        server.run("streamable-http", host="127.0.0.1", port=args.port)
    else:
        server.run("stdio")
    return 0


def exit_code(outcome: str) -> int:
    """0 for an answer (partial ones too), 2 for input to fix, 1 when cnibot or a dependency failed."""
    return {"ok": 0, "partial": 0, "user_error": EXIT_USAGE, "refused": EXIT_REFUSED}.get(outcome, 1)


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "terminal"


def _db(args: argparse.Namespace) -> int:
    from bot.config import redact_url
    from storage import migrate
    from storage.db import make_engine

    settings = _settings()
    engine = make_engine(settings.database_url)
    where = redact_url(settings.database_url)
    if args.action == "upgrade":
        migrate.upgrade(engine, args.revision or "head")
        print(f"{where}: schema at {migrate.current_revision(engine)} (head {migrate.head_revision()})")
    elif args.action == "downgrade":
        migrate.downgrade(engine, args.revision or "base")
        print(f"{where}: schema at {migrate.current_revision(engine) or 'empty'}")
    else:
        current = migrate.current_revision(engine)
        head = migrate.head_revision()
        state = "current" if current == head else "behind"
        print(f"{where}: schema at {current or 'empty'}, head {head} ({state})")
        return 0 if current == head else 1
    return 0


def _audit(args: argparse.Namespace) -> int:
    """`cnibot audit export --since 7d`: every change transition since then, as JSON lines."""
    from datetime import UTC, datetime

    from bot.changes.audit import export_audit, parse_since
    from storage.changes import ChangeRepository
    from storage.db import make_engine, make_session_factory

    settings = _settings(quiet=True)
    try:
        since = parse_since(args.since, datetime.now(UTC))
    except ValueError as exc:
        print(f"cnibot audit: {exc}", file=sys.stderr)
        return EXIT_USAGE
    repo = ChangeRepository(make_session_factory(make_engine(settings.database_url)))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            count = export_audit(repo, since, out)
        print(f"{count} audit events since {since:%Y-%m-%d %H:%M} UTC written to {args.output}", file=sys.stderr)
    else:
        export_audit(repo, since, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
