"""/cni upgrade [--to VERSION] --reason "...": request a VPC CNI version change, one minor version at a time."""

from __future__ import annotations

import argparse
import re

from bot.errors import UsageError
from commands.base import CommandContext, CommandParser, CommandResult, Subcommand
from commands.set import requester_of

USAGE = '/cni upgrade [--to VERSION] --reason "why" [--cluster NAME]'
# v1.20.5, 1.20.5 or v1.20.5-eksbuild.1: nothing else reaches EKS or the request.
_VERSION = re.compile(r"^v?\d{1,3}\.\d{1,3}\.\d{1,3}(-eksbuild\.\d{1,4})?$", re.ASCII)


def _version(text: str) -> str:
    if not _VERSION.match(text):
        raise UsageError(f"`{text[:40]}` is not a VPC CNI version (e.g. v1.20.5 or v1.20.5-eksbuild.1).", USAGE)
    return text if text.startswith("v") else f"v{text}"


def _build(p: CommandParser) -> None:
    p.add_argument("--to", dest="to", metavar="VERSION", help="the version; default: the next minor EKS offers")
    p.add_argument("--reason", metavar='"why"')


def run(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    from bot.changes.requesting import request_change
    from bot.changes.upgrade import draft_upgrade

    wanted = _version(args.to) if args.to else None
    answer = request_change(
        ctx.services, requester_of(ctx), args.cluster, args.reason, lambda conn: draft_upgrade(conn, wanted)
    )
    return CommandResult("upgrade", answer.doc, data=answer.data, outcome=answer.outcome, cluster=answer.cluster)


SUBCOMMAND = Subcommand(
    name="upgrade",
    summary="request a VPC CNI upgrade to the next minor version (approved in Slack, applied and verified)",
    usage=USAGE,
    build_parser=_build,
    run=run,
    writes=True,
    ack_text=lambda args, ctx: "Checking the versions EKS offers and posting the upgrade for approval...",
)
