"""/cni nodes replace (--nodes a,b | --nodegroup NG | --pending-from CHANGE_ID) --reason "...": an approved,
high-risk node rollout (cordon, drain through the Eviction API, terminate through the Auto Scaling group, wait)."""

from __future__ import annotations

import argparse

from bot.errors import UsageError
from commands.base import CommandContext, CommandParser, CommandResult, Subcommand
from commands.set import requester_of

USAGE = '/cni nodes replace (--nodes a,b | --nodegroup NG | --pending-from CHANGE_ID) --reason "why" [--cluster NAME]'


def _build(p: CommandParser) -> None:
    p.add_argument("action", choices=["replace"])
    p.add_argument("--nodes", default=None, metavar="a,b")
    p.add_argument("--nodegroup", default=None, metavar="NG")
    p.add_argument("--pending-from", dest="pending_from", type=int, default=None, metavar="CHANGE_ID")
    p.add_argument("--reason", metavar='"why"')


def run(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    from bot.changes.node_rollout import draft_nodes_replace
    from bot.changes.requesting import request_change
    from bot.changes.service import change_service
    from bot.domain.changes import OPEN_STATUSES, ChangeKind

    chosen = [x for x in (args.nodes, args.nodegroup, args.pending_from) if x is not None]
    if len(chosen) != 1:
        raise UsageError("Say which nodes: exactly one of --nodes, --nodegroup or --pending-from.", USAGE)
    names = [n.strip() for n in (args.nodes or "").split(",") if n.strip()]
    if args.nodes is not None and not names:
        raise UsageError("--nodes needs node names, comma-separated.", USAGE)
    cluster = ctx.services.clusters.resolve(args.cluster, ctx.channel_id)
    repo = change_service(ctx.services).repo
    pending = None
    if args.pending_from is not None:
        source = repo.get(args.pending_from)
        if source is None or source.cluster != cluster.name:
            raise UsageError(f"No change #{args.pending_from} on `{cluster.name}`.", USAGE)
        pending = list(source.detail.get("nodes_to_replace") or [])
    running = next(
        (r.id for r in repo.with_status(OPEN_STATUSES, cluster=cluster.name) if r.kind is ChangeKind.NODES_REPLACE),
        None,
    )
    answer = request_change(
        ctx.services,
        requester_of(ctx),
        cluster.name,
        args.reason,
        lambda conn: draft_nodes_replace(
            conn,
            names=names,
            nodegroup=args.nodegroup,
            pending=pending,
            pending_from=args.pending_from,
            running=running,
        ),
    )
    return CommandResult("nodes", answer.doc, data=answer.data, outcome=answer.outcome, cluster=answer.cluster)


SUBCOMMAND = Subcommand(
    name="nodes",
    summary="request a node rollout: cordon, drain (PDBs respected), replace through the Auto Scaling group",
    usage=USAGE,
    build_parser=_build,
    run=run,
    writes=True,
    ack_text=lambda args, ctx: "Checking the nodes and posting the rollout for approval...",
)
