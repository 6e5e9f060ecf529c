"""/cni custom-networking enable: the course's whole change as one request for approval."""

from __future__ import annotations

import argparse

from bot.changes.parse import parse_security_groups, parse_zone_subnets
from commands.base import CommandContext, CommandParser, CommandResult, Subcommand
from commands.set import requester_of


def _build(p: CommandParser) -> None:
    p.add_argument("action", choices=["enable"])
    p.add_argument("--subnet", action="append", default=[], metavar="ZONE=subnet-...")
    p.add_argument("--security-groups", dest="security_groups", default="", metavar="sg-...,sg-...")
    p.add_argument("--reason", metavar='"why"')


def run(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    from bot.changes.drafts import draft_custom_networking
    from bot.changes.requesting import request_change

    subnets = parse_zone_subnets(args.subnet)
    groups = parse_security_groups(args.security_groups)
    answer = request_change(
        ctx.services,
        requester_of(ctx),
        args.cluster,
        args.reason,
        lambda conn: draft_custom_networking(conn, subnets=subnets, security_groups=groups),
    )
    return CommandResult(
        "custom-networking", answer.doc, data=answer.data, outcome=answer.outcome, cluster=answer.cluster
    )


def _ack(args: argparse.Namespace, ctx: CommandContext) -> str:
    return "Looking for the secondary CIDR's subnets in every zone with nodes..."


SUBCOMMAND = Subcommand(
    name="custom-networking",
    summary="request custom networking: the aws-node settings plus one ENIConfig per zone, then track nodes",
    usage=(
        '/cni custom-networking enable --reason "why" [--subnet ZONE=subnet-...]... '
        "[--security-groups sg-...,sg-...] [--cluster NAME]"
    ),
    build_parser=_build,
    run=run,
    writes=True,
    ack_text=_ack,
)
