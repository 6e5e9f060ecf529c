"""/cni history: recent commands, who ran them, and how they went."""

from __future__ import annotations

import argparse
import re

from bot.domain.wording import ago
from bot.errors import UsageError
from bot.render.doc import Doc
from bot.render.doc import Table as DocTable
from commands import args as arg
from commands.base import CommandContext, CommandParser, CommandResult, Subcommand

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^@?([UW][A-Z0-9]{2,})$")


def parse_user(value: str) -> str:
    """A Slack user mention (<@U123|name>) or a raw user id."""
    m = _MENTION.match(value.strip())
    if not m:
        raise UsageError(f"`{value[:40]}` is not a user: mention them (@name) or give a user id (U...).")
    return m.group(1) or m.group(2)


def _build(p: CommandParser) -> None:
    p.add_argument("--user", metavar="@someone")
    p.add_argument("--limit", type=arg.int_between(1, 100, "--limit"), default=20)


def run(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    from bot.access import readable_clusters

    user = parse_user(args.user) if args.user else None
    readable = readable_clusters(ctx)
    # Rows about clusters the caller may not read are left out (their text names pods, nodes, subnets).
    fetch = args.limit if readable is None else min(args.limit * 5, 500)
    entries = ctx.services.history.recent_commands(user_id=user, limit=fetch)
    if readable is not None:
        entries = [e for e in entries if e.cluster is None or e.cluster in readable][: args.limit]
    now = ctx.now
    who = f" by <@{user}>" if user else ""
    if not entries:
        doc = Doc(f"No commands recorded{who} yet.")
    else:
        rows = [
            (ago(e.created_at, now), e.user_name or e.user_id, _short(e.text), e.outcome, e.duration_ms)
            for e in entries
        ]
        noun = "command" if len(entries) == 1 else "commands"
        doc = Doc(f"Last {len(entries)} {noun}{who}:").add(
            DocTable(("when", "who", "command", "outcome", "ms"), rows, align="llllr", limit=args.limit)
        )
    data = {
        "commands": [
            {
                "at": e.created_at.isoformat(),
                "user_id": e.user_id,
                "user_name": e.user_name,
                "channel_id": e.channel_id,
                "cluster": e.cluster,
                "subcommand": e.subcommand,
                "text": e.text,
                "outcome": e.outcome,
                "duration_ms": e.duration_ms,
                "correlation_id": e.correlation_id,
                "source": e.source,
            }
            for e in entries
        ]
    }
    return CommandResult("history", doc, data=data)


def _short(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


SUBCOMMAND = Subcommand(
    name="history",
    summary="recent /cni commands: who, what, when, outcome, duration",
    usage="/cni history [--user @someone] [--limit N]",
    build_parser=_build,
    run=run,
)
