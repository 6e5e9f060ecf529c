"""/cni eniconfig set|delete: request an ENIConfig change (custom networking), for approval."""

from __future__ import annotations

import argparse

from bot.changes.parse import parse_eniconfig
from bot.errors import UsageError
from commands import args as arg
from commands.base import CommandContext, CommandParser, CommandResult, Subcommand
from commands.set import requester_of

USAGE = (
    '/cni eniconfig set ZONE subnet=subnet-... [sg=sg-...,sg-...] --reason "why" [--cluster NAME]  |  '
    '/cni eniconfig delete ZONE --reason "why"'
)


def _build(p: CommandParser) -> None:
    p.add_argument("action", choices=["set", "delete"])
    p.add_argument("name", type=arg.eniconfig_name, metavar="ZONE")
    p.add_argument("fields", nargs="*", metavar="subnet=... sg=...")
    p.add_argument("--subnet", help=argparse.SUPPRESS)
    p.add_argument("--security-groups", dest="security_groups", help=argparse.SUPPRESS)
    p.add_argument("--reason", metavar='"why"')


def run(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    from bot.changes.drafts import draft_eniconfig
    from bot.changes.requesting import request_change

    name = args.name.strip()
    if args.action == "delete":
        if args.fields or args.subnet or args.security_groups:
            raise UsageError("`eniconfig delete` takes only the ENIConfig's name.", USAGE)
        wanted = None
    else:
        wanted = parse_eniconfig(args.fields, args.subnet, args.security_groups)
    answer = request_change(
        ctx.services,
        requester_of(ctx),
        args.cluster,
        args.reason,
        lambda conn: draft_eniconfig(conn, name, wanted),
    )
    return CommandResult("eniconfig", answer.doc, data=answer.data, outcome=answer.outcome, cluster=answer.cluster)


def _ack(args: argparse.Namespace, ctx: CommandContext) -> str:
    return f"Checking ENIConfig `{args.name}` against the cluster and EC2..."


SUBCOMMAND = Subcommand(
    name="eniconfig",
    summary="request creating, changing or deleting an ENIConfig (custom networking)",
    usage=USAGE,
    build_parser=_build,
    run=run,
    writes=True,
    ack_text=_ack,
)
