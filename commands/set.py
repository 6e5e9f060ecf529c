"""/cni set and /cni unset: request a change to the aws-node env, for approval."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.changes.parse import parse_assignments, parse_unsets
from bot.domain.changes import parse_duration
from bot.errors import UsageError
from commands.base import CommandContext, CommandParser, CommandResult, Subcommand

if TYPE_CHECKING:
    from bot.changes.service import Requester


def requester_of(ctx: CommandContext) -> Requester:
    from bot.access import caller_of
    from bot.changes.service import Requester

    return Requester(ctx.user_id, ctx.user_name, ctx.channel_id, caller_of(ctx))


def _duration(text: str | None) -> timedelta | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _build_set(p: CommandParser) -> None:
    p.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    p.add_argument("--reason", metavar='"why"')
    p.add_argument("--for", dest="duration", metavar="2h", help="revert by itself this long after it is applied")


def _build_unset(p: CommandParser) -> None:
    p.add_argument("keys", nargs="+", metavar="KEY")
    p.add_argument("--reason", metavar='"why"')
    p.add_argument("--for", dest="duration", metavar="2h")


def _run(name: str, updates: dict[str, str | None], args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    from bot.changes.drafts import draft_env
    from bot.changes.requesting import request_change

    duration = _duration(args.duration)
    answer = request_change(
        ctx.services,
        requester_of(ctx),
        args.cluster,
        args.reason,
        lambda conn: draft_env(conn, updates, duration=duration),
    )
    return CommandResult(name, answer.doc, data=answer.data, outcome=answer.outcome, cluster=answer.cluster)


def run_set(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    return _run("set", parse_assignments(args.assignments), args, ctx)


def run_unset(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    return _run("unset", parse_unsets(args.keys), args, ctx)


def _ack(args: argparse.Namespace, ctx: CommandContext) -> str:
    return "Checking the change against the cluster and posting it for approval..."


SET = Subcommand(
    name="set",
    summary="request aws-node env changes (approved in Slack, then applied and verified)",
    usage='/cni set KEY=VALUE [KEY=VALUE ...] --reason "why" [--for 2h] [--cluster NAME]',
    build_parser=_build_set,
    run=run_set,
    writes=True,
    ack_text=_ack,
)
UNSET = Subcommand(
    name="unset",
    summary="request removing aws-node env settings (back to the default)",
    usage='/cni unset KEY [KEY ...] --reason "why" [--for 2h] [--cluster NAME]',
    build_parser=_build_unset,
    run=run_unset,
    writes=True,
    ack_text=_ack,
)
SUBCOMMANDS = (SET, UNSET)
